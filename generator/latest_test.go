package generator

import (
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/tree"
)

// newestRelease is the oracle for latest/: the release with the highest
// version, found without relying on the catalog's order.
func newestRelease(p *catalog.Product) *catalog.Release {
	var newest *catalog.Release
	for _, r := range p.Releases {
		if newest == nil || r.Version.Compare(newest.Version) > 0 {
			newest = r
		}
	}
	return newest
}

var hrefOrSrc = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

// TestLatestIsTheNewestRelease: releases/<product>/latest/ holds the same
// four files as the newest release's folder, the manifest lists them, and
// every relative link of its page names a file of the tree.
func TestLatestIsTheNewestRelease(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	listed := map[string]bool{}
	for _, line := range strings.Split(s.read(tree.ManifestName), "\n") {
		if m := regexp.MustCompile(`"path": "([^"]+)"`).FindStringSubmatch(line); m != nil {
			listed[m[1]] = true
		}
	}
	for _, p := range s.catalog().Products {
		r := newestRelease(p)
		if r == nil {
			continue
		}
		for _, f := range []string{"index.html", "index.json", "urls.txt", "SHA256SUMS"} {
			latest := "releases/" + p.ID + "/latest/" + f
			if got, want := s.read(latest), s.read("releases/"+p.ID+"/"+r.Version.Raw+"/"+f); got != want {
				t.Errorf("%s differs from the newest release %s's %s", latest, r.Version.Raw, f)
			}
			if !listed[latest] {
				t.Errorf("the manifest does not list %s", latest)
			}
		}
		dir := "releases/" + p.ID + "/latest"
		for _, m := range hrefOrSrc.FindAllStringSubmatch(s.read(dir+"/index.html"), -1) {
			link := html.UnescapeString(m[1])
			if strings.Contains(link, ":") || strings.HasPrefix(link, "#") {
				continue // data: icon, absolute URLs
			}
			link, _, _ = strings.Cut(link, "#")
			target := path.Join(dir, link)
			if _, err := os.Stat(s.out(target)); err != nil {
				t.Errorf("%s/index.html links to %s, which is not in the tree", dir, link)
			}
		}
	}
}

var cmdBlock = regexp.MustCompile(`(?s)<h2>Download and verify with curl</h2>.*?<pre class="cmd" tabindex="0">(.*?)</pre>`)

// TestReleaseCommandsVerify runs the release page's shell block, as a
// person would paste it, against the built tree served over HTTP: it
// downloads, checks SHA256SUMS, fetches the key, prints its fingerprint
// and has openssl verify every artifact.
func TestReleaseCommandsVerify(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"curl", "openssl", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed: %v", tool, err)
		}
	}
	s := builtSite(t)
	cat := s.catalog()
	var base string
	if m := regexp.MustCompile(`"base_url": "([^"]+)"`).FindStringSubmatch(s.read("catalog.json")); m != nil {
		base = m[1]
	} else {
		t.Fatal("catalog.json has no base_url")
	}
	// The tree served as if at base_url: URL lists name this server.
	var srv *httptest.Server
	files := http.FileServer(http.Dir(s.out("")))
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if path.Base(req.URL.Path) != "urls.txt" {
			files.ServeHTTP(w, req)
			return
		}
		data, err := os.ReadFile(s.out(strings.TrimPrefix(req.URL.Path, "/")))
		if err != nil {
			http.NotFound(w, req)
			return
		}
		w.Write([]byte(strings.ReplaceAll(string(data), base, srv.URL+"/")))
	}))
	defer srv.Close()
	p := cat.Products[0]
	r := newestRelease(p)
	page := s.read("releases/" + p.ID + "/latest/index.html")
	m := cmdBlock.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the release page has no download and verify commands")
	}
	// The block's text as a person copies it: markup (the spans here.js
	// rewrites) dropped, entities decoded.
	text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[1], "")
	script := strings.ReplaceAll(html.UnescapeString(text), base, srv.URL+"/")
	work := t.TempDir()
	cmd := exec.Command("sh", "-e", "-c", script)
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the release commands failed: %v\n%s\n%s", err, script, out)
	}
	arts := 0
	for _, src := range []catalog.Source{r.Bundle, r.ISO, r.Helm} {
		if src.Path != "" {
			arts++
		}
	}
	if got := strings.Count(string(out), "Verified OK"); got != arts || arts == 0 {
		t.Errorf("openssl verified %d artifacts, want the release's %d:\n%s", got, arts, out)
	}
	if got := strings.Count(string(out), ": OK"); got != arts {
		t.Errorf("sha256sum -c checked %d files, want %d:\n%s", got, arts, out)
	}
	if !strings.Contains(string(out), s.signer.KeyID()) {
		t.Errorf("the commands do not print the key's fingerprint %s:\n%s", s.signer.KeyID(), out)
	}
}
