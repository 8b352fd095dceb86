// Package serve hosts a built tree or a mirror over HTTP: correct content
// types and cache headers, Range and conditional requests, index.html for
// folders, no folder listings, nothing outside the tree and no dot-files.
package serve

import (
	"fmt"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/packstudio/packstudio/publish"
)

// Handler serves the tree at dir.
type Handler struct {
	root *os.Root
}

// New opens dir for serving.
func New(dir string) (*Handler, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Handler{root: root}, nil
}

// Close releases the directory.
func (h *Handler) Close() error { return h.root.Close() }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p, ok := cleanPath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	name := p
	if name == "" || strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	f, err := h.root.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if fi.IsDir() {
		// A folder without its trailing slash: send the browser to the
		// folder so relative links resolve, if it has an index page.
		if _, err := h.root.Stat(name + "/index.html"); err == nil {
			target := "/" + name + "/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
		return
	}
	if !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", publish.ContentType(name))
	hdr.Set("Cache-Control", publish.CacheControl(name))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("ETag", fmt.Sprintf(`"%x-%x"`, fi.Size(), fi.ModTime().UnixNano()))
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

// cleanPath turns a URL path into a slash path inside the tree, or reports
// false for anything that names a dot-file or leaves the tree.
func cleanPath(raw string) (string, bool) {
	if !strings.HasPrefix(raw, "/") || strings.Contains(raw, "\x00") || strings.Contains(raw, `\`) {
		return "", false
	}
	if publish.Ignored(raw[1:]) { // dot-files, dot-folders and ".."
		return "", false
	}
	trailing := strings.HasSuffix(raw, "/")
	p := strings.TrimPrefix(path.Clean(raw), "/")
	if p == "." {
		p = ""
	}
	if trailing && p != "" {
		p += "/"
	}
	return p, true
}

// Server returns an http.Server for the handler with timeouts that keep
// slow or idle clients from holding connections forever.
func Server(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
