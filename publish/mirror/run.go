package mirror

import (
	"context"
	"time"

	"github.com/packstudio/packstudio/internal/tree"
)

// Job is a whole mirror as the command asks for it: the key to trust, the
// mirror itself, and what becomes of the copy afterwards.
type Job struct {
	// Mirror tunes the mirror; its Prune is decided by Prune below.
	Mirror Options
	// KeyFile is the publisher's key (--key). Without it the key pinned in
	// dest is used, else the source's own, with a warning (see TrustedKey).
	KeyFile string
	// Prune, when set, says whether to prune (--prune); when nil, a full
	// mirror follows its source and a partial one keeps what earlier
	// filters brought.
	Prune *bool
	// BaseURL, when set, rebases the URL lists after the mirror (Rebase).
	BaseURL string
	// VolumesDir, when set, also writes the mirror as tar volumes of at
	// most VolumeSize bytes (WriteVolumes).
	VolumesDir string
	VolumeSize int64
	// Since, with VolumesDir, makes the volumes a delta against a base
	// (LoadBase): SinceLast, or a manifest.json the far side holds, whose
	// signature is SinceSig or beside it.
	Since, SinceSig string
}

// JobResult is what Run did, step by step: a step that did not run is
// left zero.
type JobResult struct {
	// KeyWarning is set when the key is the source's own: it proves
	// integrity, not who published the tree.
	KeyWarning string
	// Result is the mirror's; nil when it refused before reading a
	// manifest.
	*Result
	Elapsed  time.Duration // the mirror itself, without the steps after it
	Mirrored bool          // the mirror completed, manifest and state included
	// Rebased is the number of URL lists rebased to RebasedTo.
	Rebased   int
	RebasedTo string
	// Volumes are the volumes written, once all are; VolumeNotes say which
	// objects were split across volumes.
	Volumes     []string
	VolumeNotes []string
	// Set is the volume set written: sizes, and the base of a delta.
	Set *WrittenSet
}

// Run mirrors src into dest as j says: it chooses the key to trust, then
// mirrors, then rebases and writes volumes, stopping at the first step
// that fails.
func Run(ctx context.Context, src tree.Reader, dest string, j Job) (*JobResult, error) {
	if j.VolumesDir != "" {
		// A file there that the volumes would overwrite or sit beside,
		// found before the mirror rather than after it.
		if _, err := earlierVolumes(j.VolumesDir); err != nil {
			return nil, err
		}
	}
	key, warning, err := TrustedKey(ctx, src, KeyOptions{KeyFile: j.KeyFile, Dest: dest, MaxManifestSize: j.Mirror.MaxManifestSize, Stall: j.Mirror.Stall})
	if err != nil {
		return nil, err
	}
	var base *Base
	if j.Since != "" && j.VolumesDir == "" {
		return nil, &tree.TargetError{Target: j.Since, Reason: "is the base of delta volumes, but no volumes folder was given (--volumes DIR)"}
	}
	if j.Since != "" {
		// Checked before the mirror: a base that will not do is known now.
		if base, err = LoadBase(dest, j.Since, j.SinceSig, key); err != nil {
			return nil, err
		}
	}
	r := &JobResult{KeyWarning: warning}
	o := j.Mirror
	o.Prune = j.prunes()
	start := time.Now()
	r.Result, err = Mirror(ctx, src, key, dest, o)
	r.Elapsed = time.Since(start)
	if err != nil {
		return r, err
	}
	r.Mirrored = true
	if j.BaseURL != "" {
		rb, err := RebaseWith(dest, j.BaseURL, RebaseOptions{Jobs: o.Jobs, Progress: o.Progress})
		r.Rebased = rb.Rewritten
		if err != nil {
			return r, err
		}
		r.RebasedTo = j.BaseURL
	}
	if j.VolumesDir != "" {
		w, err := writeSet(dest, j.VolumesDir, j.VolumeSize, base)
		r.VolumeNotes = w.Notes
		if err != nil {
			return r, err
		}
		r.Volumes, r.Set = w.Paths, w
		if err := recordVolumes(dest, j.VolumesDir, w); err != nil {
			return r, err
		}
	}
	return r, nil
}

// prunes says whether the mirror removes what its manifest no longer
// wants: as asked, else for a full mirror only, so that a partial one
// keeps what earlier filters brought.
func (j Job) prunes() bool {
	if j.Prune != nil {
		return *j.Prune
	}
	return j.Mirror.Filter.Empty()
}
