//go:build unix

package serve

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestServeRefusesFIFO puts real FIFOs in a served tree, as a file, as a
// folder's index.html, behind a symlink and behind one out of the tree: each request must end within
// the deadline with 404 instead of waiting for a writer that never comes.
func TestServeRefusesFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("home"), 0o644)
	os.Mkdir(filepath.Join(dir, "pipes"), 0o755)
	outside := filepath.Join(t.TempDir(), "outside.zst")
	fifos := []string{filepath.Join(dir, "pipe.zst"), filepath.Join(dir, "pipes", "index.html"), outside}
	for _, p := range fifos {
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("pipe.zst", filepath.Join(dir, "link.zst")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "escape.zst")); err != nil {
		t.Fatal(err)
	}
	h, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	// Should a handler be stuck in open, a writer's open lets it go, so
	// that srv.Close (which waits for every request) returns and the test
	// fails instead of hanging.
	t.Cleanup(func() {
		for _, p := range fifos {
			if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		}
	})

	for _, c := range []struct {
		path string
		code int
	}{
		{"/pipe.zst", http.StatusNotFound},
		{"/link.zst", http.StatusNotFound},
		{"/escape.zst", http.StatusNotFound}, // out of the tree as well
		{"/pipes/", http.StatusNotFound},
		{"/pipes/index.html", http.StatusNotFound},
		{"/", http.StatusOK},
	} {
		t.Run(c.path, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+c.path, nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf("GET %s did not complete: %v", c.path, err)
			}
			defer resp.Body.Close()
			io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != c.code {
				t.Errorf("GET %s: %d, want %d", c.path, resp.StatusCode, c.code)
			}
		})
	}
}
