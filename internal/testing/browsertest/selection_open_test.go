package browsertest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/packstudio/packstudio/catalog"
)

// TestSelectionOpensABundleJSON opens a bundle.json (as resolve or the
// builder writes it) on the selection page: the selection becomes its
// packs that the catalog holds (the others are named), the release it
// names is chosen, the bundle.json saved back names the same release,
// cloud and packs, and Undo puts back the selection it replaced. A file
// that is not a bundle.json changes nothing.
func TestSelectionOpensABundleJSON(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	root := ServeRoot(t, s.Dir)

	// Three pack versions of different layers offered by one release, in
	// the file's own order (not the page's).
	var rel *catalog.Release
	var product *catalog.Product
	for _, p := range cat.Products {
		if p.ID == "palette" {
			product, rel = p, p.Releases[len(p.Releases)-1]
		}
	}
	var picks []string
	seen := map[string]bool{}
	for _, v := range cat.Versions {
		if v.OffersRelease(rel) && !seen[v.Pack.Layer] && len(picks) < 3 {
			seen[v.Pack.Layer] = true
			picks = append(picks, v.ID())
		}
	}
	if len(picks) < 3 {
		t.Fatalf("%s %s offers versions of %d layers", product.ID, rel.Version.Raw, len(picks))
	}
	slices.Reverse(picks)
	bundle := map[string]any{"product": product.ID, "version": rel.Version.Raw, "cloud": "aws",
		"packs": append(append([]string{}, picks...), "no-such-pack@1.0.0", picks[0])}
	dir := t.TempDir()
	good := filepath.Join(dir, "bundle.json")
	data, _ := json.Marshal(bundle)
	os.WriteFile(good, data, 0o644)
	bad := filepath.Join(dir, "notes.json")
	os.WriteFile(bad, []byte(`{"packs": "kubernetes@1.32.3"`), 0o644)

	sel := openWithBlobHook(t, root, "bundle/selection/index.html")
	before := []string{picks[0]}
	b, _ := json.Marshal(before)
	sel.Do(`localStorage.setItem("packstudio.picks", JSON.stringify(` + string(b) + `))`)
	sel.Navigate("bundle/selection/index.html")
	stored := func() []string {
		return Eval[[]string](sel, `JSON.parse(localStorage.getItem("packstudio.picks") || "[]")`)
	}
	openFile := func(path, wantStatus string) string {
		t.Helper()
		sel.Do(`document.getElementById("bundle-status").textContent = ""`)
		sel.Run(chromedp.SetUploadFiles(chromedp.CSS("#selection-open"), []string{path}))
		got := Eval[string](sel, `new Promise(r => { const s = document.getElementById("bundle-status");
			const done = () => /^(Opened|.* is not)/.test(s.textContent);
			if (done()) return r(s.textContent);
			new MutationObserver(() => done() && r(s.textContent)).observe(s, {childList: true, characterData: true, subtree: true}); })`)
		if !strings.Contains(got, wantStatus) {
			t.Errorf("status after opening %s: %q, want it to say %q", filepath.Base(path), got, wantStatus)
		}
		return got
	}

	openFile(bad, "notes.json is not JSON")
	if got := stored(); !slices.Equal(got, before) {
		t.Errorf("a broken file changed the selection to %v", got)
	}

	status := openFile(good, "Opened bundle.json: 3 pack versions for "+product.Name+" "+rel.Version.Raw+".")
	if !strings.Contains(status, "Not in this catalog, left out: no-such-pack@1.0.0.") {
		t.Errorf("status does not name the pack the catalog lacks: %q", status)
	}
	if got := stored(); !slices.Equal(got, picks) {
		t.Errorf("selection after opening: %v, want %v", got, picks)
	}
	c := choices{picked: map[int][]*catalog.PackVersion{}}
	for _, id := range picks {
		v := versionByID(cat, id)
		c.picked[v.Pack.LayerOrder] = append(c.picked[v.Pack.LayerOrder], v)
	}
	if got, want := sel.Value("#bundle-urls"), bundleURLs(root, c); got != want {
		t.Errorf("review URLs after opening:\n%s\nwant\n%s", got, want)
	}
	var saved struct {
		Product, Version, Cloud string
		Packs                   []string
	}
	if err := json.Unmarshal([]byte(download(sel, "bundle.json")), &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Product != product.ID || saved.Version != rel.Version.Raw || saved.Cloud != "aws" || !slices.Equal(saved.Packs, c.ids()) {
		t.Errorf("bundle.json saved back: %+v, want %s %s aws %v", saved, product.ID, rel.Version.Raw, c.ids())
	}

	sel.Click("#selection-undo")
	if got := stored(); !slices.Equal(got, before) {
		t.Errorf("after Undo the selection is %v, want %v", got, before)
	}
}
