package publish

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/publish/manifest"
)

// Rebase points every URL list (urls.txt) of the tree in dir at a new base
// URL, so that `curl … | xargs curl` against a re-hosted copy fetches from
// it. The manifest is unchanged; the new base is kept in the mirror state,
// through which verify maps the lists back. It returns the lists rewritten.
func Rebase(dir, newBase string) (int, error) {
	base, err := manifest.CheckBaseURL(newBase)
	if err != nil {
		return 0, &TargetError{Target: fmt.Sprintf("%q", newBase), Reason: err.Error()}
	}
	newBase = base
	data, err := os.ReadFile(filepath.Join(dir, manifest.Name))
	if err != nil {
		return 0, &TargetError{Target: dir, Reason: "no manifest.json: not a built tree or mirror"}
	}
	m, err := manifest.Parse(data)
	if err != nil {
		return 0, err
	}
	st, err := ReadMirrorState(dir)
	if err != nil {
		return 0, err
	}
	if st == nil {
		st = &MirrorState{Version: m.Version, ManifestSHA256: sum(data), KeyID: m.KeyID}
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
		out, err := replaceBase(list, current, newBase)
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
	return n, WriteMirrorState(dir, st)
}

// replaceBase swaps the base of every line; a line on another base is an
// error, not something to guess about.
func replaceBase(list []byte, from, to string) ([]byte, error) {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(list))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, from)
		if !ok {
			return nil, fmt.Errorf("line %q is not under %s", line, from)
		}
		out.WriteString(to + rest + "\n")
	}
	return out.Bytes(), sc.Err()
}
