package tree

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// MirrorNotePath is the one file a mirror may write in place of a signed
// object: a script of data that says which artifacts this copy of the site
// left out, so that pages mark them ("not in this mirror") and serve
// explains a request for one. The build writes it with nothing left out,
// so a built site's pages load it without a 404; a partial mirror
// replaces it. It is a script, not JSON, because a page opened from disk
// can load a script but not fetch a file. verify accepts in its place only
// the exact rendering of valid data (ParseMirrorNote), so a tampered file
// fails verify, and pages read it only as data.
const MirrorNotePath = "assets/mirror.js"

// MirrorNoteMax bounds the note a reader takes: a few hundred thousand
// left-out paths.
const MirrorNoteMax = 32 << 20

// MirrorNote is what the file says.
type MirrorNote struct {
	// Source is the site the mirror was made from, when it is an http(s)
	// URL (without user, query or fragment), for the command that fetches
	// what was left out.
	Source string `json:"source,omitempty"`
	// Filter is the mirror's filter as flags ("--product palette",
	// "--bundle bundle.json").
	Filter string `json:"filter,omitempty"`
	// LeftOut are the paths of the artifacts and signatures this copy
	// does not hold, sorted.
	LeftOut []string `json:"left_out"`
}

const (
	mirrorNoteHead = "// Written by packstudio: the artifacts this copy of the site left out (pages read it as data only).\nself.packstudioMirror = "
	mirrorNoteTail = ";\n"
)

// PublicSource returns src as a note may show it: an http(s) URL without
// user, password, query or fragment, ending in "/"; "" for anything else
// (a local folder or a bucket means nothing on another host).
func PublicSource(src string) string {
	u, ok := ParseHTTPURL(src)
	if !ok {
		return ""
	}
	clean := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	s, err := CheckBaseURL(clean.String())
	if err != nil {
		return ""
	}
	return s
}

// Render returns the file for n: its left-out paths sorted and unique.
// It refuses what ParseMirrorNote would refuse.
func (n MirrorNote) Render() ([]byte, error) {
	left := append([]string(nil), n.LeftOut...)
	sort.Strings(left)
	left = uniq(left)
	n.LeftOut = left
	if n.LeftOut == nil {
		n.LeftOut = []string{}
	}
	if err := n.check(); err != nil {
		return nil, err
	}
	data, err := json.Marshal(n) // escapes <, > and &: nothing can close a script
	if err != nil {
		return nil, err
	}
	return append(append([]byte(mirrorNoteHead), data...), mirrorNoteTail...), nil
}

// ParseMirrorNote reads a note and accepts it only if it is exactly the
// rendering of valid data: paths under artifacts/ that the manifest rules
// allow, an http(s) source, a filter of plain flag characters.
func ParseMirrorNote(data []byte) (*MirrorNote, error) {
	if len(data) > MirrorNoteMax {
		return nil, fmt.Errorf("%s: larger than %d bytes", MirrorNotePath, MirrorNoteMax)
	}
	body, ok := bytes.CutPrefix(data, []byte(mirrorNoteHead))
	if ok {
		body, ok = bytes.CutSuffix(body, []byte(mirrorNoteTail))
	}
	if !ok {
		return nil, fmt.Errorf("%s: not a mirror note written by packstudio", MirrorNotePath)
	}
	var n MirrorNote
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil || dec.More() {
		return nil, fmt.Errorf("%s: not a mirror note written by packstudio", MirrorNotePath)
	}
	again, err := n.Render()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", MirrorNotePath, err)
	}
	if !bytes.Equal(again, data) {
		return nil, fmt.Errorf("%s: not in the form packstudio writes (sorted, unique, canonical JSON)", MirrorNotePath)
	}
	return &n, nil
}

func (n MirrorNote) check() error {
	if n.Source != "" && PublicSource(n.Source) != n.Source {
		return fmt.Errorf("source %q is not a plain http(s) URL", n.Source)
	}
	if strings.ContainsFunc(n.Filter, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" ._-=/@+:", r))
	}) {
		return fmt.Errorf("filter %q holds characters no mirror flag has", n.Filter)
	}
	for _, p := range n.LeftOut {
		if err := CheckPath(p); err != nil {
			return fmt.Errorf("left-out path %q: %w", p, err)
		}
		if !strings.HasPrefix(p, ArtifactsDir) || HasDotSegment(p) {
			return fmt.Errorf("left-out path %q is not under %s: a mirror leaves out only artifacts", p, ArtifactsDir)
		}
	}
	return nil
}

func uniq(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// PackVersionOf returns the pack name and version of a pack artifact or
// its signature (artifacts/packs/<name>/<name>-<version>.zst or
// .sig.bin), and false for any other path.
func PackVersionOf(p string) (name, version string, ok bool) {
	rest, ok := strings.CutPrefix(p, ArtifactsDir+"packs/")
	if !ok {
		return "", "", false
	}
	name, file, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(file, "/") {
		return "", "", false
	}
	file, ok = strings.CutPrefix(file, name+"-")
	if !ok {
		return "", "", false
	}
	if v, ok := strings.CutSuffix(file, SigSuffix); ok {
		file = v
	} else if file, ok = strings.CutSuffix(file, ".zst"); !ok {
		return "", "", false
	}
	return name, file, file != ""
}
