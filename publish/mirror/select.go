package mirror

import (
	"context"

	"github.com/packstudio/packstudio/internal/tree"
)

// Select returns the artifact and signature paths that a non-empty filter
// (facets or a bundle) keeps, chosen from the tree's own lists exactly as a
// partial mirror chooses them, so that other paths out of a site (push)
// select the same artifacts.
func (f *Filter) Select(ctx context.Context, src tree.Reader, lim tree.Limits, m *tree.Manifest) (map[string]bool, error) {
	return f.selectArtifacts(ctx, src, lim, m)
}
