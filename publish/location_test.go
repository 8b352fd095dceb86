package publish_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
)

// TestOpenLocationByScheme: one table of kinds serves publish's targets
// and mirror's and verify's sources; each location opens as its kind,
// and a location of no kind is refused by name.
func TestOpenLocationByScheme(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sources := map[string]string{
		"https://packs.example.com/site/": "*tree.HTTPReader",
		"http://127.0.0.1:1/":             "*tree.HTTPReader",
		"file://" + dir:                   "*tree.DirReader",
		dir:                               "*tree.DirReader",
		"s3://packs/site":                 "*publish.S3Bucket",
	}
	for loc, want := range sources {
		r, err := publish.OpenSource(ctx, loc, publish.Options{Endpoint: "http://127.0.0.1:1"})
		if err != nil {
			t.Errorf("OpenSource(%q): %v", loc, err)
			continue
		}
		if got := typeName(r); got != want {
			t.Errorf("OpenSource(%q) is a %s, want a %s", loc, got, want)
		}
		if c, ok := r.(publish.Closer); ok {
			c.Close()
		}
	}
	targets := map[string]string{"file://" + dir: "*publish.LocalBucket", "s3://packs/site": "*publish.S3Bucket"}
	for loc, want := range targets {
		b, err := publish.OpenTarget(ctx, loc, publish.Options{Endpoint: "http://127.0.0.1:1"})
		if err != nil {
			t.Errorf("OpenTarget(%q): %v", loc, err)
			continue
		}
		if got := typeName(b); got != want {
			t.Errorf("OpenTarget(%q) is a %s, want a %s", loc, got, want)
		}
		publish.CloseBucket(b)
	}
	refused := []struct {
		open func() error
		loc  string
		says string
	}{
		{func() error { _, err := publish.OpenSource(ctx, "ftp://x/", publish.Options{}); return err }, "ftp://x/", "not a source"},
		{func() error { _, err := publish.OpenSource(ctx, dir+"/missing", publish.Options{}); return err }, dir + "/missing", "not a source"},
		{func() error {
			_, err := publish.OpenTarget(ctx, "https://packs.example.com/", publish.Options{})
			return err
		}, "https://packs.example.com/", "not a bucket URL"},
		{func() error { _, err := publish.OpenTarget(ctx, dir, publish.Options{}); return err }, dir, "not a bucket URL"},
		{func() error { _, err := publish.OpenTarget(ctx, "file://", publish.Options{}); return err }, "file://", "no directory"},
		{func() error { _, err := publish.OpenTarget(ctx, "", publish.Options{}); return err }, `""`, "no target"},
	}
	for _, r := range refused {
		err := r.open()
		var te *tree.TargetError
		if !errors.As(err, &te) || te.Target != r.loc || !strings.Contains(te.Reason, r.says) {
			t.Errorf("%s: got %v, want a TargetError for it saying %q", r.loc, err, r.says)
		}
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *tree.HTTPReader:
		return "*tree.HTTPReader"
	case *tree.DirReader:
		return "*tree.DirReader"
	case *publish.S3Bucket:
		return "*publish.S3Bucket"
	case *publish.LocalBucket:
		return "*publish.LocalBucket"
	}
	return "something else"
}
