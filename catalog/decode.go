package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// The raw* types mirror the TOML files exactly; decoding is strict (unknown
// keys are problems) and checking happens afterwards on the raw values.

type rawCatalog struct {
	Product  []rawProduct  `toml:"product"`
	Cloud    []rawFacet    `toml:"cloud"`
	Layer    []rawLayer    `toml:"layer"`
	Arch     []rawFacet    `toml:"arch"`
	Registry []rawRegistry `toml:"registry"`
}

// rawRegistry is a [[registry]]: a pack registry checkout and the facets
// its pack.json files do not carry.
type rawRegistry struct {
	Path     string            `toml:"path"`
	Products map[string]string `toml:"products"`
	Arch     []string          `toml:"arch"`
	FIPS     bool              `toml:"fips"`
	// Clouds maps a cloudType of pack.json onto catalog clouds; "all"
	// and a cloudType that is a catalog cloud id need no entry.
	Clouds map[string][]string `toml:"clouds"`
	// Layers maps a layer of pack.json onto a catalog layer; a layer that
	// is a catalog layer id needs no entry.
	Layers map[string]string `toml:"layers"`
}

type rawProduct struct {
	ID      string       `toml:"id"`
	Name    string       `toml:"name"`
	Release []rawRelease `toml:"release"`
}

type rawRelease struct {
	Version string   `toml:"version"`
	Date    dateText `toml:"date"`
	Bundle  string   `toml:"bundle"`
	ISO     string   `toml:"iso"`
	Helm    string   `toml:"helm"`
}

type rawFacet struct {
	ID   string `toml:"id"`
	Name string `toml:"name"`
	Kind string `toml:"kind"`
}

type rawLayer struct {
	ID       string `toml:"id"`
	Name     string `toml:"name"`
	Order    *int   `toml:"order"`
	Multiple bool   `toml:"multiple"`
}

type rawPack struct {
	Name        string           `toml:"name"`
	DisplayName string           `toml:"display_name"`
	Layer       string           `toml:"layer"`
	AddonType   string           `toml:"addon_type"`
	Description string           `toml:"description"`
	Readme      string           `toml:"readme"`
	Version     []rawPackVersion `toml:"version"`
}

type rawPackVersion struct {
	Version     string            `toml:"version"`
	Clouds      []string          `toml:"clouds"`
	Arch        []string          `toml:"arch"`
	FIPS        bool              `toml:"fips"`
	Products    map[string]string `toml:"products"`
	Source      string            `toml:"source"`
	Images      []string          `toml:"images"`
	Charts      []rawChart        `toml:"charts"`
	Requires    []rawRule         `toml:"requires"`
	UpgradeFrom []rawUpgrade      `toml:"upgrade_from"`
}

type rawRule struct {
	Pack     string `toml:"pack"`
	Layer    string `toml:"layer"`
	Versions string `toml:"versions"`
	Kind     string `toml:"kind"`
}

type rawChart struct {
	Repo    string `toml:"repo"`
	Name    string `toml:"name"`
	Version string `toml:"version"`
}

type rawUpgrade struct {
	Pack     string `toml:"pack"`
	Versions string `toml:"versions"`
}

// dateText accepts a TOML date (2025-07-15) or a string holding one.
type dateText string

func (d *dateText) UnmarshalText(b []byte) error {
	s := string(b)
	if len(s) >= 10 {
		if _, err := time.Parse("2006-01-02", s[:10]); err == nil {
			*d = dateText(s[:10])
			return nil
		}
	}
	return fmt.Errorf("date %q is not a date like 2025-07-15", s)
}

// DecodeTOML decodes one TOML document into v and reports syntax errors,
// type errors and unknown keys as problems with their lines. ok is false
// when v could not be filled (unknown keys alone leave it complete). The
// returned Lines locate any key for later checks of the values.
func DecodeTOML(file string, data []byte, v any) (pos Lines, _ Problems, ok bool) {
	var ps problems
	if len(data) > MaxTOMLSize {
		ps.add(file, 0, "a catalog or config file is a few KiB: check that this is the right file, or split it", "file is larger than %d MiB", MaxTOMLSize>>20)
		return Lines{}, ps.list, false
	}
	if line := tooDeep(data); line > 0 {
		ps.add(file, line, "flatten the arrays and inline tables, or use [table] headers", "arrays and inline tables nest deeper than %d levels", MaxTOMLDepth)
		return Lines{}, ps.list, false
	}
	md, err := toml.Decode(string(data), v)
	if err != nil {
		line, msg := tomlErrorLine(err)
		ps.add(file, line, "fix the TOML syntax or value type", "%s", msg)
		return Lines{}, ps.list, false
	}
	pos = locate(string(data))
	for _, k := range md.Undecoded() {
		ps.add(file, pos.LineOfKey(k), "remove it or check its spelling", "unknown key %q", k.String())
	}
	return pos, ps.list, true
}

// Limits checked before decoding: the decoder recurses once per level of
// nesting and slows down sharply with nested inline tables, so a hostile
// file could otherwise crash or stall the build.
const (
	MaxTOMLSize  = 4 << 20
	MaxTOMLDepth = 64
)

// tooDeep returns the line where arrays and inline tables nest deeper than
// MaxTOMLDepth, or 0. It skips comments and strings, whose brackets are text.
func tooDeep(data []byte) int {
	line, depth := 1, 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			line++
		case '#':
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case '"', '\'':
			i, line = skipString(data, i, line)
		case '[', '{':
			if depth++; depth > MaxTOMLDepth {
				return line
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return 0
}

// skipString returns the index of the last byte of the string starting at
// data[i] and the line it ends on. A broken string ends where the decoder
// will report it.
func skipString(data []byte, i, line int) (int, int) {
	q := data[i]
	multi := i+2 < len(data) && data[i+1] == q && data[i+2] == q
	if multi {
		i += 2
	}
	for i++; i < len(data); i++ {
		switch c := data[i]; {
		case c == '\\' && q == '"' && i+1 < len(data):
			i++
			if data[i] == '\n' {
				line++
			}
		case c == '\n':
			if !multi {
				return i - 1, line
			}
			line++
		case c == q && (!multi || i+2 < len(data) && data[i+1] == q && data[i+2] == q):
			if multi {
				i += 2
			}
			return i, line
		}
	}
	return i, line
}

var lineInMessage = regexp.MustCompile(`^toml: line (\d+) (?:\(last key "[^"]*"\): )?`)

func tomlErrorLine(err error) (int, string) {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return pe.Position.Line, pe.Message
	}
	msg := err.Error()
	if m := lineInMessage.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, strings.TrimSpace(msg[len(m[0]):])
	}
	return 0, strings.TrimPrefix(msg, "toml: ")
}
