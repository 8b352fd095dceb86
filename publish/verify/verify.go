package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/packstudio/packstudio/internal/bytesize"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/internal/workers"
	"github.com/packstudio/packstudio/publish/mirror"
)

// Options tune Tree.
type Options struct {
	Now          time.Time // default time.Now()
	Jobs         int       // parallel object checks; default 8
	AllowExpired bool      // report an expired manifest as a note, not a failure
	// LeftOut names objects a partial mirror left out by choice: their
	// absence is reported, not failed.
	LeftOut map[string]bool
	// RebasedTo is the base URL the tree's URL lists were rebased to; they
	// are checked after mapping it back to the manifest's base.
	RebasedTo string
	// MaxManifestSize bounds the manifest read before its signature is
	// checked; default tree.DefaultMaxManifestSize.
	MaxManifestSize int64
	// Stall bounds the wait for a response and for each next byte of it,
	// for the manifest and every object; default tree.DefaultStallTimeout.
	Stall time.Duration
}

// limits are the bounds of every read of the tree.
func (o *Options) limits() tree.Limits {
	return tree.Limits{MaxManifestSize: o.MaxManifestSize, Stall: o.Stall}
}

// Report is the outcome of a verification.
type Report struct {
	Manifest   *tree.Manifest
	Objects    int   // objects checked
	Bytes      int64 // bytes read and hashed
	Signatures int   // detached signatures that verified
	LeftOut    []string
	Failures   []tree.Failure
	Notes      []string
	// KeyWarning is set by Run when the key is the tree's own, which
	// proves integrity but not who published the tree.
	KeyWarning string
}

// OK reports whether nothing failed.
func (r *Report) OK() bool { return len(r.Failures) == 0 }

func (r *Report) fail(p, format string, args ...any) {
	r.Failures = append(r.Failures, tree.Failure{Path: p, Reason: fmt.Sprintf(format, args...)})
}

// signedArtifacts matches artifacts with their signatures among the
// manifest's objects (sigOf, and the set of signatures claimed); it also
// returns objects that should have a signature and have none, and
// signatures without their artifact.
func signedArtifacts(objects []tree.Object) (sigOf map[string]string, claimed map[string]bool, unsigned, orphans []string) {
	idx := map[string]bool{}
	for _, o := range objects {
		idx[o.Path] = true
	}
	sigOf = map[string]string{}
	claimed = map[string]bool{}
	for _, o := range objects {
		if strings.HasSuffix(o.Path, tree.SigSuffix) {
			continue
		}
		sig := path.Join(path.Dir(o.Path), tree.SigPath(path.Base(o.Path)))
		switch {
		case idx[sig]:
			sigOf[o.Path] = sig
			claimed[sig] = true
		case tree.IsArtifact(o.Path):
			unsigned = append(unsigned, o.Path)
		}
	}
	for _, o := range objects {
		if strings.HasSuffix(o.Path, tree.SigSuffix) && !claimed[o.Path] {
			orphans = append(orphans, o.Path)
		}
	}
	return sigOf, claimed, unsigned, orphans
}

// Tree checks a tree: the manifest's signature with the pinned key, its
// expiry, then every listed object's size and SHA-256 and every detached
// signature. A tree that can list its files (a directory) also fails for
// files the manifest does not list.
func Tree(ctx context.Context, src tree.Reader, key *sign.Verifier, o Options) (*Report, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Jobs <= 0 {
		o.Jobs = 8
	}
	rep := &Report{}
	m, err := rep.checkManifest(ctx, src, key, o)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return rep, nil
	}
	v := &treeCheck{src: src, key: key, o: o, m: m, idx: m.Index(), rep: rep}
	work := v.checkSignaturesListed()
	v.checkObjects(ctx, work)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v.checkNothingElse(ctx)
	sort.Strings(rep.LeftOut)
	if v.rebased > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d URL lists are rebased to %s; they were checked mapped back to the manifest's base %s", v.rebased, o.RebasedTo, m.BaseURL))
	}
	sort.Slice(rep.Failures, func(i, j int) bool { return rep.Failures[i].Path < rep.Failures[j].Path })
	return rep, nil
}

// checkManifest fetches the manifest and checks its signature and expiry.
// An expired manifest is failed (or noted, when allowed) and returned, so
// that every object is still checked; one that cannot be trusted at all
// is failed and nil is returned. Only a cancelled ctx is an error.
func (r *Report) checkManifest(ctx context.Context, src tree.Reader, key *sign.Verifier, o Options) (*tree.Manifest, error) {
	m, _, _, err := o.limits().Fetch(ctx, src, key, tree.Policy{Now: o.Now, AllowExpired: o.AllowExpired})
	var expired *tree.ExpiredError
	switch {
	case errors.As(err, &expired):
		r.fail(tree.ManifestName, "expired %s ago (at %s); the publisher must renew it", expired.Age, expired.Expires.Format(time.RFC3339))
	case err != nil:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.fail(tree.ManifestName, "%v", err)
		return nil, nil
	}
	r.Manifest = m
	if exp := m.Expiry(o.Now); exp != nil && o.AllowExpired {
		r.Notes = append(r.Notes, fmt.Sprintf("manifest expired %s ago (at %s); accepted because expiry checks are off", exp.Age, exp.Expires.Format(time.RFC3339)))
	}
	return m, nil
}

// treeCheck is one verification under way, after the manifest is trusted.
type treeCheck struct {
	src     tree.Reader
	key     *sign.Verifier
	o       Options
	m       *tree.Manifest
	idx     map[string]tree.Object // m's objects by path
	rep     *Report
	sigOf   map[string]string // artifact → its signature's path
	mu      sync.Mutex        // guards rep and rebased while objects are checked
	rebased int               // URL lists checked mapped back from RebasedTo
}

// checkSignaturesListed fails artifacts the manifest lists without a
// signature and signatures without their artifact, and returns the
// objects to read: every one but the signatures, which are checked with
// their artifact.
func (v *treeCheck) checkSignaturesListed() []tree.Object {
	sigOf, isSig, unsigned, orphans := signedArtifacts(v.m.Objects)
	for _, p := range unsigned {
		v.rep.fail(p, "artifact has no signature (%s)", tree.SigPath(path.Base(p)))
	}
	for _, p := range orphans {
		v.rep.fail(p, "signature without its artifact")
	}
	v.sigOf = sigOf
	var work []tree.Object
	for _, obj := range v.m.Objects {
		if !isSig[obj.Path] {
			work = append(work, obj)
		}
	}
	return work
}

// checkObjects reads and checks the objects in parallel.
func (v *treeCheck) checkObjects(ctx context.Context, work []tree.Object) {
	workers.Each(ctx, v.o.Jobs, len(work), func(i int) error {
		obj := work[i]
		var sig *tree.Object
		if s, ok := v.sigOf[obj.Path]; ok {
			so := v.idx[s]
			sig = &so
		}
		var fails []tree.Failure
		var n int64
		var sigOK, mapped bool
		switch {
		case v.o.RebasedTo != "" && path.Base(obj.Path) == "urls.txt":
			fails, n, mapped = checkRebasedList(ctx, v.src, v.o.limits(), obj, v.o.RebasedTo, v.m.BaseURL)
		case obj.Path == tree.MirrorNotePath && sig == nil:
			var note *tree.MirrorNote
			fails, n, note = checkMirrorNote(ctx, v.src, v.o.limits(), obj, v.o.LeftOut)
			if note != nil {
				v.mu.Lock()
				v.rep.Notes = append(v.rep.Notes, fmt.Sprintf("%s is this mirror's own note of the %d files it left out, not the build's empty one: accepted as data", obj.Path, len(note.LeftOut)))
				v.mu.Unlock()
			}
		default:
			fails, n, sigOK = checkObject(ctx, v.src, v.o.limits(), v.key, obj, sig)
		}
		v.record(fails, n, sig != nil, sigOK, mapped)
		return nil
	})
}

// record counts one checked object (with its signature, when it has one).
// What a partial mirror left out by choice is reported, not failed; what
// it holds anyway is checked like the rest.
func (v *treeCheck) record(fails []tree.Failure, n int64, signed, sigOK, mapped bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	rep := v.rep
	for _, f := range fails {
		if f.Reason == "missing" && v.o.LeftOut[f.Path] {
			rep.LeftOut = append(rep.LeftOut, f.Path)
			continue
		}
		rep.Failures = append(rep.Failures, f)
	}
	rep.Bytes += n
	rep.Objects++
	if signed {
		rep.Objects++
	}
	if sigOK {
		rep.Signatures++
	}
	if mapped {
		v.rebased++
	}
}

// checkNothingElse fails every file a listable tree holds that the
// manifest does not list.
func (v *treeCheck) checkNothingElse(ctx context.Context) {
	l, ok := v.src.(tree.Lister)
	if !ok {
		return
	}
	files, err := l.List(ctx)
	if err != nil {
		v.rep.fail(".", "cannot list the tree: %v", err)
	}
	for _, f := range files {
		if _, ok := v.idx[f.Key]; !ok && f.Key != tree.ManifestName && f.Key != tree.ManifestSigName {
			v.rep.fail(f.Key, "not in the manifest (%s)", bytesize.Format(f.Size))
		}
	}
}

// FetchManifest reads manifest.json and its signature and returns the
// manifest only if the signature verifies with key.
func FetchManifest(ctx context.Context, src tree.Reader, key *sign.Verifier) (*tree.Manifest, error) {
	m, _, _, err := tree.Fetch(ctx, src, key, tree.DefaultMaxManifestSize, tree.AnyDate)
	return m, err
}

// checkObject reads one object (and its signature, when it has one) and
// compares size and SHA-256 with the manifest, verifying the signature over
// the same single read of the data. No more than the manifest's size and
// one byte is read, so an endless object is a size mismatch.
func checkObject(ctx context.Context, src tree.Reader, lim tree.Limits, key *sign.Verifier, obj tree.Object, sigObj *tree.Object) (fails []tree.Failure, n int64, sigOK bool) {
	var sig []byte
	if sigObj != nil {
		data, err := lim.ReadAll(ctx, src, sigObj.Path, tree.MaxSignatureSize)
		switch {
		case errors.Is(err, tree.ErrNotExist):
			fails = append(fails, tree.Failure{Path: sigObj.Path, Reason: "missing"})
		case err != nil:
			fails = append(fails, tree.Failure{Path: sigObj.Path, Reason: err.Error()})
		default:
			if f := compare(*sigObj, int64(len(data)), sha256.Sum256(data)); f != "" {
				fails = append(fails, tree.Failure{Path: sigObj.Path, Reason: f})
			} else {
				sig = data
			}
		}
	}
	rc, _, err := lim.OpenObject(ctx, src, obj.Path, 0, obj.Size)
	if errors.Is(err, tree.ErrNotExist) {
		return append(fails, tree.Failure{Path: obj.Path, Reason: "missing"}), 0, false
	}
	if err != nil {
		return append(fails, tree.Failure{Path: obj.Path, Reason: err.Error()}), 0, false
	}
	defer rc.Close()
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(rc, h)}
	var sigErr error
	if sig != nil {
		sigErr = key.Verify(sig, cr)
	}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return append(fails, tree.Failure{Path: obj.Path, Reason: "read: " + err.Error()}), cr.n, false
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	if f := compare(obj, cr.n, sum); f != "" {
		fails = append(fails, tree.Failure{Path: obj.Path, Reason: f})
	}
	if sig != nil {
		if sigErr != nil {
			fails = append(fails, tree.Failure{Path: sigObj.Path, Reason: sigErr.Error() + " for " + path.Base(obj.Path)})
		} else {
			sigOK = true
		}
	}
	return fails, cr.n, sigOK
}

// checkRebasedList checks a URL list that may have been rebased: as it is,
// or mapped back to the manifest's base, it must be exactly the signed list.
func checkRebasedList(ctx context.Context, src tree.Reader, lim tree.Limits, obj tree.Object, to, from string) (fails []tree.Failure, n int64, mapped bool) {
	data, err := lim.ReadAll(ctx, src, obj.Path, rebasedSize(obj.Size, to, from))
	if errors.Is(err, tree.ErrNotExist) {
		return []tree.Failure{{Path: obj.Path, Reason: "missing"}}, 0, false
	}
	if err != nil {
		return []tree.Failure{{Path: obj.Path, Reason: err.Error()}}, 0, false
	}
	if compare(obj, int64(len(data)), sha256.Sum256(data)) == "" {
		return nil, int64(len(data)), false
	}
	orig, err := tree.ReplaceBase(data, to, from)
	if err != nil {
		return []tree.Failure{{Path: obj.Path, Reason: "differs from the manifest, and is not a rebased list: " + err.Error()}}, int64(len(data)), false
	}
	if f := compare(obj, int64(len(orig)), sha256.Sum256(orig)); f != "" {
		return []tree.Failure{{Path: obj.Path, Reason: "mapped back to " + from + ": " + f}}, int64(len(data)), false
	}
	return nil, int64(len(data)), true
}

// checkMirrorNote checks the mirror note (tree.MirrorNotePath): the
// build's bytes, or in their place a partial mirror's note, accepted only
// as the exact rendering of valid data (returned) and, where the mirror's
// state is known (leftOut not nil), naming only files it left out.
func checkMirrorNote(ctx context.Context, src tree.Reader, lim tree.Limits, obj tree.Object, leftOut map[string]bool) (fails []tree.Failure, n int64, note *tree.MirrorNote) {
	data, err := lim.ReadAll(ctx, src, obj.Path, max(obj.Size, tree.MirrorNoteMax))
	if errors.Is(err, tree.ErrNotExist) {
		return []tree.Failure{{Path: obj.Path, Reason: "missing"}}, 0, nil
	}
	if err != nil {
		return []tree.Failure{{Path: obj.Path, Reason: err.Error()}}, 0, nil
	}
	n = int64(len(data))
	f := compare(obj, n, sha256.Sum256(data))
	if f == "" {
		return nil, n, nil
	}
	note, err = tree.ParseMirrorNote(data)
	if err != nil {
		return []tree.Failure{{Path: obj.Path, Reason: f + ", and it is not a mirror's note: " + err.Error()}}, n, nil
	}
	if leftOut != nil {
		for _, p := range note.LeftOut {
			if !leftOut[p] {
				return []tree.Failure{{Path: obj.Path, Reason: fmt.Sprintf("a mirror's note naming %s, which the mirror's state does not list as left out", p)}}, n, nil
			}
		}
	}
	return nil, n, note
}

// rebasedSize is the largest a list of size bytes can be once rebased from
// one base to another: every line starts with from, and becomes to.
func rebasedSize(size int64, to, from string) int64 {
	grow := int64(len(to) - len(from))
	if grow <= 0 || len(from) == 0 {
		return size
	}
	return size + size/int64(len(from))*grow
}

func compare(o tree.Object, size int64, sum [32]byte) string {
	if size != o.Size {
		return fmt.Sprintf("size %d, manifest says %d", size, o.Size)
	}
	if got := hex.EncodeToString(sum[:]); got != o.SHA256 {
		return fmt.Sprintf("sha256 %s…, manifest says %s…", got[:12], o.SHA256[:12])
	}
	return ""
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ApplyMirrorState fills in what a mirror in dir says about itself: the
// objects it left out by choice and the base its URL lists were rebased
// to. A directory that is not a mirror changes nothing.
func (o *Options) ApplyMirrorState(dir string) error {
	st, err := mirror.ReadState(dir)
	if err != nil || st == nil {
		return err
	}
	o.LeftOut = mirror.PathSet(st.LeftOut)
	o.RebasedTo = st.BaseURL
	return nil
}
