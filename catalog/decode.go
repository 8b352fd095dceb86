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
	Product []rawProduct `toml:"product"`
	Cloud   []rawFacet   `toml:"cloud"`
	Layer   []rawLayer   `toml:"layer"`
	Arch    []rawFacet   `toml:"arch"`
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
	Version  string            `toml:"version"`
	Clouds   []string          `toml:"clouds"`
	Arch     []string          `toml:"arch"`
	FIPS     bool              `toml:"fips"`
	Products map[string]string `toml:"products"`
	Source   string            `toml:"source"`
	Requires []rawRule         `toml:"requires"`
}

type rawRule struct {
	Pack     string `toml:"pack"`
	Layer    string `toml:"layer"`
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
