package main

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestContractNamesEveryCommand keeps docs/CONTRACT.md §2 and the binary in
// step: every command the binary has is in the table, every command the
// table names exists, and every --flag a row names is a flag of that
// command.
func TestContractNamesEveryCommand(t *testing.T) {
	data, err := os.ReadFile("../../docs/CONTRACT.md")
	if err != nil {
		t.Fatal(err)
	}
	root := newRoot(&env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }})
	row := regexp.MustCompile("(?m)^\\| `packstudio ([a-z-]+)([^`]*)` \\|")
	flag := regexp.MustCompile(`--[a-z][a-z0-9-]*`)
	named := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(data), -1) {
		name, usage := m[1], m[2]
		named[name] = true
		c, _, err := root.Find([]string{name})
		if err != nil || c == root {
			t.Errorf("docs/CONTRACT.md names packstudio %s, which the binary does not have", name)
			continue
		}
		for _, f := range flag.FindAllString(usage, -1) {
			if c.Flags().Lookup(strings.TrimPrefix(f, "--")) == nil {
				t.Errorf("docs/CONTRACT.md: packstudio %s %s: no such flag", name, f)
			}
		}
	}
	if len(named) < 5 {
		t.Fatalf("found %d commands in docs/CONTRACT.md's table: has its format changed?", len(named))
	}
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if !named[c.Name()] {
			t.Errorf("packstudio %s is not in docs/CONTRACT.md §2", c.Name())
		}
	}
}
