package browsertest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/packstudio/packstudio/catalog"
)

// The builder page and the bundle the tests below choose on it: one
// version of each layer and two add-ons of the demo's AWS context.
const awsBuilder = "bundle/palette/4.9.2/aws/index.html"

var awsPicks = []string{"ubuntu-aws@24.04", "kubernetes@1.35.2", "cni-calico@3.32.0", "csi-aws-ebs@1.63.1",
	"prometheus-operator@88.3.0", "cost-analyzer@1.103.3"}

// pickAll chooses ids in order, as a person clicking them would.
func pickAll(t *testing.T, p *Page, cat *catalog.Catalog, ids []string) choices {
	t.Helper()
	c := choices{arch: catalog.All, fips: catalog.All, picked: map[int][]*catalog.PackVersion{}}
	for _, id := range ids {
		v := versionByID(cat, id)
		if v == nil {
			t.Fatalf("the demo has no %s", id)
		}
		choose(p, v.Pack.Layer, id)
		c.picked[v.Pack.LayerOrder] = append(c.picked[v.Pack.LayerOrder], v)
	}
	return c
}

// builderState is what a person sees of their choices.
type builderState struct {
	Checked, Invalid []string
	URLs, Hash, Arch string
	FIPS             string
}

func stateOf(p *Page) builderState {
	p.t.Helper()
	return builderState{Checked: checkedValues(p), Invalid: invalidValues(p), URLs: p.Value("#bundle-urls"),
		Hash: Eval[string](p, `location.hash`), Arch: p.Value(`#bundle select[name="arch"]`),
		FIPS: Eval[string](p, `(document.querySelector('#bundle select[name="fips"]') || {value: ""}).value`)}
}

func (s builderState) String() string {
	return fmt.Sprintf("checked %v, conflicts %v, arch %s, fips %s, fragment %s", s.Checked, s.Invalid, s.Arch, s.FIPS, s.Hash)
}

func sameState(a, b builderState) bool {
	return slices.Equal(a.Checked, b.Checked) && slices.Equal(a.Invalid, b.Invalid) && a.URLs == b.URLs &&
		a.Hash == b.Hash && a.Arch == b.Arch && a.FIPS == b.FIPS
}

// noPicker makes "Download bundle" find no folder: the picker is
// cancelled, as a person closing the dialog would.
const noPicker = `window.showDirectoryPicker = () => Promise.reject(new DOMException("cancelled", "AbortError"));`

// TestBuilderControlsKeepChoices clicks every in-page link of the builder
// (skip links, steps, Review; by mouse and by Enter), every button that is
// not a choice and every download: the choices survive each one.
func TestBuilderControlsKeepChoices(t *testing.T) {
	s := demoSite(t)
	for _, root := range roots(t, s) {
		t.Run(root[:4], func(t *testing.T) {
			p := openWithHooks(t, root, awsBuilder, blobHook, noPicker)
			allowDownloads(t, p)
			pickAll(t, p, s.Catalog, awsPicks)
			want := stateOf(p)
			if want.URLs == "" {
				t.Fatal("nothing chosen")
			}
			check := func(what string) {
				t.Helper()
				if got := stateOf(p); !sameState(got, want) {
					t.Errorf("after %s: %s\nwant %s", what, got, want)
				}
			}
			inPage := Eval[[]int](p, `Array.from(document.querySelectorAll('a[href]')).map((a, i) => [a, i])
				.filter(([a]) => a.href.split('#')[0] === location.href.split('#')[0] && a.hash).map(([, i]) => i)`)
			if len(inPage) < 3 {
				t.Errorf("%d in-page links; want at least the skip link, the steps and Review", len(inPage))
			}
			for _, i := range inPage {
				text := Eval[string](p, fmt.Sprintf(`document.querySelectorAll('a[href]')[%d].textContent`, i))
				p.Do(fmt.Sprintf(`document.querySelectorAll('a[href]')[%d].click()`, i))
				check("clicking " + text)
				p.Do(fmt.Sprintf(`document.querySelectorAll('a[href]')[%d].focus()`, i))
				p.Run(chromedp.KeyEvent(kb.Enter))
				check("Enter on " + text)
			}
			p.Click("[data-review-jump]") // the sticky link, with the mouse
			check("a mouse click on Review")
			if focused := Eval[string](p, `document.activeElement.id`); focused != "review" {
				t.Errorf("Review moved focus to #%s, want #review", focused)
			}
			for _, sel := range []string{"#copy-urls", "#download-bundle", `[data-download="urls.txt"]`, `[data-download="SHA256SUMS"]`,
				`[data-download="bundle.json"]`, `[data-download="download.sh"]`} {
				if Eval[bool](p, fmt.Sprintf(`!!document.querySelector(%q) && !document.querySelector(%q).closest('[hidden]')`, sel, sel)) {
					p.Click(sel)
					check("clicking " + sel)
				}
			}
		})
	}
}

// TestBuilderFIPSRoundTrip: FIPS only keeps every non-FIPS choice as a
// conflict and switching back restores them all; Undo reverses the last
// change; Back and Forward step through every change.
func TestBuilderFIPSRoundTrip(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	root := ServeRoot(t, s.Dir)
	b, ids := fipsCase(cat)
	if ids == nil {
		t.Fatal("no builder page of the demo offers FIPS versions beside three non-FIPS ones that fit together")
	}
	p := Open(t, root, b.rel)
	var history []builderState
	history = append(history, stateOf(p))
	c := choices{arch: catalog.All, fips: catalog.All, picked: map[int][]*catalog.PackVersion{}}
	var nonFIPS []string
	for _, id := range ids {
		v := versionByID(cat, id)
		choose(p, v.Pack.Layer, id)
		c.picked[v.Pack.LayerOrder] = append(c.picked[v.Pack.LayerOrder], v)
		if !v.FIPS {
			nonFIPS = append(nonFIPS, v.Pack.Layer+"="+id)
		}
		history = append(history, stateOf(p))
	}
	if len(nonFIPS) < 3 {
		t.Fatalf("only %d non-FIPS picks: the round trip checks little", len(nonFIPS))
	}
	all := stateOf(p)
	if want := bundleURLs(root, c); all.URLs != want {
		t.Fatalf("URL list:\n%s\nwant\n%s", all.URLs, want)
	}

	setToggle(p, "fips", catalog.FIPSOnly)
	fips := stateOf(p)
	history = append(history, fips)
	if !slices.Equal(fips.Checked, all.Checked) {
		t.Errorf("FIPS only changed the choices: %v, want %v", fips.Checked, all.Checked)
	}
	if got := sorted(fips.Invalid); !slices.Equal(got, sorted(nonFIPS)) {
		t.Errorf("FIPS only: conflicts %v, want the non-FIPS picks %v", got, nonFIPS)
	}
	for _, id := range nonFIPS {
		_, id, _ = strings.Cut(id, "=")
		name, version, _ := strings.Cut(id, "@")
		if strings.Contains(fips.URLs, name+"-"+version+".zst") {
			t.Errorf("FIPS only: the URL list holds %s", id)
		}
	}

	setToggle(p, "fips", catalog.All)
	back := stateOf(p)
	history = append(history, back)
	if back.URLs != all.URLs || len(back.Invalid) != 0 || !slices.Equal(back.Checked, all.Checked) {
		t.Errorf("switching FIPS back does not restore the bundle: %s", back)
	}

	setToggle(p, "fips", catalog.FIPSOnly)
	history = append(history, stateOf(p))
	p.Click("#bundle-undo")
	undone := stateOf(p)
	history = append(history, undone)
	if undone.URLs != all.URLs || len(undone.Invalid) != 0 || undone.FIPS != catalog.All {
		t.Errorf("Undo after FIPS only: %s", undone)
	}

	// Back through every change to the empty page, then Forward to the end.
	for i := len(history) - 2; i >= 0; i-- {
		p.Do(`new Promise(r => { addEventListener('popstate', () => setTimeout(r, 0), {once: true}); history.back(); })`)
		if got := stateOf(p); !sameState(got, history[i]) {
			t.Fatalf("Back to change %d: %s\nwant %s", i, got, history[i])
		}
	}
	for i := 1; i < len(history); i++ {
		p.Do(`new Promise(r => { addEventListener('popstate', () => setTimeout(r, 0), {once: true}); history.forward(); })`)
		if got := stateOf(p); !sameState(got, history[i]) {
			t.Fatalf("Forward to change %d: %s\nwant %s", i, got, history[i])
		}
	}
}

// fipsCase finds a builder page with FIPS versions and a bundle of
// non-FIPS versions there, one a layer, each the first that fits the
// ones before it (the oracle's offer).
func fipsCase(cat *catalog.Catalog) (builderPage, []string) {
	for _, b := range walkPages(cat) {
		if !b.hasFIPS() || b.cloud == "" {
			continue
		}
		c := choices{arch: catalog.All, fips: catalog.All, picked: map[int][]*catalog.PackVersion{}}
		var ids []string
		for _, li := range b.layers {
			for _, id := range b.offered(cat, li, c) {
				if v := versionByID(cat, id); v != nil && !v.FIPS {
					c.picked[li] = []*catalog.PackVersion{v}
					ids = append(ids, id)
					break
				}
			}
		}
		if len(ids) >= 3 {
			return b, ids
		}
	}
	return builderPage{}, nil
}

// TestBuilderArrowKeysKeepChoices walks the Kubernetes radios with the
// arrow keys: passing over versions chooses nothing, Space chooses one
// (later picks it excludes stay, marked), and Enter on the first one
// brings the whole bundle back.
func TestBuilderArrowKeysKeepChoices(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	root := ServeRoot(t, s.Dir)
	// A first layer's version (a1) and a later one (b) that fit, and
	// another version of the first layer (a2) that excludes b, the
	// demo's own conflicts found pair by pair: on a Kubernetes layer when
	// there is one.
	var b builderPage
	var cs []conflict
	for _, page := range walkPages(cat) {
		for _, c := range page.conflictsOf(cat) {
			if c.a1.Pack.LayerOrder == 0 || cs == nil {
				b, cs = page, []conflict{c}
			}
		}
		if cs != nil && cs[0].a1.Pack.LayerOrder == 0 {
			break
		}
	}
	if cs == nil {
		t.Fatal("no conflict between layers in the demo: the walk checks little")
	}
	c := cs[0]
	p := Open(t, root, b.rel)
	picks := []string{c.a1.ID(), c.b.ID()}
	pickAll(t, p, cat, picks)
	start := stateOf(p)
	k8s := c.a1
	layer := k8s.Pack.Layer
	excluding := c.a2.ID()
	p.Run(chromedp.Focus(chromedp.CSS(fmt.Sprintf(`input[name=%q][value=%q]`, layer, k8s.ID()))))
	focused := func() string { return Eval[string](p, `document.activeElement.value`) }
	seen := 0
	for {
		p.Run(chromedp.KeyEvent(kb.ArrowDown))
		seen++
		got := stateOf(p)
		if got.Hash != start.Hash || got.URLs != start.URLs || len(got.Invalid) != 0 {
			t.Fatalf("arrowing onto %s changed the bundle: %s\nwant %s", focused(), got, start)
		}
		later := slices.DeleteFunc(slices.Clone(got.Checked), func(s string) bool { return strings.HasPrefix(s, layer+"=") })
		wantLater := slices.DeleteFunc(slices.Clone(start.Checked), func(s string) bool { return strings.HasPrefix(s, layer+"=") })
		if !slices.Equal(later, wantLater) {
			t.Fatalf("arrowing onto %s dropped later picks: %v, want %v", focused(), later, wantLater)
		}
		if focused() == k8s.ID() || seen > 100 {
			break
		}
	}
	if seen < 3 {
		t.Fatalf("the arrow walk passed %d radios", seen)
	}
	for focused() != excluding {
		p.Run(chromedp.KeyEvent(kb.ArrowDown))
	}
	p.Run(chromedp.KeyEvent(" "))
	chosen := stateOf(p)
	if !strings.Contains(chosen.Hash, excluding) || len(chosen.Invalid) == 0 {
		t.Errorf("Space on %s: %s; want it chosen and the later picks it excludes marked", excluding, chosen)
	}
	for _, id := range picks {
		if v := versionByID(cat, id); v.Pack.LayerOrder > k8s.Pack.LayerOrder && !slices.Contains(chosen.Checked, v.Pack.Layer+"="+id) {
			t.Errorf("Space on %s dropped %s", excluding, id)
		}
	}
	for focused() != k8s.ID() {
		p.Run(chromedp.KeyEvent(kb.ArrowUp))
	}
	p.Run(chromedp.KeyEvent(kb.Enter))
	if got := stateOf(p); got.URLs != start.URLs || len(got.Invalid) != 0 || !slices.Equal(got.Checked, start.Checked) {
		t.Errorf("Enter back on %s: %s\nwant %s", k8s.ID(), got, start)
	}
}

// TestAccessibleNamesHoldVisibleText: a link or button named with
// aria-label holds its visible words, in order and whole (axe's
// label-content-name-mismatch), so a person who says what they see
// reaches it: the browse page's "sig" links, the "+ selection" buttons.
func TestAccessibleNamesHoldVisibleText(t *testing.T) {
	s := demoSite(t)
	root := ServeRoot(t, s.Dir)
	for _, page := range []string{browseAll + "index.html", awsBuilder, "bundle/selection/index.html"} {
		p := Open(t, root, page)
		bad := Eval[[]string](p, `(() => {
			const words = s => s.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
			return Array.from(document.querySelectorAll('a[aria-label], button[aria-label]')).filter(e => {
				const seen = words(e.textContent), name = words(e.getAttribute('aria-label'));
				if (!seen.length) return false;
				for (let i = 0; i + seen.length <= name.length; i++) if (seen.every((w, k) => name[i + k] === w)) return false;
				return true;
			}).map(e => JSON.stringify(e.textContent.trim()) + ' named ' + JSON.stringify(e.getAttribute('aria-label'))).slice(0, 5);
		})()`)
		for _, b := range bad {
			t.Errorf("%s: %s", page, b)
		}
		if n := Eval[int](p, `document.querySelectorAll('a[aria-label], button[aria-label]').length`); page == browseAll+"index.html" && n == 0 {
			t.Errorf("%s: no labelled link or button: the check saw nothing", page)
		}
	}
}
