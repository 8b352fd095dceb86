package verify

import (
	"context"

	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
)

// UnpackResult is what Unpack did (mirror.Unpacked: the manifest it
// restored, the objects dest lacks, a delta's base and removals) and the
// verification of the restored tree.
type UnpackResult struct {
	*mirror.Unpacked
	Report *Report
}

// Unpack restores a tree from tar volumes into dest (mirror.Unpack, with
// its rollback and pinned-key checks), then verifies what it restored
// with the key in keyFile. The set is taken only whole (every volume, each
// once, of one run). Objects the set does not hold are reported as left
// out, not failed: the volumes of a partial mirror restore a partial
// tree. A delta set applies only onto the exact base it was made for; one
// unpacked again is a no-op (AlreadyApplied) whose tree is still verified.
// Unpacking needs the publisher's key; a volume carries no trust.
func Unpack(ctx context.Context, volumes []string, dest, keyFile string, o mirror.UnpackOptions) (*UnpackResult, error) {
	key, err := publisherKey(keyFile, "unpack")
	if err != nil {
		return nil, err
	}
	res, err := mirror.UnpackSet(volumes, dest, key, o)
	if err != nil {
		return nil, err
	}
	dir, err := tree.OpenDir(dest)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	// What dest lacks and the base its lists were rebased to (a delta
	// keeps them), as the state just committed says.
	vo := Options{Now: o.Now, AllowExpired: o.AllowExpired}
	if err := vo.ApplyMirrorState(dest); err != nil {
		return nil, err
	}
	rep, err := Tree(ctx, dir, key, vo)
	if err != nil {
		return nil, err
	}
	return &UnpackResult{Unpacked: res, Report: rep}, nil
}
