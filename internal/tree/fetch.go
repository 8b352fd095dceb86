package tree

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/packstudio/packstudio/internal/sign"
)

// Fetch is Limits.Fetch with a manifest of at most limit bytes (0: the
// default) and the default stall bound.
func Fetch(ctx context.Context, r Reader, key *sign.Verifier, limit int64, p Policy) (*Manifest, []byte, []byte, error) {
	return Limits{MaxManifestSize: limit}.Fetch(ctx, r, key, p)
}

// Fetch reads a manifest and opens it under the policy (see
// Open), keeping its exact bytes and those of its signature.
// Until the signature is checked the manifest is anyone's bytes: at most
// l.MaxManifestSize of them are read, and none slower than l.Stall.
func (l Limits) Fetch(ctx context.Context, r Reader, key *sign.Verifier, p Policy) (*Manifest, []byte, []byte, error) {
	limit := l.maxManifest()
	sig, err := l.ReadAll(ctx, r, ManifestSigName, MaxSignatureSize)
	if errors.Is(err, ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("no %s: the tree is not signed: %w", ManifestSigName, err)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	raw, err := l.ReadAll(ctx, r, ManifestName, limit)
	if errors.Is(err, ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("no %s: this is not a packstudio tree: %w", ManifestName, err)
	}
	var tooLarge *TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, nil, nil, fmt.Errorf("%w; refused unread, before its signature could be checked (raise the limit with --max-manifest-size if the site is that large)", err)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := Open(raw, sig, key, p)
	var invalid *InvalidError
	var expired *ExpiredError
	switch {
	case errors.As(err, &expired):
		return m, raw, sig, err
	case err != nil && !errors.As(err, &invalid):
		return nil, nil, nil, fmt.Errorf("%w (key %s): not signed by this key, or altered", err, sign.ShortKeyID(key.KeyID()))
	case err != nil:
		return nil, nil, nil, err
	}
	return m, raw, sig, nil
}

// AnyDate opens a manifest whatever its dates: publishing and comparing
// with the bucket's manifest judge objects, not time.
var AnyDate = Policy{AllowExpired: true}

// FindKey is Limits.FindKey with a manifest of at most limit bytes (0:
// the default) and the default stall bound.
func FindKey(ctx context.Context, src Reader, limit int64) (*sign.Verifier, string, error) {
	return Limits{MaxManifestSize: limit}.FindKey(ctx, src)
}

// FindKey finds the tree's own public key and its name: the small file at
// the root of the tree whose fingerprint is the manifest's key_id (the
// site's public_key_name, public_key.pem by default). The manifest is read
// unverified, only to find the key; the caller verifies it with that key.
// A tree whose manifest cannot be read falls back to public_key.pem, so
// that verify reports what is wrong with the manifest.
func (l Limits) FindKey(ctx context.Context, src Reader) (*sign.Verifier, string, error) {
	candidates := []string{DefaultPublicKeyName}
	var want string
	if raw, err := l.ReadAll(ctx, src, ManifestName, l.maxManifest()); err == nil {
		if m, err := Parse(raw); err == nil {
			want = m.KeyID
			for _, o := range m.Objects {
				if !strings.Contains(o.Path, "/") && o.Size <= largestKeyFile && o.Path != DefaultPublicKeyName {
					candidates = append(candidates, o.Path)
				}
			}
		}
	}
	var first *sign.Verifier
	var firstName string
	for _, name := range candidates {
		data, err := l.ReadAll(ctx, src, name, largestKeyFile)
		if err != nil {
			if ctx.Err() != nil {
				return nil, "", ctx.Err()
			}
			continue
		}
		v, err := sign.ParsePublicKey(data)
		if err != nil {
			continue
		}
		if v.KeyID() == want {
			return v, name, nil
		}
		if first == nil {
			first, firstName = v, name
		}
	}
	if first != nil {
		// Not the manifest's key: verify will say the signature fails.
		return first, firstName, nil
	}
	return nil, "", &KeyError{Reason: fmt.Sprintf("no --key given and %s holds no public key; pass the publisher's key, obtained out of band, with --key PUB", src)}
}

// DefaultMaxManifestSize bounds how much of a manifest is read before its
// signature is checked: room for half a million objects.
const DefaultMaxManifestSize = 64 << 20

// largestKeyFile bounds the root objects tried as the tree's public key.
const largestKeyFile = 16 << 10
