package mirror

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
)

// UnpackOptions tune Unpack.
type UnpackOptions struct {
	Now          time.Time // default time.Now()
	AllowExpired bool      // accept an expired manifest
	// Force adopts a DEST that holds files but is not a mirror: files the
	// manifest lists are replaced, nothing else is touched.
	Force bool
}

// Unpack is UnpackSet, returning the manifest restored and the objects of
// it that the set did not hold (a partial mirror's).
func Unpack(volumes []string, dest string, key *sign.Verifier, o UnpackOptions) (*tree.Manifest, []string, error) {
	res, err := UnpackSet(volumes, dest, key, o)
	return res.Manifest, res.Missing, err
}

// Unpacked is what UnpackSet did.
type Unpacked struct {
	// Manifest is the manifest the set carries; nil when the set was
	// refused before one was read.
	Manifest *tree.Manifest
	// Missing are the objects of the manifest that dest does not hold: on
	// no volume of the set (a partial mirror's), nor, for a delta, kept
	// unchanged from the base.
	Missing []string
	// Base is the base of a delta set; nil for a full one.
	Base *VolumeBase
	// Placed is the number of objects placed; Removed the objects of the
	// base that the delta's manifest dropped (or changed without carrying).
	Placed  int
	Removed []string
	// AlreadyApplied says dest held the set's manifest already (a delta
	// unpacked twice): nothing was written.
	AlreadyApplied bool
}

// UnpackSet rebuilds a tree in dest from one whole set of volumes, given
// in any order. Every volume's manifest, index and tar headers are read
// first: a duplicate, a missing volume, volumes of two runs or two
// manifests, or a truncated volume is refused before dest is created or
// touched; so is a delta set unless dest's state holds exactly its base.
// Then whole objects are checked against the manifest before they take
// their place, parts are joined and then checked; a delta then removes
// what the base listed and its manifest no longer does; the manifest goes
// in last, and the state after it. A run cut short is run again: objects
// land by content and the state, which a delta checks, commits last.
func UnpackSet(volumes []string, dest string, key *sign.Verifier, o UnpackOptions) (*Unpacked, error) {
	res := &Unpacked{}
	state, err := ReadState(dest)
	if err != nil {
		return res, err
	}
	if err := checkAdoptable(dest, o.Force, "unpack"); err != nil {
		return res, err
	}
	now, allowExpired := o.Now, o.AllowExpired
	if now.IsZero() {
		now = time.Now()
	}
	set, err := scanVolumes(volumes, key, now, allowExpired)
	if err != nil {
		return res, err
	}
	res.Manifest, res.Base = set.manifest, set.base
	var base *tree.Manifest
	if set.base != nil && !(state != nil && state.ManifestSHA256 == tree.Digest(set.raw)) {
		// Named first: what a delta needs says more than a rollback.
		if base, err = deltaBase(dest, set, state); err != nil {
			return res, err
		}
	}
	// The same rules as a mirror into dest: same key, no older manifest,
	// no other one of the same version.
	if err := checkAgainstState(set.manifest, set.raw, key, state); err != nil {
		return res, fmt.Errorf("%s: %w", set.volumes[0], err)
	}
	if set.base != nil && base == nil { // dest holds the delta's manifest
		res.AlreadyApplied, res.Missing = true, state.LeftOut
		return res, nil
	}
	if err := os.MkdirAll(filepath.Join(dest, StateDir, "parts"), 0o755); err != nil {
		return res, err
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return res, err
	}
	defer root.Close()
	u := &unpacker{dest: dest, key: key, state: state, root: root, set: set, objects: set.manifest.Index(), got: map[string]bool{}, parts: map[string]int64{}}
	for _, v := range set.volumes {
		err := readVolume(v, key, now, allowExpired,
			func(h *volumeHead) error { return u.same(v, h) },
			func(e VolumeEntry, r io.Reader) error { return u.entry(v, e, r) })
		if err != nil {
			return res, err
		}
	}
	if err := u.joinParts(); err != nil {
		return res, err
	}
	res.Placed = len(u.got)
	if base != nil {
		if res.Removed, err = u.dropStale(base); err != nil {
			return res, err
		}
		if err := u.rebasePlaced(); err != nil {
			return res, err
		}
	}
	res.Missing = u.missing(base)
	if res.Missing, err = noteUnpacked(root, set.manifest, res.Missing); err != nil {
		return res, err
	}
	return res, u.commit(res.Missing)
}

// deltaBase checks that dest's state holds exactly the base of the delta
// set and returns that manifest, as dest keeps it.
func deltaBase(dest string, set *volumeSet, state *State) (*tree.Manifest, error) {
	delta := fmt.Sprintf("%s is a delta from %s to %s", set.volumes[0], set.base, manifestOf(set.manifest, set.raw))
	redo := "make a delta --since the manifest DEST holds (packstudio mirror-state DEST --out FILE, carried back), or a full set (mirror --volumes without --since); nothing was written"
	if state == nil || state.ManifestSHA256 == "" {
		return nil, fmt.Errorf("%s, but %s holds no mirror: unpack the full set first, then the deltas in order; or %s", delta, dest, redo)
	}
	held := (&VolumeBase{Version: state.Version, ManifestSHA256: state.ManifestSHA256}).String()
	if state.ManifestSHA256 != set.base.ManifestSHA256 {
		var why string
		switch {
		case state.Version < set.base.Version:
			why = "DEST is behind the delta's base: unpack the deltas before this one first, in order; or "
		case state.Version > set.base.Version:
			why = "DEST is past the delta's base; "
		default:
			why = "the two are of one version but differ: another site or another build; "
		}
		return nil, fmt.Errorf("%s, but %s holds %s: %s%s", delta, dest, held, why, redo)
	}
	base := keptManifest(dest, state)
	if base == nil {
		return nil, fmt.Errorf("%s: %s holds it by its state, but its copy of that manifest is gone from %s: unpack a full set", delta, dest, StateDir)
	}
	return base, nil
}

// manifestOf names a manifest like manifestName.
func manifestOf(m *tree.Manifest, raw []byte) string {
	return fmt.Sprintf("manifest version %d (sha256 %s)", m.Version, short(tree.Digest(raw)))
}

// unpacker is an unpack under way: the set being unpacked and what of it
// is in place so far.
type unpacker struct {
	dest    string
	key     *sign.Verifier
	state   *State   // dest's state before the unpack
	root    *os.Root // dest
	set     *volumeSet
	objects map[string]tree.Object
	got     map[string]bool  // objects in place
	parts   map[string]int64 // bytes of split objects seen
}

// same refuses a volume that is no longer the one scanned: it changed on
// the media between the check of the set and the unpack.
func (u *unpacker) same(v string, h *volumeHead) error {
	if h.index.Set != u.set.digest || tree.Digest(h.raw) != tree.Digest(u.set.raw) {
		return fmt.Errorf("%s changed while it was unpacked; copy the set again from the media, and unpack again", v)
	}
	return nil
}

// entry places a whole object once verified, or writes a part at its
// offset in the object's scratch file, to be joined and verified later.
func (u *unpacker) entry(v string, e VolumeEntry, r io.Reader) error {
	obj, ok := u.objects[e.Path]
	if !ok {
		return fmt.Errorf("%s: %s is not in the manifest", v, e.Path)
	}
	if e.Whole {
		if err := placeVerified(u.root, obj, r); err != nil {
			return fmt.Errorf("%s: %w", v, err)
		}
		u.got[e.Path] = true
		return nil
	}
	f, err := u.root.OpenFile(partName(obj), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(e.Offset, io.SeekStart); err != nil {
		return err
	}
	n, err := io.Copy(f, r)
	u.parts[e.Path] += n
	return err
}

// partName is where the parts of a split object are joined.
func partName(obj tree.Object) string {
	return filepath.Join(StateDir, "parts", scratchName(obj))
}

// joinParts places every split object whose parts were all given, once
// the joined bytes match the manifest.
func (u *unpacker) joinParts() error {
	for p, n := range u.parts {
		obj := u.objects[p]
		if n != obj.Size { // checkSet saw every part: the volumes changed since
			return fmt.Errorf("%s: the volumes held %d of its %d bytes; copy the set again from the media", p, n, obj.Size)
		}
		f, err := u.root.Open(partName(obj))
		if err != nil {
			return err
		}
		err = placeVerified(u.root, obj, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s, joined from its parts: %w", p, err)
		}
		u.root.Remove(partName(obj))
		u.got[p] = true
	}
	return nil
}

// missing lists the manifest's objects that dest does not hold: those the
// set did not hold and, for a delta, that dest did not keep unchanged
// from the base.
func (u *unpacker) missing(base *tree.Manifest) []string {
	var kept map[string]tree.Object
	var owned map[string]bool
	if base != nil {
		kept, owned = base.Index(), previousObjects(u.dest, u.state)
	}
	var missing []string
	for _, o := range u.set.manifest.Objects {
		if u.got[o.Path] {
			continue
		}
		if old, ok := kept[o.Path]; ok && owned[o.Path] && old.Size == o.Size && old.SHA256 == o.SHA256 {
			continue
		}
		missing = append(missing, o.Path)
	}
	return missing
}

// dropStale removes what the base put in dest that the delta's manifest
// no longer holds as it was: objects it dropped, and objects it changed
// that the delta did not carry (a partial stage's). Nothing the base did
// not list is touched.
func (u *unpacker) dropStale(base *tree.Manifest) ([]string, error) {
	old := base.Index()
	var stale []string
	for p := range previousObjects(u.dest, u.state) {
		o, ok := u.objects[p]
		if !ok || !u.got[p] && (o.Size != old[p].Size || o.SHA256 != old[p].SHA256) {
			stale = append(stale, p)
		}
	}
	return removeOwned(u.root, stale)
}

// rebasePlaced points the URL lists a delta placed at the base URL that
// dest's lists were rebased to, as the lists it kept are.
func (u *unpacker) rebasePlaced() error {
	if u.state.BaseURL == "" {
		return nil
	}
	for p := range u.got {
		if path.Base(p) != tree.URLList {
			continue
		}
		list, err := u.root.ReadFile(filepath.FromSlash(p))
		if err != nil {
			return err
		}
		out, err := tree.ReplaceBase(list, u.set.manifest.BaseURL, u.state.BaseURL)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := u.root.WriteFile(filepath.FromSlash(p), out, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// commit flushes the objects, writes the manifest last and records the
// unpack like a mirror, so that a later unpack or mirror into dest refuses
// to roll it back and keeps the key; missing are the objects dest lacks,
// which verify reports as left out. A delta keeps the filter and base URL
// of the mirror it applied to.
func (u *unpacker) commit(missing []string) error {
	if err := atomicfile.SyncFS(u.dest); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(u.dest, tree.ManifestSigName), u.set.sig, 0o644); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(u.dest, tree.ManifestName), u.set.raw, 0o644); err != nil {
		return err
	}
	st := &State{Version: u.set.manifest.Version, ManifestSHA256: tree.Digest(u.set.raw), KeyID: u.key.KeyID(), Source: "volumes", LeftOut: missing}
	if u.set.base != nil {
		st.Filter, st.BaseURL = u.state.Filter, u.state.BaseURL
	}
	return commitState(u.dest, st, u.set.raw, u.state)
}

// placeVerified copies r to a temp file in root, checks it against obj and
// renames it to obj's path.
func placeVerified(root *os.Root, obj tree.Object, r io.Reader) error {
	tmp := filepath.Join(StateDir, "tmp-"+scratchName(obj))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	h := sha256.New()
	// Synced all at once with the filesystem before the manifest goes in.
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, obj.Size+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && (n != obj.Size || hex.EncodeToString(h.Sum(nil)) != obj.SHA256) {
		err = fmt.Errorf("%s does not match the manifest", obj.Path)
	}
	if err != nil {
		root.Remove(tmp)
		return err
	}
	if dir := path.Dir(obj.Path); dir != "." {
		if err := root.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
			return err
		}
	}
	return root.Rename(tmp, filepath.FromSlash(obj.Path))
}
