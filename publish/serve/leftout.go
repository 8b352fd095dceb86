package serve

import (
	"bytes"
	"html/template"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/packstudio/packstudio/internal/tree"
)

// leftOut knows what a partial mirror left out, from its mirror note
// (tree.MirrorNotePath), so that a link to such an artifact answers a
// page that says so and how to fetch it, not a bare 404. The note is
// read again only when its size or time changes (a mirror run replaced
// it).
type leftOut struct {
	mu    sync.Mutex
	size  int64
	mtime time.Time
	note  *tree.MirrorNote
	paths map[string]bool
}

// lookup returns the note when it names p as left out.
func (l *leftOut) lookup(root *os.Root, p string) *tree.MirrorNote {
	if !strings.HasPrefix(p, tree.ArtifactsDir) {
		return nil
	}
	fi, err := root.Stat(filepath.FromSlash(tree.MirrorNotePath))
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > tree.MirrorNoteMax {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if fi.Size() != l.size || !fi.ModTime().Equal(l.mtime) {
		l.size, l.mtime, l.note, l.paths = fi.Size(), fi.ModTime(), nil, nil
		if data, err := readFile(root, tree.MirrorNotePath, fi.Size()); err == nil {
			if n, err := tree.ParseMirrorNote(data); err == nil { // anything else marks nothing
				l.note, l.paths = n, make(map[string]bool, len(n.LeftOut))
				for _, q := range n.LeftOut {
					l.paths[q] = true
				}
			}
		}
	}
	if !l.paths[p] {
		return nil
	}
	return l.note
}

// readFile reads at most size bytes of a regular file in root, without
// blocking on anything that took its place.
func readFile(root *os.Root, name string, size int64) ([]byte, error) {
	f, err := openRegular(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, size+1))
}

var leftOutPage = template.Must(template.New("left-out").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Not in this mirror: {{.File}}</title>
</head>
<body>
<main id="left-out">
<h1>Not in this mirror</h1>
<p><code>{{.Path}}</code> is part of the site this mirror copies, but this mirror left it out by choice{{with .Filter}} (it was mirrored with <code>{{.}}</code>){{end}}.</p>
<h2>Fetch it</h2>
{{- if .Source}}
<p>From the site it was mirrored from, where that is reachable:</p>
<pre class="cmd">curl -fsSO {{.Source}}{{.Path}}{{with .Sig}}
curl -fsSO {{$.Source}}{{.}}{{end}}</pre>
{{- end}}
<p>Or add it to this mirror, on the machine that made it:</p>
<pre class="cmd">{{if .Pack}}packstudio mirror {{.SourceArg}} DEST --bundle bundle.json   # with "{{.Pack}}" in the bundle's packs
{{end}}packstudio mirror {{.SourceArg}} DEST   # everything, without filters</pre>
<p><a href="/index.html">Home</a></p>
</main>
</body>
</html>
`))

// serveLeftOut answers a request for the left-out artifact p with 404 and
// a page that explains it.
func serveLeftOut(w http.ResponseWriter, r *http.Request, p string, n *tree.MirrorNote) {
	data := struct {
		Path, File, Sig, Source, SourceArg, Filter, Pack string
	}{Path: p, File: p[strings.LastIndex(p, "/")+1:], Source: n.Source, SourceArg: n.Source, Filter: n.Filter}
	if data.SourceArg == "" {
		data.SourceArg = "SOURCE"
	}
	if tree.IsArtifact(p) {
		data.Sig = tree.SigPath(p)
	}
	if name, version, ok := tree.PackVersionOf(p); ok {
		data.Pack = name + "@" + version
	}
	var buf bytes.Buffer
	if err := leftOutPage.Execute(&buf, data); err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// openRegular opens a regular file in root, looking at the type before
// the open and opening without blocking, as ServeHTTP does.
func openRegular(root *os.Root, name string) (*os.File, error) {
	if fi, err := root.Stat(filepath.FromSlash(name)); err != nil || !fi.Mode().IsRegular() {
		return nil, os.ErrNotExist
	}
	f, err := root.OpenFile(filepath.FromSlash(name), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, os.ErrNotExist
	}
	return f, nil
}
