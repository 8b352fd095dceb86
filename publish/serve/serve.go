// Package serve hosts a built tree or a mirror over HTTP: correct content
// types and cache headers, Range and conditional requests, index.html for
// folders, no folder listings, nothing outside the tree and no dot-files.
package serve

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
)

// Handler serves the tree at dir.
type Handler struct {
	root    *os.Root
	leftOut leftOut // what a partial mirror left out, for its 404 page
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
	if r.ContentLength != 0 {
		// Nothing here reads a request body. Closing after the answer
		// keeps net/http from waiting for a declared body that may never
		// come before it sends the answer (it reads what is left of a
		// body to reuse the connection).
		w.Header().Set("Connection", "close")
	}
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
	// Only regular files and folders are served. Opening a FIFO blocks
	// until something writes to it, and opening a device may do anything,
	// so the type is looked at before the open; and the open does not
	// block, in case a FIFO took the file's place in between (f.Stat
	// below then refuses it).
	if fi, err := h.root.Stat(name); err != nil || !(fi.Mode().IsRegular() || fi.IsDir()) {
		if n := h.leftOut.lookup(h.root, name); err != nil && n != nil {
			serveLeftOut(w, r, name, n)
			return
		}
		http.NotFound(w, r)
		return
	}
	f, err := h.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
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
	if rng := r.Header.Get("Range"); rng != "" {
		r.Header.Set("Range", withoutEmptySuffixes(rng, fi.Size()))
	}
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

// withoutEmptySuffixes drops suffix ranges of length zero ("bytes=-0"),
// which select no byte and which http.ServeContent would answer with 206
// and an invalid Content-Range. When nothing is left the range asks for
// the first byte past the end, which ServeContent answers, as RFC 9110
// wants, with 416 and "Content-Range: bytes */size" (If-Range still
// applies first).
func withoutEmptySuffixes(h string, size int64) string {
	specs, ok := strings.CutPrefix(h, "bytes=")
	if !ok {
		return h
	}
	var keep []string
	dropped := false
	for _, spec := range strings.Split(specs, ",") {
		spec = strings.TrimSpace(spec)
		if n, ok := strings.CutPrefix(spec, "-"); ok && n != "" && strings.Trim(n, "0") == "" {
			dropped = true
			continue
		}
		keep = append(keep, spec)
	}
	switch {
	case !dropped:
		return h
	case len(keep) == 0:
		return fmt.Sprintf("bytes=%d-", size)
	}
	return "bytes=" + strings.Join(keep, ",")
}

// cleanPath turns a URL path into a slash path inside the tree, or reports
// false for anything that names a dot-file or leaves the tree.
func cleanPath(raw string) (string, bool) {
	if !strings.HasPrefix(raw, "/") || strings.Contains(raw, "\x00") || strings.Contains(raw, `\`) {
		return "", false
	}
	if tree.Ignored(raw[1:]) { // dot-files, dot-folders and ".."
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

// Options bound what a client may hold: every timeout is about a client
// that stops sending or reading, never about a slow download that still
// moves.
type Options struct {
	ReadHeaderTimeout time.Duration // to send the request's headers; default 10s
	ReadTimeout       time.Duration // to send the whole request; default 30s
	IdleTimeout       time.Duration // between requests on a kept-alive connection; default 60s
	// WriteStall is the longest one write to the client may block, that
	// is how long a client may stop reading: a download of any size goes
	// on as long as it moves. Default 60s.
	WriteStall time.Duration
	MaxConns   int // connections served at once, more wait; default 1024
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, 10*time.Second)
	def(&o.ReadTimeout, 30*time.Second)
	def(&o.IdleTimeout, 60*time.Second)
	def(&o.WriteStall, 60*time.Second)
	if o.MaxConns <= 0 {
		o.MaxConns = 1024
	}
	return o
}

// Server returns an http.Server for the handler with timeouts that keep
// slow or idle clients from holding connections forever. Serve it on a
// listener from Listen, which bounds connections and stalled writes.
func Server(addr string, h http.Handler, o Options) *http.Server {
	o = o.withDefaults()
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
}

// Listen wraps ln so that at most o.MaxConns connections are open at once
// (Accept waits for one to close) and each write to a client that does
// not read for o.WriteStall fails, closing its connection.
func Listen(ln net.Listener, o Options) net.Listener {
	o = o.withDefaults()
	return &limitListener{Listener: ln, slots: make(chan struct{}, o.MaxConns), stall: o.WriteStall, done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{}
	stall     time.Duration
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &stallConn{Conn: c, stall: l.stall, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// stallConn gives every write its own deadline, so a client that stops
// reading is cut off while one that reads slowly is not.
type stallConn struct {
	net.Conn
	stall     time.Duration
	release   func()
	closeOnce sync.Once
}

func (c *stallConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.stall))
	return c.Conn.Write(p)
}

// ReadFrom keeps the kernel's sendfile for large files: in chunks, each
// with a fresh write deadline.
func (c *stallConn) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := c.Conn.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{c}, r)
	}
	// One level of *io.LimitedReader around a file is what sendfile
	// recognises: unwrap the caller's and re-wrap per chunk.
	remain := int64(-1)
	if lr, ok := r.(*io.LimitedReader); ok {
		r, remain = lr.R, lr.N
		defer func() { lr.N = remain }()
	}
	const chunk = 1 << 20 // a client that reads must drain this within the stall limit
	var total int64
	for remain != 0 {
		n := int64(chunk)
		if remain > 0 {
			n = min(n, remain)
		}
		c.Conn.SetWriteDeadline(time.Now().Add(c.stall))
		got, err := rf.ReadFrom(&io.LimitedReader{R: r, N: n})
		total += got
		if remain > 0 {
			remain -= got
		}
		if err != nil {
			return total, err
		}
		if got < n {
			break // the source is done
		}
	}
	return total, nil
}

// writerOnly hides ReadFrom, so that io.Copy does not call it again.
type writerOnly struct{ io.Writer }

func (c *stallConn) Close() error {
	c.closeOnce.Do(c.release)
	return c.Conn.Close()
}
