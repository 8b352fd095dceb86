package generator

import (
	"regexp"
	"strings"
	"testing"
)

// TestEveryPageHasAnInlineIcon: every page names its icon inline (a data:
// URL, which the pages' CSP allows as img-src 'self' data:), so no browser
// asks the server for /favicon.ico, which is not in the tree, and gets a 404.
func TestEveryPageHasAnInlineIcon(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	icon := regexp.MustCompile(`<link rel="icon" href="data:image/svg\+xml,[^"]+">`)
	csp := regexp.MustCompile(`img-src 'self' data:`)
	pages := 0
	for _, f := range s.files() {
		if !strings.HasSuffix(f, ".html") {
			continue
		}
		pages++
		page := s.read(f)
		head, _, _ := strings.Cut(page, "</head>")
		if !icon.MatchString(head) {
			t.Errorf("%s: no inline icon in its head", f)
		}
		if !csp.MatchString(head) {
			t.Errorf("%s: its CSP does not allow a data: icon", f)
		}
	}
	if pages == 0 {
		t.Fatal("no pages built")
	}
}
