package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/objstore/faulty"
	"github.com/horaego/horaedb/objstore/objstoretest"
)

const ps = 4 << 10 // page size of these tests

func openDisk(t *testing.T, inner objstore.Bucket, dir string, capacityPages int64, bits int, reg prometheus.Registerer) objstore.Bucket {
	t.Helper()
	c, err := objstore.WithDiskCache(inner, objstore.DiskCacheOptions{
		Dir: dir, Capacity: capacityPages * ps, PageSize: ps, PartitionBits: bits, Cacheable: sstKeys, Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pageFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".page") {
			files = append(files, p)
		}
		return nil
	})
	return files
}

func TestDiskCachePagesAndCoalescing(t *testing.T) {
	ctx := context.Background()
	mem := objstore.NewMemory()
	fb := faulty.Wrap(mem, 1)
	dir := t.TempDir()
	c := openDisk(t, fb, dir, 64, 2, nil)
	defer c.Close()
	const key = "tables/1/sst/1.parquet"
	data := objstoretest.Data(1, 40000) // 9 full pages and a short one
	if err := mem.Put(ctx, key, data); err != nil {
		t.Fatal(err)
	}
	read := func(off, n int64, wantCalls int) {
		t.Helper()
		before := fb.Calls(faulty.OpAll)
		got, err := c.GetRange(ctx, key, off, n)
		if err != nil || !bytes.Equal(got, data[off:min(off+n, int64(len(data)))]) {
			t.Fatalf("GetRange(%d, %d): %d bytes, %v", off, n, len(got), err)
		}
		if calls := fb.Calls(faulty.OpAll) - before; calls != wantCalls {
			t.Fatalf("GetRange(%d, %d): %d calls to the store, want %d", off, n, calls, wantCalls)
		}
	}
	read(5000, 20000, 1) // pages 1-6 in one request
	read(6000, 100, 0)   // inside page 1
	read(0, 40000, 2)    // pages 0 and 7-9: two runs
	read(39000, 5000, 0) // the short last page, past the end
	read(0, 1<<30, 0)    // everything
	before := fb.Calls(faulty.OpAll)
	if got, err := c.Get(ctx, key); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get: %v", err)
	}
	if n, err := c.Size(ctx, key); err != nil || n != 40000 {
		t.Fatalf("Size = %d, %v", n, err)
	}
	if calls := fb.Calls(faulty.OpAll) - before; calls != 0 {
		t.Fatalf("Get and Size of a fully cached object made %d calls", calls)
	}
	if n := len(pageFiles(t, dir)); n != 10 {
		t.Fatalf("%d page files, want 10", n)
	}
}

func TestDiskCacheSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := objstore.NewMemory()
	const key = "tables/1/sst/2.parquet"
	data := objstoretest.Data(2, 50000)
	mem.Put(ctx, key, data)
	c := openDisk(t, nopClose{mem}, dir, 64, 2, nil)
	if _, err := c.Get(ctx, key); err != nil { // all pages, with the object size
		t.Fatal(err)
	}
	c.Close()

	// Reopen over a store that is down: everything comes from disk.
	fb := faulty.Wrap(mem, 1)
	fb.Add(faulty.Rule{})
	reg := prometheus.NewRegistry()
	c = openDisk(t, fb, dir, 64, 2, reg)
	defer c.Close()
	if got, err := c.Get(ctx, key); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after restart: %v", err)
	}
	if got, err := c.GetRange(ctx, key, 12345, 20000); err != nil || !bytes.Equal(got, data[12345:32345]) {
		t.Fatalf("GetRange after restart: %v", err)
	}
	if n, err := c.Size(ctx, key); err != nil || n != 50000 {
		t.Fatalf("Size after restart = %d, %v", n, err)
	}
	if got := metricValue(t, reg, "horaedb_objstore_cache_used_bytes", "cache", "disk"); got != 13*ps {
		t.Fatalf("used bytes after restart = %v, want %d", got, 13*ps)
	}
}

func TestDiskCacheDropsCorruptPages(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := objstore.NewMemory()
	const key = "tables/1/sst/3.parquet"
	data := objstoretest.Data(3, 10*ps)
	mem.Put(ctx, key, data)
	c := openDisk(t, nopClose{mem}, dir, 64, 0, nil)
	if _, err := c.Get(ctx, key); err != nil {
		t.Fatal(err)
	}
	c.Close()
	files := pageFiles(t, dir)
	if len(files) != 10 {
		t.Fatalf("%d page files", len(files))
	}
	// Damage: a flipped data byte (found when read), a truncated file and
	// a garbage file (found at open), a leftover temp file.
	raw, _ := os.ReadFile(files[0])
	raw[len(raw)-100] ^= 1
	os.WriteFile(files[0], raw, 0o644)
	raw, _ = os.ReadFile(files[1])
	os.WriteFile(files[1], raw[:len(raw)/2], 0o644)
	os.WriteFile(files[2], []byte("garbage"), 0o644)
	tmp := filepath.Join(filepath.Dir(files[3]), "x.page.123.tmp")
	os.WriteFile(tmp, []byte("partial"), 0o644)

	fb := faulty.Wrap(mem, 1)
	reg := prometheus.NewRegistry()
	c = openDisk(t, fb, dir, 64, 0, reg)
	defer c.Close()
	if got := metricValue(t, reg, "horaedb_objstore_cache_corrupt_pages_total", "cache", "disk"); got != 2 {
		t.Fatalf("%v pages dropped at open, want 2", got)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temp file left: %v", err)
	}
	for i := 0; i < 2; i++ {
		if got, err := c.GetRange(ctx, key, 0, 10*ps); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("GetRange over damaged pages: %d bytes, %v", len(got), err)
		}
	}
	if got := metricValue(t, reg, "horaedb_objstore_cache_corrupt_pages_total", "cache", "disk"); got != 3 {
		t.Fatalf("%v pages dropped, want 3", got)
	}
	if n := len(pageFiles(t, dir)); n != 10 {
		t.Fatalf("%d page files after repair, want 10", n)
	}
}

func TestDiskCacheEviction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := objstore.NewMemory()
	const key = "tables/1/sst/4.parquet"
	data := objstoretest.Data(4, 64*ps)
	mem.Put(ctx, key, data)
	reg := prometheus.NewRegistry()
	c := openDisk(t, nopClose{mem}, dir, 8, 1, reg) // 2 partitions of 4 pages
	for i := int64(0); i < 64; i++ {
		if got, err := c.GetRange(ctx, key, i*ps+1, 10); err != nil || !bytes.Equal(got, data[i*ps+1:i*ps+11]) {
			t.Fatalf("GetRange: %v", err)
		}
	}
	if n := len(pageFiles(t, dir)); n > 8 {
		t.Fatalf("%d page files in a cache of 8 pages", n)
	}
	if ev := metricValue(t, reg, "horaedb_objstore_cache_evictions_total", "cache", "disk"); ev < 56 {
		t.Fatalf("%v evictions", ev)
	}
	// A 64-page read through an 8-page cache stores at most 8 pages.
	if got, err := c.Get(ctx, key); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get: %v", err)
	}
	c.Close()
	// Reopen smaller: the oldest pages go.
	c = openDisk(t, nopClose{mem}, dir, 2, 0, nil)
	defer c.Close()
	if n := len(pageFiles(t, dir)); n > 2 {
		t.Fatalf("%d page files after reopening with 2 pages", n)
	}
}

func TestDiskCachePageSizeChange(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := objstore.NewMemory()
	const key = "tables/1/sst/5.parquet"
	data := objstoretest.Data(5, 10*ps)
	mem.Put(ctx, key, data)
	c := openDisk(t, nopClose{mem}, dir, 16, 0, nil)
	c.Get(ctx, key)
	c.Close()
	c2, err := objstore.WithDiskCache(nopClose{mem}, objstore.DiskCacheOptions{Dir: dir, Capacity: 16 * 2 * ps, PageSize: 2 * ps})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if n := len(pageFiles(t, dir)); n != 0 {
		t.Fatalf("%d pages of the old size kept", n)
	}
	if got, err := c2.GetRange(ctx, key, 100, 5*ps); err != nil || !bytes.Equal(got, data[100:100+5*ps]) {
		t.Fatalf("GetRange: %v", err)
	}
}

func TestDiskCacheInvalidatesOnWrite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := openDisk(t, objstore.NewMemory(), dir, 16, 0, nil)
	defer c.Close()
	const key = "tables/1/sst/6.parquet"
	c.Put(ctx, key, objstoretest.Data(6, 3*ps))
	c.Get(ctx, key)
	if n := len(pageFiles(t, dir)); n != 3 {
		t.Fatalf("%d page files", n)
	}
	c.Delete(ctx, key)
	if n := len(pageFiles(t, dir)); n != 0 {
		t.Fatalf("%d page files after Delete", n)
	}
}

func TestDiskCacheNoStaleReadsUnderRace(t *testing.T) {
	testNoStaleReads(t, func(t *testing.T, b objstore.Bucket) objstore.Bucket {
		return openDisk(t, b, t.TempDir(), 64, 1, nil)
	})
}

func TestDiskCacheLocksDir(t *testing.T) {
	dir := t.TempDir()
	c := openDisk(t, objstore.NewMemory(), dir, 4, 0, nil)
	if _, err := objstore.WithDiskCache(objstore.NewMemory(), objstore.DiskCacheOptions{Dir: dir, Capacity: 4 * ps, PageSize: ps}); err == nil ||
		!strings.Contains(err.Error(), "in use") {
		t.Fatalf("second cache on one dir: %v", err)
	}
	c.Close()
	c = openDisk(t, objstore.NewMemory(), dir, 4, 0, nil)
	c.Close()
}

func TestDiskCacheOptions(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []objstore.DiskCacheOptions{
		{Capacity: 1 << 30}, // no dir
		{Dir: dir, Capacity: 10 << 20, PartitionBits: 4},             // 10 MiB % (2 MiB * 16) != 0: upstream's rule
		{Dir: dir, Capacity: 3 * ps, PageSize: ps, PartitionBits: 1}, // 3 pages in 2 partitions
		{Dir: dir, Capacity: 0, PageSize: ps},
		{Dir: dir, Capacity: 4 << 30, PageSize: 2 << 30},
		{Dir: dir, Capacity: 1 << 30, PartitionBits: 21},
	} {
		if _, err := objstore.WithDiskCache(objstore.NewMemory(), o); !errors.Is(err, objstore.ErrInvalidOptions) {
			t.Errorf("WithDiskCache(%+v) = %v", o, err)
		}
	}
	c, err := objstore.WithDiskCache(objstore.NewMemory(), objstore.DiskCacheOptions{Dir: dir, Capacity: 64 << 20, PartitionBits: 4})
	if err != nil {
		t.Fatalf("64 MiB, default 2 MiB pages, 16 partitions: %v", err)
	}
	c.Close()
}

// nopClose keeps an inner bucket open when the cache over it closes.
type nopClose struct{ objstore.Bucket }

func (nopClose) Close() error { return nil }
