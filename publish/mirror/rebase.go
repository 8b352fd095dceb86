package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/tree"
)

// Rebase points every URL list (urls.txt) of the tree in dir at a new base
// URL, so that `curl … | xargs curl` against a re-hosted copy fetches from
// it. The manifest is unchanged; the new base is kept in the mirror state,
// through which verify maps the lists back. It returns the lists rewritten.
func Rebase(dir, newBase string) (int, error) {
	base, err := tree.CheckBaseURL(newBase)
	if err != nil {
		return 0, &tree.TargetError{Target: fmt.Sprintf("%q", newBase), Reason: err.Error()}
	}
	newBase = base
	data, err := os.ReadFile(filepath.Join(dir, tree.ManifestName))
	if err != nil {
		return 0, &tree.TargetError{Target: dir, Reason: "no manifest.json: not a built tree or mirror"}
	}
	m, err := tree.Parse(data)
	if err != nil {
		return 0, err
	}
	st, err := ReadState(dir)
	if err != nil {
		return 0, err
	}
	if st == nil {
		st = &State{Version: m.Version, ManifestSHA256: tree.Digest(data), KeyID: m.KeyID}
	}
	current := m.BaseURL
	if st.BaseURL != "" {
		current = st.BaseURL
	}
	n := 0
	for _, o := range m.Objects {
		if path.Base(o.Path) != "urls.txt" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(o.Path))
		list, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue // a partial mirror need not hold every list
		}
		if err != nil {
			return n, err
		}
		out, err := tree.ReplaceBase(list, current, newBase)
		if err != nil {
			return n, fmt.Errorf("%s: %w", o.Path, err)
		}
		if !bytes.Equal(out, list) {
			if err := atomicfile.Write(p, out, 0o644); err != nil {
				return n, err
			}
			n++
		}
	}
	st.BaseURL = newBase
	if newBase == m.BaseURL {
		st.BaseURL = ""
	}
	return n, WriteState(dir, st)
}
