module tokenplane.test/engines/helm

go 1.26
