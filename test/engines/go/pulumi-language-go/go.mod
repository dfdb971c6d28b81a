module tokenplane.test/engines/pulumi-language-go

go 1.26
