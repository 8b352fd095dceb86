package publish_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/packstudio/packstudio/internal/testing/testenv"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/buckettest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopAll()
	os.Exit(code)
}

func TestLocalBucketConformance(t *testing.T) {
	buckettest.Run(t, func(t *testing.T) publish.Bucket {
		b, err := publish.OpenLocal(filepath.Join(t.TempDir(), "bucket"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}, buckettest.Options{Large: 3 << 20, Many: 50})
}

// newS3 returns a fresh bucket on the shared MinIO server, with a small
// multipart threshold so that the large-object path is exercised.
func newS3(t *testing.T, prefix string) *publish.S3Bucket {
	t.Helper()
	m := testenv.SharedMinIO(t)
	m.SetEnv(t)
	ctx := context.Background()
	b, err := publish.OpenS3(ctx, "s3://"+testenv.Bucket(t)+prefix, publish.Options{Endpoint: m.Endpoint, MultipartThreshold: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CreateBucket(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestS3BucketConformance(t *testing.T) {
	buckettest.Run(t, func(t *testing.T) publish.Bucket { return newS3(t, "/site") },
		buckettest.Options{Large: 20 << 20, Many: 1100})
}

func TestS3BucketConformanceNoPrefix(t *testing.T) {
	buckettest.Run(t, func(t *testing.T) publish.Bucket { return newS3(t, "") }, buckettest.Options{})
}

func TestLocalBucketRefusesAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, []byte("x"), 0o644)
	_, err := publish.OpenTarget(context.Background(), "file://"+f, publish.Options{})
	var te *tree.TargetError
	if !errorsAs(err, &te) {
		t.Fatalf("a file as a bucket: %v", err)
	}
}

// TestLocalBucketStaysInside: a folder swapped for a symlink to somewhere
// else, after the bucket has written into it, does not lead a Put outside.
func TestLocalBucketStaysInside(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	b, err := publish.OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	put := func(key string) error {
		body := []byte("x")
		return b.Put(ctx, key, bytes.NewReader(body), publish.Meta{Size: 1, SHA256: fmt.Sprintf("%x", sha256.Sum256(body))})
	}
	if err := put("a/one.txt"); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dir, "a"))
	if err := os.Symlink(outside, filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if err := put("a/two.txt"); err == nil {
		t.Error("a Put followed a symlink out of the bucket")
	}
	if _, err := os.Stat(filepath.Join(outside, "two.txt")); err == nil {
		t.Error("a file was written outside the bucket")
	}
}
