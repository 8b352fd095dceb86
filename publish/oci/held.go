package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
)

// pushRecord is the packstudio-manifest artifact's config: the artifacts
// pushed under this manifest version (a filtered push holds only some).
// It is not signed: it can only narrow what verify expects, and each
// artifact verify checks is still checked against the signed manifest.
type pushRecord struct {
	Version   int64    `json:"version"`
	Artifacts []string `json:"artifacts"`
}

// held is the signed manifest a registry holds.
type held struct {
	Manifest *tree.Manifest
	Raw, Sig []byte
	Desc     ocispec.Descriptor // its artifact's manifest
	// Artifacts are the paths pushed under it; nil when unknown.
	Artifacts []string
	// Expired is set, with Manifest, when the policy refused its date.
	Expired *tree.ExpiredError
}

// ErrNotSigned is a registry manifest that no signature referrer of it
// verifies with the key.
var ErrNotSigned = errors.New("not signed by this key")

// readHeld fetches the registry's latest packstudio-manifest and opens it
// with key under the policy; nil, nil when the registry has none.
func (r *registry) readHeld(ctx context.Context, key *sign.Verifier, limit int64, p tree.Policy) (*held, error) {
	if limit <= 0 {
		limit = tree.DefaultMaxManifestSize
	}
	repo, err := r.repository(ManifestRepo)
	if err != nil {
		return nil, err
	}
	d, man, err := fetchManifest(ctx, repo, LatestTag)
	if err != nil {
		return nil, r.explain(ManifestRepo, LatestTag, err)
	}
	if man == nil {
		return nil, nil
	}
	where := r.target.repo(ManifestRepo) + ":" + LatestTag
	layer := man.Layers[0]
	if layer.MediaType != ManifestLayer {
		return nil, fmt.Errorf("%s: layer is %q, not a packstudio manifest (%s)", where, layer.MediaType, ManifestLayer)
	}
	raw, err := fetchBlob(ctx, repo, layer, limit)
	if err != nil {
		return nil, r.explain(ManifestRepo, LatestTag, err)
	}
	refs, err := signatures(ctx, repo, d)
	if err != nil {
		return nil, r.explain(ManifestRepo, LatestTag, err)
	}
	h := &held{Raw: raw, Desc: d}
	for _, ref := range refs {
		sl, err := signatureLayer(ctx, repo, ref)
		if err != nil {
			continue
		}
		sig, err := fetchBlob(ctx, repo, sl, tree.MaxSignatureSize)
		if err != nil {
			continue
		}
		m, err := tree.Open(raw, sig, key, p)
		var expired *tree.ExpiredError
		if errors.As(err, &expired) {
			h.Manifest, h.Sig, h.Expired = m, sig, expired
			break
		}
		if err != nil {
			if errors.Is(err, sign.ErrBadSignature) {
				continue
			}
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		h.Manifest, h.Sig = m, sig
		break
	}
	if h.Manifest == nil {
		return nil, fmt.Errorf("%s: %w (key %s): none of its %d signature referrers verifies; pass the publisher's key with --key",
			where, ErrNotSigned, sign.ShortKeyID(key.KeyID()), len(refs))
	}
	if man.Config.MediaType == PushConfig {
		b, err := fetchBlob(ctx, repo, man.Config, maxOCIManifest*4)
		if err != nil {
			return nil, r.explain(ManifestRepo, LatestTag, err)
		}
		var rec pushRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, fmt.Errorf("%s: config: %w", where, err)
		}
		if rec.Version == h.Manifest.Version {
			h.Artifacts = rec.Artifacts
		}
	}
	return h, nil
}
