package catalog

// OffersRelease reports whether v is offered for release r of its product:
// the product is a key of v's products and r satisfies its constraint.
func (v *PackVersion) OffersRelease(r *Release) bool {
	c, ok := v.Products[r.Product.ID]
	return ok && c.Allows(r.Version)
}

// Compatible reports whether two pack versions can be in one bundle: they
// are of different packs, of different layers or both of one
// multiple-choice layer, and each one's optional and not-supported rules
// hold for the other. Required rules do not make two versions
// incompatible: they ask for something more in the bundle (see Unmet).
func Compatible(a, b *PackVersion) bool {
	return MayCombine(a.Pack, b.Pack) && a.Accepts(b) && b.Accepts(a)
}

// MayCombine reports whether versions of two packs may go in one bundle at
// all, rules aside: never two versions of one pack, never two packs of one
// single-choice layer.
func MayCombine(a, b *Pack) bool {
	if a.Name == b.Name {
		return false
	}
	return a.Layer != b.Layer || a.Multiple
}

// Accepts reports whether every optional and not-supported rule of v that
// applies to o holds: a pack rule applies only to that pack, a layer rule
// to every pack of that layer. An optional rule holds when o is within
// its range, a not-supported rule when o is not.
func (v *PackVersion) Accepts(o *PackVersion) bool {
	for _, r := range v.Requires {
		if !r.Applies(o) {
			continue
		}
		switch r.Kind {
		case Required:
		case NotSupported:
			if r.Versions.Allows(o.Version) {
				return false
			}
		default:
			if !r.Versions.Allows(o.Version) {
				return false
			}
		}
	}
	return true
}

// Meets reports whether o meets required (or any) rule r of v: o is of
// another pack, r applies to it and o is within r's range.
func (r Rule) Meets(v, o *PackVersion) bool {
	return o.Pack != v.Pack && r.Applies(o) && r.Versions.Allows(o.Version)
}

// Need is a required rule of a version of a bundle.
type Need struct {
	Version *PackVersion
	Rule    Rule
}

// Unmet returns the required rules of the bundle's versions that no other
// version of the bundle meets, in bundle order; nil when the bundle is
// complete.
func Unmet(bundle []*PackVersion) []Need {
	var out []Need
	for _, v := range bundle {
		for _, r := range v.Requires {
			if r.Kind != Required {
				continue
			}
			met := false
			for _, o := range bundle {
				if r.Meets(v, o) {
					met = true
					break
				}
			}
			if !met {
				out = append(out, Need{Version: v, Rule: r})
			}
		}
	}
	return out
}

// Applies reports whether the rule constrains pack version o.
func (r Rule) Applies(o *PackVersion) bool {
	if r.Pack != "" {
		return o.Pack.Name == r.Pack
	}
	return o.Pack.Layer == r.Layer
}
