package generator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/packstudio/packstudio/generator/pack"
	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/internal/workers"
)

// A rebuild with nothing changed skips every stage, as make and ninja do:
// the last complete build recorded, in the cache (never in the output),
// everything it read and everything that decides its output, and when all
// of it stats as it was and the output is as that build left it, a full
// build would write nothing (it is deterministic) so none is made.
//
// What is recorded, in inputsFile:
//   - everything the loaders read through the build's inputFS (the
//     only way they read: site config, catalog, registries, readmes,
//     content pages, theme overlay): each file as fstat saw it when
//     opened, each folder as it was before it was listed, each path
//     stat'ed (or lstat'ed) as it was, and each path found missing as
//     absent; and the signing key file;
//   - the setup: a hash of the running executable, the working directory,
//     the loaded config (every option, --base-url and --out included), the
//     key path, key ID and public key;
//   - the stamps of manifest.json, its signature, outputs.json and
//     artifacts.json as this build left them.
//
// Pack sources are recorded by their stat when the catalog checks them;
// what is under a folder source is not: artifacts.json already holds each
// source's fingerprint, which the check recomputes. The manifest needs no
// date check: a build re-signs it only when its objects, base URL or key
// change (an expired one is kept as it is; renewing is 'renew', which
// rewrites manifest.json and so changes its stamp).
const inputsFile = "inputs.json"

// inputsFormat changes when what is recorded changes meaning.
const inputsFormat = 2

// racyWindow: an input whose change time falls this close to the start of
// the build, or after it, may have been edited again within the same tick
// of the file system's clock (the kernel stamps files in steps of about a
// millisecond) and still stat the same. Such a build leaves no record, so
// the next one is a full build.
const racyWindow = time.Second

type inputsRecord struct {
	Format  int               `json:"format"`
	Setup   string            `json:"setup"`
	Inputs  map[string]string `json:"inputs"` // absolute path → pack.Stamp, or absent
	Links   map[string]string `json:"links"`  // the same, of paths lstat'ed
	Outputs map[string]string `json:"outputs"`
	Objects int               `json:"objects"` // files in outputs.json
	Stats   Stats             `json:"stats"`
}

// inputRecorder collects what a build reads through its inputFS, from
// the loaders' goroutines.
type inputRecorder struct {
	mu     sync.Mutex
	stamps map[string]string // absolute path → pack.Stamp, links followed
	links  map[string]string // the same, of what was lstat'ed
	newest int64             // latest change time seen, in ns
	files  int               // files read
	failed bool              // something could not be stat'ed: record nothing
}

// absent is the stamp of a path that was not there: a loader that looked
// for it (a theme file overriding the embedded one, a values.yaml) reads
// it once it is.
const absent = "absent"

func newInputRecorder() *inputRecorder {
	return &inputRecorder{stamps: map[string]string{}, links: map[string]string{}}
}

// file records a file as it was opened. Its folder is not recorded
// unless a loader lists it: the site's own folder, say, changes with every
// build, as it holds the output and the cache.
func (r *inputRecorder) file(name string, fi fs.FileInfo) {
	r.add(name, fi, true)
	r.mu.Lock()
	r.files++
	r.mu.Unlock()
}

// add records what a stat (follow) or lstat saw of p.
func (r *inputRecorder) add(p string, fi fs.FileInfo, follow bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stampsOf(follow)[abs(p)] = pack.Stamp(fi)
	r.newest = max(r.newest, pack.ChangeTime(fi))
}

// failedAt records a path that could not be read: as absent when it is
// not there, else as a doubt that keeps this build from being recorded.
func (r *inputRecorder) failedAt(p string, err error, follow bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if errors.Is(err, fs.ErrNotExist) {
		r.stampsOf(follow)[abs(p)] = absent
	} else {
		r.failed = true
	}
}

func (r *inputRecorder) stampsOf(follow bool) map[string]string {
	if follow {
		return r.stamps
	}
	return r.links
}

// recordKeyFile stats the signing key file before the guard reads it.
func (r *inputRecorder) recordKeyFile(key string) {
	fi, err := os.Stat(key)
	if err != nil {
		r.failed = true
		return
	}
	r.add(key, fi, true)
}

// setupHash sums what decides the output besides the files read: the
// binary, the working directory (config paths may be relative), every
// config value and the key. ok is false when any of it is not known.
func setupHash(o Options) (string, bool) {
	bin, err := binaryIdentity()
	if err != nil {
		return "", false
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	signer, ok := o.Signer.(ManifestSigner)
	if !ok {
		return "", false
	}
	cfg, err := json.Marshal(o.Config)
	if err != nil {
		return "", false
	}
	h := sha256.New()
	pub := sha256.Sum256(o.Signer.PublicKeyPEM())
	for _, part := range []string{bin, wd, string(cfg), o.SigningKey, signer.KeyID(), hex.EncodeToString(pub[:])} {
		io.WriteString(h, part)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// binaryIdentity names the running packstudio by its bytes, so that
// another build of it (another version, or the same version with other
// changes) never trusts what this one recorded. Tests replace it.
var binaryIdentity = sync.OnceValues(func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return fileIdentity(exe)
})

// fileIdentity is the SHA-256 of a file's bytes.
func fileIdentity(p string) (string, error) {
	sum, _, err := fileSHA256(p)
	return hex.EncodeToString(sum), err
}

// recordable reports whether a build can record its inputs: only with a
// key file, whose guard every input passes through.
func recordable(o Options) bool {
	return o.SigningKey != "" && !strings.Contains(o.SigningKey, "://")
}

// filesRead is how many input files the build read through the guard.
func (r *inputRecorder) filesRead() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.files
}

// outputStampFiles are the files besides the objects whose state the
// record keeps: what a full build would read to decide what to write.
func outputStampFiles(cfg *Config) []string {
	return []string{
		filepath.Join(cfg.Output, tree.ManifestName),
		filepath.Join(cfg.Output, tree.ManifestSigName),
		filepath.Join(cfg.Cache, stampsFile),
		filepath.Join(cfg.Cache, cacheFile),
	}
}

// lstamp is pack.Stamp of the file at p itself, a link not followed.
func lstamp(p string) (string, bool) {
	fi, err := os.Lstat(p)
	if err != nil {
		return "", false
	}
	return pack.Stamp(fi), true
}

// forgetInputs removes the record before a full build writes anything: a
// build that does not finish leaves none.
func forgetInputs(cacheDir string) error {
	err := os.Remove(filepath.Join(cacheDir, inputsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// saveInputs writes the record of a complete build, unless some input
// changed too close to the build's start to be told apart by a stat.
func (b *builder) saveInputs(rec *inputRecorder, start time.Time) error {
	if rec == nil || rec.failed || rec.newest >= start.Add(-racyWindow).UnixNano() {
		return nil
	}
	setup, ok := setupHash(b.opts)
	if !ok {
		return nil
	}
	r := inputsRecord{Format: inputsFormat, Setup: setup, Inputs: rec.stamps, Links: rec.links, Outputs: map[string]string{},
		Objects: b.stats.Objects, Stats: upToDateStats(b.stats)}
	for _, p := range outputStampFiles(b.cfg) {
		s, ok := lstamp(p)
		if !ok {
			return nil
		}
		r.Outputs[abs(p)] = s
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(b.cfg.Cache, inputsFile), data, 0o644)
}

// upToDateStats are a build's figures as a rebuild that found nothing
// changed reports them: the same site, nothing packed, signed or written.
func upToDateStats(s Stats) Stats {
	s.Reused += s.Packed
	s.Packed, s.Signed = 0, 0
	s.FilesWritten, s.BytesWritten, s.FilesCompared, s.Removed = 0, 0, 0, 0
	// As a full rebuild counts them: every file but the artifacts, which
	// the artifact cache vouches for.
	s.FilesUnchanged = int64(s.Objects - s.Reused)
	s.ManifestChanged = false
	s.InputFiles = 0
	s.PackTime, s.RenderTime = 0, 0 // no stage ran
	s.UpToDate = true
	return s
}

// upToDate returns the last build's figures when nothing it depends on
// changed, having read nothing but the record and the two cache files and
// stat'ed every input, source and output file. Any doubt means false.
func upToDate(o Options) (*Stats, bool) {
	if o.CheckOutput || !recordable(o) {
		return nil, false
	}
	data, err := os.ReadFile(filepath.Join(o.Config.Cache, inputsFile))
	if err != nil {
		return nil, false
	}
	var r inputsRecord
	if json.Unmarshal(data, &r) != nil || r.Format != inputsFormat {
		return nil, false
	}
	if setup, ok := setupHash(o); !ok || setup != r.Setup {
		return nil, false
	}
	if !stampsHold(r.Outputs, o.Jobs, lstamp) || !stampsHold(r.Inputs, o.Jobs, inputStamp(os.Stat)) ||
		!stampsHold(r.Links, o.Jobs, inputStamp(os.Lstat)) {
		return nil, false
	}
	if !sourcesUnchanged(o) || !objectsUntouched(o.Config, r.Objects, o.Jobs) {
		return nil, false
	}
	st := r.Stats
	return &st, true
}

// inputStamp is pack.Stamp of the file or folder at p as stat (os.Stat
// or os.Lstat) sees it, or absent when it is not there.
func inputStamp(stat func(string) (fs.FileInfo, error)) func(p string) (string, bool) {
	return func(p string) (string, bool) {
		fi, err := stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return absent, true
		}
		if err != nil {
			return "", false
		}
		return pack.Stamp(fi), true
	}
}

// stampsHold reports whether every path still has its recorded stamp.
func stampsHold(want map[string]string, jobs int, stampOf func(string) (string, bool)) bool {
	paths := make([]string, 0, len(want))
	for p := range want {
		paths = append(paths, p)
	}
	return allOf(len(paths), jobs, func(i int) bool {
		s, ok := stampOf(paths[i])
		return ok && s == want[paths[i]]
	})
}

// sourcesUnchanged reports whether every artifact's source has the
// fingerprint the artifact cache recorded when it was packed with this key.
func sourcesUnchanged(o Options) bool {
	recs := loadCache(o.Config.Cache).records
	list := make([]cacheRecord, 0, len(recs))
	for _, r := range recs {
		list = append(list, r)
	}
	keyID := o.Signer.KeyID()
	return allOf(len(list), o.Jobs, func(i int) bool {
		fp, err := pack.Fingerprint(list[i].Source)
		return err == nil && fp == list[i].Fingerprint && list[i].KeyID == keyID && len(list[i].Sig) > 0
	})
}

// objectsUntouched reports whether every file of the output has the stamp
// the last build recorded for it in outputs.json, and there are as many as
// the manifest lists.
func objectsUntouched(cfg *Config, objects, jobs int) bool {
	stamps := loadStamps(cfg.Cache, cfg.Output)
	if len(stamps) != objects {
		return false
	}
	root := filepath.Clean(cfg.Output)
	rels := make([]string, 0, len(stamps))
	for rel := range stamps {
		rels = append(rels, rel)
	}
	return allOf(len(rels), jobs, func(i int) bool {
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rels[i])))
		return err == nil && fi.Mode().IsRegular() && atomicfile.StampOf(fi) == stamps[rels[i]]
	})
}

// allOf reports whether ok holds for every index in [0, n), asking from
// jobs goroutines and stopping at the first false.
func allOf(n, jobs int, ok func(i int) bool) bool {
	return workers.Each(context.Background(), jobs, n, func(i int) error {
		if !ok(i) {
			return errNotAllOf
		}
		return nil
	}) == nil
}

var errNotAllOf = errors.New("a check failed")
