package mirror

import (
	"os"
	"path"
	"path/filepath"
	"slices"
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
	return placeNote(mr.root, filepath.Join(StateDir, "partial"), data)
}

// placeNote writes a mirror note's bytes at tree.MirrorNotePath in root,
// its temp file in tmpDir.
func placeNote(root *os.Root, tmpDir string, data []byte) error {
	f, err := atomicfile.CreateIn(root, tmpDir, filepath.FromSlash(tree.MirrorNotePath))
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit(0o644)
}

// noteUnpacked writes the note of a partial tree rebuilt from volumes: a
// partial mirror's own note differs from the manifest's, so its volumes
// cannot carry it, and without one its pages would ask for a file that is
// not there. It names what the set left out (the artifacts among
// missing) and returns missing without the note. A tree whose manifest
// lists no note, or which holds it, is left alone.
func noteUnpacked(root *os.Root, m *tree.Manifest, missing []string) ([]string, error) {
	i := slices.Index(missing, tree.MirrorNotePath)
	if _, listed := m.Index()[tree.MirrorNotePath]; !listed || i < 0 {
		return missing, nil
	}
	var leftOut []string
	for _, p := range missing {
		if strings.HasPrefix(p, "artifacts/") {
			leftOut = append(leftOut, p)
		}
	}
	data, err := Note("", nil, leftOut)
	if err != nil {
		return missing, err
	}
	if err := root.MkdirAll(filepath.FromSlash(path.Dir(tree.MirrorNotePath)), 0o755); err != nil {
		return missing, err
	}
	if err := placeNote(root, StateDir, data); err != nil {
		return missing, err
	}
	return slices.Delete(slices.Clone(missing), i, i+1), nil
}
