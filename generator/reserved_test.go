package generator

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/tree"
)

// TestReservedNamesCoverTheTree walks a built tree: every name the site
// writes where a catalog id, a content page or the public key also goes
// (the root, bundle/, a release's builder folder, releases/<product>/) is
// either that id or in tree.Reserved. A page added there fails here until
// its name is reserved, so no catalog can take it.
func TestReservedNamesCoverTheTree(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	c := s.catalog()
	var products, clouds []string
	for _, p := range c.Products {
		products = append(products, p.ID)
	}
	for _, cl := range c.Clouds {
		clouds = append(clouds, cl.ID)
	}
	check := func(dir string, ids ...string) {
		t.Helper()
		entries, err := os.ReadDir(s.out(dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if _, ok := tree.Reserved[name]; ok || tree.Ignored(name) || slices.Contains(ids, name) {
				continue
			}
			t.Errorf("%s/%s is written by the site but not in tree.Reserved: a catalog id or page of that name would replace it", dir, name)
		}
	}
	check(".", "about", tree.DefaultPublicKeyName) // the test site's one page; its key under the default name
	check("bundle", products...)
	for _, p := range c.Products {
		var versions []string
		for _, r := range p.Releases {
			versions = append(versions, r.Version.Raw)
		}
		check("releases/"+p.ID, versions...)
		for _, r := range p.Releases {
			check("bundle/"+p.ID+"/"+r.Version.Raw, clouds...)
		}
	}
}

// TestReservedNamesCoverTheBuilderForm reads the names bundle.js takes
// from the builder's form and its URL fragment besides the layer ids: a
// layer with such an id would make the form property or fragment key
// ambiguous, so each must be reserved.
func TestReservedNamesCoverTheBuilderForm(t *testing.T) {
	t.Parallel()
	js, err := os.ReadFile(filepath.Join("..", "theme", "assets", "bundle.js"))
	if err != nil {
		t.Fatal(err)
	}
	// form.x, form.elements.x, params.get("x"), and the fragment's "x=" parts.
	uses := regexp.MustCompile(`\bform\.(?:elements\.)?([a-z]+)\b|params\.get\("([a-z]+)"\)|"([a-z]+)=" \+`)
	n := 0
	for _, m := range uses.FindAllStringSubmatch(string(js), -1) {
		name := m[1] + m[2] + m[3]
		n++
		if _, ok := tree.Reserved[name]; !ok {
			t.Errorf("bundle.js uses %q of the builder's form or fragment, which a layer id may take: add it to tree.Reserved", name)
		}
	}
	if n < 4 {
		t.Fatalf("found %d uses in bundle.js; has the script changed shape?", n)
	}
}

// TestReservedNamesRefused builds sites whose ids, page or key name
// collide with the site's own pages or the builder's form: each build is
// refused with the file and line that names it, every problem at once,
// and nothing written.
func TestReservedNamesRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(s *site)
		want []string // problems, relative to the site's folder
	}{
		{"content page search", func(s *site) {
			os.WriteFile(s.path("content/search.md"), []byte("# My search\n"), 0o644)
		}, []string{`content/search.md: page name "search" is a name the site uses itself: the search page (search/); rename the file`}},
		{"content page named as the public key", func(s *site) {
			s.edit("site.toml", `title = "Test packs"`, "title = \"Test packs\"\npublic_key_name = \"key-pem\"")
			os.WriteFile(s.path("content/key-pem.md"), []byte("# Key\n"), 0o644)
		}, []string{`content/key-pem.md: page name "key-pem" is a name the site uses itself: the site's public key (public_key_name in `}},
		{"public key named as the home page", func(s *site) {
			s.edit("site.toml", `title = "Test packs"`, "title = \"Test packs\"\npublic_key_name = \"index.html\"")
		}, []string{`site.toml:2: public_key_name "index.html" is a name the site uses itself: the home page; use another name, like "public_key.pem"`}},
		{"public key named as the manifest's signature", func(s *site) {
			s.edit("site.toml", "[signing]\n", "[signing]\npublic_key_name = \"manifest.json.sig.bin\"\n")
		}, []string{`site.toml:8: public_key_name "manifest.json.sig.bin" is a name the site uses itself: the manifest's signature (manifest.json.sig.bin)`}},
		{"cloud addons, with the catalog's other problems", func(s *site) {
			s.edit("catalog/catalog.toml", `id = "vsphere"`, `id = "addons"`)
			s.edit("catalog/packs/ubuntu.toml", `"vsphere"`, `"addons"`)
			os.WriteFile(s.path("content/search.md"), []byte("# My search\n"), 0o644)
		}, []string{
			`catalog/catalog.toml:26: cloud id "addons" is a name the site uses itself: the add-on only builder (bundle/<product>/<version>/addons/); choose another id`,
			`content/search.md: page name "search" is a name the site uses itself`,
		}},
		{"layer arch", func(s *site) {
			s.edit("catalog/catalog.toml", `id = "os"`, `id = "arch"`)
		}, []string{`catalog/catalog.toml:35: layer id "arch" is a name the site uses itself: the builder's architecture toggle (form control and URL fragment key); choose another id`}},
		{"product selection", func(s *site) {
			s.edit("catalog/catalog.toml", `id = "vertex"`, `id = "selection"`)
		}, []string{`catalog/catalog.toml:16: product id "selection" is a name the site uses itself: the review of picked pack versions (bundle/selection/)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t)
			tt.edit(s)
			_, err := s.build()
			var ps catalog.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want problems, got %v", err)
			}
			msg := strings.ReplaceAll(err.Error(), s.dir+string(filepath.Separator), "")
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("missing problem\n want: %s\n  got: %s", w, msg)
				}
			}
			if _, err := os.Stat(s.out("")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the output was written although the build was refused")
			}
		})
	}
}
