package objstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MetricsOptions configures WithMetrics.
type MetricsOptions struct {
	// Registerer receives the metrics. Required.
	Registerer prometheus.Registerer
	// Layer is the value of the "layer" label, so that one registry can
	// tell the store's requests ("store", below WithRetry: every attempt)
	// from what the engine asked ("engine", above the caches). Default
	// "store".
	Layer string
}

// WithMetrics returns b with every operation counted and timed:
//
//	horaedb_objstore_operations_total{layer,op}
//	horaedb_objstore_operation_errors_total{layer,op,kind}   kind: not_found, invalid_key,
//	                                                         permission, transient, canceled, closed, other
//	horaedb_objstore_bytes_total{layer,op}                   read (get, get_range) or written (put)
//	horaedb_objstore_operation_duration_seconds{layer,op}    histogram
func WithMetrics(b Bucket, o MetricsOptions) (Bucket, error) {
	if o.Registerer == nil {
		return nil, fmt.Errorf("%w: metrics: Registerer is required", ErrInvalidOptions)
	}
	if o.Layer == "" {
		o.Layer = "store"
	}
	const ns, sub = "horaedb", "objstore"
	labels := prometheus.Labels{"layer": o.Layer}
	m := &metricsBucket{b: b}
	var err error
	if m.ops, err = register(o.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "operations_total", ConstLabels: labels,
		Help: "Object store operations, by operation.",
	}, []string{"op"})); err != nil {
		return nil, err
	}
	if m.errs, err = register(o.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "operation_errors_total", ConstLabels: labels,
		Help: "Object store operations that failed, by operation and kind of error.",
	}, []string{"op", "kind"})); err != nil {
		return nil, err
	}
	if m.bytes, err = register(o.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "bytes_total", ConstLabels: labels,
		Help: "Bytes read (get, get_range) or written (put).",
	}, []string{"op"})); err != nil {
		return nil, err
	}
	if m.dur, err = register(o.Registerer, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Subsystem: sub, Name: "operation_duration_seconds", ConstLabels: labels,
		Help:    "Time an object store operation took, errors included.",
		Buckets: prometheus.ExponentialBuckets(50e-6, 2.5, 16), // 50µs .. ~47s
	}, []string{"op"})); err != nil {
		return nil, err
	}
	return m, nil
}

type metricsBucket struct {
	b     Bucket
	ops   *prometheus.CounterVec
	errs  *prometheus.CounterVec
	bytes *prometheus.CounterVec
	dur   *prometheus.HistogramVec
}

func (m *metricsBucket) observe(op string, start time.Time, n int, err error) {
	m.ops.WithLabelValues(op).Inc()
	m.dur.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if n > 0 {
		m.bytes.WithLabelValues(op).Add(float64(n))
	}
	if err != nil {
		m.errs.WithLabelValues(op, ErrorKind(err)).Inc()
	}
}

// ErrorKind names the class of an objstore error for metrics and logs:
// not_found, invalid_key, permission, bucket_not_found, transient,
// canceled, closed or other.
func ErrorKind(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrInvalidKey):
		return "invalid_key"
	case errors.Is(err, ErrPermissionDenied):
		return "permission"
	case errors.Is(err, ErrBucketNotFound):
		return "bucket_not_found"
	case errors.Is(err, ErrTransient):
		return "transient"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case errors.Is(err, ErrClosed):
		return "closed"
	}
	return "other"
}

func (m *metricsBucket) Get(ctx context.Context, key string) ([]byte, error) {
	start := time.Now()
	data, err := m.b.Get(ctx, key)
	m.observe("get", start, len(data), err)
	return data, err
}

func (m *metricsBucket) GetRange(ctx context.Context, key string, off, length int64) ([]byte, error) {
	start := time.Now()
	data, err := m.b.GetRange(ctx, key, off, length)
	m.observe("get_range", start, len(data), err)
	return data, err
}

func (m *metricsBucket) Size(ctx context.Context, key string) (int64, error) {
	start := time.Now()
	n, err := m.b.Size(ctx, key)
	m.observe("size", start, 0, err)
	return n, err
}

func (m *metricsBucket) Put(ctx context.Context, key string, data []byte) error {
	start := time.Now()
	err := m.b.Put(ctx, key, data)
	n := 0
	if err == nil {
		n = len(data)
	}
	m.observe("put", start, n, err)
	return err
}

func (m *metricsBucket) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := m.b.Delete(ctx, key)
	m.observe("delete", start, 0, err)
	return err
}

func (m *metricsBucket) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	start := time.Now()
	l, err := m.b.List(ctx, prefix)
	m.observe("list", start, 0, err)
	return l, err
}

func (m *metricsBucket) Close() error { return m.b.Close() }
