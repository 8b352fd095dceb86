package mirror_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
	"github.com/packstudio/packstudio/publish/verify"
)

// openTree writes tr into a new directory and opens it as a source.
func openTree(t *testing.T, tr *treetest.SignedTree) (string, *tree.DirReader) {
	t.Helper()
	dir := t.TempDir()
	tr.Write(t, dir)
	r, err := tree.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return dir, r
}

// A tree whose key is not public_key.pem (public_key_name) is verified with
// its own key, found through the manifest's key_id, with a warning naming it;
// a public_key.pem of another publisher beside it is not taken.
func TestTrustedKeyFallsBackToTheTreesOwnKey(t *testing.T) {
	ctx := context.Background()
	pub, decoy := treetest.NewPublisher(t, "site"), treetest.NewPublisher(t, "decoy")
	_, src := openTree(t, pub.Sign(1, map[string]string{
		"index.html":     "hello",
		"site-key.pem":   string(pub.Signer.PublicKeyPEM()),
		"public_key.pem": string(decoy.Signer.PublicKeyPEM()),
	}))
	key, warning, err := mirror.TrustedKey(ctx, src, mirror.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if key.KeyID() != pub.Key.KeyID() {
		t.Fatalf("took key %s, want the manifest's %s", key.KeyID(), pub.Key.KeyID())
	}
	want := "no --key given; trusting the tree's own site-key.pem (fingerprint " + pub.Key.KeyID() + "). Pin the publisher's key with --key."
	if warning != want {
		t.Errorf("warning:\n got %q\nwant %q", warning, want)
	}
	if rep, err := verify.Tree(ctx, src, key, verify.Options{}); err != nil || !rep.OK() {
		t.Errorf("verify with the tree's key: %v %v", err, rep.Failures)
	}

	// --key wins, without a warning.
	keyFile := filepath.Join(t.TempDir(), "pub.pem")
	os.WriteFile(keyFile, decoy.Signer.PublicKeyPEM(), 0o644)
	key, warning, err = mirror.TrustedKey(ctx, src, mirror.KeyOptions{KeyFile: keyFile})
	if err != nil || warning != "" || key.KeyID() != decoy.Key.KeyID() {
		t.Errorf("--key: got %v, %q, %v; want the decoy's key and no warning", key, warning, err)
	}

	// No key anywhere: the user must pass one.
	_, bare := openTree(t, pub.Sign(1, map[string]string{"index.html": "hello"}))
	var ke *tree.KeyError
	if _, _, err := mirror.TrustedKey(ctx, bare, mirror.KeyOptions{}); !errors.As(err, &ke) || !strings.Contains(err.Error(), "--key PUB") {
		t.Errorf("no key in the tree: got %v, want a KeyError asking for --key", err)
	}
}

// A mirror pins the key of its first run: later runs use it whatever the
// source offers, and refuse when dest no longer holds it.
func TestTrustedKeyPinnedByAMirror(t *testing.T) {
	ctx := context.Background()
	pub, other := treetest.NewPublisher(t, "site"), treetest.NewPublisher(t, "other")
	_, src := openTree(t, pub.Sign(1, map[string]string{"index.html": "v1", "site-key.pem": string(pub.Signer.PublicKeyPEM())}))
	dest := filepath.Join(t.TempDir(), "mirror")

	key, warning, err := mirror.TrustedKey(ctx, src, mirror.KeyOptions{Dest: dest})
	if err != nil || !strings.Contains(warning, "trusting the source's own site-key.pem") || !strings.Contains(warning, "pinning it for later mirrors into "+dest) {
		t.Fatalf("first mirror: %q, %v", warning, err)
	}
	if _, err := mirror.Mirror(ctx, src, key, dest, mirror.Options{}); err != nil {
		t.Fatal(err)
	}

	// Another publisher's tree, with its own key: the pinned key is
	// chosen, silently, and the mirror refuses the tree.
	_, foreign := openTree(t, other.Sign(2, map[string]string{"index.html": "evil", "site-key.pem": string(other.Signer.PublicKeyPEM())}))
	key, warning, err = mirror.TrustedKey(ctx, foreign, mirror.KeyOptions{Dest: dest})
	if err != nil || warning != "" || key.KeyID() != pub.Key.KeyID() {
		t.Fatalf("second mirror: got %v, %q, %v; want the pinned key, no warning", key, warning, err)
	}
	if _, err := mirror.Mirror(ctx, foreign, key, dest, mirror.Options{}); err == nil || !strings.Contains(err.Error(), sign.ErrBadSignature.Error()) {
		t.Errorf("foreign tree mirrored with the pinned key: %v", err)
	}

	// The pinned key gone from dest: refused, naming the key to pass.
	os.Remove(filepath.Join(dest, "site-key.pem"))
	var ke *tree.KeyError
	_, _, err = mirror.TrustedKey(ctx, foreign, mirror.KeyOptions{Dest: dest})
	if !errors.As(err, &ke) || !strings.Contains(err.Error(), "was mirrored with key "+pub.Key.KeyID()[:16]) {
		t.Errorf("pinned key missing: got %v, want a KeyError naming the pinned key", err)
	}
}
