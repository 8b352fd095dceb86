package mirror

import (
	"path"
	"path/filepath"
	"strings"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/tree"
)

// notesLeftOut reports whether a mirror of m with filter f writes its own
// mirror note: a partial mirror of a site whose pages load one. A full
// mirror keeps the build's (and fetches it back over an earlier partial
// mirror's note, whose bytes differ from the manifest's).
func notesLeftOut(m *tree.Manifest, f *Filter) bool {
	if f.Empty() {
		return false
	}
	_, ok := m.Index()[tree.MirrorNotePath]
	return ok
}

// Note returns the mirror note that says what a partial mirror of
// source with filter f left out (the paths of leftOut), so that pages
// mark those versions and serve explains a request for one. Only an
// http(s) source is named; a filter that cannot be shown as plain flags
// is left out of the note rather than failing the mirror.
func Note(source string, f *Filter, leftOut []string) ([]byte, error) {
	n := tree.MirrorNote{Source: tree.PublicSource(source), Filter: noteFilter(f), LeftOut: leftOut}
	data, err := n.Render()
	if err != nil && n.Filter != "" {
		n.Filter = ""
		data, err = n.Render()
	}
	return data, err
}

// noteFilter is the filter as the flags that repeat it; a bundle is named
// by the file name the bundle builder saves it under.
func noteFilter(f *Filter) string {
	if f.Empty() {
		return ""
	}
	g := *f
	if g.Bundle != nil {
		b := *g.Bundle
		b.File = path.Base(filepath.ToSlash(b.File))
		if strings.ContainsAny(b.File, " \"'") {
			b.File = "bundle.json"
		}
		g.Bundle = &b
	}
	return g.String()
}

// writeNote puts the note for leftOut in place, through dest's root.
func (mr *mirrorer) writeNote(leftOut []string) error {
	data, err := Note(mr.o.SourceName, mr.o.Filter, leftOut)
	if err != nil {
		return err
	}
	if err := mr.root.MkdirAll(filepath.FromSlash(path.Dir(tree.MirrorNotePath)), 0o755); err != nil {
		return unplaceable(mr.dest, err)
	}
	f, err := atomicfile.CreateIn(mr.root, filepath.Join(StateDir, "partial"), filepath.FromSlash(tree.MirrorNotePath))
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit(0o644)
}
