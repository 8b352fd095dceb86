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

// Unpack rebuilds a tree in dest from one whole set of volumes, given in
// any order. Every volume's manifest, index and tar headers are read
// first: a duplicate, a missing volume, volumes of two runs or two
// manifests, or a truncated volume is refused before dest is created or
// touched. Then whole objects are checked against the manifest before
// they take their place, parts are joined and then checked, and the
// manifest goes in last. It returns the manifest and the objects of the
// manifest that the set does not hold (a partial mirror's).
func Unpack(volumes []string, dest string, key *sign.Verifier, o UnpackOptions) (*tree.Manifest, []string, error) {
	state, err := ReadState(dest)
	if err != nil {
		return nil, nil, err
	}
	if err := checkAdoptable(dest, o.Force, "unpack"); err != nil {
		return nil, nil, err
	}
	now, allowExpired := o.Now, o.AllowExpired
	if now.IsZero() {
		now = time.Now()
	}
	set, err := scanVolumes(volumes, key, now, allowExpired)
	if err != nil {
		return nil, nil, err
	}
	// The same rules as a mirror into dest: same key, no older manifest,
	// no other one of the same version.
	if err := checkAgainstState(set.manifest, set.raw, key, state); err != nil {
		return set.manifest, nil, fmt.Errorf("%s: %w", set.volumes[0], err)
	}
	if err := os.MkdirAll(filepath.Join(dest, StateDir, "parts"), 0o755); err != nil {
		return set.manifest, nil, err
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return set.manifest, nil, err
	}
	defer root.Close()
	u := &unpacker{dest: dest, key: key, state: state, root: root, set: set, objects: set.manifest.Index(), got: map[string]bool{}, parts: map[string]int64{}}
	for _, v := range set.volumes {
		err := readVolume(v, key, now, allowExpired,
			func(h *volumeHead) error { return u.same(v, h) },
			func(e VolumeEntry, r io.Reader) error { return u.entry(v, e, r) })
		if err != nil {
			return set.manifest, nil, err
		}
	}
	if err := u.joinParts(); err != nil {
		return set.manifest, nil, err
	}
	return set.manifest, u.missing(), u.commit()
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

// missing lists the manifest's objects that the set did not hold.
func (u *unpacker) missing() []string {
	var missing []string
	for _, o := range u.set.manifest.Objects {
		if !u.got[o.Path] {
			missing = append(missing, o.Path)
		}
	}
	return missing
}

// commit flushes the objects, writes the manifest last and records the
// unpack like a mirror, so that a later unpack or mirror into dest refuses
// to roll it back and keeps the key.
func (u *unpacker) commit() error {
	if err := atomicfile.SyncFS(u.dest); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(u.dest, tree.ManifestSigName), u.set.sig, 0o644); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(u.dest, tree.ManifestName), u.set.raw, 0o644); err != nil {
		return err
	}
	st := &State{Version: u.set.manifest.Version, ManifestSHA256: tree.Digest(u.set.raw), KeyID: u.key.KeyID(), Source: "volumes"}
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
