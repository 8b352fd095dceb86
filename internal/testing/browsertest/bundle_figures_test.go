package browsertest

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/packstudio/packstudio/internal/testing/synth"
)

var (
	bundleFigures     = flag.Bool("bundle-figures", false, "build the bench catalog and print the largest builder page's size and its speed in Chromium")
	bundleScreenshots = flag.String("bundle-screenshots", "", "write PNG screenshots of the builder's steps on the demo site into this folder (e.g. ../../../docs)")
	benchPacks        = flag.Int("bench-packs", 1000, "packs (of 4 versions each) in the bench catalog of -bundle-figures and BenchmarkBuilder; fewer for a quick run")
)

// TestBundleFigures prints, for the largest builder page of the bench
// catalog (1,000 packs × 4 versions), its size raw and gzipped, the time
// from navigation to the first step being usable and the time to re-render
// after a choice, layout included. Figures, not assertions: run with
// -bundle-figures.
func TestBundleFigures(t *testing.T) {
	if !*bundleFigures {
		t.Skip("figures only with -bundle-figures")
	}
	s := Shared(t, "bench", buildBench)
	page, raw := largestBuilder(t, s.Dir)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(raw)
	w.Close()
	t.Logf("largest builder page %s: %d bytes raw (%.1f KiB), %d gzipped (%.1f KiB)", page, len(raw), float64(len(raw))/1024, gz.Len(), float64(gz.Len())/1024)
	pages, bytes := treeSize(t, filepath.Join(s.Dir, "bundle"))
	t.Logf("bundle/: %d pages, %.1f MiB, %.1f bytes per (combination, pack version) row of the build's %d rows",
		pages, float64(bytes)/(1<<20), float64(bytes)/float64(s.Stats.Rows), s.Stats.Rows)

	for _, root := range roots(t, s) {
		var ready []float64
		for range 5 {
			p := Open(t, root, page)
			ready = append(ready, Eval[float64](p, `Number(document.getElementById('bundle').dataset.ready)`))
		}
		p := Open(t, root, page)
		times := Eval[[]float64](p, rerender)
		t.Logf("%s: load to first step usable: median %.0f ms of %v; re-render after a choice: median %.1f ms, max %.1f ms over %d choices",
			root[:4], median(ready), ready, median(times), slices.Max(times), len(times))
	}
}

// rerender makes one choice per layer and several ticks, timing each click
// through the synchronous re-render and the layout it causes.
const rerender = `(() => {
  const times = [];
  const time = (input) => { const t = performance.now(); input.click(); void document.body.offsetHeight; times.push(performance.now() - t); };
  for (const fs of document.querySelectorAll('#bundle fieldset[data-layer]')) {
    for (let k = 0; k < 4; k++) {
      const open = [...fs.querySelectorAll('input:not([disabled]):not(:checked)')].filter(i => i.value);
      if (!open.length) break;
      time(open[Math.floor(open.length / 2)]);
    }
  }
  return times;
})()`

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// treeSize counts the files under dir and their bytes.
func treeSize(t testing.TB, dir string) (files int, bytes int64) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		files++
		bytes += fi.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, bytes
}

// buildBench builds the bench catalog of make bench (-bench-packs packs).
func buildBench(t testing.TB, dir string) *Site {
	t.Helper()
	o := synth.Options{Packs: *benchPacks, VersionsPerPack: 4, Products: 2, ReleasesPerProduct: 8, Clouds: 8}
	if err := synth.Generate(filepath.Join(dir, "catalog"), o); err != nil {
		t.Fatal(err)
	}
	cfg := "title = \"bench\"\nbase_url = \"https://packs.example.com/\"\ncatalog = \"catalog\"\noutput = \"public\"\n[signing]\nkey = \"key/site.pem\"\n"
	if err := os.WriteFile(filepath.Join(dir, "site.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return buildSite(t, filepath.Join(dir, "site.toml"), filepath.Join(dir, "key"))
}

// largestBuilder returns the largest bundle/<product>/<version>/<cloud>/index.html.
func largestBuilder(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(dir, "bundle", "*", "*", "*", "index.html"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no builder pages in %s (%v)", dir, err)
	}
	var best string
	var size int64
	for _, p := range pages {
		if fi, err := os.Stat(p); err == nil && fi.Size() > size && !strings.Contains(p, "/addons/") {
			best, size = p, fi.Size()
		}
	}
	raw, err := os.ReadFile(best)
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(dir, best)
	return filepath.ToSlash(rel), raw
}

// TestBundleScreenshots writes PNGs of the builder's steps on the demo
// site: start, use case, layers being chosen, a choice that drops a later
// one, and the review. Run with -bundle-screenshots DIR.
func TestBundleScreenshots(t *testing.T) {
	dir := *bundleScreenshots
	if dir == "" {
		t.Skip("screenshots only with -bundle-screenshots DIR")
	}
	s := demoSite(t)
	cat := s.Catalog
	root := ServeRoot(t, s.Dir)
	shot := func(p *Page, name string) {
		buf := result(p, chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d KiB", name, len(buf)/1024)
	}
	start := Open(t, root, "bundle/index.html", Width(1000))
	shot(start, "builder-1-start.png")
	palette := cat.Products[0]
	r := palette.Releases[len(palette.Releases)-1]
	uc := Open(t, root, fmt.Sprintf("bundle/%s/%s/index.html", palette.ID, r.Version.Raw), Width(1000))
	shot(uc, "builder-2-use-case.png")

	// The newest release and controller cloud where a choice drops another.
	var b builderPage
	var conflicts []conflict
	for i := len(palette.Releases) - 1; i >= 0 && len(conflicts) == 0; i-- {
		for _, cloud := range cat.Clouds {
			if b = newBuilderPage(cat, palette.Releases[i], cloud.ID); cloud.Kind != "edge" {
				if conflicts = b.conflictsOf(cat); len(conflicts) > 0 {
					break
				}
			}
		}
	}
	if len(conflicts) == 0 {
		t.Fatalf("no conflict to show for %s", palette.ID)
	}
	t.Logf("builder steps on %s", b.rel)
	c := conflicts[0]
	p := Open(t, root, b.rel, Width(1000))
	la, lb := cat.Layers[c.a1.Pack.LayerOrder].ID, cat.Layers[c.b.Pack.LayerOrder].ID
	choose(p, la, c.a1.ID())
	choose(p, lb, c.b.ID())
	p.Do(fmt.Sprintf(`document.querySelector('fieldset[data-layer=%q]').scrollIntoView()`, la))
	shot(p, "builder-3-layers.png")
	choose(p, la, c.a2.ID())
	p.Do(`document.getElementById('bundle-status').scrollIntoView()`)
	shot(p, "builder-4-dropped.png")
	for _, li := range b.layers {
		layer := cat.Layers[li].ID
		if got := checkedValues(p); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, layer+"=") && s != layer+"=" }) {
			continue
		}
		if open := enabled(p, layer); len(open) > 1 {
			choose(p, layer, open[1])
		}
	}
	p.Do(`document.getElementById('review').scrollIntoView()`)
	shot(p, "builder-5-review.png")
	narrow := Open(t, root, strings.TrimPrefix(p.URL(), root), Width(375))
	shot(narrow, "builder-6-narrow.png")
}
