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
	// the tree's own public key is used: PublicKeyName in Dir (default
	// tree.DefaultPublicKeyName), which proves the tree is whole.
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
	key, err := sign.LoadPublicKey(j.keyFile())
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

// keyFile is the key to check the tree with: the one given, else the
// tree's own.
func (j Job) keyFile() string {
	if j.KeyFile != "" {
		return j.KeyFile
	}
	name := j.PublicKeyName
	if name == "" {
		name = tree.DefaultPublicKeyName
	}
	return filepath.Join(j.Dir, name)
}
