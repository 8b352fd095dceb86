package publish

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/packstudio/packstudio/internal/atomicfile"
)

// StateDir holds a mirror's bookkeeping inside its destination: the state
// file and partial downloads. It is a dot-folder, so that verify, serve and
// publish leave it out of the tree.
const StateDir = ".packstudio-mirror"

// MirrorState is what a destination remembers of the mirrors into it.
type MirrorState struct {
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

// ReadMirrorState returns the state of a destination, or nil if it has none.
func ReadMirrorState(dest string) (*MirrorState, error) {
	data, err := os.ReadFile(statePath(dest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st MirrorState
	if err := json.Unmarshal(data, &st); err != nil || st.KeyID != "" && len(st.KeyID) != 64 {
		return nil, errors.New(statePath(dest) + ": damaged mirror state; remove it to start over")
	}
	return &st, nil
}

// WriteMirrorState saves the state atomically.
func WriteMirrorState(dest string, st *MirrorState) error {
	data, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dest, StateDir), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(statePath(dest), append(data, '\n'), 0o644)
}
