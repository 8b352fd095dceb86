package tree_test

import (
	"context"
	"errors"
	"io"
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

// TestLimitsBoundEveryRead: through Limits, a server that never answers,
// or stops sending, fails with a *StallError, and a body longer than the
// size asked for yields one byte more, never the rest.
func TestLimitsBoundEveryRead(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/silent":
		case "/stalls":
			w.Write([]byte("some"))
			w.(http.Flusher).Flush()
		case "/endless":
			for {
				if _, err := w.Write(make([]byte, 32<<10)); err != nil {
					return
				}
			}
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	defer srv.Close()
	defer close(done)
	h, err := tree.OpenURL(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lim := tree.Limits{Stall: 200 * time.Millisecond}
	for _, p := range []string{"silent", "stalls"} {
		_, err := lim.ReadAll(ctx, h, p, 100)
		var stall *tree.StallError
		if !errors.As(err, &stall) || stall.Path != p || ctx.Err() != nil {
			t.Errorf("%s: got %v; want a *StallError before the test's deadline", p, err)
		}
	}
	if _, err := lim.ReadAll(ctx, h, "endless", 1000); err == nil || !strings.Contains(err.Error(), "endless is larger than 1000 bytes") {
		t.Errorf("an endless body read whole: %v", err)
	}
	body, _, err := lim.OpenObject(ctx, h, "endless", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if n, err := io.Copy(io.Discard, body); n != 1001 || err != nil {
		t.Errorf("an endless body of a 1000-byte object gave %d bytes, %v; want 1001", n, err)
	}
}
