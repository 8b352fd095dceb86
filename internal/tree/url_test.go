package tree

import "testing"

func TestParseHTTPURL(t *testing.T) {
	for s, want := range map[string]bool{
		"https://packs.example.com/":    true,
		"http://127.0.0.1:9000":         true,
		"https://h/p/q?x=1":             true, // a query is the base-URL check's business
		"ftp://packs.example.com/":      false,
		"https:///no-host":              false,
		"http://":                       false,
		"packs.example.com/":            false,
		"/abs/path":                     false,
		"file:///srv/packs":             false,
		"https://bad host.example.com/": false,
	} {
		if _, ok := ParseHTTPURL(s); ok != want {
			t.Errorf("ParseHTTPURL(%q) = %v, want %v", s, ok, want)
		}
	}
}
