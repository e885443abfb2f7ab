package objstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/objstore/faulty"
)

func newRetry(t *testing.T, b objstore.Bucket, o objstore.RetryOptions) objstore.Bucket {
	t.Helper()
	if o.InitialBackoff == 0 {
		o.InitialBackoff = time.Millisecond
	}
	r, err := objstore.WithRetry(b, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRetryTransient(t *testing.T) {
	ctx := context.Background()
	fb := faulty.Wrap(objstore.NewMemory(), 1)
	reg := prometheus.NewRegistry()
	r := newRetry(t, fb, objstore.RetryOptions{MaxRetries: 3, Registerer: reg})
	if err := r.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}

	// Two transient failures, then success: the caller sees success.
	fb.Add(faulty.Rule{Ops: faulty.OpGet, Times: 2})
	if got, err := r.Get(ctx, "k"); err != nil || string(got) != "v" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if n := fb.Calls(faulty.OpGet); n != 3 {
		t.Fatalf("%d Get calls, want 3", n)
	}
	if v := metricValue(t, reg, "horaedb_objstore_retries_total", "op", "get"); v != 2 {
		t.Fatalf("retries_total{op=get} = %v, want 2", v)
	}

	// Always failing: 1 + MaxRetries attempts, then a transient error.
	fb.Clear()
	fb.Add(faulty.Rule{Ops: faulty.OpPut})
	err := r.Put(ctx, "k2", []byte("v"))
	if !errors.Is(err, faulty.ErrInjected) || !objstore.IsTransient(err) || !strings.Contains(err.Error(), "gave up after 4 attempts") {
		t.Fatalf("Put = %v", err)
	}
	if n := fb.Calls(faulty.OpPut); n != 1+4 {
		t.Fatalf("%d Put calls, want 5", n)
	}
	if _, err := fb.Get(ctx, "k2"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("a failed Put stored something: %v", err)
	}
}

func TestRetryPermanentErrorsAreNotRetried(t *testing.T) {
	ctx := context.Background()
	for _, perm := range []error{objstore.ErrPermissionDenied, objstore.ErrBucketNotFound, errors.New("disk on fire")} {
		fb := faulty.Wrap(objstore.NewMemory(), 1)
		r := newRetry(t, fb, objstore.RetryOptions{MaxRetries: 5})
		fb.Add(faulty.Rule{Ops: faulty.OpSize, Err: perm})
		if _, err := r.Size(ctx, "k"); !errors.Is(err, perm) {
			t.Fatalf("Size = %v, want %v", err, perm)
		}
		if n := fb.Calls(faulty.OpSize); n != 1 {
			t.Fatalf("%v: %d Size calls, want 1", perm, n)
		}
	}
	fb := faulty.Wrap(objstore.NewMemory(), 1)
	r := newRetry(t, fb, objstore.RetryOptions{MaxRetries: 5})
	if _, err := r.Get(ctx, "missing"); !errors.Is(err, objstore.ErrNotFound) || fb.Calls(faulty.OpGet) != 1 {
		t.Fatalf("Get missing = %v after %d calls", err, fb.Calls(faulty.OpGet))
	}
	if err := r.Put(ctx, "../bad", nil); !errors.Is(err, objstore.ErrInvalidKey) || fb.Calls(faulty.OpPut) != 1 {
		t.Fatalf("Put bad key = %v after %d calls", err, fb.Calls(faulty.OpPut))
	}
}

func TestRetryAttemptTimeout(t *testing.T) {
	ctx := context.Background()
	fb := faulty.Wrap(objstore.NewMemory(), 1)
	r := newRetry(t, fb, objstore.RetryOptions{MaxRetries: 2, IOTimeout: 20 * time.Millisecond, Timeout: 20 * time.Millisecond})
	if err := r.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	// The first attempt hangs: it is cut off and the second one answers.
	fb.Add(faulty.Rule{Ops: faulty.OpGetRange, Nth: 1, Delay: time.Hour})
	start := time.Now()
	if got, err := r.GetRange(ctx, "k", 0, 1); err != nil || string(got) != "v" {
		t.Fatalf("GetRange = %q, %v", got, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
	// Every attempt hangs: three timeouts, a transient error.
	fb.Add(faulty.Rule{Ops: faulty.OpList, Delay: time.Hour})
	if _, err := r.List(ctx, ""); !objstore.IsTransient(err) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("List = %v", err)
	}
	if n := fb.Calls(faulty.OpList); n != 3 {
		t.Fatalf("%d List calls, want 3", n)
	}
}

func TestRetryRespectsContext(t *testing.T) {
	fb := faulty.Wrap(objstore.NewMemory(), 1)
	r := newRetry(t, fb, objstore.RetryOptions{MaxRetries: 100, InitialBackoff: time.Hour, MaxBackoff: time.Hour})
	fb.Add(faulty.Rule{Ops: faulty.OpDelete})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.Delete(ctx, "k")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("Delete = %v after %s", err, time.Since(start))
	}
	if n := fb.Calls(faulty.OpDelete); n != 1 {
		t.Fatalf("%d Delete calls, want 1 (the wait for the retry was cut short)", n)
	}
	// A caller's deadline during an attempt is not an attempt timeout: no retry.
	fb.Clear()
	fb.Add(faulty.Rule{Ops: faulty.OpGet, Delay: time.Hour})
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := r.Get(ctx2, "k"); !errors.Is(err, context.DeadlineExceeded) || fb.Calls(faulty.OpGet) != 1 {
		t.Fatalf("Get = %v after %d calls", err, fb.Calls(faulty.OpGet))
	}
}

func TestRetryBackoffGrows(t *testing.T) {
	// 4 retries with 10ms initial backoff and jitter of at most half:
	// at least 5+10+20+40 = 75ms of waiting, at most 10+20+40+80.
	fb := faulty.Wrap(objstore.NewMemory(), 1)
	r := newRetry(t, fb, objstore.RetryOptions{MaxRetries: 4, InitialBackoff: 10 * time.Millisecond, MaxBackoff: time.Second})
	fb.Add(faulty.Rule{})
	start := time.Now()
	r.Size(context.Background(), "k")
	if d := time.Since(start); d < 75*time.Millisecond || d > 2*time.Second {
		t.Fatalf("4 retries took %s", d)
	}
}

func TestRetryOptionsValidate(t *testing.T) {
	for _, o := range []objstore.RetryOptions{
		{MaxRetries: -1},
		{InitialBackoff: time.Second, MaxBackoff: time.Millisecond},
		{Timeout: -time.Second},
	} {
		if _, err := objstore.WithRetry(objstore.NewMemory(), o); !errors.Is(err, objstore.ErrInvalidOptions) {
			t.Errorf("WithRetry(%+v) = %v", o, err)
		}
	}
}

func TestMetrics(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	b, err := objstore.WithMetrics(objstore.NewMemory(), objstore.MetricsOptions{Registerer: reg, Layer: "engine"})
	if err != nil {
		t.Fatal(err)
	}
	// A second bucket on the same registry shares the collectors.
	if _, err := objstore.WithMetrics(objstore.NewMemory(), objstore.MetricsOptions{Registerer: reg, Layer: "engine"}); err != nil {
		t.Fatal(err)
	}
	b.Put(ctx, "a", make([]byte, 100))
	b.Get(ctx, "a")
	b.GetRange(ctx, "a", 10, 5)
	b.Get(ctx, "missing")
	b.Put(ctx, "bad/", nil)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"horaedb_objstore_bytes_total", []string{"layer", "engine", "op", "get"}, 100},
		{"horaedb_objstore_bytes_total", []string{"layer", "engine", "op", "get_range"}, 5},
		{"horaedb_objstore_bytes_total", []string{"layer", "engine", "op", "put"}, 100},
		{"horaedb_objstore_operation_errors_total", []string{"layer", "engine", "op", "put", "kind", "invalid_key"}, 1},
		{"horaedb_objstore_operation_errors_total", []string{"layer", "engine", "op", "get", "kind", "not_found"}, 1},
		{"horaedb_objstore_operations_total", []string{"layer", "engine", "op", "get"}, 2},
		{"horaedb_objstore_operations_total", []string{"layer", "engine", "op", "get_range"}, 1},
		{"horaedb_objstore_operations_total", []string{"layer", "engine", "op", "put"}, 2},
	} {
		if got := metricValue(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "horaedb_objstore_operation_duration_seconds" {
			if n := len(mf.GetMetric()); n != 3 {
				t.Errorf("%d duration series, want 3 (get, get_range, put)", n)
			}
			if c := mf.GetMetric()[0].GetHistogram().GetSampleCount(); c == 0 {
				t.Errorf("empty histogram")
			}
		}
	}
	if _, err := objstore.WithMetrics(objstore.NewMemory(), objstore.MetricsOptions{}); !errors.Is(err, objstore.ErrInvalidOptions) {
		t.Fatalf("no Registerer: %v", err)
	}
}

// metricValue returns the value of the counter or gauge name whose labels
// include the given name, value pairs.
func metricValue(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue metrics
				}
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
