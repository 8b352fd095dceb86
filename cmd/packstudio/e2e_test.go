package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/testing/testenv"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/verify"
)

// result is one run of the packstudio process.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs packstudio as a separate process in dir.
func cli(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "PACKSTUDIO_TEST_MAIN=1"), env...)
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

func (r result) must(t *testing.T) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return r
}

// builtSite extracts the generator's test site into a temp dir, makes a
// key with keygen and builds it.
func builtSite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	extract(t.Fatalf, "../../generator/testdata/site.txtar", dir)
	cli(t, dir, nil, "keygen", "--out", "key/site").must(t)
	cli(t, dir, nil, "build").must(t)
	return dir
}

// s3Target creates a fresh bucket on the server and returns its URL.
func s3Target(t *testing.T, m *testenv.MinIO) string {
	t.Helper()
	name := testenv.Bucket(t)
	m.SetEnv(t)
	b, err := publish.OpenS3(context.Background(), "s3://"+name, publish.Options{Endpoint: m.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CreateBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return "s3://" + name + "/site"
}

// TestPublishToMinIOCheckedByAWSCLI publishes the site to a real MinIO and
// checks it with an independent client: the AWS CLI lists every object
// with the right headers and downloads a copy that packstudio verifies.
func TestPublishToMinIOCheckedByAWSCLI(t *testing.T) {
	m := testenv.SharedMinIO(t)
	aws := testenv.Tool(t, "aws", "/usr/bin/aws")
	dir := builtSite(t)
	target := s3Target(t, m)
	out := cli(t, dir, m.Env(), "publish", "--to", target, "--endpoint", m.Endpoint).must(t)
	if !regexp.MustCompile(`uploaded \d+ objects, [\d.]+ (B|KiB|MiB|GiB); skipped 0; deleted 0`).MatchString(out.stdout) {
		t.Errorf("summary line: %s", out.stdout)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "public", tree.ManifestName))
	man, _ := tree.Parse(data)

	awsRun := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(aws, append([]string{"--endpoint-url", m.Endpoint}, args...)...)
		cmd.Env = append(os.Environ(), m.Env()...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, b)
		}
		return string(b)
	}
	listing := awsRun("s3", "ls", "--recursive", target+"/")
	if n := strings.Count(listing, "\n"); n != len(man.Objects)+2 {
		t.Errorf("the AWS CLI lists %d objects, want %d", n, len(man.Objects)+2)
	}
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(target, "s3://"), "/")
	headers := map[string][2]string{
		"artifacts/packs/ubuntu/ubuntu-22.04.zst":                      {"application/zstd", "immutable"},
		"artifacts/packs/ubuntu/ubuntu-22.04.sig.bin":                  {"application/octet-stream", "immutable"},
		"artifacts/releases/palette/4.6.2/palette-appliance-4.6.2.iso": {"application/x-iso9660-image", "immutable"},
		"artifacts/releases/palette/4.6.2/palette-4.6.2.tgz":           {"application/gzip", "immutable"},
		"catalog.json":                   {"application/json", "max-age=300"},
		"urls.txt":                       {"text/plain; charset=utf-8", "max-age=300"},
		tree.Folder().File("SHA256SUMS"): {"text/plain; charset=utf-8", "max-age=300"},
		"public_key.pem":                 {"application/x-pem-file", "max-age=300"},
		"index.html":                     {"text/html; charset=utf-8", "max-age=300"},
		"assets/style.css":               {"text/css; charset=utf-8", "max-age=300"},
		"verify/verify-signatures.sh":    {"application/x-sh", "max-age=300"},
		tree.ManifestName:                {"application/json", "max-age=300"},
	}
	for key, want := range headers {
		head := awsRun("s3api", "head-object", "--bucket", bucket, "--key", prefix+"/"+key)
		if !strings.Contains(head, `"ContentType": "`+want[0]+`"`) || !strings.Contains(head, want[1]) {
			t.Errorf("%s: want %s and %s in\n%s", key, want[0], want[1], head)
		}
	}
	cli(t, dir, m.Env(), "verify", "--key", "key/site.pub.pem", target, "--endpoint", m.Endpoint).must(t)
	copyDir := filepath.Join(t.TempDir(), "copy")
	awsRun("s3", "cp", "--recursive", "--only-show-errors", target+"/", copyDir+"/")
	cli(t, dir, nil, "verify", "--key", "key/site.pub.pem", copyDir).must(t)

	again := cli(t, dir, m.Env(), "publish", "--to", target, "--endpoint", m.Endpoint).must(t)
	if !strings.Contains(again.stdout, "uploaded 0 objects, 0 B") {
		t.Errorf("republishing unchanged: %s", again.stdout)
	}
	dry := cli(t, dir, m.Env(), "publish", "--to", target, "--endpoint", m.Endpoint, "--dry-run").must(t)
	if !strings.Contains(dry.stdout, "uploaded 0 objects") && !strings.Contains(dry.stdout, "would upload 0 objects") {
		t.Errorf("dry run of an unchanged tree: %s", dry.stdout)
	}
}

// TestPublishBadTargets checks that each bad target gives one clear line
// and the right exit code, never a stack trace.
func TestPublishBadTargets(t *testing.T) {
	m := testenv.SharedMinIO(t)
	dir := builtSite(t)
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, []byte("x"), 0o644)
	target := s3Target(t, m)
	wrong := []string{"AWS_ACCESS_KEY_ID=wrong", "AWS_SECRET_ACCESS_KEY=wrongwrongwrong", "AWS_EC2_METADATA_DISABLED=true"}
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"s3 without bucket", m.Env(), []string{"--to", "s3://"}, 2, "no bucket name"},
		{"bad bucket name", m.Env(), []string{"--to", "s3://UPPER_case"}, 2, "not a valid bucket name"},
		{"unknown scheme", m.Env(), []string{"--to", "ftp://x"}, 2, "write file://DIR or s3://BUCKET/PREFIX"},
		{"file target that is a file", nil, []string{"--to", "file://" + file}, 2, "is a file, not a directory"},
		{"unreachable endpoint", m.Env(), []string{"--to", target, "--endpoint", "http://127.0.0.1:1"}, 1, "cannot reach http://127.0.0.1:1"},
		{"wrong credentials", wrong, []string{"--to", target, "--endpoint", m.Endpoint}, 1, "refused the credentials"},
		{"missing bucket", m.Env(), []string{"--to", "s3://no-such-bucket-here/site", "--endpoint", m.Endpoint}, 1, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(t, dir, tt.env, append([]string{"publish"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n > 0 || strings.Contains(r.stderr, "goroutine") {
				t.Errorf("want one line, got:\n%s", r.stderr)
			}
		})
	}
}

// TestPublishOverTLSWithCABundle publishes to MinIO over HTTPS with a
// self-signed certificate: it works when AWS_CA_BUNDLE names it, and fails
// clearly when it does not.
func TestPublishOverTLSWithCABundle(t *testing.T) {
	m := testenv.SharedMinIOTLS(t)
	dir := builtSite(t)
	target := s3Target(t, m)
	r := cli(t, dir, m.Env(), "publish", "--to", target, "--endpoint", m.Endpoint).must(t)
	if !strings.Contains(r.stdout, "skipped 0") {
		t.Errorf("publish over TLS: %s", r.stdout)
	}
	other := append(m.Env(), "AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt")
	r = cli(t, dir, other, "publish", "--to", target+"2", "--endpoint", m.Endpoint)
	if r.code != 1 || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("without the server's CA: exit %d\n%s", r.code, r.stderr)
	}
}

// faultProxy sits between packstudio and MinIO. It can fail requests with
// 503s or dropped connections, and call onPut after each PUT it forwards.
type faultProxy struct {
	*httptest.Server
	requests atomic.Int64
	puts     atomic.Int64
	every503 int64 // every n-th request gets a 503; 0 never
	everyCut int64 // every n-th request has its connection dropped; 0 never
	onPut    func(n int64)
}

func newFaultProxy(t *testing.T, endpoint string) *faultProxy {
	u, _ := url.Parse(endpoint)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &faultProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := p.requests.Add(1)
		if p.everyCut > 0 && n%p.everyCut == 0 {
			io.Copy(io.Discard, io.LimitReader(r.Body, 10))
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		if p.every503 > 0 && n%p.every503 == 0 {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		rp.ServeHTTP(rec, r)
		if r.Method == http.MethodPut && rec.status < 300 && p.onPut != nil {
			p.onPut(p.puts.Add(1))
		}
	}))
	t.Cleanup(p.Close)
	return p
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }
func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = 200
	}
	return s.ResponseWriter.Write(b)
}

// TestPublishSurvivesFaults puts a proxy that answers 503 to every 7th
// request and drops every 13th connection between packstudio and MinIO:
// retries carry the publish through, and the result verifies.
func TestPublishSurvivesFaults(t *testing.T) {
	m := testenv.SharedMinIO(t)
	dir := builtSite(t)
	target := s3Target(t, m)
	p := newFaultProxy(t, m.Endpoint)
	p.every503, p.everyCut = 7, 13
	r := cli(t, dir, m.Env(), "publish", "--to", target, "--endpoint", p.URL).must(t)
	if p.requests.Load() < 100 {
		t.Fatalf("only %d requests went through the proxy", p.requests.Load())
	}
	t.Logf("%d requests, %s", p.requests.Load(), strings.TrimSpace(r.stdout[strings.LastIndex(r.stdout, "uploaded"):]))
	bucket := openS3(t, m, target)
	rep, err := verify.Tree(context.Background(), bucket, pubKey(t, dir), verify.Options{})
	if err != nil || !rep.OK() {
		t.Fatalf("bucket after a faulty publish: %v %v", err, rep.Failures)
	}
}

// TestPublishFailsCleanlyWhenTheStoreKeepsFailing makes every PUT of one
// artifact fail: the publish exits 1 naming it, and the bucket still serves
// the earlier manifest.
func TestPublishFailsCleanlyWhenTheStoreKeepsFailing(t *testing.T) {
	m := testenv.SharedMinIO(t)
	dir := builtSite(t)
	target := s3Target(t, m)
	cli(t, dir, m.Env(), "publish", "--to", target, "--endpoint", m.Endpoint).must(t)
	bucket := openS3(t, m, target)
	before := readObject2(t, bucket, tree.ManifestName)

	os.WriteFile(filepath.Join(dir, "catalog/payload/metallb/values.yaml"), []byte("changed\n"), 0o644)
	cli(t, dir, nil, "build").must(t)
	u, _ := url.Parse(m.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(u)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "lb-metallb-helm-0.14.9.zst") {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `<Error><Code>InternalError</Code><Message>injected</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	r := cli(t, dir, m.Env(), "publish", "--to", target, "--endpoint", proxy.URL)
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL artifacts/packs/lb-metallb-helm/lb-metallb-helm-0.14.9.zst") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "still serves its earlier manifest") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if after := readObject2(t, bucket, tree.ManifestName); !bytes.Equal(before, after) {
		t.Error("the manifest changed although an artifact failed")
	}
}

// TestPublishKilled kills publish with SIGKILL after a number of uploads,
// at several points: each time the bucket's pages and lists point only at
// objects that exist; a rerun completes without uploading again what the
// killed run finished, and the result verifies.
func TestPublishKilled(t *testing.T) {
	m := testenv.SharedMinIO(t)
	dir := builtSite(t)
	target := s3Target(t, m)
	cli(t, dir, m.Env(), "publish", "--to", target, "--endpoint", m.Endpoint).must(t)
	bucket := openS3(t, m, target)
	key := pubKey(t, dir)
	base := "https://packs.example.com/studio/"

	for i, killAfter := range []int64{1, 10, 60, 200} {
		// A new version each round: one pack changed.
		os.WriteFile(filepath.Join(dir, "catalog/payload/metallb/values.yaml"), []byte(fmt.Sprintf("round %d\n", i)), 0o644)
		cli(t, dir, nil, "build").must(t)
		dry := cli(t, dir, m.Env(), "publish", "--to", target, "--endpoint", m.Endpoint, "--dry-run").must(t)
		planned := regexp.MustCompile(`would upload (\d+) objects`).FindStringSubmatch(dry.stdout)

		p := newFaultProxy(t, m.Endpoint)
		cmd := exec.Command(os.Args[0], "publish", "--to", target, "--endpoint", p.URL, "--jobs", "4")
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "PACKSTUDIO_TEST_MAIN=1"), m.Env()...)
		var killed atomic.Bool
		p.onPut = func(n int64) {
			if n >= killAfter && killed.CompareAndSwap(false, true) {
				cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if !killed.Load() {
			t.Fatalf("round %d: publish finished before %d uploads", i, killAfter)
		}
		done := p.puts.Load()
		checkConsistent(t, bucket, base)

		r := cli(t, dir, m.Env(), "publish", "--to", target, "--endpoint", m.Endpoint).must(t)
		uploaded := regexp.MustCompile(`uploaded (\d+) objects`).FindStringSubmatch(r.stdout)
		t.Logf("round %d: killed after %d of %s uploads; rerun: %s", i, done, planned[1], uploaded[0])
		var total, rerun int64
		fmt.Sscan(planned[1], &total)
		fmt.Sscan(uploaded[1], &rerun)
		// Objects finished before the kill are not uploaded again (the
		// manifest pair is written last and counts in both).
		if rerun > total-done+2 {
			t.Errorf("round %d: rerun uploaded %d objects; %d of %d were done before the kill", i, rerun, done, total)
		}
		rep, err := verify.Tree(context.Background(), bucket, key, verify.Options{})
		if err != nil || !rep.OK() {
			t.Fatalf("round %d: bucket after rerun: %v %v", i, err, rep.Failures)
		}
	}
}

var (
	linkAttr = regexp.MustCompile(`(?:href|src)="([^"#]+)`)
	baseTag  = regexp.MustCompile(`<base href="([^"]*)">`)
)

// checkConsistent reads every page and URL list in the bucket and checks
// that each relative link and each listed URL names an object that exists.
func checkConsistent(t *testing.T, b publish.Bucket, base string) {
	t.Helper()
	ctx := context.Background()
	list, err := b.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exists := map[string]bool{}
	for _, o := range list {
		exists[o.Key] = true
	}
	broken := 0
	for _, o := range list {
		switch {
		case strings.HasSuffix(o.Key, ".html"):
			// Links resolve against the page's <base href> when it has one.
			doc, dir := string(readObject2(t, b, o.Key)), path.Dir(o.Key)
			if m := baseTag.FindStringSubmatch(doc); m != nil {
				doc, dir = strings.Replace(doc, m[0], "", 1), path.Join(dir, m[1])
			}
			for _, m := range linkAttr.FindAllStringSubmatch(doc, -1) {
				if strings.Contains(m[1], "://") {
					continue
				}
				if target := path.Join(dir, m[1]); !exists[target] {
					broken++
					if broken < 5 {
						t.Errorf("%s links to %s, which is not in the bucket", o.Key, target)
					}
				}
			}
		case path.Base(o.Key) == "urls.txt":
			sc := bufio.NewScanner(bytes.NewReader(readObject2(t, b, o.Key)))
			for sc.Scan() {
				if target := strings.TrimPrefix(sc.Text(), base); !exists[target] {
					broken++
					if broken < 5 {
						t.Errorf("%s lists %s, which is not in the bucket", o.Key, sc.Text())
					}
				}
			}
		}
	}
	if broken > 0 {
		t.Fatalf("%d broken references in the bucket", broken)
	}
}

func openS3(t *testing.T, m *testenv.MinIO, target string) *publish.S3Bucket {
	t.Helper()
	m.SetEnv(t)
	b, err := publish.OpenS3(context.Background(), target, publish.Options{Endpoint: m.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pubKey(t *testing.T, dir string) *publishKey {
	t.Helper()
	v, err := loadPub(filepath.Join(dir, "key/site.pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func readObject2(t *testing.T, b publish.Bucket, key string) []byte {
	t.Helper()
	rc, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var _ = time.Second

type publishKey = sign.Verifier

func loadPub(p string) (*sign.Verifier, error) { return sign.LoadPublicKey(p) }

// TestDemoPublished builds the demo site (40,000 files) from the
// repository's catalog, publishes it to a folder bucket, which verifies,
// and publishes it again: nothing is uploaded. The same publish into real
// S3, checked by the AWS CLI, runs on the test site
// (TestPublishToMinIOCheckedByAWSCLI: 4,400 objects, five list pages) and
// on the 1,000 x 4 bench catalog in make bench; the demo here proves the
// repository's own catalog publishes whole.
func TestDemoPublished(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and publishes the whole demo site")
	}
	repo, _ := filepath.Abs("../..")
	work := t.TempDir()
	cli(t, work, nil, "keygen", "--out", "key/site").must(t)
	out := filepath.Join(work, "public")
	site := fmt.Sprintf("title = \"demo\"\nbase_url = \"http://127.0.0.1:8080/\"\ncatalog = %q\ncontent = %q\noutput = %q\ncache = %q\n[signing]\nkey = %q\n",
		filepath.Join(repo, "testdata/demo/catalog"), filepath.Join(repo, "testdata/demo/content"), out, filepath.Join(work, "cache"), filepath.Join(work, "key/site.pem"))
	os.WriteFile(filepath.Join(work, "site.toml"), []byte(site), 0o644)
	cli(t, work, nil, "build").must(t)
	target := "file://" + filepath.Join(work, "bucket")
	cli(t, work, nil, "publish", "--to", target).must(t)

	data, _ := os.ReadFile(filepath.Join(out, tree.ManifestName))
	man, err := tree.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Objects) < 10000 {
		t.Fatalf("the demo's manifest lists %d objects; this test wants the whole demo", len(man.Objects))
	}
	v := cli(t, work, nil, "verify", "--key", "key/site.pub.pem", target).must(t)
	if !strings.Contains(v.stdout, fmt.Sprintf("%d objects", len(man.Objects))) {
		t.Errorf("verify of the published demo: %s", v.stdout)
	}
	again := cli(t, work, nil, "publish", "--to", target).must(t)
	if !strings.Contains(again.stdout, "uploaded 0 objects") {
		t.Errorf("republishing the unchanged demo: %s", again.stdout)
	}
}
