package generator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/tree"
)

// goldenFiles are compared byte for byte with testdata/golden. Artifacts
// and signatures are not (ECDSA signatures differ on every signing); they
// are verified instead.
var goldenFiles = []string{
	"index.html",
	"releases/palette/4.6.2/index.html",
	"releases/palette/4.6.2/index.json",
	"releases/palette/4.6.2/urls.txt",
	"releases/palette/4.6.2/SHA256SUMS",
	tree.Folder().File("index.html"),
	tree.Folder().File("index.json"),
	tree.Folder("product=palette", "version=4.7.3", "cloud=vsphere", "fips=fips").File("index.html"),
	tree.Folder("product=palette", "version=4.7.3", "cloud=vsphere", "fips=fips").File("index.json"),
	tree.Folder("product=palette", "version=4.7.3", "cloud=vsphere", "fips=fips").File("urls.txt"),
	tree.Folder("product=palette", "version=4.7.3", "cloud=vsphere", "fips=fips").File("SHA256SUMS"),
	tree.Folder("product=vertex", "version=4.7.3", "cloud=edge-native", "layer=os", "arch=arm64", "fips=fips").File("index.html"),
	tree.Folder("product=vertex", "version=4.7.3", "cloud=edge-native", "layer=os", "arch=arm64", "fips=fips").File("index.json"),
	"packs/ubuntu/index.html",
	"packs/ubuntu/index.json",
	"compat/palette/4.7.3/vsphere.json",
	"bundle/index.html",
	"bundle/palette/4.7.3/index.html",
	"bundle/palette/4.7.3/aws/index.html",
	"bundle/palette/4.7.3/addons/index.html",
	"bundle/selection/index.html",
	"catalog.json",
	"search.json",
	"search/index.html",
	"urls.txt",
	"verify/index.html",
	"verify/verify-signatures.sh",
	"about/index.html",
	"manifest.json",
}

func TestGolden(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	sigLine := regexp.MustCompile(`(\.sig\.bin", "size": )\d+(, "sha256": ")[0-9a-f]{64}`)
	for _, f := range goldenFiles {
		got := s.read(f)
		if f == tree.ManifestName { // signatures differ on every signing
			got = sigLine.ReplaceAllString(got, "${1}(size)${2}(signature digest)")
		}
		golden := filepath.Join("testdata", "golden", filepath.FromSlash(f))
		if *update {
			os.MkdirAll(filepath.Dir(golden), 0o755)
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./generator -run TestGolden -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from %s (rerun with -update if the change is intended):\n%s", f, golden, firstDiff(string(want), got))
		}
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\nwant %q\n got %q", i+1, w, g)
		}
	}
	return "(no line differs)"
}

// allFilters enumerates every valid combination straight from the catalog,
// independently of the generator's plan.
func allFilters(c *catalog.Catalog) []catalog.Filter {
	type pv struct{ p, v string }
	pvs := []pv{{catalog.All, catalog.All}}
	for _, p := range c.Products {
		pvs = append(pvs, pv{p.ID, catalog.All})
		for _, r := range p.Releases {
			pvs = append(pvs, pv{p.ID, r.Version.Raw})
		}
	}
	ids := func(fs []catalog.Facet) []string {
		out := []string{catalog.All}
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return out
	}
	var out []catalog.Filter
	for _, x := range pvs {
		for _, cl := range ids(c.Clouds) {
			for _, l := range ids(c.Layers) {
				for _, a := range ids(c.Arches) {
					for _, f := range []string{catalog.All, catalog.FIPSOnly, catalog.NonFIPS} {
						out = append(out, catalog.NewFilter().With(catalog.SegProduct, x.p).With(catalog.SegVersion, x.v).
							With(catalog.SegCloud, cl).With(catalog.SegLayer, l).With(catalog.SegArch, a).With(catalog.SegFIPS, f))
					}
				}
			}
		}
	}
	return out
}

// TestBrowseMatchesContract checks every combination folder against the
// match rule evaluated pair by pair: the folder exists with its four files,
// index.json lists exactly the matching pack versions in catalog order,
// urls.txt and SHA256SUMS agree with the artifacts, and no other folder exists.
func TestBrowseMatchesContract(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	st := s.stats
	c := s.catalog()
	filters := allFilters(c)
	if st.Combinations != len(filters) {
		t.Fatalf("stats say %d combinations, the catalog has %d", st.Combinations, len(filters))
	}
	var rows int64
	for _, f := range filters {
		dir := tree.BrowseFolder(f).Path()
		var want []string
		for _, v := range c.Versions {
			if v.Matches(c, f) {
				want = append(want, v.ID())
			}
		}
		rows += int64(len(want))
		var idx struct {
			Count int `json:"count"`
			Packs []struct {
				Name, Version string
			} `json:"packs"`
		}
		if err := json.Unmarshal([]byte(s.read(dir+"/index.json")), &idx); err != nil {
			t.Fatalf("%s/index.json: %v", dir, err)
		}
		var got []string
		for _, p := range idx.Packs {
			got = append(got, p.Name+"@"+p.Version)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") || idx.Count != len(want) {
			t.Errorf("%s: count %d, packs %v; want %v", dir, idx.Count, got, want)
			continue
		}
		urls := strings.Fields(s.read(dir + "/urls.txt"))
		sums := strings.Split(strings.TrimSuffix(s.read(dir+"/SHA256SUMS"), "\n"), "\n")
		if len(want) == 0 {
			sums = nil
		}
		if len(urls) != 2*len(want) || len(sums) != len(want) {
			t.Errorf("%s: %d urls and %d sums for %d packs", dir, len(urls), len(sums), len(want))
			continue
		}
		for i, id := range want {
			name, version, _ := strings.Cut(id, "@")
			art := "artifacts/packs/" + name + "/" + name + "-" + version + ".zst"
			if urls[2*i] != "https://packs.example.com/studio/"+art || urls[2*i+1] != "https://packs.example.com/studio/artifacts/packs/"+name+"/"+name+"-"+version+".sig.bin" {
				t.Errorf("%s: urls %q %q for %s", dir, urls[2*i], urls[2*i+1], id)
			}
			data, err := os.ReadFile(s.out(art))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			if sums[i] != hex.EncodeToString(sum[:])+"  "+path.Base(art) {
				t.Errorf("%s: SHA256SUMS line %q for %s", dir, sums[i], art)
			}
		}
		if _, err := os.Stat(s.out(dir + "/index.html")); err != nil {
			t.Error(err)
		}
	}
	if st.Rows != rows {
		t.Errorf("stats say %d rows, the folders hold %d", st.Rows, rows)
	}
	folders := map[string]bool{}
	for _, f := range s.files() {
		if strings.HasPrefix(f, "browse/") {
			folders[path.Dir(f)] = true
		}
	}
	if len(folders) != len(filters) {
		t.Errorf("%d browse folders on disk, %d combinations", len(folders), len(filters))
	}
}

// compatEntry is an entry of a compat file (docs/CONTRACT.md: compat/<product>/…),
// decoded here to check what compatEntryHead writes as text.
type compatEntry struct {
	Name          string   `json:"name"`
	Version       string   `json:"version"`
	Layer         string   `json:"layer"`
	Arch          []string `json:"arch"`
	FIPS          bool     `json:"fips"`
	Size          int64    `json:"size"`
	ConflictsWith []string `json:"conflicts_with"`
}

// TestCompatMatchesContract checks every compat file against the match and
// compatibility rules evaluated pair by pair: an entry lists exactly the
// versions of other packs, of another layer or of the same multiple-choice
// layer, that catalog.Compatible rejects; its facets and size are the
// version's and its artifact's.
func TestCompatMatchesContract(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	c := s.catalog()
	files := 0
	for _, p := range c.Products {
		for _, r := range p.Releases {
			for _, cloud := range c.Clouds {
				files++
				f := catalog.NewFilter().With(catalog.SegProduct, p.ID).With(catalog.SegVersion, r.Version.Raw).With(catalog.SegCloud, cloud.ID)
				var offered []*catalog.PackVersion
				for _, v := range c.Versions {
					if v.Matches(c, f) {
						offered = append(offered, v)
					}
				}
				var doc struct {
					Product, Version, Cloud string
					Packs                   []compatEntry `json:"packs"`
				}
				name := fmt.Sprintf("compat/%s/%s/%s.json", p.ID, r.Version.Raw, cloud.ID)
				if err := json.Unmarshal([]byte(s.read(name)), &doc); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if doc.Product != p.ID || doc.Version != r.Version.Raw || doc.Cloud != cloud.ID {
					t.Errorf("%s: context %s/%s/%s", name, doc.Product, doc.Version, doc.Cloud)
				}
				if len(doc.Packs) != len(offered) {
					t.Errorf("%s: %d entries, want %d", name, len(doc.Packs), len(offered))
					continue
				}
				for i, v := range offered {
					e := doc.Packs[i]
					want := []string{}
					for _, o := range offered {
						otherPack := o.Pack.Name != v.Pack.Name
						choosable := o.Pack.Layer != v.Pack.Layer || c.Multiple(v.Pack.Layer)
						if otherPack && choosable && !catalog.Compatible(v, o) {
							want = append(want, o.ID())
						}
					}
					fi, err := os.Stat(s.out("artifacts/packs/" + v.Pack.Name + "/" + v.Pack.Name + "-" + v.Version.Raw + ".zst"))
					if err != nil {
						t.Fatal(err)
					}
					if e.Name != v.Pack.Name || e.Version != v.Version.Raw || e.Layer != v.Pack.Layer ||
						strings.Join(e.Arch, " ") != strings.Join(v.Arch, " ") || e.FIPS != v.FIPS || e.Size != fi.Size() ||
						strings.Join(e.ConflictsWith, " ") != strings.Join(want, " ") {
						t.Errorf("%s: entry %+v, want %s (size %d) conflicting with %v", name, e, v.ID(), fi.Size(), want)
					}
				}
			}
		}
	}
	// The catalog's rules must actually make conflicts here, across layers
	// and inside the multiple-choice add-on layer, or this test would pass
	// for a generator that ignores them.
	known := []struct{ file, entry, conflict string }{
		{"compat/palette/4.7.3/aws.json", `"name":"cni-calico","version":"3.27.0"`, `"kubernetes@1.32.3"`},
		{"compat/palette/4.7.3/vsphere.json", `"name":"addon-dashboard","version":"1.0.0"`, `"lb-metallb-helm@0.14.9"`},
		{"compat/palette/4.7.3/vsphere.json", `"name":"addon-dashboard","version":"2.0.0"`, `"lb-metallb-helm@0.13.12"`},
		{"compat/palette/4.7.3/vsphere.json", `"name":"lb-metallb-helm","version":"0.13.12"`, `"addon-dashboard@2.0.0"`},
	}
	for _, k := range known {
		doc := s.read(k.file)
		line := ""
		for _, l := range strings.Split(doc, "\n") {
			if strings.Contains(l, k.entry) {
				line = l
			}
		}
		if !strings.Contains(line, `"conflicts_with":[`) || !strings.Contains(line[strings.Index(line, `"conflicts_with"`):], k.conflict) {
			t.Errorf("%s: entry %s does not list %s:\n%s", k.file, k.entry, k.conflict, doc)
		}
	}
	if files != 9 {
		t.Errorf("%d compat files, want 9", files)
	}
}

// TestRulesInsideMultipleLayerOnPackPages checks that a pack page lists
// the rules of other add-ons about it, and not its own layer rule on the
// add-on layer as if another pack had made it.
func TestRulesInsideMultipleLayerOnPackPages(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	own := s.read("packs/addon-dashboard/index.html")
	if strings.Contains(own, "Rules of other packs about") {
		t.Errorf("the dashboard's page lists its own rule as another pack's:\n%s", own)
	}
	var cat struct {
		Layers []struct {
			ID       string
			Multiple bool
		}
	}
	if err := json.Unmarshal([]byte(s.read("catalog.json")), &cat); err != nil {
		t.Fatal(err)
	}
	var multiple []string
	for _, l := range cat.Layers {
		if l.Multiple {
			multiple = append(multiple, l.ID)
		}
	}
	if strings.Join(multiple, " ") != "addon" { // the last layer, as catalog.toml marks none
		t.Errorf("catalog.json marks %v multiple-choice, want the add-on layer", multiple)
	}
	metallb := s.read("packs/lb-metallb-helm/index.html")
	for _, want := range []string{"addon-dashboard 1.0.0</a> only with lb-metallb-helm <code>&lt;0.14</code>",
		"addon-dashboard 2.0.0</a> only with every Add-on pack <code>&gt;=0.14</code>"} {
		if !strings.Contains(metallb, want) {
			t.Errorf("metallb's page lacks %q", want)
		}
	}
}

// TestLinksResolve follows every href and src of every page: each must be
// relative, point at an explicit file (never a bare folder) and exist,
// resolved against the page's <base href> when it has one.
func TestLinksResolve(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	attr := regexp.MustCompile(`(?:href|src)="([^"]*)"`)
	baseTag := regexp.MustCompile(`<base href="([^"]*)">`)
	pages := 0
	for _, f := range s.files() {
		if !strings.HasSuffix(f, ".html") {
			continue
		}
		pages++
		doc := s.read(f)
		dir := path.Dir(f)
		if m := baseTag.FindStringSubmatch(doc); m != nil {
			dir = path.Join(dir, m[1])
			if strings.HasPrefix(dir, "..") {
				t.Errorf("%s: <base href=%q> leaves the tree", f, m[1])
			}
			doc = strings.Replace(doc, m[0], "", 1)
		}
		for _, m := range attr.FindAllStringSubmatch(doc, -1) {
			link := m[1]
			if strings.HasPrefix(link, "#") {
				if dir != path.Dir(f) {
					t.Errorf("%s: link %q would resolve against the <base>, not this page", f, link)
				}
				continue
			}
			if strings.HasPrefix(link, "data:image/") {
				continue // inline (the icon), nothing to fetch
			}
			if strings.Contains(link, "://") || strings.HasPrefix(link, "/") {
				t.Errorf("%s: link %q is not relative", f, link)
				continue
			}
			target := path.Join(dir, strings.SplitN(link, "#", 2)[0])
			if strings.HasSuffix(link, "/") || strings.HasPrefix(target, "..") {
				t.Errorf("%s: link %q does not name a file inside the tree", f, link)
				continue
			}
			if fi, err := os.Stat(s.out(target)); err != nil || fi.IsDir() {
				t.Errorf("%s: link %q → %s does not exist", f, link, target)
			}
		}
	}
	if pages < 400 {
		t.Errorf("only %d pages checked", pages)
	}
}

// TestSignaturesVerifyWithOpenSSL checks every signature of the tree with
// the openssl command line and every pack with zstd -t.
func TestSignaturesVerifyWithOpenSSL(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"openssl", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (make test installs it in CI)", tool)
		}
	}
	s := builtSite(t)
	sigs := 0
	for _, f := range s.files() {
		if !strings.HasSuffix(f, ".sig.bin") {
			continue
		}
		sigs++
		base := strings.TrimSuffix(f, ".sig.bin")
		art := base + ".zst"
		if _, err := os.Stat(s.out(art)); err != nil {
			art = base
		}
		out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", s.out("public_key.pem"), "-signature", s.out(f), s.out(art)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verified OK") {
			t.Errorf("openssl rejects %s for %s: %v %s", f, art, err, out)
		}
		if strings.HasSuffix(art, ".zst") {
			if out, err := exec.Command("zstd", "-t", s.out(art)).CombinedOutput(); err != nil {
				t.Errorf("zstd -t %s: %v %s", art, err, out)
			}
		}
	}
	// 11 pack versions, 2 bundles, 1 ISO, 1 chart, and the manifest.
	if sigs != 16 {
		t.Errorf("%d signatures, want 16", sigs)
	}
	pub, _ := os.ReadFile(s.pub)
	if got := s.read("public_key.pem"); got != string(pub) {
		t.Error("public_key.pem is not the signing key's public half")
	}
}

// TestRebuildRewritesNothing builds twice: the second build must write no
// file, re-pack and re-sign nothing and keep the manifest as it was.
func TestRebuildRewritesNothing(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	first := s.mustBuild()
	if first.PackTime <= 0 || first.RenderTime <= 0 {
		t.Errorf("a full build reports stage times pack %v, render %v; want both measured", first.PackTime, first.RenderTime)
	}
	before := snapshot(t, s.out(""))
	s.now = s.now.AddDate(0, 0, 1)
	second := s.mustBuild()
	if second.FilesWritten != 0 || second.Packed != 0 || second.Signed != 0 || second.ManifestChanged {
		t.Errorf("unchanged rebuild did work: %+v", second)
	}
	if second.ManifestVersion != first.ManifestVersion {
		t.Errorf("manifest version went from %d to %d", first.ManifestVersion, second.ManifestVersion)
	}
	if changed := snapshot(t, s.out("")).diff(before); len(changed) > 0 {
		t.Errorf("unchanged rebuild touched %v", changed)
	}
	// Removing the output keeps signatures: packing is deterministic and
	// the cache remembers what was signed.
	sig := s.read("artifacts/packs/ubuntu/ubuntu-22.04.sig.bin")
	os.RemoveAll(s.out(""))
	third := s.mustBuild()
	if third.Signed != 0 || s.read("artifacts/packs/ubuntu/ubuntu-22.04.sig.bin") != sig {
		t.Errorf("rebuilding into an empty folder re-signed (%d signed)", third.Signed)
	}
}

// TestChangeOnePack changes one pack version's source: only its artifact,
// its signature, the files that show its digest or size, and the manifest
// may change.
func TestChangeOnePack(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	first := s.mustBuild()
	before := snapshot(t, s.out(""))
	os.WriteFile(s.path("catalog/payload/metallb/values.yaml"), []byte("version: 0.14.9\npatched: true\n"), 0o644)
	s.now = s.now.AddDate(0, 0, 1)
	st := s.mustBuild()
	if st.Packed != 1 || st.Signed != 1 || !st.ManifestChanged || st.ManifestVersion <= first.ManifestVersion {
		t.Errorf("after one change: %+v", st)
	}
	changed := snapshot(t, s.out("")).diff(before)
	sort.Strings(changed)
	for _, f := range changed {
		switch {
		case strings.HasPrefix(f, "artifacts/packs/lb-metallb-helm/"), f == tree.ManifestName, f == tree.ManifestSigName:
		case strings.HasSuffix(f, "SHA256SUMS"), strings.HasPrefix(f, "packs/lb-metallb-helm/"), f == "catalog.json",
			strings.HasPrefix(f, "compat/"), // compat entries carry the artifact's size
			strings.HasPrefix(f, "bundle/"): // builder pages inline its size and digest
			if !strings.Contains(s.read(f), "lb-metallb-helm") {
				t.Errorf("%s changed but does not show the pack", f)
			}
		default:
			t.Errorf("%s changed, but it does not show the changed pack", f)
		}
	}
	// At most: each combination listing the pack (its SHA256SUMS), each
	// compat file and builder page offering it, plus the artifact, signature, pack page and
	// JSON, catalog.json and the manifest.
	listing := 0
	for _, f := range s.files() {
		browse := strings.HasSuffix(f, "/index.json") && strings.HasPrefix(f, "browse/")
		if (browse || strings.HasPrefix(f, "compat/") || strings.HasPrefix(f, "bundle/")) && strings.Contains(s.read(f), `"lb-metallb-helm"`) {
			listing++
		}
	}
	if len(changed) < 7 || len(changed) > listing+7 {
		t.Errorf("%d files changed, %d combinations list the pack: %v", len(changed), listing, changed)
	}
	if int64(len(changed)) != st.FilesWritten+2 { // manifest.json and its signature are not tree writes
		t.Errorf("changed %d files, stats say %d written", len(changed), st.FilesWritten)
	}
}

// TestStalePacksAreRemoved deletes a pack from the catalog: its files go
// away from the output after the new manifest is written.
func TestStalePacksAreRemoved(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.mustBuild()
	os.Remove(s.path("catalog/packs/dashboard.toml"))
	// The same output named the way a user may type it (--out ./public/).
	cfg, err := LoadConfig(filepath.Join(s.dir, "site.toml"), Overrides{Output: s.dir + "/./public/"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Build(context.Background(), Options{Config: cfg, Signer: s.signer, SigningKey: s.key, Jobs: 3, Now: func() time.Time { return s.now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"packs/addon-dashboard/index.html", "artifacts/packs/addon-dashboard/addon-dashboard-1.0.0.zst", "artifacts/packs/addon-dashboard/addon-dashboard-2.0.0.zst"} {
		if _, err := os.Stat(s.out(f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after its pack was removed", f)
		}
	}
	if _, err := os.Stat(s.out("artifacts/packs/addon-dashboard")); !errors.Is(err, os.ErrNotExist) {
		t.Error("empty folder of a removed pack left behind")
	}
	if st.Removed != 6 {
		t.Errorf("removed %d files, want 6 (two artifacts and signatures, page and JSON of the pack)", st.Removed)
	}
}

// TestPrivateKeyNeverInOutput scans every output byte for the private key,
// as PEM and as the raw scalar, and checks that a source that is the key
// is refused before anything is written.
func TestPrivateKeyNeverInOutput(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	keyPEM, _ := os.ReadFile(s.key)
	body := strings.Join(strings.Split(string(keyPEM), "\n")[1:3], "")
	for _, f := range s.files() {
		data, _ := os.ReadFile(s.out(f))
		if bytes.Contains(data, []byte(body)) || bytes.Contains(data, []byte("PRIVATE KEY")) {
			t.Errorf("%s holds the private key", f)
		}
		if strings.HasSuffix(f, ".zst") && bytes.Contains(data, []byte("site.pem")) {
			t.Errorf("%s mentions the key file", f)
		}
	}

	s2 := newSite(t)
	s2.edit("catalog/packs/metallb.toml", `source = "payload/metallb"`, `source = "../key/site.pem"`)
	_, err := s2.build()
	var ps catalog.Problems
	if !errors.As(err, &ps) || !strings.Contains(err.Error(), "metallb.toml:11: source ../key/site.pem") && !strings.Contains(err.Error(), "source "+s2.key+" is the private signing key") {
		t.Fatalf("a source naming the key was not refused: %v", err)
	}
	if _, err := os.Stat(s2.out("")); !errors.Is(err, os.ErrNotExist) {
		t.Error("output written although the build was refused")
	}
	s3 := newSite(t)
	s3.edit("catalog/packs/metallb.toml", `source = "payload/metallb"`, `source = "../key"`)
	if _, err := s3.build(); err == nil || !strings.Contains(err.Error(), "private signing key") {
		t.Fatalf("a source directory holding the key was not refused: %v", err)
	}
	// A source linked to a directory that holds the key under another name.
	s4 := newSite(t)
	hidden := filepath.Join(s4.dir, "elsewhere")
	os.Mkdir(hidden, 0o755)
	if err := os.Link(s4.key, filepath.Join(hidden, "values.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(hidden, filepath.Join(s4.dir, "catalog/payload/linked")); err != nil {
		t.Fatal(err)
	}
	s4.edit("catalog/packs/metallb.toml", `source = "payload/metallb"`, `source = "payload/linked"`)
	if _, err := s4.build(); err == nil || !strings.Contains(err.Error(), "private signing key") {
		t.Fatalf("a linked source directory holding the key was not refused: %v", err)
	}
}

func TestBadCatalogWritesNothing(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.edit("catalog/packs/ubuntu.toml", `clouds = ["aws", "vsphere"]`, `clouds = ["aws", "azure"]`)
	_, err := s.build()
	var ps catalog.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want catalog problems, got %v", err)
	}
	if !strings.Contains(err.Error(), "ubuntu.toml:9:") {
		t.Errorf("problem does not name file:line: %v", err)
	}
	for _, p := range []string{s.out(""), s.path(".cache")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was written although the catalog is bad", p)
		}
	}
}

func TestReadmeRawHTMLIsEscaped(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	page := s.read("packs/ubuntu/index.html")
	if strings.Contains(page, "<img src=x") || strings.Contains(page, "<b>OS</b>") {
		t.Error("raw HTML from a readme reached the page")
	}
	if !strings.Contains(page, "<table>") {
		t.Error("the readme's table was not rendered")
	}
	if strings.Contains(s.read("about/index.html"), "<script>") {
		t.Error("raw HTML from a content page reached the page")
	}
}

// snapshot records each file's inode and modification time: a file
// replaced by rename gets a new inode.
type snap map[string]string

func snapshot(t *testing.T, root string) snap {
	t.Helper()
	s := snap{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		s[filepath.ToSlash(rel)] = fmt.Sprintf("%v-%d", fileID(fi), fi.ModTime().UnixNano())
		return nil
	})
	return s
}

func (s snap) diff(old snap) []string {
	var out []string
	for f, id := range s {
		if old[f] != id {
			out = append(out, f)
		}
	}
	for f := range old {
		if _, ok := s[f]; !ok {
			out = append(out, f)
		}
	}
	return out
}

// TestConfigPathsAreRelativeToSiteToml: a file:// publish target is a path
// like the others, relative to site.toml unless absolute.
func TestConfigPathsAreRelativeToSiteToml(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for target, want := range map[string]string{
		"file://bucket":      "file://" + filepath.Join(dir, "bucket"),
		"file:///srv/bucket": "file:///srv/bucket",
		"s3://packs/site":    "s3://packs/site",
	} {
		file := filepath.Join(dir, "site.toml")
		os.WriteFile(file, []byte("title = \"t\"\nbase_url = \"https://x.example/\"\n[publish]\ntarget = \""+target+"\"\n"), 0o644)
		cfg, err := LoadConfig(file, Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Publish.Target != want || cfg.Output != filepath.Join(dir, "public") {
			t.Errorf("target %s: got %s (output %s), want %s", target, cfg.Publish.Target, cfg.Output, want)
		}
	}
}

// TestVerifyScriptQuotesValues renders verify-signatures.sh with a title
// and a key name that would run commands if pasted into the script as they
// are, runs it under sh, and checks that nothing ran and that it still
// verifies real signatures with openssl.
func TestVerifyScriptQuotesValues(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.edit("site.toml", `title = "Test packs"`, `title = "x\ntouch PWNED #'$(touch PWNED)'\"`+"`touch PWNED`"+`"`)
	cfg, err := LoadConfig(s.path("site.toml"), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	// LoadConfig refuses such a name; the script must be safe all the same.
	cfg.PublicKeyName = "k$(touch${IFS}PWNED).pem"
	if _, err := Build(context.Background(), Options{Config: cfg, Signer: s.signer, SigningKey: s.key, Jobs: 2, Now: func() time.Time { return s.now }}); err != nil {
		t.Fatal(err)
	}
	run := t.TempDir()
	dl := filepath.Join(run, "dl")
	os.Mkdir(dl, 0o755)
	for _, f := range []string{"artifacts/packs/ubuntu/ubuntu-20.04.zst", "artifacts/packs/ubuntu/ubuntu-20.04.sig.bin", cfg.PublicKeyName} {
		data, err := os.ReadFile(s.out(f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dl, path.Base(f)), data, 0o644)
	}
	cmd := exec.Command("sh", s.out("verify/verify-signatures.sh"), "dl")
	cmd.Dir = run
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK       ubuntu-20.04.zst") || !strings.Contains(string(out), "1 verified, 0 failed") {
		t.Errorf("the script does not verify the signature: %v\n%s", err, out)
	}
	for _, dir := range []string{run, dl, s.dir} {
		if _, err := os.Stat(filepath.Join(dir, "PWNED")); err == nil {
			t.Errorf("the script ran a command from the site's values (PWNED in %s):\n%s", dir, out)
		}
	}
}

// TestSourceReplacedKeepingSizeAndMtimeIsRepacked rewrites a file source and
// a file in a directory source with other bytes of the same size and puts
// their modification times back, as cp -p or tar x do: the rebuild must
// pack and sign the new bytes, not the cached artifact.
func TestSourceReplacedKeepingSizeAndMtimeIsRepacked(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.mustBuild()
	changes := []struct{ src, artifact, old, new string }{
		{"catalog/payload/ubuntu-20.04.img", "artifacts/packs/ubuntu/ubuntu-20.04.zst", "ubuntu 20.04 image stand-in", "UBUNTU 20.04 IMAGE TAMPERED"},
		{"catalog/payload/metallb/values.yaml", "artifacts/packs/lb-metallb-helm/lb-metallb-helm-0.14.9.zst", "version: 0.14.9", "version: 9.41.0"},
	}
	for _, c := range changes {
		fi, err := os.Stat(s.path(c.src))
		if err != nil {
			t.Fatal(err)
		}
		s.edit(c.src, c.old, c.new)
		if err := os.Chtimes(s.path(c.src), fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
		if after, _ := os.Stat(s.path(c.src)); after.Size() != fi.Size() || !after.ModTime().Equal(fi.ModTime()) {
			t.Fatal("size or mtime not kept")
		}
	}
	if st := s.mustBuild(); st.Packed != len(changes) {
		t.Errorf("packed %d artifacts, want the %d whose sources changed", st.Packed, len(changes))
	}
	dec, _ := zstd.NewReader(nil)
	for _, c := range changes {
		plain, err := dec.DecodeAll([]byte(s.read(c.artifact)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(plain, []byte(c.new)) || bytes.Contains(plain, []byte(c.old)) {
			t.Errorf("%s still holds the old bytes of %s", c.artifact, c.src)
		}
	}
}

// TestBuildWarnsOfAManifestReadersRefuse: a manifest larger than what
// mirror and verify read by default is reported, with its size.
func TestBuildWarnsOfAManifestReadersRefuse(t *testing.T) {
	s := newSite(t)
	st := s.mustBuild()
	if len(st.Warnings) != 0 || st.ManifestBytes == 0 {
		t.Fatalf("a small site: warnings %q, manifest bytes %d; want none and its size", st.Warnings, st.ManifestBytes)
	}
	s.manifestWarnSize = st.ManifestBytes - 1
	s.checkOutput = true
	st = s.mustBuild()
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "manifest.json is ") || !strings.Contains(st.Warnings[0], "--max-manifest-size") {
		t.Fatalf("manifest of %d bytes over a limit of %d: warnings %q, want one naming manifest.json and --max-manifest-size", st.ManifestBytes, s.manifestWarnSize, st.Warnings)
	}
}

// TestVersionGrowsAcrossCleanBuilds: a build from a clean checkout (no
// output, no cache) made later than an earlier build has a higher version,
// so a bucket or mirror holding the earlier one takes it as an update;
// a build within the same second still grows by one.
func TestVersionGrowsAcrossCleanBuilds(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	first := s.mustBuild().ManifestVersion
	if first < testNow.Unix() {
		t.Errorf("first version %d is below the build time %d", first, testNow.Unix())
	}
	s.edit("catalog/packs/ubuntu.toml", `description = "`, `description = "Changed. `)
	if v := s.mustBuild().ManifestVersion; v != first+1 {
		t.Errorf("a change in the same second: version %d, want %d", v, first+1)
	}
	for _, dir := range []string{"public", ".cache"} {
		if err := os.RemoveAll(s.path(dir)); err != nil {
			t.Fatal(err)
		}
	}
	s.now = testNow.Add(time.Hour)
	if v := s.mustBuild().ManifestVersion; v <= first+1 {
		t.Errorf("a clean build an hour later: version %d, not above the last build's %d", v, first+1)
	}
}
