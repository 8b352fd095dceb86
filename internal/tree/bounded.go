package tree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// DefaultStallTimeout is how long a read of a tree waits for a response or
// for the next byte of a body: a stuck connection then fails (and may be
// retried) instead of hanging the command, while a slow but moving one is
// never cut.
const DefaultStallTimeout = time.Minute

// MaxSignatureSize bounds a detached signature (a manifest's or an
// artifact's): an ECDSA signature is about a hundred bytes.
const MaxSignatureSize = 64 << 10

// Limits bound every read of a tree that is not trusted yet. All of them
// go through OpenObject, the one bounded reader: no body is read past the
// size the caller expects plus one byte, and none waits longer than Stall
// for its next byte. The zero Limits are the defaults.
type Limits struct {
	// MaxManifestSize bounds the manifest read before its signature is
	// checked; default DefaultMaxManifestSize.
	MaxManifestSize int64
	// Stall bounds the wait for a response and for each next byte of its
	// body; default DefaultStallTimeout.
	Stall time.Duration
}

func (l Limits) stall() time.Duration {
	if l.Stall <= 0 {
		return DefaultStallTimeout
	}
	return l.Stall
}

func (l Limits) maxManifest() int64 {
	if l.MaxManifestSize <= 0 {
		return DefaultMaxManifestSize
	}
	return l.MaxManifestSize
}

// StallError is a read that got no byte for the stall bound.
type StallError struct {
	Path  string
	Stall time.Duration
}

func (e *StallError) Error() string {
	return fmt.Sprintf("%s: no data for %s: the connection stalled", e.Path, e.Stall)
}

// OpenObject opens the object p of r from offset on (when r can resume,
// else from 0; start says where the body begins) for an object of size
// bytes. The body yields at most size-start+1 bytes, so that a longer
// object shows as a size mismatch instead of being read forever, and it
// fails with a *StallError when the response or its next byte takes
// longer than l.Stall.
func (l Limits) OpenObject(ctx context.Context, r Reader, p string, offset, size int64) (body io.ReadCloser, start int64, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	b := &boundedBody{path: p, stall: l.stall(), cancel: cancel}
	b.mu.Lock()
	b.timer = time.AfterFunc(b.stall, b.fire)
	b.mu.Unlock()
	var rc io.ReadCloser
	if rr, ok := r.(RangeReader); ok {
		rc, start, err = rr.OpenFrom(ctx, p, offset)
	} else {
		rc, err = r.Open(ctx, p)
	}
	if err != nil {
		stalled := b.stop()
		cancel(nil)
		if stalled {
			return nil, 0, &StallError{Path: p, Stall: b.stall}
		}
		return nil, 0, err
	}
	b.mu.Lock()
	b.rc = rc
	b.r = io.LimitReader(rc, max(size-start, 0)+1)
	stalled := b.stalled
	b.mu.Unlock()
	if stalled { // fired while the response came: it has no body to close
		rc.Close()
	}
	return b, start, nil
}

// boundedBody is a body under Limits. The timer, reset by every byte,
// both cancels the request's context and closes the body, so that a read
// blocked on any Reader returns.
type boundedBody struct {
	path   string
	stall  time.Duration
	cancel context.CancelCauseFunc
	r      io.Reader

	mu      sync.Mutex
	rc      io.ReadCloser
	timer   *time.Timer
	stalled bool
}

var errStalled = errors.New("stalled")

func (b *boundedBody) fire() {
	b.mu.Lock()
	b.stalled = true
	rc := b.rc
	b.mu.Unlock()
	b.cancel(errStalled)
	if rc != nil {
		rc.Close()
	}
}

// stop stops the timer and reports whether it had fired.
func (b *boundedBody) stop() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.timer.Stop()
	return b.stalled
}

func (b *boundedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.mu.Lock()
	stalled := b.stalled
	if n > 0 && !stalled {
		b.timer.Reset(b.stall)
	}
	b.mu.Unlock()
	if err != nil && stalled {
		return n, &StallError{Path: b.path, Stall: b.stall}
	}
	return n, err
}

func (b *boundedBody) Close() error {
	b.stop()
	b.cancel(nil)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rc.Close()
}

// ReadAll reads one whole object, refusing anything over limit bytes.
func (l Limits) ReadAll(ctx context.Context, r Reader, p string, limit int64) ([]byte, error) {
	rc, _, err := l.OpenObject(ctx, r, p, 0, limit)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Path: p, Limit: limit}
	}
	return data, nil
}
