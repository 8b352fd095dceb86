package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/packstudio/packstudio/internal/testing/testenv"
)

// ChromiumPath is Debian's chromium, which .ci/run installs.
const ChromiumPath = "/usr/bin/chromium"

// actionTimeout bounds one Run so a hung page fails the test instead of
// hanging it; it is not a speed assertion.
const actionTimeout = 60 * time.Second

var (
	browserMu     sync.Mutex
	browserCtx    context.Context
	browserCancel []context.CancelFunc
	browserDir    string
)

// sharedBrowser starts one headless Chromium per test binary.
func sharedBrowser(t testing.TB) context.Context {
	t.Helper()
	browserMu.Lock()
	defer browserMu.Unlock()
	if browserCtx != nil {
		return browserCtx
	}
	exe := ChromiumPath
	if p := os.Getenv("PACKSTUDIO_CHROMIUM"); p != "" {
		exe = p
	}
	if _, err := os.Stat(exe); err != nil {
		testenv.Missing(t, "chromium is not installed at %s (apt-get install chromium)", exe)
	}
	dir, err := os.MkdirTemp("", "packstudio-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	browserDir = dir
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	if err := grantClipboard(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("chromium: grant clipboard access: %v", err)
	}
	browserCtx, browserCancel = bctx, []context.CancelFunc{cancelBrowser, cancelAlloc}
	return browserCtx
}

// grantClipboard lets every page write and read the clipboard without a
// prompt, so a test can read back what "Copy all URLs" copied.
func grantClipboard(ctx context.Context) error {
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
			Setting:    browser.PermissionSettingGranted,
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func closeBrowser() {
	browserMu.Lock()
	defer browserMu.Unlock()
	for _, c := range browserCancel {
		c()
	}
	if browserDir != "" {
		os.RemoveAll(browserDir)
	}
	browserCtx, browserCancel, browserDir = nil, nil, ""
}

// ServeRoot returns the root URL (ending in "/") of dir served over HTTP.
func ServeRoot(t testing.TB, dir string) string { return Serve(t, dir) + "/" }

// FileRoot returns the file:// root URL (ending in "/") of the tree at dir.
func FileRoot(dir string) string {
	abs, _ := filepath.Abs(dir)
	return "file://" + filepath.ToSlash(abs) + "/"
}

// Page is one browser tab on a site. Everything it loads must stay under
// root; console errors, exceptions and failed loads fail the test.
type Page struct {
	t        testing.TB
	ctx      context.Context
	root     string
	mu       sync.Mutex
	problems []string
	requests []string
}

// Option changes how a page is opened.
type Option func(*pageConfig)

type pageConfig struct {
	noScript bool
	width    int64
}

// NoScript opens the page with JavaScript disabled.
func NoScript() Option { return func(c *pageConfig) { c.noScript = true } }

// Width sets the viewport width in CSS pixels (height 800).
func Width(px int64) Option { return func(c *pageConfig) { c.width = px } }

// copyHook records what the page hands to the clipboard, so a test can
// read it even where the headless clipboard is not reachable. It runs
// through DevTools, so the page's CSP does not apply to it.
const copyHook = `(() => {
  const c = navigator.clipboard;
  if (!c || !c.writeText) return;
  const real = c.writeText.bind(c);
  c.writeText = (text) => { window.__copiedText = String(text); return real(text); };
})();`

// Open opens root+rel (root from ServeRoot or FileRoot) in a new tab,
// closed and checked when t ends.
func Open(t testing.TB, root, rel string, options ...Option) *Page {
	t.Helper()
	var cfg pageConfig
	for _, o := range options {
		o(&cfg)
	}
	p := &Page{t: t, root: root}
	ctx, cancel := chromedp.NewContext(sharedBrowser(t), chromedp.WithListener(p.observe))
	p.ctx = ctx
	t.Cleanup(func() {
		cancel()
		p.check()
	})
	p.Run(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: copyHook}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
			return err
		}
		if cfg.noScript {
			if _, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
				return err
			}
		}
		if cfg.width > 0 {
			_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: cfg.width, Height: 800, DeviceScaleFactor: 1})
			return err
		}
		return nil
	}))
	p.Navigate(rel)
	return p
}

// observe records requests and every kind of page error.
func (p *Page) observe(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.requests = append(p.requests, ev.Request.URL)
		if !p.withinSite(ev.Request.URL) {
			p.problems = append(p.problems, "request leaves the site: "+ev.Request.URL)
		}
	case *network.EventResponseReceived:
		// Chromium asks for /favicon.ico by itself; the site has none.
		if ev.Response.Status >= 400 && ev.Response.URL != p.root+"favicon.ico" {
			p.problems = append(p.problems, fmt.Sprintf("HTTP %d for %s", ev.Response.Status, ev.Response.URL))
		}
	case *network.EventLoadingFailed:
		p.problems = append(p.problems, fmt.Sprintf("load failed (%s %s) for request %s", ev.ErrorText, ev.BlockedReason, ev.RequestID))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		p.problems = append(p.problems, fmt.Sprintf("JS exception at %s:%d: %s", d.URL, d.LineNumber, msg))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			var parts []string
			for _, a := range ev.Args {
				var str string
				switch {
				case a.Description != "":
					parts = append(parts, a.Description)
				case json.Unmarshal(a.Value, &str) == nil:
					parts = append(parts, str)
				default:
					parts = append(parts, string(a.Value))
				}
			}
			p.problems = append(p.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
		}
	case *cdplog.EventEntryAdded:
		if e := ev.Entry; (e.Level == cdplog.EntryLevelError || e.Level == cdplog.EntryLevelWarning) && e.URL != p.root+"favicon.ico" {
			p.problems = append(p.problems, fmt.Sprintf("console %s (%s) %s: %s", e.Level, e.Source, e.URL, e.Text))
		}
	}
}

// withinSite reports whether a request stays in the site: under root, or
// data the page itself holds.
func (p *Page) withinSite(u string) bool {
	// blob: is data the page made itself, such as a download it generated.
	if strings.HasPrefix(u, p.root) || strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:") {
		return true
	}
	// The root's own folder URL without the trailing slash is the site too.
	return u == strings.TrimSuffix(p.root, "/")
}

func (p *Page) check() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.problems {
		p.t.Errorf("page %s: %s", p.root, pr)
	}
}

// Problems returns the errors seen so far (tests that expect one can look).
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// ForgetProblems drops the errors seen so far, for a test that provoked
// them on purpose and checked them.
func (p *Page) ForgetProblems() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = nil
}

// Requests returns every URL requested so far.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Root is the root URL the page must stay under.
func (p *Page) Root() string { return p.root }

// Run runs chromedp actions on the page; an error fails the test.
func (p *Page) Run(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.context(), actions...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// context is the page's context, bounded by actionTimeout once the tab
// exists (the first Do must not get a timeout: it binds the tab's life).
func (p *Page) context() context.Context {
	if chromedp.FromContext(p.ctx).Target == nil {
		return p.ctx
	}
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	p.t.Cleanup(cancel)
	return ctx
}

// result runs one action that returns a value.
func result[T any](p *Page, a chromedp.Action[T]) T {
	p.t.Helper()
	v, err := chromedp.Run(p.context(), a)
	if err != nil {
		p.t.Fatalf("browser: %v", err)
	}
	return v
}

// Navigate loads root+rel and waits for its load event.
func (p *Page) Navigate(rel string) {
	p.t.Helper()
	p.Run(chromedp.Navigate(p.root + rel))
}

// WaitLoaded waits until the page in the tab has fired its load event (its
// deferred scripts have run).
func (p *Page) WaitLoaded() {
	p.t.Helper()
	p.Do(`new Promise(r => document.readyState === 'complete' ? r() : addEventListener('load', () => r()))`)
}

// URL is the page's current location.
func (p *Page) URL() string {
	p.t.Helper()
	return result(p, chromedp.Location())
}

// Eval evaluates a JS expression (awaiting a promise) and decodes its
// value.
func Eval[T any](p *Page, js string) T {
	p.t.Helper()
	return result(p, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// Do evaluates a JS expression for its effect.
func (p *Page) Do(js string) {
	p.t.Helper()
	Eval[chromedp.Void](p, js)
}

// Value is the value of the form control sel (CSS selector).
func (p *Page) Value(sel string) string {
	p.t.Helper()
	return result(p, chromedp.Value(chromedp.CSS(sel)))
}

// SetValue sets a form control's value and fires input and change events,
// as a user's edit would.
func (p *Page) SetValue(sel, value string) {
	p.t.Helper()
	v, _ := json.Marshal(value)
	p.Do(fmt.Sprintf(`(() => { const el = document.querySelector(%q);
		el.value = %s;
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true})); })()`, sel, v))
}

// Type focuses sel and types text with real key events.
func (p *Page) Type(sel, text string) {
	p.t.Helper()
	p.Run(chromedp.Focus(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// Click clicks the element sel.
func (p *Page) Click(sel string) {
	p.t.Helper()
	p.Run(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// Texts returns the textContent of every element matching sel.
func (p *Page) Texts(sel string) []string {
	p.t.Helper()
	return Eval[[]string](p, fmt.Sprintf(`Array.from(document.querySelectorAll(%q), e => e.textContent.trim())`, sel))
}

// Attrs returns attribute attr of every element matching sel.
func (p *Page) Attrs(sel, attr string) []string {
	p.t.Helper()
	return Eval[[]string](p, fmt.Sprintf(`Array.from(document.querySelectorAll(%q), e => e.getAttribute(%q) || '')`, sel, attr))
}

// Links returns the resolved href of every element matching sel.
func (p *Page) Links(sel string) []string {
	p.t.Helper()
	return Eval[[]string](p, fmt.Sprintf(`Array.from(document.querySelectorAll(%q), e => e.href)`, sel))
}

// Clipboard reads the browser's clipboard (access is granted to every page).
func (p *Page) Clipboard() string {
	p.t.Helper()
	return Eval[string](p, `navigator.clipboard.readText()`)
}

// Copied returns the text the page last handed to
// navigator.clipboard.writeText ("" if none).
func (p *Page) Copied() string {
	p.t.Helper()
	return Eval[string](p, `window.__copiedText || ''`)
}
