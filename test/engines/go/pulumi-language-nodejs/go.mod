module tokenplane.test/engines/pulumi-language-nodejs

go 1.26
