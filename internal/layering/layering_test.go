// Package layering holds the test that keeps the import graph one way, as
// docs/ARCHITECTURE.md draws it.
package layering

import (
	"os/exec"
	"strings"
	"sync"
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

var (
	graphOnce sync.Once
	graph     map[string][]string // package of ours → every package of ours it imports, directly or not
	graphErr  error
)

// deps returns every package of ours that pkg imports, directly or not,
// from one go list of the whole module.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	graphOnce.Do(func() {
		out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"...").Output()
		if err != nil {
			graphErr = err
			return
		}
		graph = map[string][]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			name, _ := strings.CutPrefix(f[0], module)
			var ours []string
			for _, d := range f[1:] {
				if rest, ok := strings.CutPrefix(d, module); ok {
					ours = append(ours, rest)
				}
			}
			graph[name] = ours
		}
	})
	if graphErr != nil {
		t.Fatalf("go list: %v", graphErr)
	}
	d, ok := graph[pkg]
	if !ok {
		t.Fatalf("no package %s in the module", pkg)
	}
	return d
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

// TestOnlyTestsUseTestingTools: internal/testing/... (real servers, built
// sites, Chromium, the bench) imports the top of the graph, so no package
// outside it may import it except from its tests; the drawing's arrows
// then all point down.
func TestOnlyTestsUseTestingTools(t *testing.T) {
	deps(t, "catalog") // loads the graph
	var pkgs []string
	for p := range graph {
		if !matches(p, "internal/testing/...") && !matches(p, "internal/layering") {
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) < 10 {
		t.Fatalf("found only %d packages of ours: %v", len(pkgs), pkgs)
	}
	for _, pkg := range pkgs {
		for _, d := range deps(t, pkg) {
			if matches(d, "internal/testing/...") {
				t.Errorf("%s imports %s; test tools are for tests only (docs/ARCHITECTURE.md)", pkg, d)
			}
		}
	}
}
