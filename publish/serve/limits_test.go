package serve

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startServer serves a small tree, plus a large sparse file, on
// 127.0.0.1 with packstudio's server and listener, and returns its address.
func startServer(t *testing.T, o Options) (addr string, bigSize int64) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>home</h1>"), 0o644)
	os.WriteFile(filepath.Join(dir, "ten.txt"), []byte("0123456789"), 0o644)
	bigSize = 24 << 20
	f, err := os.Create(filepath.Join(dir, "big.iso"))
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(bigSize)
	f.Close()
	h, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := Server("", h, o)
	go srv.Serve(Listen(ln, o))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), bigSize
}

// generous bounds a wait for something that must happen; nothing here
// measures speed.
const generous = 30 * time.Second

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(generous))
	return c
}

// TestServeDoesNotWaitForADeclaredBody: a GET (or a POST) announcing a
// body it never sends is answered at once, not when a timeout fires.
func TestServeDoesNotWaitForADeclaredBody(t *testing.T) {
	addr, _ := startServer(t, Options{ReadTimeout: time.Hour, IdleTimeout: time.Hour})
	for _, req := range []string{
		"GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
		"HEAD /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
		"GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
	} {
		c := dial(t, addr)
		io.WriteString(c, req)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Errorf("%q: no answer: %v", req, err)
			continue
		}
		resp.Body.Close()
		if want := map[bool]int{true: 405, false: 200}[strings.HasPrefix(req, "POST")]; resp.StatusCode != want {
			t.Errorf("%q: %s", req, resp.Status)
		}
	}
}

// TestServeDropsStalledClients: a client that stops sending its headers,
// or its body, or stays idle, is disconnected.
func TestServeDropsStalledClients(t *testing.T) {
	short := 200 * time.Millisecond
	addr, _ := startServer(t, Options{ReadHeaderTimeout: short, ReadTimeout: short, IdleTimeout: short})
	for _, partial := range []string{
		"GET /index.html HTTP/1.1\r\nHost: x\r\n", // headers never end
		"", // says nothing at all
	} {
		c := dial(t, addr)
		io.WriteString(c, partial)
		if _, err := io.ReadAll(c); err != nil {
			t.Errorf("%q: the connection was not closed: %v", partial, err)
		}
	}
	// Idle after an answer.
	c := dial(t, addr)
	r := bufio.NewReader(c)
	io.WriteString(c, "GET /ten.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	if _, err := io.ReadAll(r); err != nil {
		t.Errorf("an idle connection was not closed: %v", err)
	}
}

// TestServeWriteStall: a client that stops reading a large download is cut
// off; one that reads slowly but steadily, for longer than the stall
// limit in all, gets every byte.
func TestServeWriteStall(t *testing.T) {
	stall := 2 * time.Second
	addr, size := startServer(t, Options{WriteStall: stall})

	stalled := dial(t, addr)
	io.WriteString(stalled, "GET /big.iso HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(3 * stall) // not reading
	resp, err := http.ReadResponse(bufio.NewReader(stalled), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := io.Copy(io.Discard, resp.Body); n >= size {
		t.Errorf("a client that stopped reading got all %d bytes", n)
	}

	slow := dial(t, addr)
	slow.SetDeadline(time.Now().Add(2 * generous))
	io.WriteString(slow, "GET /big.iso HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err = http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var n int64
	buf := make([]byte, 1<<20)
	for {
		m, err := io.ReadFull(resp.Body, buf)
		n += int64(m)
		if err != nil {
			break
		}
		time.Sleep(stall / 10)
	}
	if n != size {
		t.Errorf("a slow but steady client got %d of %d bytes", n, size)
	}
	if time.Since(start) < stall {
		t.Logf("the slow download took %s, less than the stall limit: it proves little", time.Since(start))
	}
}

// TestServeConnectionCap: past MaxConns, a new connection waits until one
// closes, then is answered.
func TestServeConnectionCap(t *testing.T) {
	addr, _ := startServer(t, Options{MaxConns: 2, ReadHeaderTimeout: time.Hour, ReadTimeout: time.Hour, IdleTimeout: time.Hour})
	holders := []net.Conn{dial(t, addr), dial(t, addr)}
	// Each holder has been accepted once it is answered.
	for _, c := range holders {
		io.WriteString(c, "GET /ten.txt HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
	}
	third := dial(t, addr)
	io.WriteString(third, "GET /ten.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	third.SetReadDeadline(time.Now().Add(time.Second))
	r := bufio.NewReader(third)
	if _, err := r.Peek(1); err == nil {
		t.Fatal("a third connection was served while two held the cap of 2")
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("third connection: %v", err)
	}
	holders[0].Close()
	third.SetReadDeadline(time.Now().Add(generous))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("the waiting connection was not served once a slot freed: %v", err)
	}
	if body, _ := io.ReadAll(resp.Body); string(body) != "0123456789" {
		t.Errorf("body %q", body)
	}
}

// TestServeEmptySuffixRange: "bytes=-0" selects nothing: 416 with
// "bytes */size", not a 206 with an impossible Content-Range.
func TestServeEmptySuffixRange(t *testing.T) {
	srv := newServer(t)
	url := srv.URL + "/artifacts/packs/a/a-1.zst"
	for _, rng := range []string{"bytes=-0", "bytes=-00", "bytes= -0 , -0"} {
		resp, _ := get(t, url, map[string]string{"Range": rng})
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || resp.Header.Get("Content-Range") != "bytes */10" {
			t.Errorf("%s: %s, Content-Range %q", rng, resp.Status, resp.Header.Get("Content-Range"))
		}
	}
	resp, body := get(t, url, map[string]string{"Range": "bytes=-0,2-4"})
	if resp.StatusCode != http.StatusPartialContent || body != "234" || resp.Header.Get("Content-Range") != "bytes 2-4/10" {
		t.Errorf("-0 with another range: %s %q %q", resp.Status, body, resp.Header.Get("Content-Range"))
	}
	resp, body = get(t, url, map[string]string{"Range": "bytes=-3"})
	if resp.StatusCode != http.StatusPartialContent || body != "789" {
		t.Errorf("bytes=-3: %s %q", resp.Status, body)
	}
	// If-Range that does not match means the whole file, whatever the range.
	resp, body = get(t, url, map[string]string{"Range": "bytes=-0", "If-Range": `"other"`})
	if resp.StatusCode != http.StatusOK || body != "0123456789" {
		t.Errorf("-0 with a stale If-Range: %s %q", resp.Status, body)
	}
}
