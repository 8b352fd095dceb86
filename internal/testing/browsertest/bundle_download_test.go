package browsertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// downloads saves what a page downloads into a folder, under the
// download's GUID, and reports the name Chromium suggests for it: the name
// a person's browser saves it under.
type downloads struct {
	dir     string
	begun   chan *browser.EventDownloadWillBegin
	done    chan *browser.EventDownloadProgress
	pending atomic.Int64 // begun and not yet finished
}

func allowDownloads(t *testing.T, p *Page) *downloads {
	t.Helper()
	d := &downloads{dir: t.TempDir(), begun: make(chan *browser.EventDownloadWillBegin, 16), done: make(chan *browser.EventDownloadProgress, 16)}
	if err := chromedp.ListenBrowser(p.ctx, func(ev any) {
		switch ev := ev.(type) {
		case *browser.EventDownloadWillBegin:
			d.pending.Add(1)
			d.begun <- ev
		case *browser.EventDownloadProgress:
			if ev.State != browser.DownloadProgressStateInProgress {
				d.pending.Add(-1)
				d.done <- ev
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	on := true
	if _, err := chromedp.CallBrowser(p.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: d.dir, EventsEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A download still being written would keep its folder from
		// being removed: wait for the ones a test started and left.
		for end := time.Now().Add(30 * time.Second); d.pending.Load() > 0 && time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond)
		}
		chromedp.CallBrowser(sharedBrowser(t), browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorDefault})
	})
	return d
}

// save runs click and returns the suggested name and the bytes saved of
// the one download it starts.
func (d *downloads) save(t *testing.T, click func()) (string, []byte) {
	t.Helper()
	click()
	timeout := time.After(30 * time.Second)
	var begun *browser.EventDownloadWillBegin
	select {
	case begun = <-d.begun:
	case <-timeout:
		t.Fatal("no download began")
	}
	select {
	case ev := <-d.done:
		if ev.GUID != begun.GUID || ev.State != browser.DownloadProgressStateCompleted {
			t.Fatalf("download %s of %s: %s", ev.GUID, begun.SuggestedFilename, ev.State)
		}
	case <-timeout:
		t.Fatalf("download of %s did not finish", begun.SuggestedFilename)
	}
	b, err := os.ReadFile(filepath.Join(d.dir, begun.GUID))
	if err != nil {
		t.Fatal(err)
	}
	return begun.SuggestedFilename, b
}

// TestBuilderDownloadsSaveUnderTheirNames clicks every download of the
// builder's review and of the selection page in Chromium: each saves under
// exactly the name the instructions use, with the bytes the page made, and
// download.sh, run with sh, fetches and verifies the bundle.
func TestBuilderDownloadsSaveUnderTheirNames(t *testing.T) {
	s := demoSite(t)
	root := ServeRoot(t, s.Dir)
	p := openWithBlobHook(t, root, awsBuilder)
	d := allowDownloads(t, p)
	c := pickAll(t, p, s.Catalog, awsPicks)
	b := newBuilderPage(s.Catalog, s.Catalog.Products[0].Releases[len(s.Catalog.Products[0].Releases)-1], "aws")
	if b.rel != awsBuilder {
		t.Fatalf("the oracle's page is %s, not %s", b.rel, awsBuilder)
	}
	b.checkReview(t, p, s, root, c) // the blobs hold what the oracle says
	saved := map[string][]byte{}
	for _, name := range []string{"urls.txt", "SHA256SUMS", "bundle.json", "download.sh"} {
		got, data := d.save(t, func() { p.Click(fmt.Sprintf(`[data-download=%q]`, name)) })
		if got != name {
			t.Errorf("%s downloads as %q", name, got)
		}
		if want := download(p, name); string(data) != want {
			t.Errorf("%s saved:\n%s\nwant what the page made:\n%s", name, data, want)
		}
		saved[name] = data
	}

	// download.sh, in an empty folder, fetches every file and checks it.
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "download.sh"), saved["download.sh"], 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runScript(work)
	if err != nil {
		t.Fatalf("sh download.sh: %v\n%s", err, out)
	}
	if n := strings.Count(out, "Verified OK"); n != len(awsPicks) {
		t.Errorf("download.sh verified %d signatures, want %d:\n%s", n, len(awsPicks), out)
	}
	sums, err := os.ReadFile(filepath.Join(work, "SHA256SUMS"))
	if err != nil || string(sums) != string(saved["SHA256SUMS"]) {
		t.Errorf("download.sh wrote SHA256SUMS %q (%v), want the page's %q", sums, err, saved["SHA256SUMS"])
	}
	for _, u := range strings.Fields(string(saved["urls.txt"])) {
		rel := strings.TrimPrefix(u, root)
		if !sameFile(t, filepath.Join(s.Dir, filepath.FromSlash(rel)), filepath.Join(work, filepath.Base(rel))) {
			t.Errorf("download.sh saved %s unlike the site's", filepath.Base(rel))
		}
	}

	// The selection page shares the review: the same names.
	sel := openWithBlobHook(t, root, "bundle/selection/index.html")
	sel.Do(`localStorage.setItem("packstudio.picks", JSON.stringify(["kubernetes@1.35.2", "cni-calico@3.32.0"]))`)
	sel.Navigate("bundle/selection/index.html")
	ds := allowDownloads(t, sel)
	for _, name := range []string{"SHA256SUMS", "urls.txt", "bundle.json", "download.sh"} {
		if got, data := ds.save(t, func() { sel.Click(fmt.Sprintf(`[data-download=%q]`, name)) }); got != name || len(data) == 0 {
			t.Errorf("selection page: %s downloads as %q, %d bytes", name, got, len(data))
		}
	}
	sel.Do(`localStorage.clear()`)
}

func runScript(dir string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "download.sh")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	return err == nil && string(x) == string(y)
}

// opfsPicker hands "Download bundle" the origin private file system as
// the folder a person picked.
const opfsPicker = `window.showDirectoryPicker = () => navigator.storage.getDirectory();`

const clearOPFS = `(async () => { const d = await navigator.storage.getDirectory();
	for await (const [n] of d.entries()) await d.removeEntry(n, {recursive: true}); })()`

// readOPFS is every file of the origin private file system and its SHA-256.
const readOPFS = `(async () => { const d = await navigator.storage.getDirectory(); const out = {};
	for await (const [n, h] of d.entries()) {
		const s = await crypto.subtle.digest('SHA-256', await (await h.getFile()).arrayBuffer());
		out[n] = Array.from(new Uint8Array(s), x => x.toString(16).padStart(2, '0')).join('');
	}
	return out; })()`

// TestBuilderDownloadBundle runs "Download bundle" into the origin private
// file system: every artifact, signature, SHA256SUMS and the public key
// land there with the site's bytes. Served from a copy of the tree with
// one byte of one artifact flipped, that artifact and its signature are
// refused, named, and not written, and download.sh fails too.
func TestBuilderDownloadBundle(t *testing.T) {
	s := demoSite(t)
	tampered := awsPicks[2]
	name, version, _ := strings.Cut(tampered, "@")
	tamperedRel := "artifacts/packs/" + name + "/" + name + "-" + version + ".zst"
	want := map[string]string{}
	var sums strings.Builder
	for _, id := range awsPicks {
		n, v, _ := strings.Cut(id, "@")
		base := "artifacts/packs/" + n + "/" + n + "-" + v
		want[filepath.Base(base)+".zst"] = fileSHA256(t, filepath.Join(s.Dir, base+".zst"))
		want[filepath.Base(base)+".sig.bin"] = fileSHA256(t, filepath.Join(s.Dir, base+".sig.bin"))
	}
	inEntryOrder := slices.Clone(awsPicks)
	slices.SortFunc(inEntryOrder, func(a, b string) int { return versionByID(s.Catalog, a).Index - versionByID(s.Catalog, b).Index })
	for _, id := range inEntryOrder {
		n, v, _ := strings.Cut(id, "@")
		sums.WriteString(want[n+"-"+v+".zst"] + "  " + n + "-" + v + ".zst\n")
	}
	want["public_key.pem"] = fileSHA256(t, filepath.Join(s.Dir, "public_key.pem"))
	sum := sha256.Sum256([]byte(sums.String()))
	want["SHA256SUMS"] = hex.EncodeToString(sum[:])

	for _, tamper := range []bool{false, true} {
		t.Run(fmt.Sprintf("tampered=%v", tamper), func(t *testing.T) {
			dir := s.Dir
			if tamper {
				dir = copyTree(t, s.Dir)
				f := filepath.Join(dir, filepath.FromSlash(tamperedRel))
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)/2] ^= 1
				if err := os.Remove(f); err != nil { // a link to the shared site's file
					t.Fatal(err)
				}
				if err := os.WriteFile(f, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			root := ServeRoot(t, dir)
			p := openWithHooks(t, root, awsBuilder, blobHook, opfsPicker)
			pickAll(t, p, s.Catalog, awsPicks)
			p.Do(clearOPFS)
			p.Click("#download-bundle")
			p.Run(chromedp.WaitVisible("[data-save][data-result] [data-save-status]"))
			result := Eval[string](p, `document.querySelector('[data-save]').dataset.result`)
			got := Eval[map[string]string](p, readOPFS)
			status := p.Texts("[data-save-status]")[0]
			problems := strings.Join(p.Texts("[data-save-problems] li"), "\n")
			expect := maps.Clone(want)
			wantResult := "ok"
			if tamper {
				wantResult = "refused"
				delete(expect, filepath.Base(tamperedRel))
				delete(expect, strings.TrimSuffix(filepath.Base(tamperedRel), ".zst")+".sig.bin")
				if !strings.Contains(problems, filepath.Base(tamperedRel)+": its SHA-256 is") {
					t.Errorf("the refusal does not name %s:\n%s", filepath.Base(tamperedRel), problems)
				}
			}
			if result != wantResult {
				t.Errorf("result %q (%s), want %q; problems:\n%s", result, status, wantResult, problems)
			}
			if !maps.Equal(got, expect) {
				t.Errorf("saved files:\n%v\nwant\n%v", sortedKeys(got), sortedKeys(expect))
				for n, h := range expect {
					if got[n] != h {
						t.Errorf("%s: SHA-256 %s, want %s", n, got[n], h)
					}
				}
			}
			if Eval[float64](p, `document.querySelector('[data-save-progress]').value`) != Eval[float64](p, `document.querySelector('[data-save-progress]').max`) {
				t.Errorf("the progress bar did not reach its end")
			}
			if tamper {
				work := t.TempDir()
				if err := os.WriteFile(filepath.Join(work, "download.sh"), []byte(download(p, "download.sh")), 0o644); err != nil {
					t.Fatal(err)
				}
				if out, err := runScript(work); err == nil || !strings.Contains(out, "FAILED") {
					t.Errorf("download.sh accepted a tampered artifact (%v):\n%s", err, out)
				}
			}
		})
	}
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// copyTree copies a built tree into a new temporary folder: hard links
// where it can (thousands of pages), so replace a file before changing it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "public")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if os.Link(path, filepath.Join(dst, rel)) == nil {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
