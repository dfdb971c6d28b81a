// The Pulumi Kubernetes provider plugin, built from its Go module. The
// module's own command embeds files that its `go generate` derives, which a
// module download does not carry; this main embeds the module's schema.json
// and terraform-mapping.json instead, copied out of the module cache by the
// build (test/engines/go-build.ts), and serves the module's provider.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema.json
var schema []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
