// Package buckettest is the conformance suite every publish.Bucket passes:
// the local directory always, S3 against a real MinIO.
package buckettest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
)

// Options describe what the bucket under test can do.
type Options struct {
	// Large is the size of an object that takes the bucket's large-object
	// path (multipart upload for S3); 0 skips that case.
	Large int
	// Many is how many objects to list, past the store's page size; 0 skips.
	Many int
}

func meta(key string, data []byte) publish.Meta {
	s := sha256.Sum256(data)
	return publish.MetaFor(key, int64(len(data)), hex.EncodeToString(s[:]))
}

func put(t *testing.T, b publish.Bucket, key string, data []byte) {
	t.Helper()
	if err := b.Put(context.Background(), key, bytes.NewReader(data), meta(key, data)); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func get(t *testing.T, b publish.Bucket, key string) ([]byte, error) {
	t.Helper()
	rc, err := b.Open(context.Background(), key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// Run runs the suite; newBucket returns an empty bucket for each test.
func Run(t *testing.T, newBucket func(t *testing.T) publish.Bucket, o Options) {
	ctx := context.Background()

	t.Run("PutHeadOpenList", func(t *testing.T) {
		b := newBucket(t)
		objects := map[string][]byte{
			"index.html": []byte("<h1>home</h1>"),
			"browse/all/all/all/all/all/all/urls.txt":          nil, // empty objects are common in a tree
			"artifacts/packs/cni-calico/cni-calico-3.29.2.zst": bytes.Repeat([]byte{0x28, 0xb5}, 5000),
			"artifacts/packs/k3s/k3s-1.28.5+k3s1.zst":          []byte("plus sign in a version"),
		}
		for k, v := range objects {
			put(t, b, k, v)
		}
		for k, v := range objects {
			got, err := get(t, b, k)
			if err != nil || !bytes.Equal(got, v) {
				t.Errorf("open %s: %v, %d bytes, want %d", k, err, len(got), len(v))
			}
			info, err := b.Head(ctx, k)
			if err != nil || info.Size != int64(len(v)) || info.SHA256 != meta(k, v).SHA256 {
				t.Errorf("head %s: %+v %v", k, info, err)
			}
		}
		list, err := b.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range list {
			keys = append(keys, o.Key)
			if o.Size != int64(len(objects[o.Key])) {
				t.Errorf("list %s: size %d", o.Key, o.Size)
			}
		}
		sort.Strings(keys)
		var want []string
		for k := range objects {
			want = append(want, k)
		}
		sort.Strings(want)
		if strings.Join(keys, " ") != strings.Join(want, " ") {
			t.Errorf("list:\n got %v\nwant %v", keys, want)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		b := newBucket(t)
		if _, err := b.Head(ctx, "nope.html"); !errors.Is(err, tree.ErrNotExist) {
			t.Errorf("head of a missing object: %v", err)
		}
		if _, err := b.Open(ctx, "nope.html"); !errors.Is(err, tree.ErrNotExist) {
			t.Errorf("open of a missing object: %v", err)
		}
		if err := b.Delete(ctx, "nope.html"); err != nil {
			t.Errorf("delete of a missing object: %v", err)
		}
	})

	t.Run("OverwriteAndDelete", func(t *testing.T) {
		b := newBucket(t)
		put(t, b, "a/b/c.json", []byte(`{"v":1}`))
		put(t, b, "a/b/c.json", []byte(`{"v":2,"longer":true}`))
		if got, _ := get(t, b, "a/b/c.json"); string(got) != `{"v":2,"longer":true}` {
			t.Errorf("after overwrite: %q", got)
		}
		if err := b.Delete(ctx, "a/b/c.json"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Head(ctx, "a/b/c.json"); !errors.Is(err, tree.ErrNotExist) {
			t.Errorf("after delete: %v", err)
		}
		if list, _ := b.List(ctx); len(list) != 0 {
			t.Errorf("after delete the bucket lists %v", list)
		}
	})

	t.Run("MismatchIsRefused", func(t *testing.T) {
		b := newBucket(t)
		put(t, b, "page.html", []byte("the original"))
		other := []byte("a changed body")
		bad := meta("page.html", []byte("what the manifest says"))
		bad.Size = int64(len(other))
		err := b.Put(ctx, "page.html", bytes.NewReader(other), bad)
		if !errors.Is(err, publish.ErrContentMismatch) {
			t.Errorf("a body that is not the manifest's was accepted: %v", err)
		}
		if got, _ := get(t, b, "page.html"); string(got) != "the original" {
			t.Errorf("a refused put changed the object to %q", got)
		}
		err = b.Put(ctx, "new.html", bytes.NewReader(other), bad)
		if err == nil {
			t.Error("a refused put of a new object succeeded")
		}
		if _, err := b.Head(ctx, "new.html"); !errors.Is(err, tree.ErrNotExist) {
			t.Errorf("a refused put left an object: %v", err)
		}
	})

	t.Run("BadKeys", func(t *testing.T) {
		b := newBucket(t)
		for _, k := range []string{"../escape.txt", "/abs.txt", "a/../../b", "", "a//b"} {
			if err := b.Put(ctx, k, bytes.NewReader(nil), meta(k, nil)); err == nil {
				t.Errorf("put %q accepted", k)
			}
			if _, err := b.Open(ctx, k); err == nil {
				t.Errorf("open %q accepted", k)
			}
		}
	})

	if o.Large > 0 {
		t.Run("Large", func(t *testing.T) {
			b := newBucket(t)
			data := make([]byte, o.Large)
			for i := range data {
				data[i] = byte(i * 7 % 251)
			}
			put(t, b, "artifacts/releases/palette/4.7.3/palette-appliance-4.7.3.iso", data)
			got, err := get(t, b, "artifacts/releases/palette/4.7.3/palette-appliance-4.7.3.iso")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("large object: %v, %d bytes", err, len(got))
			}
			info, err := b.Head(ctx, "artifacts/releases/palette/4.7.3/palette-appliance-4.7.3.iso")
			if err != nil || info.SHA256 != meta("", data).SHA256 {
				t.Errorf("large object head: %+v %v", info, err)
			}
			bad := meta("x.iso", data)
			data[len(data)/2] ^= 1
			if err := b.Put(ctx, "bad.iso", bytes.NewReader(data), bad); !errors.Is(err, publish.ErrContentMismatch) {
				t.Errorf("a large body that is not the manifest's was accepted: %v", err)
			}
		})
	}

	if o.Many > 0 {
		t.Run("ListMany", func(t *testing.T) {
			b := newBucket(t)
			err := parallel(o.Many, 16, func(i int) error {
				k := fmt.Sprintf("browse/x/%04d/urls.txt", i)
				return b.Put(ctx, k, bytes.NewReader(nil), meta(k, nil))
			})
			if err != nil {
				t.Fatal(err)
			}
			list, err := b.List(ctx)
			if err != nil || len(list) != o.Many {
				t.Fatalf("listed %d of %d objects: %v", len(list), o.Many, err)
			}
		})
	}
}

func parallel(n, jobs int, fn func(int) error) error {
	errs := make(chan error, n)
	sem := make(chan struct{}, jobs)
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem }()
			errs <- fn(i)
		}(i)
	}
	var first error
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
