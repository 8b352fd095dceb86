package browsertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/packstudio/packstudio/internal/tree"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/packstudio/packstudio/catalog"
)

// builderPage is one builder page of a site and the oracle's view of it:
// the pack versions of its context and its layers, straight from the
// catalog, independently of the generator.
type builderPage struct {
	rel      string // page path from the site root
	product  *catalog.Product
	release  *catalog.Release
	cloud    string // "" on the add-on only page
	layers   []int  // indices into cat.Layers, in page order
	versions []*catalog.PackVersion
}

func multipleLayer(cat *catalog.Catalog, li int) bool { return cat.Layers[li].Multiple }

func newBuilderPage(cat *catalog.Catalog, r *catalog.Release, cloud string) builderPage {
	b := builderPage{product: r.Product, release: r, cloud: cloud}
	if cloud == "" {
		b.rel = fmt.Sprintf("bundle/%s/%s/addons/index.html", r.Product.ID, r.Version.Raw)
	} else {
		b.rel = fmt.Sprintf("bundle/%s/%s/%s/index.html", r.Product.ID, r.Version.Raw, cloud)
	}
	for li := range cat.Layers {
		if cloud != "" || multipleLayer(cat, li) {
			b.layers = append(b.layers, li)
		}
	}
	f := catalog.NewFilter().With(catalog.SegProduct, r.Product.ID).With(catalog.SegVersion, r.Version.Raw).With(catalog.SegCloud, cloud)
	for _, v := range cat.Versions {
		if cloud == "" && multipleLayer(cat, v.Pack.LayerOrder) && v.OffersRelease(r) || cloud != "" && v.Matches(cat, f) {
			b.versions = append(b.versions, v)
		}
	}
	return b
}

// hasFIPS reports whether a FIPS version is offered on the page, which
// then has a FIPS toggle.
func (b builderPage) hasFIPS() bool {
	return slices.ContainsFunc(b.versions, func(v *catalog.PackVersion) bool { return v.FIPS })
}

// choices is what a user chose on a builder page.
type choices struct {
	arch, fips string
	picked     map[int][]*catalog.PackVersion // layer index → versions
}

func (c choices) fits(v *catalog.PackVersion) bool {
	if c.arch != catalog.All && !slices.Contains(v.Arch, c.arch) {
		return false
	}
	switch c.fips {
	case catalog.FIPSOnly:
		return v.FIPS
	case catalog.NonFIPS:
		return !v.FIPS
	}
	return true
}

// offered is the oracle: the values a layer's step must offer, pair by
// pair against every choice in the layers above it (and the other ticks
// of a multiple-choice layer), with "" for the single-choice "none".
func (b builderPage) offered(cat *catalog.Catalog, li int, c choices) []string {
	var out []string
	multiple := multipleLayer(cat, li)
	if !multiple {
		out = append(out, "")
	}
	for _, v := range b.versions {
		if v.Pack.LayerOrder != li || !c.fits(v) {
			continue
		}
		ok := true
		for l, list := range c.picked {
			if l > li || l == li && !multiple {
				continue
			}
			for _, o := range list {
				if o != v && !catalog.Compatible(v, o) {
					ok = false
				}
			}
		}
		if ok && b.meetable(cat, v, c) {
			out = append(out, v.ID())
		}
	}
	return out
}

// meetable is the oracle for v's required rules: each is met by a
// version of the page that goes with v and is chosen, or could be added as
// things are (it fits the toggles and every choice, rule by rule with
// catalog.Compatible, which also keeps a single-choice layer to one). A
// choice in v's own single-choice layer is left aside: v replaces it. On
// the add-on only page, a rule that only versions of the other layers
// meet is left to the cluster.
func (b builderPage) meetable(cat *catalog.Catalog, v *catalog.PackVersion, c choices) bool {
	var picks []*catalog.PackVersion
	for l, list := range c.picked {
		if l != v.Pack.LayerOrder || multipleLayer(cat, l) {
			picks = append(picks, list...)
		}
	}
	for _, r := range v.Requires {
		if r.Kind != catalog.Required {
			continue
		}
		met := slices.ContainsFunc(b.versions, func(o *catalog.PackVersion) bool {
			if !r.Meets(v, o) || !catalog.Compatible(v, o) {
				return false
			}
			if slices.Contains(picks, o) {
				return true
			}
			return c.fits(o) && !slices.ContainsFunc(picks, func(x *catalog.PackVersion) bool { return !catalog.Compatible(o, x) })
		})
		if !met && b.cloud == "" {
			met = slices.ContainsFunc(cat.Versions, func(o *catalog.PackVersion) bool {
				return !multipleLayer(cat, o.Pack.LayerOrder) && o.OffersRelease(b.release) && r.Meets(v, o)
			})
		}
		if !met {
			return false
		}
	}
	return true
}

// bundleURLs is the URL list of CONTRACT §6 for the chosen versions, in
// entry order, resolved against root, with artifact names from CONTRACT §5.
func bundleURLs(root string, c choices) string {
	var all []*catalog.PackVersion
	for _, list := range c.picked {
		all = append(all, list...)
	}
	slices.SortFunc(all, func(a, b *catalog.PackVersion) int { return a.Index - b.Index })
	var sb strings.Builder
	for _, v := range all {
		base := "artifacts/packs/" + v.Pack.Name + "/" + v.Pack.Name + "-" + v.Version.Raw
		sb.WriteString(root + base + ".zst\n" + root + base + ".sig.bin\n")
	}
	return sb.String()
}

func (c choices) ids() []string {
	var all []*catalog.PackVersion
	for _, list := range c.picked {
		all = append(all, list...)
	}
	slices.SortFunc(all, func(a, b *catalog.PackVersion) int { return a.Index - b.Index })
	out := []string{}
	for _, v := range all {
		out = append(out, v.ID())
	}
	return out
}

// enabled reads the values a fieldset offers: its inputs not disabled,
// sorted (the page lists packs by display name, the oracle in entry order).
func enabled(p *Page, layer string) []string {
	return sorted(Eval[[]string](p, fmt.Sprintf(`Array.from(document.querySelectorAll('fieldset[data-layer=%q] input:not([disabled])'), e => e.value)`, layer)))
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// invalidValues are the chosen inputs marked as conflicts.
func invalidValues(p *Page) []string {
	return Eval[[]string](p, `Array.from(document.querySelectorAll('#bundle fieldset input[aria-invalid="true"]'), e => e.name + "=" + e.value)`)
}

func checkedValues(p *Page) []string {
	return Eval[[]string](p, `Array.from(document.querySelectorAll('#bundle fieldset input:checked'), e => e.name + "=" + e.value)`)
}

// choose clicks the input of a layer with that value, as a user would.
func choose(p *Page, layer, value string) {
	p.t.Helper()
	ok := Eval[bool](p, fmt.Sprintf(`(() => { const i = document.querySelector('fieldset[data-layer=%q] input[value=%q]');
		if (!i || i.disabled) return false; i.click(); return true; })()`, layer, value))
	if !ok {
		p.t.Fatalf("%s: no enabled input %s=%q to click", p.URL(), layer, value)
	}
}

func setToggle(p *Page, name, value string) {
	p.SetValue(fmt.Sprintf(`#bundle select[name=%q]`, name), value)
}

// walkPages are the builder pages the walks cover: for the newest release
// of every product, a controller cloud of each kind, every edge cloud and
// the add-on only page.
func walkPages(cat *catalog.Catalog) []builderPage {
	var out []builderPage
	for _, p := range cat.Products {
		r := p.Releases[len(p.Releases)-1]
		seen := map[string]bool{}
		for _, c := range cat.Clouds {
			if c.Kind == "edge" || !seen[c.Kind] {
				seen[c.Kind] = true
				out = append(out, newBuilderPage(cat, r, c.ID))
			}
		}
		out = append(out, newBuilderPage(cat, r, ""))
	}
	return out
}

// TestBundleWalks walks every step of builder pages of every use case with
// random choices (fixed seed) and compares what each step offers with the
// oracle, then checks the review: URL list, copy, downloads, every URL
// answering, and the fragment restoring the same bundle.
func TestBundleWalks(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	rng := rand.New(rand.NewPCG(8, 2026))
	for _, root := range roots(t, s) {
		for _, b := range walkPages(cat) {
			for walk := range 2 {
				t.Run(fmt.Sprintf("%s/%s/%d", root[:4], b.rel, walk), func(t *testing.T) {
					c := choices{arch: catalog.All, fips: catalog.All, picked: map[int][]*catalog.PackVersion{}}
					if walk > 0 {
						c.arch = []string{catalog.All, "amd64", "arm64"}[rng.IntN(3)]
						c.fips = []string{catalog.All, catalog.FIPSOnly, catalog.NonFIPS}[rng.IntN(3)]
					}
					if !b.hasFIPS() {
						c.fips = catalog.All
					}
					p := openWithBlobHook(t, root, b.rel)
					setToggle(p, "arch", c.arch)
					if b.hasFIPS() {
						setToggle(p, "fips", c.fips)
					} else if Eval[bool](p, `!!document.querySelector('#bundle select[name="fips"]')`) {
						t.Errorf("a FIPS toggle where no pack version is FIPS")
					}
					b.walk(t, p, cat, rng, c)
					b.checkReview(t, p, s, root, c)
					restored := Open(t, root, strings.TrimPrefix(p.URL(), root))
					if got, want := checkedValues(restored), checkedValues(p); !slices.Equal(got, want) {
						t.Errorf("the fragment does not restore the bundle: %v, want %v", got, want)
					}
					if got, want := restored.Value("#bundle-urls"), p.Value("#bundle-urls"); got != want {
						t.Errorf("restored URL list differs:\n%s\nwant\n%s", got, want)
					}
				})
			}
		}
	}
}

// walk goes through every layer in order, checking what is offered before
// each choice, and picks at random (several in a multiple-choice layer).
func (b builderPage) walk(t *testing.T, p *Page, cat *catalog.Catalog, rng *rand.Rand, c choices) {
	t.Helper()
	for _, li := range b.layers {
		layer := cat.Layers[li].ID
		want := b.offered(cat, li, c)
		if got := enabled(p, layer); !slices.Equal(got, sorted(want)) {
			t.Fatalf("layer %s after %v: offered %v, want %v", layer, c.ids(), got, want)
		}
		if !multipleLayer(cat, li) {
			pick := want[rng.IntN(len(want))]
			if pick == "" && len(want) > 1 && rng.IntN(4) > 0 {
				pick = want[1+rng.IntN(len(want)-1)] // mostly choose something
			}
			// Half the time, a version that rules out others, so the
			// later steps have something to filter.
			if ruling := b.ruling(want); len(ruling) > 0 && rng.IntN(2) == 0 {
				pick = ruling[rng.IntN(len(ruling))]
			}
			choose(p, layer, pick)
			c.picked[li] = nil
			if pick != "" {
				c.picked[li] = []*catalog.PackVersion{versionByID(cat, pick)}
			}
			continue
		}
		for range rng.IntN(4) {
			var open []string
			for _, id := range b.offered(cat, li, c) {
				if !slices.ContainsFunc(c.picked[li], func(v *catalog.PackVersion) bool { return v.ID() == id }) {
					open = append(open, id)
				}
			}
			if len(open) == 0 {
				break
			}
			pick := open[rng.IntN(len(open))]
			choose(p, layer, pick)
			c.picked[li] = append(c.picked[li], versionByID(cat, pick))
			if got, want := enabled(p, layer), b.offered(cat, li, c); !slices.Equal(got, sorted(want)) {
				t.Fatalf("layer %s after ticking %s: offered %v, want %v", layer, pick, got, want)
			}
		}
	}
}

// ruling returns the ids among offered that conflict with some other
// version of the page (pair by pair with catalog.Compatible).
func (b builderPage) ruling(offered []string) []string {
	var out []string
	for _, id := range offered {
		for _, v := range b.versions {
			if v.ID() != id {
				continue
			}
			for _, o := range b.versions {
				if catalog.MayCombine(v.Pack, o.Pack) && !catalog.Compatible(v, o) {
					out = append(out, id)
					break
				}
			}
		}
	}
	return out
}

func versionByID(cat *catalog.Catalog, id string) *catalog.PackVersion {
	for _, v := range cat.Versions {
		if v.ID() == id {
			return v
		}
	}
	return nil
}

// checkReview checks the textarea, the copied text, the three downloads
// made in the page and that every listed URL answers.
func (b builderPage) checkReview(t *testing.T, p *Page, s *Site, root string, c choices) {
	t.Helper()
	want := bundleURLs(root, c)
	if got := p.Value("#bundle-urls"); got != want {
		t.Errorf("URL list:\n%s\nwant\n%s", got, want)
	}
	p.Click("#copy-urls")
	if got := p.Copied(); got != want {
		t.Errorf("copied:\n%s\nwant\n%s", got, want)
	}
	var sums strings.Builder
	for _, u := range strings.Fields(want) {
		rel := strings.TrimPrefix(u, root)
		checkAnswers(t, root, s.Dir, rel)
		if strings.HasSuffix(u, ".zst") {
			data, err := os.ReadFile(filepath.Join(s.Dir, filepath.FromSlash(rel)))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			sums.WriteString(hex.EncodeToString(sum[:]) + "  " + filepath.Base(rel) + "\n")
		}
	}
	if got := download(p, "SHA256SUMS"); got != sums.String() {
		t.Errorf("SHA256SUMS:\n%s\nwant\n%s", got, sums.String())
	}
	if got := download(p, "urls.txt"); got != want {
		t.Errorf("urls.txt:\n%s\nwant\n%s", got, want)
	}
	var doc struct {
		Product, Version string
		Cloud            *string
		Packs            []string
	}
	if err := json.Unmarshal([]byte(download(p, "bundle.json")), &doc); err != nil {
		t.Fatalf("bundle.json: %v", err)
	}
	wantCloud := b.cloud
	if doc.Product != b.product.ID || doc.Version != b.release.Version.Raw || !slices.Equal(doc.Packs, c.ids()) ||
		(doc.Cloud == nil) != (wantCloud == "") || doc.Cloud != nil && *doc.Cloud != wantCloud {
		t.Errorf("bundle.json = %+v, want %s %s cloud %q packs %v", doc, b.product.ID, b.release.Version.Raw, wantCloud, c.ids())
	}
}

// blobHook records each Blob the page turns into a URL, so a test reads
// what a download link hands out (the site's CSP rightly forbids the page
// to fetch it).
const blobHook = `(() => { const real = URL.createObjectURL; window.__blobs = new Map();
	URL.createObjectURL = (b) => { const u = real(b); window.__blobs.set(u, b); return u; }; })()`

// openWithBlobHook opens a page with blobHook installed before its own
// scripts run.
func openWithBlobHook(t *testing.T, root, rel string) *Page {
	t.Helper()
	return openWithHooks(t, root, rel, blobHook)
}

// openWithHooks opens a page with scripts that run before its own.
func openWithHooks(t testing.TB, root, rel string, hooks ...string) *Page {
	t.Helper()
	p := Open(t, root, "index.html")
	p.Run(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, h := range hooks {
			if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: h}); err != nil {
				return err
			}
		}
		return nil
	}))
	p.Navigate(rel)
	return p
}

// download reads what a review download link hands out, once the frame
// after the last change has passed (the page makes the files then).
func download(p *Page, name string) string {
	return Eval[string](p, fmt.Sprintf(`new Promise(r => requestAnimationFrame(() => setTimeout(r))).then(() =>
		window.__blobs.get(document.querySelector('[data-download=%q]').href).text())`, name))
}

// checkAnswers checks that a URL of the list answers 200 from serve, or
// names a file of the tree when the page was opened from disk.
func checkAnswers(t *testing.T, root, dir, rel string) {
	t.Helper()
	if strings.HasPrefix(root, "file://") {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
		return
	}
	resp, err := http.Get(root + rel)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", root+rel, resp.Status)
	}
}

// conflict is a case where changing an earlier choice must drop a later
// one: b fits a1 but not a2, both of an earlier layer than b.
type conflict struct {
	a1, a2, b *catalog.PackVersion
}

// conflictsOf finds, in a page's context, the first such case for each
// pair of single-choice layers, pair by pair with catalog.Compatible.
func (b builderPage) conflictsOf(cat *catalog.Catalog) []conflict {
	var out []conflict
	seen := map[[2]int]bool{}
	for _, x := range b.versions {
		for _, y := range b.versions {
			la, lb := x.Pack.LayerOrder, y.Pack.LayerOrder
			if la >= lb || seen[[2]int{la, lb}] || multipleLayer(cat, la) || !catalog.Compatible(x, y) {
				continue
			}
			for _, z := range b.versions {
				if z.Pack.LayerOrder == la && !catalog.Compatible(z, y) {
					out = append(out, conflict{a1: x, a2: z, b: y})
					seen[[2]int{la, lb}] = true
					break
				}
			}
		}
	}
	return out
}

// TestBundleKeepsConflictingChoices changes an earlier choice to one that
// a later choice does not fit (the demo's conflicts, found pair by pair):
// the later one stays chosen but marked as a conflict with its reason, is
// left out of the URL list, stays in the fragment, and counts again as
// soon as the earlier choice changes back.
func TestBundleKeepsConflictingChoices(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	root := ServeRoot(t, s.Dir)
	cases := 0
	for _, b := range walkPages(cat) {
		for _, c := range b.conflictsOf(cat) {
			cases++
			la, lb := cat.Layers[c.a1.Pack.LayerOrder].ID, cat.Layers[c.b.Pack.LayerOrder].ID
			t.Run(b.rel+"/"+c.a2.ID()+"-excludes-"+c.b.ID(), func(t *testing.T) {
				p := Open(t, root, b.rel)
				choose(p, la, c.a1.ID())
				choose(p, lb, c.b.ID())
				both := choices{picked: map[int][]*catalog.PackVersion{c.a1.Pack.LayerOrder: {c.a1}, c.b.Pack.LayerOrder: {c.b}}}
				choose(p, la, c.a2.ID())
				picked := choices{arch: catalog.All, fips: catalog.All, picked: map[int][]*catalog.PackVersion{c.a2.Pack.LayerOrder: {c.a2}}}
				want := b.offered(cat, c.b.Pack.LayerOrder, picked)
				if !slices.Contains(want, c.b.ID()) {
					want = append(want, c.b.ID()) // still chosen, so still enabled
				}
				if got := enabled(p, lb); !slices.Equal(got, sorted(want)) {
					t.Errorf("after %s, layer %s offers %v, want %v", c.a2.ID(), lb, got, sorted(want))
				}
				if got := checkedValues(p); !slices.Contains(got, lb+"="+c.b.ID()) {
					t.Errorf("%s is no longer chosen: %v", c.b.ID(), got)
				}
				if got := invalidValues(p); !slices.Equal(got, []string{lb + "=" + c.b.ID()}) {
					t.Errorf("inputs marked as conflicts: %v, want only %s", got, c.b.ID())
				}
				if got, want := p.Value("#bundle-urls"), bundleURLs(root, picked); got != want {
					t.Errorf("URL list with %s in conflict:\n%s\nwant\n%s", c.b.ID(), got, want)
				}
				reason := Eval[string](p, fmt.Sprintf(`(() => { const i = document.querySelector('fieldset[data-layer=%q] input[value=%q]');
					const d = document.getElementById(i.getAttribute('aria-describedby') || ''); return d ? d.textContent : ''; })()`, lb, c.b.ID()))
				if !strings.Contains(reason, c.a2.Pack.DisplayName+" "+c.a2.Version.Raw) {
					t.Errorf("the conflict's reason %q does not name %s", reason, c.a2.ID())
				}
				status := p.Texts("#bundle-status")[0]
				if !strings.Contains(status, c.b.Pack.DisplayName+" "+c.b.Version.Raw) {
					t.Errorf("status %q does not say that %s is left out", status, c.b.ID())
				}
				if u := p.URL(); !strings.Contains(u, c.b.ID()) || !strings.Contains(u, c.a2.ID()) {
					t.Errorf("fragment after the change: %s", u)
				}
				choose(p, la, c.a1.ID())
				if got := invalidValues(p); len(got) != 0 {
					t.Errorf("back to %s, still marked as conflicts: %v", c.a1.ID(), got)
				}
				if got, want := p.Value("#bundle-urls"), bundleURLs(root, both); got != want {
					t.Errorf("back to %s, URL list:\n%s\nwant\n%s", c.a1.ID(), got, want)
				}
			})
		}
	}
	if cases == 0 {
		t.Fatal("the demo catalog has no conflict between layers: this test checks nothing")
	}
}

// TestBundleToggleKeepsChoices: switching the architecture keeps a chosen
// version built for the other one, marked and left out; switching back
// brings it back.
func TestBundleToggleKeepsChoices(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	root := FileRoot(s.Dir)
	for _, b := range walkPages(cat) {
		for _, v := range b.versions {
			if slices.Contains(v.Arch, "arm64") || multipleLayer(cat, v.Pack.LayerOrder) {
				continue
			}
			p := Open(t, root, b.rel)
			layer := cat.Layers[v.Pack.LayerOrder].ID
			choose(p, layer, v.ID())
			setToggle(p, "arch", "arm64")
			if got := checkedValues(p); !slices.Contains(got, layer+"="+v.ID()) {
				t.Errorf("%s: %s dropped for arm64", b.rel, v.ID())
			}
			if got := invalidValues(p); !slices.Equal(got, []string{layer + "=" + v.ID()}) {
				t.Errorf("%s: marked as conflicts %v, want %s", b.rel, got, v.ID())
			}
			if got := p.Value("#bundle-urls"); got != "" {
				t.Errorf("%s: the URL list holds the version left out:\n%s", b.rel, got)
			}
			if status := p.Texts("#bundle-status")[0]; !strings.Contains(status, v.Pack.DisplayName+" "+v.Version.Raw) || !strings.Contains(status, "arm64") {
				t.Errorf("%s: status %q does not name %s and why", b.rel, status, v.ID())
			}
			setToggle(p, "arch", catalog.All)
			one := choices{picked: map[int][]*catalog.PackVersion{v.Pack.LayerOrder: {v}}}
			if got, want := p.Value("#bundle-urls"), bundleURLs(root, one); got != want || len(invalidValues(p)) != 0 {
				t.Errorf("%s: back to all architectures, URL list %q (want %q), conflicts %v", b.rel, got, want, invalidValues(p))
			}
			return
		}
	}
	t.Fatal("no amd64-only pack version in the demo's builder pages")
}

// TestBundleUseCases follows the plain links from the home page: product
// and release, then controller (clouds of kind public or datacenter), edge
// (straight to the builder when there is one edge cloud) and add-on only.
func TestBundleUseCases(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	root := FileRoot(s.Dir)
	home := Open(t, root, "index.html", NoScript())
	if !slices.Contains(home.Links("main a"), root+"bundle/index.html") {
		t.Fatal("the home page does not link to bundle/index.html")
	}
	start := Open(t, root, "bundle/index.html", NoScript())
	links := start.Links("main a")
	for _, p := range cat.Products {
		for _, r := range p.Releases {
			rel := fmt.Sprintf("bundle/%s/%s/index.html", p.ID, r.Version.Raw)
			if !slices.Contains(links, root+rel) {
				t.Errorf("bundle/index.html does not link to %s", rel)
				continue
			}
			var controller, edge []string
			for _, c := range cat.Clouds {
				u := fmt.Sprintf("%sbundle/%s/%s/%s/index.html", root, p.ID, r.Version.Raw, c.ID)
				if c.Kind == "edge" {
					edge = append(edge, u)
				} else {
					controller = append(controller, u)
				}
			}
			page := Open(t, root, rel, NoScript())
			if got := page.Links("section[aria-labelledby=uc-controller] a"); !slices.Equal(got, controller) {
				t.Errorf("%s: controller clouds %v, want %v", rel, got, controller)
			}
			if got := page.Links("section[aria-labelledby=uc-edge] a"); !slices.Equal(got, edge) {
				t.Errorf("%s: edge links %v, want %v", rel, got, edge)
			}
			if len(edge) == 1 && len(page.Links("section[aria-labelledby=uc-edge] ul a")) != 0 {
				t.Errorf("%s: one edge cloud, yet a cloud step", rel)
			}
			addons := fmt.Sprintf("%sbundle/%s/%s/addons/index.html", root, p.ID, r.Version.Raw)
			if got := page.Links("section[aria-labelledby=uc-addons] a"); !slices.Equal(got, []string{addons}) {
				t.Errorf("%s: add-on only links %v", rel, got)
			}
		}
	}
}

// TestBundleWithoutJavaScript: with scripts off, a builder page lists every
// pack version of its context per layer, with its rules and downloads, and
// says that choosing needs JavaScript.
func TestBundleWithoutJavaScript(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	root := ServeRoot(t, s.Dir)
	for _, b := range walkPages(cat) {
		p := Open(t, root, b.rel, NoScript())
		for _, li := range b.layers {
			layer := cat.Layers[li].ID
			var want []string
			var rules int
			for _, v := range b.versions {
				if v.Pack.LayerOrder == li {
					want = append(want, v.ID())
					rules += len(v.Requires)
				}
			}
			// Packs are listed by the name shown, then in entry order.
			slices.SortStableFunc(want, func(x, y string) int {
				return strings.Compare(strings.ToLower(versionByID(cat, x).Pack.DisplayName), strings.ToLower(versionByID(cat, y).Pack.DisplayName))
			})
			got := p.Attrs(fmt.Sprintf(`fieldset[data-layer=%q] input[value]:not([value=""])`, layer), "value")
			if !slices.Equal(got, want) {
				t.Errorf("%s: layer %s lists %v, want %v", b.rel, layer, got, want)
			}
			text := strings.Join(p.Texts(fmt.Sprintf(`fieldset[data-layer=%q] li:has(> label)`, layer)), "\n")
			if n := strings.Count(text, "needs ") + strings.Count(text, "only with ") + strings.Count(text, "not with "); n != rules {
				t.Errorf("%s: layer %s shows %d rules, want %d", b.rel, layer, n, rules)
			}
			zst := p.Links(fmt.Sprintf(`fieldset[data-layer=%q] a[href$=".zst"]`, layer))
			if len(zst) != len(want) {
				t.Errorf("%s: layer %s has %d .zst links for %d versions", b.rel, layer, len(zst), len(want))
			}
		}
		if note := strings.Join(p.Texts("[data-nojs]"), " "); !strings.Contains(note, "needs JavaScript") {
			t.Errorf("%s: no note that choosing needs JavaScript", b.rel)
		}
	}
}

// TestSelectionFromBrowsePages adds versions on two browse pages and
// reviews them on the selection page: URL list, copy, downloads, remove.
func TestSelectionFromBrowsePages(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	for _, root := range roots(t, s) {
		t.Run(root[:4], func(t *testing.T) {
			first := Open(t, root, tree.Folder().File("index.html"))
			first.Do(`localStorage.clear()`)
			ids := first.Attrs("button[data-add]", "data-add")
			if len(ids) < 3 {
				t.Fatalf("%d add-to-bundle buttons on the browse page", len(ids))
			}
			picks := []string{ids[len(ids)-1], ids[0]}
			for _, id := range picks {
				first.Click(fmt.Sprintf(`button[data-add=%q]`, id))
			}
			if got := first.Attrs(`button[aria-pressed="true"]`, "data-add"); !slices.Equal(got, []string{ids[0], ids[len(ids)-1]}) {
				t.Errorf("pressed buttons %v", got)
			}
			layer := cat.Layers[1].ID
			second := Open(t, root, tree.Folder("layer="+layer).File("index.html"))
			more := second.Attrs("button[data-add]", "data-add")
			second.Click(fmt.Sprintf(`button[data-add=%q]`, more[0]))
			picks = append(picks, more[0])

			sel := openWithBlobHook(t, root, "bundle/selection/index.html")
			c := choices{picked: map[int][]*catalog.PackVersion{}}
			for _, id := range picks {
				v := versionByID(cat, id)
				c.picked[v.Pack.LayerOrder] = append(c.picked[v.Pack.LayerOrder], v)
			}
			want := bundleURLs(root, c)
			if got := sel.Value("#bundle-urls"); got != want {
				t.Errorf("selection URLs:\n%s\nwant\n%s", got, want)
			}
			sel.Click("#copy-urls")
			if got := sel.Copied(); got != want {
				t.Errorf("copied:\n%s\nwant\n%s", got, want)
			}
			// bundle.json names the newest release offering every pick, as
			// mirror --bundle needs; without one, the page warns.
			var release struct{ Product, Version string }
			warn := true
		search:
			for _, p := range cat.Products {
				for i := len(p.Releases) - 1; i >= 0; i-- {
					if !slices.ContainsFunc(picks, func(id string) bool { return !versionByID(cat, id).OffersRelease(p.Releases[i]) }) {
						release.Product, release.Version, warn = p.ID, p.Releases[i].Version.Raw, false
						break search
					}
				}
			}
			var doc struct {
				Product, Version string
				Packs            []string
			}
			if err := json.Unmarshal([]byte(download(sel, "bundle.json")), &doc); err != nil || !slices.Equal(doc.Packs, c.ids()) {
				t.Errorf("bundle.json packs %v (%v), want %v", doc.Packs, err, c.ids())
			}
			if !warn && (doc.Product != release.Product || doc.Version != release.Version) {
				t.Errorf("bundle.json names %s %s, want %s %s, the newest release offering %v", doc.Product, doc.Version, release.Product, release.Version, picks)
			}
			if got := sel.Texts("#selection-warning")[0]; (got != "") != warn {
				t.Errorf("warning %q; every pick offered by one release: %v", got, !warn)
			}
			sel.Click(fmt.Sprintf(`button[aria-label="Remove %s"]`, picks[0]))
			v := versionByID(cat, picks[0])
			c.picked[v.Pack.LayerOrder] = slices.DeleteFunc(c.picked[v.Pack.LayerOrder], func(o *catalog.PackVersion) bool { return o == v })
			if got, want := sel.Value("#bundle-urls"), bundleURLs(root, c); got != want {
				t.Errorf("after removing %s:\n%s\nwant\n%s", picks[0], got, want)
			}
		})
	}
}
