package main

import (
	"fmt"
	"github.com/packstudio/packstudio/internal/tree"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/testing/testenv"
	"github.com/packstudio/packstudio/publish/mirror"
)

// serveCLI runs `packstudio serve DIR` on a free port and returns its URL.
func serveCLI(t *testing.T, dir string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(os.Args[0], "serve", "--dir", dir, "--addr", addr)
	cmd.Env = append(os.Environ(), "PACKSTUDIO_TEST_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + addr + "/index.html"); err == nil {
			resp.Body.Close()
			return "http://" + addr + "/"
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("packstudio serve did not come up on %s", addr)
	return ""
}

// sameFiles compares two trees, leaving out mirror bookkeeping.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	read := func(root string) map[string]string {
		out := map[string]string{}
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() && rel == mirror.StateDir {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() {
				data, _ := os.ReadFile(p)
				out[filepath.ToSlash(rel)] = string(data)
			}
			return nil
		})
		return out
	}
	ta, tb := read(a), read(b)
	if len(ta) != len(tb) {
		t.Fatalf("%s has %d files, %s %d", a, len(ta), b, len(tb))
	}
	for p, data := range ta {
		if tb[p] != data {
			t.Fatalf("%s differs between %s and %s", p, a, b)
		}
	}
}

// TestMirrorFromEverySource mirrors the built site served by packstudio
// serve, by an independent static file server, and from a MinIO bucket
// filled by publish: each copy verifies and equals the built tree.
func TestMirrorFromEverySource(t *testing.T) {
	m := testenv.SharedMinIO(t)
	dir := builtSite(t)
	public := filepath.Join(dir, "public")
	static := httptest.NewServer(http.FileServer(http.Dir(public)))
	defer static.Close()
	target := s3Target(t, m)
	cli(t, dir, m.Env(), "publish", "--to", target, "--endpoint", m.Endpoint).must(t)

	sources := map[string][]string{
		"packstudio serve": {serveCLI(t, public)},
		"static server":    {static.URL + "/"},
		"minio":            {target, "--endpoint", m.Endpoint},
		"file":             {"file://" + public},
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "mirror")
			args := append([]string{"mirror", src[0], dest, "--key", "key/site.pub.pem"}, src[1:]...)
			r := cli(t, dir, m.Env(), args...).must(t)
			if !regexp.MustCompile(`fetched \d+ objects .*skipped 0 already there`).MatchString(r.stdout) {
				t.Errorf("summary: %s", r.stdout)
			}
			cli(t, dir, nil, "verify", "--key", "key/site.pub.pem", dest).must(t)
			sameFiles(t, public, dest)
			again := cli(t, dir, m.Env(), args...).must(t)
			if !strings.Contains(again.stdout, "fetched 0 objects") {
				t.Errorf("second mirror: %s", again.stdout)
			}
		})
	}
}

// TestMirrorRefusals checks tamper, rollback and expiry from the command
// line: exit 1, the reason named, nothing unverified written.
func TestMirrorRefusals(t *testing.T) {
	dir := builtSite(t)
	public := filepath.Join(dir, "public")
	old := filepath.Join(t.TempDir(), "v1")
	if err := os.CopyFS(old, os.DirFS(public)); err != nil {
		t.Fatal(err)
	}
	// Version 2 of the site, mirrored.
	os.WriteFile(filepath.Join(dir, "catalog/payload/k3s/values.yaml"), []byte("v2\n"), 0o644)
	cli(t, dir, nil, "build").must(t)
	dest := filepath.Join(t.TempDir(), "mirror")
	cli(t, dir, nil, "mirror", "file://"+public, dest, "--key", "key/site.pub.pem").must(t)

	r := cli(t, dir, nil, "mirror", "file://"+old, dest, "--key", "key/site.pub.pem")
	if r.code != 1 || !strings.Contains(r.stderr, "rollback") {
		t.Errorf("rollback: exit %d\n%s", r.code, r.stderr)
	}
	cli(t, dir, nil, "verify", "--key", "key/site.pub.pem", dest).must(t)

	tampered := filepath.Join(t.TempDir(), "tampered")
	os.CopyFS(tampered, os.DirFS(public))
	victim := filepath.Join(tampered, "artifacts/packs/edge-k3s/edge-k3s-1.33.5.zst")
	data, _ := os.ReadFile(victim)
	data[len(data)/2] ^= 1
	os.WriteFile(victim, data, 0o644)
	fresh := filepath.Join(t.TempDir(), "fresh")
	r = cli(t, dir, nil, "mirror", "file://"+tampered, fresh, "--key", "key/site.pub.pem")
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL artifacts/packs/edge-k3s/edge-k3s-1.33.5.zst: tampered") {
		t.Errorf("tamper: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(fresh, "artifacts/packs/edge-k3s/edge-k3s-1.33.5.zst")); err == nil {
		t.Error("the tampered artifact was put in place")
	}

	cli(t, dir, nil, "renew", "--ttl", "1s").must(t)
	time.Sleep(1100 * time.Millisecond)
	expired := filepath.Join(t.TempDir(), "expired")
	r = cli(t, dir, nil, "mirror", "file://"+public, expired, "--key", "key/site.pub.pem")
	if r.code != 1 || !strings.Contains(r.stderr, "expired") {
		t.Errorf("expired: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(expired); err == nil {
		t.Error("something was written for an expired manifest")
	}
	r = cli(t, dir, nil, "mirror", "file://"+public, expired, "--key", "key/site.pub.pem", "--allow-expired").must(t)
	if !strings.Contains(r.stdout, "EXPIRED") || !strings.Contains(r.stdout, "ago") {
		t.Errorf("--allow-expired does not say how old: %s", r.stdout)
	}
}

// TestMirrorKilledResumes kills mirror with SIGKILL part way, at several
// points, including in the middle of a large download: the rerun completes,
// does not fetch again what was verified, and resumes the cut download.
func TestMirrorKilledResumes(t *testing.T) {
	dir := t.TempDir()
	extract(t.Fatalf, "../../generator/testdata/site.txtar", dir)
	iso := make([]byte, 4<<20)
	for i := range iso {
		iso[i] = byte(i % 251)
	}
	os.WriteFile(filepath.Join(dir, "catalog/releases/appliance.iso"), iso, 0o644)
	cli(t, dir, nil, "keygen", "--out", "key/site").must(t)
	cli(t, dir, nil, "build").must(t)
	public := filepath.Join(dir, "public")
	origin := serveCLI(t, public)
	u, _ := url.Parse(origin)

	// 0 kills in the middle of the ISO download; others after n requests.
	for _, killAfter := range []int64{1, 300, 2500, 0} {
		t.Run(fmt.Sprint(killAfter), func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "mirror")
			var gets atomic.Int64
			var cmd *exec.Cmd
			var killed atomic.Bool
			rp := httputil.NewSingleHostReverseProxy(u)
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if killAfter == 0 && strings.HasSuffix(r.URL.Path, ".iso") {
					// Send half of the ISO, then kill the mirror mid-download.
					resp, err := http.Get(origin + strings.TrimPrefix(r.URL.Path, "/"))
					if err == nil {
						w.Header().Set("Content-Length", resp.Header.Get("Content-Length"))
						io.CopyN(w, resp.Body, 2<<20)
						w.(http.Flusher).Flush()
						resp.Body.Close()
						time.Sleep(200 * time.Millisecond)
						if killed.CompareAndSwap(false, true) {
							cmd.Process.Signal(syscall.SIGKILL)
						}
					}
					return
				}
				if gets.Add(1) == killAfter && killAfter > 0 && killed.CompareAndSwap(false, true) {
					cmd.Process.Signal(syscall.SIGKILL)
				}
				rp.ServeHTTP(w, r)
			}))
			defer proxy.Close()
			cmd = exec.Command(os.Args[0], "mirror", proxy.URL+"/", dest, "--key", "key/site.pub.pem", "--jobs", "4")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PACKSTUDIO_TEST_MAIN=1")
			cmd.Run()
			if !killed.Load() {
				t.Fatal("the mirror finished before it could be killed")
			}
			placed := 0
			filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() && d.Name() == mirror.StateDir {
					return filepath.SkipDir
				}
				if err == nil && d.Type().IsRegular() {
					placed++
				}
				return nil
			})
			if _, err := os.Stat(filepath.Join(dest, "manifest.json")); err == nil {
				t.Error("a killed mirror wrote its manifest")
			}
			r := cli(t, dir, nil, "mirror", origin, dest, "--key", "key/site.pub.pem").must(t)
			var fetched, skipped, resumed int
			fmt.Sscanf(regexp.MustCompile(`fetched \d+`).FindString(r.stdout), "fetched %d", &fetched)
			fmt.Sscanf(regexp.MustCompile(`\d+ resumed`).FindString(r.stdout), "%d resumed", &resumed)
			fmt.Sscanf(regexp.MustCompile(`skipped \d+`).FindString(r.stdout), "skipped %d", &skipped)
			if skipped != placed {
				t.Errorf("%d objects were in place after the kill, the rerun skipped %d: %s", placed, skipped, r.stdout)
			}
			t.Logf("killed after %d requests: %d objects in place; rerun: %s", killAfter, placed, r.stdout[strings.LastIndex(r.stdout, "mirrored"):])
			if killAfter == 0 && resumed < 1 {
				t.Errorf("the cut ISO download was not resumed: %s", r.stdout)
			}
			cli(t, dir, nil, "verify", "--key", "key/site.pub.pem", dest).must(t)
			sameFiles(t, public, dest)
		})
	}
}

// TestCurlFromOriginalAndRebasedCopy downloads a selection with curl and
// xargs from the published site and from a re-hosted, rebased mirror, and
// checks it with sha256sum -c and openssl, as a script without packstudio.
func TestCurlFromOriginalAndRebasedCopy(t *testing.T) {
	curl := testenv.Tool(t, "curl")
	testenv.Tool(t, "sha256sum")
	testenv.Tool(t, "openssl")
	dir := t.TempDir()
	extract(t.Fatalf, "../../generator/testdata/site.txtar", dir)
	cli(t, dir, nil, "keygen", "--out", "key/site").must(t)
	// Serve first, so the build can use the server's address as its base.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	public := filepath.Join(dir, "public")
	cli(t, dir, nil, "build", "--base-url", "http://"+addr+"/").must(t)
	cmd := exec.Command(os.Args[0], "serve", "--dir", public, "--addr", addr)
	cmd.Env = append(os.Environ(), "PACKSTUDIO_TEST_MAIN=1")
	cmd.Start()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	origin := "http://" + addr + "/"
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(origin); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	dest := filepath.Join(t.TempDir(), "mirror")
	cli(t, dir, nil, "mirror", origin, dest, "--key", "key/site.pub.pem").must(t)
	copyURL := serveCLI(t, dest) // a free address; rebase to it while serving
	cli(t, dir, nil, "rebase", dest, copyURL).must(t)
	cli(t, dir, nil, "verify", "--key", "key/site.pub.pem", dest).must(t)
	cli(t, dir, nil, "verify", "--key", "key/site.pub.pem", copyURL).must(t)

	for name, base := range map[string]string{"original": origin, "rebased copy": copyURL} {
		t.Run(name, func(t *testing.T) {
			dl := t.TempDir()
			sel := base + tree.Folder("product=palette", "version=4.7.3").Path() + "/"
			script := fmt.Sprintf(`set -e
%[1]s -fsS %[2]surls.txt | xargs -n1 %[1]s -fsSO
%[1]s -fsSO %[2]sSHA256SUMS
sha256sum -c SHA256SUMS
%[1]s -fsSO %[3]spublic_key.pem
for sig in *.sig.bin; do
  f=${sig%%.sig.bin}.zst
  openssl dgst -sha256 -verify public_key.pem -signature "$sig" "$f"
done
%[1]s -fsSO %[3]sverify/verify-signatures.sh
sh verify-signatures.sh .
# every download came from this host
grep -c . SHA256SUMS
`, curl, sel, base)
			out, err := exec.Command("sh", "-c", "cd "+dl+" && "+script).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if strings.Count(string(out), "Verified OK") < 5 || !strings.Contains(string(out), "0 failed") {
				t.Errorf("downloads not verified:\n%s", out)
			}
			urls, _ := exec.Command(curl, "-fsS", sel+"urls.txt").Output()
			for _, line := range strings.Fields(string(urls)) {
				if !strings.HasPrefix(line, base) {
					t.Errorf("%s lists %s, not under %s", name, line, base)
				}
			}

			// A release folder: bundle, ISO and chart, checked the same way.
			rel, rdl := base+"releases/palette/4.6.2/", t.TempDir()
			script = fmt.Sprintf(`set -e
%[1]s -fsS %[2]surls.txt | xargs -n1 %[1]s -fsSO
%[1]s -fsSO %[2]sSHA256SUMS
sha256sum -c SHA256SUMS
`, curl, rel)
			out, err = exec.Command("sh", "-c", "cd "+rdl+" && "+script).CombinedOutput()
			if err != nil {
				t.Fatalf("release folder: %v\n%s", err, out)
			}
			for _, f := range []string{"palette-4.6.2.tar.zst", "palette-appliance-4.6.2.iso", "palette-4.6.2.tgz"} {
				if !strings.Contains(string(out), f+": OK") {
					t.Errorf("release folder: sha256sum -c did not check %s:\n%s", f, out)
				}
			}
		})
	}
}

// TestMirrorVolumesPartialAndMissing takes the mirror through tar volumes
// (each verifies alone, unpack rebuilds the tree), makes a partial mirror
// that verify recognises, and mirrors a source that lost an object.
func TestMirrorVolumesPartialAndMissing(t *testing.T) {
	dir := builtSite(t)
	public := filepath.Join(dir, "public")
	key := "key/site.pub.pem"

	stage, vols := filepath.Join(t.TempDir(), "stage"), filepath.Join(t.TempDir(), "vols")
	r := cli(t, dir, nil, "mirror", "file://"+public, stage, "--key", key, "--volumes", vols, "--volume-size", "2M").must(t)
	if !regexp.MustCompile(`wrote \d+ volumes`).MatchString(r.stdout) {
		t.Fatalf("volumes: %s", r.stdout)
	}
	list, _ := filepath.Glob(filepath.Join(vols, "vol-*.tar"))
	if len(list) < 3 {
		t.Fatalf("%d volumes", len(list))
	}
	for _, v := range list {
		out := cli(t, dir, nil, "verify", "--key", key, v).must(t)
		if !strings.Contains(out.stdout, "verified") {
			t.Errorf("%s: %s", v, out.stdout)
		}
	}
	unpacked := filepath.Join(t.TempDir(), "unpacked")
	cli(t, dir, nil, append(append([]string{"unpack", "--key", key}, list...), unpacked)...).must(t)
	sameFiles(t, public, unpacked)

	partial := filepath.Join(t.TempDir(), "partial")
	cli(t, dir, nil, "mirror", "file://"+public, partial, "--key", key, "--layer", "cni").must(t)
	out := cli(t, dir, nil, "verify", "--key", key, partial).must(t)
	if !regexp.MustCompile(`partial mirror: \d+ objects left out by choice`).MatchString(out.stdout) {
		t.Errorf("verify of a partial mirror: %s", out.stdout)
	}
	if _, err := os.Stat(filepath.Join(partial, "artifacts/packs/ubuntu")); err == nil {
		t.Error("a --layer cni mirror holds OS packs")
	}

	lost := filepath.Join(t.TempDir(), "lost")
	os.CopyFS(lost, os.DirFS(public))
	os.Remove(filepath.Join(lost, "packs/ubuntu/index.json"))
	r = cli(t, dir, nil, "mirror", "file://"+lost, filepath.Join(t.TempDir(), "m"), "--key", key)
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL packs/ubuntu/index.json: object does not exist") {
		t.Errorf("a source missing an object: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestVolumeSetsWhole: a second mirror --volumes run into the same folder
// leaves exactly its own set there (a user's file kept), so that
// unpack vol-*.tar works; unpack refuses a set with a volume missing or
// given twice (exit 1, naming them, DEST not created), and verify names a
// truncated volume.
func TestVolumeSetsWhole(t *testing.T) {
	dir := builtSite(t)
	public := filepath.Join(dir, "public")
	key := "key/site.pub.pem"
	stage, vols := filepath.Join(t.TempDir(), "stage"), filepath.Join(t.TempDir(), "vols")
	os.MkdirAll(vols, 0o755)
	notes := filepath.Join(vols, "notes.txt")
	os.WriteFile(notes, []byte("mine"), 0o644)

	cli(t, dir, nil, "mirror", "file://"+public, stage, "--key", key, "--volumes", vols, "--volume-size", "2M").must(t)
	first, _ := filepath.Glob(filepath.Join(vols, "vol-*.tar"))
	cli(t, dir, nil, "mirror", "file://"+public, stage, "--key", key, "--volumes", vols, "--volume-size", "8M").must(t)
	set, _ := filepath.Glob(filepath.Join(vols, "vol-*.tar"))
	if len(set) < 2 || len(set) >= len(first) {
		t.Fatalf("%d volumes of 2M, then %d of 8M: want fewer, and more than one", len(first), len(set))
	}
	if data, _ := os.ReadFile(notes); string(data) != "mine" {
		t.Error("the user's notes.txt was touched")
	}
	unpacked := filepath.Join(t.TempDir(), "unpacked")
	cli(t, dir, nil, append(append([]string{"unpack", "--key", key}, set...), unpacked)...).must(t)
	sameFiles(t, public, unpacked)

	n := len(set)
	for _, tt := range []struct {
		name  string
		given []string
		want  string
	}{
		{"the last volume missing", set[:n-1], fmt.Sprintf("volume %d of %d is missing", n, n)},
		{"a volume twice", append(slices.Clone(set), set[0]), set[0] + " is given twice (volume 1 of " + strconv.Itoa(n) + ")"},
	} {
		dest := filepath.Join(t.TempDir(), "dest")
		r := cli(t, dir, nil, append(append([]string{"unpack", "--key", key}, tt.given...), dest)...)
		if r.code != 1 || !strings.Contains(r.stderr, tt.want) || strings.Contains(r.stdout, "unpacked") {
			t.Errorf("%s: exit %d, want 1 and %q\n%s%s", tt.name, r.code, tt.want, r.stdout, r.stderr)
		}
		if _, err := os.Stat(dest); err == nil {
			t.Errorf("%s: the refused unpack created DEST", tt.name)
		}
	}

	cut := filepath.Join(t.TempDir(), "vol-001.tar")
	data, _ := os.ReadFile(set[0])
	os.WriteFile(cut, data[:len(data)/2], 0o644)
	r := cli(t, dir, nil, "verify", "--key", key, cut)
	if r.code != 1 || !strings.Contains(r.stderr, cut+" is truncated") || !strings.Contains(r.stderr, "copy it again from the media") {
		t.Errorf("verify of a truncated volume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
