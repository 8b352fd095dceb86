package catalog

// OffersRelease reports whether v is offered for release r of its product:
// the product is a key of v's products and r satisfies its constraint.
func (v *PackVersion) OffersRelease(r *Release) bool {
	c, ok := v.Products[r.Product.ID]
	return ok && c.Allows(r.Version)
}

// Compatible reports whether two pack versions can be in one bundle: they
// are of different packs, of different layers or both of one
// multiple-choice layer, and each one's requires rules hold for the other.
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

// Accepts reports whether every rule of v that applies to o holds: a pack
// rule applies only to that pack, a layer rule to every pack of that layer.
func (v *PackVersion) Accepts(o *PackVersion) bool {
	for _, r := range v.Requires {
		if r.Applies(o) && !r.Versions.Allows(o.Version) {
			return false
		}
	}
	return true
}

// Applies reports whether the rule constrains pack version o.
func (r Rule) Applies(o *PackVersion) bool {
	if r.Pack != "" {
		return o.Pack.Name == r.Pack
	}
	return o.Pack.Layer == r.Layer
}
