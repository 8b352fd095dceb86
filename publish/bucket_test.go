package publish_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/packstudio/packstudio/internal/testenv"
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
	b, err := publish.OpenS3(ctx, "s3://"+testenv.Bucket(t)+prefix, publish.S3Options{Endpoint: m.Endpoint, MultipartThreshold: 8 << 20})
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
	_, err := publish.OpenTarget(context.Background(), "file://"+f, publish.S3Options{})
	var te *publish.TargetError
	if !errorsAs(err, &te) {
		t.Fatalf("a file as a bucket: %v", err)
	}
}
