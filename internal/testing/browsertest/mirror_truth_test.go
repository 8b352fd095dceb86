package browsertest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
	"github.com/packstudio/packstudio/publish/verify"
)

// truthPicks is the bundle the partial mirror holds.
var truthPicks = []string{"ubuntu-aws@24.04", "kubernetes@1.35.2", "cni-calico@3.32.0", "csi-aws-ebs@1.63.1"}

// rebasedPartialMirror mirrors the demo site (served on one host) with
// --bundle into a folder, once per test binary, then serves that folder
// on another host and rebases it there, as a person re-hosting a partial
// mirror does. It returns the origin's root as the mirror recorded it, the
// mirror's folder and its root.
func rebasedPartialMirror(t *testing.T) (origin, dest, root string) {
	t.Helper()
	truthMu.Lock()
	defer truthMu.Unlock()
	if truthDest == "" {
		origin, dest := partialMirror(t)
		root := ServeShared(t, dest) + "/"
		if _, err := mirror.Rebase(dest, root); err != nil {
			t.Fatal(err)
		}
		truthOrigin, truthDest, truthRoot = origin, dest, root
	}
	return truthOrigin, truthDest, truthRoot
}

var (
	truthMu                           sync.Mutex
	truthOrigin, truthDest, truthRoot string
)

func partialMirror(t *testing.T) (origin, dest string) {
	s := demoSite(t)
	origin = ServeRoot(t, s.Dir)
	bundle, _ := json.Marshal(map[string]any{"product": "palette", "version": "4.9.2", "cloud": "aws", "packs": truthPicks})
	file := filepath.Join(t.TempDir(), "bundle.json")
	if err := os.WriteFile(file, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := mirror.ReadBundle(file)
	if err != nil {
		t.Fatal(err)
	}
	src, err := tree.OpenURL(origin, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := sign.LoadPublicKey(filepath.Join(s.Dir, "public_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "packstudio-browsertest-")
	if err != nil {
		t.Fatal(err)
	}
	sharedMu.Lock()
	sharedDirs = append(sharedDirs, dir) // removed by Main
	sharedMu.Unlock()
	dest = filepath.Join(dir, "mirror")
	if _, err := mirror.Mirror(context.Background(), src, key, dest, mirror.Options{Now: buildTime, Filter: &mirror.Filter{Bundle: b}, SourceName: origin}); err != nil {
		t.Fatalf("mirror --bundle: %v", err)
	}
	return origin, dest
}

// cmdText is the text of a page's printed commands.
func cmdText(p *Page) string { return strings.Join(p.Texts("pre.cmd"), "\n") }

// TestRehostedMirrorPrintsItsOwnURLs: the curl lines of release, browse
// and verify pages name the host that serves the rebased mirror, where
// the built base URL is gone; without scripts, and from disk, they keep
// the built URL.
func TestRehostedMirrorPrintsItsOwnURLs(t *testing.T) {
	_, dest, root := rebasedPartialMirror(t)
	const built = "https://packs.example.com/demo/"
	awsFolder := tree.Folder("product=palette", "version=4.9.2", "cloud=aws")
	pages := map[string][]string{
		"releases/palette/4.9.2/index.html": {"curl -fsS " + root + "releases/palette/4.9.2/urls.txt |", "curl -fsSO " + root + "releases/palette/4.9.2/SHA256SUMS &&"},
		awsFolder.File("index.html"):        {"curl -fsS " + root + awsFolder.File("urls.txt") + " |", "curl -fsSO " + root + awsFolder.File("SHA256SUMS") + " &&"},
		"verify/index.html":                 {"curl -fsSO " + root + "verify/verify-signatures.sh\n"},
	}
	for rel, wants := range pages {
		got := cmdText(Open(t, root, rel))
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("%s: commands do not say %q:\n%s", rel, want, got)
			}
		}
		if strings.Contains(got, built) {
			t.Errorf("%s: commands still name the built base URL %s:\n%s", rel, built, got)
		}
		// The commands work there: what they fetch is served and names this host.
		if strings.Contains(rel, "browse/") {
			list := httpGet(t, root+strings.TrimSuffix(rel, "index.html")+"urls.txt")
			if !strings.HasPrefix(list, root+"artifacts/") {
				t.Errorf("%s: the rebased urls.txt does not name this host:\n%.200s", rel, list)
			}
		}
		for _, r := range []string{FileRoot(dest)} {
			if got := cmdText(Open(t, r, rel)); !strings.Contains(got, built) {
				t.Errorf("%s from disk: commands should keep the built base URL %s:\n%s", rel, built, got)
			}
		}
		if got := cmdText(Open(t, root, rel, NoScript())); !strings.Contains(got, built) {
			t.Errorf("%s without JS: commands should keep the built base URL %s:\n%s", rel, built, got)
		}
	}
}

// marks returns, for each pack version (name@version) an element of the
// page stands for, whether it is marked "not in this mirror".
func marks(p *Page, js string) map[string]bool {
	var out map[string]bool
	if err := json.Unmarshal([]byte(Eval[string](p, js)), &out); err != nil {
		p.t.Fatal(err)
	}
	return out
}

// markedNext says whether the element right after el (a link, or the <b>
// around a FIPS version's link) is the mark.
const markedNext = `function markedNext(a) {
  var el = a.parentNode.tagName === 'B' ? a.parentNode : a;
  var n = el.nextElementSibling;
  return !!n && n.classList.contains('left-out') && n.textContent === 'not in this mirror';
}`

// TestPartialMirrorMarksWhatItLeftOut: on browse, pack and builder pages
// of a partial mirror, served and opened from disk, exactly the pack
// versions outside the bundle say "not in this mirror"; the site it came
// from marks nothing.
func TestPartialMirrorMarksWhatItLeftOut(t *testing.T) {
	_, dest, root := rebasedPartialMirror(t)
	inBundle := func(id string) bool { return slices.Contains(truthPicks, id) }
	pages := map[string]string{
		tree.Folder("product=palette", "version=4.9.2", "cloud=aws").File("index.html"): `(() => { ` + markedNext + `
  var out = {};
  document.querySelectorAll('#browse-rows a[data-pick]').forEach(a => { out[a.getAttribute('data-pick')] = markedNext(a); });
  return JSON.stringify(out); })()`,
		"packs/kubernetes/index.html": `(() => { var out = {};
  document.querySelectorAll('section.version').forEach(s => {
    var h = s.querySelector('h3'), tag = h.querySelector('.left-out');
    out['kubernetes@' + s.id.slice(1)] = !!tag && tag.textContent === 'not in this mirror'; });
  return JSON.stringify(out); })()`,
		"bundle/palette/4.9.2/aws/index.html": `(() => { var out = {};
  document.querySelectorAll('#bundle input[value*="@"]').forEach(i => {
    var tag = i.closest('label').querySelector('.left-out');
    out[i.value] = !!tag && tag.textContent === 'not in this mirror'; });
  return JSON.stringify(out); })()`,
	}
	for rel, js := range pages {
		for _, r := range []string{root, FileRoot(dest)} {
			got := marks(Open(t, r, rel), js)
			kept := 0
			for id, marked := range got {
				if marked == inBundle(id) {
					t.Errorf("%s%s: %s marked %v, but the mirror %s it", r, rel, id, marked, map[bool]string{true: "holds", false: "left out"}[inBundle(id)])
				}
				if inBundle(id) {
					kept++
				}
			}
			if kept == 0 || kept == len(got) {
				t.Errorf("%s%s: %d versions, %d in the bundle: the page shows no mix to check", r, rel, len(got), kept)
			}
		}
		for id, marked := range marks(Open(t, ServeRoot(t, demoSite(t).Dir), rel), js) {
			if marked {
				t.Errorf("the built site marks %s as not in this mirror on %s", id, rel)
			}
		}
	}
}

// TestLeftOutArtifactAnswersWhy: a link to an artifact the mirror left out
// answers 404 with a page that says so and how to fetch it; one it holds
// is served; verify passes on the mirror as it is served.
func TestLeftOutArtifactAnswersWhy(t *testing.T) {
	origin, dest, root := rebasedPartialMirror(t)
	const left = "artifacts/packs/kubernetes/kubernetes-1.35.3.zst"
	if _, err := os.Stat(filepath.Join(dest, left)); err == nil {
		t.Fatalf("the demo's bundle holds %s; pick a version it leaves out", left)
	}
	res, err := http.Get(root + left)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET %s: %s %s, want 404 text/html", left, res.Status, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"left it out by choice", "--bundle bundle.json",
		"curl -fsSO " + origin + left, "curl -fsSO " + origin + "artifacts/packs/kubernetes/kubernetes-1.35.3.sig.bin",
		"packstudio mirror " + origin + " DEST --bundle bundle.json", `"kubernetes@1.35.3"`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET %s: the page does not say %q:\n%s", left, want, body)
		}
	}
	if got := httpGet(t, root+"artifacts/packs/kubernetes/kubernetes-1.35.2.zst"); got == "" {
		t.Error("an artifact the mirror holds is not served")
	}

	dir, err := tree.OpenDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	rep, err := verify.Run(context.Background(), dir, verify.Job{Options: verify.Options{Now: buildTime}, KeyFile: filepath.Join(dest, "public_key.pem")})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.LeftOut) == 0 {
		t.Errorf("verify of the rebased partial mirror: %d failures %v, %d left out", len(rep.Failures), rep.Failures, len(rep.LeftOut))
	}
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", u, res.Status)
		return ""
	}
	return string(b)
}
