package catalog

import (
	"strconv"
	"strings"
)

// Lines maps key paths of a TOML document, written with array indices
// ("version[2].requires[0].pack"), to the line they are on. The TOML decoder
// reports no Lines for values it accepted, and a validation error is of
// little use without a line, so this scanner recovers them. It runs only on
// documents the decoder already parsed and never fails: anything it does not
// understand is skipped.
type Lines struct {
	lines map[string]int // exact path → line
	first map[string]int // path without indices → first line seen
}

// Line returns the line of path, or of its nearest parent that has one.
func (p Lines) Line(path string) int {
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// Has reports whether exactly that path is written in the document.
func (p Lines) Has(path string) bool {
	_, ok := p.lines[path]
	return ok
}

// LineOfKey returns the first line where a key path without indices (as the
// decoder reports undecoded keys) is written.
func (p Lines) LineOfKey(parts []string) int {
	return p.first[strings.Join(parts, ".")]
}

func locate(src string) Lines {
	s := &locator{src: src, line: 1, arrays: map[string]int{},
		out: Lines{lines: map[string]int{}, first: map[string]int{}}}
	s.document()
	return s.out
}

type locator struct {
	src    string
	i      int
	line   int
	table  string
	arrays map[string]int // array-of-tables path → number of elements so far
	out    Lines
}

const maxDepth = 64

func (s *locator) record(path string) {
	if path == "" {
		return
	}
	if _, ok := s.out.lines[path]; !ok {
		s.out.lines[path] = s.line
	}
	bare := stripIndices(path)
	if _, ok := s.out.first[bare]; !ok {
		s.out.first[bare] = s.line
	}
}

func stripIndices(path string) string {
	if !strings.Contains(path, "[") {
		return path
	}
	var b strings.Builder
	skip := false
	for _, r := range path {
		switch {
		case r == '[':
			skip = true
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func (s *locator) eof() bool { return s.i >= len(s.src) }

func (s *locator) peek(prefix string) bool {
	return s.i < len(s.src) && strings.HasPrefix(s.src[s.i:], prefix)
}

func (s *locator) advance(n int) {
	for k := 0; k < n && s.i < len(s.src); k++ {
		if s.src[s.i] == '\n' {
			s.line++
		}
		s.i++
	}
}

// skipSpace skips blanks, and with newlines also line breaks and comments.
func (s *locator) skipSpace(newlines bool) {
	for !s.eof() {
		switch c := s.src[s.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			s.i++
		case c == '\n' && newlines:
			s.advance(1)
		case c == '#':
			for !s.eof() && s.src[s.i] != '\n' {
				s.i++
			}
		default:
			return
		}
	}
}

func (s *locator) skipLine() {
	for !s.eof() && s.src[s.i] != '\n' {
		s.i++
	}
}

func (s *locator) document() {
	for {
		s.skipSpace(true)
		if s.eof() {
			return
		}
		start := s.i
		switch {
		case s.peek("[["):
			s.advance(2)
			keys := s.key()
			s.table = s.resolve(keys, true)
			s.record(s.table)
		case s.peek("["):
			s.advance(1)
			keys := s.key()
			s.table = s.resolve(keys, false)
			s.record(s.table)
		default:
			keys := s.key()
			s.skipSpace(false)
			if len(keys) == 0 || !s.peek("=") {
				s.skipLine()
				break
			}
			s.advance(1)
			s.skipSpace(false)
			path := s.table
			for _, k := range keys {
				path = join(path, k)
			}
			s.record(path)
			s.value(path, 0)
		}
		s.skipLine()
		if s.i == start {
			s.advance(1)
		}
	}
}

// resolve turns a table header's keys into an indexed path: a key naming an
// array of tables refers to its last element, and an [[array]] header adds
// an element.
func (s *locator) resolve(keys []string, array bool) string {
	path := ""
	for n, k := range keys {
		p := join(path, k)
		if array && n == len(keys)-1 {
			count := s.arrays[p]
			s.arrays[p] = count + 1
			return p + "[" + strconv.Itoa(count) + "]"
		}
		if count, ok := s.arrays[p]; ok {
			p += "[" + strconv.Itoa(count-1) + "]"
		}
		path = p
	}
	return path
}

// key reads a dotted key of bare or quoted parts.
func (s *locator) key() []string {
	var keys []string
	for {
		s.skipSpace(false)
		if s.eof() {
			return keys
		}
		switch c := s.src[s.i]; {
		case c == '"' || c == '\'':
			keys = append(keys, s.quoted())
		case isBare(c):
			start := s.i
			for !s.eof() && isBare(s.src[s.i]) {
				s.i++
			}
			keys = append(keys, s.src[start:s.i])
		default:
			return keys
		}
		s.skipSpace(false)
		if !s.peek(".") {
			return keys
		}
		s.i++
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// quoted reads a one-line basic or literal string and returns its text
// (escapes are kept as written; key names here never need them).
func (s *locator) quoted() string {
	q := s.src[s.i]
	s.i++
	start := s.i
	for !s.eof() && s.src[s.i] != q && s.src[s.i] != '\n' {
		if q == '"' && s.src[s.i] == '\\' && s.i+1 < len(s.src) && s.src[s.i+1] != '\n' {
			s.i++
		}
		s.i++
	}
	end := min(s.i, len(s.src))
	if !s.eof() && s.src[s.i] == q {
		s.i++
	}
	return s.src[start:end]
}

func (s *locator) value(path string, depth int) {
	if s.eof() || depth > maxDepth {
		return
	}
	switch {
	case s.peek(`"""`), s.peek(`'''`):
		q := s.src[s.i : s.i+3]
		s.advance(3)
		for !s.eof() && !s.peek(q) {
			if q == `"""` && s.src[s.i] == '\\' {
				s.advance(1)
			}
			s.advance(1)
		}
		s.advance(3)
		for !s.eof() && s.src[s.i] == q[0] { // up to two quotes may end the string
			s.i++
		}
	case s.peek(`"`), s.peek(`'`):
		s.quoted()
	case s.peek("["):
		s.advance(1)
		for n := 0; ; n++ {
			s.skipSpace(true)
			if s.eof() {
				return
			}
			if s.peek("]") {
				s.advance(1)
				return
			}
			start := s.i
			elem := path + "[" + strconv.Itoa(n) + "]"
			s.record(elem)
			s.value(elem, depth+1)
			s.skipSpace(true)
			if s.peek(",") {
				s.advance(1)
			} else if s.i == start {
				s.advance(1)
			}
		}
	case s.peek("{"):
		s.advance(1)
		for {
			s.skipSpace(true)
			if s.eof() {
				return
			}
			if s.peek("}") {
				s.advance(1)
				return
			}
			start := s.i
			keys := s.key()
			s.skipSpace(false)
			if len(keys) > 0 && s.peek("=") {
				s.advance(1)
				s.skipSpace(false)
				p := path
				for _, k := range keys {
					p = join(p, k)
				}
				s.record(p)
				s.value(p, depth+1)
			}
			s.skipSpace(true)
			if s.peek(",") {
				s.advance(1)
			} else if s.i == start {
				s.advance(1)
			}
		}
	default: // number, bool, date: up to a delimiter
		for !s.eof() && !strings.ContainsRune(",]}\n#", rune(s.src[s.i])) {
			s.i++
		}
	}
}
