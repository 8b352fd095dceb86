package mirror

import (
	"context"
	"fmt"
	"time"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
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
	// default tree.DefaultMaxManifestSize.
	MaxManifestSize int64
	// Stall bounds the wait for each next byte of what is read; default
	// tree.DefaultStallTimeout.
	Stall time.Duration
}

func (o KeyOptions) limits() tree.Limits {
	return tree.Limits{MaxManifestSize: o.MaxManifestSize, Stall: o.Stall}
}

// TrustedKey returns the key to verify src with: the key file; else the
// key pinned in the mirror destination; else, with a warning to show, the
// tree's own public key, which proves integrity but not who published it.
func TrustedKey(ctx context.Context, src tree.Reader, o KeyOptions) (key *sign.Verifier, warning string, err error) {
	if o.KeyFile != "" {
		v, err := sign.LoadPublicKey(o.KeyFile)
		if err != nil {
			return nil, "", &tree.KeyError{Reason: err.Error()}
		}
		return v, "", nil
	}
	if o.Dest != "" {
		if v, err := pinnedKey(ctx, o.Dest, o.MaxManifestSize); v != nil || err != nil {
			return v, "", err
		}
	}
	v, name, err := o.limits().FindKey(ctx, src)
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
	st, _ := ReadState(dest)
	if st == nil || st.KeyID == "" {
		return nil, nil
	}
	if mirror, err := tree.OpenDir(dest); err == nil {
		defer mirror.Close()
		if v, _, err := tree.FindKey(ctx, mirror, limit); err == nil && v.KeyID() == st.KeyID {
			return v, nil
		}
	}
	return nil, &tree.KeyError{Reason: fmt.Sprintf("%s was mirrored with key %s; pass that key with --key", dest, sign.ShortKeyID(st.KeyID))}
}
