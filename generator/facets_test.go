package generator

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/tree"
)

// segmentValues are, straight from the catalog and independently of the
// plan, the values each browse segment takes besides All. A new segment
// in tree.BrowseSegments needs its line here.
var segmentValues = map[string]func(c *catalog.Catalog) []string{
	"product": func(c *catalog.Catalog) []string {
		var out []string
		for _, p := range c.Products {
			out = append(out, p.ID)
		}
		return out
	},
	"version": func(c *catalog.Catalog) []string {
		var out []string
		for _, p := range c.Products {
			for _, r := range p.Releases {
				out = append(out, r.Version.Raw)
			}
		}
		return out
	},
	"cloud": func(c *catalog.Catalog) []string { return facetIDs(c.Clouds) },
	"layer": func(c *catalog.Catalog) []string { return facetIDs(c.Layers) },
	"arch":  func(c *catalog.Catalog) []string { return facetIDs(c.Arches) },
	"fips":  func(*catalog.Catalog) []string { return []string{catalog.FIPSOnly, catalog.NonFIPS} },
}

func facetIDs(fs []catalog.Facet) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

// TestBrowseFoldersFollowTheList walks tree.BrowseSegments over a built
// tree: every browse file is in a folder ParseBrowsePath reads back, and
// each segment takes, at its position, exactly All and the catalog's
// values for it.
func TestBrowseFoldersFollowTheList(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	c := s.catalog()
	seen := make([]map[string]bool, len(tree.BrowseSegments))
	for i := range seen {
		seen[i] = map[string]bool{}
	}
	n := 0
	for _, p := range s.files() {
		if !strings.HasPrefix(p, tree.BrowseDir+"/") {
			continue
		}
		f, file, ok := tree.ParseBrowsePath(p)
		if !ok {
			t.Errorf("%s: not a browse folder of the layout", p)
			continue
		}
		if !slices.Contains([]string{"index.html", tree.BrowseIndex, tree.URLList, tree.SumsList}, file) {
			t.Errorf("%s: unexpected file in a browse folder", p)
		}
		if f.File(file) != p {
			t.Errorf("%s does not round-trip: %s", p, f.File(file))
		}
		for i, v := range f {
			seen[i][v] = true
		}
		n++
	}
	if n == 0 {
		t.Fatal("no browse files")
	}
	for i, seg := range tree.BrowseSegments {
		values, ok := segmentValues[seg.Name]
		if !ok {
			t.Errorf("segment %q: add its catalog values to segmentValues", seg.Name)
			continue
		}
		want := append([]string{tree.All}, values(c)...)
		slices.Sort(want)
		want = slices.Compact(want)
		got := make([]string, 0, len(seen[i]))
		for v := range seen[i] {
			got = append(got, v)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("segment %d (%s) takes %v in the tree, want %v", i, seg.Name, got, want)
		}
	}
}

// TestAxesCoverEverySegment checks that the plan's dimensions take the
// segments of tree.BrowseSegments in order, each once, and that a segment
// refining another shares its dimension.
func TestAxesCoverEverySegment(t *testing.T) {
	t.Parallel()
	c := newSite(t).catalog()
	next := 0
	owner := make([]int, len(tree.BrowseSegments))
	for k, a := range newAxes(c) {
		if a.first != next || a.width < 1 {
			t.Fatalf("dimension %d takes segments %d..%d, want it to start at %d", k, a.first, a.first+a.width, next)
		}
		for i := a.first; i < a.first+a.width; i++ {
			owner[i] = k
		}
		for _, v := range a.values {
			if len(v.segs) != a.width {
				t.Errorf("dimension %d: value %v has %d segments, want %d", k, v.segs, len(v.segs), a.width)
			}
		}
		if a.values[0].segs[0] != tree.All {
			t.Errorf("dimension %d: value 0 is %v, want All", k, a.values[0].segs)
		}
		next += a.width
	}
	if next != len(tree.BrowseSegments) {
		t.Errorf("the dimensions take %d segments, the layout has %d", next, len(tree.BrowseSegments))
	}
	for i, seg := range tree.BrowseSegments {
		if seg.Within != "" && owner[tree.SegmentIndex(seg.Within)] != owner[i] {
			t.Errorf("segment %q refines %q but is in another dimension", seg.Name, seg.Within)
		}
	}
	if names := catalog.SegmentNames(); true {
		for i, seg := range tree.BrowseSegments {
			if names[i] != seg.Name {
				t.Errorf("browse segment %d is %q in the tree's layout and %q in the catalog's filter", i, seg.Name, names[i])
			}
		}
	}
	if tree.All != catalog.All || tree.FIPSOnly != catalog.FIPSOnly || tree.NonFIPS != catalog.NonFIPS {
		t.Error("the tree's All and FIPS values differ from the catalog's")
	}
}

// TestSidebarIsBoundedOnAValuesPage: a page of one cloud lists at most
// sidebarLimit clouds and a link to the page of all clouds, whatever the
// number of clouds, so the tree grows linearly with them; the page of all
// clouds lists every one, and the current cloud is always listed.
func TestSidebarIsBoundedOnAValuesPage(t *testing.T) {
	first := slices.IndexFunc(tree.BrowseSegments[:], func(s tree.BrowseSegment) bool { return s.Name == "cloud" })
	for _, n := range []int{3, 60, 300} {
		cat := &catalog.Catalog{}
		for i := range n {
			id := "c" + strconv.Itoa(i)
			cat.Clouds = append(cat.Clouds, catalog.Facet{ID: id, Name: "Cloud " + id})
		}
		a := axisSources[catalog.SegCloud](cat, first)
		all := a.sidebar(0)[0].links
		if len(all) != n+1 {
			t.Errorf("%d clouds: the all-clouds page lists %d links, want %d", n, len(all), n+1)
		}
		for _, cur := range []int{1, n} {
			links := a.sidebar(cur)[0].links
			if len(links) > sidebarLimit+2 {
				t.Errorf("%d clouds: page of cloud %d lists %d links, want at most %d", n, cur, len(links), sidebarLimit+2)
			}
			if !slices.ContainsFunc(links, func(l axisLink) bool { return l.current && l.to == cur }) {
				t.Errorf("%d clouds: page of cloud %d does not list its own cloud", n, cur)
			}
			if n > sidebarLimit && links[len(links)-1].to != 0 {
				t.Errorf("%d clouds: the last link of a bounded list goes to %d, want the all-clouds page", n, links[len(links)-1].to)
			}
		}
	}
}
