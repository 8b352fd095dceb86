package main

import (
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
)

// readSetBytes must sort what real volumes hold by kind: artifacts and
// their signatures apart from pages, the manifest every volume carries
// apart from both, over several volumes.
func TestReadSetBytesSortsVolumesByKind(t *testing.T) {
	site := treetest.NewSite(t)
	raw, err := os.ReadFile(filepath.Join(site.Public(), tree.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(filepath.Join(site.Public(), tree.ManifestSigName))
	if err != nil {
		t.Fatal(err)
	}
	var want setBytes
	sums := 0 // pages named SHA256SUMS
	for _, o := range site.Manifest().Objects {
		if strings.HasPrefix(o.Path, tree.ArtifactsDir) {
			want.artifacts += o.Size
			want.artifactFiles++
		} else {
			want.pages += o.Size
			want.pageFiles++
			if path.Base(o.Path) == tree.SumsList {
				sums++
			}
		}
	}
	if want.artifactFiles == 0 || want.pageFiles == 0 {
		t.Fatalf("the test site needs artifacts and pages: %+v", want)
	}
	size := int64(len(raw)+len(sig)) + 64<<10 + (want.artifacts+want.pages)/3
	paths, _, err := mirror.WriteVolumes(site.Public(), filepath.Join(t.TempDir(), "vols"), size)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 2 {
		t.Fatalf("want several volumes at %d bytes a volume: %d", size, len(paths))
	}
	got, err := readSetBytes(paths)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	if got.volumes != len(paths) || got.total != total {
		t.Errorf("%d volumes, %d bytes; want %d, %d", got.volumes, got.total, len(paths), total)
	}
	if got.artifacts != want.artifacts || got.artifactFiles != want.artifactFiles || got.pages != want.pages || got.pageFiles != want.pageFiles {
		t.Errorf("artifacts %d bytes in %d files, pages %d in %d; want %d in %d, %d in %d",
			got.artifacts, got.artifactFiles, got.pages, got.pageFiles, want.artifacts, want.artifactFiles, want.pages, want.pageFiles)
	}
	var byName int64
	for _, nb := range got.largestPages(len(got.pageNames)) {
		byName += nb.bytes
	}
	if sumsGot := got.pageNames[tree.SumsList]; byName != got.pages || sumsGot == nil || sumsGot.files != sums {
		t.Errorf("pages by name: %d bytes of %d, %v %s files, want %d", byName, got.pages, sumsGot, tree.SumsList, sums)
	}
	top := got.largestPages(2)
	if len(top) != 2 || top[0].bytes < top[1].bytes {
		t.Fatalf("largestPages(2) = %+v, want two, largest first", top)
	}
	for _, nb := range got.pageNames {
		if nb.name != top[0].name && nb.name != top[1].name && nb.bytes > top[1].bytes {
			t.Errorf("largestPages(2) = %+v leaves out %+v", top, *nb)
		}
	}
	// Each volume carries the manifest, its signature and an index.
	if min := int64(len(paths) * (len(raw) + len(sig))); got.carried <= min {
		t.Errorf("manifest and index: %d bytes, want more than %d (%d volumes × manifest and signature)", got.carried, min, len(paths))
	}
	if oh := got.tarOverhead(); oh <= 0 || oh > total/2 {
		t.Errorf("tar headers: %d bytes of %d", oh, total)
	}

	if _, err := readSetBytes([]string{filepath.Join(site.Public(), tree.ManifestName)}); err == nil {
		t.Error("a file that is no volume was read as one")
	}
}

// The size target is held against the delta without its pages: pages
// that change with the pack do not count, artifacts and the manifest do.
func TestDeltaFigures(t *testing.T) {
	const MiB = 1 << 20
	runs := map[string]run{
		runFullV1: {wall: 40 * time.Second}, runDelta: {wall: 2 * time.Second}, runFullV2: {wall: 25 * time.Second},
		runNoop: {wall: time.Second}, runApply: {wall: 3 * time.Second}, runUnpackV2: {wall: 30 * time.Second},
	}
	full := setBytes{total: 1000 * MiB, pages: 900 * MiB, artifacts: 80 * MiB}
	for _, c := range []struct {
		name  string
		delta setBytes
		size  float64 // the figure held against the size target
		ok    bool
	}{
		{"pages over 1%, the rest under", setBytes{total: 30 * MiB, pages: 25 * MiB, artifacts: MiB}, 0.005, true},
		{"artifacts over 1%", setBytes{total: 30 * MiB, pages: 5 * MiB, artifacts: 20 * MiB}, 0.025, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]deltaFigure{}
			for _, f := range deltaFigures(runs, full, c.delta) {
				got[f.name] = f
			}
			want := map[string]deltaFigure{
				"delta bytes / full set bytes":                     {value: 0.03},
				"delta bytes without its pages / full set bytes":   {value: c.size, target: deltaSizeTarget},
				"delta write / full set write (v2, same stage)":    {value: 0.08, target: deltaWriteTarget},
				"delta write / first full set write (empty stage)": {value: 0.05},
				"the stage's check / delta write":                  {value: 0.5},
				"delta apply / full unpack of v2":                  {value: 0.1},
			}
			if len(got) != len(want) {
				t.Errorf("%d figures, want %d", len(got), len(want))
			}
			for name, w := range want {
				g, ok := got[name]
				if !ok || math.Abs(g.value-w.value) > 1e-9 || g.target != w.target {
					t.Errorf("%s = %+v, want value %v target %v", name, g, w.value, w.target)
				}
			}
			size := got["delta bytes without its pages / full set bytes"]
			if ok := verdict(size.value, size.target) == "✓"; ok != c.ok {
				t.Errorf("size verdict %v for %v, want %v", ok, size.value, c.ok)
			}
		})
	}
}
