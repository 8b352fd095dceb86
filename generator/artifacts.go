package generator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"sync"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/generator/pack"
	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/keyguard"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/internal/workers"
)

// Signer signs SHA-256 digests; publish/sign.Signer is the real one.
type Signer interface {
	SignDigest(digest []byte) ([]byte, error)
	PublicKeyPEM() []byte
	KeyID() string
}

// Artifact is a packed and signed file of the output tree.
type Artifact struct {
	Kind    string // "pack", "bundle", "iso" or "helm"
	Path    string // relative to the output root
	SigPath string
	Size    int64
	SHA256  string
	source  catalog.Source
	method  pack.Method
	root    string // top directory inside a tar
}

// Name is the artifact's file name.
func (a *Artifact) Name() string { return path.Base(a.Path) }

// SigName is the signature's file name.
func (a *Artifact) SigName() string { return path.Base(a.SigPath) }

func newArtifact(kind, dir, name string, src catalog.Source, m pack.Method, root string) *Artifact {
	p := dir + "/" + name
	return &Artifact{Kind: kind, Path: p, SigPath: dir + "/" + tree.SigPath(name), source: src, method: m, root: root}
}

// artifactsOf lists every artifact of the catalog: a .zst per pack version
// and, per release, the content bundle, the ISO and the Helm chart.
func artifactsOf(c *catalog.Catalog) (packs []*Artifact, releases map[*catalog.Release][]*Artifact) {
	packs = make([]*Artifact, len(c.Versions))
	for i, v := range c.Versions {
		base := v.Pack.Name + "-" + v.Version.Raw
		packs[i] = newArtifact("pack", "artifacts/packs/"+v.Pack.Name, base+".zst", v.Source, pack.Zstd, base)
	}
	releases = map[*catalog.Release][]*Artifact{}
	for _, p := range c.Products {
		for _, r := range p.Releases {
			dir := "artifacts/releases/" + p.ID + "/" + r.Version.Raw
			base := p.ID + "-" + r.Version.Raw
			var list []*Artifact
			if r.Bundle.Path != "" {
				list = append(list, newArtifact("bundle", dir, base+".tar.zst", r.Bundle, pack.Zstd, base))
			}
			if r.ISO.Path != "" {
				list = append(list, newArtifact("iso", dir, p.ID+"-appliance-"+r.Version.Raw+".iso", r.ISO, pack.Copy, ""))
			}
			if r.Helm.Path != "" {
				list = append(list, newArtifact("helm", dir, base+".tgz", r.Helm, pack.Tgz, base))
			}
			releases[r] = list
		}
	}
	return packs, releases
}

// cacheRecord remembers how an artifact was made, so that an unchanged
// source is neither read, packed nor signed again: its signature stays the
// same bytes (ECDSA signatures differ on every signing).
type cacheRecord struct {
	Source      string `json:"source"`
	Fingerprint string `json:"fingerprint"` // names, sizes, modes, times and inodes of the source
	Format      string `json:"format"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ModTime     int64  `json:"mtime"` // of the output file, to notice it was replaced
	KeyID       string `json:"key_id"`
	Sig         []byte `json:"sig"`
}

type artifactCache struct {
	file    string
	mu      sync.Mutex
	records map[string]cacheRecord // by artifact path
}

const cacheFile = "artifacts.json"

func loadCache(dir string) *artifactCache {
	c := &artifactCache{file: filepath.Join(dir, cacheFile), records: map[string]cacheRecord{}}
	data, err := os.ReadFile(c.file)
	if err == nil {
		// A damaged cache only costs a re-pack; never fail the build for it.
		if json.Unmarshal(data, &c.records) != nil {
			c.records = map[string]cacheRecord{}
		}
	}
	return c
}

func (c *artifactCache) get(p string) (cacheRecord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.records[p]
	return r, ok
}

func (c *artifactCache) put(p string, r cacheRecord) {
	c.mu.Lock()
	c.records[p] = r
	c.mu.Unlock()
}

// save keeps the records of the artifacts of this build only.
func (c *artifactCache) save(keep []*Artifact) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]cacheRecord, len(keep))
	for _, a := range keep {
		if r, ok := c.records[a.Path]; ok {
			out[a.Path] = r
		}
	}
	data, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.file), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(c.file, data, 0o644)
}

// artifactStats counts what the artifact stage did.
type artifactStats struct {
	packed, reused, signed int
}

// makeArtifacts packs and signs every artifact in parallel, reusing the
// cache for unchanged sources. It fills in each artifact's size and digest.
func makeArtifacts(ctx context.Context, out *outTree, cache *artifactCache, signer Signer, guard *keyguard.Guard, all []*Artifact, jobs int, progress func(done, total int)) (artifactStats, error) {
	var (
		stats artifactStats
		mu    sync.Mutex
		errs  []error
		done  int
	)
	// Every artifact is tried, so that one run reports every bad source.
	workers.Each(ctx, jobs, len(all), func(i int) error {
		a := all[i]
		packed, signed, err := makeArtifact(out, cache, signer, guard, a)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (from %s): %w", a.Path, a.source.Path, err))
		}
		if packed {
			stats.packed++
		} else if err == nil {
			stats.reused++
		}
		if signed {
			stats.signed++
		}
		done++
		if progress != nil {
			progress(done, len(all))
		}
		return nil
	})
	if err := ctx.Err(); err != nil {
		return stats, err
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return stats, errors.Join(errs...)
}

func makeArtifact(out *outTree, cache *artifactCache, signer Signer, guard *keyguard.Guard, a *Artifact) (packed, signed bool, err error) {
	fp, err := pack.Fingerprint(a.source.Path)
	if err != nil {
		return false, false, err
	}
	format := pack.Format + "/" + a.method.String() + "/" + a.root
	rec, cached := cache.get(a.Path)
	cached = cached && rec.Source == a.source.Path && rec.Format == format
	full := out.path(a.Path)

	var sum []byte
	// A new key means the source must be read again: the key guard checks
	// its bytes against this key as they are packed.
	sameKey := rec.KeyID == signer.KeyID()
	if fi, err := os.Stat(full); cached && sameKey && rec.Fingerprint == fp && err == nil && fi.Size() == rec.Size && fi.ModTime().UnixNano() == rec.ModTime &&
		out.trustArtifact(full, rec.SHA256) {
		// Unchanged source, untouched output: nothing to read or pack.
		sum, _ = hex.DecodeString(rec.SHA256)
		a.Size = rec.Size
		out.record(a.Path, rec.Size, sum)
		out.setStamp(a.Path, atomicfile.StampOf(fi)) // outputs.json then stamps every object
	} else {
		packed = true
		if sum, err = packArtifact(out, a, guard); err != nil {
			return packed, false, err
		}
		fi, err := os.Stat(full)
		if err != nil {
			return packed, false, err
		}
		out.setStamp(a.Path, atomicfile.StampOf(fi))
		if !cached || rec.SHA256 != hex.EncodeToString(sum) {
			rec = cacheRecord{}
		}
		rec.Source, rec.Format, rec.Fingerprint = a.source.Path, format, fp
		rec.SHA256, rec.Size, rec.ModTime = hex.EncodeToString(sum), a.Size, fi.ModTime().UnixNano()
	}
	a.SHA256 = rec.SHA256

	// Same bytes signed with the same key: keep the old signature.
	if rec.KeyID != signer.KeyID() || len(rec.Sig) == 0 {
		sig, err := signer.SignDigest(sum)
		if err != nil {
			return packed, false, err
		}
		rec.Sig, rec.KeyID, signed = sig, signer.KeyID(), true
	}
	if err := out.write(a.SigPath, rec.Sig); err != nil {
		return packed, signed, err
	}
	cache.put(a.Path, rec)
	return packed, signed, nil
}

// packArtifact packs the source in one pass (read, compress, hash the
// output) into a temp file and puts it in place unless the same bytes are
// already there.
func packArtifact(out *outTree, a *Artifact, guard *keyguard.Guard) (sum []byte, err error) {
	f, err := out.create()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	if err := pack.Write(cw, a.source.Path, a.method, a.root, guard.Open); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	sum = h.Sum(nil)
	a.Size = cw.n
	out.record(a.Path, cw.n, sum)
	if !out.inPrevious(a.Path) {
		return sum, out.place(f, a.Path, cw.n)
	}
	if old, n, err := out.hashFile(out.path(a.Path)); err == nil && n == cw.n && string(old) == string(sum) {
		f.Close()
		os.Remove(f.Name())
		out.unchanged.Add(1)
		return sum, nil
	}
	return sum, out.place(f, a.Path, cw.n)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
