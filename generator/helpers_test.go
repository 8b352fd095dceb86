package generator

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/sign/signtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testNow is the build time of test sites, so manifests are stable.
var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// site is a test site extracted from testdata/site.txtar into a temp dir.
type site struct {
	t      *testing.T
	dir    string
	key    string
	pub    string
	signer *sign.Signer
	now    time.Time
	stats  *Stats // of the last build
	// checkOutput builds with --check-output.
	checkOutput bool
	// manifestWarnSize is Options.ManifestWarnSize.
	manifestWarnSize int64
}

func newSite(t *testing.T) *site {
	t.Helper()
	return extractSite(t, t.TempDir())
}

var (
	shared     *site
	sharedOnce sync.Once
	sharedDir  string
)

// builtSite returns one site built once and shared by the tests that only
// read its output (each build writes thousands of files).
func builtSite(t *testing.T) *site {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "packstudio-site-")
		if err != nil {
			t.Fatal(err)
		}
		sharedDir = dir
		shared = extractSite(t, dir)
		if _, err := shared.build(); err != nil {
			t.Fatal(err)
		}
	})
	if shared == nil {
		t.Fatal("the shared site failed to build")
	}
	s := *shared
	s.t = t
	return &s
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

func extractSite(t *testing.T, dir string) *site {
	t.Helper()
	ar, err := txtar.ParseFile("testdata/site.txtar")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ar.Files {
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir, "key"), 0o700)
	s := &site{t: t, dir: dir, now: testNow}
	s.key, s.pub = signtest.WriteKey(t, filepath.Join(dir, "key"), "generator")
	if s.signer, err = sign.LoadSigner(s.key, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *site) path(rel string) string { return filepath.Join(s.dir, filepath.FromSlash(rel)) }

func (s *site) out(rel string) string { return filepath.Join(s.dir, "public", filepath.FromSlash(rel)) }

func (s *site) read(rel string) string {
	s.t.Helper()
	b, err := os.ReadFile(s.out(rel))
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

// edit replaces old with new in a site file.
func (s *site) edit(rel, old, new string) {
	s.t.Helper()
	b, err := os.ReadFile(s.path(rel))
	if err != nil {
		s.t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		s.t.Fatalf("%s does not contain %q", rel, old)
	}
	if err := os.WriteFile(s.path(rel), []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s *site) build() (*Stats, error) {
	s.t.Helper()
	cfg, err := LoadConfig(filepath.Join(s.dir, "site.toml"), Overrides{})
	if err != nil {
		return nil, err
	}
	st, err := Build(context.Background(), Options{Config: cfg, Signer: s.signer, SigningKey: s.key, Jobs: 3, Now: func() time.Time { return s.now }, CheckOutput: s.checkOutput, ManifestWarnSize: s.manifestWarnSize})
	s.stats = st
	return st, err
}

func (s *site) mustBuild() *Stats {
	s.t.Helper()
	st, err := s.build()
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

func (s *site) catalog() *catalog.Catalog {
	s.t.Helper()
	c, err := catalog.Load(s.path("catalog"))
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// files returns every file under public, relative, with slashes.
func (s *site) files() []string {
	s.t.Helper()
	var out []string
	root := s.out("")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			s.t.Fatal(err)
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}
