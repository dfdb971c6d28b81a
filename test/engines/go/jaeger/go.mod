module tokenplane.test/engines/jaeger

go 1.26
