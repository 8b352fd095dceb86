package mirror

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
)

// StateDir holds a mirror's bookkeeping inside its destination: the state
// file, a copy of the last manifest mirrored completely and partial
// downloads. It is a dot-folder, so that verify, serve and publish leave it
// out of the tree, and no manifest may name a path in it.
const StateDir = ".packstudio-mirror"

// State is what a destination remembers of the mirrors into it.
type State struct {
	// Version and ManifestSHA256 are those of the last manifest mirrored
	// completely: a lower version is a rollback and is refused.
	Version        int64  `json:"version"`
	ManifestSHA256 string `json:"manifest_sha256"`
	// KeyID pins the publisher's key: later mirrors must verify with it.
	KeyID  string `json:"key_id"`
	Source string `json:"source"`
	// Filter and LeftOut describe a partial mirror: the artifacts the
	// filter left out by choice, which verify reports but does not fail.
	Filter  *Filter  `json:"filter,omitempty"`
	LeftOut []string `json:"left_out,omitempty"`
	// BaseURL is the base the URL lists were rebased to, when they were.
	BaseURL string `json:"base_url,omitempty"`
}

func statePath(dest string) string { return filepath.Join(dest, StateDir, "state.json") }

// keptManifestPath is where the state keeps the manifest it names: the
// list of what the last mirror wrote, which is all a later prune may remove.
func keptManifestPath(dest, sha string) string {
	return filepath.Join(dest, StateDir, "manifest-"+sha+".json")
}

// ReadState returns the state of a destination, or nil if it has none.
func ReadState(dest string) (*State, error) {
	data, err := os.ReadFile(statePath(dest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil || !digestOrEmpty(st.KeyID) || !digestOrEmpty(st.ManifestSHA256) {
		return nil, errors.New(statePath(dest) + ": damaged mirror state; remove it to start over")
	}
	return &st, nil
}

// digestOrEmpty reports whether s is empty or 64 lower-case hex digits (a
// state's digests name files: nothing else may get into a path).
func digestOrEmpty(s string) bool {
	if s == "" {
		return true
	}
	_, err := hex.DecodeString(s)
	return err == nil && len(s) == 64 && strings.ToLower(s) == s
}

// WriteState saves the state atomically.
func WriteState(dest string, st *State) error {
	data, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dest, StateDir), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(statePath(dest), append(data, '\n'), 0o644)
}

// commitState records a completed mirror or unpack of the manifest raw:
// first a copy of the manifest, then the state naming it, then the copy
// of the one before goes. A kill at any point leaves a state whose
// manifest copy is there.
func commitState(dest string, st *State, raw []byte, old *State) error {
	if err := os.MkdirAll(filepath.Join(dest, StateDir), 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(keptManifestPath(dest, st.ManifestSHA256), raw, 0o644); err != nil {
		return err
	}
	if err := WriteState(dest, st); err != nil {
		return err
	}
	if old != nil && old.ManifestSHA256 != "" && old.ManifestSHA256 != st.ManifestSHA256 {
		os.Remove(keptManifestPath(dest, old.ManifestSHA256))
	}
	return nil
}

// checkAgainstState refuses a manifest that would roll dest back or mix
// publishers: signed by another key than the one pinned, older than the
// version recorded, or the same version with other bytes. Mirror and
// unpack both call it before they write anything.
func checkAgainstState(m *tree.Manifest, raw []byte, key *sign.Verifier, state *State) error {
	if state == nil {
		return nil
	}
	if state.KeyID != "" && state.KeyID != key.KeyID() {
		return &TrustError{Reason: fmt.Sprintf("the destination was mirrored with key %s, not %s; refusing to mix publishers; nothing was written", sign.ShortKeyID(state.KeyID), sign.ShortKeyID(key.KeyID()))}
	}
	switch {
	case m.Version < state.Version:
		return &TrustError{Reason: fmt.Sprintf("rollback: the source's manifest is version %d, older than version %d already mirrored here; nothing was written", m.Version, state.Version)}
	case m.Version == state.Version && tree.Digest(raw) != state.ManifestSHA256:
		return &TrustError{Reason: fmt.Sprintf("the source's manifest version %d differs from the version %d already mirrored here; nothing was written", m.Version, state.Version)}
	}
	return nil
}

// checkAdoptable refuses to mirror or unpack (verb) into a folder that
// holds files but no mirror state: it is someone's folder (a home directory, a checkout), not
// a mirror, unless force says to adopt it.
func checkAdoptable(dest string, force bool, verb string) error {
	if force {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dest, StateDir)); err == nil {
		return nil // a mirror, perhaps one whose first run was cut short
	}
	entries, err := os.ReadDir(dest)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(entries) == 0 {
		return nil
	}
	if err != nil {
		return &tree.TargetError{Target: dest, Reason: err.Error()}
	}
	return &tree.TargetError{Target: dest, Reason: fmt.Sprintf("holds %d entries (%s…) but is not a packstudio mirror (no %s/); "+
		"%s into an empty or new folder, or pass --force to adopt this one: files the manifest lists are replaced, nothing else is ever deleted",
		len(entries), entries[0].Name(), StateDir, verb)}
}

// previousObjects returns the paths that the last complete mirror or
// unpack into dest put there: the objects of the manifest the state names,
// less what a partial mirror left out. Only these may be pruned. nil when
// that manifest is gone (keptManifest).
func previousObjects(dest string, state *State) map[string]bool {
	m := keptManifest(dest, state)
	if m == nil {
		return nil
	}
	left := PathSet(state.LeftOut)
	owned := make(map[string]bool, len(m.Objects))
	for _, o := range m.Objects {
		if !left[o.Path] {
			owned[o.Path] = true
		}
	}
	return owned
}

// keptManifest returns the manifest the state names: the state's own
// copy, or else dest's manifest.json when its digest is the one the state
// recorded (a state written before copies were kept); nil when neither is
// there.
func keptManifest(dest string, state *State) *tree.Manifest {
	if state == nil || state.ManifestSHA256 == "" {
		return nil
	}
	for _, p := range []string{keptManifestPath(dest, state.ManifestSHA256), filepath.Join(dest, tree.ManifestName)} {
		raw, err := os.ReadFile(p)
		if err != nil || tree.Digest(raw) != state.ManifestSHA256 {
			continue
		}
		if m, err := tree.Parse(raw); err == nil {
			return m
		}
	}
	return nil
}

// removeOwned removes the files at paths (slash paths under root, each
// one that a mirror or unpack wrote) and then the folders they leave
// empty, and returns the paths it removed; one already gone is skipped.
func removeOwned(root *os.Root, paths []string) ([]string, error) {
	var removed []string
	dirs := map[string]bool{}
	for _, f := range paths {
		err := root.Remove(filepath.FromSlash(f))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return removed, err
		}
		removed = append(removed, f)
		for d := path.Dir(f); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	// Reverse order puts every folder before its parent.
	list := sortedKeys(dirs)
	for i := len(list) - 1; i >= 0; i-- {
		root.Remove(filepath.FromSlash(list[i])) // only succeeds when empty
	}
	sort.Strings(removed)
	return removed, nil
}

// PathSet is the set of the paths in list, as verify and prune look
// objects up.
func PathSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, p := range list {
		m[p] = true
	}
	return m
}
