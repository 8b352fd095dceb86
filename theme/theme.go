// Package theme holds the site's templates and static assets, embedded in
// the binary. A site may overlay its own theme directory: a file there with
// the same relative name (templates/pack.html, assets/style.css) replaces
// the embedded one, and new assets are added.
package theme

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	texttemplate "text/template"
)

//go:embed templates assets
var embedded embed.FS

// Theme is the embedded theme with an optional overlay directory.
type Theme struct {
	overlay fs.FS  // nil without an overlay; lists its files
	dir     string // the overlay's directory
	open    Opener
}

// Opener opens a file to read. A build passes its key guard's, which
// refuses the signing key; nil means os.Open.
type Opener func(name string) (io.ReadCloser, error)

// New returns the theme, overlaid by dir when dir is not empty. Overlay
// files are read through open.
func New(dir string, open Opener) (*Theme, error) {
	if open == nil {
		open = func(name string) (io.ReadCloser, error) { return os.Open(name) }
	}
	t := &Theme{dir: dir, open: open}
	if dir != "" {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("theme %s: not a directory; fix the theme setting or remove it to use the embedded theme", dir)
		}
		t.overlay = os.DirFS(dir)
	}
	return t, nil
}

// ReadFile returns a theme file, preferring the overlay.
func (t *Theme) ReadFile(name string) ([]byte, error) {
	if t.overlay != nil {
		b, err := t.readOverlay(name)
		if !errors.Is(err, fs.ErrNotExist) {
			return b, err // found, or there and refused: never the embedded file instead
		}
	}
	return embedded.ReadFile(name)
}

func (t *Theme) readOverlay(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, fs.ErrNotExist
	}
	f, err := t.open(filepath.Join(t.dir, filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// list returns the names of files under dir in the embedded theme and the
// overlay, sorted.
func (t *Theme) list(dir string) ([]string, error) {
	seen := map[string]bool{}
	for _, fsys := range []fs.FS{embedded, t.overlay} {
		if fsys == nil {
			continue
		}
		err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == dir && fsys == t.overlay {
					return fs.SkipDir // an overlay need not have every folder
				}
				return err
			}
			if d.IsDir() && p != dir && strings.HasPrefix(d.Name(), ".") {
				return t.dotFolder(dir, p)
			}
			if !d.IsDir() && !strings.HasPrefix(path.Base(p), ".") {
				seen[p] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// dotFolder refuses an asset folder like .well-known: publish, serve and
// verify take dot paths for their own bookkeeping, so a published one would
// break every later publish and verify. Other dot folders are skipped.
func (t *Theme) dotFolder(dir, p string) error {
	if dir != "assets" {
		return fs.SkipDir
	}
	return fmt.Errorf("theme asset folder %s: a folder starting with '.' cannot be published (publish, serve and verify keep their own files in dot folders); rename it or move its files",
		filepath.Join(t.dir, filepath.FromSlash(p)))
}

// HTML parses every templates/*.html into one template set.
func (t *Theme) HTML(funcs htmltemplate.FuncMap) (*htmltemplate.Template, error) {
	names, err := t.list("templates")
	if err != nil {
		return nil, err
	}
	set := htmltemplate.New("").Funcs(funcs)
	for _, n := range names {
		if !strings.HasSuffix(n, ".html") {
			continue
		}
		b, err := t.ReadFile(n)
		if err != nil {
			return nil, err
		}
		if _, err := set.New(path.Base(n)).Parse(string(b)); err != nil {
			return nil, fmt.Errorf("theme: %w", err)
		}
	}
	return set, nil
}

// Text parses one plain-text template (scripts), such as templates/verify-signatures.sh.
func (t *Theme) Text(name string) (*texttemplate.Template, error) {
	b, err := t.ReadFile("templates/" + name)
	if err != nil {
		return nil, err
	}
	tpl, err := texttemplate.New(name).Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("theme: %w", err)
	}
	return tpl, nil
}

// Asset is a static file copied to the output under assets/.
type Asset struct {
	Path string // e.g. assets/style.css
	Data []byte
}

// Assets returns every file under assets/.
func (t *Theme) Assets() ([]Asset, error) {
	names, err := t.list("assets")
	if err != nil {
		return nil, err
	}
	out := make([]Asset, 0, len(names))
	for _, n := range names {
		b, err := t.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, Asset{Path: n, Data: b})
	}
	return out, nil
}
