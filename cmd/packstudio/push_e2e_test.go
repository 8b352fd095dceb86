package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/packstudio/packstudio/internal/testing/testenv"
	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/oci"
)

// cliStdin is cli with standard input.
func cliStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PACKSTUDIO_TEST_MAIN=1", "HOME="+t.TempDir(), "REGISTRY_AUTH_FILE=", "DOCKER_CONFIG=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// TestPushAndVerifyOCICommands runs push and verify oci:// as a user
// does: a registry with a login over TLS, the password on stdin.
func TestPushAndVerifyOCICommands(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true})
	s := treetest.NewSite(t)
	pub := filepath.Join(s.Dir, "key", "site.pub.pem")
	target := "oci://" + reg.Host + "/team/packs"
	login := []string{"--key", pub, "--ca-file", reg.CACert, "--username", reg.Username, "--password-stdin"}

	// Blobs over 256 KiB (the test site has some) go in chunks: their
	// PATCHes carry the login too, over TLS.
	r := cliStdin(t, reg.Password+"\n", append([]string{"push", s.Public(), target, "--chunk-size", "256KiB"}, login...)...).must(t)
	if !strings.Contains(r.stdout, "pushed "+s.Public()) || !strings.Contains(r.stdout, "0 already there") {
		t.Fatalf("push said:\n%s", r.stdout)
	}
	r = cliStdin(t, reg.Password+"\n", append([]string{"verify", target}, login...)...).must(t)
	if !strings.Contains(r.stdout, "verified manifest version") {
		t.Fatalf("verify said:\n%s", r.stdout)
	}

	r = cliStdin(t, "wrong\n", append([]string{"push", s.Public(), target}, login...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "registry "+reg.Host) || !strings.Contains(r.stderr, "repository team/packs/") {
		t.Fatalf("wrong password: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, bad := range [][]string{
		{"push", s.Public(), "oci://"},
		{"push", s.Public(), "oci://" + reg.Host + "/Upper/Case", "--key", pub},
		{"push", s.Public(), target, "--key", pub, "--username", "u"},
		{"push", s.Public(), target, "--key", pub, "--chunk-size", "0"},
		{"push", s.Public(), target, "--key", pub, "--chunk-size", "big"},
		{"verify", target, "--ca-file", reg.CACert},
	} {
		if r := cliStdin(t, "", bad...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s%s", bad, r.code, r.stdout, r.stderr)
		}
	}
}

// uploadLog is a proxy in front of a registry that records each blob
// upload the registry completed (a PUT with ?digest= answered 201), by
// repository and digest, and counts chunk PATCHes; slow delays every
// write, onTag runs after each artifact tag the registry took and
// onPatch before each PATCH goes on to the registry.
type uploadLog struct {
	mu      sync.Mutex
	done    []string // "repository@digest"
	patches int
	tags    int
	slow    time.Duration
	onTag   func(n int)
	onPatch func(n int)
}

func (l *uploadLog) proxy(t *testing.T, reg *testenv.Registry) string {
	u, _ := url.Parse(reg.URL())
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			time.Sleep(l.slow)
		}
		if r.Method == http.MethodPatch {
			l.mu.Lock()
			l.patches++
			n := l.patches
			l.mu.Unlock()
			if l.onPatch != nil {
				l.onPatch(n)
			}
		}
		rec := &statusWriter{ResponseWriter: w}
		rp.ServeHTTP(rec, r)
		if rec.status != http.StatusCreated || r.Method != http.MethodPut {
			return
		}
		repo, _, upload := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/blobs/uploads/")
		_, ref, manifest := strings.Cut(r.URL.Path, "/manifests/")
		l.mu.Lock()
		defer l.mu.Unlock()
		switch {
		case upload:
			l.done = append(l.done, repo+"@"+r.URL.Query().Get("digest"))
		case manifest && !strings.HasPrefix(ref, "sha256") && !strings.Contains(r.URL.Path, oci.ManifestRepo):
			l.tags++
			if l.onTag != nil {
				l.onTag(l.tags)
			}
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func (l *uploadLog) taken() ([]string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.done...), l.patches
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// TestPushKilledResumes kills push with SIGKILL part way through a slow
// link, at two points: right after an artifact's tag went in while other
// artifacts' blobs are going in, and in the middle of the ISO's chunked
// upload. Each time every tag there after the kill names a complete
// artifact with its signature referrer and the manifest is not tagged
// (README: a push that is killed leaves no tag pointing at something
// incomplete and the old latest in place); the push run again completes
// without sending any blob the killed one completed, and verify passes.
func TestPushKilledResumes(t *testing.T) {
	iso := bytes.Repeat([]byte("packstudio iso "), 300_000) // 4.5 MB: five chunks of 1 MiB
	s := treetest.NewSiteWith(t, map[string][]byte{"catalog/releases/appliance.iso": iso})
	pub := filepath.Join(s.Dir, "key", "site.pub.pem")

	for _, round := range []struct {
		name string
		arm  func(l *uploadLog, kill func())
	}{
		{"after the 4th tag", func(l *uploadLog, kill func()) {
			l.onTag = func(n int) {
				if n == 4 {
					kill()
				}
			}
		}},
		{"mid-chunk", func(l *uploadLog, kill func()) {
			l.onPatch = func(n int) {
				if n == 3 { // the ISO's third chunk, not forwarded
					kill()
				}
			}
		}},
	} {
		t.Run(round.name, func(t *testing.T) {
			reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
			killed := &uploadLog{slow: 30 * time.Millisecond}
			cmd := exec.Command(os.Args[0], "push", s.Public(), "oci://"+killed.proxy(t, reg)+"/team/packs", "--key", pub, "--plain-http", "--chunk-size", "1MiB", "--jobs", "4")
			cmd.Env = append(os.Environ(), "PACKSTUDIO_TEST_MAIN=1", "HOME="+t.TempDir(), "REGISTRY_AUTH_FILE=", "DOCKER_CONFIG=")
			var once sync.Once
			round.arm(killed, func() { once.Do(func() { cmd.Process.Signal(syscall.SIGKILL) }) })
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("push was not killed part way: %v", err)
			}
			before, killedPatches := killed.taken()

			tagged := checkNothingHalfTagged(t, reg, s)

			rerun := &uploadLog{}
			target := "oci://" + rerun.proxy(t, reg) + "/team/packs"
			r := cliStdin(t, "", "push", s.Public(), target, "--key", pub, "--plain-http", "--chunk-size", "1MiB").must(t)
			if !strings.Contains(r.stdout, fmt.Sprintf("%d already there", tagged)) {
				t.Errorf("%d artifacts were tagged before the kill; the rerun said:\n%s", tagged, r.stdout)
			}
			after, patches := rerun.taken()
			if len(after) == 0 {
				t.Fatal("the rerun sent no blob: the kill came after the work was done")
			}
			sent := map[string]bool{}
			for _, b := range before {
				sent[b] = true
			}
			for _, b := range after {
				if sent[b] {
					t.Errorf("the rerun sent %s again; the killed push had completed it", b)
				}
			}
			t.Logf("killed after %d blobs and %d chunk PATCHes (%d artifacts tagged); the rerun sent %d blobs with %d chunk PATCHes", len(before), killedPatches, tagged, len(after), patches)
			cliStdin(t, "", "verify", target, "--key", pub, "--plain-http").must(t)
			// The ISO went in chunks of 1 MiB, in one run or the other.
			if patches+killedPatches < 5 {
				t.Errorf("%d chunk PATCHes in both runs; the %d-byte ISO is five chunks of 1 MiB", patches+killedPatches, len(iso))
			}
		})
	}
}

// checkNothingHalfTagged reads the registry as a client would after a
// killed push: the site manifest has no tag, and every artifact tag there
// holds the site's layer (its blob present) and a signature referrer
// whose layer is the site's .sig.bin (present too). It returns how many
// artifacts are tagged.
func checkNothingHalfTagged(t *testing.T, reg *testenv.Registry, s *treetest.Site) int {
	t.Helper()
	ctx := context.Background()
	open := func(name string) *remote.Repository {
		repo, err := remote.NewRepository(reg.Host + "/team/packs/" + name)
		if err != nil {
			t.Fatal(err)
		}
		repo.PlainHTTP = true
		return repo
	}
	if _, err := open(oci.ManifestRepo).Resolve(ctx, oci.LatestTag); err == nil {
		t.Error("the killed push tagged the site manifest")
	}
	idx := s.Manifest().Index()
	tagged := 0
	for _, o := range s.Manifest().Objects {
		ref, ok, _ := oci.RefOf(o.Path)
		if !ok {
			continue
		}
		repo := open(ref.Repo)
		desc, err := repo.Resolve(ctx, ref.Tag)
		if errors.Is(err, errdef.ErrNotFound) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		tagged++
		layer := layerOf(t, repo, desc)
		if layer.Digest.Encoded() != o.SHA256 || layer.Size != o.Size {
			t.Errorf("%s holds layer %s of %d bytes; the site's %s is sha256:%s of %d", ref, layer.Digest, layer.Size, o.Path, o.SHA256, o.Size)
		}
		if ok, err := repo.Blobs().Exists(ctx, layer); !ok || err != nil {
			t.Errorf("%s is tagged but its layer blob is not in the registry (%v)", ref, err)
		}
		sig := idx[tree.SigPath(o.Path)]
		found := false
		repo.Referrers(ctx, desc, oci.SignatureArtifactType, func(rs []ocispec.Descriptor) error {
			for _, r := range rs {
				if l := layerOf(t, repo, r); l.Digest.Encoded() == sig.SHA256 {
					ok, _ := repo.Blobs().Exists(ctx, l)
					found = found || ok
				}
			}
			return nil
		})
		if !found {
			t.Errorf("%s is tagged without its signature referrer (%s)", ref, sig.Path)
		}
	}
	if tagged == 0 {
		t.Fatal("nothing was tagged before the kill: the test kills too early to show anything")
	}
	return tagged
}

// layerOf reads an image manifest's one layer.
func layerOf(t *testing.T, repo *remote.Repository, d ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	rc, err := repo.Fetch(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var m ocispec.Manifest
	if err := json.NewDecoder(rc).Decode(&m); err != nil || len(m.Layers) != 1 {
		t.Fatalf("manifest %s: %v, %d layers", d.Digest, err, len(m.Layers))
	}
	return m.Layers[0]
}
