package generator

import (
	"strings"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/tree"
)

// A combination is one browse folder (tree.BrowseFolder). Its position in
// each dimension of the plan (facets.go) is the number of its value there,
// where 0 is All; a combination's id numbers it in mixed radix over the
// dimensions, in path order.

// plan indexes every combination and the pack versions it lists. Work
// grows with the number of (combination, pack version) rows, never with
// combinations × pack versions: each pack version enumerates only the
// combinations it matches.
type plan struct {
	cat  *catalog.Catalog
	axes []axis
	// offsets[c]..offsets[c+1] are combination c's rows in rows: indices
	// into cat.Versions, in catalog order.
	offsets []int32
	rows    []int32
}

// combo is a combination as the numbers of its values, one per dimension;
// entries past len(plan.axes) stay 0.
type combo [maxAxes]int

func newPlan(cat *catalog.Catalog) *plan {
	p := &plan{cat: cat, axes: newAxes(cat)}
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
	n := 1
	for _, a := range p.axes {
		n *= len(a.values)
	}
	return n
}

func (p *plan) id(c combo) int {
	id := 0
	for k, a := range p.axes {
		id = id*len(a.values) + c[k]
	}
	return id
}

func (p *plan) combo(id int) combo {
	var c combo
	for k := len(p.axes) - 1; k >= 0; k-- {
		n := len(p.axes[k].values)
		c[k], id = id%n, id/n
	}
	return c
}

// list returns the rows of a combination.
func (p *plan) list(id int) []int32 { return p.rows[p.offsets[id]:p.offsets[id+1]] }

func (p *plan) size(id int) int { return int(p.offsets[id+1] - p.offsets[id]) }

// folder is the combination's browse folder.
func (p *plan) folder(c combo) tree.BrowseFolder {
	var f tree.BrowseFolder
	for k, a := range p.axes {
		copy(f[a.first:a.first+a.width], a.values[c[k]].segs)
	}
	return f
}

// dir is the combination's folder as a path.
func (p *plan) dir(c combo) string { return p.folder(c).Path() }

// find returns the combination of a browse folder, or false when the
// folder is not one of this catalog's.
func (p *plan) find(f tree.BrowseFolder) (combo, bool) {
	var c combo
	for k, a := range p.axes {
		i, ok := a.index[strings.Join(f[a.first:a.first+a.width], "/")]
		if !ok {
			return c, false
		}
		c[k] = i
	}
	return c, true
}

// listed returns the rows of a browse folder, nil when it is not one of
// this catalog's.
func (p *plan) listed(f tree.BrowseFolder) []int32 {
	c, ok := p.find(f)
	if !ok {
		return nil
	}
	return p.list(p.id(c))
}

// eachRow calls fn for every (combination, pack version) pair that matches,
// visiting pack versions in catalog order.
func (p *plan) eachRow(fn func(combo int, version int32)) {
	// stride[k] is what one step in dimension k adds to a combination's id.
	var stride combo
	n := 1
	for k := len(p.axes) - 1; k >= 0; k-- {
		stride[k] = n
		n *= len(p.axes[k].values)
	}
	// terms[k] are the values v is listed under in dimension k, each
	// times its stride: an id is one term of each dimension added up.
	terms := make([][]int, len(p.axes))
	last := len(p.axes) - 1
	for vi, v := range p.cat.Versions {
		for k, a := range p.axes {
			terms[k] = a.match(v, append(terms[k][:0], 0))
			for j := range terms[k] {
				terms[k][j] *= stride[k]
			}
		}
		var at combo // position in each dimension's terms but the last, counted like an odometer
		for {
			base := 0
			for k := range last {
				base += terms[k][at[k]]
			}
			for _, t := range terms[last] {
				fn(base+t, int32(vi))
			}
			k := last - 1
			for ; k >= 0; k-- {
				if at[k]++; at[k] < len(terms[k]) {
					break
				}
				at[k] = 0
			}
			if k < 0 {
				break
			}
		}
	}
}
