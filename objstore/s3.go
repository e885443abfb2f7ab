package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"
)

// DefaultConfigKey is the config table whose keys the S3 and Aliyun
// backends name in their errors.
const DefaultConfigKey = "analytic.storage.object_store"

// S3Options configures OpenS3. The fields map one to one to the keys of
// [analytic.storage.object_store] with type = "S3"; max_retries and timeout
// belong to WithRetry (see RetryOptions).
type S3Options struct {
	// Region is the bucket's region (key region). Default "us-east-1" when
	// Endpoint is set; otherwise the AWS default chain's region (AWS_REGION,
	// ~/.aws/config), else "us-east-1".
	Region string
	// KeyID and KeySecret are static credentials (keys key_id,
	// key_secret). Both empty: the AWS default credential chain
	// (environment, shared files, web identity, EC2/ECS roles).
	KeyID     string
	KeySecret string
	// Endpoint is an S3-compatible endpoint (key endpoint), e.g.
	// "http://127.0.0.1:9000" for MinIO. Without a scheme, https is used.
	// When set, requests use path-style addressing (endpoint/bucket/key)
	// and checksums only where the API requires them, which is what
	// S3-compatible stores expect. Default "": AWS S3 itself, virtual-host
	// style.
	Endpoint string
	// Bucket is the bucket name (key bucket). Required.
	Bucket string
	// Prefix is prepended to every key (key prefix); leading and trailing
	// slashes are ignored, so "data", "/data/" and "data/" all store key k
	// as "data/k". Default "": keys at the bucket root.
	Prefix string
	// HTTP configures the HTTP client (keys http.*).
	HTTP HTTPOptions
	// ConfigKey is the config table named in errors. Default
	// DefaultConfigKey.
	ConfigKey string
}

// HTTPOptions configures the HTTP client of a remote store.
type HTTPOptions struct {
	// MaxIdleConnsPerHost caps idle connections kept per host
	// (http.pool_max_idle_per_host). Default 1024.
	MaxIdleConnsPerHost int
	// Timeout bounds one HTTP request, body included (http.timeout).
	// Default 60s.
	Timeout time.Duration
	// KeepAliveInterval is the TCP keep-alive probe interval
	// (http.keep_alive_interval). Default 2s.
	KeepAliveInterval time.Duration
	// KeepAliveTimeout is how long keep-alive probes may stay unanswered
	// before the connection is dropped (http.keep_alive_timeout). Default
	// 60s.
	KeepAliveTimeout time.Duration
	// DialContext, when set, replaces the dialer (tests use it to point
	// virtual-host names at a local server). Default nil: net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (h *HTTPOptions) ensureDefaults() {
	if h.MaxIdleConnsPerHost == 0 {
		h.MaxIdleConnsPerHost = 1024
	}
	if h.Timeout == 0 {
		h.Timeout = 60 * time.Second
	}
	if h.KeepAliveInterval == 0 {
		h.KeepAliveInterval = 2 * time.Second
	}
	if h.KeepAliveTimeout == 0 {
		h.KeepAliveTimeout = 60 * time.Second
	}
}

func (h *HTTPOptions) validate(key string) error {
	if h.MaxIdleConnsPerHost < 0 || h.Timeout < 0 || h.KeepAliveInterval < 0 || h.KeepAliveTimeout < 0 {
		return fmt.Errorf("%w: %s.http: negative value", ErrInvalidOptions, key)
	}
	return nil
}

func (h *HTTPOptions) client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = h.MaxIdleConnsPerHost
	tr.MaxIdleConns = 0 // no global cap; the per-host cap is the limit
	count := int(h.KeepAliveTimeout / h.KeepAliveInterval)
	if count < 1 {
		count = 1
	}
	d := &net.Dialer{
		Timeout: 30 * time.Second,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable: true, Idle: h.KeepAliveInterval, Interval: h.KeepAliveInterval, Count: count,
		},
	}
	tr.DialContext = d.DialContext
	if h.DialContext != nil {
		tr.DialContext = h.DialContext
	}
	return &http.Client{Transport: tr, Timeout: h.Timeout}
}

// EnsureDefaults fills unset fields with their defaults.
func (o *S3Options) EnsureDefaults() {
	if o.ConfigKey == "" {
		o.ConfigKey = DefaultConfigKey
	}
	o.HTTP.ensureDefaults()
}

// Validate reports the first problem with the options.
func (o *S3Options) Validate() error {
	key := o.ConfigKey
	if key == "" {
		key = DefaultConfigKey
	}
	if o.Bucket == "" {
		return fmt.Errorf("%w: %s.bucket is required", ErrInvalidOptions, key)
	}
	if (o.KeyID == "") != (o.KeySecret == "") {
		return fmt.Errorf("%w: %s.key_id and %s.key_secret must be set together", ErrInvalidOptions, key, key)
	}
	if o.Endpoint != "" {
		if _, err := normalizeEndpoint(o.Endpoint); err != nil {
			return fmt.Errorf("%w: %s.endpoint: %v", ErrInvalidOptions, key, err)
		}
	}
	return o.HTTP.validate(key)
}

// OpenS3 opens an S3 (or S3-compatible) bucket and verifies at once that it
// exists and that the credentials may list the prefix: a wrong key, secret,
// bucket, region or endpoint is an error here, naming the config key to fix.
// The SDK's own retries are off: wrap the bucket with WithRetry.
func OpenS3(ctx context.Context, o S3Options) (Bucket, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return openS3(ctx, o, "s3", false)
}

// AliyunOptions configures OpenAliyun. The fields map to the keys of
// [analytic.storage.object_store] with type = "Aliyun" (see docs/).
type AliyunOptions struct {
	// KeyID and KeySecret are the AccessKey pair (keys key_id,
	// key_secret). Required.
	KeyID     string
	KeySecret string
	// Endpoint is the OSS endpoint of the bucket's region (key endpoint),
	// e.g. "oss-cn-hangzhou.aliyuncs.com" or its -internal variant; a
	// scheme is optional (default https), and a leading "<bucket>." is
	// tolerated. Required.
	Endpoint string
	// Bucket is the bucket name (key bucket). Required.
	Bucket string
	// Prefix is prepended to every key (key prefix), as in S3Options.
	Prefix string
	// Region signs requests. Default: derived from Endpoint
	// ("oss-cn-hangzhou.aliyuncs.com" → "oss-cn-hangzhou"); the config
	// has no key for it, so an endpoint it cannot be derived from (a
	// custom domain, oss-accelerate) is an error unless it is set here.
	Region string
	// HTTP configures the HTTP client (keys http.*).
	HTTP HTTPOptions
	// ConfigKey is the config table named in errors. Default
	// DefaultConfigKey.
	ConfigKey string
}

// OpenAliyun opens an Aliyun OSS bucket through OSS's S3-compatible API,
// with virtual-hosted addressing (https://<bucket>.<endpoint>/<key>) as OSS
// requires, and verifies access like OpenS3.
func OpenAliyun(ctx context.Context, o AliyunOptions) (Bucket, error) {
	key := o.ConfigKey
	if key == "" {
		key = DefaultConfigKey
	}
	if o.KeyID == "" || o.KeySecret == "" {
		return nil, fmt.Errorf("%w: %s.key_id and %s.key_secret are required for type Aliyun", ErrInvalidOptions, key, key)
	}
	if o.Endpoint == "" {
		return nil, fmt.Errorf("%w: %s.endpoint is required for type Aliyun", ErrInvalidOptions, key)
	}
	endpoint, err := normalizeEndpoint(o.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: %s.endpoint: %v", ErrInvalidOptions, key, err)
	}
	if o.Bucket != "" {
		// "<bucket>.oss-cn-hangzhou.aliyuncs.com" is a common mistake:
		// the SDK adds the bucket itself.
		endpoint.Host = strings.TrimPrefix(endpoint.Host, o.Bucket+".")
	}
	region := o.Region
	if region == "" {
		region = AliyunRegion(endpoint.Host)
		if region == "" {
			return nil, fmt.Errorf("%w: %s.endpoint: cannot derive the OSS region from %q (expected oss-<region>[-internal].aliyuncs.com)",
				ErrInvalidOptions, key, o.Endpoint)
		}
	}
	so := S3Options{
		Region:    region,
		KeyID:     o.KeyID,
		KeySecret: o.KeySecret,
		Endpoint:  endpoint.String(),
		Bucket:    o.Bucket,
		Prefix:    o.Prefix,
		HTTP:      o.HTTP,
		ConfigKey: key,
	}
	so.EnsureDefaults()
	if err := so.Validate(); err != nil {
		return nil, err
	}
	return openS3(ctx, so, "oss", true)
}

// AliyunRegion derives the OSS region from an endpoint host:
// "oss-cn-hangzhou.aliyuncs.com" and "oss-cn-hangzhou-internal.aliyuncs.com"
// give "oss-cn-hangzhou". It returns "" when the host names no region.
func AliyunRegion(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if !strings.HasSuffix(host, ".aliyuncs.com") {
		return ""
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, ".aliyuncs.com"), ".") {
		if !strings.HasPrefix(label, "oss-") || strings.HasPrefix(label, "oss-accelerate") {
			continue
		}
		return strings.TrimSuffix(label, "-internal")
	}
	return ""
}

// normalizeEndpoint parses an endpoint given with or without a scheme
// (https by default) and drops a trailing slash.
func normalizeEndpoint(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q has no host", s)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("%q: want scheme://host[:port] only", s)
	}
	u.Path = ""
	return u, nil
}

// normalizePrefix turns "data", "/data/" and "data/" into "data/".
func normalizePrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

func openS3(ctx context.Context, o S3Options, scheme string, virtualHost bool) (Bucket, error) {
	hc := o.HTTP.client()
	var cfg aws.Config
	if o.KeyID != "" {
		// Static credentials: nothing is read from the environment, so
		// the config says all there is.
		cfg = aws.Config{
			Region:      o.Region,
			Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(o.KeyID, o.KeySecret, "")),
		}
	} else {
		var err error
		cfg, err = awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("objstore: load the AWS default configuration (no %s.key_id given): %w", o.ConfigKey, err)
		}
		if o.Region != "" {
			cfg.Region = o.Region
		}
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	cfg.HTTPClient = hc
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	cfg.RetryMaxAttempts = 1

	var endpoint string
	if o.Endpoint != "" {
		u, _ := normalizeEndpoint(o.Endpoint) // validated
		endpoint = u.String()
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if endpoint != "" {
			so.BaseEndpoint = aws.String(endpoint)
			so.UsePathStyle = !virtualHost
			// S3-compatible stores (OSS, older MinIO, Ceph) reject the
			// trailing checksums the SDK adds by default.
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	prefix := normalizePrefix(o.Prefix)
	name := scheme + "://" + o.Bucket + "/" + prefix
	if err := verifyS3(ctx, client, o, prefix, endpoint, cfg.Region); err != nil {
		return nil, err
	}
	checksum := aws.RequestChecksumCalculationWhenSupported
	if endpoint != "" {
		checksum = aws.RequestChecksumCalculationWhenRequired
	}
	bb, err := s3blob.OpenBucket(ctx, client, o.Bucket, &s3blob.Options{RequestChecksumCalculation: checksum})
	if err != nil {
		return nil, fmt.Errorf("objstore: open %s: %w", name, err)
	}
	if prefix != "" {
		bb = blob.PrefixedBucket(bb, prefix)
	}
	return &blobBucket{b: bb, name: name, classify: classifyS3}, nil
}

// verifyS3 lists at most one key under the prefix, so that a wrong
// endpoint, region, bucket or credential fails at startup with an error that
// names the config key to fix.
func verifyS3(ctx context.Context, client *s3.Client, o S3Options, prefix, endpoint, region string) error {
	_, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(o.Bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(1),
	})
	if err == nil {
		return nil
	}
	where := endpoint
	if where == "" {
		where = "AWS S3 region " + region
	}
	key := o.ConfigKey
	var ae smithy.APIError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	switch code {
	case "NoSuchBucket":
		return fmt.Errorf("%w: bucket %q does not exist at %s (check %s.bucket): %w", ErrBucketNotFound, o.Bucket, where, key, err)
	case "InvalidAccessKeyId":
		return fmt.Errorf("%w: %s does not know access key id %q (check %s.key_id): %w", ErrPermissionDenied, where, maskKeyID(o.KeyID), key, err)
	case "SignatureDoesNotMatch":
		return fmt.Errorf("%w: %s rejected the signature of key id %q: the secret does not match (check %s.key_secret): %w",
			ErrPermissionDenied, where, maskKeyID(o.KeyID), key, err)
	case "AccessDenied", "Forbidden", "AllAccessDisabled", "InvalidToken", "ExpiredToken", "AccountProblem":
		return fmt.Errorf("%w: key id %q may not list %s/%s at %s (check %s.key_id and its permissions): %w",
			ErrPermissionDenied, maskKeyID(o.KeyID), o.Bucket, prefix, where, key, err)
	case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
		return fmt.Errorf("objstore: bucket %q is not in region %q (check %s.region and %s.endpoint): %w", o.Bucket, region, key, key, err)
	}
	if o.KeyID == "" && code == "" && strings.Contains(err.Error(), "credentials") {
		return fmt.Errorf("%w: no %s.key_id given and the AWS default chain found no credentials (environment, ~/.aws, instance role): %w",
			ErrPermissionDenied, key, err)
	}
	if c := classifyS3(err); errors.Is(c, ErrTransient) {
		return fmt.Errorf("%w: cannot reach %s (check %s.endpoint, and that the store is up): %w", ErrTransient, where, key, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("objstore: open %s/%s at %s: %w", o.Bucket, prefix, where, err)
	}
	return fmt.Errorf("objstore: open %s/%s at %s (check %s.*): %w", o.Bucket, prefix, where, key, err)
}

// maskKeyID shows enough of an access key id to recognise it.
func maskKeyID(id string) string {
	if len(id) <= 6 {
		return id
	}
	return id[:4] + "..." + id[len(id)-2:]
}

// classifyS3 maps S3 errors to the package's sentinels.
func classifyS3(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return ErrNotFound
		case "NoSuchBucket":
			return ErrBucketNotFound
		case "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
			"InvalidToken", "ExpiredToken", "AccountProblem":
			return ErrPermissionDenied
		case "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "Throttling",
			"ThrottlingException", "RequestLimitExceeded", "XMinioServerNotInitialized", "XMinioReadQuorum",
			"XMinioWriteQuorum":
			return ErrTransient
		}
	}
	if ae != nil && ae.ErrorCode() == "InvalidRange" {
		return errRangeNotSatisfiable
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		switch c := re.HTTPStatusCode(); {
		case c == http.StatusNotFound:
			return ErrNotFound
		case c == http.StatusRequestedRangeNotSatisfiable:
			return errRangeNotSatisfiable
		case c == http.StatusUnauthorized || c == http.StatusForbidden:
			return ErrPermissionDenied
		case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
			return ErrTransient
		}
		return nil
	}
	var se *smithyhttp.RequestSendError
	var ne net.Error
	switch {
	case errors.As(err, &se), errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF):
		return ErrTransient
	}
	return nil
}
