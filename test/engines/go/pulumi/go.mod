module tokenplane.test/engines/pulumi

go 1.26
