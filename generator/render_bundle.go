package generator

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/packstudio/packstudio/catalog"
)

// The bundle builder: bundle/index.html (product → release), one page per
// release (use case → cloud), one builder per (release, cloud), one add-on
// only page per release and the selection page fed by browse pages. Every
// builder page carries its context's data inline, so it works from file://
// with one request, and lists every pack version without JavaScript.

// bundleEntry is one pack version as a builder page's script sees it:
// compact keys, conflicts as indices into the page's entry list. Its
// download links are in the page's list of versions, which the script
// reads, so the page does not carry every path twice.
type bundleEntry struct {
	Pack      int     `json:"p"` // index into bundleData.Packs
	Version   string  `json:"v"`
	Arch      int     `json:"a"` // bit i set: built for bundleData.Arches[i]
	FIPS      bool    `json:"f,omitempty"`
	Size      int64   `json:"s"`
	SHA256    string  `json:"h"`
	Conflicts []int32 `json:"c,omitempty"`
	// Needs has, per required rule, the entries of the page meeting it
	// (empty: none here can); Words the rule in words, an index into
	// bundleData.Needs, which rules of many versions share.
	Needs [][]int32 `json:"n,omitempty"`
	Words []int     `json:"w,omitempty"`
	// Outside lists the rules (positions in Needs) that only versions of
	// layers the add-on only page leaves out meet: the cluster it adds to.
	Outside    []int    `json:"o,omitempty"`
	Images     []string `json:"im,omitempty"`
	Deprecated bool     `json:"d,omitempty"`
}

// bundlePack is a pack of the page; its page link is in the page's list.
type bundlePack struct {
	Name        string `json:"name"`
	DisplayName string `json:"display"`
	Layer       int    `json:"layer"` // index into bundleData.Layers
}

type bundleLayer struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Multiple bool   `json:"multiple,omitempty"`
}

// bundleData is the inline <script type="application/json" id="bundle-data">.
type bundleData struct {
	Product string        `json:"product"`
	Version string        `json:"version"`
	Cloud   string        `json:"cloud,omitempty"` // empty for add-on only
	Root    string        `json:"root"`            // from the page to the site root
	Key     siteKey       `json:"key"`
	Arches  []string      `json:"arches"`
	Layers  []bundleLayer `json:"layers"`
	Packs   []bundlePack  `json:"packs"`
	Entries []bundleEntry `json:"entries"`
	Needs   []string      `json:"needs,omitempty"` // required rules in words ("Prometheus Operator 75.0.0 or later")
}

// siteKey names the site's public key for a page that saves or scripts a
// download: its path from the page and its SHA-256 fingerprint, which the
// page checks the key it fetches against and shows to the person.
type siteKey struct {
	Path string `json:"path"`
	ID   string `json:"id"`
}

func (b *builder) siteKey(root string) siteKey {
	return siteKey{Path: root + b.site.PublicKeyName, ID: b.site.KeyID}
}

// multipleLayer reports whether a bundle may hold several packs of layer li.
func (b *builder) multipleLayer(li int) bool { return b.cat.Layers[li].Multiple }

// pageEntry is an entry of a builder page. On the add-on only page,
// Outside lists its required rules that only versions of the layers the
// page leaves out meet: the cluster the add-ons go on holds those.
type pageEntry struct {
	contextEntry
	Outside []int
}

// pageEntries are a cloud's builder entries as its page takes them.
func pageEntries(all []contextEntry) []pageEntry {
	out := make([]pageEntry, len(all))
	for i, e := range all {
		out[i] = pageEntry{contextEntry: e}
	}
	return out
}

// addonEntries keeps the entries of multiple-choice layers, with their
// conflicts and needs renumbered to the kept positions: the add-on only
// page.
func (b *builder) addonEntries(all []contextEntry) []pageEntry {
	at := make([]int32, len(all)) // position in all → 1 + position kept, 0 when dropped
	var out []pageEntry
	for p, e := range all {
		if b.multipleLayer(e.Version.Pack.LayerOrder) {
			out = append(out, pageEntry{contextEntry: e})
			at[p] = int32(len(out))
		}
	}
	kept := func(ps []int32) []int32 {
		var k []int32
		for _, p := range ps {
			if at[p] > 0 {
				k = append(k, at[p]-1)
			}
		}
		return k
	}
	for k, e := range out {
		out[k].Conflicts = kept(e.Conflicts)
		if e.Needs == nil {
			continue
		}
		needs := make([][]int32, len(e.Needs))
		for n, met := range e.Needs {
			needs[n] = kept(met)
			if needs[n] == nil {
				needs[n] = []int32{}
				if len(met) > 0 {
					out[k].Outside = append(out[k].Outside, n)
				}
			}
		}
		out[k].Needs = needs
	}
	return out
}

// bundleEntryView is one pack version in a builder page's list.
type bundleEntryView struct {
	ID, Label, Arch, Size, Href, SigHref string
	FIPS, Deprecated                     bool
	Rules                                []string
}

// bundlePackView groups a pack's versions under its name and page link.
// Name is set only when another pack of the page has the same display
// name, to tell them apart.
type bundlePackView struct {
	Name, DisplayName, Href string
	Entries                 []bundleEntryView
}

type bundleLayerView struct {
	ID, Name string
	Multiple bool
	Packs    []bundlePackView // for a theme's own bundle.html
	Choices  template.HTML    // Packs as the built-in theme shows them
}

// layerChoices writes a layer's pack versions as the built-in bundle.html
// once did with {{range .Packs}}, byte for byte: the page of a large
// context lists thousands of versions, and html/template escaped each of
// their ten fields through reflection (see sidebar).
func layerChoices(l bundleLayerView) template.HTML {
	var b markup
	kind := "radio"
	if l.Multiple {
		kind = "checkbox"
	}
	for _, p := range l.Packs {
		b.WriteString("\n<li><a href=\"")
		b.text(p.Href)
		b.WriteString("\">")
		b.text(p.DisplayName)
		b.WriteString("</a>")
		if p.Name != "" {
			b.WriteString(" <small>")
			b.text(p.Name)
			b.WriteString("</small>")
		}
		b.WriteString("\n<ul>")
		for _, e := range p.Entries {
			b.WriteString("\n<li><label><input type=\"" + kind + "\" name=\"")
			b.text(l.ID)
			b.WriteString("\" value=\"")
			b.text(e.ID)
			b.WriteString("\"> ")
			b.text(e.Label)
			b.WriteString("</label>\n<small>")
			b.text(e.Arch)
			if e.FIPS {
				b.WriteString(` · <span class="tag">FIPS</span>`)
			}
			if e.Deprecated {
				b.WriteString(` · <span class="tag">deprecated</span>`)
			}
			b.WriteString(" · ")
			b.text(e.Size)
			for _, r := range e.Rules {
				b.WriteString(" · ")
				b.text(r)
			}
			b.WriteString("</small>\n<a href=\"")
			b.text(e.Href)
			b.WriteString("\">.zst</a> <a href=\"")
			b.text(e.SigHref)
			b.WriteString("\">.sig.bin</a></li>")
		}
		b.WriteString("\n</ul></li>")
	}
	if len(l.Packs) == 0 {
		b.WriteString("\n<li class=\"empty\">No ")
		b.text(l.Name)
		b.WriteString(" pack version is offered here.</li>")
	}
	return template.HTML(b.String())
}

// bundlePages returns the jobs that write the bundle builder's pages, one
// a page: the builders carry their context's whole data inline and are the
// heavy ones.
func (b *builder) bundlePages() []func() error {
	pages := []func() error{b.renderBundleStart}
	for _, p := range b.cat.Products {
		for _, r := range p.Releases {
			for _, cloud := range b.cat.Clouds {
				pages = append(pages, func() error { return b.renderBuilder(r, cloud, b.contextEntries(r, cloud.ID)) })
			}
			pages = append(pages, func() error { return b.renderAddons(r) }, func() error { return b.renderBundleRelease(r) })
		}
	}
	return append(pages, b.renderSelection)
}

func bundleDir(r *catalog.Release) string { return "bundle/" + r.Product.ID + "/" + r.Version.Raw }

type bundleReleaseLink struct {
	Version, Date, Href string
}

type bundleProductView struct {
	ID, Name string
	Releases []bundleReleaseLink // newest first
}

func (b *builder) renderBundleStart() error {
	data := struct {
		pageData
		Products []bundleProductView
	}{pageData: b.page("bundle", "Build a bundle", "bundle")}
	for _, p := range b.cat.Products {
		pv := bundleProductView{ID: p.ID, Name: p.Name}
		for i := len(p.Releases) - 1; i >= 0; i-- {
			r := p.Releases[i]
			pv.Releases = append(pv.Releases, bundleReleaseLink{Version: r.Version.Raw, Date: r.Date,
				Href: strings.TrimPrefix(bundleDir(r), "bundle/") + "/index.html"})
		}
		data.Products = append(data.Products, pv)
	}
	return b.execute("bundle-start.html", "bundle/index.html", data)
}

type cloudLink struct {
	Name, Href string
	Count      int
}

// renderBundleRelease writes the use-case step of one release: controller
// (public and datacenter clouds), edge (edge clouds; straight to the
// builder when there is one) and add-on only.
func (b *builder) renderBundleRelease(r *catalog.Release) error {
	dir := bundleDir(r)
	data := struct {
		pageData
		Product, Version, StartHref string
		Controller, Edge            []cloudLink
		AddonsHref                  string
	}{pageData: b.page(dir, "Build a bundle: "+r.Product.Name+" "+r.Version.Raw, "bundle"),
		Product: r.Product.Name, Version: r.Version.Raw, StartHref: "../../index.html", AddonsHref: "addons/index.html"}
	for _, c := range b.cat.Clouds {
		link := cloudLink{Name: c.Name, Href: c.ID + "/index.html", Count: len(b.contextList(r, c.ID))}
		if c.Kind == "edge" {
			data.Edge = append(data.Edge, link)
		} else {
			data.Controller = append(data.Controller, link)
		}
	}
	return b.execute("bundle-release.html", dir+"/index.html", data)
}

// renderBuilder writes bundle/<product>/<version>/<cloud>/index.html.
func (b *builder) renderBuilder(r *catalog.Release, cloud catalog.Facet, entries []contextEntry) error {
	dir := bundleDir(r) + "/" + cloud.ID
	title := fmt.Sprintf("Build a %s %s bundle for %s", r.Product.Name, r.Version.Raw, cloud.Name)
	return b.renderBundlePage(dir, title, r, cloud.ID, cloud.Name, pageEntries(entries), false)
}

// renderAddons writes the add-on only page: every version of a
// multiple-choice layer offered for the release on any cloud.
func (b *builder) renderAddons(r *catalog.Release) error {
	dir := bundleDir(r) + "/addons"
	title := fmt.Sprintf("Add-ons for %s %s", r.Product.Name, r.Version.Raw)
	return b.renderBundlePage(dir, title, r, "", "", b.addonEntries(b.contextEntries(r, "")), true)
}

func (b *builder) renderBundlePage(dir, title string, r *catalog.Release, cloudID, cloudName string, entries []pageEntry, addons bool) error {
	root := rootOf(dir)
	inline, layers := b.bundleInline(root, r, cloudID, entries, addons)
	// The FIPS toggle is left out where it could only empty the page.
	hasFIPS := slices.ContainsFunc(entries, func(e pageEntry) bool { return e.Version.FIPS })
	data := struct {
		pageData
		Product, Version, CloudName, ReleaseHref string
		Addons, HasFIPS                          bool
		Layers                                   []bundleLayerView
		Data                                     template.JS
	}{pageData: b.page(dir, title, "bundle"), Product: r.Product.Name, Version: r.Version.Raw, CloudName: cloudName,
		ReleaseHref: "../index.html", Addons: addons, HasFIPS: hasFIPS, Layers: layers, Data: inline}
	return b.execute("bundle.html", dir+"/index.html", data)
}

// bundleInline makes the page's inline data and its no-JS list in one pass.
func (b *builder) bundleInline(root string, r *catalog.Release, cloudID string, entries []pageEntry, addons bool) (template.JS, []bundleLayerView) {
	d := bundleData{Product: r.Product.ID, Version: r.Version.Raw, Cloud: cloudID, Root: root, Key: b.siteKey(root), Entries: make([]bundleEntry, 0, len(entries))}
	var views []bundleLayerView
	layerAt := map[int]int{} // catalog layer order → index in d.Layers
	for li, l := range b.cat.Layers {
		if addons && !b.multipleLayer(li) {
			continue
		}
		layerAt[li] = len(d.Layers)
		d.Layers = append(d.Layers, bundleLayer{ID: l.ID, Name: l.Name, Multiple: b.multipleLayer(li)})
		views = append(views, bundleLayerView{ID: l.ID, Name: l.Name, Multiple: b.multipleLayer(li)})
	}
	for _, a := range b.cat.Arches {
		d.Arches = append(d.Arches, a.ID)
	}
	packAt := map[*catalog.Pack]int{}
	displayed := map[string]int{} // display name → packs of the page showing it
	wordsAt := map[string]int{}   // a required rule in words → index in d.Needs
	for _, e := range entries {
		v := e.Version
		p, ok := packAt[v.Pack]
		if !ok {
			p = len(d.Packs)
			packAt[v.Pack] = p
			d.Packs = append(d.Packs, bundlePack{Name: v.Pack.Name, DisplayName: v.Pack.DisplayName,
				Layer: layerAt[v.Pack.LayerOrder]})
			displayed[v.Pack.DisplayName]++
			lv := &views[layerAt[v.Pack.LayerOrder]]
			lv.Packs = append(lv.Packs, bundlePackView{Name: v.Pack.Name, DisplayName: v.Pack.DisplayName, Href: root + packPage(v.Pack.Name)})
		}
		a := b.packArtifacts[v.Index]
		be := bundleEntry{Pack: p, Version: v.Version.Raw, Arch: archBits(d.Arches, v.Arch), FIPS: v.FIPS,
			Size: a.Size, SHA256: a.SHA256, Conflicts: e.Conflicts, Needs: e.Needs, Outside: e.Outside,
			Images: v.Images, Deprecated: v.Deprecated}
		for _, rule := range v.Requires {
			if rule.Kind != catalog.Required {
				continue
			}
			w := b.needWords(rule)
			k, ok := wordsAt[w]
			if !ok {
				k = len(d.Needs)
				wordsAt[w] = k
				d.Needs = append(d.Needs, w)
			}
			be.Words = append(be.Words, k)
		}
		d.Entries = append(d.Entries, be)
		view := bundleEntryView{ID: v.ID(), Label: v.Pack.DisplayName + " " + v.Version.Raw, Arch: strings.Join(v.Arch, ", "),
			Size: humanSize(a.Size), Href: root + a.Path, SigHref: root + a.SigPath, FIPS: v.FIPS, Deprecated: v.Deprecated}
		for _, rule := range v.Requires {
			view.Rules = append(view.Rules, ruleLead(rule.Kind)+" "+b.ruleTarget(rule)+" "+rule.Versions.Raw)
		}
		packs := views[layerAt[v.Pack.LayerOrder]].Packs // entries come pack by pack: the last is v's
		last := &packs[len(packs)-1]
		last.Entries = append(last.Entries, view)
	}
	for i := range views {
		// People look a pack up by the name they see: the list goes by
		// display name (the data and the URL list keep entry order).
		slices.SortStableFunc(views[i].Packs, func(x, y bundlePackView) int {
			return strings.Compare(strings.ToLower(x.DisplayName), strings.ToLower(y.DisplayName))
		})
		for k, pv := range views[i].Packs {
			if displayed[pv.DisplayName] < 2 {
				views[i].Packs[k].Name = ""
			}
			// Deprecated versions after the current ones.
			slices.SortStableFunc(pv.Entries, func(x, y bundleEntryView) int {
				return cmp.Compare(boolInt(x.Deprecated), boolInt(y.Deprecated))
			})
		}
		views[i].Choices = layerChoices(views[i])
	}
	js, err := json.Marshal(d)
	if err != nil {
		panic(err) // plain strings, ints and slices always marshal
	}
	// json.Marshal escapes <, > and &, so the data cannot close its <script>.
	return template.JS(js), views
}

// needWords says what a required rule asks for, as the builder shows it
// after "needs": "Prometheus Operator 75.0.0 or later", "a Kubernetes pack
// >=1.28 <1.33".
func (b *builder) needWords(r catalog.Rule) string {
	target := strings.Replace(b.ruleTarget(r), "every ", "a ", 1)
	if r.Pack != "" {
		target = b.packTitle(r.Pack)
	}
	if w := rangeWords(r.Versions.Raw); w != "" {
		return target + " " + w
	}
	return target + " " + r.Versions.Raw
}

// archBits sets bit i for each of ids that is arches[i].
func archBits(arches, ids []string) int {
	bits := 0
	for i, a := range arches {
		if slices.Contains(ids, a) {
			bits |= 1 << i
		}
	}
	return bits
}

// selectionPack is a pack on the selection page, whose versions are keyed
// there by name@version, which is what browse pages store for a pick.
type selectionPack struct {
	Name        string             `json:"name"`
	DisplayName string             `json:"display"`
	Page        string             `json:"page"`
	Versions    []selectionVersion `json:"versions"`
}

// selectionVersion is a pack version with its download paths relative to
// the page: the selection page has no list of links to read them from.
type selectionVersion struct {
	Version string `json:"v"`
	Size    int64  `json:"s"`
	SHA256  string `json:"h"`
	URL     string `json:"u"`
	SigURL  string `json:"g"`
	// Releases are the positions in selectionData.Releases of the releases
	// offering this version: bundle.json names one release, and mirror
	// --bundle refuses a version that release does not offer.
	Releases []int `json:"r"`
	// Needs has, per required rule, the versions of the page meeting it
	// (positions counted across every pack's versions, in page order);
	// Words the rule in words, an index into the page's needs.
	Needs      [][]int  `json:"n,omitempty"`
	Words      []int    `json:"w,omitempty"`
	Images     []string `json:"im,omitempty"`
	Deprecated bool     `json:"d,omitempty"`
}

// selectionRelease is a release a selection's bundle.json can name.
type selectionRelease struct {
	Product string `json:"product"`
	Version string `json:"version"`
	Name    string `json:"name"`
}

// renderSelection writes bundle/selection/index.html: the review of the
// pack versions picked on browse pages (kept in localStorage), with every
// pack version's downloads inline so the page needs no other request.
func (b *builder) renderSelection() error {
	dir := "bundle/selection"
	root := rootOf(dir)
	var releases []*catalog.Release // newest first, product by product
	var named []selectionRelease
	for _, p := range b.cat.Products {
		for i := len(p.Releases) - 1; i >= 0; i-- {
			r := p.Releases[i]
			releases = append(releases, r)
			named = append(named, selectionRelease{Product: p.ID, Version: r.Version.Raw, Name: p.Name + " " + r.Version.Raw})
		}
	}
	at := make([]int, len(b.cat.Versions)) // catalog index → position on the page
	n := 0
	for _, p := range b.cat.Packs {
		for _, v := range p.Versions {
			at[v.Index] = n
			n++
		}
	}
	var words []string
	wordsAt := map[string]int{}
	packs := make([]selectionPack, 0, len(b.cat.Packs))
	for _, p := range b.cat.Packs {
		sp := selectionPack{Name: p.Name, DisplayName: p.DisplayName, Page: root + packPage(p.Name)}
		for _, v := range p.Versions {
			a := b.packArtifacts[v.Index]
			sv := selectionVersion{Version: v.Version.Raw, Size: a.Size, SHA256: a.SHA256,
				URL: root + a.Path, SigURL: root + a.SigPath, Releases: []int{}, Images: v.Images, Deprecated: v.Deprecated}
			for ri, r := range releases {
				if v.OffersRelease(r) {
					sv.Releases = append(sv.Releases, ri)
				}
			}
			for _, rule := range v.Requires {
				if rule.Kind != catalog.Required {
					continue
				}
				met := []int{}
				for _, o := range b.cat.Versions {
					if rule.Meets(v, o) {
						met = append(met, at[o.Index])
					}
				}
				slices.Sort(met)
				w := b.needWords(rule)
				k, ok := wordsAt[w]
				if !ok {
					k = len(words)
					wordsAt[w] = k
					words = append(words, w)
				}
				sv.Needs = append(sv.Needs, met)
				sv.Words = append(sv.Words, k)
			}
			sp.Versions = append(sp.Versions, sv)
		}
		packs = append(packs, sp)
	}
	js, err := json.Marshal(struct {
		Root     string             `json:"root"`
		Key      siteKey            `json:"key"`
		Releases []selectionRelease `json:"releases"`
		Packs    []selectionPack    `json:"packs"`
		Needs    []string           `json:"needs,omitempty"`
	}{root, b.siteKey(root), named, packs, words})
	if err != nil {
		return err
	}
	data := struct {
		pageData
		Data template.JS
	}{b.page(dir, "Your selection", "bundle"), template.JS(js)}
	return b.execute("bundle-selection.html", dir+"/index.html", data)
}
