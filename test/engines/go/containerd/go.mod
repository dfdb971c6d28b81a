module tokenplane.test/engines/containerd

go 1.26
