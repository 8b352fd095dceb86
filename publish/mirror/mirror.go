package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/internal/workers"
)

// Options tune Mirror.
type Options struct {
	Jobs         int       // parallel downloads; default 8
	Now          time.Time // default time.Now()
	AllowExpired bool      // mirror an expired manifest (the result says how old)
	// Prune removes objects the manifest (or the filter) no longer wants,
	// once everything new is in place. Without it, a partial mirror keeps
	// what earlier filters brought.
	Prune    bool
	Filter   *Filter // nil or empty for a full mirror
	Retries  int     // attempts per object; default 5
	Progress func(tree.Progress)
	// SourceName is recorded in the state file (the URL as typed).
	SourceName string
	// Force adopts a destination that holds files but is not a mirror
	// yet. Even then prune removes only what an earlier mirror wrote.
	Force bool
	// MaxManifestSize bounds the manifest read before its signature is
	// checked; default tree.DefaultMaxManifestSize.
	MaxManifestSize int64
	// Stall bounds the wait for a response and for each next byte of it,
	// for the manifest and every object; default tree.DefaultStallTimeout.
	Stall time.Duration
}

// limits are the bounds of every read of the source.
func (o *Options) limits() tree.Limits {
	return tree.Limits{MaxManifestSize: o.MaxManifestSize, Stall: o.Stall}
}

// Result is what a mirror did.
type Result struct {
	Manifest *tree.Manifest
	Fetched  int   // objects downloaded
	Resumed  int   // of which continued from an interrupted download
	Bytes    int64 // bytes downloaded
	Skipped  int   // objects already in place with the right digest
	Removed  int
	LeftOut  int // artifacts a partial mirror left out by choice
	Failures []tree.Failure
	Notes    []string
}

// TrustError is a manifest refused before anything was written: not signed
// by the key, expired, or older than the one already mirrored.
type TrustError struct{ Reason string }

func (e *TrustError) Error() string { return e.Reason }

// ErrFailed is returned when some objects could not be fetched and
// verified; the result names them. Nothing unverified is left in place.
var ErrFailed = errors.New("mirror did not complete")

// Mirror copies the tree at src into the local directory dest, verifying
// everything: the manifest's signature with the pinned key, its expiry and
// version against the last mirror into dest, then each object's size and
// SHA-256 before it takes its place. Objects already in dest with the right
// digest are not fetched; interrupted downloads resume.
func Mirror(ctx context.Context, src tree.Reader, key *sign.Verifier, dest string, o Options) (*Result, error) {
	o.setDefaults()
	state, err := openDest(dest, o.Force)
	if err != nil {
		return nil, err
	}
	res, raw, sig, err := trustManifest(ctx, src, key, state, o)
	if err != nil {
		return res, err
	}
	m := res.Manifest
	// What an earlier mirror wrote, read before this one replaces the
	// manifest: nothing else is ever pruned.
	owned := previousObjects(dest, state)
	if o.Prune && state != nil && owned == nil {
		res.Notes = append(res.Notes, fmt.Sprintf("nothing pruned: the manifest of the last mirror into %s is gone, so what it wrote is not known", dest))
	}
	wanted, leftOut, err := o.Filter.split(ctx, src, o.limits(), m)
	if err != nil {
		return res, err
	}
	res.LeftOut = len(leftOut)

	// Only now, with the manifest trusted, is anything written.
	mr, err := newMirrorer(src, dest, o, res)
	if err != nil {
		return res, err
	}
	defer mr.root.Close()
	mr.notes = notesLeftOut(m, o.Filter)
	if err := mr.fetchWanted(ctx, wanted); err != nil {
		return res, err
	}
	if mr.notes {
		// In place before the manifest that lists it, like every object.
		if err := mr.writeNote(stillMissing(dest, slices.Clone(leftOut))); err != nil {
			return res, err
		}
	}
	if err := mr.putManifest(raw, sig); err != nil {
		return res, err
	}
	if o.Prune {
		if err := mr.prune(owned, wanted); err != nil {
			return res, err
		}
	}
	leftOut = stillMissing(dest, leftOut)
	res.LeftOut = len(leftOut)
	if mr.notes && o.Prune { // prune may have removed artifacts an earlier filter kept
		if err := mr.writeNote(leftOut); err != nil {
			return res, err
		}
	}
	newState := &State{Version: m.Version, ManifestSHA256: tree.Digest(raw), KeyID: key.KeyID(), Source: o.SourceName, LeftOut: leftOut}
	if !o.Filter.Empty() {
		newState.Filter = o.Filter
	}
	return res, commitState(dest, newState, raw, state)
}

func (o *Options) setDefaults() {
	if o.Jobs <= 0 {
		o.Jobs = 8
	}
	if o.Retries <= 0 {
		o.Retries = 5
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
}

// openDest checks that dest may be mirrored into and returns its state
// (nil for a new mirror). It writes nothing.
func openDest(dest string, force bool) (*State, error) {
	if fi, err := os.Stat(dest); err == nil && !fi.IsDir() {
		return nil, &tree.TargetError{Target: dest, Reason: "is a file, not a directory"}
	}
	state, err := ReadState(dest)
	if err != nil {
		return nil, err
	}
	if err := checkAdoptable(dest, force, "mirror"); err != nil {
		return nil, err
	}
	return state, nil
}

// trustManifest fetches the source's manifest and accepts it only if it
// verifies with key, is not expired (unless allowed, with a note) and does
// not roll back or replace what dest already mirrored. The result it
// returns carries the manifest whenever one was read.
func trustManifest(ctx context.Context, src tree.Reader, key *sign.Verifier, state *State, o Options) (res *Result, raw, sig []byte, err error) {
	m, raw, sig, err := fetchManifestRetry(ctx, src, key, o.Retries, o.limits(), tree.Policy{Now: o.Now, AllowExpired: o.AllowExpired})
	var expired *tree.ExpiredError
	if errors.As(err, &expired) {
		return &Result{Manifest: m}, nil, nil, &TrustError{Reason: expired.Error() + "; the publisher must renew it, or pass --allow-expired; nothing was written"}
	}
	if err != nil {
		return nil, nil, nil, err
	}
	res = &Result{Manifest: m}
	if exp := m.Expiry(o.Now); exp != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("mirroring an EXPIRED manifest: it expired %s ago (at %s)", exp.Age, exp.Expires.Format(time.RFC3339)))
	}
	if err := checkAgainstState(m, raw, key, state); err != nil {
		return res, nil, nil, err
	}
	return res, raw, sig, nil
}

// split divides the manifest's objects into those to mirror and the
// artifacts the filter leaves out; every page, list and signature of a
// kept artifact is mirrored. A nil or empty filter keeps everything.
func (f *Filter) split(ctx context.Context, src tree.Reader, lim tree.Limits, m *tree.Manifest) (wanted []tree.Object, leftOut []string, err error) {
	if f.Empty() {
		return m.Objects, nil, nil
	}
	keep, err := f.selectArtifacts(ctx, src, lim, m)
	if err != nil {
		return nil, nil, err
	}
	for _, obj := range m.Objects {
		if strings.HasPrefix(obj.Path, "artifacts/") && !keep[obj.Path] {
			leftOut = append(leftOut, obj.Path)
			continue
		}
		wanted = append(wanted, obj)
	}
	return wanted, leftOut, nil
}

// newMirrorer creates dest and its state folder and opens dest as the
// root every write goes through.
func newMirrorer(src tree.Reader, dest string, o Options, res *Result) (*mirrorer, error) {
	if err := os.MkdirAll(filepath.Join(dest, StateDir, "partial"), 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return nil, err
	}
	return &mirrorer{src: src, root: root, dest: dest, o: o, res: res}, nil
}

// fetchWanted downloads every wanted object dest lacks; any failure is an
// ErrFailed that leaves dest's earlier manifest in place.
func (mr *mirrorer) fetchWanted(ctx context.Context, wanted []tree.Object) error {
	need, err := mr.inventory(ctx, wanted)
	if err != nil {
		return err
	}
	if err := mr.fetchAll(ctx, need); err != nil {
		return err
	}
	if f := mr.res.Failures; len(f) > 0 {
		sort.Slice(f, func(i, j int) bool { return f[i].Path < f[j].Path })
		return fmt.Errorf("%w: %d objects failed; %s still holds its earlier manifest", ErrFailed, len(f), mr.dest)
	}
	return nil
}

// putManifest flushes every object to disk, then writes the signature and
// the manifest last: a manifest in dest always lists objects already there.
func (mr *mirrorer) putManifest(raw, sig []byte) error {
	if err := atomicfile.SyncFS(mr.dest); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(mr.dest, tree.ManifestSigName), sig, 0o644); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(mr.dest, tree.ManifestName), raw, 0o644)
}

// stillMissing returns the left-out artifacts dest lacks now: a partial
// mirror kept without pruning may hold artifacts an earlier filter chose,
// and those are not left out.
func stillMissing(dest string, leftOut []string) []string {
	kept := leftOut[:0]
	for _, p := range leftOut {
		if fi, err := os.Stat(filepath.Join(dest, filepath.FromSlash(p))); err != nil || !fi.Mode().IsRegular() {
			kept = append(kept, p)
		}
	}
	return kept
}

// fetchManifestRetry fetches the manifest, retrying transient failures and
// a signature that does not match because a publish replaced the manifest
// between the two reads. A missing, too large, invalid or expired manifest
// is not retried; an expired one comes back with its *tree.ExpiredError.
func fetchManifestRetry(ctx context.Context, src tree.Reader, key *sign.Verifier, attempts int, lim tree.Limits, p tree.Policy) (*tree.Manifest, []byte, []byte, error) {
	var lastErr error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			if err := sleep(ctx, backoff(i)); err != nil {
				return nil, nil, nil, err
			}
		}
		m, raw, sig, err := lim.Fetch(ctx, src, key, p)
		var expired *tree.ExpiredError
		if err == nil || errors.As(err, &expired) {
			return m, raw, sig, err
		}
		lastErr = err
		var tooLarge *tree.TooLargeError
		var invalid *tree.InvalidError
		if errors.Is(err, tree.ErrNotExist) || errors.As(err, &tooLarge) || errors.As(err, &invalid) {
			break
		}
	}
	if errors.Is(lastErr, sign.ErrBadSignature) {
		return nil, nil, nil, &TrustError{Reason: fmt.Sprintf("%s at %s: %v; nothing was written", tree.ManifestName, src, lastErr)}
	}
	return nil, nil, nil, fmt.Errorf("%s at %s: %w", tree.ManifestName, src, lastErr)
}

type mirrorer struct {
	src  tree.Reader
	root *os.Root // every write into dest goes through it: no symlink leads out
	dest string
	o    Options
	mu   sync.Mutex
	res  *Result
	dirs sync.Map // folders known to exist
	// notes: this partial mirror writes its own mirror note (note.go)
	// in place of the build's.
	notes bool
}

type fetch struct {
	obj   tree.Object
	phase tree.Phase
}

// inventory returns the wanted objects dest lacks or holds with other
// bytes, in publish's phases so that a mirror being served stays
// consistent while it updates.
func (mr *mirrorer) inventory(ctx context.Context, wanted []tree.Object) ([]fetch, error) {
	var (
		need []fetch
		mu   sync.Mutex
	)
	err := workers.Each(ctx, mr.o.Jobs, len(wanted), func(i int) error {
		obj := wanted[i]
		have, size, err := mr.digest(obj.Path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			// This object cannot be read or placed here (a name too long
			// for this filesystem, a folder where a file goes): it fails
			// alone, and the others are still fetched.
			mr.fail(obj.Path, unplaceable(mr.dest, err))
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil && size == obj.Size && have == obj.SHA256:
			mr.res.Skipped++
		case mr.notes && obj.Path == tree.MirrorNotePath:
			// Not fetched: writeNote puts this mirror's own in place.
		default:
			need = append(need, fetch{obj, tree.PhaseOf(obj.Path, !errors.Is(err, fs.ErrNotExist))})
		}
		return nil
	})
	sort.Slice(need, func(i, j int) bool {
		if need[i].phase != need[j].phase {
			return need[i].phase < need[j].phase
		}
		return need[i].obj.Path < need[j].obj.Path
	})
	return need, err
}

// digest hashes a file already in dest. A plain open is enough for
// reading: whatever a path leads to, only bytes with the manifest's
// digest are taken as present.
func (mr *mirrorer) digest(p string) (string, int64, error) {
	f, err := os.Open(filepath.Join(mr.dest, filepath.FromSlash(p)))
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return "", 0, fs.ErrNotExist
	}
	return tree.DigestReader(f)
}

// fail records an object that could not be mirrored.
func (mr *mirrorer) fail(p string, err error) {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	mr.res.Failures = append(mr.res.Failures, tree.Failure{Path: p, Reason: err.Error()})
}

func (mr *mirrorer) fetchAll(ctx context.Context, need []fetch) error {
	var total, done int64
	failed := 0 // downloads that failed, which later phases would link to
	for _, f := range need {
		total += f.obj.Size
	}
	var doneN atomic.Int64
	for start := 0; start < len(need); {
		end := start
		for end < len(need) && need[end].phase == need[start].phase {
			end++
		}
		batch := need[start:end]
		workers.Each(ctx, mr.o.Jobs, len(batch), func(i int) error {
			f := batch[i]
			n, resumed, err := mr.fetchOne(ctx, f.obj)
			mr.mu.Lock()
			var cannotPlace *placeError
			if err != nil {
				mr.res.Failures = append(mr.res.Failures, tree.Failure{Path: f.obj.Path, Reason: err.Error()})
				// An object this folder cannot hold will never be there:
				// holding back the phases after it would not help.
				if !errors.As(err, &cannotPlace) {
					failed++
				}
			} else {
				mr.res.Fetched++
				if resumed {
					mr.res.Resumed++
				}
			}
			mr.res.Bytes += n
			done += f.obj.Size
			d := done
			mr.mu.Unlock()
			if mr.o.Progress != nil {
				mr.o.Progress(tree.Progress{Phase: f.phase.String(), Done: int(doneN.Add(1)), Total: len(need), Bytes: d, TotalBytes: total})
			}
			return nil
		})
		if err := ctx.Err(); err != nil {
			return err
		}
		if failed > 0 {
			return nil // later phases would link to what failed
		}
		start = end
	}
	return nil
}

// fetchOne downloads one object into a partial file, resuming what an
// earlier run left, verifies size and SHA-256, and only then renames it
// into place. It retries transient failures from where it stopped.
func (mr *mirrorer) fetchOne(ctx context.Context, obj tree.Object) (fetched int64, resumed bool, err error) {
	partial := filepath.Join(StateDir, "partial", scratchName(obj))
	progressed := false
	for attempt := 0; attempt < mr.o.Retries; attempt++ {
		// A download cut after some bytes resumes at once; a request that
		// got nothing waits, in case the source is overloaded.
		if attempt > 0 && !progressed {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return fetched, resumed, err
			}
		}
		n, res, done, ferr := mr.tryFetch(ctx, obj, partial)
		progressed = n > 0
		fetched += n
		resumed = resumed || res
		if ferr == nil && done {
			return fetched, resumed, nil
		}
		err = ferr
		var bad *badContent
		var cannotPlace *placeError
		if errors.As(ferr, &bad) || errors.As(ferr, &cannotPlace) || errors.Is(ferr, tree.ErrNotExist) || ctx.Err() != nil {
			break // a wrong, missing or unplaceable object does not get better by asking again
		}
	}
	return fetched, resumed, err
}

// scratchName names an object's file in the state folder while it is
// downloaded or joined: one per path and content, so that objects with
// equal bytes are handled side by side, and a changed object never
// resumes old bytes.
func scratchName(obj tree.Object) string {
	return tree.Digest([]byte(obj.Path))[:32] + "-" + obj.SHA256[:32]
}

// placeError is a verified object that dest cannot hold (a name too long
// for its filesystem, a file where a folder goes): asking the source again
// does not help.
type placeError struct{ err error }

func (e *placeError) Error() string { return e.err.Error() }
func (e *placeError) Unwrap() error { return e.err }

// unplaceable says which folder cannot hold an object, and why, without
// repeating the object's path.
func unplaceable(dest string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &le):
		err = le.Err
	case errors.As(err, &pe):
		err = pe.Err
	}
	return &placeError{fmt.Errorf("cannot be placed in %s: %w", dest, err)}
}

// badContent is an object whose bytes are not the manifest's.
type badContent struct{ msg string }

func (e *badContent) Error() string { return e.msg }

func (mr *mirrorer) tryFetch(ctx context.Context, obj tree.Object, partial string) (n int64, resumed, done bool, err error) {
	// The partial folder is packstudio's own: plain paths are safe there.
	f, err := os.OpenFile(filepath.Join(mr.dest, partial), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return 0, false, false, err
	}
	defer f.Close()
	// Hash what an earlier attempt or run already has.
	h := sha256.New()
	have, err := io.Copy(h, f)
	if err != nil {
		return 0, false, false, err
	}
	if have > obj.Size {
		f.Truncate(0)
		f.Seek(0, io.SeekStart)
		h.Reset()
		have = 0
	}
	if have < obj.Size {
		// Never take more than the manifest promises (one byte more shows
		// a longer object), nor wait on a stalled connection.
		body, start, err := mr.o.limits().OpenObject(ctx, mr.src, obj.Path, have, obj.Size)
		if err != nil {
			return 0, false, false, err
		}
		defer body.Close()
		if start != have { // the store ignored the range: start over
			f.Truncate(0)
			f.Seek(0, io.SeekStart)
			h.Reset()
			have = 0
		}
		resumed = have > 0
		n, err = io.Copy(io.MultiWriter(f, h), body)
		have += n
		if err != nil {
			return n, resumed, false, fmt.Errorf("download interrupted after %d of %d bytes: %w", have, obj.Size, err)
		}
		if have < obj.Size {
			return n, resumed, false, fmt.Errorf("truncated: %d of %d bytes", have, obj.Size)
		}
	}
	got := hex.EncodeToString(h.Sum(nil))
	if have != obj.Size || got != obj.SHA256 {
		f.Close()
		os.Remove(filepath.Join(mr.dest, partial)) // never leave unverified bytes to be resumed
		return n, resumed, false, &badContent{fmt.Sprintf("tampered or corrupt: size %d, sha256 %s…; the manifest says size %d, sha256 %s…", have, got[:12], obj.Size, obj.SHA256[:12])}
	}
	// No fsync per object: the whole filesystem is synced once before the
	// manifest is written, and a later run re-checks every digest anyway.
	f.Close()
	if dir := path.Dir(obj.Path); dir != "." {
		if _, ok := mr.dirs.Load(dir); !ok {
			if err := mr.root.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
				return n, resumed, false, unplaceable(mr.dest, err)
			}
			mr.dirs.Store(dir, true)
		}
	}
	if err := mr.root.Rename(partial, filepath.FromSlash(obj.Path)); err != nil {
		return n, resumed, false, unplaceable(mr.dest, err)
	}
	return n, resumed, true, nil
}

// prune removes the files an earlier mirror wrote (owned) that are not
// wanted any more, then the folders left empty. Nothing else in dest is
// touched: files put there by anyone else stay.
func (mr *mirrorer) prune(owned map[string]bool, wanted []tree.Object) error {
	keep := make(map[string]bool, len(wanted))
	for _, o := range wanted {
		keep[o.Path] = true
	}
	var drop []string
	for _, f := range sortedKeys(owned) {
		if !keep[f] {
			drop = append(drop, f)
		}
	}
	removed, err := removeOwned(mr.root, drop)
	mr.res.Removed += len(removed)
	return err
}

func backoff(attempt int) time.Duration {
	d := 200 * time.Millisecond << min(attempt, 5)
	return min(d, 5*time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
