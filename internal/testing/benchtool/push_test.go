package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/packstudio/packstudio/internal/testing/testenv"
	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/oci"
)

// The oras peer must push the very files ours does, where ours puts them:
// every artifact tagged as push tags it, its layer the published file, and
// its signature as a referrer (attach) or a second layer (layers).
func TestPeerPushesWhatPushSends(t *testing.T) {
	site := treetest.NewSite(t)
	set, err := readPushSet(site.Public())
	if err != nil {
		t.Fatal(err)
	}
	if len(set.refs) == 0 {
		t.Fatal("the test site has no artifacts to push")
	}
	if err := set.writePeerFiles(site.Dir); err != nil {
		t.Fatal(err)
	}
	orasBin := testenv.ORAS(t)
	idx := site.Manifest().Index()
	for _, mode := range []string{"attach", "layers"} {
		t.Run(mode, func(t *testing.T) {
			reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
			env := []string{"REGISTRY=" + reg.Host, "ORAS=" + orasBin, "PEER=" + mode, "JOBS=2"}
			if r := measure(site.Dir, env, "peer", "sh", "-c", peerLoop); r.err != nil {
				t.Fatal(r.err)
			}
			if err := checkTags(reg.Root, set); err != nil {
				t.Fatal(err)
			}
			for _, r := range set.refs {
				ref := reg.Host + "/bench/" + r.String()
				var m ocispec.Manifest
				orasJSON(t, &m, orasBin, "manifest", "fetch", "--plain-http", ref)
				obj, sig := idx[r.Path], idx[tree.SigPath(r.Path)]
				if m.Layers[0].Digest.Encoded() != obj.SHA256 || m.Layers[0].Size != obj.Size {
					t.Errorf("%s: layer %s (%d bytes), want the published file %s (%d bytes)", ref, m.Layers[0].Digest, m.Layers[0].Size, obj.SHA256, obj.Size)
				}
				sigDigests := map[string]bool{}
				switch mode {
				case "attach":
					var d struct{ Referrers []ocispec.Descriptor }
					orasJSON(t, &d, orasBin, "discover", "--plain-http", "--format", "json", ref)
					for _, rr := range d.Referrers {
						if rr.ArtifactType == oci.SignatureArtifactType {
							var sm ocispec.Manifest
							orasJSON(t, &sm, orasBin, "manifest", "fetch", "--plain-http", reg.Host+"/bench/"+r.Repo+"@"+rr.Digest.String())
							sigDigests[sm.Layers[0].Digest.Encoded()] = true
						}
					}
				case "layers":
					if len(m.Layers) == 2 {
						sigDigests[m.Layers[1].Digest.Encoded()] = true
					}
				}
				if !sigDigests[sig.SHA256] {
					t.Errorf("%s: no signature %s pushed with it (%s)", ref, sig.Path, mode)
				}
			}
		})
	}
}

func orasJSON(t *testing.T, v any, orasBin string, args ...string) {
	t.Helper()
	out, err := exec.Command(orasBin, args...).Output()
	if err != nil {
		t.Fatalf("oras %s: %v", strings.Join(args, " "), err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("oras %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// checkTags is what keeps a run that pushed less from passing as fast.
func TestCheckTagsNamesAMissingTag(t *testing.T) {
	set := &pushSet{refs: []oci.Ref{{Repo: "packs/a", Tag: "1.0.0"}, {Repo: "packs/b", Tag: "2.0.0"}}, manifest: "packstudio-manifest:7,latest"}
	root := t.TempDir()
	tags := func(repo string) string {
		return filepath.Join(root, "docker", "registry", "v2", "repositories", "bench", repo, "_manifests", "tags")
	}
	for _, rt := range []string{"packs/a/1.0.0", "packs/b/2.0.0", "packstudio-manifest/7", "packstudio-manifest/latest"} {
		repo, tag := filepath.Split(rt)
		if err := writeFile(filepath.Join(tags(repo), tag, "current", "link"), "sha256:x"); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkTags(root, set); err != nil {
		t.Fatalf("every tag is there: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(tags("packs/b"), "2.0.0")); err != nil {
		t.Fatal(err)
	}
	err := checkTags(root, set)
	if err == nil || !strings.Contains(err.Error(), "lacks 1 of 4 tags, e.g. packs/b:2.0.0") {
		t.Fatalf("checkTags = %v, want it to name packs/b:2.0.0", err)
	}
}

// The request counts come from the registry's own log, in the format the
// registry we run writes.
func TestRequestCountsReadTheRegistryLog(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	before := requestCounts(reg.Log())
	for _, method := range []string{"GET", "HEAD", "HEAD", "PUT"} {
		req, _ := http.NewRequest(method, reg.URL()+"/v2/bench/x/manifests/1.0", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	after := requestCounts(reg.Log())
	for method, want := range map[string]int{"GET": 1, "HEAD": 2, "PUT": 1} {
		if got := after[method] - before[method]; got != want {
			t.Errorf("%s requests counted: %d, want %d (log:\n%s)", method, got, want, reg.Log())
		}
	}
}

func TestCheckPushOutput(t *testing.T) {
	const full = "pushed public version 3 to oci://127.0.0.1:5000/bench: 68 artifacts tagged, 0 already there; sent 178 blobs (5.7 MiB) in 4.566s\n"
	const again = "pushed public version 3 to oci://127.0.0.1:5000/bench: 0 artifacts tagged, 68 already there; sent 0 blobs (0 B) in 1.454s\n"
	for _, c := range []struct {
		out       string
		unchanged bool
		ok        bool
	}{
		{full, false, true},
		{again, true, true},
		{full, true, false},   // a "re-push" that sent everything again
		{again, false, false}, // a "full push" into a registry that had it all
		{strings.Replace(full, "68 artifacts", "67 artifacts", 1), false, false},
		{"verify source: 0/68 objects done\n", false, false},
	} {
		if err := checkPushOutput([]byte(c.out), c.unchanged, 68); (err == nil) != c.ok {
			t.Errorf("checkPushOutput(%q, unchanged %v) = %v, want ok %v", c.out, c.unchanged, err, c.ok)
		}
	}
}

func TestVerdict(t *testing.T) {
	for _, c := range []struct {
		median, target float64
		want           string
	}{
		{0.5, pushTarget, "✓"},
		{0.8, pushTarget, "✓"},
		{0.81, pushTarget, "✗"},
		{0.05, repushTarget, "✓"},
		{0.3, repushTarget, "✗"},
	} {
		if got := verdict(c.median, c.target); got != c.want {
			t.Errorf("verdict(%v, %v) = %s, want %s", c.median, c.target, got, c.want)
		}
	}
}
