package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// DefaultChunkSize is the size above which a blob goes to the registry in
// chunks, and the size of each chunk: a cut connection then costs at most
// one chunk, and a proxy's limit on a request's body is not hit.
const DefaultChunkSize = 64 << 20

// chunkAttempts bounds the failed attempts in a row, none of which moved
// an upload on, before a chunked upload is given up; and, separately, how
// often an upload session the registry dropped is started again.
const chunkAttempts = 5

// retryWait is the wait after the first failed attempt; it doubles with
// each further one.
var retryWait = 200 * time.Millisecond

// UploadError is a chunked upload given up: the registry, the repository
// and the blob, and how far the registry had it.
type UploadError struct {
	Registry, Repository string
	Blob                 string
	Size, Offset         int64
	Attempts             int
	Err                  error
}

func (e *UploadError) Error() string {
	return fmt.Sprintf("registry %s, repository %s: upload of blob %s (%d bytes) stopped at byte %d after %d failed attempts: %v; run the push again (what the registry holds is not sent again)",
		e.Registry, e.Repository, e.Blob, e.Size, e.Offset, e.Attempts, e.Err)
}

func (e *UploadError) Unwrap() error { return e.Err }

// errUploadUnknown is an upload session the registry no longer has.
var errUploadUnknown = errors.New("the registry has no such upload session")

// chunkedUpload is one blob going to the registry in chunks through an
// upload session (the distribution spec's chunked upload: POST, PATCH with
// Content-Range, PUT with the digest). After a failed PATCH it asks the
// registry how much it holds (GET of the session's URL, the Range header)
// and goes on from there. oras-go pushes blobs in one request only, so
// this talks HTTP itself, through the repository's authenticated client.
type chunkedUpload struct {
	repo  *remote.Repository
	d     ocispec.Descriptor
	chunk int64
	// open returns the blob's bytes from offset on.
	open func(offset int64) (io.ReadCloser, error)
	// origin is the URL the session was started at; loc the session's
	// URL as the registry last gave it, which must stay on origin's host.
	origin, loc *url.URL
}

// pushChunked sends d in chunks of chunk bytes, reporting each chunk the
// registry acknowledges to sent.
func pushChunked(ctx context.Context, repo *remote.Repository, d ocispec.Descriptor, chunk int64, open func(int64) (io.ReadCloser, error), sent func(int64)) error {
	ctx = auth.AppendRepositoryScope(ctx, repo.Reference, auth.ActionPull, auth.ActionPush)
	u := &chunkedUpload{repo: repo, d: d, chunk: chunk, open: open}
	if err := u.start(ctx); err != nil {
		return err
	}
	failed, restarts := 0, 0
	// off is where the session stands; best the most the registry has
	// held, so that only passing it counts as progress, which a registry
	// going back and forth cannot fake forever.
	var off, best int64
	progress := func(at int64) {
		off = at
		if at > best {
			sent(at - best)
			best, failed = at, 0
		}
	}
	for {
		var err error
		if off == d.Size {
			if err = u.finish(ctx); err == nil {
				return nil
			}
			if ok, _ := repo.Blobs().Exists(ctx, d); ok {
				return nil // it went in; only the answer was lost
			}
		} else {
			var next int64
			if next, err = u.patch(ctx, off); err == nil {
				progress(next)
				continue
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		failed++
		if !retryable(err) || failed >= chunkAttempts {
			u.cancel(ctx)
			return &UploadError{Registry: repo.Reference.Registry, Repository: repo.Reference.Repository, Blob: d.Digest.String(),
				Size: d.Size, Offset: off, Attempts: failed, Err: err}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(retryWait << (failed - 1)):
		}
		switch at, serr := u.status(ctx); {
		case serr == nil:
			progress(at) // part of a cut chunk may have gone in
		case errors.Is(serr, errUploadUnknown) && restarts < chunkAttempts:
			restarts++
			if serr = u.start(ctx); serr == nil {
				off = 0
			}
		}
	}
}

// start opens an upload session.
func (u *chunkedUpload) start(ctx context.Context) error {
	scheme := "https"
	if u.repo.PlainHTTP {
		scheme = "http"
	}
	u.origin = &url.URL{Scheme: scheme, Host: u.repo.Reference.Host(), Path: "/v2/" + u.repo.Reference.Repository + "/blobs/uploads/"}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.origin.String(), nil)
	if err != nil {
		return err
	}
	resp, err := u.repo.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return registryError(resp)
	}
	return u.follow(resp)
}

// patch sends the chunk at off and returns where the registry now stands.
func (u *chunkedUpload) patch(ctx context.Context, off int64) (int64, error) {
	n := min(u.chunk, u.d.Size-off)
	body, err := u.open(off)
	if err != nil {
		return off, err
	}
	defer body.Close()
	// The body cannot be rewound: neither the retrying transport nor the
	// login sends it twice; a failure comes back here, to ask the registry.
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, u.loc.String(), io.LimitReader(body, n))
	if err != nil {
		return off, err
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", off, off+n-1))
	resp, err := u.repo.Client.Do(req)
	if err != nil {
		return off, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return off, registryError(resp)
	}
	if err := u.follow(resp); err != nil {
		return off, err
	}
	if at, ok := rangeEnd(resp.Header.Get("Range")); ok {
		return u.within(at)
	}
	return off + n, nil
}

// within checks an offset the registry gave against the blob's size.
func (u *chunkedUpload) within(at int64) (int64, error) {
	if at > u.d.Size {
		return 0, fmt.Errorf("the registry says it holds %d bytes of the %d-byte blob %s", at, u.d.Size, u.d.Digest)
	}
	return at, nil
}

// status asks the registry how many bytes of the session it holds.
func (u *chunkedUpload) status(ctx context.Context) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.loc.String(), nil)
	if err != nil {
		return 0, err
	}
	resp, err := u.repo.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return 0, errUploadUnknown
	case resp.StatusCode/100 != 2:
		return 0, registryError(resp)
	}
	if err := u.follow(resp); err != nil {
		return 0, err
	}
	at, ok := rangeEnd(resp.Header.Get("Range"))
	if !ok {
		return 0, fmt.Errorf("upload status %s: no Range header", u.loc.Redacted())
	}
	return u.within(at)
}

// cancel ends a session given up, so that the registry does not keep its
// part of the blob until it purges stale uploads; best effort.
func (u *chunkedUpload) cancel(ctx context.Context) {
	ctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u.loc.String(), nil)
	if err != nil {
		return
	}
	if resp, err := u.repo.Client.Do(req); err == nil {
		resp.Body.Close()
	}
}

// finish closes the session with the blob's digest.
func (u *chunkedUpload) finish(ctx context.Context) error {
	loc := *u.loc
	q := loc.Query()
	q.Set("digest", u.d.Digest.String())
	loc.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, loc.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := u.repo.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return registryError(resp)
	}
	return nil
}

// follow takes the session's next URL from a response's Location, which
// must stay on the registry's host and scheme (credentials go with it).
func (u *chunkedUpload) follow(resp *http.Response) error {
	loc, err := resp.Location()
	if err != nil {
		return fmt.Errorf("%s %s: %d with no upload Location", resp.Request.Method, resp.Request.URL.Redacted(), resp.StatusCode)
	}
	if !sameUploadHost(loc, u.origin) || u.origin.Scheme == "https" && loc.Scheme != "https" {
		return fmt.Errorf("the registry's upload Location %s leaves %s://%s; refused", loc.Redacted(), u.origin.Scheme, u.origin.Host)
	}
	u.loc = loc
	return nil
}

// sameUploadHost reports whether a and b name one host and port, the
// default ports made explicit.
func sameUploadHost(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		switch {
		case u.Port() != "":
			return u.Port()
		case u.Scheme == "https":
			return "443"
		}
		return "80"
	}
	return a.Hostname() == b.Hostname() && port(a) == port(b)
}

// rangeEnd reads an upload's Range header, "0-LAST", as the number of
// bytes the registry holds. "0-0" is read as none: the spec's form cannot
// tell none from one, and a registry that holds one byte refuses a chunk
// from 0, which the next status query repeats until the attempts run out.
func rangeEnd(h string) (int64, bool) {
	h = strings.TrimPrefix(strings.TrimSpace(h), "bytes=")
	first, last, ok := strings.Cut(h, "-")
	if !ok || first != "0" {
		return 0, false
	}
	n, err := strconv.ParseInt(last, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	if n == 0 {
		return 0, true
	}
	return n + 1, true
}

// retryable reports whether a failed request may succeed on another try:
// a broken connection, a registry error of the 5xx kind, a throttle, or a
// session out of step (416) or gone (404), which a status query settles.
func retryable(err error) bool {
	var resp *errcode.ErrorResponse
	if !errors.As(err, &resp) {
		return true
	}
	switch s := resp.StatusCode; {
	case s >= 500, s == http.StatusRequestTimeout, s == http.StatusTooManyRequests,
		s == http.StatusRequestedRangeNotSatisfiable, s == http.StatusNotFound:
		return true
	}
	return false
}

// registryError reads a registry's error response.
func registryError(resp *http.Response) error {
	e := &errcode.ErrorResponse{Method: resp.Request.Method, URL: resp.Request.URL, StatusCode: resp.StatusCode}
	var body struct{ Errors errcode.Errors }
	if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body) == nil {
		e.Errors = body.Errors
	}
	return e
}
