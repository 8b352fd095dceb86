package tree_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/tree"
)

// TestHTTPReaderRangeNotSatisfiable: a 416 to a resumed download starts
// over from 0 once; a 416 to a whole-object request is an error, not a loop.
func TestHTTPReaderRangeNotSatisfiable(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path == "/ok.txt" && r.Header.Get("Range") == "" {
			w.Write([]byte("whole"))
			return
		}
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
	}))
	defer srv.Close()
	h, err := tree.OpenURL(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	body, start, err := h.OpenFrom(ctx, "ok.txt", 3)
	if err != nil || start != 0 {
		t.Fatalf("a stale resume did not start over: start %d, %v", start, err)
	}
	body.Close()

	requests.Store(0)
	if _, err := h.Open(ctx, "broken.txt"); err == nil || !strings.Contains(err.Error(), "416") {
		t.Errorf("a 416 to a plain GET gave %v", err)
	}
	if _, _, err := h.OpenFrom(ctx, "broken.txt", 5); err == nil {
		t.Error("a store answering 416 to every request was read")
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("%d requests for a plain GET and one resume, want 3", n)
	}
}
