package serve

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"index.html":                    "<h1>home</h1>",
		"browse/all/index.html":         "browse",
		"artifacts/packs/a/a-1.zst":     "0123456789",
		"artifacts/packs/a/a-1.sig.bin": "sig",
		"browse/all/SHA256SUMS":         "sums",
		"verify/verify-signatures.sh":   "#!/bin/sh",
		"empty/readme.txt":              "x",
		".packstudio-tmp/f-123":         "half-written",
		".mirror-state.json":            "{}",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(data), 0o644)
	}
	outside := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(outside, []byte("secret"), 0o644)
	os.Symlink(outside, filepath.Join(dir, "escape.txt"))
	h, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestServe(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		path, status, ctype, body string
	}{
		{"/", "200", "text/html; charset=utf-8", "<h1>home</h1>"},
		{"/index.html", "200", "text/html; charset=utf-8", "<h1>home</h1>"},
		{"/browse/all/", "200", "text/html; charset=utf-8", "browse"},
		{"/browse/all", "301", "", ""},
		{"/artifacts/packs/a/a-1.zst", "200", "application/zstd", "0123456789"},
		{"/artifacts/packs/a/a-1.sig.bin", "200", "application/octet-stream", "sig"},
		{"/browse/all/SHA256SUMS", "200", "text/plain; charset=utf-8", "sums"},
		{"/verify/verify-signatures.sh", "200", "application/x-sh", "#!/bin/sh"},
		{"/empty/", "404", "", ""},                // no listing without an index.html
		{"/empty", "404", "", ""},                 // nor a redirect to one
		{"/.packstudio-tmp/f-123", "404", "", ""}, // build debris is never served
		{"/.mirror-state.json", "404", "", ""},    // nor bookkeeping
		{"/../../etc/passwd", "404", "", ""},      // nothing outside the tree
		{"/%2e%2e/%2e%2e/etc/passwd", "404", "", ""},
		{"/escape.txt", "404", "", ""}, // a symlink out of the tree
		{"/missing.html", "404", "", ""},
	}
	for _, tt := range tests {
		resp, body := get(t, srv.URL+tt.path, nil)
		if got := resp.Status[:3]; got != tt.status {
			t.Errorf("%s: status %s, want %s", tt.path, resp.Status, tt.status)
			continue
		}
		if tt.ctype != "" && resp.Header.Get("Content-Type") != tt.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tt.path, resp.Header.Get("Content-Type"), tt.ctype)
		}
		if tt.body != "" && body != tt.body {
			t.Errorf("%s: body %q", tt.path, body)
		}
		if tt.status == "404" && strings.Contains(body, "secret") {
			t.Errorf("%s leaked a file", tt.path)
		}
	}
	if resp, _ := get(t, srv.URL+"/browse/all", nil); resp.Header.Get("Location") != "/browse/all/" {
		t.Errorf("redirect to %q", resp.Header.Get("Location"))
	}
}

func TestServeRangeAndConditional(t *testing.T) {
	srv := newServer(t)
	resp, body := get(t, srv.URL+"/artifacts/packs/a/a-1.zst", map[string]string{"Range": "bytes=3-5"})
	if resp.StatusCode != http.StatusPartialContent || body != "345" {
		t.Fatalf("range: %s %q", resp.Status, body)
	}
	resp, _ = get(t, srv.URL+"/artifacts/packs/a/a-1.zst", nil)
	etag := resp.Header.Get("ETag")
	if etag == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("ETag %q, Cache-Control %q", etag, resp.Header.Get("Cache-Control"))
	}
	resp, _ = get(t, srv.URL+"/artifacts/packs/a/a-1.zst", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %s", resp.Status)
	}
	resp, body = get(t, srv.URL+"/artifacts/packs/a/a-1.zst", map[string]string{"Range": "bytes=8-", "If-Range": etag})
	if resp.StatusCode != http.StatusPartialContent || body != "89" {
		t.Fatalf("If-Range: %s %q", resp.Status, body)
	}
	resp, _ = get(t, srv.URL+"/index.html", nil)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=300") {
		t.Errorf("page Cache-Control %q", cc)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/index.html", nil)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v", r.Status, err)
	}
}

// TestServeManyConnections opens 200 connections at once, each asking for
// pages, ranges and conditional requests: every answer must be right.
func TestServeManyConnections(t *testing.T) {
	srv := newServer(t)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 200, DisableKeepAlives: false}}
	const n = 200
	errs := make(chan string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			for j := 0; j < 5; j++ {
				req, _ := http.NewRequest("GET", srv.URL+"/artifacts/packs/a/a-1.zst", nil)
				req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", j, j+2))
				resp, err := client.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusPartialContent || string(body) != "0123456789"[j:j+3] {
					errs <- fmt.Sprintf("%d: %s %q", i, resp.Status, body)
					return
				}
			}
		}(i)
	}
	close(start)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
