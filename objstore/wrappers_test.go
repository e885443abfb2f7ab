package objstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/objstore/faulty"
	"github.com/horaego/horaedb/objstore/objstoretest"
)

// Every wrapper, and the recommended stack, passes the conformance suite.
func TestWrappersConformance(t *testing.T) {
	t.Parallel()
	must := func(t *testing.T, b objstore.Bucket, err error) objstore.Bucket {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name string
		open func(t *testing.T) objstore.Bucket
	}{
		{"Retry", func(t *testing.T) objstore.Bucket {
			b, err := objstore.WithRetry(objstore.NewMemory(), objstore.RetryOptions{MaxRetries: 3, Timeout: time.Second, IOTimeout: 10 * time.Second})
			return must(t, b, err)
		}},
		{"Metrics", func(t *testing.T) objstore.Bucket {
			b, err := objstore.WithMetrics(objstore.NewMemory(), objstore.MetricsOptions{Registerer: prometheus.NewRegistry()})
			return must(t, b, err)
		}},
		{"MemCache", func(t *testing.T) objstore.Bucket {
			b, err := objstore.WithMemCache(objstore.NewMemory(), objstore.MemCacheOptions{Capacity: 64 << 20, PartitionBits: 2})
			return must(t, b, err)
		}},
		{"MemCacheTiny", func(t *testing.T) objstore.Bucket {
			// Partitions of 8 KiB: most values do not fit, the rest churn.
			b, err := objstore.WithMemCache(objstore.NewMemory(), objstore.MemCacheOptions{Capacity: 64 << 10, PartitionBits: 3})
			return must(t, b, err)
		}},
		{"DiskCache", func(t *testing.T) objstore.Bucket {
			b, err := objstore.WithDiskCache(objstore.NewMemory(), objstore.DiskCacheOptions{
				Dir: t.TempDir(), Capacity: 64 << 20, PageSize: 64 << 10, PartitionBits: 2,
			})
			return must(t, b, err)
		}},
		{"DiskCacheSmallPages", func(t *testing.T) objstore.Bucket {
			// 16 KiB pages, 128 of them: the 16 MiB object churns the cache.
			b, err := objstore.WithDiskCache(objstore.NewMemory(), objstore.DiskCacheOptions{
				Dir: t.TempDir(), Capacity: 2 << 20, PageSize: 16 << 10, PartitionBits: 3,
			})
			return must(t, b, err)
		}},
		{"Faulty", func(t *testing.T) objstore.Bucket {
			return faulty.Wrap(objstore.NewMemory(), 1)
		}},
		{"Stack", func(t *testing.T) objstore.Bucket {
			b, err := objstore.OpenLocal(filepath.Join(t.TempDir(), "store"))
			return stack(t, must(t, b, err), nil)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			objstoretest.Run(t, c.open)
		})
	}
}

// stack builds the recommended composition over b.
func stack(t *testing.T, b objstore.Bucket, reg prometheus.Registerer) objstore.Bucket {
	t.Helper()
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	var err error
	if b, err = objstore.WithMetrics(b, objstore.MetricsOptions{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if b, err = objstore.WithRetry(b, objstore.RetryOptions{
		MaxRetries: 3, Timeout: 10 * time.Second, IOTimeout: 30 * time.Second, Registerer: reg,
	}); err != nil {
		t.Fatal(err)
	}
	if b, err = objstore.WithDiskCache(b, objstore.DiskCacheOptions{
		Dir: t.TempDir(), Capacity: 16 << 20, PageSize: 256 << 10, PartitionBits: 2, Registerer: reg,
	}); err != nil {
		t.Fatal(err)
	}
	if b, err = objstore.WithMemCache(b, objstore.MemCacheOptions{Capacity: 8 << 20, PartitionBits: 2, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	return b
}
