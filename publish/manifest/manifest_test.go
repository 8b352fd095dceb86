package manifest

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

func TestParseRejects(t *testing.T) {
	good := string(sample().Encode())
	tests := map[string]string{
		"traversal":     strings.Replace(good, `"index.html"`, `"../etc/passwd"`, 1),
		"absolute":      strings.Replace(good, `"index.html"`, `"/etc/passwd"`, 1),
		"dot segment":   strings.Replace(good, `"index.html"`, `"a/./b"`, 1),
		"backslash":     strings.Replace(good, `"index.html"`, `"a\\\\b"`, 1),
		"empty segment": strings.Replace(good, `"index.html"`, `"a//b"`, 1),
		"lists itself":  strings.Replace(good, `"index.html"`, `"manifest.json"`, 1),
		"duplicate":     strings.Replace(good, `"index.html"`, `"artifacts/packs/a/a-1.zst"`, 1),
		"negative size": strings.Replace(good, `"size": 10`, `"size": -1`, 1),
		"short digest":  strings.Replace(good, strings.Repeat("0", 64), "00", 1),
		"upper digest":  strings.Replace(good, strings.Repeat("f", 64), strings.Repeat("F", 64), 1),
		"unknown field": strings.Replace(good, `"version"`, `"versoin"`, 1),
		"zero version":  strings.Replace(good, `"version": 3`, `"version": 0`, 1),
		"trailing data": good + "{}",
		"no expiry":     strings.Replace(good, `"expires"`, `"expired"`, 1),
		"control char":  strings.Replace(good, `"index.html"`, `"a\u0001b"`, 1),
		"mirror state":  strings.Replace(good, `"index.html"`, `".packstudio-mirror/state.json"`, 1),
		"dot folder":    strings.Replace(good, `"index.html"`, `"a/.x/b"`, 1),
		"dot file":      strings.Replace(good, `"index.html"`, `".hidden"`, 1),
	}
	for name, data := range tests {
		if _, err := Parse([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
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
		if _, err := CheckBaseURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
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
