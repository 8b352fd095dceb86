package oci_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/packstudio/packstudio/internal/testing/testenv"
	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
	"github.com/packstudio/packstudio/publish/oci"
)

// site is the generator's small test site, with its key written where
// --key can read it.
type site struct {
	*treetest.Site
	keyFile string
}

func newSite(t *testing.T) *site {
	s := treetest.NewSite(t)
	return &site{Site: s, keyFile: filepath.Join(s.Dir, "key", "site.pub.pem")}
}

func (s *site) push(t *testing.T, host string, o oci.PushOptions) (*oci.PushResult, error) {
	t.Helper()
	src, err := tree.OpenDir(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if o.KeyFile == "" {
		o.KeyFile = s.keyFile
	}
	if o.Username == "" && o.CAFile == "" {
		o.PlainHTTP = true
	}
	o.Getenv = func(string) string { return "" }
	return oci.Push(context.Background(), src, "oci://"+host+"/ps/site", o)
}

func (s *site) verify(t *testing.T, host string) *oci.Report {
	t.Helper()
	rep, err := oci.Verify(context.Background(), "oci://"+host+"/ps/site", oci.VerifyOptions{KeyFile: s.keyFile,
		Conn: oci.Conn{PlainHTTP: true, Getenv: func(string) string { return "" }}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// object is the manifest's entry for p.
func (s *site) object(t *testing.T, p string) tree.Object {
	t.Helper()
	o, ok := s.Manifest().Index()[p]
	if !ok {
		t.Fatalf("the test site has no %s", p)
	}
	return o
}

// oras runs the oras CLI, an OCI client that is not ours.
func oras(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(testenv.ORAS(t), args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no login of the developer's
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("oras %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatal(err)
	}
	return out
}

// counter is a proxy in front of the registry that counts the requests
// that write (blob uploads, manifest and tag PUTs, deletes).
type counter struct {
	mu     sync.Mutex
	writes []string
}

func countingProxy(t *testing.T, reg *testenv.Registry) (string, *counter) {
	u, _ := url.Parse(reg.URL())
	c := &counter{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			c.mu.Lock()
			c.writes = append(c.writes, r.Method+" "+r.URL.Path)
			c.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), c
}

func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.writes
	c.writes = nil
	return w
}

func TestPushThenORASReadsItBack(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	s := newSite(t)
	res, err := s.push(t, reg.Host, oci.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	refs := 0
	for _, o := range s.Manifest().Objects {
		if _, ok, _ := oci.RefOf(o.Path); ok {
			refs++
		}
	}
	if res.Tagged != refs || res.Unchanged != 0 {
		t.Fatalf("tagged %d, unchanged %d; want all %d artifacts tagged", res.Tagged, res.Unchanged, refs)
	}

	// A pack: one layer, the .zst itself under the manifest's digest.
	pack := s.object(t, "artifacts/packs/ubuntu/ubuntu-22.04.zst")
	var m struct {
		ArtifactType string
		Layers       []struct {
			MediaType, Digest string
			Size              int64
		}
		Annotations map[string]string
	}
	ref := reg.Host + "/ps/site/packs/ubuntu:22.04"
	if err := json.Unmarshal(oras(t, "manifest", "fetch", "--plain-http", ref), &m); err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != oci.ArtifactType || len(m.Layers) != 1 || m.Layers[0].Digest != "sha256:"+pack.SHA256 || m.Layers[0].Size != pack.Size {
		t.Fatalf("%s: %+v; want one layer sha256:%s of %d bytes", ref, m, pack.SHA256, pack.Size)
	}
	if m.Annotations["org.opencontainers.image.title"] != "ubuntu-22.04.zst" || m.Annotations["org.opencontainers.image.version"] != "22.04" ||
		m.Annotations["org.opencontainers.image.created"] == "" {
		t.Errorf("annotations %v", m.Annotations)
	}
	// Its signature is a referrer, and its bytes are the .sig.bin.
	var disc struct {
		Referrers []struct{ ArtifactType, Digest string } `json:"referrers"`
	}
	if err := json.Unmarshal(oras(t, "discover", "--plain-http", "--format", "json", ref), &disc); err != nil {
		t.Fatal(err)
	}
	if len(disc.Referrers) != 1 || disc.Referrers[0].ArtifactType != oci.SignatureArtifactType {
		t.Fatalf("referrers of %s: %+v; want one signature", ref, disc.Referrers)
	}
	pulled := t.TempDir()
	oras(t, "pull", "--plain-http", "-o", pulled, reg.Host+"/ps/site/packs/ubuntu@"+disc.Referrers[0].Digest)
	want, _ := os.ReadFile(filepath.Join(s.Public(), "artifacts/packs/ubuntu/ubuntu-22.04.sig.bin"))
	if got, err := os.ReadFile(filepath.Join(pulled, "ubuntu-22.04.sig.bin")); err != nil || string(got) != string(want) {
		t.Fatalf("pulled signature: %v (equal: %v)", err, string(got) == string(want))
	}

	// The chart is a Helm chart: Helm's config and layer media types.
	var chart struct {
		Config      struct{ MediaType string }
		Layers      []struct{ MediaType string }
		Annotations map[string]string
	}
	if err := json.Unmarshal(oras(t, "manifest", "fetch", "--plain-http", reg.Host+"/ps/site/releases/palette:4.6.2-helm"), &chart); err != nil {
		t.Fatal(err)
	}
	if chart.Config.MediaType != oci.HelmConfig || chart.Layers[0].MediaType != oci.HelmLayer {
		t.Errorf("chart: %+v; want Helm's media types", chart)
	}
	if v := chart.Annotations["org.opencontainers.image.version"]; v != "4.6.2" {
		t.Errorf("chart version annotation %q; want 4.6.2", v)
	}
	// The signed manifest is tagged with its version and latest, and pulls
	// back byte for byte.
	oras(t, "pull", "--plain-http", "-o", pulled, reg.Host+"/ps/site/packstudio-manifest:latest")
	raw, _ := os.ReadFile(filepath.Join(s.Public(), tree.ManifestName))
	if got, _ := os.ReadFile(filepath.Join(pulled, tree.ManifestName)); string(got) != string(raw) {
		t.Error("the pushed manifest.json differs from the site's")
	}

	if rep := s.verify(t, reg.Host); !rep.OK() || rep.Artifacts != refs || rep.Signatures != refs {
		t.Fatalf("verify after push: %+v", rep)
	}
}

func TestRepushSendsNothing(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	host, count := countingProxy(t, reg)
	s := newSite(t)
	res, err := s.push(t, host, oci.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := count.take(); len(w) == 0 || res.BlobsSent == 0 {
		t.Fatalf("first push wrote %d requests, %d blobs", len(w), res.BlobsSent)
	}
	res, err = s.push(t, host, oci.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := count.take(); len(w) != 0 {
		t.Fatalf("a second push of the same site wrote %d requests: %v", len(w), w)
	}
	if res.BlobsSent != 0 || res.Tagged != 0 || res.Unchanged == 0 {
		t.Fatalf("second push: %+v", res)
	}
}

func TestTamperedSourceIsRefusedBeforeAnyPush(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	host, count := countingProxy(t, reg)
	s := newSite(t)
	p := filepath.Join(s.Public(), "artifacts/packs/kubernetes/kubernetes-1.32.3.zst")
	data, _ := os.ReadFile(p)
	data[len(data)/2] ^= 1 // same size, other bytes
	os.WriteFile(p, data, 0o644)
	res, err := s.push(t, host, oci.PushOptions{})
	if !errors.Is(err, oci.ErrSourceFailed) {
		t.Fatalf("err = %v; want the source refused", err)
	}
	if len(res.Failures) != 1 || res.Failures[0].Path != "artifacts/packs/kubernetes/kubernetes-1.32.3.zst" || !strings.Contains(res.Failures[0].Reason, "tampered") {
		t.Fatalf("failures %v; want the one tampered pack", res.Failures)
	}
	if w := count.take(); len(w) != 0 {
		t.Fatalf("pushed before refusing: %v", w)
	}
}

func TestRollbackIsRefused(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	s := newSite(t)
	old := t.TempDir()
	treetest.CopyTree(t, s.Public(), old)
	readme := filepath.Join(s.Dir, "catalog/readme/ubuntu.md")
	data, _ := os.ReadFile(readme)
	os.WriteFile(readme, append(data, "\nChanged.\n"...), 0o644)
	s.Build()
	newer := s.Manifest().Version
	if _, err := s.push(t, reg.Host, oci.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	src, _ := tree.OpenDir(old)
	defer src.Close()
	_, err := oci.Push(context.Background(), src, "oci://"+reg.Host+"/ps/site", oci.PushOptions{KeyFile: s.keyFile,
		Conn: oci.Conn{PlainHTTP: true, Getenv: func(string) string { return "" }}})
	var refused *oci.RefusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "rollback") {
		t.Fatalf("pushing the older site: %v; want a refused rollback", err)
	}
	if rep := s.verify(t, reg.Host); !rep.OK() || rep.Manifest.Version != newer {
		t.Fatalf("after the refused rollback the registry holds version %d (%v); want %d", rep.Manifest.Version, rep.Failures, newer)
	}
}

func TestWrongCredentialsNameRegistryAndRepository(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true})
	s := newSite(t)
	_, err := s.push(t, reg.Host, oci.PushOptions{Conn: oci.Conn{Username: reg.Username, Password: "wrong", CAFile: reg.CACert}})
	var ae *oci.AccessError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("err = %v; want a 401 AccessError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "registry "+reg.Host) || !strings.Contains(msg, "repository ps/site/") {
		t.Fatalf("message %q does not name the registry and repository", msg)
	}
	// The same push with the right password, over TLS with --ca-file.
	if _, err := s.push(t, reg.Host, oci.PushOptions{Conn: oci.Conn{Username: reg.Username, Password: reg.Password, CAFile: reg.CACert}}); err != nil {
		t.Fatal(err)
	}
	// And from a docker auth file.
	auth := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(auth, []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+basic(reg.Username, reg.Password)+`"}}}`), 0o600)
	rep, err := oci.Verify(context.Background(), "oci://"+reg.Host+"/ps/site", oci.VerifyOptions{KeyFile: s.keyFile,
		Conn: oci.Conn{CAFile: reg.CACert, Getenv: func(k string) string { return map[string]string{"REGISTRY_AUTH_FILE": auth}[k] }}})
	if err != nil || !rep.OK() {
		t.Fatalf("verify with REGISTRY_AUTH_FILE: %v %v", err, rep)
	}
}

func basic(u, p string) string {
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth(u, p)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestVerifyCatchesTampering(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	s := newSite(t)
	if _, err := s.push(t, reg.Host, oci.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	// 1. The bytes of a layer replaced in the registry's storage.
	swapped := s.object(t, "artifacts/packs/cni-calico/cni-calico-3.29.2.zst")
	blob := filepath.Join(reg.Root, "docker/registry/v2/blobs/sha256", swapped.SHA256[:2], swapped.SHA256, "data")
	data, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	os.WriteFile(blob, data, 0o644)
	// 2. A tag pointed at another artifact, with another layer.
	other := filepath.Join(t.TempDir(), "kubernetes-1.30.11.zst")
	os.WriteFile(other, []byte("not the pack"), 0o644)
	cmd := exec.Command(testenv.ORAS(t), "push", "--plain-http", "--artifact-type", oci.ArtifactType, reg.Host+"/ps/site/packs/kubernetes:1.30.11", filepath.Base(other))
	cmd.Dir, cmd.Env = filepath.Dir(other), append(os.Environ(), "HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oras push: %v\n%s", err, out)
	}
	// 3. A signature referrer deleted.
	var disc struct {
		Referrers []struct{ Digest string } `json:"referrers"`
	}
	json.Unmarshal(oras(t, "discover", "--plain-http", "--format", "json", reg.Host+"/ps/site/packs/ubuntu:20.04"), &disc)
	if len(disc.Referrers) != 1 {
		t.Fatalf("ubuntu:20.04 has %d referrers", len(disc.Referrers))
	}
	oras(t, "manifest", "delete", "--plain-http", "--force", reg.Host+"/ps/site/packs/ubuntu@"+disc.Referrers[0].Digest)
	// 4. The bytes of a signature replaced in the registry's storage.
	sigObj := s.object(t, "artifacts/packs/kubernetes/kubernetes-1.32.3.sig.bin")
	sigBlob := filepath.Join(reg.Root, "docker/registry/v2/blobs/sha256", sigObj.SHA256[:2], sigObj.SHA256, "data")
	sigData, err := os.ReadFile(sigBlob)
	if err != nil {
		t.Fatal(err)
	}
	sigData[len(sigData)-1] ^= 1
	os.WriteFile(sigBlob, sigData, 0o644)
	// 5. An extra tag beside the site's.
	oras(t, "tag", "--plain-http", reg.Host+"/ps/site/packs/ubuntu:22.04", "stranger")

	rep := s.verify(t, reg.Host)
	got := map[string]string{}
	for _, f := range rep.Failures {
		got[strings.Fields(f.Path)[0]] = f.Reason
	}
	want := map[string]string{
		"artifacts/packs/cni-calico/cni-calico-3.29.2.zst":  "tampered: the registry serves",
		"artifacts/packs/kubernetes/kubernetes-1.30.11.zst": "tampered: the tag's layer is",
		"artifacts/packs/ubuntu/ubuntu-20.04.zst":           "missing: no signature referrer",
		"artifacts/packs/kubernetes/kubernetes-1.32.3.zst":  "tampered: the registry serves other bytes for artifacts/packs/kubernetes/kubernetes-1.32.3.sig.bin",
	}
	for p, w := range want {
		if !strings.HasPrefix(got[p], w) {
			t.Errorf("%s: %q; want %q…", p, got[p], w)
		}
	}
	if len(rep.Failures) != len(want) {
		t.Errorf("failures %v; want exactly %d", rep.Failures, len(want))
	}
	if len(rep.Extra) != 1 || rep.Extra[0] != "ps/site/packs/ubuntu:stranger" {
		t.Errorf("extra %v; want ps/site/packs/ubuntu:stranger", rep.Extra)
	}
}

func TestFilteredPushThenVerifyListsLeftOut(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	s := newSite(t)
	f := mirror.NewFilter().With("layer", "k8s")
	res, err := s.push(t, reg.Host, oci.PushOptions{Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tagged == 0 || res.LeftOut == 0 {
		t.Fatalf("filtered push: %+v", res)
	}
	rep := s.verify(t, reg.Host)
	if !rep.OK() || rep.Artifacts != res.Tagged || len(rep.LeftOut) != res.LeftOut {
		t.Fatalf("verify of a filtered push: %d artifacts, %d left out, failures %v; want %d and %d", rep.Artifacts, len(rep.LeftOut), rep.Failures, res.Tagged, res.LeftOut)
	}
	for _, p := range append([]string(nil), rep.LeftOut...) {
		if strings.HasPrefix(p, "artifacts/packs/kubernetes/") {
			t.Errorf("%s left out by a --layer k8s push", p)
		}
	}
}

// TestReferrersAPI pushes into a registry that has the referrers API
// (go-containerregistry's, in process): the signatures are found through
// it, and no referrers-schema tag is made.
func TestReferrersAPI(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	s := newSite(t)
	if _, err := s.push(t, host, oci.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if rep := s.verify(t, host); !rep.OK() || rep.Signatures == 0 || len(rep.Extra) != 0 {
		t.Fatalf("verify: %d signatures, failures %v, extra %v", rep.Signatures, rep.Failures, rep.Extra)
	}
	resp, err := http.Get(srv.URL + "/v2/ps/site/packs/ubuntu/tags/list")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tags struct{ Tags []string }
	json.NewDecoder(resp.Body).Decode(&tags)
	for _, tag := range tags.Tags {
		if strings.HasPrefix(tag, "sha256-") {
			t.Errorf("referrers-schema tag %s made on a registry with the referrers API", tag)
		}
	}
	if len(tags.Tags) != 2 {
		t.Errorf("tags %v; want the two ubuntu versions", tags.Tags)
	}
}

// TestFailedPushLeavesNothingHalfTagged cuts a push off part way (the
// registry refusing every write after a few, which a real registry does
// not do on demand): no tag points at an artifact without its signature,
// the manifest is not tagged, and the next push completes the rest
// without sending again what went in.
func TestFailedPushLeavesNothingHalfTagged(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	u, _ := url.Parse(reg.URL())
	rp := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	writes, limit := 0, 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			mu.Lock()
			writes++
			cut := writes > limit
			mu.Unlock()
			if cut {
				http.Error(w, `{"errors":[{"code":"DENIED","message":"cut off by the test"}]}`, http.StatusBadRequest)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	s := newSite(t)
	if _, err := s.push(t, host, oci.PushOptions{Jobs: 2}); err == nil {
		t.Fatal("the cut-off push succeeded")
	}
	resp, err := http.Get(reg.URL() + "/v2/ps/site/packstudio-manifest/tags/list")
	if err == nil {
		var tags struct{ Tags []string }
		json.NewDecoder(resp.Body).Decode(&tags)
		resp.Body.Close()
		if len(tags.Tags) != 0 {
			t.Fatalf("the manifest was tagged %v by a push that failed", tags.Tags)
		}
	}
	tagged := 0
	for _, o := range s.Manifest().Objects {
		r, ok, _ := oci.RefOf(o.Path)
		if !ok {
			continue
		}
		out, err := exec.Command(testenv.ORAS(t), "discover", "--plain-http", "--format", "json", reg.Host+"/ps/site/"+r.String()).Output()
		if err != nil {
			continue // not tagged
		}
		tagged++
		var disc struct {
			Referrers []struct{ ArtifactType string } `json:"referrers"`
		}
		json.Unmarshal(out, &disc)
		if len(disc.Referrers) != 1 || disc.Referrers[0].ArtifactType != oci.SignatureArtifactType {
			t.Errorf("%s is tagged without its signature referrer: %s", r, out)
		}
	}
	if tagged == 0 {
		t.Fatal("nothing was tagged before the cut: the test cuts too early to show anything")
	}

	mu.Lock()
	limit = 1 << 30
	mu.Unlock()
	res, err := s.push(t, host, oci.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Unchanged != tagged {
		t.Errorf("the second push found %d artifacts already there; %d were tagged before the cut", res.Unchanged, tagged)
	}
	if rep := s.verify(t, host); !rep.OK() {
		t.Fatalf("after the completed push: %v", rep.Failures)
	}
}
