package tree

import (
	"strings"
	"testing"
)

func TestMirrorNoteRoundTrip(t *testing.T) {
	n := MirrorNote{Source: "https://packs.example.com/site/", Filter: "--bundle bundle.json",
		LeftOut: []string{"artifacts/packs/b/b-1.0.sig.bin", "artifacts/packs/a/a-</script>.zst", "artifacts/packs/b/b-1.0.sig.bin"}}
	data, err := n.Render()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "</script>") {
		t.Errorf("a path can close a script element:\n%s", data)
	}
	got, err := ParseMirrorNote(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	want := []string{"artifacts/packs/a/a-</script>.zst", "artifacts/packs/b/b-1.0.sig.bin"}
	if strings.Join(got.LeftOut, "|") != strings.Join(want, "|") || got.Source != n.Source || got.Filter != n.Filter {
		t.Errorf("parsed %+v, want sorted unique %q from %+v", got, want, n)
	}
	empty, err := MirrorNote{}.Render()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseMirrorNote(empty); err != nil {
		t.Errorf("the build's empty note does not parse: %v\n%s", err, empty)
	}
}

// A note is data: anything but the exact rendering of valid data is
// refused, so a tampered file cannot pass for one.
func TestMirrorNoteRefusesAnythingElse(t *testing.T) {
	good, _ := MirrorNote{LeftOut: []string{"artifacts/packs/a/a-1.zst"}}.Render()
	s := string(good)
	cases := map[string]string{
		"code after":      s + "alert(1);\n",
		"code inside":     strings.Replace(s, `{"left_out"`, `{"x":alert(1),"left_out"`, 1),
		"unknown field":   strings.Replace(s, `{"left_out"`, `{"run":"x","left_out"`, 1),
		"not artifacts":   strings.Replace(s, "artifacts/packs/a/a-1.zst", "index.html", 1),
		"dot segment":     strings.Replace(s, "artifacts/packs/a/a-1.zst", "artifacts/.packstudio-mirror/state.json", 1),
		"escape the tree": strings.Replace(s, "artifacts/packs/a/a-1.zst", "artifacts/../x", 1),
		"source script":   strings.Replace(s, `{"left_out"`, `{"source":"javascript:alert(1)","left_out"`, 1),
		"filter quote":    strings.Replace(s, `{"left_out"`, `{"filter":"--x \"$(id)\"","left_out"`, 1),
		"not canonical":   strings.Replace(s, `{"left_out":`, `{ "left_out":`, 1),
		"unsorted":        strings.Replace(s, `["artifacts/packs/a/a-1.zst"]`, `["artifacts/packs/b/b-1.zst","artifacts/packs/a/a-1.zst"]`, 1),
		"other head":      strings.Replace(s, "self.packstudioMirror", "window.x", 1),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if n, err := ParseMirrorNote([]byte(data)); err == nil {
				t.Errorf("accepted %+v from\n%s", n, data)
			}
		})
	}
}

func TestPublicSource(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:secret@packs.example.com/site?token=x#f": "https://packs.example.com/site/",
		"http://127.0.0.1:8080":                                "http://127.0.0.1:8080/",
		"file:///srv/site":                                     "",
		"s3://bucket/prefix":                                   "",
		"/srv/site":                                            "",
	} {
		if got := PublicSource(in); got != want {
			t.Errorf("PublicSource(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseMirrorNote: whatever is accepted renders back to itself.
func FuzzParseMirrorNote(f *testing.F) {
	good, _ := MirrorNote{Source: "https://a.example/", Filter: "--product p", LeftOut: []string{"artifacts/packs/a/a-1.zst"}}.Render()
	f.Add(good)
	f.Add([]byte(mirrorNoteHead + `{"left_out":[]}` + mirrorNoteTail))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseMirrorNote(data)
		if err != nil {
			return
		}
		again, err := n.Render()
		if err != nil || string(again) != string(data) {
			t.Fatalf("accepted a note that does not render back: %v\n%q\n%q", err, data, again)
		}
	})
}
