package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with the catalog, located in a file and line,
// with a hint on how to fix it.
type Problem struct {
	File string // path as the user would type it
	Line int    // 1-based; 0 when the problem is about the whole file
	Msg  string
	Fix  string
}

func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	if p.Fix != "" {
		b.WriteString("; ")
		b.WriteString(p.Fix)
	}
	return b.String()
}

// Problems is every problem found in one load, reported at once.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

func (ps Problems) sorted() Problems {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
	return ps
}

// problems collects Problems while a catalog is checked.
type problems struct{ list Problems }

func (c *problems) add(file string, line int, fix, format string, args ...any) {
	c.list = append(c.list, Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Fix: fix})
}
