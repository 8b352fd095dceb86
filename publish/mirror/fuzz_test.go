package publish

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/publish/manifest"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1048576":             1048576,
		"4.7G":                4_700_000_000,
		"700M":                700_000_000,
		"25GiB":               25 << 30,
		" 2Ki ":               2048,
		"1e3":                 1000,
		"9007199254740993":    9007199254740993, // past 2^53: exact, not rounded by a float
		"9223372036854775807": math.MaxInt64,
		"8388607Ti":           8388607 << 40,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	// NaN, Inf, 0.5 and those past int64 were once accepted: NaN and
	// +Inf as sizes, a fraction of a byte as 0, and the rest wrapped to
	// negative numbers.
	for _, bad := range []string{"", "G", "-1", "0", "0.5", "-1G", "NaN", "Inf", "+Inf", "1e30", "9223372036854775808",
		"8388608Ti", "9.3e18", "10T12", "1 G"} {
		if got, err := ParseSize(bad); err == nil || !strings.Contains(err.Error(), strconv.Quote(bad)+" is not a size") {
			t.Errorf("ParseSize(%q) = %d, %v; want an error naming it", bad, got, err)
		}
	}
}

// FuzzParseSize: any input gives a positive size or an error, and a whole
// number of any unit reads back exactly when it fits in an int64.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"4.7G", "700M", "25GiB", "1048576", "0.5", "NaN", "1e30", "-1"} {
		f.Add(s, int64(1))
	}
	f.Add("", int64(9007199254740993))
	f.Add("", int64(math.MaxInt64))
	units := []struct {
		suffix string
		m      int64
	}{{"", 1}, {"B", 1}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"Ki", 1 << 10}, {"MiB", 1 << 20}, {"Gi", 1 << 30}, {"TiB", 1 << 40}}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		if got, err := ParseSize(s); err == nil && got < 1 {
			t.Fatalf("ParseSize(%q) = %d", s, got)
		}
		for _, u := range units {
			in := strconv.FormatInt(n, 10) + u.suffix
			got, err := ParseSize(in)
			fits := n >= 1 && n <= math.MaxInt64/u.m
			switch {
			case fits && (err != nil || got != n*u.m):
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", in, got, err, n*u.m)
			case !fits && err == nil:
				t.Fatalf("ParseSize(%q) = %d, want an error", in, got)
			}
		}
	})
}

// FuzzReplaceBase: a URL list under one base, rebased to another and back,
// is the same bytes, and every rebased line is an absolute URL on the new
// base's host under its path. Any list at all is rebased or refused.
func FuzzReplaceBase(f *testing.F) {
	f.Add("https://packs.example.com/", "http://mirror.internal:8443/packs/", "artifacts/packs/a/a-1.zst\nartifacts/packs/b/b-2.zst")
	f.Add("https://packs.example.com/studio/", "https://packs.example.com/", "artifacts/releases/palette/4.7.3/palette-4.7.3.tar.zst")
	f.Add("http://a/", "http://a/b/", "")
	f.Fuzz(func(t *testing.T, from, to, rests string) {
		_, _ = replaceBase([]byte(rests), from, to) // never panics, whatever the list holds
		from, errFrom := manifest.CheckBaseURL(from)
		to, errTo := manifest.CheckBaseURL(to)
		if errFrom != nil || errTo != nil {
			return
		}
		var list strings.Builder
		for rest := range strings.SplitSeq(rests, "\n") {
			if _, err := url.Parse(from + rest); err != nil || strings.ContainsFunc(rest, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				return // not a line a list can hold
			}
			list.WriteString(from + rest + "\n")
		}
		out, err := replaceBase([]byte(list.String()), from, to)
		if err != nil {
			t.Fatalf("a list under %s refused: %v", from, err)
		}
		toURL, _ := url.Parse(to)
		for line := range strings.SplitSeq(strings.TrimSuffix(string(out), "\n"), "\n") {
			u, err := url.Parse(line)
			if !strings.HasPrefix(line, to) || err != nil || u.Scheme != toURL.Scheme || u.Host != toURL.Host {
				t.Fatalf("rebased line %q is not under %s (%v)", line, to, err)
			}
		}
		back, err := replaceBase(out, to, from)
		if err != nil || !bytes.Equal(back, []byte(list.String())) {
			t.Fatalf("rebased to %s and back: %q, %v; want %q", to, back, err, list.String())
		}
	})
}

// FuzzParseVolumeIndex: any volume.json is refused or names only safe
// paths, and an accepted one encodes to bytes that parse to the same index
// and encode the same again.
func FuzzParseVolumeIndex(f *testing.F) {
	seed, _ := json.MarshalIndent(VolumeIndex{Volume: 1, Volumes: 2, ManifestSHA256: strings.Repeat("ab", 32), Entries: []VolumeEntry{
		{Path: "index.html", Name: "index.html", Size: 10, Whole: true},
		{Path: "artifacts/iso/appliance-4.7.3.iso", Name: "artifacts/iso/appliance-4.7.3.iso.part-002", Offset: 1 << 20, Size: 5},
	}}, "", " ")
	f.Add(seed)
	f.Add([]byte(`{"volume":1,"volumes":1,"entries":[{"path":"../x","name":"x","size":1,"whole":true}]}`))
	f.Add([]byte(`{"entries":[{"path":"a","name":"a\\b"}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var idx VolumeIndex
		entries, err := parseVolumeIndex(data, &idx)
		if err != nil {
			return
		}
		for name, e := range entries {
			if name != e.Name || manifest.CheckPath(e.Path) != nil || manifest.CheckPath(e.Name) != nil {
				t.Fatalf("unsafe entry accepted: %+v", e)
			}
		}
		enc, err := json.Marshal(idx)
		if err != nil {
			t.Fatal(err)
		}
		var again VolumeIndex
		if _, err := parseVolumeIndex(enc, &again); err != nil || !reflect.DeepEqual(again, idx) {
			t.Fatalf("re-parsed %s: %+v, %v; want %+v", enc, again, err, idx)
		}
		if enc2, _ := json.Marshal(again); !bytes.Equal(enc2, enc) {
			t.Fatalf("encoding is not stable: %s then %s", enc, enc2)
		}
	})
}

// TestParseVolumeIndexRefuses: a volume.json that is not JSON, or that
// names a path outside the tree, is refused for that reason.
func TestParseVolumeIndexRefuses(t *testing.T) {
	for _, tt := range []struct{ name, data, want string }{
		{"not JSON", `{"volume":`, "bad volume.json: unexpected end of JSON input"},
		{"wrong type", `{"entries":{}}`, "bad volume.json: json: cannot unmarshal object"},
		{"traversal in path", `{"entries":[{"path":"../x","name":"x","size":1,"whole":true}]}`, "volume.json names an unsafe path"},
		{"absolute name", `{"entries":[{"path":"x","name":"/etc/x","size":1,"whole":true}]}`, "volume.json names an unsafe path"},
		{"backslash in name", `{"entries":[{"path":"x","name":"a\\b"}]}`, "volume.json names an unsafe path"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var idx VolumeIndex
			if _, err := parseVolumeIndex([]byte(tt.data), &idx); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
