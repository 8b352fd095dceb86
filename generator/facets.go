package generator

import (
	"slices"
	"strconv"
	"strings"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/tree"
)

// The plan's dimensions come from tree.BrowseSegments, in path order: each
// dimension is one segment, or a segment with those refining it (product
// and version), and takes its values from the catalog through axisSources.
// A new browse segment needs its entry there, nothing else here.

// maxAxes bounds the number of dimensions: each has at least one segment.
const maxAxes = len(tree.BrowseSegments)

// axis is one dimension of the plan. Its values are numbered from 0, All
// in each of its segments.
type axis struct {
	first, width int // its segments: tree.BrowseSegments[first : first+width]
	values       []axisValue
	index        map[string]int // a value's segments joined by "/" → its number
	// match appends the numbers of the values pack version v is listed
	// under, besides 0.
	match func(v *catalog.PackVersion, into []int) []int
	// sidebar returns the groups of links of a page whose value is cur.
	sidebar func(cur int) []axisGroup
}

// axisValue is a value of a dimension: its path segments and its words in
// a page's heading.
type axisValue struct {
	segs  []string
	words string
}

// axisGroup is a group of links in a browse page's sidebar, each to the
// page that changes only this dimension's value.
type axisGroup struct {
	name  string
	links []axisLink
}

type axisLink struct {
	label   string
	to      int
	current bool
}

// axisSources make each dimension from the catalog, by its first
// segment; a segment that refines another (a version) has none. The
// catalog's segments, tree's browse segments and this table have one entry
// per facet each, or the build does not compile.
var axisSources = [...]func(cat *catalog.Catalog, first int) axis{
	catalog.SegProduct: releaseAxis,
	catalog.SegVersion: nil, // within the product's dimension
	catalog.SegCloud: func(cat *catalog.Catalog, first int) axis {
		return facetAxis(first, catalogValues(cat.Clouds), func(v *catalog.PackVersion) []string { return v.Clouds })
	},
	catalog.SegLayer: func(cat *catalog.Catalog, first int) axis {
		return facetAxis(first, catalogValues(cat.Layers), func(v *catalog.PackVersion) []string { return []string{v.Pack.Layer} })
	},
	catalog.SegArch: func(cat *catalog.Catalog, first int) axis {
		return facetAxis(first, catalogValues(cat.Arches), func(v *catalog.PackVersion) []string { return v.Arch })
	},
	catalog.SegFIPS: func(_ *catalog.Catalog, first int) axis {
		return facetAxis(first, tree.BrowseSegments[first].Values, fipsValue)
	},
}

var (
	_ [catalog.NumSegments]tree.BrowseSegment               = tree.BrowseSegments
	_ [catalog.NumSegments]func(*catalog.Catalog, int) axis = axisSources
)

var (
	fipsOnly = []string{tree.FIPSOnly}
	nonFIPS  = []string{tree.NonFIPS}
)

func fipsValue(v *catalog.PackVersion) []string {
	if v.FIPS {
		return fipsOnly
	}
	return nonFIPS
}

// newAxes makes the plan's dimensions, one per group of segments in path
// order.
func newAxes(cat *catalog.Catalog) []axis {
	var axes []axis
	for first := 0; first < len(tree.BrowseSegments); {
		source := axisSources[first]
		if source == nil {
			panic("generator: no values for browse segment " + tree.BrowseSegments[first].Name + " in axisSources")
		}
		a := source(cat, first)
		a.first = first
		a.index = map[string]int{}
		for i, v := range a.values {
			a.index[strings.Join(v.segs, "/")] = i
		}
		axes = append(axes, a)
		first += a.width
	}
	return axes
}

// catalogValues are the values of a facet the catalog declares: its id,
// and its name as label and words.
func catalogValues(fs []catalog.Facet) []tree.BrowseValue {
	out := make([]tree.BrowseValue, len(fs))
	for i, f := range fs {
		out[i] = tree.BrowseValue{ID: f.ID, Label: f.Name, Words: f.Name}
	}
	return out
}

// facetAxis is a dimension of one segment: All, then values; a pack
// version is listed under each value whose id ids returns for it.
func facetAxis(first int, values []tree.BrowseValue, ids func(*catalog.PackVersion) []string) axis {
	seg := tree.BrowseSegments[first]
	a := axis{width: 1, values: []axisValue{{segs: []string{tree.All}, words: seg.AllWords}}}
	number := map[string]int{}
	for i, v := range values {
		number[v.ID] = i + 1
		a.values = append(a.values, axisValue{segs: []string{v.ID}, words: v.Words})
	}
	a.match = func(v *catalog.PackVersion, into []int) []int {
		for _, id := range ids(v) {
			into = append(into, number[id])
		}
		return into
	}
	a.sidebar = func(cur int) []axisGroup {
		g := axisGroup{name: seg.Heading, links: []axisLink{{label: seg.AllLabel, to: 0, current: cur == 0}}}
		for i, v := range values {
			g.links = append(g.links, axisLink{label: v.Label, to: i + 1, current: cur == i+1})
		}
		if cur != 0 {
			g.links = boundLinks(g.links, 0, seg.AllLabel)
		}
		return []axisGroup{g}
	}
	return a
}

// releaseAxis is the product segment with the version segment refining
// it: (all, all), then per product (product, all) and (product, release)
// for each of its releases. A version exists only under its product, so
// the two make one dimension.
func releaseAxis(cat *catalog.Catalog, first int) axis {
	prodSeg, verSeg := tree.BrowseSegments[first], tree.BrowseSegments[first+1]
	if verSeg.Within != prodSeg.Name {
		panic("generator: browse segment " + verSeg.Name + " does not refine " + prodSeg.Name)
	}
	a := axis{width: 2, values: []axisValue{{segs: []string{tree.All, tree.All}, words: prodSeg.AllWords}}}
	productAt := map[*catalog.Product]int{} // product → number of (product, all)
	productOf := []*catalog.Product{nil}    // value → its product, nil for (all, all)
	for _, p := range cat.Products {
		productAt[p] = len(a.values)
		a.values = append(a.values, axisValue{segs: []string{p.ID, tree.All}, words: p.Name + " (" + verSeg.AllWords + ")"})
		productOf = append(productOf, p)
		for _, r := range p.Releases {
			a.values = append(a.values, axisValue{segs: []string{p.ID, r.Version.Raw}, words: p.Name + " " + r.Version.Raw})
			productOf = append(productOf, p)
		}
	}
	a.match = func(v *catalog.PackVersion, into []int) []int {
		for _, p := range cat.Products {
			if _, ok := v.Products[p.ID]; !ok {
				continue
			}
			at := productAt[p]
			into = append(into, at)
			for i, r := range p.Releases {
				if v.OffersRelease(r) {
					into = append(into, at+1+i)
				}
			}
		}
		return into
	}
	a.sidebar = func(cur int) []axisGroup {
		chosen := productOf[cur]
		products := axisGroup{name: prodSeg.Heading, links: []axisLink{{label: prodSeg.AllLabel, to: 0, current: chosen == nil}}}
		for _, p := range cat.Products {
			products.links = append(products.links, axisLink{label: p.Name, to: productAt[p], current: chosen == p})
		}
		if chosen == nil {
			return []axisGroup{products}
		}
		at := productAt[chosen]
		versions := axisGroup{name: chosen.Name + " " + verSeg.Heading, links: []axisLink{{label: verSeg.AllLabel, to: at, current: cur == at}}}
		for i := len(chosen.Releases) - 1; i >= 0; i-- { // newest first
			versions.links = append(versions.links, axisLink{label: chosen.Releases[i].Version.Raw, to: at + 1 + i, current: cur == at+1+i})
		}
		products.links = boundLinks(products.links, 0, prodSeg.AllLabel)
		if cur != at {
			versions.links = boundLinks(versions.links, at, verSeg.AllLabel)
		}
		return []axisGroup{products, versions}
	}
	return a
}

// sidebarLimit bounds the links of one sidebar group on a page whose value
// in that dimension is not "all". Every browse page lists each dimension's
// values, and there is a page per value, so unbounded lists made the tree
// grow with the square of the number of clouds (300 clouds: 1.16 GiB for
// three pack versions). The page with "all" in that dimension still lists
// every value, and there are as many of those as pages per value, so the
// whole tree grows linearly.
const sidebarLimit = 12

// boundLinks keeps the first link ("all", which leads to the page listing
// every value), the first values up to sidebarLimit, the current one if it
// is further down, and a last link to the "all" page (to) saying how many
// were left out.
func boundLinks(links []axisLink, to int, allLabel string) []axisLink {
	if len(links) <= sidebarLimit+1 {
		return links
	}
	kept := slices.Clone(links[:sidebarLimit])
	for _, l := range links[sidebarLimit:] {
		if l.current {
			kept = append(kept, l)
		}
	}
	left := len(links) - len(kept)
	kept = append(kept, axisLink{label: strconv.Itoa(left) + " more in " + allLabel, to: to})
	return kept
}
