package sst

import (
	"container/list"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// MetaCache keeps the parsed footers of recently read SSTs, so that a
// query does not fetch and parse an SST's footer (Parquet's thrift file
// metadata and our tag filters) every time it opens the file: for a point
// query that is a large part of its cost. SSTs are immutable, so an entry
// never goes stale; the entry of a deleted SST ages out. Bounded by a
// number of files (analytic.sst_meta_cache_cap); least recently used
// first out. Safe for concurrent use; a nil *MetaCache caches nothing.
type MetaCache struct {
	capacity int

	mu struct {
		sync.Mutex
		lru   *list.List // of *metaEntry, most recent first
		byKey map[string]*list.Element
	}
}

type metaEntry struct {
	key     string
	md      *metadata.FileMetaData
	filters tagFilters

	mu    sync.Mutex
	stats map[[2]int]metadata.TypedStatistics // (row group, column) → decoded statistics
}

// stat returns the statistics of column col of row group rg, decoded from
// the footer once per file: pruning reads them for every row group of
// every query.
func (e *metaEntry) stat(rg, col int) (metadata.TypedStatistics, error) {
	k := [2]int{rg, col}
	e.mu.Lock()
	st, ok := e.stats[k]
	e.mu.Unlock()
	if ok {
		return st, nil
	}
	cc, err := e.md.RowGroup(rg).ColumnChunk(col)
	if err != nil {
		return nil, err
	}
	if st, err = cc.Statistics(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.stats == nil {
		e.stats = map[[2]int]metadata.TypedStatistics{}
	}
	e.stats[k] = st
	e.mu.Unlock()
	return st, nil
}

// NewMetaCache returns a cache of capacity files, or nil (no cache) when
// capacity is not positive.
func NewMetaCache(capacity int) *MetaCache {
	if capacity <= 0 {
		return nil
	}
	c := &MetaCache{capacity: capacity}
	c.mu.lru = list.New()
	c.mu.byKey = map[string]*list.Element{}
	return c
}

func (c *MetaCache) get(key string) (*metaEntry, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.mu.byKey[key]
	if !ok {
		return nil, false
	}
	c.mu.lru.MoveToFront(el)
	return el.Value.(*metaEntry), true
}

func (c *MetaCache) put(e *metaEntry) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.mu.byKey[e.key]; ok {
		el.Value = e
		c.mu.lru.MoveToFront(el)
		return
	}
	c.mu.byKey[e.key] = c.mu.lru.PushFront(e)
	for c.mu.lru.Len() > c.capacity {
		last := c.mu.lru.Back()
		c.mu.lru.Remove(last)
		delete(c.mu.byKey, last.Value.(*metaEntry).key)
	}
}

// Len returns the number of cached footers.
func (c *MetaCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.lru.Len()
}
