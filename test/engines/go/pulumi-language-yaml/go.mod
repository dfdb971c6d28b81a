module tokenplane.test/engines/pulumi-language-yaml

go 1.26
