package publish

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/packstudio/packstudio/internal/tree"
)

// Options say how to reach a location: for S3, the endpoint, region and
// multipart threshold; for every kind, how many requests run at once.
type Options struct {
	Endpoint string // any S3-compatible endpoint (MinIO); path-style addressing when set
	Region   string // default: the SDK's configuration, else us-east-1
	Jobs     int    // expected parallel requests, to size the connection pool
	// MultipartThreshold is the size from which objects are uploaded in
	// parts (default 64 MiB): large ISOs, streamed in bounded memory.
	MultipartThreshold int64
}

// S3Bucket is a bucket of an S3-compatible store, addressed as
// s3://BUCKET/PREFIX. It uses the SDK's default credential chain (env,
// shared config, instance roles), its standard retryer and an HTTP client
// built so that AWS_CA_BUNDLE keeps working.
type S3Bucket struct {
	client    *s3.Client
	tm        *transfermanager.Client
	bucket    string
	prefix    string // "" or "dir/" with a trailing slash
	endpoint  string
	threshold int64
	tls       bool // the payload hash is not signed over TLS
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// OpenS3 prepares a bucket; it does not contact the store.
func OpenS3(ctx context.Context, target string, o Options) (*S3Bucket, error) {
	name, prefix, err := parseS3Target(target)
	if err != nil {
		return nil, err
	}
	if o.Jobs <= 0 {
		o.Jobs = 16
	}
	if o.MultipartThreshold <= 0 {
		o.MultipartThreshold = 64 << 20
	}
	if _, ok := tree.ParseHTTPURL(o.Endpoint); o.Endpoint != "" && !ok {
		return nil, &tree.TargetError{Target: target, Reason: fmt.Sprintf("endpoint %q must be an http:// or https:// URL with a host", o.Endpoint)}
	}
	cfg, err := awsConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
			so.UsePathStyle = true
		}
		// Checksums are sent by Put itself (SHA-256, known from the
		// manifest), which also works with S3-compatible stores that do
		// not support the SDK's default trailing checksums.
		so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = "S3 (" + cfg.Region + ")"
	}
	return &S3Bucket{
		client: client, bucket: name, prefix: prefix, endpoint: endpoint, threshold: o.MultipartThreshold,
		tls: !strings.HasPrefix(o.Endpoint, "http://"),
		tm: transfermanager.New(client, func(to *transfermanager.Options) {
			to.PartSizeBytes = 16 << 20
			to.Concurrency = 4
			to.MultipartUploadThreshold = o.MultipartThreshold
			to.ChecksumAlgorithm = tmtypes.ChecksumAlgorithmSha256
			to.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
		}),
	}, nil
}

// parseS3Target splits s3://BUCKET/PREFIX into the bucket's name and the
// prefix ("" or ending in "/"), refusing names S3 would and prefixes that
// are not clean tree paths.
func parseS3Target(target string) (name, prefix string, err error) {
	rest, ok := strings.CutPrefix(target, "s3://")
	if !ok {
		return "", "", &tree.TargetError{Target: target, Reason: "not an s3:// URL"}
	}
	name, prefix, _ = strings.Cut(rest, "/")
	if name == "" {
		return "", "", &tree.TargetError{Target: target, Reason: "no bucket name; write s3://BUCKET or s3://BUCKET/PREFIX"}
	}
	if !bucketName.MatchString(name) || strings.Contains(name, "..") {
		return "", "", &tree.TargetError{Target: target, Reason: fmt.Sprintf("%q is not a valid bucket name (3-63 lower-case letters, digits, '.' and '-')", name)}
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if err := tree.CheckPath(prefix); err != nil {
			return "", "", &tree.TargetError{Target: target, Reason: "bad prefix: " + err.Error()}
		}
		prefix += "/"
	}
	return name, prefix, nil
}

// awsConfig is the SDK's default configuration (credentials, region)
// with an HTTP client and retryer sized for o.Jobs parallel requests.
func awsConfig(ctx context.Context, o Options) (aws.Config, error) {
	// A BuildableClient, not a plain http.Client: the SDK adds the
	// AWS_CA_BUNDLE roots to it, and refuses to with any other client.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = 4 * o.Jobs
		tr.MaxIdleConnsPerHost = 2 * o.Jobs
	}).WithDialerOptions(func(d *net.Dialer) { d.Timeout = 10 * time.Second })
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = 10
				so.MaxBackoff = 5 * time.Second
				// The client-side retry quota would turn a burst of 503s
				// into failed uploads; the backoff already spaces retries.
				so.RateLimiter = ratelimit.None
			})
		}),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}

func (b *S3Bucket) String() string { return "s3://" + b.bucket + "/" + b.prefix }

func (b *S3Bucket) key(k string) *string { return aws.String(b.prefix + k) }

func (b *S3Bucket) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, _, err := b.OpenFrom(ctx, key, 0)
	return rc, err
}

// OpenFrom reads an object from byte offset on (an HTTP Range request).
func (b *S3Bucket) OpenFrom(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	if err := tree.CheckPath(key); err != nil {
		return nil, 0, err
	}
	in := &s3.GetObjectInput{Bucket: &b.bucket, Key: b.key(key)}
	if offset > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := b.client.GetObject(ctx, in)
	if err != nil {
		return nil, 0, b.wrap("get", key, err)
	}
	if offset > 0 && out.ContentRange == nil {
		return out.Body, 0, nil
	}
	return out.Body, offset, nil
}

func (b *S3Bucket) List(ctx context.Context) ([]tree.ObjectInfo, error) {
	var out []tree.ObjectInfo
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: &b.bucket, Prefix: aws.String(b.prefix)})
	for first := true; p.HasMorePages(); first = false {
		// Listing is usually the first request: an unreachable endpoint
		// should be reported in seconds, not after every retry.
		attempts := func(o *s3.Options) {}
		if first {
			attempts = func(o *s3.Options) { o.RetryMaxAttempts = 4 }
		}
		page, err := p.NextPage(ctx, attempts)
		if err != nil {
			return nil, b.wrap("list", "", err)
		}
		for _, o := range page.Contents {
			k := strings.TrimPrefix(aws.ToString(o.Key), b.prefix)
			if tree.CheckPath(k) != nil || tree.Ignored(k) {
				continue
			}
			out = append(out, tree.ObjectInfo{Key: k, Size: aws.ToInt64(o.Size)})
		}
	}
	return out, nil
}

func (b *S3Bucket) Head(ctx context.Context, key string) (tree.ObjectInfo, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: b.key(key)})
	if err != nil {
		return tree.ObjectInfo{}, b.wrap("head", key, err)
	}
	return tree.ObjectInfo{Key: key, Size: aws.ToInt64(out.ContentLength), SHA256: out.Metadata["sha256"]}, nil
}

// Put uploads in one request up to the multipart threshold, with the
// SHA-256 the caller vouches for as both the signed payload hash and an
// x-amz-checksum-sha256 the store checks: the file is read once, and a
// body that changed since it was hashed is refused by the store. Larger
// objects are hashed first, then uploaded in parts.
func (b *S3Bucket) Put(ctx context.Context, key string, body io.ReadSeeker, meta Meta) error {
	if err := tree.CheckPath(key); err != nil {
		return fmt.Errorf("put %q: not a valid object key", key)
	}
	sum, err := hex.DecodeString(meta.SHA256)
	if err != nil || len(sum) != 32 {
		return fmt.Errorf("put %s: bad SHA-256 %q", key, meta.SHA256)
	}
	if meta.Size >= b.threshold {
		return b.putMultipart(ctx, key, body, meta)
	}
	in := &s3.PutObjectInput{
		Bucket: &b.bucket, Key: b.key(key), Body: body, ContentLength: aws.Int64(meta.Size),
		ContentType: aws.String(meta.ContentType), CacheControl: aws.String(meta.CacheControl),
		Metadata: map[string]string{"sha256": meta.SHA256},
	}
	if b.tls {
		// Over TLS the SDK signs UNSIGNED-PAYLOAD, so the store checks the
		// body against this checksum instead of the signature.
		in.ChecksumSHA256 = aws.String(base64.StdEncoding.EncodeToString(sum))
	}
	_, err = b.client.PutObject(ctx, in, func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, knownPayloadHash(meta.SHA256))
	})
	return b.wrap("put", key, err)
}

// knownPayloadHash gives the signer the body's SHA-256 so that it does not
// read the body a second time to compute it.
func knownPayloadHash(hexSum string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		// The Build step runs before Finalize, where the payload hash
		// would otherwise be computed.
		return st.Build.Add(middleware.BuildMiddlewareFunc("packstudioKnownPayloadHash",
			func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				return next.HandleBuild(v4.SetPayloadHash(ctx, hexSum), in)
			}), middleware.After)
	}
}

func (b *S3Bucket) putMultipart(ctx context.Context, key string, body io.ReadSeeker, meta Meta) error {
	if err := checkBody(body, meta); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	_, err := b.tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: &b.bucket, Key: b.key(key), Body: io.LimitReader(body, meta.Size),
		ContentType: aws.String(meta.ContentType), CacheControl: aws.String(meta.CacheControl),
		Metadata: map[string]string{"sha256": meta.SHA256},
	})
	return b.wrap("put", key, err)
}

func (b *S3Bucket) Delete(ctx context.Context, key string) error {
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: b.key(key)})
	if err := b.wrap("delete", key, err); err != nil && !errors.Is(err, tree.ErrNotExist) {
		return err
	}
	return nil
}

// CreateBucket makes the bucket if it does not exist (tests, first publish
// to a fresh MinIO).
func (b *S3Bucket) CreateBucket(ctx context.Context) error {
	_, err := b.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b.bucket})
	var owned *types.BucketAlreadyOwnedByYou
	if errors.As(err, &owned) {
		return nil
	}
	return b.wrap("create bucket", "", err)
}

// wrap turns SDK errors into ones a person can act on.
func (b *S3Bucket) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return tree.ErrNotExist
	}
	what := op
	if key != "" {
		what += " " + key
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return tree.ErrNotExist
		case "NoSuchBucket":
			return &StoreError{Op: what, Msg: fmt.Sprintf("bucket %q does not exist at %s", b.bucket, b.endpoint), Err: err}
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken":
			return &StoreError{Op: what, Msg: fmt.Sprintf("%s refused the credentials (%s): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, and the bucket policy", b.endpoint, api.ErrorCode()), Err: err}
		case "BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest":
			return fmt.Errorf("%s: %w (%s)", what, ErrContentMismatch, api.ErrorCode())
		}
		return &StoreError{Op: what, Msg: fmt.Sprintf("%s: %s", api.ErrorCode(), api.ErrorMessage()), Err: err}
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.As(err, &netErr) {
		return &StoreError{Op: what, Msg: fmt.Sprintf("cannot reach %s: %v", b.endpoint, rootCause(err)), Err: err}
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "no EC2 IMDS role found") {
		return &StoreError{Op: what, Msg: "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE", Err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// StoreError is a failure of the store named in plain words.
type StoreError struct {
	Op  string
	Msg string
	Err error
}

func (e *StoreError) Error() string { return e.Op + ": " + e.Msg }
func (e *StoreError) Unwrap() error { return e.Err }

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// checkBody hashes body and rewinds it; it fails if body is not what meta says.
func checkBody(body io.ReadSeeker, meta Meta) error {
	digest, n, err := tree.DigestReader(body)
	if err != nil {
		return err
	}
	if n != meta.Size || digest != meta.SHA256 {
		return ErrContentMismatch
	}
	_, err = body.Seek(0, io.SeekStart)
	return err
}
