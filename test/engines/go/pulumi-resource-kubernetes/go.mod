module tokenplane.test/engines/pulumi-resource-kubernetes

go 1.26
