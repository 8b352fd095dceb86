package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// plan is the whole catalog in memory, decided before anything is written,
// so that Touch can find a pack's source by planning again.
type plan struct {
	products []product
	clouds   []cloudSpec
	packs    []*pack // by layer, then in generation order
}

type product struct {
	id, name string
	releases []release
}

type release struct{ version, date string }

type pack struct {
	name, display, layer, addonType string
	versions                        []*version // ascending
}

type version struct {
	raw      string
	num      [3]int // parsed raw, for building satisfiable rules
	clouds   []string
	arch     []string
	fips     bool
	products []productRange
	requires []rule
	dir      bool   // source is a directory of two files
	payload  string // the source file, or the directory's manifest.yaml
	values   string // the directory's values.yaml
}

type productRange struct{ id, constraint string }

// rule targets pack, or every pack of layer, with versions.
type rule struct{ pack, layer, versions, kind string }

// Sources live flat in sources/ as <name>-<version>, like the artifacts
// they become: creating a file or directory is the main cost of Generate, so
// there is no directory per pack. Versions hold no '-', so the names cannot
// collide.

// source is the catalog path of v's source.
func (v *version) source(packName string) string {
	if v.dir {
		return "sources/" + packName + "-" + v.raw
	}
	return "sources/" + packName + "-" + v.raw + ".txt"
}

// sourceFile is the one file whose content is v's payload text.
func (v *version) sourceFile(packName string) string {
	if v.dir {
		return v.source(packName) + "/manifest.yaml"
	}
	return v.source(packName)
}

func readmePath(packName string) string { return "readmes/" + packName + ".md" }

// planner holds the random source; every draw happens in a fixed order.
type planner struct {
	o    Options
	r    *rand.Rand
	p    *plan
	used map[string]bool // pack names taken
}

func newPlan(o Options) *plan {
	g := &planner{
		o:    o,
		r:    rand.New(rand.NewPCG(uint64(o.Seed), 0x9e3779b97f4a7c15)),
		p:    &plan{},
		used: map[string]bool{},
	}
	g.planClouds()
	g.planProducts()
	g.planPacks()
	g.planRequires()
	g.planAddonRequires()
	if o.RuleKinds {
		g.planRuleKinds()
	}
	return g.p
}

// planRuleKinds (Options.RuleKinds) runs last, so the catalog is otherwise
// the same: OS versions get k8s layer rules, and rules become required
// (about a third) or not-supported (about a sixth). Rules are built around
// real versions, so required ones stay satisfiable.
func (g *planner) planRuleKinds() {
	var osPacks, k8sPacks []*pack
	for _, pk := range g.p.packs {
		switch pk.layer {
		case "os":
			osPacks = append(osPacks, pk)
		case "k8s":
			k8sPacks = append(k8sPacks, pk)
		}
	}
	for _, pk := range g.p.packs {
		for _, v := range pk.versions {
			if pk.layer == "os" && len(k8sPacks) > 0 && g.chance(0.3) {
				v.requires = append(v.requires, g.k8sLayerRule(k8sPacks))
			}
			if pk.layer == "k8s" && len(osPacks) > 0 && g.chance(0.3) {
				v.requires = append(v.requires, g.osRule(osPacks))
			}
			for i := range v.requires {
				switch x := g.r.Float64(); {
				case x < 0.33:
					v.requires[i].kind = "required"
				case x < 0.5:
					v.requires[i].kind = "not-supported"
				}
			}
		}
	}
}

func (g *planner) chance(p float64) bool { return g.r.Float64() < p }

func (g *planner) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *planner) planClouds() {
	for i := range g.o.Clouds {
		if i < len(cloudSpecs) {
			g.p.clouds = append(g.p.clouds, cloudSpecs[i])
			continue
		}
		n := strconv.Itoa(i + 1)
		g.p.clouds = append(g.p.clouds, cloudSpec{"cloud" + n, "Cloud " + n, cloudKinds[i%len(cloudKinds)]})
	}
}

// planProducts makes releases 4.1.0, 4.2.0, … five to eight weeks apart.
func (g *planner) planProducts() {
	for i := range g.o.Products {
		pr := product{id: "prod" + strconv.Itoa(i+1), name: "Product " + strconv.Itoa(i+1)}
		if i < len(productSpecs) {
			pr.id, pr.name = productSpecs[i].id, productSpecs[i].name
		}
		day := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*i)
		for j := range g.o.ReleasesPerProduct {
			pr.releases = append(pr.releases, release{fmt.Sprintf("4.%d.0", j+1), day.Format("2006-01-02")})
			day = day.AddDate(0, 0, 35+g.r.IntN(22))
		}
		g.p.products = append(g.p.products, pr)
	}
}

// layerCounts splits the packs by layer share, giving every layer at least
// one pack when there are enough; add-ons take the remainder.
func layerCounts(n int) []int {
	counts := make([]int, len(layerSpecs))
	if n < len(layerSpecs) {
		for i := range n {
			counts[i] = 1
		}
		return counts
	}
	rest := n
	for i, l := range layerSpecs[:len(layerSpecs)-1] {
		counts[i] = max(1, int(math.Round(l.share*float64(n))))
		rest -= counts[i]
	}
	counts[len(counts)-1] = rest
	return counts
}

func (g *planner) planPacks() {
	for li, count := range layerCounts(g.o.Packs) {
		layer := layerSpecs[li].id
		for range count {
			g.p.packs = append(g.p.packs, g.planPack(layer))
		}
	}
}

func (g *planner) planPack(layer string) *pack {
	pk := &pack{layer: layer}
	home := -1 // os packs run on one cloud, named in the pack
	var base, display string
	switch layer {
	case "os":
		home = g.r.IntN(len(g.p.clouds))
		distro := g.pick(osDistros)
		base = distro + "-" + g.p.clouds[home].id
		display = title(distro) + " (" + g.p.clouds[home].name + ")"
	case "k8s":
		base = g.pick(k8sDistros) + "-" + g.pick(k8sFlavours)
		display = title(base)
	case "cni", "csi":
		words := map[string][]string{"cni": cniWords, "csi": csiWords}[layer]
		w := g.pick(words)
		base, display = layer+"-"+w, title(w)
	default:
		a := addonWords[g.r.IntN(len(addonWords))]
		base = a.word + "-" + g.pick(addonSuffixes)
		display, pk.addonType = title(base), a.kind
	}
	pk.name = g.unique(base)
	if pk.name != base {
		display += " " + pk.name[len(base)+1:]
	}
	pk.display = display
	for i, num := range g.versionNumbers(layer) {
		pk.versions = append(pk.versions, g.planVersion(pk, num, i, home))
	}
	return pk
}

// unique returns base, or base-N with a random free N in 2..999 when base
// is taken, like the build numbers real variants carry ("cni-calico-12").
// Past a few misses N counts up from 1000, so huge catalogs still finish.
func (g *planner) unique(base string) string {
	name := base
	for try := 0; g.used[name]; try++ {
		n := 2 + g.r.IntN(998)
		if try >= 16 {
			n = 1000 + try - 16
		}
		name = base + "-" + strconv.Itoa(n)
	}
	g.used[name] = true
	return name
}

// title turns "rook-ceph" into "Rook Ceph".
func title(s string) string {
	words := strings.Split(s, "-")
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// versionNumbers walks upwards from a random start, so versions are unique
// and ascending: OS packs go 22.04, 22.04.1, 22.10, …; others are semver
// with k8s pinned to 1.x.
func (g *planner) versionNumbers(layer string) [][3]int {
	k := g.o.VersionsPerPack
	out := make([][3]int, 0, k)
	if layer == "os" {
		v := [3]int{16 + 2*g.r.IntN(4), 4, 0}
		for range k {
			out = append(out, v)
			if g.chance(0.5) {
				v[2]++
			} else if v[1] == 4 {
				v = [3]int{v[0], 10, 0}
			} else {
				v = [3]int{v[0] + 1, 4, 0}
			}
		}
		return out
	}
	v := [3]int{g.r.IntN(4), g.r.IntN(30), g.r.IntN(10)}
	if layer == "k8s" {
		v = [3]int{1, 24 + g.r.IntN(6), g.r.IntN(10)}
	}
	for range k {
		out = append(out, v)
		switch x := g.r.Float64(); {
		case x < 0.05 && layer != "k8s":
			v = [3]int{v[0] + 1, 0, 0}
		case x < 0.40:
			v = [3]int{v[0], v[1] + 1, g.r.IntN(4)}
		default:
			v[2] += 1 + g.r.IntN(3)
		}
	}
	return out
}

func formatVersion(layer string, v [3]int) string {
	if layer != "os" {
		return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2])
	}
	s := fmt.Sprintf("%02d.%02d", v[0], v[1])
	if v[2] > 0 {
		s += "." + strconv.Itoa(v[2])
	}
	return s
}

// planVersion decides the facets of the i-th version of pk.
func (g *planner) planVersion(pk *pack, num [3]int, i, home int) *version {
	v := &version{raw: formatVersion(pk.layer, num), num: num}
	v.clouds = g.versionClouds(pk.layer, home)
	v.arch = g.versionArch()
	v.fips = g.chance(0.25)
	v.products = g.productRanges(i)
	v.dir = g.chance(0.10)
	v.payload = g.payload(pk, v, "")
	if v.dir {
		v.values = g.payload(pk, v, "values for ")
	}
	return v
}

// versionClouds: OS packs their one cloud; k8s, cni and csi 2–6; add-ons
// mostly 4–8 with many on every cloud, a few on 1–3.
func (g *planner) versionClouds(layer string, home int) []string {
	if layer == "os" {
		return []string{g.p.clouds[home].id}
	}
	n := len(g.p.clouds)
	idx := g.r.Perm(n)[:min(g.cloudCount(layer, n), n)]
	slices.Sort(idx) // catalog order reads better and is deterministic
	ids := make([]string, len(idx))
	for i, c := range idx {
		ids[i] = g.p.clouds[c].id
	}
	return ids
}

func (g *planner) cloudCount(layer string, n int) int {
	if layer != "addon" {
		return 2 + g.r.IntN(5)
	}
	switch x := g.r.Float64(); {
	case x < 0.35:
		return n
	case x < 0.85:
		return 4 + g.r.IntN(5)
	}
	return 1 + g.r.IntN(3)
}

// versionArch: ~55% amd64 only, ~40% both, ~5% arm64 only.
func (g *planner) versionArch() []string {
	switch x := g.r.Float64(); {
	case x < 0.55:
		return []string{"amd64"}
	case x < 0.95:
		return []string{"amd64", "arm64"}
	}
	return []string{"arm64"}
}

// productRanges: ~10% of versions name one product, the rest two (or all
// when there are fewer). Each constraint covers a window of 2–5 consecutive
// releases that moves later with the pack version index i, the way newer
// packs ship with newer releases.
func (g *planner) productRanges(i int) []productRange {
	n := min(2, len(g.p.products))
	if g.chance(0.10) {
		n = 1
	}
	idx := g.r.Perm(len(g.p.products))[:n]
	slices.Sort(idx)
	out := make([]productRange, n)
	for k, pi := range idx {
		pr := g.p.products[pi]
		out[k] = productRange{pr.id, g.window(pr.releases, i)}
	}
	return out
}

func (g *planner) window(rs []release, i int) string {
	r := len(rs)
	w := min(r, 2+g.r.IntN(4))
	start := 0
	if k := g.o.VersionsPerPack; k > 1 {
		start = int(math.Round(float64(i) / float64(k-1) * float64(r-w)))
	}
	start = max(0, min(r-w, start+g.r.IntN(3)-1))
	c := ">=" + rs[start].version
	if end := start + w; end < r {
		c += " <" + rs[end].version
	}
	return c
}

// payload is ~100–300 bytes of text naming the pack and version.
func (g *planner) payload(pk *pack, v *version, what string) string {
	size := 100 + g.r.IntN(201)
	var b strings.Builder
	fmt.Fprintf(&b, "# synthetic %spack %s %s\nname: %s\nversion: %s\nlayer: %s\nnotes:", what, pk.name, v.raw, pk.name, v.raw, pk.layer)
	for words := 0; b.Len() < size; words++ {
		if words%8 == 0 {
			b.WriteString("\n ")
		}
		b.WriteString(" " + g.pick(fillerWords))
	}
	b.WriteString("\n")
	return b.String()
}

// planRequires adds rules once every version exists, so each rule is built
// around a real target version and is satisfiable by construction. k8s
// versions may require the os layer; cni, csi and add-on versions the k8s
// layer or one k8s pack. No rule here targets its own layer; add-on to
// add-on rules come from planAddonRequires.
func (g *planner) planRequires() {
	byLayer := map[string][]*pack{}
	for _, pk := range g.p.packs {
		byLayer[pk.layer] = append(byLayer[pk.layer], pk)
	}
	osPacks, k8sPacks := byLayer["os"], byLayer["k8s"]
	for _, pk := range g.p.packs {
		for _, v := range pk.versions {
			switch {
			case pk.layer == "os":
			case pk.layer == "k8s":
				if len(osPacks) > 0 && g.chance(0.20) {
					v.requires = append(v.requires, g.osRule(osPacks))
				}
			case len(k8sPacks) > 0:
				switch x := g.r.Float64(); {
				case x < 0.30:
					v.requires = append(v.requires, g.k8sLayerRule(k8sPacks))
				case x < 0.40:
					v.requires = append(v.requires, g.k8sPackRule(k8sPacks))
				}
			}
		}
	}
}

// planAddonRequires lets a few add-on versions require another add-on pack
// (rules inside a multiple-choice layer), drawn after planRequires so that
// the rest of the catalog stays as it was.
func (g *planner) planAddonRequires() {
	var addons []*pack
	for _, pk := range g.p.packs {
		if pk.layer == "addon" {
			addons = append(addons, pk)
		}
	}
	if len(addons) < 2 {
		return
	}
	n := 0
	for _, pk := range addons {
		for _, v := range pk.versions {
			if n++; n%20 != 7 { // one add-on version in 20, whatever the seed
				continue
			}
			other, t := g.randomVersion(addons)
			if other == pk {
				continue
			}
			v.requires = append(v.requires, rule{pack: other.name, versions: ">=" + t.raw})
		}
	}
}

func (g *planner) randomVersion(packs []*pack) (*pack, *version) {
	pk := packs[g.r.IntN(len(packs))]
	return pk, pk.versions[g.r.IntN(len(pk.versions))]
}

// osRule is ">=YY.MM" for a real OS release, sometimes capped four years on.
func (g *planner) osRule(osPacks []*pack) rule {
	_, t := g.randomVersion(osPacks)
	c := fmt.Sprintf(">=%02d.%02d", t.num[0], t.num[1])
	if g.chance(0.3) {
		c += fmt.Sprintf(" <%02d.04", t.num[0]+4)
	}
	return rule{layer: "os", versions: c}
}

// minorRange is ">=1.a <1.b" around the minor of a real version.
func (g *planner) minorRange(t *version) string {
	lo := max(0, t.num[1]-g.r.IntN(3))
	hi := t.num[1] + 1 + g.r.IntN(3)
	return fmt.Sprintf(">=%d.%d <%d.%d", t.num[0], lo, t.num[0], hi)
}

func (g *planner) k8sLayerRule(k8sPacks []*pack) rule {
	_, t := g.randomVersion(k8sPacks)
	return rule{layer: "k8s", versions: g.minorRange(t)}
}

// k8sPackRule names one k8s pack: a minor range or a patch-level floor.
func (g *planner) k8sPackRule(k8sPacks []*pack) rule {
	pk, t := g.randomVersion(k8sPacks)
	if g.chance(0.5) {
		return rule{pack: pk.name, versions: ">=" + t.raw}
	}
	return rule{pack: pk.name, versions: g.minorRange(t)}
}
