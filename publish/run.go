package publish

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
)

// Job is a publish as the command asks for it.
type Job struct {
	Dir string // the built tree
	// KeyFile is the key the tree's manifest must verify with. Without it
	// the tree's own public key is used, which proves the tree is whole:
	// PublicKeyName in Dir (the site's public_key_name) when the site
	// config names it, else the root file whose fingerprint is the
	// manifest's key_id (tree.FindKey).
	KeyFile       string
	PublicKeyName string
	Target        string  // file://DIR or s3://BUCKET/PREFIX (OpenTarget)
	Location      Options // how to reach the target
	Sync          SyncOptions
}

// JobResult is what Run did.
type JobResult struct {
	*SyncResult
	Target string // the bucket, as messages name it
}

// Run publishes the tree in j.Dir to j.Target: it loads the key the
// tree's manifest must verify with, opens the bucket and syncs (Publish).
func Run(ctx context.Context, j Job) (*JobResult, error) {
	key, err := j.key(ctx)
	if err != nil {
		return nil, &tree.KeyError{Reason: fmt.Sprintf("publish: %v (pass --key, or build the tree first)", err)}
	}
	bucket, err := OpenTarget(ctx, j.Target, j.Location)
	if err != nil {
		return nil, err
	}
	defer CloseBucket(bucket)
	res, err := Publish(ctx, j.Dir, key, bucket, j.Sync)
	if res == nil {
		return nil, err
	}
	return &JobResult{SyncResult: res, Target: fmt.Sprint(bucket)}, err
}

// key is the key to check the tree with: the one given, else the tree's
// own (see Job.KeyFile).
func (j Job) key(ctx context.Context) (*sign.Verifier, error) {
	switch {
	case j.KeyFile != "":
		return sign.LoadPublicKey(j.KeyFile)
	case j.PublicKeyName != "":
		return sign.LoadPublicKey(filepath.Join(j.Dir, j.PublicKeyName))
	}
	dir, err := tree.OpenDir(j.Dir)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	key, _, err := tree.FindKey(ctx, dir, 0)
	return key, err
}
