package browsertest

import (
	"fmt"
	"github.com/packstudio/packstudio/internal/tree"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

var browseAll = tree.Folder().Path() + "/"

// browseEntry is one row of a browse index.json.
type browseEntry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

func browseEntries(t *testing.T, s *Site, dir string) []browseEntry {
	var list struct {
		Count int           `json:"count"`
		Packs []browseEntry `json:"packs"`
	}
	readJSON(t, s, dir+"index.json", &list)
	if list.Count != len(list.Packs) {
		t.Fatalf("%sindex.json: count %d, %d packs", dir, list.Count, len(list.Packs))
	}
	return list.Packs
}

// expectedURLs is what "Copy all URLs" must copy for entries: each
// artifact then its signature, as catalog.json names them, resolved
// against the root the page was opened from.
func expectedURLs(t *testing.T, c *builtCatalog, root string, entries []browseEntry) string {
	t.Helper()
	var b strings.Builder
	for _, e := range entries {
		found := false
		for _, p := range c.Packs {
			for _, v := range p.Versions {
				if p.Name == e.Name && v.Version == e.Version {
					b.WriteString(root + v.URL + "\n" + root + v.SigURL + "\n")
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("%s@%s is not in catalog.json", e.Name, e.Version)
		}
	}
	return b.String()
}

// rowMatches is the oracle of the browse filter: every word appears in the
// pack's name, display name, layer name or a version (or, for packs whose
// display name is shared, their clouds).
func rowMatches(c *builtCatalog, name, filter string) bool {
	for _, p := range c.Packs {
		if p.Name != name {
			continue
		}
		fields := []string{p.Name, p.DisplayName, c.layerName(p.Layer)}
		for _, v := range p.Versions {
			fields = append(fields, v.Version)
		}
		text := strings.ToLower(strings.Join(fields, "\n"))
		for _, w := range strings.Fields(strings.ToLower(filter)) {
			if !strings.Contains(text, w) {
				return false
			}
		}
		return true
	}
	return false
}

func TestBrowseCopyAllURLs(t *testing.T) {
	site := demoSite(t)
	cat := loadCatalog(t, site)
	dirs := []string{browseAll, tree.Folder("product=palette", "version=4.7.16", "cloud=aws").Path() + "/", tree.Folder("layer=cni", "fips=fips").Path() + "/"}
	for _, root := range roots(t, site) {
		for _, dir := range dirs {
			entries := browseEntries(t, site, dir)
			if len(entries) == 0 {
				t.Fatalf("%s lists nothing; pick a selection with packs", dir)
			}
			p := Open(t, root, dir+"index.html")
			p.Click("#copy-urls")
			want := expectedURLs(t, cat, root, entries)
			if got := p.Copied(); got != want {
				t.Errorf("%s%s: copied\n%s\nwant\n%s", root, dir, got, want)
			}
			if got := p.Clipboard(); got != want {
				t.Errorf("%s%s: the clipboard holds %d bytes, want the %d copied", root, dir, len(got), len(want))
			}
			checkURLsAnswer(t, root, site.Dir, strings.Fields(want))
		}
	}
}

// checkURLsAnswer fetches every URL from serve (200), or finds its file in
// the tree when the page was opened from disk.
func checkURLsAnswer(t *testing.T, root, dir string, urls []string) {
	t.Helper()
	for _, u := range urls {
		if !strings.HasPrefix(u, root) {
			t.Errorf("URL %s is outside the site %s", u, root)
			continue
		}
		if strings.HasPrefix(root, "file://") {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(u, root)))); err != nil {
				t.Errorf("copied %s: %v", u, err)
			}
			continue
		}
		resp, err := http.Head(u)
		if err != nil {
			t.Errorf("copied %s: %v", u, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("copied %s: HTTP %d", u, resp.StatusCode)
		}
	}
}

// The filter hides the rows without every word; "Copy all URLs" then copies
// only the rows shown.
func TestBrowseFilter(t *testing.T) {
	site := demoSite(t)
	cat := loadCatalog(t, site)
	entries := browseEntries(t, site, browseAll)
	for _, root := range roots(t, site) {
		p := Open(t, root, browseAll+"index.html")
		for _, filter := range []string{"calico", "CILIUM 1.1", "storage-that-does-not-exist", ""} {
			p.SetValue("#filter-rows", filter)
			shown := p.Attrs("tr[data-pack]:not([hidden])", "data-pack")
			var want []string
			var wantEntries []browseEntry
			for _, e := range entries {
				if rowMatches(cat, e.Name, filter) {
					wantEntries = append(wantEntries, e)
					if !slices.Contains(want, e.Name) {
						want = append(want, e.Name)
					}
				}
			}
			if !slices.Equal(shown, want) {
				t.Errorf("%s filter %q shows %v, want %v", root, filter, shown, want)
			}
			if len(wantEntries) == 0 {
				continue // the button is disabled: nothing to copy
			}
			p.Click("#copy-urls")
			if got, wantURLs := p.Copied(), expectedURLs(t, cat, root, wantEntries); got != wantURLs {
				t.Errorf("%s filter %q: copied\n%s\nwant\n%s", root, filter, got, wantURLs)
			}
		}
	}
}

// Every version links to its artifact and its signature and carries its
// name@version for scripts; packs sharing a display name say which is which.
func TestBrowseRows(t *testing.T) {
	site := demoSite(t)
	cat := loadCatalog(t, site)
	entries := browseEntries(t, site, browseAll)
	for _, root := range roots(t, site) {
		p := Open(t, root, browseAll+"index.html")
		var picks []string
		for _, e := range entries {
			picks = append(picks, e.Name+"@"+e.Version)
		}
		if got := p.Attrs("tr[data-pack] a[data-pick]", "data-pick"); !slices.Equal(got, picks) {
			t.Errorf("%s: data-pick %v, want %v", root, got, picks)
		}
		want := strings.Fields(expectedURLs(t, cat, root, entries))
		var got []string
		for i, art := range p.Links("tr[data-pack] a[data-pick]") {
			got = append(got, art, p.Links("tr[data-pack] a.sig")[i])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: version and signature links\n%v\nwant\n%v", root, got, want)
		}

		// Six demo packs are called "Ubuntu": each row says its pack name
		// and clouds, so no two read the same.
		var ubuntu []string
		for _, pk := range cat.Packs {
			if pk.DisplayName == "Ubuntu" {
				ubuntu = append(ubuntu, pk.Name)
			}
		}
		if len(ubuntu) < 2 {
			t.Fatalf("the demo has %d packs called Ubuntu; the test needs a collision", len(ubuntu))
		}
		seen := map[string]bool{}
		for _, name := range ubuntu {
			th := p.Texts(fmt.Sprintf(`tr[data-pack=%q] th`, name))
			if len(th) != 1 || !strings.Contains(th[0], name) {
				t.Errorf("%s: the row of %s reads %q, without its pack name", root, name, th)
				continue
			}
			if clouds := cloudsOf(cat, name); !strings.Contains(th[0], clouds) {
				t.Errorf("%s: the row of %s reads %q, without its clouds %q", root, name, th[0], clouds)
			}
			if seen[th[0]] {
				t.Errorf("%s: two rows read %q", root, th[0])
			}
			seen[th[0]] = true
		}
		if th := p.Texts(`tr[data-pack="cni-cilium-oss"] th small`); len(th) != 0 {
			t.Errorf("%s: a pack with a unique display name has the extra line %q", root, th)
		}
		checkPageLinks(t, p, site.Dir)
	}
}

// checkPageLinks checks that every link of the page that stays in the site
// names a file of the tree (links are written from the page's <base>), and
// that the skip link stays on the page.
func checkPageLinks(t *testing.T, p *Page, dir string) {
	t.Helper()
	here := strings.SplitN(p.URL(), "#", 2)[0]
	if skip := p.Links("a.skip"); len(skip) != 1 || skip[0] != here+"#main" {
		t.Errorf("%s: skip link %v, want %s#main", here, skip, here)
	}
	for _, u := range p.Links("a[href]") {
		u = strings.SplitN(strings.SplitN(u, "#", 2)[0], "?", 2)[0]
		if !strings.HasPrefix(u, p.Root()) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(u, p.Root())))); err != nil {
			t.Errorf("%s links to %s: %v", here, u, err)
		}
	}
}

// cloudsOf lists the names of the clouds of a pack's versions, in catalog
// order, as the browse row shows them.
func cloudsOf(c *builtCatalog, name string) string {
	var names []string
	for _, cl := range c.Clouds {
		for _, p := range c.Packs {
			if p.Name != name {
				continue
			}
			for _, v := range p.Versions {
				if slices.Contains(v.Clouds, cl.ID) && !slices.Contains(names, cl.Name) {
					names = append(names, cl.Name)
				}
			}
		}
	}
	return strings.Join(names, ", ")
}

// By keyboard alone: type a filter, Tab to "Copy all URLs", press Enter.
// Where the page has no clipboard API (plain HTTP on another host is not a
// secure context), the list shows in a selected text box instead.
func TestBrowseCopyByKeyboardWithoutClipboardAPI(t *testing.T) {
	site := demoSite(t)
	cat := loadCatalog(t, site)
	root := ServeRoot(t, site.Dir)
	p := Open(t, root, browseAll+"index.html")
	p.Do(`Object.defineProperty(navigator, 'clipboard', {value: undefined, configurable: true})`)
	p.Type("#filter-rows", "flannel")
	p.Run(chromedp.KeyEvent(kb.Tab))
	if id := Eval[string](p, `document.activeElement.id`); id != "copy-urls" {
		t.Fatalf("Tab from the filter focuses %q, want the copy button", id)
	}
	p.Run(chromedp.KeyEvent(kb.Enter))
	var want []browseEntry
	for _, e := range browseEntries(t, site, browseAll) {
		if rowMatches(cat, e.Name, "flannel") {
			want = append(want, e)
		}
	}
	if len(want) == 0 {
		t.Fatal("no demo pack matches flannel")
	}
	if got := p.Value("#browse-urls"); got != expectedURLs(t, cat, root, want) {
		t.Errorf("the fallback box holds\n%s\nwant\n%s", got, expectedURLs(t, cat, root, want))
	}
	if sel := Eval[string](p, `String(window.getSelection())`); sel == "" {
		t.Errorf("the fallback box's text is not selected for copying")
	}
}
