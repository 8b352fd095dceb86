package catalog

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/packstudio/packstudio/catalog/registry"
)

// registrySource is one valid [[registry]] of catalog.toml: where the
// checkout is and the facets its pack.json files do not carry.
type registrySource struct {
	dir      string
	at       Pos // the [[registry]] in catalog.toml
	products map[string]string
	arch     []string
	fips     bool
	clouds   map[string][]string // cloudType → catalog clouds
	layers   map[string]string   // registry layer → catalog layer
}

// loadRegistries checks the [[registry]] entries against the facets
// already loaded; versions are read with the packs.
func (l *loader) loadRegistries(file string, pos Lines, raws []rawRegistry) {
	for i, r := range raws {
		key := fmt.Sprintf("registry[%d]", i)
		at := func(k string) int { return pos.Line(key + k) }
		ok := true
		bad := func(k, fix, format string, args ...any) {
			l.ps.add(file, at(k), fix, format, args...)
			ok = false
		}
		rs := &registrySource{at: Pos{File: file, Line: at("")}, products: r.Products, arch: r.Arch, fips: r.FIPS,
			clouds: r.Clouds, layers: r.Layers}
		if r.Path == "" {
			bad("", `add path = "registry" (the checkout, relative to the catalog directory)`, "[[registry]] has no path")
		} else if src := l.source(file, at(".path"), "registry path", r.Path, ""); src.Path != "" {
			rs.dir = src.Path
			if fi, err := l.files.Stat(src.Path); err == nil && !fi.IsDir() {
				bad(".path", "point it at the registry checkout's folder", "registry path %q is not a folder", r.Path)
			}
		}
		for _, id := range slices.Sorted(maps.Keys(r.Products)) {
			if l.cat.ProductByID(id) == nil {
				bad(".products."+id, "use a product declared in catalog.toml", "registry %q: product %q is not declared", r.Path, id)
			} else if _, err := ParseConstraint(r.Products[id]); err != nil {
				bad(".products."+id, `write a range like ">=4.6.0 <4.8.0"`, "registry %q: product %q: %v", r.Path, id, err)
			}
		}
		if len(r.Arch) == 0 {
			bad("", `add arch = ["amd64"]: pack.json does not say which architectures a pack runs on`, "registry %q has no arch", r.Path)
		}
		for j, a := range r.Arch {
			if !l.arches[a] {
				bad(fmt.Sprintf(".arch[%d]", j), "use one of: "+strings.Join(facetIDs(l.cat.Arches), ", "), "registry %q: arch %q is not declared", r.Path, a)
			}
		}
		for _, t := range slices.Sorted(maps.Keys(r.Clouds)) {
			for _, c := range r.Clouds[t] {
				if !l.clouds[c] {
					bad(".clouds."+t, "use one of: "+strings.Join(facetIDs(l.cat.Clouds), ", "), "registry %q: cloudType %q maps to cloud %q, which is not declared", r.Path, t, c)
				}
			}
		}
		for _, t := range slices.Sorted(maps.Keys(r.Layers)) {
			if _, known := l.layers[r.Layers[t]]; !known {
				bad(".layers."+t, "use one of: "+strings.Join(facetIDs(l.cat.Layers), ", "), "registry %q: layer %q maps to layer %q, which is not declared", r.Path, t, r.Layers[t])
			}
		}
		if ok {
			l.registries = append(l.registries, rs)
		}
	}
}

// registryVersion is one pack.json of a registry.
type registryVersion struct {
	src *registrySource
	v   *registry.Version
}

// readRegistries reads every registry, grouping the versions by pack
// name; disabled versions are left out.
func (l *loader) readRegistries() map[string][]registryVersion {
	out := map[string][]registryVersion{}
	for _, rs := range l.registries {
		l.cat.Registries = append(l.cat.Registries, rs.dir)
		versions, ps := registry.Read(rs.dir, l.files)
		for _, p := range ps {
			l.ps.add(p.File, p.Line, p.Fix, "%s", p.Msg)
		}
		if len(ps) > 0 {
			l.broken["*"] = true // some pack is unknown: rules cannot be checked
		}
		for _, v := range versions {
			if !v.Disabled {
				out[v.Name] = append(out[v.Name], registryVersion{rs, v})
			}
		}
	}
	return out
}

// tomlPack is a packs/<name>.toml that adds to or overrides the versions
// of a registry pack of the same name.
type tomlPack struct {
	file string
	raw  rawPack
	pos  Lines
}

// registryPack makes one pack of its registry versions and, when a
// packs/<name>.toml of the same name exists, that file's keys: pack keys
// it writes replace the registry's; a [[version]] of a version the
// registry has replaces the keys it writes (requires and upgrade_from add
// to the registry's); any other [[version]] is a version of its own.
func (l *loader) registryPack(versions []registryVersion, over *tomlPack) *Pack {
	slices.SortFunc(versions, func(a, b registryVersion) int { return compareRaw(a.v.Version, b.v.Version) })
	head := versions[len(versions)-1].v // the newest current version describes the pack
	for i := len(versions) - 1; i >= 0; i-- {
		if !versions[i].v.Deprecated {
			head = versions[i].v
			break
		}
	}
	ok := true
	if why := checkName(head.Name); why != "" {
		l.ps.add(head.File, head.Line("name"), `use a name like "cni-calico"`, "pack name %q %s", head.Name, why)
		ok = false
	}
	p := &Pack{Name: head.Name, DisplayName: head.DisplayName, AddonType: head.AddonType, Description: head.Description,
		DocsURL: head.DocsURL, Group: head.Group, File: head.File}
	if head.Readme != "" {
		p.Readme = Source{Path: head.Readme, Pos: Pos{File: head.File, Line: 1}}
	}
	p.Layer = versions[len(versions)-1].layer()
	for _, rv := range versions {
		if layer := rv.layer(); layer != p.Layer {
			l.ps.add(rv.v.File, rv.v.Line("layer"), "give every version of a pack one layer", "layer %q maps to %q, while %s has %q", rv.v.Layer, layer, head.File, p.Layer)
			ok = false
		}
	}
	if over != nil {
		r := over.raw
		for _, f := range []struct {
			val string
			out *string
		}{{r.DisplayName, &p.DisplayName}, {r.AddonType, &p.AddonType}, {r.Description, &p.Description}, {r.Layer, &p.Layer}} {
			if f.val != "" {
				*f.out = f.val
			}
		}
		if r.Readme != "" {
			p.Readme = l.source(over.file, over.pos.Line("readme"), "readme", r.Readme, "file")
		}
	}
	layer, known := l.layers[p.Layer]
	if !known {
		l.ps.add(head.File, head.Line("layer"), "map it in catalog.toml: [registry.layers] "+p.Layer+" = \"<layer id>\"; the catalog has "+strings.Join(facetIDs(l.cat.Layers), ", "),
			"layer %q is not a layer of the catalog", p.Layer)
		ok = false
	} else {
		p.LayerOrder, p.Multiple = layer, l.cat.Layers[layer].Multiple
	}
	if p.DisplayName == "" {
		p.DisplayName = p.Name
	}
	overridden := map[int]bool{} // [[version]] indices that override a registry version
	for _, rv := range versions {
		raw, va, good := l.registryRaw(rv)
		if over != nil {
			if i := over.versionOf(rv.v.Version); i >= 0 {
				overridden[i] = true
				raw, va = over.merge(i, raw, va)
			}
		}
		if !good {
			ok = false
			continue
		}
		if v := l.checkVersion(p, raw, va); v != nil {
			v.Deprecated, v.EOL = rv.v.Deprecated, rv.v.EOL
			p.Versions = append(p.Versions, v)
		} else {
			ok = false
		}
	}
	if over != nil {
		for i, rv := range over.raw.Version {
			if overridden[i] {
				continue
			}
			if v := l.packVersion(over.file, p, i, rv, over.pos); v != nil {
				p.Versions = append(p.Versions, v)
			} else {
				ok = false
			}
		}
	}
	return l.finishPack(p, ok)
}

// layer is the catalog layer a registry version's layer maps to.
func (rv registryVersion) layer() string {
	if to, ok := rv.src.layers[rv.v.Layer]; ok {
		return to
	}
	return rv.v.Layer
}

// compareRaw orders version texts as Version.Compare does, unparsable
// ones (reported later) by their text.
func compareRaw(a, b string) int {
	va, errA := ParseVersion(a)
	vb, errB := ParseVersion(b)
	if errA != nil || errB != nil {
		return cmpString(a, b)
	}
	return va.Compare(vb)
}

// registryRaw turns a pack.json into the keys a [[version]] would have,
// with the registry's defaults, and places each key in its file: the
// pack.json, values.yaml or catalog.toml's [[registry]]. good is false
// when something could not be mapped (reported here).
func (l *loader) registryRaw(rv registryVersion) (rawPackVersion, versionAt, bool) {
	v, rs := rv.v, rv.src
	good := true
	source, err := filepath.Rel(l.dir, v.Dir) // catalog paths are relative to the catalog
	if err != nil {
		source = v.Dir
	}
	raw := rawPackVersion{Version: v.Version, Arch: rs.arch, FIPS: rs.fips, Products: rs.products, Source: source,
		Images: v.Images}
	for _, c := range v.Charts {
		raw.Charts = append(raw.Charts, rawChart(c))
	}
	for i, t := range v.CloudTypes {
		switch to, mapped := rs.clouds[t]; {
		case mapped:
			raw.Clouds = appendNew(raw.Clouds, to...)
		case t == All:
			raw.Clouds = appendNew(raw.Clouds, facetIDs(l.cat.Clouds)...)
		case l.clouds[t]:
			raw.Clouds = appendNew(raw.Clouds, t)
		default:
			l.ps.add(v.File, v.Line(fmt.Sprintf("cloudTypes[%d]", i)),
				fmt.Sprintf("map it in catalog.toml: [registry.clouds] %s = [\"<cloud id>\", …]; the catalog has %s", t, strings.Join(facetIDs(l.cat.Clouds), ", ")),
				"cloudType %q is not a cloud of the catalog", t)
			good = false
		}
	}
	var reqPaths, upPaths []string // the JSON path of each requires and upgrade_from entry
	for _, d := range v.Dependencies {
		c, err := RangeConstraint(d.MinVersion, d.MaxVersion)
		if err != nil {
			l.ps.add(v.File, v.Line(d.Path), "write minVersion and maxVersion like 1.29 or 3.3.2 (either may be empty)", "dependency on %q: %v", d.PackName, err)
			good = false
			continue
		}
		if d.PackName == "" {
			l.ps.add(v.File, v.Line(d.Path), "name the pack it depends on", "a dependency has no packName")
			good = false
			continue
		}
		switch d.Type {
		case "upgrade":
			raw.UpgradeFrom = append(raw.UpgradeFrom, rawUpgrade{Pack: d.PackName, Versions: c.Raw})
			upPaths = append(upPaths, d.Path)
			continue
		case "required", "optional", "notSupported":
		default:
			l.ps.add(v.File, v.Line(d.Path+".type"), `use "required", "optional", "notSupported" or "upgrade"`, "dependency on %q has type %q", d.PackName, d.Type)
			good = false
			continue
		}
		kind := d.Type
		if kind == "notSupported" {
			kind = string(NotSupported)
		}
		raw.Requires = append(raw.Requires, rawRule{Pack: d.PackName, Versions: c.Raw, Kind: kind})
		reqPaths = append(reqPaths, d.Path)
	}
	values := filepath.Join(v.Dir, "values.yaml")
	va := versionAt{pos: func(key string) Pos {
		name, index, rest := splitKey(key)
		switch name {
		case "clouds":
			return Pos{v.File, v.Line("cloudTypes")}
		case "arch", "products", "fips":
			return rs.at
		case "images", "charts":
			return Pos{values, 0}
		case "requires":
			if index < len(reqPaths) {
				return Pos{v.File, v.Line(reqPaths[index] + rest)}
			}
		case "upgrade_from":
			if index < len(upPaths) {
				return Pos{v.File, v.Line(upPaths[index])}
			}
		case "version":
			return Pos{v.File, v.Line("version")}
		}
		return Pos{v.File, 1}
	}}
	return raw, va, good
}

// splitKey splits ".requires[2].versions" into "requires", 2, ".versions".
func splitKey(key string) (name string, index int, rest string) {
	key = strings.TrimPrefix(key, ".")
	end := strings.IndexAny(key, ".[")
	if end < 0 {
		return key, -1, ""
	}
	name, key = key[:end], key[end:]
	index = -1
	if strings.HasPrefix(key, "[") {
		if close := strings.IndexByte(key, ']'); close > 0 {
			fmt.Sscanf(key[1:close], "%d", &index)
			key = key[close+1:]
		}
	}
	if rest = key; strings.HasPrefix(rest, ".versions") {
		rest = "" // versions come from minVersion and maxVersion: the entry's line
	}
	return name, index, rest
}

func appendNew(list []string, add ...string) []string {
	for _, s := range add {
		if !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}

// versionOf returns the index of the [[version]] that is version text v,
// or -1.
func (t *tomlPack) versionOf(v string) int {
	want, err := ParseVersion(v)
	for i, rv := range t.raw.Version {
		if rv.Version == v {
			return i
		}
		if got, e := ParseVersion(rv.Version); err == nil && e == nil && got.SameAs(want) {
			return i
		}
	}
	return -1
}

// merge lays [[version]] i over a registry version: the keys it writes
// replace the registry's, its requires and upgrade_from add to them, and
// each key is placed where it was written.
func (t *tomlPack) merge(i int, raw rawPackVersion, va versionAt) (rawPackVersion, versionAt) {
	o := t.raw.Version[i]
	base := fmt.Sprintf("version[%d]", i)
	written := func(key string) bool { return t.pos.Has(base + "." + key) }
	if written("clouds") {
		raw.Clouds = o.Clouds
	}
	if written("arch") {
		raw.Arch = o.Arch
	}
	if written("fips") {
		raw.FIPS = o.FIPS
	}
	if len(o.Products) > 0 {
		raw.Products = o.Products
	}
	if written("source") {
		raw.Source = o.Source
	}
	if written("images") {
		raw.Images = o.Images
	}
	if written("charts") {
		raw.Charts = o.Charts
	}
	fromRegistry := len(raw.Requires)
	raw.Requires = append(slices.Clip(raw.Requires), o.Requires...)
	upFromRegistry := len(raw.UpgradeFrom)
	raw.UpgradeFrom = append(slices.Clip(raw.UpgradeFrom), o.UpgradeFrom...)
	inner := va.pos
	va.pos = func(key string) Pos {
		name, index, rest := splitKey(key)
		switch {
		case name == "requires" && index >= fromRegistry:
			return Pos{t.file, t.pos.Line(fmt.Sprintf("%s.requires[%d]%s", base, index-fromRegistry, rest))}
		case name == "upgrade_from" && index >= upFromRegistry:
			return Pos{t.file, t.pos.Line(fmt.Sprintf("%s.upgrade_from[%d]%s", base, index-upFromRegistry, rest))}
		case name != "" && name != "requires" && name != "upgrade_from" && (written(name) || name == "products" && len(o.Products) > 0):
			return Pos{t.file, t.pos.Line(base + key)}
		}
		return inner(key)
	}
	return raw, va
}
