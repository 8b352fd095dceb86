package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadProblems loads the catalog in dir with o and returns its problems,
// paths shown relative to dir; the test fails when it loads.
func loadProblems(t *testing.T, dir string, o LoadOptions) string {
	t.Helper()
	c, err := LoadWith(dir, o)
	if err == nil {
		t.Fatalf("LoadWith accepted the catalog: %d versions", len(c.Versions))
	}
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("error is %T, want Problems: %v", err, err)
	}
	for _, p := range ps {
		if p.Fix == "" {
			t.Errorf("problem without a fix hint: %s", p.Error())
		}
	}
	return strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
}

// TestLoadReservedIDs: an id the site uses itself for a page or a form
// key is refused at its line, whatever kind of id it is, with every other
// problem of the catalog, and only the reserved one: its packs are not
// also reported as naming an unknown layer or cloud.
func TestLoadReservedIDs(t *testing.T) {
	reserved := map[string]string{"addons": "the add-on only builder", "arch": "the architecture toggle", "selection": "the selection"}
	dir := writeCatalog(t, map[string]func(string) string{
		"catalog.toml": func(s string) string {
			s = replace(`id = "cni"`, `id = "arch"`)(s)
			return s + "\n[[cloud]]\nid = \"addons\"\n\n[[product]]\nid = \"selection\"\n"
		},
		"packs/cni-calico.toml": func(s string) string {
			s = replace(`layer = "cni"`, `layer = "arch"`)(s)
			return replace(`source = "payload/file.txt"`, `source = "gone"`)(s)
		},
	})
	msg := loadProblems(t, dir, LoadOptions{Reserved: reserved})
	for _, w := range []string{
		`catalog.toml:35: layer id "arch" is a name the site uses itself: the architecture toggle; choose another id`,
		`catalog.toml:40: cloud id "addons" is a name the site uses itself: the add-on only builder; choose another id`,
		`catalog.toml:43: product id "selection" is a name the site uses itself: the selection; choose another id`,
		`packs/cni-calico.toml:9: source "gone" does not exist`,
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("missing problem\n want: %s\n  got: %s", w, msg)
		}
	}
	if n := strings.Count(msg, "\n") + 1; n != 4 {
		t.Errorf("%d problems, want the 4 above:\n%s", n, msg)
	}
	// The same catalog without the list loads but for the missing source.
	if msg := loadProblems(t, dir, LoadOptions{}); strings.Contains(msg, "uses itself") {
		t.Errorf("reserved names refused with no list given:\n%s", msg)
	}
}

// TestLoadSourcesWithin: with SourcesWithin set, a source or readme
// outside it is refused at its line, also when it is reached through a
// link inside it; one inside (through a link that stays inside too) loads.
func TestLoadSourcesWithin(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "shadow")
	if err := os.WriteFile(secret, []byte("root:x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := writeCatalog(t, nil)
	if err := os.Symlink(secret, filepath.Join(dir, "payload", "leak")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file.txt", filepath.Join(dir, "payload", "alias")); err != nil {
		t.Fatal(err)
	}
	within := filepath.Join(dir, "payload")
	edit := func(f, old, new string) {
		p := filepath.Join(dir, f)
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), old) {
			t.Fatalf("%s: cannot replace %q (%v)", f, old, err)
		}
		os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
	}

	// Inside, directly and through a link that stays inside (the release
	// bundle is not a source under payload/: point it there first).
	edit("catalog.toml", `bundle = "releases/bundle"`, `bundle = "payload"`)
	edit("packs/ubuntu-aws.toml", `readme = "readme.md"`, `readme = "payload/alias"`)
	if _, err := LoadWith(dir, LoadOptions{SourcesWithin: within}); err != nil {
		t.Fatalf("sources inside sources_within refused: %v", err)
	}
	// A relative catalog path against an absolute sources_within, and the
	// other way round, compare where they are, not how they are written.
	wd, _ := os.Getwd()
	relDir, err := filepath.Rel(wd, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadWith(relDir, LoadOptions{SourcesWithin: within}); err != nil {
		t.Errorf("relative catalog, absolute sources_within: %v", err)
	}
	if _, err := LoadWith(dir, LoadOptions{SourcesWithin: filepath.Join(relDir, "payload")}); err != nil {
		t.Errorf("absolute catalog, relative sources_within: %v", err)
	}

	edit("packs/cni-calico.toml", `source = "payload/file.txt"`, `source = "`+secret+`"`)
	edit("packs/kubernetes.toml", `source = "payload"`, `source = "payload/leak"`)
	edit("packs/ubuntu-aws.toml", `readme = "payload/alias"`, `readme = "readme.md"`)
	msg := loadProblems(t, dir, LoadOptions{SourcesWithin: within})
	for _, w := range []string{
		`packs/cni-calico.toml:9: source "` + secret + `" is outside sources_within payload; move it into payload`,
		`packs/kubernetes.toml:8: source "payload/leak" leads to ` + secret + `, outside sources_within payload`,
		`packs/ubuntu-aws.toml:4: readme "readme.md" is outside sources_within payload`,
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("missing problem\n want: %s\n  got: %s", w, msg)
		}
	}
	// Without the option, anything that exists is taken, as before.
	if _, err := LoadWith(dir, LoadOptions{}); err != nil {
		t.Errorf("without sources_within: %v", err)
	}
}
