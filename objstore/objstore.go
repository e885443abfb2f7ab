// Package objstore is the object storage a data node keeps its SSTs and
// manifests in: a small Bucket interface over gocloud.dev/blob with backends
// for local files (durable: every Put is fsynced), memory (tests), S3 and
// S3-compatible stores (MinIO, Aliyun OSS), and wrappers that add retries,
// metrics, a memory cache and a disk cache. Fault injection for tests lives
// in objstore/faulty, the conformance suite in objstore/objstoretest.
//
// Wrappers compose; the recommended order, from the backend outwards, is
//
//	b, _ = objstore.OpenS3(ctx, s3opts)          // or OpenAliyun, OpenLocal
//	b, _ = objstore.WithMetrics(b, metricsOpts)  // every request to the store
//	b, _ = objstore.WithRetry(b, retryOpts)      // backoff + per-attempt timeouts
//	b, _ = objstore.WithDiskCache(b, diskOpts)   // pages of immutable objects
//	b, _ = objstore.WithMemCache(b, memOpts)     // ranges of immutable objects
//
// Close on a wrapper closes what it wraps.
//
// See docs/ for the key layout, the S3/OSS config mapping and the disk
// cache page format.
//
// Keys are slash-separated paths of [A-Za-z0-9._-] segments, never ending in
// ".tmp" (the local backend reserves that suffix for files being written).
package objstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; backends wrap them with %w.
var (
	// ErrNotFound means the object does not exist.
	ErrNotFound = errors.New("objstore: object not found")
	// ErrInvalidKey means a key breaks the rules in the package comment.
	ErrInvalidKey = errors.New("objstore: invalid key")
	// ErrClosed is returned by calls on a closed Bucket.
	ErrClosed = errors.New("objstore: closed")
	// ErrPermissionDenied means the store rejected the credentials or
	// refused the operation. Never retried.
	ErrPermissionDenied = errors.New("objstore: permission denied")
	// ErrBucketNotFound means the configured bucket does not exist.
	ErrBucketNotFound = errors.New("objstore: bucket not found")
	// ErrTransient marks a failure that may succeed when retried: a 5xx
	// response, throttling, a timeout, a reset or refused connection.
	// WithRetry retries exactly these.
	ErrTransient = errors.New("objstore: transient failure")
	// ErrInvalidOptions is returned by constructors given bad options.
	ErrInvalidOptions = errors.New("objstore: invalid options")
)

// ObjectInfo describes one object in a listing.
type ObjectInfo struct {
	Key  string
	Size int64
}

// Bucket stores objects by key. Implementations are safe for concurrent use.
// A Put replaces the whole object atomically: readers see the old object or
// the new one, never a mix. Byte slices returned by Get and GetRange belong
// to the caller (a cache must not hand out its own copy).
type Bucket interface {
	// Get returns the whole object.
	Get(ctx context.Context, key string) ([]byte, error)
	// GetRange returns length bytes starting at off. Reading past the end
	// returns the bytes up to the end.
	GetRange(ctx context.Context, key string, off, length int64) ([]byte, error)
	// Size returns the size of an object.
	Size(ctx context.Context, key string) (int64, error)
	// Put stores data under key; when it returns nil the object is durable.
	Put(ctx context.Context, key string, data []byte) error
	// Delete removes an object. Deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the objects whose key starts with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Close releases the bucket. Idempotent.
	Close() error
}

// CheckKey reports whether key follows the rules in the package comment.
func CheckKey(key string) error {
	if key == "" || strings.HasSuffix(key, ".tmp") || key[0] == '/' || key[len(key)-1] == '/' {
		return fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q", ErrInvalidKey, key)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '='
			if !ok {
				return fmt.Errorf("%w: %q", ErrInvalidKey, key)
			}
		}
	}
	return nil
}
