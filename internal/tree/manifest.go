package tree

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Object is one file of the tree.
type Object struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Manifest lists every object of a tree except itself and its signature.
type Manifest struct {
	// Version grows with every build that changes any object.
	Version   int64     `json:"version"`
	Generated time.Time `json:"generated"`
	Expires   time.Time `json:"expires"`
	// BaseURL is the site's base URL that absolute URL lists were written
	// with; verify maps a rebased copy's lists back through it.
	BaseURL string `json:"base_url"`
	// KeyID is the SHA-256 fingerprint of the signing public key.
	KeyID   string   `json:"key_id"`
	Objects []Object `json:"objects"`
}

// Encode writes the manifest as JSON with one object a line, sorted by path,
// so that equal manifests are equal bytes and diffs stay readable.
func (m *Manifest) Encode() []byte {
	objs := append([]Object(nil), m.Objects...)
	sort.Slice(objs, func(i, j int) bool { return objs[i].Path < objs[j].Path })
	var b bytes.Buffer
	b.Grow(64 + len(objs)*128)
	fmt.Fprintf(&b, "{\n  \"version\": %d,\n  \"generated\": %q,\n  \"expires\": %q,\n  \"base_url\": %s,\n  \"key_id\": %q,\n  \"objects\": [",
		m.Version, m.Generated.UTC().Format(time.RFC3339), m.Expires.UTC().Format(time.RFC3339), quote(m.BaseURL), m.KeyID)
	for i, o := range objs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    {\"path\": ")
		b.WriteString(quote(o.Path))
		b.WriteString(", \"size\": ")
		b.WriteString(strconv.FormatInt(o.Size, 10))
		b.WriteString(", \"sha256\": \"")
		b.WriteString(o.SHA256)
		b.WriteString("\"}")
	}
	b.WriteString("\n  ]\n}\n")
	return b.Bytes()
}

func quote(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// Parse decodes and checks a manifest: unknown fields, unsafe or duplicate
// paths, bad digests and negative sizes are errors, since a manifest may
// come from anywhere.
func Parse(data []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	if dec.More() {
		return nil, errors.New("manifest.json: data after the manifest object")
	}
	if m.Version < 1 {
		return nil, fmt.Errorf("manifest.json: version %d is not a positive number", m.Version)
	}
	if m.Generated.IsZero() || m.Expires.IsZero() {
		return nil, errors.New("manifest.json: generated and expires must be set")
	}
	seen := make(map[string]bool, len(m.Objects))
	for i, o := range m.Objects {
		if err := CheckPath(o.Path); err != nil {
			return nil, fmt.Errorf("manifest.json: object %d: %w", i, err)
		}
		if HasDotSegment(o.Path) {
			// Dot-folders are bookkeeping (a mirror's state, partial
			// downloads, temp files): a manifest that could name them
			// could overwrite them.
			return nil, fmt.Errorf("manifest.json: object %d: path %q has a segment starting with \".\", which is reserved for bookkeeping; the publisher must rename it", i, o.Path)
		}
		if o.Path == ManifestName || o.Path == ManifestSigName {
			return nil, fmt.Errorf("manifest.json: object %d: the manifest cannot list itself", i)
		}
		if seen[o.Path] {
			return nil, fmt.Errorf("manifest.json: object %q is listed twice", o.Path)
		}
		seen[o.Path] = true
		if o.Size < 0 {
			return nil, fmt.Errorf("manifest.json: object %q has a negative size", o.Path)
		}
		if len(o.SHA256) != 64 || strings.ToLower(o.SHA256) != o.SHA256 {
			return nil, fmt.Errorf("manifest.json: object %q: sha256 must be 64 lower-case hex digits", o.Path)
		}
		if _, err := hex.DecodeString(o.SHA256); err != nil {
			return nil, fmt.Errorf("manifest.json: object %q: sha256 must be 64 lower-case hex digits", o.Path)
		}
	}
	return &m, nil
}

// CheckPath accepts only clean relative slash paths that stay inside the
// tree: no leading "/", no "." or ".." segments, no empty segments, no
// backslashes or control characters.
func CheckPath(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	if len(p) > 1024 {
		return fmt.Errorf("path %.40q… is too long", p)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fmt.Errorf("path %q holds a control character or backslash", p)
		}
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".", "..":
			return fmt.Errorf("path %q is not a clean relative path inside the tree", p)
		}
	}
	return nil
}

// HasDotSegment reports whether a slash path has a segment starting with
// ".": a dot-file or a path inside a dot-folder, which trees keep for
// bookkeeping and never list.
func HasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// CheckBaseURL accepts an absolute http(s) URL with a host and no query or
// fragment, made only of characters that survive `xargs` (no white space,
// quotes, backslashes or control characters), since URL lists are read
// that way. It returns the URL with exactly one trailing slash.
func CheckBaseURL(s string) (string, error) {
	bad := func() (string, error) {
		return "", errors.New("not an absolute http(s) URL like https://packs.example.com/ (no spaces, quotes, query or fragment)")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '"' || r == '\'' || r == '\\' }) {
		return bad()
	}
	u, ok := ParseHTTPURL(s)
	if !ok || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return bad()
	}
	return strings.TrimSuffix(s, "/") + "/", nil
}

// ParseHTTPURL parses an absolute http:// or https:// URL with a host: a
// base URL, a site to read, an S3 endpoint.
func ParseHTTPURL(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// Index maps paths to objects.
func (m *Manifest) Index() map[string]Object {
	idx := make(map[string]Object, len(m.Objects))
	for _, o := range m.Objects {
		idx[o.Path] = o
	}
	return idx
}

// SameObjects reports whether two manifests list the same objects.
func SameObjects(a, b *Manifest) bool {
	if len(a.Objects) != len(b.Objects) {
		return false
	}
	idx := b.Index()
	for _, o := range a.Objects {
		if idx[o.Path] != o {
			return false
		}
	}
	return true
}

// Expired reports whether the manifest has expired at now.
func (m *Manifest) Expired(now time.Time) bool { return !now.Before(m.Expires) }
