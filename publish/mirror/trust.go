package publish

import (
	"context"
	"fmt"
	"strings"

	"github.com/packstudio/packstudio/publish/manifest"
	"github.com/packstudio/packstudio/publish/sign"
)

// KeyOptions say where the key that a tree must verify with may come from,
// most trusted first.
type KeyOptions struct {
	// KeyFile is the publisher's public key, obtained out of band (--key).
	KeyFile string
	// Dest is a mirror's destination: a key an earlier mirror into it
	// pinned is the only one accepted.
	Dest string
	// MaxManifestSize bounds the manifest read to find the tree's own key;
	// default DefaultMaxManifestSize.
	MaxManifestSize int64
}

// KeyError is a key that cannot be had: the user must pass another --key.
type KeyError struct{ Reason string }

func (e *KeyError) Error() string { return e.Reason }

// TrustedKey returns the key to verify src with: the key file; else the
// key pinned in the mirror destination; else, with a warning to show, the
// tree's own public key, which proves integrity but not who published it.
func TrustedKey(ctx context.Context, src Reader, o KeyOptions) (key *sign.Verifier, warning string, err error) {
	if o.KeyFile != "" {
		v, err := sign.LoadPublicKey(o.KeyFile)
		if err != nil {
			return nil, "", &KeyError{Reason: err.Error()}
		}
		return v, "", nil
	}
	if o.Dest != "" {
		if v, err := pinnedKey(ctx, o.Dest, o.MaxManifestSize); v != nil || err != nil {
			return v, "", err
		}
	}
	v, name, err := TreeKey(ctx, src, o.MaxManifestSize)
	if err != nil {
		return nil, "", err
	}
	if o.Dest == "" {
		return v, fmt.Sprintf("no --key given; trusting the tree's own %s (fingerprint %s). Pin the publisher's key with --key.", name, v.KeyID()), nil
	}
	return v, fmt.Sprintf("no --key given; trusting the source's own %s (fingerprint %s) and pinning it for later mirrors into %s. Check the fingerprint with the publisher, or pass --key.",
		name, v.KeyID(), o.Dest), nil
}

// pinnedKey returns the key an earlier mirror into dest pinned: dest holds
// it, verified with the rest. Nil, nil when dest pins no key.
func pinnedKey(ctx context.Context, dest string, limit int64) (*sign.Verifier, error) {
	st, _ := ReadMirrorState(dest)
	if st == nil || st.KeyID == "" {
		return nil, nil
	}
	if tree, err := OpenDir(dest); err == nil {
		defer tree.Close()
		if v, _, err := TreeKey(ctx, tree, limit); err == nil && v.KeyID() == st.KeyID {
			return v, nil
		}
	}
	return nil, &KeyError{Reason: fmt.Sprintf("%s was mirrored with key %s; pass that key with --key", dest, sign.ShortKeyID(st.KeyID))}
}

// largestKeyFile bounds the root objects tried as the tree's public key.
const largestKeyFile = 16 << 10

// TreeKey finds the tree's own public key and its name: the small file at
// the root of the tree whose fingerprint is the manifest's key_id (the
// site's public_key_name, public_key.pem by default). The manifest is read
// unverified, only to find the key; the caller verifies it with that key.
// A tree whose manifest cannot be read falls back to public_key.pem, so
// that verify reports what is wrong with the manifest.
func TreeKey(ctx context.Context, src Reader, limit int64) (*sign.Verifier, string, error) {
	if limit <= 0 {
		limit = DefaultMaxManifestSize
	}
	candidates := []string{manifest.DefaultPublicKeyName}
	var want string
	if raw, err := ReadAll(ctx, src, manifest.Name, limit); err == nil {
		if m, err := manifest.Parse(raw); err == nil {
			want = m.KeyID
			for _, o := range m.Objects {
				if !strings.Contains(o.Path, "/") && o.Size <= largestKeyFile && o.Path != manifest.DefaultPublicKeyName {
					candidates = append(candidates, o.Path)
				}
			}
		}
	}
	var first *sign.Verifier
	var firstName string
	for _, name := range candidates {
		data, err := ReadAll(ctx, src, name, largestKeyFile)
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

// ApplyMirrorState fills in what a mirror in dir says about itself: the
// objects it left out by choice and the base its URL lists were rebased
// to. A directory that is not a mirror changes nothing.
func (o *VerifyOptions) ApplyMirrorState(dir string) error {
	st, err := ReadMirrorState(dir)
	if err != nil || st == nil {
		return err
	}
	o.LeftOut = setOfPaths(st.LeftOut)
	o.RebasedTo = st.BaseURL
	return nil
}
