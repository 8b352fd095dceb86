package generator

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBuildRegistry builds the registry fixture (catalog/testdata/registry,
// declared with [[registry]] in its catalog.toml) into a site: the packs'
// JSON carries images, charts, kinds and upgrade paths; the disabled pack
// is not published; pages say rules in words and list deprecated versions
// last, badged; compat files list needs and not-supported conflicts.
func TestBuildRegistry(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	if err := os.RemoveAll(s.path("catalog")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(s.path("catalog"), os.DirFS(filepath.Join("..", "catalog", "testdata", "registry", "catalog"))); err != nil {
		t.Fatal(err)
	}
	s.mustBuild()

	var argo struct {
		Versions []struct {
			Version     string
			FIPS        bool
			Images      []string
			Charts      []struct{ Repo, Name, Version string }
			UpgradeFrom []struct{ Pack, Versions string } `json:"upgrade_from"`
		}
	}
	if err := json.Unmarshal([]byte(s.read("packs/argo-cd/index.json")), &argo); err != nil {
		t.Fatal(err)
	}
	if len(argo.Versions) != 2 {
		t.Fatalf("argo-cd: %d versions, want 3.26.7 and 3.27.0", len(argo.Versions))
	}
	v := argo.Versions[1]
	if v.Version != "3.27.0" || !v.FIPS || strings.Join(v.Images, " ") != "quay.io/argoproj/argocd:v3.0.6 ghcr.io/dexidp/dex:v2.41.1" ||
		len(v.Charts) != 1 || v.Charts[0].Name != "argo-cd" || v.Charts[0].Version != "7.8.2" ||
		len(v.UpgradeFrom) != 1 || v.UpgradeFrom[0].Versions != "<=3.26.7" {
		t.Errorf("argo-cd 3.27.0 record: %+v", v)
	}

	cat := s.read("catalog.json")
	for _, want := range []string{`"kind": "required"`, `"kind": "not-supported"`, `"deprecated": true`, `"docs_url": "https://argo-cd.readthedocs.io/"`, `"images": [`} {
		if !strings.Contains(cat, want) {
			t.Errorf("catalog.json lacks %s", want)
		}
	}
	if strings.Contains(cat, "legacy-tool") {
		t.Error("catalog.json lists legacy-tool, whose pack.json says disabled")
	}
	if _, err := os.Stat(s.out("packs/legacy-tool/index.html")); !os.IsNotExist(err) {
		t.Errorf("legacy-tool has a page: %v", err)
	}
	if _, err := os.Stat(s.out("artifacts/packs/akuity-agent/akuity-agent-0.30.0-5.5.2026.zst")); err != nil {
		t.Errorf("akuity-agent's artifact: %v", err)
	}

	words := map[string][]string{
		"packs/elasticsearch/index.html":    {`needs <a href="../../packs/elastic-operator/index.html">Elastic Operator</a> 3.3.2 or later`},
		"packs/argo-cd/index.html":          {`upgrades from Argo CD 3.26.7 and earlier`, `<li><code>ghcr.io/dexidp/dex:v2.41.1</code></li>`, `<code>argo-cd 7.8.2</code> from <code>https://argoproj.github.io/argo-helm</code>`, `<a href="https://argo-cd.readthedocs.io/">`},
		"packs/akuity-agent/index.html":     {`not with <a href="../../packs/argo-cd/index.html">Argo CD</a> 3.27 or later`},
		"packs/cni-calico/index.html":       {`needs <a href="../../packs/kubernetes/index.html">Kubernetes</a> 1.29 to 1.30`},
		"packs/csi-aws-ebs/index.html":      {`only with <a href="../../packs/kubernetes/index.html">Kubernetes</a> 1.30 or later`},
		"packs/elastic-operator/index.html": {`elastic-operator 2.9.0 <span class="tag">deprecated</span>`},
	}
	for page, wants := range words {
		html := s.read(page)
		for _, want := range wants {
			if !strings.Contains(html, want) {
				t.Errorf("%s lacks %s", page, want)
			}
		}
	}
	eo := s.read("packs/elastic-operator/index.html")
	if strings.Index(eo, `id="h-3.3.2"`) > strings.Index(eo, `id="h-2.9.0"`) {
		t.Error("elastic-operator: the deprecated 2.9.0 comes before the current 3.3.2")
	}

	compat := s.read("compat/palette/4.7.0/aws.json")
	for _, want := range []string{
		`{"name":"elasticsearch","version":"2.0.1-up.1","layer":"addon","arch":["amd64","arm64"],"fips":false,"size":`,
		`"conflicts_with":[],"needs":[["elastic-operator@3.3.2"]]}`,
		`"conflicts_with":[],"needs":[["kubernetes@1.29.4","kubernetes@v1.30.2"]]}`,
	} {
		if !strings.Contains(compat, want) {
			t.Errorf("compat/palette/4.7.0/aws.json lacks %s:\n%s", want, compat)
		}
	}
	if !regexp.MustCompile(`"name":"akuity-agent",[^\n]*"conflicts_with":\["argo-cd@3.27.0"\]`).MatchString(compat) {
		t.Errorf("akuity-agent does not conflict with argo-cd 3.27.0 (not-supported):\n%s", compat)
	}
}

// TestRegistryRebuild checks that a build which skips unchanged work
// watches registry folders: adding a pack version folder, or a values.yaml
// to one, makes the next build a full one that shows it.
func TestRegistryRebuild(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	os.RemoveAll(s.path("catalog"))
	if err := os.CopyFS(s.path("catalog"), os.DirFS(filepath.Join("..", "catalog", "testdata", "registry", "catalog"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(racyWindow + 50*time.Millisecond) // so that the build may record its inputs
	s.armed(buildSetup{})

	folder := s.path("catalog/registry/addons/extra-1.0.0")
	os.MkdirAll(folder, 0o755)
	os.WriteFile(filepath.Join(folder, "pack.json"), []byte(`{"name": "extra", "version": "1.0.0", "layer": "addon", "cloudTypes": ["all"]}`), 0o644)
	time.Sleep(racyWindow + 50*time.Millisecond)
	if st := s.buildWith(buildSetup{}); st.UpToDate {
		t.Fatal("a new pack version folder in a nested registry folder went unnoticed")
	}
	if _, err := os.Stat(s.out("packs/extra/index.html")); err != nil {
		t.Error(err)
	}
	if st := s.buildWith(buildSetup{}); !st.UpToDate {
		t.Fatal("a rebuild with nothing changed did not find everything as it was")
	}
	os.WriteFile(filepath.Join(folder, "values.yaml"), []byte("pack:\n  content:\n    images:\n      - image: example.com/extra:1.0.0\n"), 0o644)
	time.Sleep(racyWindow + 50*time.Millisecond)
	if st := s.buildWith(buildSetup{}); st.UpToDate {
		t.Fatal("a values.yaml added to a pack version folder went unnoticed")
	}
	if !strings.Contains(s.read("packs/extra/index.json"), "example.com/extra:1.0.0") {
		t.Error("packs/extra/index.json lacks the image of the new values.yaml")
	}
}
