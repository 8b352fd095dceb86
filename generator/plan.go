package generator

import (
	"github.com/packstudio/packstudio/catalog"
)

// A combination is one folder browse/<product>/<version>/<cloud>/<layer>/<arch>/<fips>/.
// Its position in each dimension is an index into that dimension's values,
// where index 0 is "all". Product and version form one dimension, since a
// version only exists under its product.

// release is a value of the product/version dimension: (all, all),
// (product, all) or (product, release).
type release struct {
	product *catalog.Product // nil for all
	release *catalog.Release // nil for all
}

func (r release) productID() string {
	if r.product == nil {
		return catalog.All
	}
	return r.product.ID
}

func (r release) versionID() string {
	if r.release == nil {
		return catalog.All
	}
	return r.release.Version.Raw
}

// plan indexes every combination and the pack versions it lists. Work
// grows with the number of (combination, pack version) rows, never with
// combinations × pack versions: each pack version enumerates only the
// combinations it matches.
type plan struct {
	cat       *catalog.Catalog
	releases  []release
	productAt map[*catalog.Product]int // index of (product, all)
	clouds    []string                 // "all" then cloud ids
	layers    []string
	arches    []string
	fips      []string
	// offsets[c]..offsets[c+1] are combination c's rows in rows: indices
	// into cat.Versions, in catalog order.
	offsets []int32
	rows    []int32
}

// combo is a combination as indices into the plan's dimensions.
type combo struct{ r, c, l, a, f int }

func newPlan(cat *catalog.Catalog) *plan {
	p := &plan{cat: cat, productAt: map[*catalog.Product]int{}}
	p.releases = append(p.releases, release{})
	for _, prod := range cat.Products {
		p.productAt[prod] = len(p.releases)
		p.releases = append(p.releases, release{product: prod})
		for _, r := range prod.Releases {
			p.releases = append(p.releases, release{product: prod, release: r})
		}
	}
	withAll := func(fs []catalog.Facet) []string {
		out := []string{catalog.All}
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return out
	}
	p.clouds, p.layers, p.arches = withAll(cat.Clouds), withAll(cat.Layers), withAll(cat.Arches)
	p.fips = append([]string{catalog.All}, catalog.FIPSValues...)

	n := p.count()
	counts := make([]int32, n+1)
	p.eachRow(func(c int, _ int32) { counts[c+1]++ })
	for i := 1; i <= n; i++ {
		counts[i] += counts[i-1]
	}
	p.offsets = counts
	p.rows = make([]int32, counts[n])
	next := make([]int32, n)
	copy(next, counts[:n])
	p.eachRow(func(c int, v int32) {
		p.rows[next[c]] = v
		next[c]++
	})
	return p
}

// count is the number of combinations.
func (p *plan) count() int {
	return len(p.releases) * len(p.clouds) * len(p.layers) * len(p.arches) * len(p.fips)
}

func (p *plan) id(c combo) int {
	return (((c.r*len(p.clouds)+c.c)*len(p.layers)+c.l)*len(p.arches)+c.a)*len(p.fips) + c.f
}

func (p *plan) combo(id int) combo {
	var c combo
	c.f, id = id%len(p.fips), id/len(p.fips)
	c.a, id = id%len(p.arches), id/len(p.arches)
	c.l, id = id%len(p.layers), id/len(p.layers)
	c.c, c.r = id%len(p.clouds), id/len(p.clouds)
	return c
}

// list returns the rows of a combination.
func (p *plan) list(id int) []int32 { return p.rows[p.offsets[id]:p.offsets[id+1]] }

func (p *plan) size(id int) int { return int(p.offsets[id+1] - p.offsets[id]) }

// filter is the combination as catalog segments.
func (p *plan) filter(c combo) catalog.Filter {
	r := p.releases[c.r]
	return catalog.Filter{Product: r.productID(), Version: r.versionID(), Cloud: p.clouds[c.c],
		Layer: p.layers[c.l], Arch: p.arches[c.a], FIPS: p.fips[c.f]}
}

// dir is the combination's folder.
func (p *plan) dir(c combo) string {
	f := p.filter(c)
	return "browse/" + f.Product + "/" + f.Version + "/" + f.Cloud + "/" + f.Layer + "/" + f.Arch + "/" + f.FIPS
}

// eachRow calls fn for every (combination, pack version) pair that matches,
// visiting pack versions in catalog order.
func (p *plan) eachRow(fn func(combo int, version int32)) {
	index := func(list []string, id string) int {
		for i, s := range list {
			if s == id {
				return i
			}
		}
		return -1
	}
	var rs, cs, ls, as, fs []int
	for vi, v := range p.cat.Versions {
		rs = append(rs[:0], 0)
		for _, prod := range p.cat.Products {
			if _, ok := v.Products[prod.ID]; !ok {
				continue
			}
			at := p.productAt[prod]
			rs = append(rs, at)
			for i, r := range prod.Releases {
				if v.OffersRelease(r) {
					rs = append(rs, at+1+i)
				}
			}
		}
		cs = append(cs[:0], 0)
		for _, c := range v.Clouds {
			cs = append(cs, index(p.clouds, c))
		}
		ls = append(ls[:0], 0, index(p.layers, v.Pack.Layer))
		as = append(as[:0], 0)
		for _, a := range v.Arch {
			as = append(as, index(p.arches, a))
		}
		fips := 2 // index of "non-fips"
		if v.FIPS {
			fips = 1
		}
		fs = append(fs[:0], 0, fips)
		for _, r := range rs {
			for _, c := range cs {
				for _, l := range ls {
					for _, a := range as {
						for _, f := range fs {
							fn(p.id(combo{r, c, l, a, f}), int32(vi))
						}
					}
				}
			}
		}
	}
}
