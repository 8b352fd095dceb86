package browsertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/testing/synth"
	"github.com/packstudio/packstudio/internal/tree"
)

// TestAccessibilityAxeLargeCatalog: no serious or critical axe-core
// finding on the page kinds whose shape grows with a catalog (browse
// pages with bounded sidebars, the pack page with the most rules about
// it, the largest builder, search), on a generated catalog with more
// clouds than a sidebar lists and rules of every kind.
func TestAccessibilityAxeLargeCatalog(t *testing.T) {
	dir := t.TempDir()
	o := synth.Options{Packs: 60, VersionsPerPack: 4, Products: 2, ReleasesPerProduct: 2, Clouds: 13, RuleKinds: true}
	if err := synth.Generate(filepath.Join(dir, "catalog"), o); err != nil {
		t.Fatal(err)
	}
	cfg := "title = \"large\"\nbase_url = \"https://packs.example.com/\"\ncatalog = \"catalog\"\noutput = \"public\"\n[signing]\nkey = \"key/site.pem\"\n"
	if err := os.WriteFile(filepath.Join(dir, "site.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	site := buildSite(t, filepath.Join(dir, "site.toml"), filepath.Join(dir, "key"))
	builder, _ := largestBuilder(t, site.Dir)
	builderRel, _ := filepath.Rel(site.Dir, builder)
	cloud := site.Catalog.Clouds[len(site.Catalog.Clouds)-1].ID // past the sidebar's bound
	pages := []string{
		"index.html",
		tree.BrowseAllPath() + "index.html",
		tree.AllFolder().With("cloud", cloud).File("index.html"),
		largestPage(t, site.Dir, "packs"),
		"search/index.html?q=" + site.Catalog.Packs[0].Name[:3],
		filepath.ToSlash(builderRel),
		"bundle/selection/index.html",
	}
	root := ServeRoot(t, site.Dir)
	for _, page := range pages {
		p := Open(t, root, page)
		for _, v := range p.Axe() {
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Errorf("%s: %s", page, v)
			}
		}
	}
}

// largestPage returns the largest <section>/*/index.html, relative to dir.
func largestPage(t *testing.T, dir, section string) string {
	t.Helper()
	pages, _ := filepath.Glob(filepath.Join(dir, section, "*", "index.html"))
	var best string
	var size int64
	for _, p := range pages {
		if fi, err := os.Stat(p); err == nil && fi.Size() > size {
			best, size = p, fi.Size()
		}
	}
	if best == "" {
		t.Fatalf("no %s pages in %s", section, dir)
	}
	rel, _ := filepath.Rel(dir, best)
	return strings.ReplaceAll(rel, string(filepath.Separator), "/")
}
