package generator

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/tree"
)

// ManifestSigner signs the manifest and checks an existing signature.
type ManifestSigner interface {
	SignDigest(digest []byte) ([]byte, error)
	Verify(sig []byte, data io.Reader) error
	KeyID() string
}

// nextVersion is the version of a manifest generated at now: one more than
// the last build's, and never less than now in Unix seconds. A clean
// checkout has no last build, and a version restarting at 1 would replace
// a bucket's newer manifest and make every mirror refuse what follows as a
// rollback; the clock makes versions grow across machines and clean
// checkouts, and the last build's keeps them growing within one second.
func nextVersion(old *tree.Manifest, now time.Time) int64 {
	v := now.Unix()
	if old != nil && old.Version >= v {
		v = old.Version + 1
	}
	return max(v, 1)
}

// writeManifest writes manifest.json and its signature unless an earlier
// build's manifest lists exactly the same objects and still verifies: then
// it is kept as it is, version and dates included, so that an unchanged
// rebuild rewrites nothing. Files the earlier manifest listed and this
// build did not write are removed afterwards.
func (b *builder) writeManifest() error {
	objects := b.out.sortedObjects()
	b.stats.Objects = len(objects)
	for _, o := range objects {
		b.stats.ObjectBytes += o.Size
	}
	for _, o := range objects {
		// The manifest parser refuses dot segments (bookkeeping such as a
		// mirror's state); a build must never sign a manifest nobody can read.
		if tree.HasDotSegment(o.Path) {
			return fmt.Errorf("%s: a path with a segment starting with \".\" cannot be published; rename it", o.Path)
		}
	}
	signer, ok := b.opts.Signer.(ManifestSigner)
	if !ok {
		return errors.New("the signer cannot sign manifests")
	}
	m := &tree.Manifest{BaseURL: b.cfg.BaseURL, KeyID: signer.KeyID(), Objects: objects}
	old := b.prev
	if old != nil && tree.SameObjects(old, m) && old.BaseURL == m.BaseURL && old.KeyID == m.KeyID {
		b.stats.ManifestVersion = old.Version
		return b.pruneStale(old)
	}
	now := b.opts.Now().UTC().Truncate(time.Second)
	m.Version = nextVersion(old, now)
	m.Generated, m.Expires = now, now.Add(b.cfg.ManifestTTL)
	if err := WriteManifest(b.cfg.Output, m, signer); err != nil {
		return err
	}
	b.stats.ManifestVersion, b.stats.ManifestChanged = m.Version, true
	return b.pruneStale(old)
}

func (b *builder) pruneStale(old *tree.Manifest) error {
	if old == nil {
		return nil
	}
	n, err := b.out.prune(old.Objects)
	b.stats.Removed = n
	return err
}

// readManifest returns the manifest in dir if it parses, is encoded as this
// version writes it and its signature verifies with the signer's key.
func readManifest(dir string, signer ManifestSigner) *tree.Manifest {
	data, err := os.ReadFile(filepath.Join(dir, tree.ManifestName))
	if err != nil {
		return nil
	}
	sig, err := os.ReadFile(filepath.Join(dir, tree.ManifestSigName))
	if err != nil {
		return nil
	}
	// Expired or not: an unchanged rebuild keeps its dates.
	m, err := tree.Open(data, sig, signer, tree.Policy{AllowExpired: true})
	if err != nil || !bytes.Equal(m.Encode(), data) {
		return nil
	}
	return m
}

// WriteManifest signs m and writes the signature, then the manifest, each
// by temp file and rename.
func WriteManifest(dir string, m *tree.Manifest, signer ManifestSigner) error {
	data := m.Encode()
	digest := sha256.Sum256(data)
	sig, err := signer.SignDigest(digest[:])
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, tree.ManifestSigName), sig); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, tree.ManifestName), data)
}

// Renew re-signs the manifest in dir with a new generated and expires time
// and the next version, leaving every other file as it is.
func Renew(dir string, signer ManifestSigner, ttl time.Duration, now time.Time) (*tree.Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, tree.ManifestName))
	if err != nil {
		return nil, err
	}
	sig, err := os.ReadFile(filepath.Join(dir, tree.ManifestSigName))
	if err != nil {
		return nil, err
	}
	// Renewing is what an expired manifest needs.
	m, err := tree.Open(data, sig, signer, tree.Policy{AllowExpired: true})
	var invalid *tree.InvalidError
	if errors.As(err, &invalid) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w; rebuild the site instead of renewing it", tree.ManifestName, err)
	}
	now = now.UTC().Truncate(time.Second)
	m.Version = nextVersion(m, now)
	m.Generated, m.Expires = now, now.Add(ttl)
	return m, WriteManifest(dir, m, signer)
}

// writeAtomic writes a file unless it already holds exactly data.
func writeAtomic(path string, data []byte) error {
	if sameContent(path, data) {
		return nil
	}
	return atomicfile.Write(path, data, 0o644)
}
