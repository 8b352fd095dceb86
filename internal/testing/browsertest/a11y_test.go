package browsertest

import (
	"github.com/packstudio/packstudio/internal/tree"
	"testing"
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

// No serious or critical axe-core finding (WCAG 2 A/AA) on any page kind,
// with the scripts' enhancements in place, wide and at 375 px (where
// command boxes scroll).
func TestAccessibilityAxe(t *testing.T) {
	site := demoSite(t)
	root := ServeRoot(t, site.Dir)
	for _, width := range []int64{1280, 375} {
		for _, page := range demoPages {
			p := Open(t, root, page, Width(width))
			for _, v := range p.Axe() {
				if v.Impact == "serious" || v.Impact == "critical" {
					t.Errorf("%s at %dpx: %s", page, width, v)
				} else {
					t.Logf("%s at %dpx (not failing): %s", page, width, v)
				}
			}
		}
	}
}

// A focused check that needs no axe-core: every form control has a label,
// and every region that scrolls sideways can take focus, so a keyboard
// user can scroll it.
func TestAccessibilityLabelsAndScrollRegions(t *testing.T) {
	site := demoSite(t)
	root := ServeRoot(t, site.Dir)
	for _, width := range []int64{1280, 375} {
		for _, page := range demoPages {
			p := Open(t, root, page, Width(width))
			unlabelled := Eval[[]string](p, `Array.from(document.querySelectorAll('input, select, textarea, button'))
				.filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !(e.tagName === 'BUTTON' && e.textContent.trim()))
				.map(e => e.outerHTML.slice(0, 80))`)
			for _, e := range unlabelled {
				t.Errorf("%s at %dpx: control without a label: %s", page, width, e)
			}
			stuck := Eval[[]string](p, `Array.from(document.querySelectorAll('body *'))
				.filter(e => { const s = getComputedStyle(e); return /(auto|scroll)/.test(s.overflowX) && e.scrollWidth > e.clientWidth; })
				.filter(e => e.tabIndex < 0 && !e.querySelector('a[href], button, input, select, textarea, [tabindex]'))
				.map(e => e.outerHTML.slice(0, 80))`)
			for _, e := range stuck {
				t.Errorf("%s at %dpx: a scrollable region cannot take focus: %s", page, width, e)
			}
		}
	}
}

// Readable at 375 px: nothing makes the page scroll sideways.
func TestNarrowScreen(t *testing.T) {
	site := demoSite(t)
	for _, root := range roots(t, site) {
		for _, page := range demoPages {
			p := Open(t, root, page, Width(375))
			if w := Eval[int](p, `document.scrollingElement.scrollWidth`); w > 375 {
				wide := Eval[[]string](p, `Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 376).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)`)
				t.Errorf("%s%s is %dpx wide at 375px; widest: %v", root, page, w, wide)
			}
		}
	}
}
