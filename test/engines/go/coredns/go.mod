module tokenplane.test/engines/coredns

go 1.26
