package browsertest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/tree"
)

// demoPages are one page of every kind of the demo site.
var demoPages = []string{
	"index.html",
	browseAll + "index.html",
	tree.Folder("product=palette", "version=4.7.16", "cloud=aws").File("index.html"),
	tree.Folder("fips=fips").File("index.html"),
	"packs/cni-calico/index.html",
	"packs/ubuntu-aws/index.html",
	"search/index.html",
	"search/index.html?q=calico",
	"search/index.html?q=cilium+fips", // results with add buttons
	"search/index.html?q=ciliun",      // no result: what is near
	"releases/vertex/latest/index.html",
	"releases/palette/4.7.16/index.html",
	"verify/index.html",
	"about/index.html",
	"bundle/index.html",
	"bundle/palette/4.9.2/index.html",
	"bundle/palette/4.9.2/aws/index.html#arch=amd64&fips=all&os=ubuntu-aws@22.04",
	"bundle/palette/4.9.2/addons/index.html#arch=all&fips=all&addon=cost-analyzer@1.103.3", // an unmet need listed
	"bundle/selection/index.html",
}

// TestEveryPageKind opens one page of every kind, over HTTP and from disk,
// wide (1280 px) and narrow (375 px, where command boxes scroll), and runs
// on each load every check that needs a page of every kind. Loading each
// page once for all of them keeps the suite quick; each check is its own
// function below.
func TestEveryPageKind(t *testing.T) {
	site := demoSite(t)
	for _, root := range roots(t, site) {
		overHTTP := !strings.HasPrefix(root, "file:")
		for _, width := range []int64{1280, 375} {
			for _, page := range demoPages {
				p := Open(t, root, page, Width(width))
				where := fmt.Sprintf("%s%s at %dpx", root, page, width)
				if overHTTP {
					checkAxe(t, p, where)
					checkLabelsAndScrollRegions(t, p, where)
				}
				if width == 375 {
					checkNarrowScreen(t, p, where)
				}
				if width == 1280 {
					checkContentSecurityPolicy(t, p, where) // last: it injects a script
				}
			}
		}
	}
}

// checkAxe: no serious or critical axe-core finding (WCAG 2 A/AA), with the
// scripts' enhancements in place.
func checkAxe(t *testing.T, p *Page, where string) {
	t.Helper()
	for _, v := range p.Axe() {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: %s", where, v)
		} else {
			t.Logf("%s (not failing): %s", where, v)
		}
	}
}

// checkLabelsAndScrollRegions is a focused check that needs no axe-core:
// every form control has a label, and every region that scrolls sideways
// can take focus, so a keyboard user can scroll it.
func checkLabelsAndScrollRegions(t *testing.T, p *Page, where string) {
	t.Helper()
	unlabelled := Eval[[]string](p, `Array.from(document.querySelectorAll('input, select, textarea, button'))
		.filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !(e.tagName === 'BUTTON' && e.textContent.trim()))
		.map(e => e.outerHTML.slice(0, 80))`)
	for _, e := range unlabelled {
		t.Errorf("%s: control without a label: %s", where, e)
	}
	stuck := Eval[[]string](p, `Array.from(document.querySelectorAll('body *'))
		.filter(e => { const s = getComputedStyle(e); return /(auto|scroll)/.test(s.overflowX) && e.scrollWidth > e.clientWidth; })
		.filter(e => e.tabIndex < 0 && !e.querySelector('a[href], button, input, select, textarea, [tabindex]'))
		.map(e => e.outerHTML.slice(0, 80))`)
	for _, e := range stuck {
		t.Errorf("%s: a scrollable region cannot take focus: %s", where, e)
	}
}

// checkNarrowScreen: readable at 375 px, nothing makes the page scroll
// sideways.
func checkNarrowScreen(t *testing.T, p *Page, where string) {
	t.Helper()
	if w := Eval[int](p, `document.scrollingElement.scrollWidth`); w > 375 {
		wide := Eval[[]string](p, `Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 376).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)`)
		t.Errorf("%s: the page is %dpx wide; widest: %v", where, w, wide)
	}
}

// checkContentSecurityPolicy: every page carries a CSP that lets only the
// site's own scripts run; an inline script injected into the page is
// refused, over HTTP and from disk.
func checkContentSecurityPolicy(t *testing.T, p *Page, where string) {
	t.Helper()
	csp := Eval[string](p, `(document.querySelector('meta[http-equiv="Content-Security-Policy"]') || {}).content || ''`)
	if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("%s: CSP %q does not limit scripts to the site", where, csp)
	}
	ran := Eval[bool](p, `(() => { const s = document.createElement('script');
		s.textContent = 'window.__inlineRan = true'; document.body.append(s); return window.__inlineRan === true; })()`)
	if ran {
		t.Errorf("%s: an inline script ran", where)
	}
	refused := false
	for _, pr := range p.Problems() {
		refused = refused || strings.Contains(pr, "Content Security Policy")
	}
	if !refused {
		t.Errorf("%s: no CSP violation reported for the inline script: %v", where, p.Problems())
	}
	p.ForgetProblems()
}
