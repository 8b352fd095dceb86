package tree

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
)

// FuzzReplaceBase: a URL list under one base, rebased to another and back,
// is the same bytes, and every rebased line is an absolute URL on the new
// base's host under its path. Any list at all is rebased or refused.
func FuzzReplaceBase(f *testing.F) {
	f.Add("https://packs.example.com/", "http://mirror.internal:8443/packs/", "artifacts/packs/a/a-1.zst\nartifacts/packs/b/b-2.zst")
	f.Add("https://packs.example.com/studio/", "https://packs.example.com/", "artifacts/releases/palette/4.7.3/palette-4.7.3.tar.zst")
	f.Add("http://a/", "http://a/b/", "")
	f.Fuzz(func(t *testing.T, from, to, rests string) {
		_, _ = ReplaceBase([]byte(rests), from, to) // never panics, whatever the list holds
		from, errFrom := CheckBaseURL(from)
		to, errTo := CheckBaseURL(to)
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
		out, err := ReplaceBase([]byte(list.String()), from, to)
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
		back, err := ReplaceBase(out, to, from)
		if err != nil || !bytes.Equal(back, []byte(list.String())) {
			t.Fatalf("rebased to %s and back: %q, %v; want %q", to, back, err, list.String())
		}
	})
}
