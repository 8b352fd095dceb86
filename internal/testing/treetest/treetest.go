// Package treetest makes trees for tests: the generator's small site,
// built and signed with a real key; small signed trees held in memory,
// for manifests a build never makes; and servers for them.
package treetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/packstudio/packstudio/generator"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/sign/signtest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/serve"
)

// A SignedTree is a small signed site held in memory: its files and the
// manifest listing them, signed with a real key. It lets a test make
// manifests a build never would (hostile paths, huge ones).
type SignedTree struct {
	Files    map[string][]byte
	Raw, Sig []byte
}

type Publisher struct {
	t      *testing.T
	Signer *sign.Signer
	Key    *sign.Verifier
	// KeyFile is the public key's PEM file, for --key.
	KeyFile string
}

func NewPublisher(t *testing.T, seed string) *Publisher {
	t.Helper()
	dir := t.TempDir()
	priv, pub := signtest.WriteKey(t, dir, seed)
	signer, err := sign.LoadSigner(priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := sign.LoadPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return &Publisher{t: t, Signer: signer, Key: key, KeyFile: pub}
}

// Sign makes version v of a tree holding files, generated now and
// expiring in a day.
func (p *Publisher) Sign(v int64, files map[string]string) *SignedTree {
	p.t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	return p.SignDated(v, files, now, now.Add(24*time.Hour))
}

// SignDated makes version v of a tree holding files with the dates given,
// which no build would write.
func (p *Publisher) SignDated(v int64, files map[string]string, generated, expires time.Time) *SignedTree {
	p.t.Helper()
	m := &tree.Manifest{Version: v, Generated: generated, Expires: expires, BaseURL: "https://packs.example.com/", KeyID: p.Key.KeyID()}
	tr := &SignedTree{Files: map[string][]byte{}}
	for path, data := range files {
		d := sha256.Sum256([]byte(data))
		m.Objects = append(m.Objects, tree.Object{Path: path, Size: int64(len(data)), SHA256: hex.EncodeToString(d[:])})
		tr.Files[path] = []byte(data)
	}
	tr.Raw = m.Encode()
	d := sha256.Sum256(tr.Raw)
	sig, err := p.Signer.SignDigest(d[:])
	if err != nil {
		p.t.Fatal(err)
	}
	tr.Sig = sig
	return tr
}

// Write puts the tree, manifest included, into dir.
func (tr *SignedTree) Write(t *testing.T, dir string) {
	t.Helper()
	all := map[string][]byte{tree.ManifestName: tr.Raw, tree.ManifestSigName: tr.Sig}
	for p, data := range tr.Files {
		all[p] = data
	}
	for p, data := range all {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Server serves trees over HTTP; the tree served can be swapped, and
// requests are counted by path.
type Server struct {
	mu       sync.Mutex
	current  *SignedTree
	requests map[string]int
	Reader   *tree.HTTPReader
}

func ServeTree(t *testing.T, tr *SignedTree) *Server {
	t.Helper()
	s := &Server{current: tr, requests: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/")
		s.mu.Lock()
		s.requests[p]++
		cur := s.current
		s.mu.Unlock()
		data, ok := cur.Files[p]
		switch p {
		case tree.ManifestName:
			data, ok = cur.Raw, true
		case tree.ManifestSigName:
			data, ok = cur.Sig, true
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(data))
	}))
	t.Cleanup(srv.Close)
	var err error
	if s.Reader, err = tree.OpenURL(srv.URL+"/", nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// A Fault is how a faulty server answers for one path: it sends the
// headers and the first Stall bytes of the object, then nothing more for
// as long as the client waits (Stall > 0), or it sends bytes forever
// (Endless).
type Fault struct {
	Stall   int
	Endless bool
}

// ServeFaulty serves a tree like ServeTree, except for the paths in faults.
func ServeFaulty(t *testing.T, tr *SignedTree, faults map[string]Fault) *tree.HTTPReader {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/")
		data, ok := tr.Files[p]
		switch p {
		case tree.ManifestName:
			data, ok = tr.Raw, true
		case tree.ManifestSigName:
			data, ok = tr.Sig, true
		}
		f, faulty := faults[p]
		switch {
		case !ok:
			http.NotFound(w, r)
		case faulty && f.Endless:
			w.Header().Set("Content-Type", "application/octet-stream")
			chunk := bytes.Repeat([]byte("x"), 32<<10)
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case faulty:
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.WriteHeader(http.StatusOK)
			w.Write(data[:min(f.Stall, len(data))])
			w.(http.Flusher).Flush()
			select { // until the client gives up, or the test ends
			case <-r.Context().Done():
			case <-done:
			}
		default:
			http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(data))
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first: no handler outlives the test
	r, err := tree.OpenURL(srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (s *Server) Serve(tr *SignedTree) { s.mu.Lock(); s.current = tr; s.mu.Unlock() }

func (s *Server) Count(p string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests[p] }

// WriteFiles writes user files into dir.
func WriteFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// StillThere fails for each file of files that dir no longer holds as it was.
func StillThere(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil || string(got) != data {
			t.Errorf("the user's file %s is gone or changed: %v", p, err)
		}
	}
}

func Exists(p string) bool { _, err := os.Stat(p); return err == nil }

// Site is the generator's small test site, built into dir/public.
type Site struct {
	t      *testing.T
	Dir    string
	Signer *sign.Signer
	Key    *sign.Verifier
	KeyPEM string
	Now    time.Time
}

func NewSite(t *testing.T) *Site { t.Helper(); return NewSiteWith(t, nil) }

// NewSiteWith is NewSite with files (by slash path under the site's
// folder) added or replaced before the build.
func NewSiteWith(t *testing.T, files map[string][]byte) *Site {
	t.Helper()
	ar, err := txtar.ParseFile(siteArchive())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	all := map[string][]byte{}
	for _, f := range ar.Files {
		all[f.Name] = f.Data
	}
	for name, data := range files {
		all[name] = data
	}
	for name, data := range all {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, data, 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "key"), 0o700)
	priv, pub := signtest.WriteKey(t, filepath.Join(dir, "key"), "publish")
	s := &Site{t: t, Dir: dir, KeyPEM: priv, Now: time.Now().Truncate(time.Second)}
	if s.Signer, err = sign.LoadSigner(priv, nil); err != nil {
		t.Fatal(err)
	}
	if s.Key, err = sign.LoadPublicKey(pub); err != nil {
		t.Fatal(err)
	}
	s.Build()
	return s
}

func (s *Site) Public() string { return filepath.Join(s.Dir, "public") }

func (s *Site) Build() {
	s.t.Helper()
	cfg, err := generator.LoadConfig(filepath.Join(s.Dir, "site.toml"), generator.Overrides{})
	if err != nil {
		s.t.Fatal(err)
	}
	s.Now = s.Now.Add(time.Hour)
	if _, err := generator.Build(context.Background(), generator.Options{Config: cfg, Signer: s.Signer, SigningKey: s.KeyPEM, Now: func() time.Time { return s.Now }}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *Site) Manifest() *tree.Manifest {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.Public(), tree.ManifestName))
	if err != nil {
		s.t.Fatal(err)
	}
	m, err := tree.Parse(data)
	if err != nil {
		s.t.Fatal(err)
	}
	return m
}

// Files reads every regular file under dir, by slash path.
func Files(t *testing.T, dir string) map[string][]byte {
	out := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			data, _ := os.ReadFile(p)
			out[filepath.ToSlash(rel)] = data
		}
		return nil
	})
	return out
}

// ServeDir serves a tree over HTTP with packstudio's own handler.
func ServeDir(t *testing.T, dir string, wrap func(http.Handler) http.Handler) *tree.HTTPReader {
	t.Helper()
	h, err := serve.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	var handler http.Handler = h
	if wrap != nil {
		handler = wrap(h)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	r, err := tree.OpenURL(srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// CopyTree copies the files under src into dst.
func CopyTree(t *testing.T, src, dst string) {
	t.Helper()
	for p, data := range Files(t, src) {
		full := filepath.Join(dst, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// siteArchive is the generator's test site, found from the module root
// so that any package's tests can build it.
func siteArchive() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "generator", "testdata", "site.txtar")
}
