package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/objstore/faulty"
	"github.com/horaego/horaedb/objstore/objstoretest"
)

var sstKeys = objstore.KeyMatch("tables/*/sst/*.parquet")

func TestMemCacheHitsAndPredicate(t *testing.T) {
	ctx := context.Background()
	fb := faulty.Wrap(objstore.NewMemory(), 1)
	reg := prometheus.NewRegistry()
	c, err := objstore.WithMemCache(fb, objstore.MemCacheOptions{Capacity: 1 << 20, PartitionBits: 2, Cacheable: sstKeys, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const sst, manifest = "tables/1/sst/7.parquet", "tables/1/manifest/snapshot"
	data := objstoretest.Data(1, 5000)
	for _, k := range []string{sst, manifest} {
		if err := c.Put(ctx, k, data); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		if got, err := c.GetRange(ctx, sst, 100, 200); err != nil || !bytes.Equal(got, data[100:300]) {
			t.Fatalf("GetRange: %v", err)
		}
		if got, err := c.Get(ctx, sst); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get: %v", err)
		}
		if n, err := c.Size(ctx, sst); err != nil || n != 5000 {
			t.Fatalf("Size = %d, %v", n, err)
		}
		if _, err := c.Get(ctx, manifest); err != nil {
			t.Fatal(err)
		}
	}
	if n := fb.Calls(faulty.OpGetRange | faulty.OpSize); n != 2 {
		t.Fatalf("%d inner GetRange+Size calls for a cached SST, want 2", n)
	}
	if n := fb.Calls(faulty.OpGet); n != 1+3 {
		t.Fatalf("%d inner Get calls, want 1 (SST) + 3 (manifest, never cached)", n)
	}
	if h, m := metricValue(t, reg, "horaedb_objstore_cache_requests_total", "cache", "memory", "result", "hit"),
		metricValue(t, reg, "horaedb_objstore_cache_requests_total", "cache", "memory", "result", "miss"); h != 6 || m != 3 {
		t.Fatalf("hits %v misses %v, want 6 and 3", h, m)
	}
	// The store dies: cached reads go on.
	fb.Add(faulty.Rule{})
	if got, err := c.GetRange(ctx, sst, 100, 200); err != nil || !bytes.Equal(got, data[100:300]) {
		t.Fatalf("GetRange from cache with the store down: %v", err)
	}
	if _, err := c.Get(ctx, manifest); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("Get of an uncached key with the store down: %v", err)
	}
}

func TestMemCacheLRU(t *testing.T) {
	ctx := context.Background()
	fb := faulty.Wrap(objstore.NewMemory(), 1)
	reg := prometheus.NewRegistry()
	const capacity = 64 << 10
	c, err := objstore.WithMemCache(fb, objstore.MemCacheOptions{Capacity: capacity, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := objstoretest.Data(2, 1<<20)
	if err := c.Put(ctx, "k", data); err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < 200; i++ {
		if _, err := c.GetRange(ctx, "k", i*1024, 1024); err != nil {
			t.Fatal(err)
		}
	}
	used := metricValue(t, reg, "horaedb_objstore_cache_used_bytes", "cache", "memory")
	if used > capacity || used < capacity/2 {
		t.Fatalf("used %v bytes of %d", used, capacity)
	}
	if ev := metricValue(t, reg, "horaedb_objstore_cache_evictions_total", "cache", "memory"); ev < 100 {
		t.Fatalf("%v evictions", ev)
	}
	before := fb.Calls(faulty.OpGetRange)
	c.GetRange(ctx, "k", 199*1024, 1024) // recent: cached
	if fb.Calls(faulty.OpGetRange) != before {
		t.Fatal("the most recent range was evicted")
	}
	c.GetRange(ctx, "k", 0, 1024) // oldest: evicted
	if fb.Calls(faulty.OpGetRange) != before+1 {
		t.Fatal("the oldest range is still cached")
	}
	// A value larger than a partition is not cached (and evicts nothing).
	c.Get(ctx, "k")
	c.Get(ctx, "k")
	if n := fb.Calls(faulty.OpGet); n != 2 {
		t.Fatalf("%d inner Gets of a value larger than the cache, want 2", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if metricValue(t, reg, "horaedb_objstore_cache_used_bytes", "cache", "memory") != 0 {
		t.Fatal("Close did not release the cache")
	}
	if _, err := c.GetRange(ctx, "k", 199*1024, 1024); !errors.Is(err, objstore.ErrClosed) {
		t.Fatalf("GetRange after Close: %v", err)
	}
}

func TestMemCacheOptions(t *testing.T) {
	for _, o := range []objstore.MemCacheOptions{
		{Capacity: 0},
		{Capacity: 1 << 20, PartitionBits: -1},
		{Capacity: 1 << 20, PartitionBits: 21},
		{Capacity: 15, PartitionBits: 4},
	} {
		if _, err := objstore.WithMemCache(objstore.NewMemory(), o); !errors.Is(err, objstore.ErrInvalidOptions) {
			t.Errorf("WithMemCache(%+v) = %v", o, err)
		}
	}
}

func TestMemCacheNoStaleReadsUnderRace(t *testing.T) {
	testNoStaleReads(t, func(t *testing.T, b objstore.Bucket) objstore.Bucket {
		c, err := objstore.WithMemCache(b, objstore.MemCacheOptions{Capacity: 1 << 20, PartitionBits: 1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

// testNoStaleReads overwrites one key again and again while readers hammer
// it; once a Put has returned, every read must see that version (or a
// later one).
func testNoStaleReads(t *testing.T, wrap func(t *testing.T, b objstore.Bucket) objstore.Bucket) {
	ctx := context.Background()
	c := wrap(t, objstore.NewMemory())
	defer c.Close()
	const key = "tables/1/sst/1.parquet"
	version := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 3000+i) }
	if err := c.Put(ctx, key, version(0)); err != nil {
		t.Fatal(err)
	}
	var done sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		done.Add(1)
		go func() {
			defer done.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c.GetRange(ctx, key, 0, 100)
				c.GetRange(ctx, key, 1000, 5000)
				c.Get(ctx, key)
				c.Size(ctx, key)
			}
		}()
	}
	var failure error
	for i := 1; i <= 200 && failure == nil; i++ {
		if err := c.Put(ctx, key, version(i)); err != nil {
			t.Fatal(err)
		}
		want := version(i)
		if got, err := c.GetRange(ctx, key, 0, 100); err != nil || !bytes.Equal(got, want[:100]) {
			failure = fmt.Errorf("version %d: GetRange(0, 100) = %v..., %v", i, got[:1], err)
		} else if got, err := c.GetRange(ctx, key, 1000, 5000); err != nil || !bytes.Equal(got, want[1000:]) {
			failure = fmt.Errorf("version %d: GetRange(1000, 5000) is stale (%d bytes), %v", i, len(got), err)
		} else if got, err := c.Get(ctx, key); err != nil || !bytes.Equal(got, want) {
			failure = fmt.Errorf("version %d: Get is stale (%d bytes), %v", i, len(got), err)
		} else if n, err := c.Size(ctx, key); err != nil || n != int64(len(want)) {
			failure = fmt.Errorf("version %d: Size = %d, %v", i, n, err)
		}
	}
	close(stop)
	done.Wait()
	if failure != nil {
		t.Fatal(failure)
	}
}
