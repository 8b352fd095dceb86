package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
)

// maxOCIManifest bounds an image manifest or index read from a registry:
// ours are a few hundred bytes.
const maxOCIManifest = 4 << 20

// blobOf is the descriptor of a site object with the manifest's digest.
func blobOf(mediaType, sha256hex string, size int64, title string) ocispec.Descriptor {
	d := ocispec.Descriptor{MediaType: mediaType, Digest: digest.NewDigestFromEncoded(digest.SHA256, sha256hex), Size: size}
	if title != "" {
		d.Annotations = map[string]string{ocispec.AnnotationTitle: title}
	}
	return d
}

// bytesDesc is the descriptor of small bytes we make (configs, manifests).
func bytesDesc(mediaType string, b []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
}

// emptyConfig is the OCI empty config, `{}`.
var emptyConfig = []byte("{}")

// imageManifest encodes an OCI image manifest; the same inputs give the
// same bytes, so a re-push finds it already there.
func imageManifest(artifactType string, config ocispec.Descriptor, layer ocispec.Descriptor, subject *ocispec.Descriptor, annotations map[string]string) (ocispec.Descriptor, []byte) {
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       config,
		Layers:       []ocispec.Descriptor{layer},
		Subject:      subject,
		Annotations:  annotations,
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // plain structs of strings
	}
	return bytesDesc(ocispec.MediaTypeImageManifest, b), b
}

// created formats a time as the created annotation wants it.
func created(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// pushBlob sends a blob unless the repository has it; sent says whether
// it did. A blob larger than chunk goes in chunks (pushChunked), each one
// the registry acknowledges reported to progress; open gives the blob's
// bytes from an offset on.
func pushBlob(ctx context.Context, repo *remote.Repository, d ocispec.Descriptor, chunk int64, open func(offset int64) (io.ReadCloser, error), progress func(int64)) (sent bool, err error) {
	ok, err := repo.Blobs().Exists(ctx, d)
	if err != nil || ok {
		return false, err
	}
	if d.Size > chunk {
		err = pushChunked(ctx, repo, d, chunk, open, progress)
		return err == nil, err
	}
	body, err := open(0)
	if err != nil {
		return false, err
	}
	defer body.Close()
	err = repo.Blobs().Push(ctx, d, body)
	if errors.Is(err, errdef.ErrAlreadyExists) {
		return false, nil
	}
	return err == nil, err
}

// pushManifest sends a manifest by digest unless the repository has it. A
// manifest with a subject goes through oras-go's referrers handling: the
// registry's referrers API, or the referrers tag schema where it has none.
func pushManifest(ctx context.Context, repo *remote.Repository, d ocispec.Descriptor, b []byte) (bool, error) {
	ok, err := repo.Manifests().Exists(ctx, d)
	if err != nil || ok {
		return false, err
	}
	err = repo.Manifests().Push(ctx, d, bytes.NewReader(b))
	return err == nil, err
}

// fetchManifest reads the image manifest a reference (tag or digest)
// names; nil, nil when there is none.
func fetchManifest(ctx context.Context, repo *remote.Repository, ref string) (ocispec.Descriptor, *ocispec.Manifest, error) {
	d, rc, err := repo.Manifests().FetchReference(ctx, ref)
	if errors.Is(err, errdef.ErrNotFound) {
		return d, nil, nil
	}
	if err != nil {
		return d, nil, err
	}
	defer rc.Close()
	if d.Size > maxOCIManifest {
		return d, nil, fmt.Errorf("manifest of %d bytes is larger than %d", d.Size, maxOCIManifest)
	}
	b, err := content.ReadAll(rc, d)
	if err != nil {
		return d, nil, err
	}
	m, err := decodeManifest(b)
	return d, m, err
}

func decodeManifest(b []byte) (*ocispec.Manifest, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("not an OCI image manifest: %w", err)
	}
	if m.MediaType != ocispec.MediaTypeImageManifest || len(m.Layers) != 1 {
		return nil, fmt.Errorf("not a packstudio artifact (media type %q, %d layers; want %s with one layer)", m.MediaType, len(m.Layers), ocispec.MediaTypeImageManifest)
	}
	return &m, nil
}

// fetchBlob reads a small blob whole, at most limit bytes, checking its
// digest.
func fetchBlob(ctx context.Context, repo *remote.Repository, d ocispec.Descriptor, limit int64) ([]byte, error) {
	if d.Size > limit || d.Size < 0 {
		return nil, fmt.Errorf("blob %s of %d bytes is larger than %d", d.Digest, d.Size, limit)
	}
	rc, err := repo.Blobs().Fetch(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return content.ReadAll(rc, d)
}

// signatures lists the packstudio signature referrers of subject.
func signatures(ctx context.Context, repo *remote.Repository, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	var out []ocispec.Descriptor
	err := repo.Referrers(ctx, subject, SignatureArtifactType, func(rs []ocispec.Descriptor) error {
		out = append(out, rs...)
		return nil
	})
	return out, err
}

// signatureLayer reads a signature referrer's manifest and returns its
// one layer (the .sig.bin).
func signatureLayer(ctx context.Context, repo *remote.Repository, ref ocispec.Descriptor) (ocispec.Descriptor, error) {
	_, m, err := fetchManifest(ctx, repo, ref.Digest.String())
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if m == nil {
		return ocispec.Descriptor{}, fmt.Errorf("referrer %s is listed but gone", ref.Digest)
	}
	return m.Layers[0], nil
}
