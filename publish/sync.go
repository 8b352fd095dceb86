package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/internal/workers"
)

// SyncOptions tune Publish.
type SyncOptions struct {
	Jobs   int  // parallel requests; default 16
	DryRun bool // plan only
	// Prune deletes, once the new manifest is live, the objects the
	// bucket's previous manifest listed and the new one does not: only
	// what an earlier publish of this site wrote, never anything else.
	Prune bool
	// Force publishes into a target that holds objects but no manifest
	// signed by the key (another site, a user's files); it still deletes
	// nothing publish did not write.
	Force bool
	// Repair compares every object even when the bucket already serves this
	// manifest, putting back objects removed or replaced behind publish's
	// back. Prune implies it.
	Repair bool
	// Progress, when set, is called after each object is uploaded or deleted.
	Progress func(tree.Progress)
}

// Action is one planned upload.
type Action struct {
	Key    string
	Size   int64
	SHA256 string
	Phase  tree.Phase
	Reason string // "new", "changed", or "unverified" (same size, no record of content)
}

// SyncPlan is what a publish will do.
type SyncPlan struct {
	Uploads []Action // in phase order
	Deletes []string
	Skipped int
	Bytes   int64
	Notes   []string
}

// SyncResult is what a publish did.
type SyncResult struct {
	Plan     *SyncPlan
	Uploaded int
	Bytes    int64
	Deleted  int
	Failures []tree.Failure
}

// ErrSyncFailed is returned when some objects could not be uploaded; the
// result lists them, and the bucket's manifest is still the old one.
var ErrSyncFailed = errors.New("publish did not complete")

// Publish syncs the built tree in dir to dst by content: an object is
// uploaded only if the bucket lacks it or holds other bytes, judged by the
// bucket's own signed manifest when it verifies with key, else by the
// SHA-256 recorded at upload, else by uploading.
func Publish(ctx context.Context, dir string, key *sign.Verifier, dst Bucket, o SyncOptions) (*SyncResult, error) {
	if o.Jobs <= 0 {
		o.Jobs = 16
	}
	local, err := tree.OpenDir(dir)
	if err != nil {
		return nil, &tree.TargetError{Target: dir, Reason: err.Error()}
	}
	defer local.Close()
	m, raw, sig, err := tree.Fetch(ctx, local, key, tree.DefaultMaxManifestSize, tree.AnyDate)
	if err != nil {
		return nil, fmt.Errorf("the built tree %s: %s: %w; rebuild it before publishing", dir, tree.ManifestName, err)
	}
	served, sraw, ssig, serr := tree.Fetch(ctx, dst, key, tree.DefaultMaxManifestSize, tree.AnyDate)
	live := serr == nil && bytes.Equal(sraw, raw) && bytes.Equal(ssig, sig)
	if serr == nil && !live && m.Version <= served.Version {
		return nil, fmt.Errorf("%v holds manifest version %d; this tree's is version %d: a lower or equal version may not replace it, or every mirror of it would refuse later updates as a rollback (rebuild, so the version grows)", dst, served.Version, m.Version)
	}
	if live && !o.Prune && !o.Repair {
		// The manifest goes last, so a bucket serving exactly this manifest
		// holds every object it lists, unless someone else removed one:
		// nothing to compare, one GET.
		return &SyncResult{Plan: &SyncPlan{Skipped: len(m.Objects) + 2,
			Notes: []string{fmt.Sprintf("the bucket already serves manifest version %d (--repair compares every object)", m.Version)}}}, nil
	}
	if err := checkLocalSizes(dir, m); err != nil {
		return nil, err
	}
	plan, err := planSync(ctx, syncState{local: m, raw: raw, sig: sig, served: served, servedErr: serr, live: live}, dst, o)
	if err != nil {
		return nil, err
	}
	res := &SyncResult{Plan: plan}
	if o.DryRun {
		return res, nil
	}
	if err := execute(ctx, local, raw, sig, dst, plan, o, res); err != nil {
		return res, err
	}
	return res, nil
}

// checkLocalSizes catches a tree changed after it was built, before any
// upload; contents are checked as they are uploaded. One walk of the tree
// costs far less than a stat through os.Root per object.
func checkLocalSizes(dir string, m *tree.Manifest) error {
	sizes := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sizes[filepath.ToSlash(rel)] = fi.Size()
		return nil
	})
	if err != nil {
		return err
	}
	var bad []string
	for _, obj := range m.Objects {
		size, ok := sizes[obj.Path]
		switch {
		case !ok:
			bad = append(bad, obj.Path+": missing")
		case size != obj.Size:
			bad = append(bad, fmt.Sprintf("%s: size %d, manifest says %d", obj.Path, size, obj.Size))
		}
		if len(bad) == 10 {
			bad = append(bad, "…")
			break
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the built tree %s does not match its manifest; rebuild it before publishing:\n  %s", dir, strings.Join(bad, "\n  "))
	}
	return nil
}

// syncState is what planSync compares: the built tree's manifest, as
// parsed and as signed bytes, and what the bucket serves.
type syncState struct {
	local    *tree.Manifest
	raw, sig []byte // the local manifest and its signature, as uploaded
	// served is the bucket's own verified manifest; nil, with servedErr,
	// when there is none or it does not verify.
	served    *tree.Manifest
	servedErr error
	// live says the bucket serves the local manifest byte for byte.
	live bool
}

// planSync compares the local manifest with the bucket's listing and
// returns what to upload, in phase order, and what to delete.
func planSync(ctx context.Context, s syncState, dst Bucket, o SyncOptions) (*SyncPlan, error) {
	plan := &SyncPlan{}
	listing, err := dst.List(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkOwned(s, dst, listing, o.Force); err != nil {
		return nil, err
	}
	known := s.vouchedFor(plan)
	unsure := plan.compare(s.local, listing, known)
	if err := plan.headUnsure(ctx, dst, unsure, o.Jobs); err != nil {
		return nil, err
	}
	plan.addManifest(s)
	plan.sortUploads()
	if o.Prune {
		plan.deleteDropped(s, listing)
	}
	return plan, nil
}

// checkOwned refuses a target without a manifest signed by the key that
// holds objects the tree does not list, unless forced: publish would mix
// this site into another's objects or a user's files. Objects at the
// tree's own paths are what a killed first publish left, and are fine.
func checkOwned(s syncState, dst Bucket, listing []tree.ObjectInfo, force bool) error {
	if s.served != nil || force {
		return nil
	}
	ours := s.local.Index()
	var others []string
	for _, obj := range listing {
		if _, ok := ours[obj.Key]; !ok && obj.Key != tree.ManifestName && obj.Key != tree.ManifestSigName {
			others = append(others, obj.Key)
		}
	}
	if len(others) == 0 {
		return nil
	}
	sort.Strings(others)
	why := "no " + tree.ManifestName
	if !errors.Is(s.servedErr, tree.ErrNotExist) {
		why = fmt.Sprintf("a %s that does not verify with this site's key (%v)", tree.ManifestName, s.servedErr)
	}
	some := strings.Join(others[:min(3, len(others))], ", ")
	if len(others) > 3 {
		some += ", …"
	}
	return &tree.TargetError{Target: fmt.Sprint(dst), Reason: fmt.Sprintf(
		"holds %d objects this site does not have (%s) and %s, so it is not this site as publish left it; publish into an empty target, or pass --force to publish beside them (publish never deletes what it did not write)",
		len(others), some, why)}
}

// vouchedFor returns the contents the bucket's own manifest vouches for;
// a manifest that is there but unusable is noted in the plan.
func (s syncState) vouchedFor(plan *SyncPlan) map[string]tree.Object {
	if s.served != nil {
		return s.served.Index()
	}
	if !errors.Is(s.servedErr, tree.ErrNotExist) {
		plan.Notes = append(plan.Notes, fmt.Sprintf("the bucket's manifest is not usable (%v); comparing objects one by one", s.servedErr))
	}
	return nil
}

// compare plans each object of m against the listing: skipped when the
// bucket holds it with the size and digest its manifest vouches for, new
// or changed when it lacks it or holds another size. Objects of the same
// size whose content is unknown are returned, for headUnsure.
func (p *SyncPlan) compare(m *tree.Manifest, listing []tree.ObjectInfo, known map[string]tree.Object) (unsure []tree.Object) {
	remote := make(map[string]int64, len(listing))
	for _, obj := range listing {
		remote[obj.Key] = obj.Size
	}
	for _, obj := range m.Objects {
		size, exists := remote[obj.Path]
		switch {
		case exists && size == obj.Size && known[obj.Path].SHA256 == obj.SHA256:
			p.Skipped++
		case exists && size == obj.Size:
			unsure = append(unsure, obj)
		case exists:
			p.add(obj, "changed")
		default:
			p.add(obj, "new")
		}
	}
	return unsure
}

// headUnsure asks the store about each unsure object in parallel: the
// SHA-256 recorded at upload tells whether a killed publish already put
// this exact object.
func (p *SyncPlan) headUnsure(ctx context.Context, dst Bucket, unsure []tree.Object, jobs int) error {
	var mu sync.Mutex
	return workers.Each(ctx, jobs, len(unsure), func(i int) error {
		obj := unsure[i]
		info, err := dst.Head(ctx, obj.Path)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil && info.SHA256 == obj.SHA256 && info.Size == obj.Size:
			p.Skipped++
		case err == nil || errors.Is(err, tree.ErrNotExist):
			p.add(obj, "unverified")
		default:
			return err
		}
		return nil
	})
}

// addManifest plans the signature and the manifest unless they are live.
func (p *SyncPlan) addManifest(s syncState) {
	if s.live {
		p.Skipped += 2 // the manifest and its signature, counted as the fast path does
		return
	}
	p.Uploads = append(p.Uploads,
		Action{Key: tree.ManifestSigName, Size: int64(len(s.sig)), SHA256: tree.Digest(s.sig), Phase: tree.PhaseManifest, Reason: "new manifest"},
		Action{Key: tree.ManifestName, Size: int64(len(s.raw)), SHA256: tree.Digest(s.raw), Phase: tree.PhaseManifest, Reason: "new manifest"})
	p.Bytes += int64(len(s.sig) + len(s.raw))
}

// sortUploads puts the uploads in phase order, by key within a phase,
// and the manifest's signature before the manifest.
func (p *SyncPlan) sortUploads() {
	sort.SliceStable(p.Uploads, func(i, j int) bool {
		a, b := p.Uploads[i], p.Uploads[j]
		if a.Phase != b.Phase {
			return a.Phase < b.Phase
		}
		if a.Phase == tree.PhaseManifest {
			return a.Key == tree.ManifestSigName // signature first
		}
		return a.Key < b.Key
	})
}

// deleteDropped plans the deletion of the objects the bucket's previous,
// verified manifest listed, the new one does not and the bucket still
// holds. Nothing else is deleted: without a previous manifest of this
// site, nothing at all.
func (p *SyncPlan) deleteDropped(s syncState, listing []tree.ObjectInfo) {
	if s.served == nil {
		p.Notes = append(p.Notes, "prune: the bucket holds no earlier manifest of this site, so nothing is deleted")
		return
	}
	listed, wrote := s.local.Index(), s.served.Index()
	for _, obj := range listing {
		_, keep := listed[obj.Key]
		_, ours := wrote[obj.Key]
		if ours && !keep {
			p.Deletes = append(p.Deletes, obj.Key)
		}
	}
	sort.Strings(p.Deletes)
}

func (p *SyncPlan) add(obj tree.Object, reason string) {
	phase := tree.PhaseOf(obj.Path, reason != "new")
	p.Uploads = append(p.Uploads, Action{Key: obj.Path, Size: obj.Size, SHA256: obj.SHA256, Phase: phase, Reason: reason})
	p.Bytes += obj.Size
}

// execute runs the plan phase by phase; a phase with a failure stops the
// publish before the next one, so the old manifest stays live.
func execute(ctx context.Context, local *tree.DirReader, raw, sig []byte, dst Bucket, plan *SyncPlan, o SyncOptions, res *SyncResult) error {
	var done atomic.Int64
	var doneBytes atomic.Int64
	total := len(plan.Uploads) + len(plan.Deletes)
	report := func(phase string) {
		if o.Progress != nil {
			o.Progress(tree.Progress{Phase: phase, Done: int(done.Load()), Total: total, Bytes: doneBytes.Load(), TotalBytes: plan.Bytes})
		}
	}
	for start := 0; start < len(plan.Uploads); {
		end := start
		for end < len(plan.Uploads) && plan.Uploads[end].Phase == plan.Uploads[start].Phase {
			end++
		}
		batch := plan.Uploads[start:end]
		phase := batch[0].Phase.String()
		jobs := o.Jobs
		if batch[0].Phase == tree.PhaseManifest {
			jobs = 1 // signature, then manifest
		}
		var mu sync.Mutex
		workers.Each(ctx, jobs, len(batch), func(i int) error {
			a := batch[i]
			err := upload(ctx, local, raw, sig, dst, a)
			mu.Lock()
			if err != nil {
				res.Failures = append(res.Failures, tree.Failure{Path: a.Key, Reason: err.Error()})
			} else {
				res.Uploaded++
				res.Bytes += a.Size
			}
			mu.Unlock()
			done.Add(1)
			doneBytes.Add(a.Size)
			report(phase)
			return nil
		})
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(res.Failures) > 0 {
			sort.Slice(res.Failures, func(i, j int) bool { return res.Failures[i].Path < res.Failures[j].Path })
			return fmt.Errorf("%w: %d of %d %s failed; the bucket still serves its earlier manifest", ErrSyncFailed, len(res.Failures), len(batch), phase)
		}
		start = end
	}
	var mu sync.Mutex
	workers.Each(ctx, o.Jobs, len(plan.Deletes), func(i int) error {
		err := dst.Delete(ctx, plan.Deletes[i])
		mu.Lock()
		if err != nil {
			res.Failures = append(res.Failures, tree.Failure{Path: plan.Deletes[i], Reason: "delete: " + err.Error()})
		} else {
			res.Deleted++
		}
		mu.Unlock()
		done.Add(1)
		report("prune")
		return nil
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(res.Failures) > 0 {
		return fmt.Errorf("%w: %d deletes failed (the new manifest is live)", ErrSyncFailed, len(res.Failures))
	}
	return nil
}

func upload(ctx context.Context, local *tree.DirReader, raw, sig []byte, dst Bucket, a Action) error {
	meta := MetaFor(a.Key, a.Size, a.SHA256)
	switch a.Key {
	case tree.ManifestName:
		return dst.Put(ctx, a.Key, bytes.NewReader(raw), meta)
	case tree.ManifestSigName:
		return dst.Put(ctx, a.Key, bytes.NewReader(sig), meta)
	}
	// A plain open, not one through os.Root (which opens every folder on
	// the way): the store checks the body against the manifest's SHA-256,
	// so whatever a path might lead to, only the signed bytes can land.
	f, err := os.Open(filepath.Join(local.String(), filepath.FromSlash(a.Key)))
	if err != nil {
		return err
	}
	defer f.Close()
	return dst.Put(ctx, a.Key, f, meta)
}
