package catalog

import (
	"strings"
	"testing"
)

// TestDecodeRefusesDeepOrHugeTOML: nesting that once overflowed the
// decoder's stack (or took minutes, for inline tables) and oversized files
// are refused before decoding, with the line; brackets inside strings and
// comments do not count.
func TestDecodeRefusesDeepOrHugeTOML(t *testing.T) {
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + strings.Repeat(close, n)
	}
	tests := []struct {
		name, data, want string
	}{
		{"nested arrays", "name = \"x\"\n\na = " + deep("[", "]", 2_000_000) + "\n",
			"p.toml:3: arrays and inline tables nest deeper than 64 levels; flatten the arrays and inline tables, or use [table] headers"},
		{"nested inline tables", "a = " + strings.Repeat("{x=", 2000) + "1" + strings.Repeat("}", 2000) + "\n",
			"p.toml:1: arrays and inline tables nest deeper than 64 levels"},
		{"one past the limit", "description = \"\"\"\n\"\"\"\na = " + deep("[", "]", MaxTOMLDepth+1),
			"p.toml:3: arrays and inline tables nest deeper than 64 levels"},
		{"too large", "description = \"" + strings.Repeat("x", MaxTOMLSize) + "\"\n",
			"p.toml: file is larger than 4 MiB"},
		{"at the limit", "a = " + deep("[", "]", MaxTOMLDepth), `p.toml:1: unknown key "a"`},
		{"brackets in strings and comments", "# " + strings.Repeat("[", 100) + "\ndescription = \"" + strings.Repeat("[{", 100) + "\\\"\"\n" +
			"readme = '" + strings.Repeat("[", 100) + "'\ndisplay_name = '''\n" + strings.Repeat("{", 100) + "\n'''\nx = 1\n", `p.toml:7: unknown key "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw rawPack
			_, ps, _ := DecodeTOML("p.toml", []byte(tt.data), &raw)
			if len(ps) != 1 || !strings.HasPrefix(ps[0].Error(), tt.want) {
				t.Errorf("problems %v, want one starting %q", ps, tt.want)
			}
		})
	}
}
