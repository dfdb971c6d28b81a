module tokenplane.test/engines/hydra

go 1.26
