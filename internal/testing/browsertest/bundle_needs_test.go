package browsertest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/catalog"
)

// The demo's Kubecost-style rule: cost-analyzer needs prometheus-operator
// >=75.0.0 (kind = "required").
const (
	needer   = "cost-analyzer@1.103.3"
	addonsPg = "bundle/palette/4.9.2/addons/index.html"
)

// needsShown are the data-for of the review's unmet needs.
func needsShown(p *Page) []string { return p.Attrs("#bundle-needs li", "data-for") }

// unmetIDs is the oracle: catalog.Unmet of the chosen versions, as the
// ids of the versions whose rule is unmet.
func unmetIDs(cat *catalog.Catalog, ids []string) []string {
	var bundle []*catalog.PackVersion
	for _, id := range ids {
		bundle = append(bundle, versionByID(cat, id))
	}
	slices.SortFunc(bundle, func(a, b *catalog.PackVersion) int { return a.Index - b.Index })
	out := []string{}
	for _, n := range catalog.Unmet(bundle) {
		out = append(out, n.Version.ID())
	}
	return out
}

// newestMeeting is the oracle for the one-click add: the newest version
// of the page, not deprecated, that meets v's first required rule and is
// compatible with v.
func newestMeeting(b builderPage, v *catalog.PackVersion) *catalog.PackVersion {
	var rule catalog.Rule
	for _, r := range v.Requires {
		if r.Kind == catalog.Required {
			rule = r
			break
		}
	}
	var best *catalog.PackVersion
	for _, o := range b.versions {
		if rule.Meets(v, o) && !o.Deprecated && catalog.Compatible(v, o) && (best == nil || o.Version.Compare(best.Version) > 0) {
			best = o
		}
	}
	return best
}

// TestBuilderNeedAddedWithOneClick: choosing Kubecost shows its need of
// Prometheus Operator in the review, offers the newest compatible version
// and adds it with one click, saying what it added; Undo takes it back.
func TestBuilderNeedAddedWithOneClick(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	for _, pg := range []string{awsBuilder, addonsPg} {
		for _, root := range roots(t, s) {
			t.Run(root[:4]+"/"+pg, func(t *testing.T) {
				b := pageOf(t, cat, pg)
				v := versionByID(cat, needer)
				want := newestMeeting(b, v)
				if want == nil {
					t.Fatalf("%s: no version meets %s's need", pg, needer)
				}
				p := Open(t, root, pg)
				choose(p, "addon", needer)
				if got := needsShown(p); !slices.Equal(got, unmetIDs(cat, []string{needer})) || len(got) != 1 {
					t.Fatalf("needs shown %v, want [%s]", got, needer)
				}
				text := p.Texts("#bundle-needs li")[0]
				if !strings.Contains(text, "needs Prometheus Operator 75.0.0 or later") {
					t.Errorf("the need says %q", text)
				}
				label := "Add " + want.Pack.DisplayName + " " + want.Version.Raw
				if got := p.Texts("#bundle-needs li button"); !slices.Equal(got, []string{label}) {
					t.Errorf("the need offers %v, want %q", got, label)
				}
				if p.Texts("[data-needs]")[0] == "" || Eval[bool](p, `document.querySelector('[data-needs]').hidden`) {
					t.Errorf("the incomplete bundle is not marked")
				}
				p.Click("#bundle-needs li button")
				if got := checkedValues(p); !slices.Contains(got, "addon="+want.ID()) || !slices.Contains(got, "addon="+needer) {
					t.Errorf("after one click, chosen %v; want %s added", got, want.ID())
				}
				if got := needsShown(p); len(got) != 0 {
					t.Errorf("still needed after the add: %v", got)
				}
				if status := p.Texts("#bundle-status")[0]; !strings.Contains(status, "Added "+want.Pack.DisplayName+" "+want.Version.Raw) {
					t.Errorf("status %q does not say what was added", status)
				}
				both := choices{picked: map[int][]*catalog.PackVersion{v.Pack.LayerOrder: {v, want}}}
				if got, w := p.Value("#bundle-urls"), bundleURLs(root, both); got != w {
					t.Errorf("URL list:\n%s\nwant\n%s", got, w)
				}
				p.Click("#bundle-undo")
				if got := needsShown(p); !slices.Equal(got, []string{needer}) {
					t.Errorf("after Undo, needs %v, want [%s]", got, needer)
				}
			})
		}
	}
}

// pageOf is the oracle's view of a builder page of the newest palette
// release.
func pageOf(t *testing.T, cat *catalog.Catalog, rel string) builderPage {
	t.Helper()
	for _, p := range cat.Products {
		for _, r := range p.Releases {
			for _, c := range append([]string{""}, cloudIDs(cat)...) {
				if b := newBuilderPage(cat, r, c); b.rel == rel {
					return b
				}
			}
		}
	}
	t.Fatalf("no builder page %s", rel)
	return builderPage{}
}

func cloudIDs(cat *catalog.Catalog) []string {
	var out []string
	for _, c := range cat.Clouds {
		out = append(out, c.ID)
	}
	return out
}

// TestBuilderIncompleteReviewMarked: at each step of choosing the demo's
// AWS bundle, Kubecost before its operator, the review lists exactly the
// unmet required rules catalog.Unmet finds, and none once the operator is
// chosen by hand.
func TestBuilderIncompleteReviewMarked(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	p := Open(t, ServeRoot(t, s.Dir), awsBuilder)
	order := []string{"ubuntu-aws@24.04", "kubernetes@1.35.2", needer, "cni-calico@3.32.0", "prometheus-operator@88.3.0"}
	var chosen []string
	sawIncomplete := false
	for _, id := range order {
		choose(p, versionByID(cat, id).Pack.Layer, id)
		chosen = append(chosen, id)
		want := unmetIDs(cat, chosen)
		sawIncomplete = sawIncomplete || len(want) > 0
		if got := needsShown(p); !slices.Equal(got, want) {
			t.Errorf("after %v: needs %v, want %v", chosen, got, want)
		}
		if hidden := Eval[bool](p, `document.querySelector('[data-needs]').hidden`); hidden != (len(want) == 0) {
			t.Errorf("after %v: the incomplete mark hidden=%v with %d needs", chosen, hidden, len(want))
		}
	}
	if !sawIncomplete {
		t.Fatal("the demo bundle was never incomplete: this test checks nothing")
	}
	if got := p.Texts("#bundle-needs li"); len(got) != 0 {
		t.Errorf("complete bundle, yet needs %v", got)
	}
}

// TestBuilderUnmeetableNeedNotOffered: with a choice that every Prometheus
// Operator meeting Kubecost's need rules out, Kubecost is not offered;
// with one that some meeting version fits, it is. The builder page and
// the choices are found in the demo with the oracle.
func TestBuilderUnmeetableNeedNotOffered(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	v := versionByID(cat, needer)
	for _, p := range cat.Products {
		for _, r := range p.Releases {
			for _, cloud := range cloudIDs(cat) {
				b := newBuilderPage(cat, r, cloud)
				if !slices.Contains(b.versions, v) {
					continue
				}
				fits := func(k *catalog.PackVersion) bool {
					return b.meetable(cat, v, choices{arch: catalog.All, fips: catalog.All, picked: map[int][]*catalog.PackVersion{k.Pack.LayerOrder: {k}}})
				}
				var blocking, fitting *catalog.PackVersion
				for _, k := range b.versions {
					if blocking == nil && !multipleLayer(cat, k.Pack.LayerOrder) && catalog.Compatible(k, v) && !fits(k) {
						blocking = k
					}
				}
				for _, k := range b.versions {
					if blocking != nil && k.Pack == blocking.Pack && catalog.Compatible(k, v) && fits(k) {
						fitting = k
					}
				}
				if fitting == nil {
					continue
				}
				pg := Open(t, FileRoot(s.Dir), b.rel)
				disabled := func() bool {
					return Eval[bool](pg, fmt.Sprintf(`document.querySelector('fieldset[data-layer="addon"] input[value=%q]').disabled`, needer))
				}
				choose(pg, blocking.Pack.Layer, blocking.ID())
				if !disabled() {
					t.Errorf("%s: with %s, %s is offered though no version meeting its need fits", b.rel, blocking.ID(), needer)
				}
				choose(pg, fitting.Pack.Layer, fitting.ID())
				if disabled() {
					t.Errorf("%s: with %s, %s is not offered", b.rel, fitting.ID(), needer)
				}
				return
			}
		}
	}
	t.Fatalf("no builder page of the demo has a choice that blocks %s's need and one of the same layer that fits it", needer)
}

// TestBuilderImagesTxt downloads images.txt from the builder's review and
// the selection page: saved under that name, as application/octet-stream,
// holding the chosen versions' images sorted, each once.
func TestBuilderImagesTxt(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	wantFor := func(ids []string) string {
		var all []string
		for _, id := range ids {
			all = append(all, versionByID(cat, id).Images...)
		}
		slices.Sort(all)
		all = slices.Compact(all)
		if len(all) == 0 {
			return ""
		}
		return strings.Join(all, "\n") + "\n"
	}
	root := ServeRoot(t, s.Dir)
	p := openWithBlobHook(t, root, awsBuilder)
	d := allowDownloads(t, p)
	pickAll(t, p, cat, awsPicks)
	want := wantFor(awsPicks)
	if strings.Count(want, "\n") < 2 {
		t.Fatalf("the demo's picks deploy %q: too few images to check", want)
	}
	check := func(p *Page, d *downloads, want string) {
		t.Helper()
		name, data := d.save(t, func() { p.Click(`[data-download="images.txt"]`) })
		if name != "images.txt" || string(data) != want {
			t.Errorf("images.txt saved as %q:\n%s\nwant\n%s", name, data, want)
		}
		if typ := Eval[string](p, `window.__blobs.get(document.querySelector('[data-download="images.txt"]').href).type`); typ != "application/octet-stream" {
			t.Errorf("images.txt is a %s Blob", typ)
		}
	}
	check(p, d, want)

	sel := openWithBlobHook(t, root, "bundle/selection/index.html")
	ids := []string{"prometheus-operator@88.3.0", needer}
	sel.Do(fmt.Sprintf(`localStorage.setItem("packstudio.picks", JSON.stringify([%q, %q]))`, ids[0], ids[1]))
	sel.Navigate("bundle/selection/index.html")
	check(sel, allowDownloads(t, sel), wantFor(ids))
	sel.Do(`localStorage.clear()`)
}

// TestSelectionMarksNeeds: a selection holding Kubecost alone lists its
// need, and one click adds the newest current Prometheus Operator the
// release bundle.json names offers.
func TestSelectionMarksNeeds(t *testing.T) {
	s := demoSite(t)
	cat := s.Catalog
	sel := Open(t, ServeRoot(t, s.Dir), "bundle/selection/index.html")
	sel.Do(fmt.Sprintf(`localStorage.setItem("packstudio.picks", JSON.stringify([%q]))`, needer))
	sel.Navigate("bundle/selection/index.html")
	defer sel.Do(`localStorage.clear()`)
	if got := needsShown(sel); !slices.Equal(got, []string{needer}) {
		t.Fatalf("selection needs %v, want [%s]", got, needer)
	}
	want := newestMeeting(pageOf(t, cat, awsBuilder), versionByID(cat, needer)) // the newest release offers it on every cloud
	sel.Click("#bundle-needs li button")
	picks := Eval[[]string](sel, `JSON.parse(localStorage.getItem("packstudio.picks"))`)
	if !slices.Equal(picks, []string{needer, want.ID()}) {
		t.Errorf("picks after one click %v, want %s added", picks, want.ID())
	}
	if got := needsShown(sel); len(got) != 0 {
		t.Errorf("still needed: %v", got)
	}
}

// A registry catalog with deprecated versions and a need no version of
// the context can meet: elasticsearch needs elastic-operator >=3.3.2,
// which 3.3.2 (current) and 3.5.0 (deprecated) meet; vsphere-search needs
// vsphere-agent, which only vSphere offers.
var registrySite = map[string]string{
	"catalog.toml": `[[product]]
id = "palette"
name = "Palette"
[[product.release]]
version = "4.7.0"
[[cloud]]
id = "aws"
name = "AWS"
kind = "public"
[[cloud]]
id = "vsphere"
name = "VMware vSphere"
kind = "datacenter"
[[layer]]
id = "k8s"
name = "Kubernetes"
order = 1
[[layer]]
id = "addon"
name = "Add-on"
order = 2
multiple = true
[[registry]]
path = "registry"
arch = ["amd64"]
products = { palette = ">=4.6.0" }
`,
	"registry/kubernetes-1.30.0/pack.json":        packJSON("kubernetes", "1.30.0", "k8s", `"all"`, "", ""),
	"registry/elastic-operator-3.2.0/pack.json":   packJSON("elastic-operator", "3.2.0", "addon", `"all"`, `"system_state": "deprecated"`, ""),
	"registry/elastic-operator-3.3.2/pack.json":   packJSON("elastic-operator", "3.3.2", "addon", `"all"`, "", ""),
	"registry/elastic-operator-3.5.0/pack.json":   packJSON("elastic-operator", "3.5.0", "addon", `"all"`, `"system_state": "deprecated"`, ""),
	"registry/elasticsearch-2.0.1/pack.json":      packJSON("elasticsearch", "2.0.1", "addon", `"all"`, "", `{"packName": "elastic-operator", "layer": "addon", "minVersion": "3.3.2", "type": "required"}`),
	"registry/vsphere-agent-1.0.0/pack.json":      packJSON("vsphere-agent", "1.0.0", "addon", `"vsphere"`, "", ""),
	"registry/vsphere-search-1.0.0/pack.json":     packJSON("vsphere-search", "1.0.0", "addon", `"all"`, "", `{"packName": "vsphere-agent", "layer": "addon", "minVersion": "1.0.0", "type": "required"}`),
	"registry/elastic-operator-3.3.2/values.yaml": "pack:\n  content:\n    images:\n      - image: docker.elastic.co/eck/eck-operator:3.3.2\n",
}

func packJSON(name, version, layer, clouds, annotations, dep string) string {
	deps := ""
	if dep != "" {
		deps = `, "constraints": {"dependencies": [` + dep + `]}`
	}
	return fmt.Sprintf(`{"name": %q, "version": %q, "layer": %q, "displayName": %q, "cloudTypes": [%s], "annotations": {%s}%s}`,
		name, version, layer, name, clouds, annotations, deps)
}

func buildRegistrySite(t testing.TB, dir string) *Site {
	t.Helper()
	for rel, text := range registrySite {
		f := filepath.Join(dir, "catalog", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := "title = \"registry\"\nbase_url = \"https://packs.example.com/\"\ncatalog = \"catalog\"\noutput = \"public\"\ncache = \".cache\"\n[signing]\nkey = \"key/site.pem\"\n"
	if err := os.WriteFile(filepath.Join(dir, "site.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return buildSite(t, filepath.Join(dir, "site.toml"), filepath.Join(dir, "key"))
}

// TestBuilderDeprecatedAndUnmeetable: deprecated versions are listed after
// the current ones of their pack, badged "deprecated" in text, and never
// the version one click adds, though newer; a version whose need no
// version of the context meets is not offered.
func TestBuilderDeprecatedAndUnmeetable(t *testing.T) {
	s := Shared(t, "registry", buildRegistrySite)
	for _, pg := range []string{"bundle/palette/4.7.0/aws/index.html", "bundle/palette/4.7.0/addons/index.html"} {
		t.Run(pg, func(t *testing.T) {
			p := Open(t, FileRoot(s.Dir), pg)
			listed := p.Attrs(`fieldset[data-layer="addon"] input[value^="elastic-operator@"]`, "value")
			if want := []string{"elastic-operator@3.3.2", "elastic-operator@3.2.0", "elastic-operator@3.5.0"}; !slices.Equal(listed, want) {
				t.Errorf("elastic-operator listed %v, want %v (current first)", listed, want)
			}
			for _, id := range listed {
				text := Eval[string](p, fmt.Sprintf(`document.querySelector('input[value=%q]').closest('li').textContent`, id))
				if dep := versionByID(s.Catalog, id).Deprecated; strings.Contains(text, "deprecated") != dep {
					t.Errorf("%s (deprecated: %v) reads %q", id, dep, text)
				}
			}
			// vsphere-search is offered for the release, but not on AWS,
			// where no version meets its need: absent or disabled there.
			if strings.Contains(pg, "/aws/") {
				if Eval[bool](p, `!!document.querySelector('input[value="vsphere-search@1.0.0"]:not([disabled])')`) {
					t.Errorf("vsphere-search@1.0.0 is offered on AWS, where nothing meets its need")
				}
			}
			choose(p, "addon", "elasticsearch@2.0.1")
			if got := p.Texts("#bundle-needs li button"); !slices.Equal(got, []string{"Add elastic-operator 3.3.2"}) {
				t.Errorf("the need offers %v, want the current elastic-operator 3.3.2, not the deprecated 3.5.0", got)
			}
		})
	}
}
