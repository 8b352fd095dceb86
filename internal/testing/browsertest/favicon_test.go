package browsertest

import (
	"strings"
	"testing"
	"time"
)

// No page makes Chromium ask the server for /favicon.ico (which is not in
// the tree, so every page view cost a 404): the icon is inline.
func TestNoFaviconRequest(t *testing.T) {
	site := demoSite(t)
	root := ServeRoot(t, site.Dir)
	for _, page := range []string{"index.html", "search/index.html", "releases/vertex/latest/index.html"} {
		p := Open(t, root, page)
		p.WaitLoaded()
		time.Sleep(500 * time.Millisecond) // the icon is fetched after the load
		for _, u := range p.Requests() {
			if strings.HasSuffix(u, "/favicon.ico") {
				t.Errorf("%s: Chromium requested %s", page, u)
			}
		}
		if got := Eval[string](p, `document.querySelector('link[rel=icon]')?.href ?? ''`); !strings.HasPrefix(got, "data:image/svg+xml,") {
			t.Errorf("%s: the icon is %q, want an inline SVG", page, got)
		}
	}
}
