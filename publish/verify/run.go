package verify

import (
	"context"
	"strings"
	"time"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
)

// Job is a verification as the command asks for it.
type Job struct {
	Options
	// KeyFile is the publisher's key (--key). Without it the tree's own
	// key is used, with a warning in the report (see mirror.TrustedKey).
	KeyFile string
}

// Run verifies the tree at src with the key j allows. What the tree says
// about itself is taken into account first: a mirror directory names the
// objects it left out by choice and the base its URL lists were rebased
// to; a site served over HTTP may hold URL lists rebased to its own URL.
func Run(ctx context.Context, src tree.Reader, j Job) (*Report, error) {
	o := j.Options
	switch r := src.(type) {
	case *tree.DirReader:
		if err := o.ApplyMirrorState(r.String()); err != nil {
			return nil, err
		}
	case *tree.HTTPReader:
		o.RebasedTo = r.String()
	}
	key, warning, err := mirror.TrustedKey(ctx, src, mirror.KeyOptions{KeyFile: j.KeyFile, MaxManifestSize: o.MaxManifestSize, Stall: o.Stall})
	if err != nil {
		return nil, err
	}
	rep, err := Tree(ctx, src, key, o)
	if rep != nil {
		rep.KeyWarning = warning
	}
	return rep, err
}

// publisherKey loads the publisher's public key that what needs, given
// with --key: volumes carry no key that could be trusted instead.
func publisherKey(keyFile, what string) (*sign.Verifier, error) {
	if keyFile == "" {
		return nil, &tree.KeyError{Reason: what + " needs --key PUB: the publisher's public key"}
	}
	key, err := sign.LoadPublicKey(keyFile)
	if err != nil {
		return nil, &tree.KeyError{Reason: err.Error()}
	}
	return key, nil
}

// IsVolume reports whether target names a tar volume, which is checked on
// its own with Volume rather than as a tree.
func IsVolume(target string) bool { return strings.HasSuffix(target, ".tar") }

// Volume checks one tar volume on its own. It needs the publisher's key:
// a volume holds no key that could be trusted instead.
func Volume(p, keyFile string, o Options) (*mirror.VolumeReport, error) {
	key, err := publisherKey(keyFile, "verify of a volume")
	if err != nil {
		return nil, err
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return mirror.VerifyVolume(p, key, o.Now, o.AllowExpired)
}
