// Package layering holds the test that keeps the import graph one way, as
// docs/ARCHITECTURE.md draws it.
package layering

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/packstudio/packstudio/"

// forbidden lists, for a package, the packages of ours it must never
// reach, directly or through others; "x/..." is x and everything under it.
var forbidden = map[string][]string{
	"generator":           {"publish"},
	"generator/pack":      {"publish", "generator", "internal/tree"},
	"catalog":             {"generator", "publish", "internal/tree"},
	"catalog/registry":    {"catalog", "generator", "publish/...", "internal/..."},
	"publish/resolve":     {"publish", "publish/mirror", "publish/verify", "publish/serve", "generator", "catalog/..."},
	"internal/tree":       {"publish", "generator", "catalog"},
	"internal/sign":       {"publish", "generator", "internal/tree"},
	"publish":             {"publish/mirror", "publish/verify", "publish/serve", "generator", "catalog"},
	"publish/mirror":      {"publish", "publish/verify", "publish/serve", "generator", "catalog"},
	"publish/verify":      {"publish", "publish/serve", "generator", "catalog"},
	"publish/serve":       {"publish/mirror", "publish/verify", "generator", "catalog"},
	"publish/oci":         {"publish", "publish/verify", "publish/serve", "generator", "catalog"},
	"internal/workers":    {"internal/tree", "publish", "generator"},
	"internal/bytesize":   {"internal/tree", "publish", "generator"},
	"internal/atomicfile": {"internal/tree", "publish/...", "generator/..."},
}

// deps returns every package of ours that pkg imports, directly or not.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	var ours []string
	for _, p := range strings.Fields(string(out)) {
		if rest, ok := strings.CutPrefix(p, module); ok && rest != pkg {
			ours = append(ours, rest)
		}
	}
	return ours
}

func TestImportsRunOneWay(t *testing.T) {
	for pkg, never := range forbidden {
		for _, d := range deps(t, pkg) {
			for _, f := range never {
				if matches(d, f) {
					t.Errorf("%s imports %s (through its dependencies); the graph must run one way (docs/ARCHITECTURE.md)", pkg, d)
				}
			}
		}
	}
}

func matches(pkg, pattern string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}
