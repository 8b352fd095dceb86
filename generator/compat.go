package generator

import (
	"github.com/packstudio/packstudio/catalog"
)

// compatIndex answers "are these two pack versions compatible" in constant
// time. Compatibility does not depend on the context, so each rule is
// evaluated once per pack version it could apply to, here, instead of once
// per pair in every compat file.
type compatIndex struct {
	layer []int // layer order of each version: comparing ints, not strings, in the n² loop
	// denied[i] marks the versions that i's rules reject; nil when i has no
	// rules, as most pack versions.
	denied [][]uint64
}

func newCompatIndex(cat *catalog.Catalog) *compatIndex {
	n := len(cat.Versions)
	x := &compatIndex{layer: make([]int, n), denied: make([][]uint64, n)}
	for i, v := range cat.Versions {
		x.layer[i] = v.Pack.LayerOrder
		if len(v.Requires) == 0 {
			continue
		}
		bits := make([]uint64, (n+63)/64)
		for j, o := range cat.Versions {
			if !v.Accepts(o) {
				bits[j/64] |= 1 << (j % 64)
			}
		}
		x.denied[i] = bits
	}
	return x
}

func (x *compatIndex) denies(i, j int32) bool {
	d := x.denied[i]
	return d != nil && d[j/64]&(1<<(j%64)) != 0
}

// compatible is catalog.Compatible on indices.
func (x *compatIndex) compatible(i, j int32) bool {
	return x.layer[i] != x.layer[j] && !x.denies(i, j) && !x.denies(j, i)
}
