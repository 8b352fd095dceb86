package browsertest

import (
	"strings"
	"testing"
)

// Every page carries a CSP that lets only the site's own scripts run: an
// inline script injected into the page is refused, over HTTP and from disk.
func TestContentSecurityPolicy(t *testing.T) {
	site := demoSite(t)
	for _, root := range roots(t, site) {
		for _, page := range demoPages {
			p := Open(t, root, page)
			csp := Eval[string](p, `(document.querySelector('meta[http-equiv="Content-Security-Policy"]') || {}).content || ''`)
			if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("%s%s: CSP %q does not limit scripts to the site", root, page, csp)
			}
			ran := Eval[bool](p, `(() => { const s = document.createElement('script');
				s.textContent = 'window.__inlineRan = true'; document.body.append(s); return window.__inlineRan === true; })()`)
			if ran {
				t.Errorf("%s%s: an inline script ran", root, page)
			}
			refused := false
			for _, pr := range p.Problems() {
				refused = refused || strings.Contains(pr, "Content Security Policy")
			}
			if !refused {
				t.Errorf("%s%s: no CSP violation reported for the inline script: %v", root, page, p.Problems())
			}
			p.ForgetProblems()
		}
	}
}
