package oci_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/testing/testenv"
	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/oci"
)

// chunk is the lowered chunk size of these tests: larger than every other
// artifact of the test site, while the ISO they push is four of them and
// a bit.
const chunk = 1 << 20

// isoSite is the test site with a 4 MiB + 1 KiB ISO.
func isoSite(t *testing.T) (*site, tree.Object, oci.Ref) {
	iso := make([]byte, 4*chunk+1<<10)
	for i := range iso {
		iso[i] = byte(i*7 + i/251)
	}
	ts := treetest.NewSiteWith(t, map[string][]byte{"catalog/releases/appliance.iso": iso})
	s := &site{Site: ts, keyFile: filepath.Join(ts.Dir, "key", "site.pub.pem")}
	for _, o := range s.Manifest().Objects {
		if r, ok, _ := oci.RefOf(o.Path); ok && r.Kind == "iso" {
			if o.Size != int64(len(iso)) {
				t.Fatalf("%s is %d bytes, the ISO %d", o.Path, o.Size, len(iso))
			}
			return s, o, r
		}
	}
	t.Fatal("the test site has no ISO artifact")
	return nil, tree.Object{}, oci.Ref{}
}

// patch is one PATCH the proxy saw: its upload session, the start of its
// Content-Range, and how many body bytes it took from the client.
type patch struct {
	session string
	start   int64
	read    int64
}

// uploadProxy sits in front of the registry and records the chunked
// upload requests; fault, when set, may take over the n-th PATCH (from 1)
// and reports whether it did.
type uploadProxy struct {
	reg   *testenv.Registry
	rp    *httputil.ReverseProxy
	host  string
	fault func(w http.ResponseWriter, r *http.Request, n int) bool

	mu       sync.Mutex
	patches  []patch
	statuses int // GETs of an upload session
}

func newUploadProxy(t *testing.T, reg *testenv.Registry) *uploadProxy {
	u, _ := url.Parse(reg.URL())
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &uploadProxy{reg: reg, rp: rp}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upload := strings.Contains(r.URL.Path, "/blobs/uploads/") && !strings.HasSuffix(r.URL.Path, "/uploads/")
		switch {
		case upload && r.Method == http.MethodPatch:
			start, _, _ := strings.Cut(r.Header.Get("Content-Range"), "-")
			pt := patch{session: path.Base(r.URL.Path)}
			pt.start, _ = strconv.ParseInt(start, 10, 64)
			cb := &countingBody{ReadCloser: r.Body}
			r.Body = cb
			p.mu.Lock()
			n := len(p.patches) + 1
			p.patches = append(p.patches, pt)
			p.mu.Unlock()
			defer func() {
				p.mu.Lock()
				p.patches[n-1].read = cb.n
				p.mu.Unlock()
			}()
			if p.fault != nil && p.fault(w, r, n) {
				return
			}
		case upload && r.Method == http.MethodGet:
			p.mu.Lock()
			p.statuses++
			p.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

type countingBody struct {
	io.ReadCloser
	n int64
}

func (c *countingBody) Read(b []byte) (int, error) {
	n, err := c.ReadCloser.Read(b)
	c.n += int64(n)
	return n, err
}

func (p *uploadProxy) taken() ([]patch, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]patch(nil), p.patches...), p.statuses
}

// cutMidway forwards the first half of a PATCH's body to the registry and
// then breaks both connections, as a network that fails mid-request does.
// It answers the client only once the registry holds that half, so the
// client's status query sees where the registry stands.
func (p *uploadProxy) cutMidway(t *testing.T, r *http.Request) {
	half := r.ContentLength / 2
	buf := make([]byte, half)
	if _, err := io.ReadFull(r.Body, buf); err != nil {
		t.Errorf("reading the chunk to cut: %v", err)
	}
	conn, err := net.Dial("tcp", p.reg.Host)
	if err != nil {
		t.Errorf("dialing the registry: %v", err)
		panic(http.ErrAbortHandler)
	}
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Range: %s\r\nContent-Length: %d\r\n\r\n",
		r.URL.RequestURI(), r.Host, r.Header.Get("Content-Range"), r.ContentLength)
	conn.Write(buf)
	conn.Close()
	start, _, _ := strings.Cut(r.Header.Get("Content-Range"), "-")
	from, _ := strconv.ParseInt(start, 10, 64)
	want := fmt.Sprintf("0-%d", from+half-1)
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(p.reg.URL() + r.URL.RequestURI())
		if err == nil {
			resp.Body.Close()
			if resp.Header.Get("Range") == want {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("the registry did not come to hold %s of the cut upload", want)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	panic(http.ErrAbortHandler) // the client's connection breaks, with no answer
}

// isoPatches are the PATCHes of the ISO's one upload session.
func isoPatches(t *testing.T, patches []patch) []patch {
	t.Helper()
	sessions := map[string]bool{}
	for _, p := range patches {
		sessions[p.session] = true
	}
	if len(sessions) != 1 {
		t.Fatalf("%d upload sessions had PATCHes; want the ISO's one (no other blob is larger than a chunk, and a resumed upload keeps its session)", len(sessions))
	}
	return patches
}

// checkISO reads the ISO back with oras, and verifies the whole push.
func checkISO(t *testing.T, s *site, host string, r oci.Ref) {
	t.Helper()
	pulled := t.TempDir()
	oras(t, "pull", "--plain-http", "-o", pulled, host+"/ps/site/"+r.String())
	want, _ := os.ReadFile(filepath.Join(s.Public(), r.Path))
	got, err := os.ReadFile(filepath.Join(pulled, path.Base(r.Path)))
	if err != nil || string(got) != string(want) {
		t.Fatalf("oras pull of %s: %v; same bytes as the site's: %v", r, err, string(got) == string(want))
	}
	if rep := s.verify(t, host); !rep.OK() {
		t.Fatalf("verify oci:// after the push: %v", rep.Failures)
	}
}

func TestLargeBlobGoesInChunks(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	p := newUploadProxy(t, reg)
	s, iso, r := isoSite(t)
	if _, err := s.push(t, p.host, oci.PushOptions{ChunkSize: chunk}); err != nil {
		t.Fatal(err)
	}
	patches, _ := p.taken()
	patches = isoPatches(t, patches)
	want := int((iso.Size + chunk - 1) / chunk)
	if len(patches) != want {
		t.Fatalf("the ISO of %d bytes went in %d PATCHes; want %d chunks of %d", iso.Size, len(patches), want, chunk)
	}
	var next int64
	for i, pt := range patches {
		if pt.start != next || pt.read != min(chunk, iso.Size-next) {
			t.Errorf("PATCH %d: %d bytes from %d; want %d from %d", i+1, pt.read, pt.start, min(chunk, iso.Size-next), next)
		}
		next += pt.read
	}
	checkISO(t, s, reg.Host, r)
	// Pushed again, the ISO is found by digest and not sent.
	res, err := s.push(t, p.host, oci.PushOptions{ChunkSize: chunk})
	if err != nil {
		t.Fatal(err)
	}
	if res.BlobsSent != 0 {
		t.Errorf("the second push sent %d blobs", res.BlobsSent)
	}
	if again, _ := p.taken(); len(again) != len(patches) {
		t.Errorf("the second push sent %d PATCHes", len(again)-len(patches))
	}
}

// TestCutChunkResumesWhereTheRegistryStands cuts the connection in the
// middle of the ISO's second chunk and answers 503 to its fourth: the push
// completes in the same upload session, each time going on from where the
// registry says it stands, and sends the ISO's bytes little more than once.
func TestCutChunkResumesWhereTheRegistryStands(t *testing.T) {
	oci.SetRetryWait(t, 10*time.Millisecond)
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	p := newUploadProxy(t, reg)
	const cutAt = chunk + chunk/2 // the second chunk, cut after its first half
	p.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		switch n {
		case 2:
			p.cutMidway(t, r)
		case 4:
			http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"injected by the test"}]}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	s, iso, r := isoSite(t)
	res, err := s.push(t, p.host, oci.PushOptions{ChunkSize: chunk})
	if err != nil {
		t.Fatal(err)
	}
	patches, statuses := p.taken()
	patches = isoPatches(t, patches)
	if len(patches) < 4 {
		t.Fatalf("%d PATCHes: %+v; the faults were not reached", len(patches), patches)
	}
	if patches[2].start != cutAt {
		t.Errorf("after the cut the upload went on from byte %d; the registry held %d", patches[2].start, cutAt)
	}
	if patches[4].start != patches[3].start {
		t.Errorf("after the 503 the upload went on from byte %d; the refused chunk started at %d", patches[4].start, patches[3].start)
	}
	if statuses < 2 {
		t.Errorf("%d status queries; want one after each failure", statuses)
	}
	var sent int64
	for _, pt := range patches {
		sent += pt.read
	}
	if sent >= 2*iso.Size {
		t.Errorf("sent %d bytes for an ISO of %d: the upload started over instead of resuming", sent, iso.Size)
	}
	t.Logf("ISO of %d bytes: %d PATCHes, %d bytes sent, %d status queries; push: %d blobs", iso.Size, len(patches), sent, statuses, res.BlobsSent)
	checkISO(t, s, reg.Host, r)
}

// TestChunkedUploadGivesUp: a registry that refuses every chunk after the
// first is given up on after a bounded number of attempts, with an error
// naming the registry, the repository and the blob; the ISO is not tagged.
func TestChunkedUploadGivesUp(t *testing.T) {
	oci.SetRetryWait(t, time.Millisecond)
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	p := newUploadProxy(t, reg)
	p.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			return false
		}
		io.Copy(io.Discard, r.Body)
		http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"injected by the test"}]}`, http.StatusServiceUnavailable)
		return true
	}
	s, iso, r := isoSite(t)
	_, err := s.push(t, p.host, oci.PushOptions{ChunkSize: chunk})
	var ue *oci.UploadError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v; want an UploadError", err)
	}
	msg := err.Error()
	for _, want := range []string{"registry " + p.host, "repository ps/site/" + r.Repo, "blob sha256:" + iso.SHA256, fmt.Sprintf("stopped at byte %d", chunk), "run the push again"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q: %s", want, msg)
		}
	}
	patches, _ := p.taken()
	if len(patches) != 1+oci.ChunkAttempts || ue.Attempts != oci.ChunkAttempts {
		t.Errorf("%d PATCHes, %d attempts counted; want 1 + %d", len(patches), ue.Attempts, oci.ChunkAttempts)
	}
	// The session given up is cancelled: the registry no longer has it.
	status, err := http.Get(reg.URL() + "/v2/ps/site/" + r.Repo + "/blobs/uploads/" + patches[0].session)
	if err != nil {
		t.Fatal(err)
	}
	status.Body.Close()
	if status.StatusCode != http.StatusNotFound {
		t.Errorf("the given-up upload session is still there (HTTP %d, Range %q)", status.StatusCode, status.Header.Get("Range"))
	}
	resp, err := http.Get(reg.URL() + "/v2/ps/site/" + r.Repo + "/manifests/" + r.Tag)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("%s is tagged (HTTP %d) although its blob never went in", r, resp.StatusCode)
	}
}

// TestRegistryOverstatingItsRangeIsNotBelieved: a registry whose answers
// to PATCH claim more bytes than the blob has is not believed; the status
// query settles where it stands, and the push completes.
func TestRegistryOverstatingItsRangeIsNotBelieved(t *testing.T) {
	oci.SetRetryWait(t, time.Millisecond)
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{})
	p := newUploadProxy(t, reg)
	p.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		p.rp.ServeHTTP(rangeLiar{w}, r)
		return true
	}
	s, _, r := isoSite(t)
	if _, err := s.push(t, p.host, oci.PushOptions{ChunkSize: chunk}); err != nil {
		t.Fatal(err)
	}
	checkISO(t, s, reg.Host, r)
}

// rangeLiar says the upload holds a billion bytes.
type rangeLiar struct{ http.ResponseWriter }

func (l rangeLiar) WriteHeader(code int) {
	if l.Header().Get("Range") != "" {
		l.Header().Set("Range", "0-999999999")
	}
	l.ResponseWriter.WriteHeader(code)
}
