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
	"io/fs"
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
	files   Files
}

// Files is how the overlay is read: io/fs's interfaces over OS paths. A
// build passes the one way it reads its inputs, which refuses the signing
// key and records every read; nothing here reads any other way.
type Files interface {
	fs.ReadDirFS
	fs.StatFS
}

// New returns the theme, overlaid by dir when dir is not empty. Overlay
// files and folders are read through files.
func New(dir string, files Files) (*Theme, error) {
	t := &Theme{dir: dir, files: files}
	if dir != "" {
		fi, err := files.Stat(dir)
		if err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("theme %s: not a directory; fix the theme setting or remove it to use the embedded theme", dir)
		}
		t.overlay = under{files, dir}
	}
	return t, nil
}

// under is the folder dir of files as an fs.FS of slash paths, for walking.
type under struct {
	files Files
	dir   string
}

func (u under) path(name string) string { return filepath.Join(u.dir, filepath.FromSlash(name)) }

func (u under) Open(name string) (fs.File, error)          { return u.files.Open(u.path(name)) }
func (u under) ReadDir(name string) ([]fs.DirEntry, error) { return u.files.ReadDir(u.path(name)) }
func (u under) Stat(name string) (fs.FileInfo, error)      { return u.files.Stat(u.path(name)) }

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
	return fs.ReadFile(t.files, filepath.Join(t.dir, filepath.FromSlash(name)))
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
