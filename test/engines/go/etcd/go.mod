module tokenplane.test/engines/etcd

go 1.26
