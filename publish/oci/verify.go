package oci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/internal/workers"
)

// VerifyOptions are a verify of a registry as the command asks for it.
type VerifyOptions struct {
	Conn
	// KeyFile is the publisher's key; required, since a registry carries
	// no key of its own.
	KeyFile         string
	Jobs            int
	AllowExpired    bool
	MaxManifestSize int64
	Now             time.Time
}

// Report is what a verify of a registry found.
type Report struct {
	Target   Target
	Manifest *tree.Manifest
	// Artifacts and Signatures checked, Bytes read back.
	Artifacts, Signatures int
	Bytes                 int64
	// LeftOut are artifacts of the manifest a filtered push left out.
	LeftOut []string
	// Extra are tags beside the manifest's artifacts in their
	// repositories (earlier versions a push never deletes, or strangers).
	Extra    []string
	Failures []tree.Failure
	Notes    []string
}

// OK reports whether everything verified.
func (r *Report) OK() bool { return len(r.Failures) == 0 }

// Verify reads back what the registry at loc holds: its signed manifest,
// checked with the key, then every artifact pushed under it: the tag's
// layer against the manifest's digest and size, the bytes the registry
// serves, and the signature referrer, verified with the key over them.
func Verify(ctx context.Context, loc string, o VerifyOptions) (*Report, error) {
	if o.Jobs <= 0 {
		o.Jobs = 8
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	t, err := ParseTarget(loc)
	if err != nil {
		return nil, err
	}
	if o.KeyFile == "" {
		return nil, &tree.KeyError{Reason: "verify " + loc + ": pass the publisher's public key with --key (a registry holds no key of its own)"}
	}
	key, err := sign.LoadPublicKey(o.KeyFile)
	if err != nil {
		return nil, &tree.KeyError{Reason: err.Error()}
	}
	reg, err := connect(t, o.Conn)
	if err != nil {
		return nil, err
	}
	rep := &Report{Target: t}
	h, err := reg.readHeld(ctx, key, o.MaxManifestSize, tree.Policy{Now: o.Now, AllowExpired: o.AllowExpired})
	if err != nil {
		return rep, err
	}
	if h == nil {
		rep.Failures = append(rep.Failures, tree.Failure{Path: t.repo(ManifestRepo) + ":" + LatestTag, Reason: "missing: the registry holds no packstudio manifest here; push the site first"})
		return rep, nil
	}
	rep.Manifest = h.Manifest
	if h.Expired != nil {
		rep.Failures = append(rep.Failures, tree.Failure{Path: tree.ManifestName, Reason: h.Expired.Error() + "; the publisher must renew it and push again"})
	}
	want := allRefs(h.Manifest)
	if h.Artifacts != nil {
		pushed := map[string]bool{}
		for _, p := range h.Artifacts {
			pushed[p] = true
		}
		want = slices.DeleteFunc(want, func(r Ref) bool {
			if !pushed[r.Path] {
				rep.LeftOut = append(rep.LeftOut, r.Path)
				return true
			}
			return false
		})
	}
	v := &verifier{reg: reg, key: key, idx: h.Manifest.Index(), rep: rep}
	err = workers.Each(ctx, o.Jobs, len(want), func(i int) error {
		if reason, err := v.check(ctx, want[i]); err != nil {
			return err
		} else if reason != "" {
			v.fail(want[i].Path+" ("+t.repo(want[i].Repo)+":"+want[i].Tag+")", reason)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if err := v.extras(ctx, want); err != nil {
		return rep, err
	}
	slices.SortFunc(rep.Failures, func(a, b tree.Failure) int { return strings.Compare(a.Path, b.Path) })
	return rep, nil
}

type verifier struct {
	reg *registry
	key *sign.Verifier
	idx map[string]tree.Object
	mu  sync.Mutex
	rep *Report
}

func (v *verifier) fail(p, reason string) {
	v.mu.Lock()
	v.rep.Failures = append(v.rep.Failures, tree.Failure{Path: p, Reason: reason})
	v.mu.Unlock()
}

// check reads one artifact back; a non-empty reason is what is wrong with
// it, an error a registry that could not be read.
func (v *verifier) check(ctx context.Context, r Ref) (reason string, err error) {
	defer func() { err = v.reg.explain(r.Repo, r.Tag, err) }()
	obj, sigObj := v.idx[r.Path], v.idx[tree.SigPath(r.Path)]
	repo, err := v.reg.repository(r.Repo)
	if err != nil {
		return "", err
	}
	d, man, err := fetchManifest(ctx, repo, r.Tag)
	if err != nil {
		return "", err
	}
	if man == nil {
		return "missing: the registry has no such tag", nil
	}
	layer := man.Layers[0]
	if layer.Digest.Encoded() != obj.SHA256 || layer.Size != obj.Size {
		return fmt.Sprintf("tampered: the tag's layer is %s (%d bytes), the signed manifest says sha256:%s (%d bytes)", layer.Digest, layer.Size, obj.SHA256, obj.Size), nil
	}
	refs, err := signatures(ctx, repo, d)
	if err != nil {
		return "", err
	}
	var sig []byte
	var others int
	for _, ref := range refs {
		sl, err := signatureLayer(ctx, repo, ref)
		if err != nil {
			return "", err
		}
		if sl.Digest.Encoded() != sigObj.SHA256 {
			others++
			continue
		}
		if sig, err = fetchBlob(ctx, repo, sl, tree.MaxSignatureSize); err != nil {
			if errors.Is(err, errdef.ErrNotFound) {
				return "tampered: the signature referrer's blob is gone", nil
			}
			if errors.Is(err, content.ErrMismatchedDigest) || errors.Is(err, content.ErrTrailingData) || errors.Is(err, io.ErrUnexpectedEOF) {
				return "tampered: the registry serves other bytes for " + sigObj.Path + ": " + err.Error(), nil
			}
			return "", err
		}
		break
	}
	if sig == nil {
		if others > 0 {
			return fmt.Sprintf("tampered: none of its %d signature referrers holds %s as the signed manifest lists it", others, sigObj.Path), nil
		}
		return "missing: no signature referrer (" + sigObj.Path + ")", nil
	}
	n, sum, verr, err := readVerify(ctx, repo, layer, sig, v.key)
	if err != nil {
		return "", err
	}
	v.mu.Lock()
	v.rep.Artifacts++
	v.rep.Signatures++
	v.rep.Bytes += n
	v.mu.Unlock()
	switch {
	case n != obj.Size || sum != obj.SHA256:
		return fmt.Sprintf("tampered: the registry serves %d bytes with sha256 %s for it", n, sum), nil
	case verr != nil:
		return sigObj.Path + ": " + verr.Error(), nil
	}
	return "", nil
}

// readVerify streams a layer from the registry, hashing it and checking
// sig over it at once.
func readVerify(ctx context.Context, repo *remote.Repository, layer ocispec.Descriptor, sig []byte, key *sign.Verifier) (n int64, sum string, verr, err error) {
	rc, err := repo.Blobs().Fetch(ctx, layer)
	if errors.Is(err, errdef.ErrNotFound) {
		return 0, "(none: the blob is gone)", nil, nil
	}
	if err != nil {
		return 0, "", nil, err
	}
	defer rc.Close()
	h := sha256.New()
	cw := &countingWriter{w: h}
	body := io.LimitReader(rc, layer.Size+1)
	verr = key.Verify(sig, io.TeeReader(body, cw))
	if _, err := io.Copy(cw, body); err != nil {
		return cw.n, "", nil, err
	}
	return cw.n, hex.EncodeToString(h.Sum(nil)), verr, nil
}

// extras lists the tags in the repositories verified that the manifest's
// artifacts do not account for, and referrer-schema tags aside.
func (v *verifier) extras(ctx context.Context, want []Ref) error {
	expected := map[string]map[string]bool{}
	for _, r := range allRefs(&tree.Manifest{Objects: objects(v.idx)}) {
		if expected[r.Repo] == nil {
			expected[r.Repo] = map[string]bool{}
		}
		expected[r.Repo][r.Tag] = true
	}
	seen := map[string]bool{}
	for _, r := range want {
		if seen[r.Repo] {
			continue
		}
		seen[r.Repo] = true
		repo, err := v.reg.repository(r.Repo)
		if err != nil {
			return err
		}
		err = repo.Tags(ctx, "", func(tags []string) error {
			for _, tag := range tags {
				if !expected[r.Repo][tag] && !isReferrersTag(tag) {
					v.rep.Extra = append(v.rep.Extra, v.reg.target.repo(r.Repo)+":"+tag)
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, errdef.ErrNotFound) {
			return v.reg.explain(r.Repo, "(tags)", err)
		}
	}
	slices.Sort(v.rep.Extra)
	return nil
}

func objects(idx map[string]tree.Object) []tree.Object {
	out := make([]tree.Object, 0, len(idx))
	for _, o := range idx {
		out = append(out, o)
	}
	return out
}

// isReferrersTag is a tag of the referrers tag schema, sha256-<hex>.
func isReferrersTag(tag string) bool {
	h, ok := strings.CutPrefix(tag, "sha256-")
	return ok && len(h) == 64
}
