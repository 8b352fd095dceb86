package browsertest

import (
	"strings"
	"testing"
)

// blobCounter counts the Blobs the page makes, so a test can see a choice
// make none.
const blobCounter = `(() => { const Real = Blob; window.__blobCount = 0;
	window.Blob = function (parts, opts) { window.__blobCount++; return new Real(parts, opts); }; })()`

// TestBuilderChoiceMakesNoBlob: a choice updates the review without making
// the download links' files (each Blob and blob: URL is a synchronous
// round trip to the browser process, most of a choice's time on a large
// builder page), and a link used in the very task after a choice still
// hands out the new bundle's file.
func TestBuilderChoiceMakesNoBlob(t *testing.T) {
	s := demoSite(t)
	root := ServeRoot(t, s.Dir)
	p := openWithHooks(t, root, awsBuilder, blobHook, blobCounter)
	pickAll(t, p, s.Catalog, awsPicks[:2])
	download(p, "urls.txt") // the files of the picks so far are made
	type after struct {
		Blobs      int
		URLs, Sums string
	}
	got := Eval[after](p, `(async () => {
		const n = window.__blobCount;
		document.querySelector('fieldset[data-layer="cni"] input[value="cni-calico@3.32.0"]').click();
		const blobs = window.__blobCount - n;
		const text = (name) => { const a = document.querySelector('[data-download="' + name + '"]');
			a.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}));
			return window.__blobs.get(a.href).text(); };
		return {blobs, urls: await text('urls.txt'), sums: await text('SHA256SUMS')};
	})()`)
	if got.Blobs != 0 {
		t.Errorf("a choice made %d Blobs; the download links' files wait for the next frame or for a link's use", got.Blobs)
	}
	if !strings.Contains(got.URLs, "/cni-calico-3.32.0.zst\n") || !strings.Contains(got.Sums, "  cni-calico-3.32.0.zst\n") {
		t.Errorf("urls.txt and SHA256SUMS pressed right after choosing cni-calico@3.32.0 lack it:\n%s\n%s", got.URLs, got.Sums)
	}
}
