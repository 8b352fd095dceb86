package catalog

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"golang.org/x/tools/txtar"
)

func seedTOML(f *testing.F) {
	ar, err := txtar.ParseFile("testdata/small.txtar")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range ar.Files {
		if strings.HasSuffix(file.Name, ".toml") {
			f.Add(file.Data)
		}
	}
	f.Add([]byte("a = [\n 1,\n [2, {x = 3}],\n]\n[[b.c]]\nd = '''x\n[[e]]\n'''\n"))
	f.Add([]byte("\"quoted.key\" = { 'a' = \"\\\"\" }\n[x . y]\n"))
	// Nesting past MaxTOMLDepth, which once overflowed the decoder's stack.
	f.Add([]byte("a = " + strings.Repeat("[", MaxTOMLDepth+1) + strings.Repeat("]", MaxTOMLDepth+1) + "\n"))
	f.Add([]byte("a = " + strings.Repeat("{x=", MaxTOMLDepth+1) + "1" + strings.Repeat("}", MaxTOMLDepth+1) + "\n"))
	f.Add([]byte(strings.Repeat("[", 4*MaxTOMLDepth)))
	f.Add([]byte("s = '''[[[[\n]]'''\nt = \"\\\"[[[\"\n# [[[[\n"))
}

// FuzzDecodePack checks that any input either fails with problems or decodes
// to a pack that survives a round trip through the TOML encoder unchanged,
// and that finding lines never fails or points past the input.
func FuzzDecodePack(f *testing.F) {
	seedTOML(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw rawPack
		pos, _, ok := DecodeTOML("pack.toml", data, &raw)
		lines := bytes.Count(data, []byte("\n")) + 1
		for path, l := range pos.lines {
			if l < 1 || l > lines {
				t.Fatalf("%s at line %d of %d", path, l, lines)
			}
		}
		if !ok {
			return
		}
		var buf bytes.Buffer
		if err := toml.NewEncoder(&buf).Encode(raw); err != nil {
			return // a value the encoder cannot write back (e.g. a key it cannot quote)
		}
		var again rawPack
		if _, err := toml.Decode(buf.String(), &again); err != nil {
			t.Fatalf("re-decoding the encoded pack: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(normalize(raw), normalize(again)) {
			t.Fatalf("round trip changed the pack:\n%#v\n%#v", raw, again)
		}
	})
}

// normalize makes empty and nil collections equal for comparison.
func normalize(p rawPack) rawPack {
	for i := range p.Version {
		v := &p.Version[i]
		if len(v.Clouds) == 0 {
			v.Clouds = nil
		}
		if len(v.Arch) == 0 {
			v.Arch = nil
		}
		if len(v.Products) == 0 {
			v.Products = nil
		}
		if len(v.Requires) == 0 {
			v.Requires = nil
		}
	}
	if len(p.Version) == 0 {
		p.Version = nil
	}
	return p
}

// FuzzLocate checks that the line finder never fails on any text.
func FuzzLocate(f *testing.F) {
	seedTOML(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		pos := locate(string(data))
		lines := bytes.Count(data, []byte("\n")) + 1
		for path, l := range pos.lines {
			if l < 1 || l > lines {
				t.Fatalf("%s at line %d of %d", path, l, lines)
			}
		}
	})
}

// FuzzParseConstraint checks that a constraint that parses means the same
// after its text is parsed again, and that parsing never panics.
func FuzzParseConstraint(f *testing.F) {
	for _, s := range []string{">=4.6.0 <4.8.0", "~1.29", "^22.04", "1.29 - 1.32", ">=1.29, <1.33 || >=2", "*", "=22.04", "!=1.2", "1.x", ""} {
		f.Add(s)
	}
	probes := []Version{mustVersion("0.1"), mustVersion("1.29.0"), mustVersion("1.32.3"), mustVersion("4.7.3"), mustVersion("22.04"), mustVersion("1.30.0-rc.1")}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConstraint(s)
		if err != nil {
			return
		}
		again, err := ParseConstraint(c.c.String())
		if err != nil {
			t.Fatalf("%q parsed, but its normal form %q does not: %v", s, c.c.String(), err)
		}
		for _, v := range probes {
			if c.Allows(v) != again.Allows(v) {
				t.Fatalf("%q and its normal form %q disagree on %s", s, c.c.String(), v)
			}
		}
	})
}

// FuzzParseVersion checks that accepted versions are safe as path segments.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"22.04", "1.32.3", "1.25", "v1.2", "1.2.3-rc.1+build.5", "../x", "a/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(v.Raw, "/\\ \x00") || strings.HasPrefix(v.Raw, ".") {
			t.Fatalf("unsafe version accepted: %q", v.Raw)
		}
	})
}
