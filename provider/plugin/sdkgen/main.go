// sdkgen writes the SDKs of the tokenplane provider plugin from its schema
// (provider/schema.json) with Pulumi's own code generators, the ones
// `pulumi package gen-sdk` hands to each language host: the hosts built here are
// too old for that command, and pkg/v3 v3.215.0 is the last release that still
// holds the .NET generator; Java's is pulumi-java's (pkg v1.12.0). Run by
// `npm run plugin:sdks` (sdks.ts).
//
//	sdkgen <schema.json> <out-dir>   writes <out-dir>/{nodejs,python,go,dotnet,java}
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	java "github.com/pulumi/pulumi-java/pkg/codegen/java"
	dotnet "github.com/pulumi/pulumi/pkg/v3/codegen/dotnet"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// The generator named in the header of every generated file.
const tool = "tokenplane-sdkgen"

func main() {
	if len(os.Args) != 3 {
		fail(fmt.Errorf("usage: sdkgen <schema.json> <out-dir>"))
	}
	pkg, err := load(os.Args[1])
	if err != nil {
		fail(err)
	}
	// The .NET generator downloads the package's logo (a default one from the
	// internet when the schema names none): it gets one drawn here, on loopback.
	logo := serveLogo()
	defer logo.Close()
	pkg.LogoURL = logo.URL + "/logo.png"
	// In this order: Java's generator fills in the package's repository and
	// description when they are empty, which the others would then print.
	generators := []struct {
		language string
		generate func() (map[string][]byte, error)
	}{
		{"nodejs", func() (map[string][]byte, error) { return nodejs.GeneratePackage(tool, pkg, nil, nil, false, nil) }},
		{"python", func() (map[string][]byte, error) { return python.GeneratePackage(tool, pkg, nil, nil) }},
		{"go", func() (map[string][]byte, error) { return gogen.GeneratePackage(tool, pkg, nil) }},
		{"dotnet", func() (map[string][]byte, error) { return dotnet.GeneratePackage(tool, pkg, nil, nil) }},
		{"java", func() (map[string][]byte, error) { return java.GeneratePackage(tool, pkg, nil, nil, false, false) }},
	}
	for _, g := range generators {
		files, err := g.generate()
		if err != nil {
			fail(fmt.Errorf("%s: %w", g.language, err))
		}
		if err := write(filepath.Join(os.Args[2], g.language), files); err != nil {
			fail(err)
		}
	}
}

// load binds the schema (validating it) and decodes every language's section.
func load(path string) (*schema.Package, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(text, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pkg, diags, err := schema.BindSpec(spec, nil, schema.ValidationOptions{})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, diags
	}
	languages := map[string]schema.Language{
		"nodejs": nodejs.Importer, "python": python.Importer, "go": gogen.Importer, "csharp": dotnet.Importer, "java": java.Importer,
	}
	return pkg, pkg.ImportLanguages(languages)
}

// serveLogo serves a 64x64 PNG in tokenplane's colour.
func serveLogo() *httptest.Server {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for x := 0; x < 64; x++ {
		for y := 0; y < 64; y++ {
			img.Set(x, y, color.RGBA{R: 0x1f, G: 0x6f, B: 0xeb, A: 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		fail(err)
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(buf.Bytes())
	}))
}

func write(dir string, files map[string][]byte) error {
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sdkgen:", err)
	os.Exit(1)
}
