package mirror

import (
	"errors"
	"strings"
	"testing"
)

func TestParseBundle(t *testing.T) {
	tests := []struct {
		name, data string
		want       string // the packs as parsed, or the problem text expected
	}{
		{"controller", `{"product":"palette","version":"4.9.2","cloud":"aws","packs":["ubuntu-aws@22.04.5","kubernetes@1.32.3"]}`,
			"palette 4.9.2 on aws: ubuntu-aws@22.04.5 kubernetes@1.32.3"},
		{"add-on only, repeats dropped", `{"product":"palette","version":"4.9.2","packs":["a@1","b@2","a@1"]}`,
			"palette 4.9.2 (any cloud): a@1 b@2"},
		{"unknown fields ignored", `{"product":"p","version":"1","packs":["a@1"],"note":"x"}`, "p 1 (any cloud): a@1"},
		{"missing product", `{"version":"1","packs":["a@1"]}`, `"product" is missing`},
		{"cloud with a slash", `{"product":"p","version":"1","cloud":"a/b","packs":["a@1"]}`, `cloud "a/b" is not an id`},
		{"all is not a product", `{"product":"all","version":"1","packs":["a@1"]}`, `product "all" is not an id`},
		{"packs not a list", `{"product":"p","version":"1","packs":"a@1"}`, "is not a bundle.json at line 1"},
		{"empty name", `{"product":"p","version":"1","packs":["@1"]}`, `pack "@1" is not name@version`},
		{"empty version", `{"product":"p","version":"1","packs":["a@"]}`, `pack "a@" is not name@version`},
		{"dotdot name", `{"product":"p","version":"1","packs":["..@1"]}`, `pack "..@1" is not name@version`},
		{"escape sequence in the cloud", `{"product":"p","version":"1","cloud":"aws\u001b]0;pwned\u0007","packs":["a@1"]}`,
			`cloud "aws\x1b]0;pwned\a" is not an id`},
		{"control character in a pack", `{"product":"p","version":"1","packs":["a@1\u001b[2J"]}`, `pack "a@1\x1b[2J" is not name@version`},
		{"bidi override in the product", `{"product":"p\u202eX","version":"1","packs":["a@1"]}`, `product "p\u202eX" is not an id`},
		{"syntax error on line 3", "{\n\"product\":\"p\",\n\"version\" 1}", "is not a bundle.json at line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := parseBundle("b.json", []byte(tt.data))
			got := ""
			if err != nil {
				var be *BundleError
				if !errors.As(err, &be) || be.File != "b.json" {
					t.Fatalf("error %v is not a BundleError naming the file", err)
				}
				got = err.Error()
			} else {
				got = b.context() + ": " + strings.Join(b.Packs, " ")
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzParseBundle checks that any input either is refused with a
// BundleError or gives a bundle whose ids are safe path segments and whose
// packs are distinct name@version pairs.
func FuzzParseBundle(f *testing.F) {
	f.Add(`{"product":"palette","version":"4.9.2","cloud":"aws","packs":["ubuntu-aws@22.04.5"]}`)
	f.Add(`{"product":"p","version":"1","packs":["a@1","a@1"]}`)
	f.Add(`{"product":"..","version":"1","packs":["a@1"]}`)
	f.Fuzz(func(t *testing.T, data string) {
		b, err := parseBundle("f.json", []byte(data))
		if err != nil {
			var be *BundleError
			if !errors.As(err, &be) || len(be.Problems) == 0 {
				t.Fatalf("error %v is not a BundleError with problems", err)
			}
			return
		}
		for _, s := range append([]string{b.Product, b.Version, b.Cloud}, b.Packs...) {
			if !printable(s) {
				t.Fatalf("unprintable id %q accepted", s)
			}
		}
		for _, s := range []string{b.Product, b.Version, b.Cloud} {
			if strings.ContainsAny(s, `/\@`) || s == ".." || s == "." {
				t.Fatalf("unsafe id %q accepted", s)
			}
		}
		if b.Product == "" || b.Version == "" || len(b.Packs) == 0 {
			t.Fatalf("incomplete bundle accepted: %+v", b)
		}
		seen := map[string]bool{}
		for _, p := range b.Packs {
			name, version, ok := strings.Cut(p, "@")
			if !ok || name == "" || version == "" || strings.ContainsAny(name+version, `@/\`) || seen[p] {
				t.Fatalf("pack %q accepted", p)
			}
			seen[p] = true
		}
	})
}
