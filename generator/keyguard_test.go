package generator

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/keyguard"
)

// TestKeyNeverPublished puts the private key into the inputs every way an
// attacker or a slip could (links in content and theme, copies under other
// names, its PEM lines or its private scalar inside larger files): each
// build is refused naming the file, and no output file holds the key.
func TestKeyNeverPublished(t *testing.T) {
	t.Parallel()
	keyPEM := func(s *site) []byte { b, _ := os.ReadFile(s.key); return b }
	// embed hides data in 600 KiB of filler, across the packer's 256 KiB reads.
	embed := func(data []byte) []byte {
		filler := bytes.Repeat([]byte("filler line of a large source file\n"), 600<<10/35)
		at := 256<<10 - 40
		return append(append(append([]byte(nil), filler[:at]...), data...), filler[at:]...)
	}
	pemBody := func(s *site) []byte {
		lines := strings.Split(string(keyPEM(s)), "\n")
		return []byte(strings.Join(lines[1:len(lines)-2], "\n"))
	}
	tests := []struct {
		name  string
		setup func(s *site)
		want  string // in the error, after the site's directory
	}{
		{"link in content", func(s *site) {
			must(t, os.Symlink("../key/site.pem", s.path("content/notes.md")))
		}, "content/notes.md, which is the private signing key"},
		{"link in the theme overlay", func(s *site) {
			s.edit("site.toml", `output = "public"`, "output = \"public\"\ntheme = \"theme\"")
			must(t, os.MkdirAll(s.path("theme/assets"), 0o755))
			must(t, os.Symlink("../../key/site.pem", s.path("theme/assets/leak.css")))
		}, "theme/assets/leak.css, which is the private signing key"},
		{"link to the key's folder as a theme template", func(s *site) {
			s.edit("site.toml", `output = "public"`, "output = \"public\"\ntheme = \"theme\"")
			must(t, os.MkdirAll(s.path("theme/templates"), 0o755))
			must(t, os.Symlink("../../key/site.pem", s.path("theme/templates/extra.html")))
		}, "theme/templates/extra.html, which is the private signing key"},
		{"copy in a pack source folder", func(s *site) {
			must(t, os.WriteFile(s.path("catalog/payload/metallb/tls.txt"), keyPEM(s), 0o644))
		}, "catalog/payload/metallb/tls.txt holds the private signing key"},
		{"PEM body inside a large source file", func(s *site) {
			must(t, os.WriteFile(s.path("catalog/payload/ubuntu-20.04.img"), embed(pemBody(s)), 0o644))
		}, "catalog/payload/ubuntu-20.04.img holds the private signing key"},
		{"private scalar inside a release ISO", func(s *site) {
			must(t, os.WriteFile(s.path("catalog/releases/appliance.iso"), embed(s.signer.Secrets()[0]), 0o644))
		}, "catalog/releases/appliance.iso holds the private signing key"},
		{"PEM in a readme", func(s *site) {
			must(t, os.WriteFile(s.path("catalog/readme/ubuntu.md"), append([]byte("# Ubuntu\n\n```\n"), keyPEM(s)...), 0o644))
		}, "catalog/readme/ubuntu.md holds the private signing key"},
		{"PEM in a pack description", func(s *site) {
			s.edit("catalog/packs/metallb.toml", `display_name = "MetalLB"`, "display_name = \"MetalLB\"\ndescription = \"\"\"\n"+string(keyPEM(s))+"\"\"\"")
		}, "catalog/packs/metallb.toml holds the private signing key"},
		{"PEM in the site title", func(s *site) {
			s.edit("site.toml", `title = "Test packs"`, "title = \"\"\"\n"+string(keyPEM(s))+"\"\"\"")
		}, "site.toml holds the private signing key"},
		{"hard link as a pack file", func(s *site) {
			must(t, os.Remove(s.path("catalog/packs/metallb.toml")))
			must(t, os.Link(s.key, s.path("catalog/packs/metallb.toml")))
		}, "catalog/packs/metallb.toml is the private signing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t)
			tt.setup(s)
			_, err := s.build()
			var ke *keyguard.Error
			var ps catalog.Problems
			if err == nil || !strings.Contains(err.Error(), filepath.Join(s.dir, tt.want)) || !errors.As(err, &ke) && !errors.As(err, &ps) {
				t.Fatalf("not refused with %q: %v", tt.want, err)
			}
			for _, f := range filesUnder(t, s.out("")) {
				data, _ := os.ReadFile(f)
				if bytes.Contains(data, pemBody(s)[:60]) || bytes.Contains(data, s.signer.Secrets()[0]) {
					t.Errorf("%s holds the key", f)
				}
			}
			if _, err := os.Stat(s.out("manifest.json")); err == nil {
				t.Error("a manifest was written")
			}
		})
	}
}

// TestPublicKeyInSourcesIsFine: the public half, which packs may well ship,
// matches none of the private key's lines or numbers.
func TestPublicKeyInSourcesIsFine(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	pub, _ := os.ReadFile(s.pub)
	must(t, os.WriteFile(s.path("catalog/payload/metallb/site.pub.pem"), pub, 0o644))
	s.mustBuild()
}

// TestKeyInsideOutputIsRefused: a key file in the output directory, named
// directly or reached through a link, would be published with the tree.
func TestKeyInsideOutputIsRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	must(t, os.MkdirAll(s.out(""), 0o755))
	must(t, os.Rename(s.key, s.out("site.pem")))
	s.edit("site.toml", `key = "key/site.pem"`, `key = "public/site.pem"`)
	_, err := s.build()
	if err == nil || !strings.Contains(err.Error(), "site.toml:8: the private signing key "+s.out("site.pem")+" is inside the output directory") {
		t.Fatalf("a key inside the output was not refused: %v", err)
	}

	s2 := newSite(t)
	must(t, os.Symlink("key", s2.path("linked-out")))
	s2.edit("site.toml", `output = "public"`, `output = "linked-out"`)
	if _, err := s2.build(); err == nil || !strings.Contains(err.Error(), "is inside the output directory") {
		t.Fatalf("a key inside the output through a link was not refused: %v", err)
	}
}

// TestThemeDotFolderIsRefused: an asset under a dot folder would be
// published and then taken for bookkeeping by every publish and verify.
func TestThemeDotFolderIsRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.edit("site.toml", `output = "public"`, "output = \"public\"\ntheme = \"theme\"")
	must(t, os.MkdirAll(s.path("theme/assets/.well-known"), 0o755))
	must(t, os.WriteFile(s.path("theme/assets/.well-known/security.txt"), []byte("Contact: x\n"), 0o644))
	_, err := s.build()
	want := "theme asset folder " + s.path("theme/assets/.well-known") + ": a folder starting with '.' cannot be published"
	var ps catalog.Problems
	if !errors.As(err, &ps) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "rename it or move its files") {
		t.Fatalf("not refused with %q: %v", want, err)
	}
	if _, err := os.Stat(s.out("")); err == nil {
		t.Error("output written although the build was refused")
	}
	must(t, os.Rename(s.path("theme/assets/.well-known"), s.path("theme/assets/well-known")))
	s.mustBuild()
	for _, f := range s.files() {
		for _, seg := range strings.Split(f, "/") {
			if strings.HasPrefix(seg, ".") {
				t.Errorf("output path %s has a dot segment", f)
			}
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func filesUnder(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}
