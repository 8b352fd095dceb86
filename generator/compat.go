package generator

import (
	"math/bits"
	"slices"

	"github.com/packstudio/packstudio/catalog"
)

// compatIndex answers "are these two pack versions compatible" in constant
// time. Compatibility does not depend on the context, so each rule is
// evaluated once per pack version it could apply to, here, instead of once
// per pair in every compat file.
type compatIndex struct {
	pack     []int  // pack of each version, as an index: comparing ints, not strings
	layer    []int  // layer order of each version
	multiple []bool // per layer order: a multiple-choice layer
	// denied[i] marks the versions that i's rules reject; nil when i has no
	// rules, as most pack versions.
	denied [][]uint64
	// needs[i] has, for each required rule of i, the versions that meet
	// it; nil when i has none.
	needs [][][]uint64
}

func newCompatIndex(cat *catalog.Catalog) *compatIndex {
	n := len(cat.Versions)
	x := &compatIndex{pack: make([]int, n), layer: make([]int, n), denied: make([][]uint64, n),
		needs: make([][][]uint64, n), multiple: make([]bool, len(cat.Layers))}
	for i, l := range cat.Layers {
		x.multiple[i] = l.Multiple
	}
	packs := map[*catalog.Pack]int{}
	for i, v := range cat.Versions {
		if _, ok := packs[v.Pack]; !ok {
			packs[v.Pack] = len(packs)
		}
		x.pack[i] = packs[v.Pack]
		x.layer[i] = v.Pack.LayerOrder
		if len(v.Requires) == 0 {
			continue
		}
		set := make([]uint64, (n+63)/64)
		for j, o := range cat.Versions {
			if !v.Accepts(o) {
				set[j/64] |= 1 << (j % 64)
			}
		}
		x.denied[i] = set
		for _, r := range v.Requires {
			if r.Kind != catalog.Required {
				continue
			}
			met := make([]uint64, (n+63)/64)
			for j, o := range cat.Versions {
				if r.Meets(v, o) {
					met[j/64] |= 1 << (j % 64)
				}
			}
			x.needs[i] = append(x.needs[i], met)
		}
	}
	return x
}

// needsIn returns, for each required rule of version v, the positions of
// list (version indices in ascending order, one context) that meet it,
// ascending; nil when v has no required rule.
func (x *compatIndex) needsIn(v int32, list []int32) [][]int32 {
	if x.needs[v] == nil {
		return nil
	}
	out := make([][]int32, len(x.needs[v]))
	for k, met := range x.needs[v] {
		out[k] = []int32{}
		for p, j := range list {
			if met[j/64]&(1<<(j%64)) != 0 {
				out[k] = append(out[k], int32(p))
			}
		}
	}
	return out
}

// mayCombine is catalog.MayCombine on indices: rules aside, may i and j go
// in one bundle.
func (x *compatIndex) mayCombine(i, j int32) bool {
	if x.pack[i] == x.pack[j] {
		return false
	}
	return x.layer[i] != x.layer[j] || x.multiple[x.layer[i]]
}

// conflicts returns, for each position of list (version indices in
// ascending order, one context), the positions of the versions it may
// combine with but is not compatible with, ascending; symmetric. Only
// versions with rules can make a conflict, so the work grows with the
// ruled versions of the context and the versions they deny, not with the
// square of the list.
func (x *compatIndex) conflicts(list []int32) [][]int32 {
	out := make([][]int32, len(list))
	at := make([]int32, len(x.pack)) // version index → 1 + its position in list, 0 when absent
	for p, v := range list {
		at[v] = int32(p) + 1
	}
	for pr, r := range list {
		for w, word := range x.denied[r] { // nil, so no iteration, for a version without rules
			for word != 0 {
				j := int32(w*64 + bits.TrailingZeros64(word))
				word &= word - 1
				if at[j] == 0 || !x.mayCombine(r, j) {
					continue
				}
				pj := at[j] - 1
				out[pr] = append(out[pr], pj)
				out[pj] = append(out[pj], int32(pr))
			}
		}
	}
	for p := range out {
		out[p] = sortedUnique(out[p])
	}
	return out
}

// sortedUnique sorts s in place and drops repeats: a pair where each side
// denies the other is found twice.
func sortedUnique(s []int32) []int32 {
	if len(s) < 2 {
		return s
	}
	slices.Sort(s)
	return slices.Compact(s)
}
