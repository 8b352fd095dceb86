package oci

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/packstudio/packstudio/internal/tree"
)

// Selecting what to push looks each artifact's signature up in one index
// of the manifest: a site's manifest lists tens of thousands of pages
// besides its thousands of artifacts, and building the index once per
// artifact made that quadratic (seconds of a push with nothing to send).
func TestSelectRefsIndexesTheManifestOnce(t *testing.T) {
	const artifacts, pages = 400, 8000
	m := &tree.Manifest{Version: 1}
	digest := tree.Digest([]byte("x"))
	for i := range pages {
		m.Objects = append(m.Objects, tree.Object{Path: fmt.Sprintf("browse/p%d/index.html", i), Size: 1, SHA256: digest})
	}
	for i := range artifacts {
		p := fmt.Sprintf("artifacts/packs/p%d/p%d-1.0.%d.zst", i, i, i)
		m.Objects = append(m.Objects, tree.Object{Path: p, Size: 1, SHA256: digest}, tree.Object{Path: tree.SigPath(p), Size: 1, SHA256: digest})
	}
	oneIndex := allocated(func() { m.Index() })
	var refs []Ref
	var err error
	all := allocated(func() { refs, _, err = selectRefs(context.Background(), nil, tree.Limits{}, m, nil) })
	if err != nil || len(refs) != artifacts {
		t.Fatalf("selectRefs: %d refs, %v; want %d", len(refs), err, artifacts)
	}
	if all > 4*oneIndex {
		t.Errorf("selectRefs allocated %d bytes, %.0f times one index of the manifest (%d bytes); want it built once", all, float64(all)/float64(oneIndex), oneIndex)
	}
}

// allocated is how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
