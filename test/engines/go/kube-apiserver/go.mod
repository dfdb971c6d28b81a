module tokenplane.test/engines/kube-apiserver

go 1.26
