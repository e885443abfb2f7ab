package objstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RetryOptions configures WithRetry. The config keys max_retries,
// timeout.timeout and timeout.io_timeout map to MaxRetries, Timeout and
// IOTimeout.
type RetryOptions struct {
	// MaxRetries is how often a failed operation is retried; 0 disables
	// retries. Taken literally (the config default is 3).
	MaxRetries int
	// InitialBackoff is the wait before the first retry; each retry
	// doubles it, up to MaxBackoff, and a random jitter takes up to half
	// of it away. Default 100ms.
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between retries. Default 5s.
	MaxBackoff time.Duration
	// Timeout bounds one attempt of a metadata operation (Size, Delete,
	// List); an attempt that runs out of time is retried. 0: no bound
	// beyond the caller's ctx.
	Timeout time.Duration
	// IOTimeout bounds one attempt of a data operation (Get, GetRange,
	// Put): the whole transfer, so it must allow the largest object at the
	// slowest expected rate. 0: no bound beyond the caller's ctx.
	IOTimeout time.Duration
	// Logger receives a warning per retry. Default: discard.
	Logger *slog.Logger
	// Registerer, when set, receives horaedb_objstore_retries_total{op}
	// and horaedb_objstore_retry_exhausted_total{op}.
	Registerer prometheus.Registerer
}

// EnsureDefaults fills unset fields with their defaults.
func (o *RetryOptions) EnsureDefaults() {
	if o.InitialBackoff == 0 {
		o.InitialBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports the first problem with the options.
func (o *RetryOptions) Validate() error {
	switch {
	case o.MaxRetries < 0:
		return fmt.Errorf("%w: retry: MaxRetries %d is negative", ErrInvalidOptions, o.MaxRetries)
	case o.InitialBackoff < 0 || o.MaxBackoff < 0 || o.Timeout < 0 || o.IOTimeout < 0:
		return fmt.Errorf("%w: retry: negative duration", ErrInvalidOptions)
	case o.MaxBackoff < o.InitialBackoff:
		return fmt.Errorf("%w: retry: MaxBackoff %s < InitialBackoff %s", ErrInvalidOptions, o.MaxBackoff, o.InitialBackoff)
	}
	return nil
}

// IsTransient reports whether err may go away when the operation is
// retried, that is whether it is marked ErrTransient.
func IsTransient(err error) bool {
	return errors.Is(err, ErrTransient)
}

// WithRetry returns b with transient failures retried with exponential
// backoff and jitter, and each attempt bounded by a timeout. Only errors
// marked ErrTransient (and attempts that ran out of their own time) are
// retried; ErrNotFound, ErrInvalidKey, ErrPermissionDenied and everything
// else unclassified fail at once. The caller's ctx bounds the whole
// operation, waits included.
//
// A retried Put may have been applied before its attempt failed (the
// response was lost): Put replaces whole objects, so repeating it is
// harmless.
func WithRetry(b Bucket, o RetryOptions) (Bucket, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	r := &retryBucket{b: b, o: o}
	r.retries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "horaedb", Subsystem: "objstore", Name: "retries_total",
		Help: "Object store attempts that failed transiently and were retried.",
	}, []string{"op"})
	r.exhausted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "horaedb", Subsystem: "objstore", Name: "retry_exhausted_total",
		Help: "Object store operations that failed transiently on every attempt.",
	}, []string{"op"})
	var err error
	if r.retries, err = register(o.Registerer, r.retries); err != nil {
		return nil, err
	}
	if r.exhausted, err = register(o.Registerer, r.exhausted); err != nil {
		return nil, err
	}
	return r, nil
}

type retryBucket struct {
	b         Bucket
	o         RetryOptions
	retries   *prometheus.CounterVec
	exhausted *prometheus.CounterVec
}

// do runs f until it succeeds, fails permanently, runs out of retries or
// ctx ends.
func (r *retryBucket) do(ctx context.Context, op, key string, timeout time.Duration, f func(ctx context.Context) error) error {
	backoff := r.o.InitialBackoff
	for attempt := 0; ; attempt++ {
		err := r.attempt(ctx, timeout, f)
		if err == nil || ctx.Err() != nil || !IsTransient(err) {
			return err
		}
		if attempt >= r.o.MaxRetries {
			if r.o.MaxRetries > 0 {
				r.exhausted.WithLabelValues(op).Inc()
				return fmt.Errorf("objstore: %s %s: gave up after %d attempts: %w", op, key, attempt+1, err)
			}
			return err
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		r.retries.WithLabelValues(op).Inc()
		r.o.Logger.Warn("objstore: retrying", "op", op, "key", key, "attempt", attempt+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("objstore: %s %s: %w (while waiting to retry after: %v)", op, key, ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, r.o.MaxBackoff)
	}
}

func (r *retryBucket) attempt(ctx context.Context, timeout time.Duration, f func(ctx context.Context) error) error {
	if timeout <= 0 {
		return f(ctx)
	}
	actx, cancel := context.WithTimeoutCause(ctx, timeout, errAttemptTimeout)
	defer cancel()
	err := f(actx)
	if err != nil && ctx.Err() == nil && actx.Err() != nil && !errors.Is(err, ErrTransient) {
		// The attempt ran out of its own time: worth another try.
		err = fmt.Errorf("%w: attempt timed out after %s: %w", ErrTransient, timeout, err)
	}
	return err
}

var errAttemptTimeout = errors.New("objstore: attempt timed out")

func (r *retryBucket) Get(ctx context.Context, key string) (data []byte, err error) {
	err = r.do(ctx, "get", key, r.o.IOTimeout, func(ctx context.Context) error {
		data, err = r.b.Get(ctx, key)
		return err
	})
	return data, err
}

func (r *retryBucket) GetRange(ctx context.Context, key string, off, length int64) (data []byte, err error) {
	err = r.do(ctx, "get_range", key, r.o.IOTimeout, func(ctx context.Context) error {
		data, err = r.b.GetRange(ctx, key, off, length)
		return err
	})
	return data, err
}

func (r *retryBucket) Size(ctx context.Context, key string) (n int64, err error) {
	err = r.do(ctx, "size", key, r.o.Timeout, func(ctx context.Context) error {
		n, err = r.b.Size(ctx, key)
		return err
	})
	return n, err
}

func (r *retryBucket) Put(ctx context.Context, key string, data []byte) error {
	return r.do(ctx, "put", key, r.o.IOTimeout, func(ctx context.Context) error {
		return r.b.Put(ctx, key, data)
	})
}

func (r *retryBucket) Delete(ctx context.Context, key string) error {
	return r.do(ctx, "delete", key, r.o.Timeout, func(ctx context.Context) error {
		return r.b.Delete(ctx, key)
	})
}

func (r *retryBucket) List(ctx context.Context, prefix string) (l []ObjectInfo, err error) {
	err = r.do(ctx, "list", prefix, r.o.Timeout, func(ctx context.Context) error {
		l, err = r.b.List(ctx, prefix)
		return err
	})
	return l, err
}

func (r *retryBucket) Close() error { return r.b.Close() }

// register registers c with reg, reusing an identical collector that is
// already registered (several buckets may share a registry), and returns
// the collector to use. A nil reg registers nothing.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		var zero C
		return zero, fmt.Errorf("objstore: register metrics: %w", err)
	}
	return c, nil
}
