package catalog

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Names and ids become path segments of the output tree and bucket keys, so
// they are restricted to a safe alphabet: no separators, no "..", no upper case.
var (
	nameText = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)
	idText   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// All is the segment value that stands for "any" in a filter combination;
// no facet id may take it.
const All = "all"

var cloudKinds = []string{"public", "datacenter", "edge"}

var defaultArches = []Facet{{ID: "amd64", Name: "AMD64"}, {ID: "arm64", Name: "ARM64"}}

// Load reads dir/catalog.toml and dir/packs/*.toml, checks everything and
// returns the catalog, or Problems listing every problem found.
func Load(dir string) (*Catalog, error) {
	return LoadWith(dir, LoadOptions{})
}

// LoadOptions are what a build adds to the checks of Load. The catalog
// knows nothing of the tree it becomes, so the build says which names the
// tree takes for itself and where sources may be.
type LoadOptions struct {
	// Files reads every catalog file and folder (a build passes its input
	// reader, which refuses the signing key and records what is read); nil
	// means the plain file system.
	Files Files
	// Reserved maps each name no product, cloud, layer or arch id may take
	// to what the site uses it for.
	Reserved map[string]string
	// SourcesWithin, when set, is the directory every source and readme
	// must be in once links are resolved.
	SourcesWithin string
}

// LoadWith is Load with a build's options.
func LoadWith(dir string, o LoadOptions) (*Catalog, error) {
	if o.Files == nil {
		o.Files = osFiles{}
	}
	l := &loader{dir: dir, cat: &Catalog{Dir: dir}, broken: map[string]bool{}, files: o.Files, reserved: o.Reserved}
	if o.SourcesWithin != "" {
		// A missing folder leaves within empty: then every source is outside.
		real, err := RealPath(o.SourcesWithin)
		if err != nil {
			real = ""
		}
		l.within = &sourcesWithin{dir: o.SourcesWithin, real: real}
	}
	l.loadFacets()
	l.loadPacks()
	l.checkRequires()
	if len(l.ps.list) > 0 {
		return nil, l.ps.list.sorted()
	}
	return l.cat, nil
}

type loader struct {
	dir    string
	files  Files
	cat    *Catalog
	ps     problems
	layers map[string]int  // id → index in cat.Layers
	broken map[string]bool // packs and layers with a pack that failed to load
	// facets is false when catalog.toml could not be decoded: packs are then
	// only decoded, since checking them against missing facets would only
	// repeat that one problem many times.
	facets bool
	clouds map[string]bool
	arches map[string]bool
	// reserved and within are LoadOptions.Reserved and SourcesWithin.
	reserved map[string]string
	within   *sourcesWithin
	// registries are the valid [[registry]] entries of catalog.toml.
	registries []*registrySource
}

func (l *loader) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(l.dir, p)
}

// source resolves a catalog path and checks that it exists with the wanted
// kind ("file", "dir" or "" for either).
func (l *loader) source(file string, line int, key, p, kind string) Source {
	src := Source{Path: l.path(p), Pos: Pos{File: file, Line: line}}
	fi, err := l.files.Stat(src.Path)
	switch {
	case err != nil:
		l.ps.add(file, line, "fix the path (relative to the catalog directory "+l.dir+") or create it",
			"%s %q does not exist", key, p)
	case kind == "file" && !fi.Mode().IsRegular():
		l.ps.add(file, line, "point it at a regular file", "%s %q is not a file", key, p)
	case kind == "" && !fi.Mode().IsRegular() && !fi.IsDir():
		l.ps.add(file, line, "point it at a file or a directory", "%s %q is neither a file nor a directory", key, p)
	case l.within != nil:
		if why := l.within.check(src.Path); why != "" {
			l.ps.add(file, line, "move it into "+l.within.dir+", or set [build] sources_within in the site config to a directory that holds it",
				"%s %q %s", key, p, why)
		}
	}
	return src
}

// reservedID reports what the site uses id for when it may not be a
// catalog id, else "".
func (l *loader) reservedID(id string) string {
	if use, ok := l.reserved[id]; ok {
		return "is a name the site uses itself: " + use
	}
	return ""
}

func checkID(text string) string {
	switch {
	case text == "":
		return "is empty"
	case text == All:
		return `is "all", which stands for every value in browse paths`
	case len(text) > 64:
		return "is longer than 64 characters"
	case !idText.MatchString(text):
		return "may hold only lower-case letters, digits and '-', starting with a letter or digit"
	}
	return ""
}

func checkName(text string) string {
	switch {
	case text == "":
		return "is empty"
	case text == All:
		return `is "all", a reserved word`
	case len(text) > 100:
		return "is longer than 100 characters"
	case strings.Contains(text, ".."):
		return `holds "..", which could escape its directory`
	case !nameText.MatchString(text):
		return "may hold only lower-case letters, digits, '.' and '-', starting with a letter or digit (no path separators)"
	}
	return ""
}

// readFile reads one catalog file through the loader's files.
func (l *loader) readFile(file string) ([]byte, error) {
	f, err := l.files.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// One byte past the limit is enough for DecodeTOML to refuse it.
	return io.ReadAll(io.LimitReader(f, MaxTOMLSize+1))
}

func (l *loader) loadFacets() {
	file := filepath.Join(l.dir, "catalog.toml")
	data, err := l.readFile(file)
	if err != nil {
		l.ps.add(file, 0, "point the site's catalog setting at a catalog directory", "cannot read the catalog: %v", unwrapPathError(err))
		return
	}
	var raw rawCatalog
	pos, ps, ok := DecodeTOML(file, data, &raw)
	l.ps.list = append(l.ps.list, ps...)
	if !ok {
		return
	}
	l.facets = true
	l.loadClouds(file, pos, raw.Cloud)
	l.loadArches(file, pos, raw.Arch)
	l.loadLayers(file, pos, raw.Layer)
	l.loadProducts(file, pos, raw.Product)
	l.loadRegistries(file, pos, raw.Registry)
}

// facetList checks the ids of the facets of one kind (cloud, arch, layer)
// declared in table and returns the valid ones, named by their id when
// they have no name, with the set of their ids.
func (l *loader) facetList(file string, pos Lines, kind, table string, raws []rawFacet) ([]Facet, map[string]bool) {
	var out []Facet
	seen := map[string]bool{}
	for i, r := range raws {
		line := pos.Line(fmt.Sprintf("%s[%d].id", table, i))
		if why := checkID(r.ID); why != "" {
			l.ps.add(file, line, "use an id like \"aws\" or \"edge-native\"", "%s id %q %s", kind, r.ID, why)
			continue
		}
		if why := l.reservedID(r.ID); why != "" { // kept, so its packs are not also refused
			l.ps.add(file, line, "choose another id", "%s id %q %s", kind, r.ID, why)
		}
		if seen[r.ID] {
			l.ps.add(file, line, "give each "+kind+" its own id", "%s %q is declared twice", kind, r.ID)
			continue
		}
		seen[r.ID] = true
		name := r.Name
		if name == "" {
			name = r.ID
		}
		out = append(out, Facet{ID: r.ID, Name: name, Kind: r.Kind})
	}
	return out, seen
}

func (l *loader) loadClouds(file string, pos Lines, raws []rawFacet) {
	l.cat.Clouds, l.clouds = l.facetList(file, pos, "cloud", "cloud", raws)
	for i, c := range raws {
		if c.Kind != "" && !contains(cloudKinds, c.Kind) { // kind is optional, but only these
			l.ps.add(file, pos.Line(fmt.Sprintf("cloud[%d].kind", i)), "set kind to one of: "+strings.Join(cloudKinds, ", "),
				"cloud %q has kind %q", c.ID, c.Kind)
		}
	}
	if len(raws) == 0 {
		l.ps.add(file, 0, `add one, e.g. [[cloud]] id = "aws" name = "AWS" kind = "public"`, "no [[cloud]] is declared")
	}
}

// loadArches takes the declared architectures, or amd64 and arm64 when
// catalog.toml declares none.
func (l *loader) loadArches(file string, pos Lines, raws []rawFacet) {
	if len(raws) == 0 {
		l.cat.Arches = append([]Facet(nil), defaultArches...)
		l.arches = map[string]bool{"amd64": true, "arm64": true}
		return
	}
	l.cat.Arches, l.arches = l.facetList(file, pos, "arch", "arch", raws)
}

// loadLayers takes the valid layers in increasing order and marks the
// multiple-choice ones.
func (l *loader) loadLayers(file string, pos Lines, raws []rawLayer) {
	var asFacets []rawFacet
	for _, r := range raws {
		asFacets = append(asFacets, rawFacet{ID: r.ID, Name: r.Name})
	}
	valid, _ := l.facetList(file, pos, "layer", "layer", asFacets)
	l.layers = map[string]int{}
	someMultiple := false
	for _, f := range l.orderLayers(file, pos, raws, valid) {
		l.layers[f.ID] = len(l.cat.Layers)
		l.cat.Layers = append(l.cat.Layers, f)
		someMultiple = someMultiple || f.Multiple
	}
	if !someMultiple && len(l.cat.Layers) > 0 { // CONTRACT §4: then the last layer is the multiple one
		l.cat.Layers[len(l.cat.Layers)-1].Multiple = true
	}
	if len(raws) == 0 {
		l.ps.add(file, 0, `add one, e.g. [[layer]] id = "os" name = "Operating system" order = 1`, "no [[layer]] is declared")
	}
}

// orderLayers returns the valid layers sorted by their order: as written
// when no layer has one, else each must have its own.
func (l *loader) orderLayers(file string, pos Lines, raws []rawLayer, valid []Facet) []Facet {
	type ordered struct {
		f     Facet
		order int
	}
	var ol []ordered
	orders := map[int]string{}
	someOrdered := false
	for _, r := range raws {
		someOrdered = someOrdered || r.Order != nil
	}
	for i, r := range raws {
		if r.Order == nil && !someOrdered {
			n := i + 1 // no layer has an order: they come as written
			r.Order = &n
		}
		if r.Order == nil {
			l.ps.add(file, pos.Line(fmt.Sprintf("layer[%d]", i)), "add order = N; layers are offered in increasing order", "layer %q has no order, while other layers have one", r.ID)
			continue
		}
		if other, dup := orders[*r.Order]; dup {
			l.ps.add(file, pos.Line(fmt.Sprintf("layer[%d].order", i)), "give each layer its own order",
				"layer %q has the same order %d as layer %q", r.ID, *r.Order, other)
			continue
		}
		orders[*r.Order] = r.ID
		for _, f := range valid {
			if f.ID == r.ID {
				f.Multiple = r.Multiple
				ol = append(ol, ordered{f, *r.Order})
				break
			}
		}
	}
	sort.SliceStable(ol, func(i, j int) bool { return ol[i].order < ol[j].order })
	out := make([]Facet, len(ol))
	for i, o := range ol {
		out[i] = o.f
	}
	return out
}

func (l *loader) loadProducts(file string, pos Lines, raws []rawProduct) {
	seen := map[string]bool{}
	for i, rp := range raws {
		line := pos.Line(fmt.Sprintf("product[%d].id", i))
		if why := checkID(rp.ID); why != "" {
			l.ps.add(file, line, "use an id like \"palette\"", "product id %q %s", rp.ID, why)
			continue
		}
		if why := l.reservedID(rp.ID); why != "" {
			l.ps.add(file, line, "choose another id", "product id %q %s", rp.ID, why)
		}
		if seen[rp.ID] {
			l.ps.add(file, line, "give each product its own id", "product %q is declared twice", rp.ID)
			continue
		}
		seen[rp.ID] = true
		l.cat.Products = append(l.cat.Products, l.product(file, pos, i, rp))
	}
	if len(raws) == 0 {
		l.ps.add(file, 0, `add one, e.g. [[product]] id = "palette" name = "Palette"`, "no [[product]] is declared")
	}
}

// product makes product[i] with its valid releases, sorted by version.
func (l *loader) product(file string, pos Lines, i int, rp rawProduct) *Product {
	p := &Product{ID: rp.ID, Name: rp.Name}
	if p.Name == "" {
		p.Name = p.ID
	}
	for j, rr := range rp.Release {
		at := func(key string) int { return pos.Line(fmt.Sprintf("product[%d].release[%d].%s", i, j, key)) }
		v, err := ParseVersion(rr.Version)
		if err != nil {
			l.ps.add(file, at("version"), "write the release version like 4.7.3", "product %q: %v", p.ID, err)
			continue
		}
		if dup := p.sameRelease(v); dup != nil {
			l.ps.add(file, at("version"), "remove one of them", "product %q: release %s is declared twice (as %q and %q)",
				p.ID, v.Raw, dup.Version.Raw, v.Raw)
			continue
		}
		r := &Release{Product: p, Version: v, Date: string(rr.Date)}
		if rr.Bundle != "" {
			r.Bundle = l.source(file, at("bundle"), "bundle", rr.Bundle, "")
		}
		if rr.ISO != "" {
			r.ISO = l.source(file, at("iso"), "iso", rr.ISO, "file")
		}
		if rr.Helm != "" {
			r.Helm = l.source(file, at("helm"), "helm", rr.Helm, "")
		}
		p.Releases = append(p.Releases, r)
	}
	sort.SliceStable(p.Releases, func(a, b int) bool { return p.Releases[a].Version.Compare(p.Releases[b].Version) < 0 })
	return p
}

func (p *Product) sameRelease(v Version) *Release {
	for _, r := range p.Releases {
		if r.Version.SameAs(v) {
			return r
		}
	}
	return nil
}

func (l *loader) loadPacks() {
	dir := filepath.Join(l.dir, "packs")
	reg := l.readRegistries()
	entries, err := l.files.ReadDir(dir)
	if err != nil && !(errors.Is(err, fs.ErrNotExist) && len(l.registries) > 0) {
		l.ps.add(dir, 0, "create the packs directory with one <name>.toml per pack", "cannot read packs: %v", unwrapPathError(err))
		return
	}
	byName := map[string]string{} // pack name → file
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".toml") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		data, err := l.readFile(file)
		if err != nil {
			l.ps.add(file, 0, "make it readable", "cannot read: %v", unwrapPathError(err))
			continue
		}
		var raw rawPack
		pos, ps, ok := DecodeTOML(file, data, &raw)
		l.ps.list = append(l.ps.list, ps...)
		if !ok {
			l.broken["*"] = true // some pack is unknown: rules cannot be checked
			continue
		}
		if !l.facets {
			continue
		}
		if other, dup := byName[raw.Name]; dup && raw.Name != "" {
			l.ps.add(file, pos.Line("name"), "give each pack its own name", "pack %q is also declared in %s", raw.Name, other)
			continue
		}
		byName[raw.Name] = file
		var p *Pack
		if versions, ok := reg[raw.Name]; ok {
			p = l.registryPack(versions, &tomlPack{file: file, raw: raw, pos: pos})
			delete(reg, raw.Name)
		} else {
			p = l.pack(file, raw, pos)
		}
		if p != nil {
			l.cat.Packs = append(l.cat.Packs, p)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(reg)) {
		if p := l.registryPack(reg[name], nil); p != nil {
			l.cat.Packs = append(l.cat.Packs, p)
		}
	}
	sort.Slice(l.cat.Packs, func(i, j int) bool {
		a, b := l.cat.Packs[i], l.cat.Packs[j]
		if a.LayerOrder != b.LayerOrder {
			return a.LayerOrder < b.LayerOrder
		}
		return a.Name < b.Name
	})
	for _, p := range l.cat.Packs {
		for _, v := range p.Versions {
			v.Index = len(l.cat.Versions)
			l.cat.Versions = append(l.cat.Versions, v)
		}
	}
}

func (l *loader) pack(file string, raw rawPack, pos Lines) *Pack {
	ok := true
	if why := checkName(raw.Name); why != "" {
		l.ps.add(file, pos.Line("name"), `use a name like "cni-calico"`, "pack name %q %s", raw.Name, why)
		ok = false
	}
	layer, known := l.layers[raw.Layer]
	if !known {
		l.ps.add(file, pos.Line("layer"), "use one of: "+strings.Join(facetIDs(l.cat.Layers), ", ")+" or declare it in catalog.toml",
			"layer %q is not declared in catalog.toml", raw.Layer)
		ok = false
	}
	p := &Pack{Name: raw.Name, DisplayName: raw.DisplayName, Layer: raw.Layer, LayerOrder: layer,
		AddonType: raw.AddonType, Description: raw.Description, File: file}
	if known {
		p.Multiple = l.cat.Layers[layer].Multiple
	}
	if p.DisplayName == "" {
		p.DisplayName = p.Name
	}
	if raw.Readme != "" {
		p.Readme = l.source(file, pos.Line("readme"), "readme", raw.Readme, "file")
	}
	if len(raw.Version) == 0 {
		l.ps.add(file, 0, `add at least one [[version]] with version, clouds, arch and source`, "pack %q has no versions", raw.Name)
		ok = false
	}
	for i, rv := range raw.Version {
		if v := l.packVersion(file, p, i, rv, pos); v != nil {
			p.Versions = append(p.Versions, v)
		} else {
			ok = false
		}
	}
	return l.finishPack(p, ok)
}

// finishPack sorts a checked pack's versions; a pack with problems is
// dropped, and marked broken.
func (l *loader) finishPack(p *Pack, ok bool) *Pack {
	if !ok {
		// Rules naming this pack or its layer cannot be checked against it.
		l.broken["pack "+p.Name] = true
		l.broken["layer "+p.Layer] = true
		return nil
	}
	sort.SliceStable(p.Versions, func(i, j int) bool { return p.Versions[i].Version.Compare(p.Versions[j].Version) < 0 })
	return p
}

func (l *loader) packVersion(file string, p *Pack, i int, rv rawPackVersion, pos Lines) *PackVersion {
	at := func(key string) int { return pos.Line(fmt.Sprintf("version[%d]%s", i, key)) }
	return l.checkVersion(p, rv, versionAt{pos: func(key string) Pos { return Pos{File: file, Line: at(key)} }})
}

// checkVersion checks one pack version, wherever it was written (a
// packs/*.toml or a registry's pack.json): va places its keys.
func (l *loader) checkVersion(p *Pack, rv rawPackVersion, va versionAt) *PackVersion {
	before := len(l.ps.list)
	v, err := ParseVersion(rv.Version)
	if err != nil {
		l.addAt(va.pos(".version"), "write the version like 1.32.3 or 22.04", "%v", err)
		return nil
	}
	here := va.pos("")
	for _, o := range p.Versions {
		if o.Version.SameAs(v) {
			where := fmt.Sprintf("lines %d and %d", o.Line, here.Line)
			if o.File != here.File {
				where = fmt.Sprintf("%s:%d and here", o.File, o.Line)
			}
			l.addAt(va.pos(".version"), "remove or renumber one of them",
				"version %s of pack %q is declared twice (%s)", v.Raw, p.Name, where)
			return nil
		}
	}
	pv := &PackVersion{Pack: p, Version: v, FIPS: rv.FIPS, File: here.File, Line: here.Line}
	va.label = fmt.Sprintf("version %s", v.Raw)
	pv.Clouds = l.facetValues(va, "clouds", "cloud", rv.Clouds, l.clouds, l.cat.Clouds)
	pv.Arch = l.facetValues(va, "arch", "arch", rv.Arch, l.arches, l.cat.Arches)
	pv.Products = l.versionProducts(va, rv.Products)
	if rv.Source == "" {
		l.addAt(here, `add source = "path/to/file-or-directory" (relative to the catalog directory)`, "%s has no source", va.label)
	} else {
		src := va.pos(".source")
		pv.Source = l.source(src.File, src.Line, "source", rv.Source, "")
	}
	pv.Requires = l.versionRequires(va, rv.Requires)
	pv.UpgradeFrom = l.versionUpgrades(va, rv.UpgradeFrom)
	pv.Images = l.versionImages(va, rv.Images)
	pv.Charts = l.versionCharts(va, rv.Charts)
	if len(l.ps.list) > before {
		return nil
	}
	return pv
}

// versionAt places the problems of one pack version: the file and line
// of a key under it (".clouds[1]"; "" for the version itself), and how
// messages name it ("version 1.32.3").
type versionAt struct {
	pos   func(key string) Pos
	label string
}

func (l *loader) addAt(p Pos, fix, format string, args ...any) {
	l.ps.add(p.File, p.Line, fix, format, args...)
}

// facetValues checks a version's list of facet values (clouds, arch):
// not empty, each declared in catalog.toml, none twice.
func (l *loader) facetValues(va versionAt, key, kind string, values []string, known map[string]bool, all []Facet) []string {
	if len(values) == 0 {
		l.addAt(va.pos(""), fmt.Sprintf("add %s = [...] with one or more of: %s", key, strings.Join(facetIDs(all), ", ")),
			"%s: %s is empty or missing", va.label, key)
	}
	seen := map[string]bool{}
	var out []string
	for j, c := range values {
		line := va.pos(fmt.Sprintf(".%s[%d]", key, j))
		switch {
		case !known[c]:
			l.addAt(line, fmt.Sprintf("use one of: %s, or declare [[%s]] id = %q in catalog.toml", strings.Join(facetIDs(all), ", "), kind, c),
				"%s: %s %q is not declared in catalog.toml", va.label, kind, c)
		case seen[c]:
			l.addAt(line, "list it once", "%s: %s %q is listed twice", va.label, kind, c)
		default:
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// versionProducts reads a version's product constraints, in product
// order, each product declared and each range valid.
func (l *loader) versionProducts(va versionAt, raw map[string]string) map[string]Constraint {
	out := map[string]Constraint{}
	for _, id := range slices.Sorted(maps.Keys(raw)) {
		line := va.pos(".products." + id)
		if l.cat.ProductByID(id) == nil {
			var ids []string
			for _, p := range l.cat.Products {
				ids = append(ids, p.ID)
			}
			l.addAt(line, "use one of: "+strings.Join(ids, ", "), "%s: product %q is not declared in catalog.toml", va.label, id)
			continue
		}
		c, err := ParseConstraint(raw[id])
		if err != nil {
			l.addAt(line, `write a range like ">=4.6.0 <4.8.0"`, "%s: product %q: %v", va.label, id, err)
			continue
		}
		out[id] = c
	}
	return out
}

// versionRequires reads a version's requires rules: each names exactly
// one target, with a valid version range and kind.
func (l *loader) versionRequires(va versionAt, raw []rawRule) []Rule {
	var out []Rule
	for j, rr := range raw {
		key := fmt.Sprintf(".requires[%d]", j)
		line := va.pos(key)
		if (rr.Pack == "") == (rr.Layer == "") {
			l.addAt(line, `set exactly one of pack = "name" or layer = "id"`, "%s: a requires rule needs one target", va.label)
			continue
		}
		kind := RuleKind(rr.Kind)
		if rr.Kind == "" {
			kind = Optional
		}
		if !slices.Contains(RuleKinds, kind) {
			l.addAt(va.pos(key+".kind"), `set kind = "optional", "required" or "not-supported"`, "%s: requires %s: kind %q is not a kind of rule", va.label, rr.Pack+rr.Layer, rr.Kind)
			continue
		}
		c, err := ParseConstraint(rr.Versions)
		if err != nil {
			l.addAt(va.pos(key+".versions"), `write versions = ">=1.29 <1.33"`, "%s: requires %s: %v", va.label, rr.Pack+rr.Layer, err)
			continue
		}
		out = append(out, Rule{Pack: rr.Pack, Layer: rr.Layer, Kind: kind, Versions: c, Line: line.Line})
	}
	return out
}

// versionUpgrades reads a version's upgrade_from entries: a pack name
// and a valid range. The pack need not be in the catalog any more.
func (l *loader) versionUpgrades(va versionAt, raw []rawUpgrade) []Upgrade {
	var out []Upgrade
	for j, ru := range raw {
		key := fmt.Sprintf(".upgrade_from[%d]", j)
		if why := checkName(ru.Pack); why != "" {
			l.addAt(va.pos(key+".pack"), `name the pack, e.g. pack = "argo-cd"`, "%s: upgrade_from pack %q %s", va.label, ru.Pack, why)
			continue
		}
		c, err := ParseConstraint(ru.Versions)
		if err != nil {
			l.addAt(va.pos(key+".versions"), `write versions = "<=3.26.7"`, "%s: upgrade_from %s: %v", va.label, ru.Pack, err)
			continue
		}
		out = append(out, Upgrade{Pack: ru.Pack, Versions: c, Line: va.pos(key).Line})
	}
	return out
}

// imageText is what an image reference may hold: it becomes a line of
// images.txt, so no spaces or control characters.
var imageText = regexp.MustCompile(`^[^\s\x00-\x1f\x7f]{1,512}$`)

func (l *loader) versionImages(va versionAt, raw []string) []string {
	var out []string
	for j, img := range raw {
		if !imageText.MatchString(img) {
			l.addAt(va.pos(fmt.Sprintf(".images[%d]", j)), `write an image reference like "registry.k8s.io/pause:3.10"`,
				"%s: image %q is empty, too long or holds spaces or control characters", va.label, img)
			continue
		}
		if !slices.Contains(out, img) {
			out = append(out, img)
		}
	}
	return out
}

func (l *loader) versionCharts(va versionAt, raw []rawChart) []Chart {
	var out []Chart
	for j, rc := range raw {
		if rc.Name == "" || rc.Version == "" || !imageText.MatchString(rc.Name+rc.Version+rc.Repo) {
			l.addAt(va.pos(fmt.Sprintf(".charts[%d]", j)), `write {repo = "https://…", name = "argo-cd", version = "7.8.2"}`,
				"%s: chart %q needs a name and a version, without spaces", va.label, rc.Name)
			continue
		}
		out = append(out, Chart(rc))
	}
	return out
}

// checkRequires checks that each rule names a pack or layer that exists in
// another layer and that at least one pack version satisfies it.
func (l *loader) checkRequires() {
	if l.broken["*"] {
		return
	}
	for _, pv := range l.cat.Versions {
		for _, r := range pv.Requires {
			file := pv.File
			label := fmt.Sprintf("version %s: requires %s %q", pv.Version.Raw, map[bool]string{true: "pack", false: "layer"}[r.Pack != ""], r.Pack+r.Layer)
			var targets []*PackVersion
			if r.Pack != "" {
				target := l.cat.PackByName(r.Pack)
				if l.broken["pack "+r.Pack] {
					continue
				}
				if target == nil {
					l.ps.add(file, r.Line, "name a pack of the catalog", "%s: no such pack", label)
					continue
				}
				if target.Name == pv.Pack.Name {
					l.ps.add(file, r.Line, "two versions of one pack never go in one bundle; remove the rule",
						"%s: that is this pack itself", label)
					continue
				}
				if target.Layer == pv.Pack.Layer && !pv.Pack.Multiple {
					l.ps.add(file, r.Line, "requires constrain packs of other layers (or of a multiple-choice layer); remove the rule",
						"%s: that pack is in the same layer (%s)", label, target.Layer)
					continue
				}
				targets = target.Versions
			} else {
				if l.broken["layer "+r.Layer] {
					continue
				}
				if _, ok := l.layers[r.Layer]; !ok {
					l.ps.add(file, r.Line, "use one of: "+strings.Join(facetIDs(l.cat.Layers), ", "), "%s: no such layer", label)
					continue
				}
				if r.Layer == pv.Pack.Layer && !pv.Pack.Multiple {
					l.ps.add(file, r.Line, "requires constrain packs of other layers (or of a multiple-choice layer); remove the rule",
						"%s: that is this pack's own layer, a single-choice one", label)
					continue
				}
				for _, o := range l.cat.Versions {
					// In its own multiple-choice layer a rule constrains only the other packs.
					if o.Pack.Layer == r.Layer && o.Pack.Name != pv.Pack.Name {
						targets = append(targets, o)
					}
				}
			}
			if len(targets) == 0 { // a layer rule on its own multiple-choice layer, where this pack is alone
				l.ps.add(file, r.Line, "add another pack to that layer or remove the rule", "%s: no other pack is in that layer", label)
				continue
			}
			if r.Kind == NotSupported { // a range that rules out nothing the catalog has is harmless
				continue
			}
			satisfied := false
			for _, t := range targets {
				if r.Versions.Allows(t.Version) {
					satisfied = true
					break
				}
			}
			if !satisfied {
				sort.Slice(targets, func(i, j int) bool { return targets[i].Version.Compare(targets[j].Version) < 0 })
				var have []string
				for _, t := range targets {
					have = append(have, t.Version.Raw)
				}
				l.ps.add(file, r.Line, "widen the range or add a matching version; the catalog has: "+strings.Join(dedupe(have), ", "),
					"%s versions %q: no pack version satisfies it", label, r.Versions.Raw)
			}
		}
	}
}

func facetIDs(fs []Facet) []string {
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	return ids
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(out) > 12 {
		out = append(out[:12], "… ("+strconv.Itoa(len(out)-12)+" more)")
	}
	return out
}

// unwrapPathError drops the path from an fs error: the message names it already.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
