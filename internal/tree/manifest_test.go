package tree

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample() *Manifest {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Manifest{Version: 3, Generated: t0, Expires: t0.Add(2160 * time.Hour), BaseURL: "https://packs.example.com/", KeyID: strings.Repeat("ab", 32),
		Objects: []Object{
			{Path: "index.html", Size: 10, SHA256: strings.Repeat("0", 64)},
			{Path: "artifacts/packs/a/a-1.zst", Size: 0, SHA256: strings.Repeat("f", 64)},
		}}
}

func TestEncodeParseRoundTrip(t *testing.T) {
	m := sample()
	data := m.Encode()
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Encode()) != string(data) {
		t.Fatal("encode → parse → encode changed the bytes")
	}
	if got.Objects[0].Path != "artifacts/packs/a/a-1.zst" {
		t.Error("objects are not sorted by path")
	}
	if !SameObjects(m, got) {
		t.Error("SameObjects is false for equal object lists")
	}
}

// TestParseRejects: each bad manifest is refused for its own fault, named
// in the message, not for some other fault the edit happened to make.
func TestParseRejects(t *testing.T) {
	good := string(sample().Encode())
	object := func(p string) string { return strings.Replace(good, `"index.html"`, p, 1) }
	const unclean = `is not a clean relative path inside the tree`
	const dotted = `has a segment starting with ".", which is reserved for bookkeeping`
	tests := []struct{ name, data, want string }{
		{"traversal", object(`"../etc/passwd"`), `path "../etc/passwd" ` + unclean},
		{"absolute", object(`"/etc/passwd"`), `path "/etc/passwd" ` + unclean},
		{"dot segment", object(`"a/./b"`), `path "a/./b" ` + unclean},
		{"backslash", object(`"a\\b"`), `holds a control character or backslash`},
		{"empty segment", object(`"a//b"`), `path "a//b" ` + unclean},
		{"lists itself", object(`"manifest.json"`), `the manifest cannot list itself`},
		{"lists its signature", object(`"manifest.json.sig.bin"`), `the manifest cannot list itself`},
		{"duplicate", object(`"artifacts/packs/a/a-1.zst"`), `object "artifacts/packs/a/a-1.zst" is listed twice`},
		{"negative size", strings.Replace(good, `"size": 10`, `"size": -1`, 1), `object "index.html" has a negative size`},
		{"short digest", strings.Replace(good, strings.Repeat("0", 64), "00", 1), `object "index.html": sha256 must be 64 lower-case hex digits`},
		{"upper digest", strings.Replace(good, strings.Repeat("f", 64), strings.Repeat("F", 64), 1), `object "artifacts/packs/a/a-1.zst": sha256 must be 64 lower-case hex digits`},
		{"non-hex digest", strings.Replace(good, strings.Repeat("0", 64), strings.Repeat("g", 64), 1), `object "index.html": sha256 must be 64 lower-case hex digits`},
		{"unknown field", strings.Replace(good, `"version"`, `"versoin"`, 1), `unknown field "versoin"`},
		{"zero version", strings.Replace(good, `"version": 3`, `"version": 0`, 1), `version 0 is not a positive number`},
		{"no version", withoutKey(t, good, "version"), `version 0 is not a positive number`},
		{"trailing data", good + "{}", `data after the manifest object`},
		{"no expiry", withoutKey(t, good, "expires"), `generated and expires must be set`},
		{"no generated", withoutKey(t, good, "generated"), `generated and expires must be set`},
		{"control char", object(`"a\u0001b"`), `holds a control character or backslash`},
		{"mirror state", object(`".packstudio-mirror/state.json"`), `path ".packstudio-mirror/state.json" ` + dotted},
		{"dot folder", object(`"a/.x/b"`), `path "a/.x/b" ` + dotted},
		{"dot file", object(`".hidden"`), `path ".hidden" ` + dotted},
		{"not JSON", "version: 3", `manifest.json: invalid character`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data))
			if err == nil || !strings.HasPrefix(err.Error(), "manifest.json: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming manifest.json with %q", err, tt.want)
			}
		})
	}
}

// withoutKey removes the line of a top-level key from an encoded manifest,
// so that a case tests the key's absence and nothing else.
func withoutKey(t *testing.T, encoded, key string) string {
	t.Helper()
	var kept []string
	for _, line := range strings.Split(encoded, "\n") {
		if !strings.HasPrefix(line, `  "`+key+`": `) {
			kept = append(kept, line)
		}
	}
	if len(kept) != strings.Count(encoded, "\n") {
		t.Fatalf("the encoded manifest has no line for %q", key)
	}
	return strings.Join(kept, "\n")
}

func TestParseNamesTheDotPath(t *testing.T) {
	data := strings.Replace(string(sample().Encode()), `"index.html"`, `"a/.well-known/b"`, 1)
	_, err := Parse([]byte(data))
	if err == nil || !strings.Contains(err.Error(), `"a/.well-known/b"`) || !strings.Contains(err.Error(), "reserved for bookkeeping") {
		t.Errorf("error: %v", err)
	}
}

func TestCheckBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://packs.example.com":        "https://packs.example.com/",
		"http://mirror.internal:8443/a/b/": "http://mirror.internal:8443/a/b/",
	} {
		if got, err := CheckBaseURL(in); err != nil || got != want {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "packs.example.com", "ftp://a/", "https:///x", "https://a/?q", "https://a/#f",
		"https://a/ -o /etc/x", "https://a/\t", "https://a/\n", "https://a/'", `https://a/"`, `https://a/\`, "https://a/\x7f"} {
		if _, err := CheckBaseURL(bad); err == nil || !strings.Contains(err.Error(), "not an absolute http(s) URL") {
			t.Errorf("%q: error %v, want one asking for an absolute http(s) URL", bad, err)
		}
	}
}

func TestExpired(t *testing.T) {
	m := sample()
	if m.Expired(m.Generated) || !m.Expired(m.Expires) || !m.Expired(m.Expires.Add(time.Second)) {
		t.Error("expiry is wrong at its edges")
	}
}

// FuzzParse checks that any accepted manifest has only safe paths and
// survives encode → parse unchanged.
func FuzzParse(f *testing.F) {
	f.Add(sample().Encode())
	f.Add([]byte(`{"version":1,"generated":"2026-01-01T00:00:00Z","expires":"2027-01-01T00:00:00Z","base_url":"","key_id":"","objects":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		for _, o := range m.Objects {
			if CheckPath(o.Path) != nil || HasDotSegment(o.Path) {
				t.Fatalf("unsafe path accepted: %q", o.Path)
			}
		}
		again, err := Parse(m.Encode())
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		m.Generated, m.Expires = m.Generated.UTC().Truncate(time.Second), m.Expires.UTC().Truncate(time.Second)
		if !reflect.DeepEqual(again.Index(), m.Index()) || again.Version != m.Version || !again.Expires.Equal(m.Expires) {
			t.Fatalf("round trip changed the manifest")
		}
	})
}
