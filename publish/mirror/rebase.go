package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sync"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/internal/workers"
)

// Rebase points every URL list (urls.txt) of the tree in dir at a new base
// URL, so that `curl … | xargs curl` against a re-hosted copy fetches from
// it. The manifest is unchanged; the new base is kept in the mirror state,
// through which verify maps the lists back. It returns the lists rewritten.
func Rebase(dir, newBase string) (int, error) {
	r, err := RebaseWith(dir, newBase, RebaseOptions{})
	return r.Rewritten, err
}

// RebaseOptions tune RebaseWith.
type RebaseOptions struct {
	Jobs     int // lists read and rewritten at once; default 8
	Progress func(tree.Progress)
}

// RebaseResult is what a rebase did.
type RebaseResult struct {
	Lists     int // URL lists the tree holds (a partial mirror need not hold every one)
	Rewritten int // of which were rewritten; the others already named the new base
}

// RebaseWith is Rebase with progress: a site has a URL list per browse
// combination, thousands of them, each written through a synced rename.
func RebaseWith(dir, newBase string, o RebaseOptions) (RebaseResult, error) {
	var res RebaseResult
	base, err := tree.CheckBaseURL(newBase)
	if err != nil {
		return res, &tree.TargetError{Target: fmt.Sprintf("%q", newBase), Reason: err.Error()}
	}
	newBase = base
	data, err := os.ReadFile(filepath.Join(dir, tree.ManifestName))
	if err != nil {
		return res, &tree.TargetError{Target: dir, Reason: "no manifest.json: not a built tree or mirror"}
	}
	m, err := tree.Parse(data)
	if err != nil {
		return res, err
	}
	st, err := ReadState(dir)
	if err != nil {
		return res, err
	}
	if st == nil {
		st = &State{Version: m.Version, ManifestSHA256: tree.Digest(data), KeyID: m.KeyID}
	}
	current := m.BaseURL
	if st.BaseURL != "" {
		current = st.BaseURL
	}
	var lists []string
	for _, o := range m.Objects {
		if path.Base(o.Path) == tree.URLList {
			lists = append(lists, o.Path)
		}
	}
	if o.Jobs <= 0 {
		o.Jobs = 8
	}
	var (
		mu         sync.Mutex
		done, held int
	)
	if o.Progress != nil {
		o.Progress(tree.Progress{Phase: "rebase", Total: len(lists)})
	}
	err = workers.Each(context.Background(), o.Jobs, len(lists), func(i int) error {
		rewritten, found, err := rebaseList(dir, lists[i], current, newBase)
		mu.Lock()
		defer mu.Unlock()
		done++
		if found {
			held++
		}
		if rewritten {
			res.Rewritten++
		}
		if o.Progress != nil {
			o.Progress(tree.Progress{Phase: "rebase", Done: done, Total: len(lists)})
		}
		return err
	})
	res.Lists = held
	if err != nil {
		return res, err
	}
	st.BaseURL = newBase
	if newBase == m.BaseURL {
		st.BaseURL = ""
	}
	return res, WriteState(dir, st)
}

// rebaseList rewrites one URL list from the base current to newBase; a
// list the tree does not hold is not found.
func rebaseList(dir, p, current, newBase string) (rewritten, found bool, err error) {
	file := filepath.Join(dir, filepath.FromSlash(p))
	list, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return false, false, nil // a partial mirror need not hold every list
	}
	if err != nil {
		return false, false, err
	}
	out, err := tree.ReplaceBase(list, current, newBase)
	if err != nil {
		return false, true, fmt.Errorf("%s: %w", p, err)
	}
	if bytes.Equal(out, list) {
		return false, true, nil
	}
	return true, true, atomicfile.Write(file, out, 0o644)
}
