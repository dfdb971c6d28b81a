module tokenplane.test/engines/prometheus

go 1.26
