package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// errRangeNotSatisfiable is what classify returns for an HTTP 416.
var errRangeNotSatisfiable = errors.New("objstore: range not satisfiable")

// blobBucket adapts a gocloud.dev/blob bucket to Bucket.
type blobBucket struct {
	b      *blob.Bucket
	name   string // for error messages, e.g. "local:/data/store"
	closed atomic.Bool
	// afterPut, when set, runs after a successful write (the local backend
	// fsyncs there).
	afterPut func(key string) error
	// classify, when set, maps a backend error to one of the package's
	// sentinels (ErrNotFound, ErrTransient, ...), or returns nil to fall
	// back to the generic mapping.
	classify func(err error) error
}

func (b *blobBucket) check(key string) error {
	if b.closed.Load() {
		return ErrClosed
	}
	return CheckKey(key)
}

func (b *blobBucket) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var kind error
	if b.classify != nil {
		kind = b.classify(err)
	}
	if kind == nil {
		switch gcerrors.Code(err) {
		case gcerrors.NotFound:
			kind = ErrNotFound
		case gcerrors.PermissionDenied:
			kind = ErrPermissionDenied
		}
	}
	switch {
	case kind == ErrNotFound:
		return fmt.Errorf("%w: %s %s", ErrNotFound, b.name, key)
	case kind != nil:
		return fmt.Errorf("objstore: %s %s %s: %w: %w", op, b.name, key, kind, err)
	}
	return fmt.Errorf("objstore: %s %s %s: %w", op, b.name, key, err)
}

func (b *blobBucket) Get(ctx context.Context, key string) ([]byte, error) {
	if err := b.check(key); err != nil {
		return nil, err
	}
	r, err := b.b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, b.wrap("get", key, err)
	}
	defer r.Close()
	// Size comes with the response, so the buffer is allocated once, and
	// a body cut short is an error rather than a short object.
	data := make([]byte, r.Size())
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, b.wrap("get", key, err)
	}
	return data, nil
}

func (b *blobBucket) GetRange(ctx context.Context, key string, off, length int64) ([]byte, error) {
	if err := b.check(key); err != nil {
		return nil, err
	}
	if off < 0 || length < 0 {
		return nil, fmt.Errorf("objstore: get range %s: negative offset or length", key)
	}
	if length == 0 {
		// S3 answers 416 for an empty range at the end; the others "".
		if _, err := b.b.Attributes(ctx, key); err != nil {
			return nil, b.wrap("get range", key, err)
		}
		return []byte{}, nil
	}
	r, err := b.b.NewRangeReader(ctx, key, off, length, nil)
	if err != nil {
		if b.classify != nil && b.classify(err) == errRangeNotSatisfiable {
			// S3 says 416 when off is at or past the end (an object
			// that does not exist is a 404): same answer as the others.
			return []byte{}, nil
		}
		return nil, b.wrap("get range", key, err)
	}
	defer r.Close()
	n := length
	if size := r.Size(); off+length > size || off+length < off {
		n = max(size-off, 0)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, b.wrap("get range", key, err)
	}
	return data, nil
}

func (b *blobBucket) Size(ctx context.Context, key string) (int64, error) {
	if err := b.check(key); err != nil {
		return 0, err
	}
	a, err := b.b.Attributes(ctx, key)
	if err != nil {
		return 0, b.wrap("size", key, err)
	}
	return a.Size, nil
}

func (b *blobBucket) Put(ctx context.Context, key string, data []byte) error {
	if err := b.check(key); err != nil {
		return err
	}
	opts := &blob.WriterOptions{ContentType: "application/octet-stream", DisableContentTypeDetection: true}
	if err := b.b.WriteAll(ctx, key, data, opts); err != nil {
		return b.wrap("put", key, err)
	}
	if b.afterPut != nil {
		return b.wrap("put", key, b.afterPut(key))
	}
	return nil
}

func (b *blobBucket) Delete(ctx context.Context, key string) error {
	if err := b.check(key); err != nil {
		return err
	}
	err := b.wrap("delete", key, b.b.Delete(ctx, key))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (b *blobBucket) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if b.closed.Load() {
		return nil, ErrClosed
	}
	it := b.b.List(&blob.ListOptions{Prefix: prefix})
	var out []ObjectInfo
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, b.wrap("list", prefix, err)
		}
		if obj.IsDir || strings.HasSuffix(obj.Key, ".tmp") {
			continue // a file an interrupted local write left behind
		}
		out = append(out, ObjectInfo{Key: obj.Key, Size: obj.Size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (b *blobBucket) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	return b.b.Close()
}
