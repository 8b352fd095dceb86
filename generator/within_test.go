package generator

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packstudio/packstudio/catalog"
)

// TestSourcesWithin: with [build] sources_within, a site whose sources,
// readmes and pages are all inside builds; a source outside, a readme and
// a content page that are links inside leading outside, and a content
// directory outside, are each refused at the line or file that names
// them, all at once, with nothing written.
func TestSourcesWithin(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.edit("site.toml", "[signing]\n", "[build]\nsources_within = \"catalog\"\n[signing]\n")
	// The pages move under catalog/, through a link that stays inside.
	if err := os.Rename(s.path("content"), s.path("catalog/content")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("catalog/content", s.path("content")); err != nil {
		t.Fatal(err)
	}
	s.mustBuild()

	outside := t.TempDir()
	secret := filepath.Join(outside, "shadow")
	if err := os.WriteFile(secret, []byte("root:x:0:0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.edit("catalog/packs/ubuntu.toml", `source = "payload/ubuntu-20.04.img"`, `source = "`+secret+`"`)
	os.Remove(s.path("catalog/readme/ubuntu.md"))
	for link, to := range map[string]string{"catalog/readme/ubuntu.md": secret, "catalog/content/notes.md": secret} {
		if err := os.Symlink(to, s.path(link)); err != nil {
			t.Fatal(err)
		}
	}
	os.RemoveAll(s.out(""))
	os.RemoveAll(s.path(".cache"))
	_, err := s.build()
	var ps catalog.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want problems, got %v", err)
	}
	msg := strings.ReplaceAll(err.Error(), s.dir+string(filepath.Separator), "")
	for _, w := range []string{
		`catalog/packs/ubuntu.toml:5: readme "readme/ubuntu.md" leads to ` + secret + `, outside sources_within catalog`,
		`catalog/packs/ubuntu.toml:12: source "` + secret + `" is outside sources_within catalog; move it into catalog`,
		`content/notes.md: leads to ` + secret + `, outside sources_within catalog`,
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("missing problem\n want: %s\n  got: %s", w, msg)
		}
	}
	if _, err := os.Stat(s.out("")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the output was written although the build was refused")
	}

	// A content directory outside, and a sources_within that is no directory,
	// are problems of site.toml.
	os.Remove(s.path("content"))
	if err := os.Symlink(outside, s.path("content")); err != nil {
		t.Fatal(err)
	}
	_, err = s.build()
	if err == nil || !strings.Contains(err.Error(), s.path("site.toml")+`:4: content directory "`+s.path("content")+`" is outside sources_within catalog`) {
		t.Errorf("content directory outside: got %v", err)
	}
	s.edit("site.toml", `sources_within = "catalog"`, `sources_within = "nowhere"`)
	_, err = s.build()
	if err == nil || !strings.Contains(err.Error(), s.path("site.toml")+`:8: sources_within "nowhere" is not a directory`) {
		t.Errorf("missing sources_within: got %v", err)
	}
}

// TestSourcesWithinOnTheFastPath: a rebuild that finds nothing changed
// skips loading, so a link inside sources_within retargeted outside after
// a build (a readme, then a source) must still be seen as a change and
// refused, not trusted from the last build's record.
func TestSourcesWithinOnTheFastPath(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.edit("site.toml", "[signing]\n", "[build]\nsources_within = \"catalog\"\n[signing]\n")
	s.edit("site.toml", `content = "content"`, `content = "catalog/content"`)
	if err := os.Rename(s.path("content"), s.path("catalog/content")); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(secret, []byte("root:x:0:0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Readme and source are links to files beside them.
	for _, f := range []string{"catalog/readme/ubuntu.md", "catalog/payload/ubuntu-20.04.img"} {
		if err := os.Rename(s.path(f), s.path(f+".real")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Base(f)+".real", s.path(f)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(racyWindow + 50*time.Millisecond)
	s.armed(buildSetup{})

	retarget := func(link, to string) {
		t.Helper()
		if err := os.Remove(s.path(link)); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(to, s.path(link)); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(want string) {
		t.Helper()
		_, err := s.build()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("link retargeted outside: got %v, want a problem %q", err, want)
		}
	}
	retarget("catalog/readme/ubuntu.md", secret)
	refused(`ubuntu.toml:5: readme "readme/ubuntu.md" leads to ` + secret)
	retarget("catalog/readme/ubuntu.md", "ubuntu.md.real")
	retarget("catalog/payload/ubuntu-20.04.img", secret)
	refused(`ubuntu.toml:12: source "payload/ubuntu-20.04.img" leads to ` + secret)
}
