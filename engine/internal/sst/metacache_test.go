package sst

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/horaego/horaedb/engine/internal/merge"
	"github.com/horaego/horaedb/objstore"
)

// countingBucket counts ranged reads.
type countingBucket struct {
	objstore.Bucket
	mu    sync.Mutex
	reads int
}

func (b *countingBucket) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	b.mu.Lock()
	b.reads++
	b.mu.Unlock()
	return b.Bucket.GetRange(ctx, key, off, n)
}

// TestMetaCache: a read through the cache prunes and returns exactly what
// an uncached read does, without fetching the footer again; concurrent
// readers share an entry; the least recently used file is evicted.
func TestMetaCache(t *testing.T) {
	ctx := context.Background()
	s := testSchema(t)
	var hosts []string
	var vals []float64
	for g := range 5 {
		for i := range 100 {
			hosts = append(hosts, fmt.Sprintf("h%d", g*2+i%2))
			vals = append(vals, float64(i))
		}
	}
	b := &countingBucket{Bucket: objstore.NewMemory()}
	metas := map[string]int64{}
	for _, key := range []string{"a.parquet", "b.parquet", "c.parquet"} {
		meta, err := Write(ctx, b, key, s, merge.NewRecordStream(record(hosts, vals)), WriteOptions{RowGroupRows: 100})
		if err != nil {
			t.Fatal(err)
		}
		metas[key] = meta.Size
	}
	filter := Filter{Column: "host", Op: Eq, Values: []any{"h7"}}
	read := func(key string, c *MetaCache) (rows int64, groups, fetches int) {
		t.Helper()
		b.mu.Lock()
		before := b.reads
		b.mu.Unlock()
		st, err := Read(ctx, b, key, metas[key], ReadOptions{Schema: s.InternalArrowSchema(), TimeColumn: "t",
			Range: TimeRange{0, 1 << 62}, Filters: []Filter{filter}, Meta: c})
		if err != nil {
			t.Fatal(err)
		}
		groups = st.RowGroups
		rows, _ = readAll(t, st)
		b.mu.Lock()
		defer b.mu.Unlock()
		return rows, groups, b.reads - before
	}
	wantRows, wantGroups, uncached := read("a.parquet", nil)
	if wantGroups != 1 {
		t.Fatalf("uncached read: %d row groups, want 1", wantGroups)
	}
	c := NewMetaCache(2)
	if rows, groups, _ := read("a.parquet", c); rows != wantRows || groups != wantGroups || c.Len() != 1 {
		t.Fatalf("first cached read: %d rows, %d groups, %d cached", rows, groups, c.Len())
	}
	rows, groups, cached := read("a.parquet", c)
	if rows != wantRows || groups != wantGroups {
		t.Errorf("cached read: %d rows in %d groups, want %d in %d", rows, groups, wantRows, wantGroups)
	}
	if cached >= uncached {
		t.Errorf("a cached read fetched %d ranges, an uncached one %d: the footer was read again", cached, uncached)
	}

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			st, err := Read(ctx, b, "a.parquet", metas["a.parquet"], ReadOptions{Schema: s.InternalArrowSchema(),
				TimeColumn: "t", Range: TimeRange{0, 1 << 62}, Filters: []Filter{filter}, Meta: c})
			if err != nil {
				t.Error(err)
				return
			}
			st.Close()
		})
	}
	wg.Wait()

	read("b.parquet", c)
	read("a.parquet", c) // a is now the most recent
	read("c.parquet", c) // evicts b
	if _, ok := c.get("b.parquet"); ok || c.Len() != 2 {
		t.Errorf("after reading a third file: b cached %v, %d entries; want b evicted, 2", ok, c.Len())
	}
	if _, ok := c.get("a.parquet"); !ok {
		t.Error("the most recently used file was evicted")
	}
	if NewMetaCache(0) != nil || (*MetaCache)(nil).Len() != 0 {
		t.Error("a cache of capacity 0 must be nil and empty")
	}
}
