package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"oras.land/oras-go/v2/registry/remote"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/internal/workers"
	"github.com/packstudio/packstudio/publish/mirror"
)

// PushOptions are a push as the command asks for it.
type PushOptions struct {
	Conn
	// KeyFile is the publisher's key (--key); without it a mirror's pinned
	// key (SourceDir), else the source's own with a warning.
	KeyFile   string
	SourceDir string
	// Filter selects a part of the site, as for a partial mirror.
	Filter          *mirror.Filter
	Jobs            int
	AllowExpired    bool
	MaxManifestSize int64
	Now             time.Time
	Progress        func(tree.Progress)
	// ChunkSize: blobs larger than this go to the registry in chunks of
	// this size, a cut chunk resumed where the registry stands; 0 is
	// DefaultChunkSize.
	ChunkSize int64
}

// PushResult is what a push did.
type PushResult struct {
	KeyWarning string
	Manifest   *tree.Manifest
	Target     Target
	// Artifacts pushed (Tagged) or found already there (Unchanged).
	Tagged, Unchanged int
	// Blobs and bytes actually sent; blobs the registry had are not.
	BlobsSent int
	BytesSent int64
	LeftOut   int
	// Failures are source objects that did not verify: nothing was pushed.
	Failures []tree.Failure
	Notes    []string
}

// ErrSourceFailed is a source with objects that do not verify.
var ErrSourceFailed = errors.New("the source does not verify; nothing was pushed")

// RefusedError is a push the registry's own manifest forbids (rollback,
// another manifest under the same version): nothing was pushed.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

// Push copies the site at src into the registry at loc. The source's
// signed manifest is checked first, then the registry's (a rollback is
// refused), then every selected artifact and signature of the source;
// only then is anything sent. Each artifact is tagged after its blobs and
// signature referrer are in, the manifest's tags last.
func Push(ctx context.Context, src tree.Reader, loc string, o PushOptions) (*PushResult, error) {
	if o.Jobs <= 0 {
		o.Jobs = 8
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	t, err := ParseTarget(loc)
	if err != nil {
		return nil, err
	}
	res := &PushResult{Target: t}
	kopts := mirror.KeyOptions{KeyFile: o.KeyFile, MaxManifestSize: o.MaxManifestSize}
	if o.SourceDir != "" {
		if st, _ := mirror.ReadState(o.SourceDir); st != nil && st.KeyID != "" {
			kopts.Dest = o.SourceDir // a mirror: only its pinned key
		}
	}
	key, warning, err := mirror.TrustedKey(ctx, src, kopts)
	if err != nil {
		return nil, err
	}
	res.KeyWarning = warning
	lim := tree.Limits{MaxManifestSize: o.MaxManifestSize}
	m, raw, sig, err := lim.Fetch(ctx, src, key, tree.Policy{Now: o.Now, AllowExpired: o.AllowExpired})
	var expired *tree.ExpiredError
	if errors.As(err, &expired) {
		return res, &RefusedError{Reason: "source " + expired.Error() + "; the publisher must renew it, or pass --allow-expired; nothing was pushed"}
	}
	if err != nil {
		return res, err
	}
	res.Manifest = m
	if exp := m.Expiry(o.Now); exp != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("pushing an EXPIRED manifest: it expired %s ago (at %s)", exp.Age, exp.Expires.Format(time.RFC3339)))
	}
	refs, leftOut, err := selectRefs(ctx, src, lim, m, o.Filter)
	if err != nil {
		return res, err
	}
	res.LeftOut = leftOut

	reg, err := connect(t, o.Conn)
	if err != nil {
		return res, err
	}
	prev, err := reg.readHeld(ctx, key, o.MaxManifestSize, tree.AnyDate)
	if errors.Is(err, ErrNotSigned) {
		return res, &RefusedError{Reason: err.Error() + "; it holds another publisher's site: push to another prefix; nothing was pushed"}
	}
	if err != nil {
		return res, err
	}
	if err := checkRollback(m, raw, prev, t); err != nil {
		return res, err
	}

	p := &pusher{reg: reg, src: src, lim: lim, key: key, m: m, idx: m.Index(), o: o, res: res, sigs: map[string][]byte{}}
	p.total = len(refs)
	for _, r := range refs {
		p.totalBytes += p.idx[r.Path].Size
	}
	if res.Failures = p.verifySource(ctx, refs); len(res.Failures) > 0 {
		return res, ErrSourceFailed
	}
	p.report("push")
	if err := workers.Each(ctx, o.Jobs, len(refs), func(i int) error { return p.pushArtifact(ctx, refs[i]) }); err != nil {
		return res, err
	}
	pushed := make([]string, 0, len(refs))
	for _, r := range refs {
		pushed = append(pushed, r.Path)
	}
	if prev != nil && prev.Manifest.Version == m.Version && prev.Artifacts != nil && len(pushed) < len(allRefs(m)) {
		pushed = union(pushed, prev.Artifacts) // an earlier partial push of this version
	}
	if err := p.pushSiteManifest(ctx, raw, sig, pushed); err != nil {
		return res, err
	}
	p.report("done")
	return res, nil
}

// selectRefs are the artifacts to push: all, or those the filter keeps.
func selectRefs(ctx context.Context, src tree.Reader, lim tree.Limits, m *tree.Manifest, f *mirror.Filter) (refs []Ref, leftOut int, err error) {
	all := allRefs(m)
	idx := m.Index() // once: the manifest lists every page too
	var problems []string
	for _, o := range m.Objects {
		if _, ok, err := RefOf(o.Path); err != nil {
			problems = append(problems, err.Error())
		} else if ok {
			if _, signed := idx[tree.SigPath(o.Path)]; !signed {
				problems = append(problems, o.Path+": the manifest lists no signature "+tree.SigPath(o.Path)+"; sign it (packstudio sign) and rebuild")
			}
		}
	}
	if len(problems) > 0 {
		return nil, 0, &tree.TargetError{Target: tree.ManifestName, Reason: strings.Join(problems, "; ")}
	}
	if f.Empty() {
		return all, 0, nil
	}
	keep, err := f.Select(ctx, src, lim, m)
	if err != nil {
		return nil, 0, err
	}
	for _, r := range all {
		if keep[r.Path] {
			refs = append(refs, r)
		} else {
			leftOut++
		}
	}
	return refs, leftOut, nil
}

// allRefs are every artifact of the manifest that has a place in a
// registry, in manifest order.
func allRefs(m *tree.Manifest) []Ref {
	var refs []Ref
	for _, o := range m.Objects {
		if r, ok, err := RefOf(o.Path); ok && err == nil {
			refs = append(refs, r)
		}
	}
	return refs
}

// checkRollback refuses a manifest older than the registry's, or another
// manifest under the same version.
func checkRollback(m *tree.Manifest, raw []byte, prev *held, t Target) error {
	if prev == nil {
		return nil
	}
	switch {
	case prev.Manifest.Version > m.Version:
		return &RefusedError{Reason: fmt.Sprintf("rollback: the source's manifest is version %d, older than version %d in %s; nothing was pushed", m.Version, prev.Manifest.Version, t)}
	case prev.Manifest.Version == m.Version && !bytes.Equal(prev.Raw, raw):
		return &RefusedError{Reason: fmt.Sprintf("%s holds another manifest under version %d; rebuild the site (its version then grows) and push that; nothing was pushed", t, m.Version)}
	}
	return nil
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// pusher is one push under way.
type pusher struct {
	reg *registry
	src tree.Reader
	lim tree.Limits
	key *sign.Verifier
	m   *tree.Manifest
	idx map[string]tree.Object
	o   PushOptions
	res *PushResult

	mu   sync.Mutex
	sigs map[string][]byte // verified signatures by artifact path

	total      int
	totalBytes int64
	done       atomic.Int64
	bytes      atomic.Int64
	phase      string
}

func (p *pusher) report(phase string) {
	if p.o.Progress == nil {
		return
	}
	p.mu.Lock()
	if phase != "" {
		p.phase = phase
	}
	pr := tree.Progress{Phase: p.phase, Done: int(p.done.Load()), Total: p.total, Bytes: p.bytes.Load(), TotalBytes: p.totalBytes}
	p.mu.Unlock()
	p.o.Progress(pr)
}

// verifySource reads every selected artifact and its signature from the
// source and checks them against the signed manifest and the key, before
// anything is sent.
func (p *pusher) verifySource(ctx context.Context, refs []Ref) []tree.Failure {
	p.report("verify source")
	var mu sync.Mutex
	var failures []tree.Failure
	workers.Each(ctx, p.o.Jobs, len(refs), func(i int) error {
		if err := p.verifyOne(ctx, refs[i]); err != nil {
			mu.Lock()
			failures = append(failures, tree.Failure{Path: refs[i].Path, Reason: err.Error()})
			mu.Unlock()
		}
		p.done.Add(1)
		p.bytes.Add(p.idx[refs[i].Path].Size)
		p.report("")
		return nil
	})
	if ctx.Err() != nil {
		failures = append(failures, tree.Failure{Path: "(push)", Reason: ctx.Err().Error()})
	}
	slices.SortFunc(failures, func(a, b tree.Failure) int { return strings.Compare(a.Path, b.Path) })
	p.done.Store(0)
	p.bytes.Store(0)
	return failures
}

func (p *pusher) verifyOne(ctx context.Context, r Ref) error {
	obj, sigObj := p.idx[r.Path], p.idx[tree.SigPath(r.Path)]
	sig, err := p.lim.ReadAll(ctx, p.src, sigObj.Path, min(sigObj.Size, tree.MaxSignatureSize))
	if err != nil {
		return fmt.Errorf("signature %s: %w", sigObj.Path, err)
	}
	if tree.Digest(sig) != sigObj.SHA256 {
		return fmt.Errorf("signature %s does not match the manifest (tampered)", sigObj.Path)
	}
	body, _, err := p.lim.OpenObject(ctx, p.src, r.Path, 0, obj.Size)
	if err != nil {
		return err
	}
	defer body.Close()
	h := sha256.New()
	n := &countingWriter{w: h}
	verr := p.key.Verify(sig, io.TeeReader(body, n))
	if _, err := io.Copy(n, body); err != nil {
		return err
	}
	switch {
	case n.n != obj.Size:
		return fmt.Errorf("size %d, the manifest says %d (tampered or truncated)", n.n, obj.Size)
	case hex.EncodeToString(h.Sum(nil)) != obj.SHA256:
		return fmt.Errorf("sha256 does not match the manifest (tampered)")
	case verr != nil:
		return fmt.Errorf("%s: %w", sigObj.Path, verr)
	}
	p.mu.Lock()
	p.sigs[r.Path] = sig
	p.mu.Unlock()
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// layerType is the media type of an artifact's layer.
func layerType(r Ref) string {
	switch r.Kind {
	case "pack", "bundle":
		return ZstdLayer
	case "helm":
		return "application/gzip"
	}
	return FileLayer
}

// pushArtifact pushes one artifact and its signature referrer, then tags
// it; an artifact the tag already holds, with its signature, costs two
// reads.
func (p *pusher) pushArtifact(ctx context.Context, r Ref) (err error) {
	defer func() {
		err = p.reg.explain(r.Repo, r.Tag, err)
		p.done.Add(1)
		p.report("")
	}()
	repo, err := p.reg.repository(r.Repo)
	if err != nil {
		return err
	}
	repo.SkipReferrersGC = true // registries may not allow deletes; a stale index is harmless
	obj, sigObj := p.idx[r.Path], p.idx[tree.SigPath(r.Path)]
	sig := p.sigs[r.Path]
	if same, err := p.alreadyThere(ctx, repo, r, obj, sigObj); err != nil || same {
		if same {
			p.mu.Lock()
			p.res.Unchanged++
			p.mu.Unlock()
		}
		return err
	}

	layer := blobOf(layerType(r), obj.SHA256, obj.Size, path.Base(r.Path))
	config, configBytes := bytesDesc(ocispec.MediaTypeEmptyJSON, emptyConfig), emptyConfig
	artifactType := ArtifactType
	if r.Kind != "pack" {
		artifactType = ReleaseArtifactType
	}
	if r.Kind == "helm" {
		if cfg, ok := p.chartConfig(ctx, r.Path, obj.Size); ok {
			layer.MediaType, config, configBytes, artifactType = HelmLayer, bytesDesc(HelmConfig, cfg), cfg, ""
		}
	}
	ann := map[string]string{
		ocispec.AnnotationTitle:   path.Base(r.Path),
		ocispec.AnnotationVersion: r.Version,
		ocispec.AnnotationCreated: created(p.m.Generated),
		annotationPath:            r.Path,
	}
	if p.m.BaseURL != "" {
		ann[annotationBaseURL] = p.m.BaseURL
		ann[ocispec.AnnotationSource] = strings.TrimSuffix(p.m.BaseURL, "/") + "/" + r.Path
	}
	if err := p.blob(ctx, repo, layer, func(off int64) (io.ReadCloser, error) {
		body, start, err := p.lim.OpenObject(ctx, p.src, r.Path, off, obj.Size)
		if err != nil {
			return nil, err
		}
		if _, err := io.CopyN(io.Discard, body, off-start); err != nil { // a source that cannot start at off
			body.Close()
			return nil, err
		}
		return body, nil
	}); err != nil {
		return err
	}
	if err := p.bytesBlob(ctx, repo, config, configBytes); err != nil {
		return err
	}
	desc, manifest := imageManifest(artifactType, config, layer, nil, ann)
	if _, err := pushManifest(ctx, repo, desc, manifest); err != nil {
		return err
	}
	if err := p.pushSignature(ctx, repo, desc, sigObj, sig); err != nil {
		return err
	}
	if err := tag(ctx, repo, desc, r.Tag); err != nil {
		return err
	}
	p.mu.Lock()
	p.res.Tagged++
	p.mu.Unlock()
	return nil
}

// alreadyThere reports whether the tag holds this artifact's layer and a
// referrer with this signature.
func (p *pusher) alreadyThere(ctx context.Context, repo *remote.Repository, r Ref, obj, sigObj tree.Object) (bool, error) {
	d, man, err := fetchManifest(ctx, repo, r.Tag)
	if err != nil || man == nil {
		return false, nil // pushed again below; a real fault shows there
	}
	if man.Layers[0].Digest.Encoded() != obj.SHA256 || man.Layers[0].Size != obj.Size {
		return false, nil
	}
	refs, err := signatures(ctx, repo, d)
	if err != nil {
		return false, err
	}
	for _, ref := range refs {
		if sl, err := signatureLayer(ctx, repo, ref); err == nil && sl.Digest.Encoded() == sigObj.SHA256 {
			return true, nil
		}
	}
	return false, nil
}

// pushSignature pushes a .sig.bin as a referrer of subject.
func (p *pusher) pushSignature(ctx context.Context, repo *remote.Repository, subject ocispec.Descriptor, sigObj tree.Object, sig []byte) error {
	layer := blobOf(SignatureLayer, sigObj.SHA256, sigObj.Size, path.Base(sigObj.Path))
	if err := p.bytesBlob(ctx, repo, layer, sig); err != nil {
		return err
	}
	// The config's media type is the artifact type too, for registries
	// whose referrers lists still take a referrer's type from its config
	// (pre-1.1 drafts, go-containerregistry's).
	config := bytesDesc(SignatureArtifactType, emptyConfig)
	if err := p.bytesBlob(ctx, repo, config, emptyConfig); err != nil {
		return err
	}
	// Listing the subject's referrers first has oras-go probe for the
	// referrers API, which it otherwise infers from an OCI-Subject header
	// that some registries with the API do not send.
	if _, err := signatures(ctx, repo, subject); err != nil {
		return err
	}
	desc, manifest := imageManifest(SignatureArtifactType, config, layer, &subject, map[string]string{
		ocispec.AnnotationTitle:   path.Base(sigObj.Path),
		ocispec.AnnotationCreated: created(p.m.Generated),
		"dev.packstudio.key-id":   p.key.KeyID(),
	})
	_, err := pushManifest(ctx, repo, desc, manifest)
	return err
}

// pushSiteManifest pushes the signed manifest with its signature as a
// referrer, then tags it with its version and, last of all, latest.
func (p *pusher) pushSiteManifest(ctx context.Context, raw, sig []byte, pushed []string) (err error) {
	defer func() { err = p.reg.explain(ManifestRepo, LatestTag, err) }()
	repo, err := p.reg.repository(ManifestRepo)
	if err != nil {
		return err
	}
	repo.SkipReferrersGC = true
	rec, _ := json.Marshal(pushRecord{Version: p.m.Version, Artifacts: pushed})
	config := bytesDesc(PushConfig, rec)
	layer := blobOf(ManifestLayer, tree.Digest(raw), int64(len(raw)), tree.ManifestName)
	if err := p.bytesBlob(ctx, repo, layer, raw); err != nil {
		return err
	}
	if err := p.bytesBlob(ctx, repo, config, rec); err != nil {
		return err
	}
	version := strconv.FormatInt(p.m.Version, 10)
	ann := map[string]string{
		ocispec.AnnotationTitle:   tree.ManifestName,
		ocispec.AnnotationVersion: version,
		ocispec.AnnotationCreated: created(p.m.Generated),
		annotationVersion:         version,
	}
	if p.m.BaseURL != "" {
		ann[annotationBaseURL] = p.m.BaseURL
	}
	desc, manifest := imageManifest(ManifestArtifactType, config, layer, nil, ann)
	if _, err := pushManifest(ctx, repo, desc, manifest); err != nil {
		return err
	}
	sigObj := tree.Object{Path: tree.ManifestSigName, Size: int64(len(sig)), SHA256: tree.Digest(sig)}
	if err := p.pushSignature(ctx, repo, desc, sigObj, sig); err != nil {
		return err
	}
	if err := tag(ctx, repo, desc, version); err != nil {
		return err
	}
	return tag(ctx, repo, desc, LatestTag)
}

// tag points a tag at desc unless it does already.
func tag(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, name string) error {
	if d, err := repo.Resolve(ctx, name); err == nil && d.Digest == desc.Digest {
		return nil
	}
	return repo.Tag(ctx, desc, name)
}

// chartConfig reads a Helm chart artifact's Chart.yaml from the source.
func (p *pusher) chartConfig(ctx context.Context, pth string, size int64) ([]byte, bool) {
	body, _, err := p.lim.OpenObject(ctx, p.src, pth, 0, size)
	if err != nil {
		return nil, false
	}
	defer body.Close()
	return helmConfig(body)
}

func (p *pusher) blob(ctx context.Context, repo *remote.Repository, d ocispec.Descriptor, open func(offset int64) (io.ReadCloser, error)) error {
	var progressed int64 // by the chunks of a chunked upload
	sent, err := pushBlob(ctx, repo, d, p.o.ChunkSize, open, func(n int64) {
		progressed += n
		p.bytes.Add(n)
		p.report("")
	})
	if sent {
		p.mu.Lock()
		p.res.BlobsSent++
		p.res.BytesSent += d.Size
		p.mu.Unlock()
		p.bytes.Add(d.Size - progressed)
	}
	return err
}

func (p *pusher) bytesBlob(ctx context.Context, repo *remote.Repository, d ocispec.Descriptor, b []byte) error {
	return p.blob(ctx, repo, d, func(off int64) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b[off:])), nil })
}
