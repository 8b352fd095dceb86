package publish_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
)

// Without --key, Run checks the tree with its own public key, found under
// the site's public_key_name or, with no site config, by the manifest's
// key_id; without such a file it asks for --key; with another publisher's
// key it refuses the tree and uploads nothing.
func TestRunChecksTheTreeWithItsOwnKey(t *testing.T) {
	ctx := context.Background()
	pub, other := treetest.NewPublisher(t, "site"), treetest.NewPublisher(t, "other")
	dir := t.TempDir()
	pub.Sign(1, map[string]string{"index.html": "hi", "site-key.pem": string(pub.Signer.PublicKeyPEM())}).Write(t, dir)
	bucket := filepath.Join(t.TempDir(), "bucket")
	j := publish.Job{Dir: dir, PublicKeyName: "site-key.pem", Target: "file://" + bucket}

	res, err := publish.Run(ctx, j)
	if err != nil || res.Uploaded != 4 || res.Target != "file://"+bucket {
		t.Fatalf("publish with the tree's own site-key.pem: %v (res %+v)", err, res)
	}
	if !treetest.Exists(filepath.Join(bucket, tree.ManifestName)) {
		t.Error("the bucket has no manifest")
	}

	// No site config: site-key.pem is found by the manifest's key_id, not
	// by the default name, which this tree lacks.
	j.PublicKeyName, j.Target = "", "file://"+filepath.Join(t.TempDir(), "b2")
	if res, err := publish.Run(ctx, j); err != nil || res.Uploaded != 4 {
		t.Errorf("publish without a site config: %v (res %+v), want site-key.pem found by key_id", err, res)
	}
	j.PublicKeyName = tree.DefaultPublicKeyName // named by a site config, but missing
	var ke *tree.KeyError
	if _, err := publish.Run(ctx, j); !errorsAs(err, &ke) || !strings.Contains(err.Error(), "pass --key, or build the tree first") {
		t.Errorf("no public_key.pem: %v, want a KeyError asking for --key", err)
	}
	keyless := t.TempDir()
	pub.Sign(1, map[string]string{"index.html": "hi"}).Write(t, keyless)
	if _, err := publish.Run(ctx, publish.Job{Dir: keyless, Target: j.Target}); !errorsAs(err, &ke) {
		t.Errorf("a tree with no key file and no --key: %v, want a KeyError asking for --key", err)
	}

	otherKey := filepath.Join(t.TempDir(), "other.pem")
	os.WriteFile(otherKey, other.Signer.PublicKeyPEM(), 0o644)
	fresh := filepath.Join(t.TempDir(), "fresh")
	j.KeyFile, j.Target = otherKey, "file://"+fresh
	if _, err := publish.Run(ctx, j); err == nil || !strings.Contains(err.Error(), "rebuild it before publishing") {
		t.Errorf("another publisher's key: %v, want the tree refused", err)
	}
	if treetest.Exists(filepath.Join(fresh, tree.ManifestName)) {
		t.Error("a tree that does not verify with --key was published")
	}
}
