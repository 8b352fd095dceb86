// Package browsertest drives Debian's Chromium (through chromedp) over a
// built site, served by the real serve handler on 127.0.0.1 or opened from
// file://. A page fails its test on any console error, uncaught exception
// or request that leaves the site.
package browsertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/generator"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/sign/signtest"
	"github.com/packstudio/packstudio/publish/serve"
)

// Site is a built output tree and the catalog it was built from.
type Site struct {
	Dir     string // the output tree (public/)
	Catalog *catalog.Catalog
	Stats   *generator.Stats
}

// buildTime keeps manifests and pages stable across runs (golden files).
var buildTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// BuildDemo builds the demo catalog (testdata/demo of this repository) into
// dir with a test signing key.
func BuildDemo(t testing.TB, dir string) *Site {
	t.Helper()
	demo := filepath.Join(RepoRoot(t), "testdata", "demo")
	cfg := fmt.Sprintf("title = \"packstudio demo\"\nbase_url = \"https://packs.example.com/demo/\"\n"+
		"catalog = %q\ncontent = %q\noutput = \"public\"\ncache = \".cache\"\n[signing]\nkey = \"key/site.pem\"\n",
		filepath.Join(demo, "catalog"), filepath.Join(demo, "content"))
	if err := os.WriteFile(filepath.Join(dir, "site.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return buildSite(t, filepath.Join(dir, "site.toml"), filepath.Join(dir, "key"))
}

// buildSite writes a fixed test key into keyDir and runs a real build.
func buildSite(t testing.TB, siteToml, keyDir string) *Site {
	t.Helper()
	if err := os.MkdirAll(keyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	key, _ := signtest.WriteKey(t, keyDir, "browsertest")
	signer, err := sign.LoadSigner(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := generator.LoadConfig(siteToml, generator.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := generator.Build(context.Background(), generator.Options{Config: cfg, Signer: signer, SigningKey: key,
		Now: func() time.Time { return buildTime }})
	if err != nil {
		t.Fatalf("build %s: %v", siteToml, err)
	}
	cat, err := catalog.Load(cfg.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	return &Site{Dir: cfg.Output, Catalog: cat, Stats: st}
}

// RepoRoot is the folder holding go.mod, found upwards from the test's
// working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Serve serves dir with the real `packstudio serve` handler on 127.0.0.1
// and returns its origin (http://127.0.0.1:PORT), stopped when t ends.
func Serve(t testing.TB, dir string) string {
	t.Helper()
	root, stop, err := serveDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return root
}

// ServeShared serves dir, as Serve does, for the rest of the test binary:
// tests that share a tree whose pages name their host (a rebased mirror)
// share its server, so it is rebased once. Main stops it.
func ServeShared(t testing.TB, dir string) string {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if root, ok := sharedServers[dir]; ok {
		return root
	}
	root, stop, err := serveDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sharedServers[dir] = root
	sharedStops = append(sharedStops, stop)
	return root
}

func serveDir(dir string) (root string, stop func(), err error) {
	h, err := serve.New(dir)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() {
		srv.Close()
		h.Close()
	}, nil
}

// Shared builds a site once per test binary, by key; Main removes it.
func Shared(t testing.TB, key string, build func(t testing.TB, dir string) *Site) *Site {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if s, ok := sharedSites[key]; ok {
		if s == nil {
			t.Fatalf("shared site %s failed to build earlier", key)
		}
		return s
	}
	sharedSites[key] = nil
	dir, err := os.MkdirTemp("", "packstudio-browsertest-")
	if err != nil {
		t.Fatal(err)
	}
	sharedDirs = append(sharedDirs, dir)
	s := build(t, dir)
	sharedSites[key] = s
	return s
}

var (
	sharedMu      sync.Mutex
	sharedSites   = map[string]*Site{}
	sharedDirs    []string
	sharedServers = map[string]string{} // dir -> root URL
	sharedStops   []func()
)

// Main runs the tests, then stops the shared browser and removes the
// shared sites. Call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	closeBrowser()
	for _, stop := range sharedStops {
		stop()
	}
	for _, d := range sharedDirs {
		os.RemoveAll(d)
	}
	return code
}
