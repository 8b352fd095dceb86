package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
)

// A delta set carries only the objects new or changed since a base: the
// signed manifest the far side of an air gap holds. Its indexes name the
// base, and unpack applies it only onto a mirror whose state holds
// exactly that manifest (see UnpackSet).

// SinceLast is the --since value naming the last manifest a stage wrote
// into volumes.
const SinceLast = "last"

// Base is the signed manifest a delta is made against.
type Base struct {
	Manifest *tree.Manifest
	SHA256   string
	Source   string // where it was read from, for messages
	objects  map[string]tree.Object
}

func newBase(m *tree.Manifest, raw []byte, source string) *Base {
	return &Base{Manifest: m, SHA256: tree.Digest(raw), Source: source, objects: m.Index()}
}

// String names the base and where it came from.
func (b *Base) String() string { return b.Source + " (" + b.volumeBase().String() + ")" }

func (b *Base) volumeBase() *VolumeBase {
	return &VolumeBase{Version: b.Manifest.Version, ManifestSHA256: b.SHA256}
}

// changed reports whether o is new or changed since the base.
func (b *Base) changed(o tree.Object) bool {
	old, ok := b.objects[o.Path]
	return !ok || old.Size != o.Size || old.SHA256 != o.SHA256
}

// checkBefore refuses a base that is not before the manifest m (digest
// sha) of the same site: the same manifest, a newer one, or another of
// the same version.
func (b *Base) checkBefore(m *tree.Manifest, sha string) error {
	switch {
	case b.SHA256 == sha:
		return fmt.Errorf("the base %s is the stage's own manifest: the far side holds it already, there is nothing to carry", b)
	case b.Manifest.Version > m.Version:
		return fmt.Errorf("the base %s is newer than the stage's manifest version %d (sha256 %s): mirror the stage first, or give the manifest the far side holds (packstudio mirror-state DEST --out FILE)", b, m.Version, short(sha))
	case b.Manifest.Version == m.Version:
		return fmt.Errorf("the base %s and the stage's manifest (sha256 %s) are both version %d but differ: they come from two sites or two builds; write a full set (drop --since)", b, short(sha), m.Version)
	}
	return nil
}

// LoadBase reads the base of a delta of the mirror in stage: since is
// SinceLast, the last manifest the stage wrote into volumes, or the path
// of a manifest.json whose signature is sigFile, or beside it by the
// naming rule. The manifest must verify with key; its expiry does not
// matter, since it only says what the far side holds.
func LoadBase(stage, since, sigFile string, key *sign.Verifier) (*Base, error) {
	rawPath, sigPath := since, sigFile
	if since == SinceLast {
		last, err := readLastVolumes(stage)
		if err != nil {
			return nil, err
		}
		rawPath, sigPath = lastVolumesCopy(stage, last.ManifestSHA256), ""
	}
	if sigPath == "" {
		sigPath = tree.SigPath(rawPath)
	}
	raw, err := readSmall(rawPath)
	if err != nil {
		return nil, &tree.TargetError{Target: rawPath, Reason: fmt.Sprintf("cannot be read as the base manifest (%v); give --since the manifest.json the far side holds (packstudio mirror-state DEST --out FILE), or %q", err, SinceLast)}
	}
	sig, err := readSmall(sigPath)
	if err != nil {
		return nil, &tree.TargetError{Target: sigPath, Reason: fmt.Sprintf("cannot be read as the signature of the base manifest %s (%v); carry it with the manifest, or name it with --since-sig", rawPath, err)}
	}
	m, err := tree.Open(raw, sig, key, tree.Policy{AllowExpired: true})
	var invalid *tree.InvalidError
	switch {
	case errors.As(err, &invalid):
		return nil, &tree.TargetError{Target: rawPath, Reason: fmt.Sprintf("is not a manifest: %v", err)}
	case err != nil:
		return nil, &TrustError{Reason: fmt.Sprintf("%s: the base manifest %v (key %s): it was altered, or comes from another site; give the manifest the far side holds, or write a full set (drop --since)", rawPath, err, sign.ShortKeyID(key.KeyID()))}
	}
	return newBase(m, raw, rawPath), nil
}

// readSmall reads a file of at most the largest manifest size.
func readSmall(p string) ([]byte, error) {
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	case fi.Size() > tree.DefaultMaxManifestSize:
		return nil, fmt.Errorf("%d bytes, larger than any manifest", fi.Size())
	}
	return os.ReadFile(p)
}

// WriteDelta writes the tree in dir as a delta set of volumes in outDir:
// only the objects new or changed since base, with the signed manifest
// and base named in every index. Otherwise it is WriteVolumes.
func WriteDelta(dir, outDir string, size int64, base *Base) (*WrittenSet, error) {
	return writeSet(dir, outDir, size, base)
}

// lastVolumes is what a stage records, in its state folder, of the last
// set it wrote into volumes, for --since last. The manifest and its
// signature are kept beside it (lastVolumesCopy).
type lastVolumes struct {
	Version        int64       `json:"version"`
	ManifestSHA256 string      `json:"manifest_sha256"`
	Dir            string      `json:"dir"`
	Base           *VolumeBase `json:"base,omitempty"`
}

func lastVolumesPath(stage string) string { return filepath.Join(stage, StateDir, "volumes.json") }

func lastVolumesCopy(stage, sha string) string {
	return filepath.Join(stage, StateDir, "volumes-"+sha+".json")
}

func readLastVolumes(stage string) (*lastVolumes, error) {
	data, err := os.ReadFile(lastVolumesPath(stage))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &tree.TargetError{Target: stage, Reason: fmt.Sprintf("has written no volumes yet, so --since %s names nothing: write a full set first (drop --since), or give --since the manifest the far side holds (packstudio mirror-state DEST --out FILE)", SinceLast)}
	}
	if err != nil {
		return nil, err
	}
	var last lastVolumes
	if err := json.Unmarshal(data, &last); err != nil || last.ManifestSHA256 == "" || !digestOrEmpty(last.ManifestSHA256) {
		return nil, &tree.TargetError{Target: lastVolumesPath(stage), Reason: "is damaged; remove it and write a full set (drop --since), or give --since the manifest the far side holds"}
	}
	return &last, nil
}

// recordVolumes records w, just written from stage into dir, as the last
// set the stage wrote: the manifest and signature first, then the record
// naming them, then the copies of the record before go.
func recordVolumes(stage, dir string, w *WrittenSet) error {
	old, _ := readLastVolumes(stage)
	cp := lastVolumesCopy(stage, w.ManifestSHA256)
	if err := atomicfile.Write(tree.SigPath(cp), w.sig, 0o644); err != nil {
		return err
	}
	if err := atomicfile.Write(cp, w.raw, 0o644); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(lastVolumes{Version: w.Manifest.Version, ManifestSHA256: w.ManifestSHA256, Dir: dir, Base: w.Base}, "", " ")
	if err := atomicfile.Write(lastVolumesPath(stage), append(data, '\n'), 0o644); err != nil {
		return err
	}
	if old != nil && old.ManifestSHA256 != w.ManifestSHA256 {
		oldCopy := lastVolumesCopy(stage, old.ManifestSHA256)
		os.Remove(tree.SigPath(oldCopy))
		os.Remove(oldCopy)
	}
	return nil
}

// Held is the signed manifest a mirror holds, as its state records it:
// what a delta for it must be made against.
type Held struct {
	Manifest *tree.Manifest
	Raw, Sig []byte
	KeyID    string // the key it verified with
}

// HeldManifest reads the manifest the mirror in dest holds and checks it
// against dest's state and its signature: with key, or when key is nil
// with the tree's own public key if it is the key the state pinned.
func HeldManifest(dest string, key *sign.Verifier) (*Held, error) {
	st, err := ReadState(dest)
	if err != nil {
		return nil, err
	}
	if st == nil || st.ManifestSHA256 == "" {
		return nil, &tree.TargetError{Target: dest, Reason: fmt.Sprintf("is not a packstudio mirror (no %s/state.json): give the folder that mirror or unpack wrote", StateDir)}
	}
	rawPath, sigPath := filepath.Join(dest, tree.ManifestName), filepath.Join(dest, tree.ManifestSigName)
	raw, err := readSmall(rawPath)
	if err != nil {
		return nil, &tree.TargetError{Target: rawPath, Reason: err.Error()}
	}
	if tree.Digest(raw) != st.ManifestSHA256 {
		return nil, fmt.Errorf("%s (sha256 %s) is not manifest version %d (sha256 %s) that the mirror's state records: a mirror or unpack into %s was cut short; run it again first",
			rawPath, short(tree.Digest(raw)), st.Version, short(st.ManifestSHA256), dest)
	}
	sig, err := readSmall(sigPath)
	if err != nil {
		return nil, &tree.TargetError{Target: sigPath, Reason: err.Error()}
	}
	if key == nil {
		dir, err := tree.OpenDir(dest)
		if err != nil {
			return nil, err
		}
		defer dir.Close()
		own, name, err := tree.FindKey(context.Background(), dir, 0)
		if err != nil {
			return nil, err
		}
		if own.KeyID() != st.KeyID {
			return nil, &tree.KeyError{Reason: fmt.Sprintf("%s holds key %s (%s), not key %s that the mirror pinned; pass the publisher's key with --key PUB", dest, sign.ShortKeyID(own.KeyID()), name, sign.ShortKeyID(st.KeyID))}
		}
		key = own
	}
	m, err := tree.Open(raw, sig, key, tree.Policy{AllowExpired: true})
	if err != nil {
		return nil, &TrustError{Reason: fmt.Sprintf("%s: %v (key %s); run verify on %s", rawPath, err, sign.ShortKeyID(key.KeyID()), dest)}
	}
	return &Held{Manifest: m, Raw: raw, Sig: sig, KeyID: key.KeyID()}, nil
}

// Save writes the held manifest to out and its signature beside it (by
// the naming rule: out.sig.bin), signature first, each atomically.
func (h *Held) Save(out string) (string, error) {
	sigOut := tree.SigPath(out)
	if err := atomicfile.Write(sigOut, h.Sig, 0o644); err != nil {
		return "", err
	}
	return sigOut, atomicfile.Write(out, h.Raw, 0o644)
}
