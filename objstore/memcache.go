package objstore

import (
	"container/list"
	"context"
	"fmt"
	"hash/maphash"
	"path"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// MemCacheOptions configures WithMemCache (config keys mem_cache_capacity
// and mem_cache_partition_bits).
type MemCacheOptions struct {
	// Capacity is the most bytes of object data cached. Required: a
	// disabled cache (capacity 0) is the caller not wrapping at all.
	Capacity int64
	// PartitionBits splits the cache into 2^bits LRU partitions of
	// Capacity/2^bits bytes each, which keeps lock contention low. An
	// object range larger than a partition is not cached. 0..20; the
	// config default is 6.
	PartitionBits int
	// Cacheable says which keys hold immutable objects and may be cached.
	// Default nil: every key. See WithMemCache for why it matters.
	Cacheable func(key string) bool
	// Registerer, when set, receives the cache metrics (cache="memory").
	Registerer prometheus.Registerer
}

// Validate reports the first problem with the options.
func (o *MemCacheOptions) Validate() error {
	switch {
	case o.Capacity <= 0:
		return fmt.Errorf("%w: mem cache: capacity %d must be positive", ErrInvalidOptions, o.Capacity)
	case o.PartitionBits < 0 || o.PartitionBits > maxPartitionBits:
		return fmt.Errorf("%w: mem cache: partition bits %d not in 0..%d", ErrInvalidOptions, o.PartitionBits, maxPartitionBits)
	case o.Capacity>>o.PartitionBits == 0:
		return fmt.Errorf("%w: mem cache: capacity %d is less than one byte per partition (2^%d partitions)",
			ErrInvalidOptions, o.Capacity, o.PartitionBits)
	}
	return nil
}

const maxPartitionBits = 20

// KeyMatch returns a Cacheable predicate that accepts keys matching any of
// the path.Match patterns, e.g. KeyMatch("tables/*/sst/*.parquet").
func KeyMatch(patterns ...string) func(key string) bool {
	return func(key string) bool {
		for _, p := range patterns {
			if ok, _ := path.Match(p, key); ok {
				return true
			}
		}
		return false
	}
}

// WithMemCache returns b with a partitioned LRU cache in front of Get,
// GetRange and Size of cacheable keys. It caches exactly the ranges asked
// for (a parquet reader asks for the same footer and column chunks again
// and again); the disk cache below it deals in aligned pages.
//
// Stale reads: a Put or Delete through this wrapper drops every cached
// range of the key, and a read that raced with it does not insert what it
// read. A write by anyone else (another process, or code holding the inner
// bucket) is not seen, so only keys that are never overwritten may be
// cacheable when others write: give Cacheable, e.g. the engine's
// KeyMatch("tables/*/sst/*.parquet") (SSTs are immutable; manifests are
// not).
func WithMemCache(b Bucket, o MemCacheOptions) (Bucket, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	m, err := newCacheMetrics(o.Registerer, "memory")
	if err != nil {
		return nil, err
	}
	c := &memCache{b: b, cacheable: o.Cacheable, m: m, seed: maphash.MakeSeed()}
	n := 1 << o.PartitionBits
	c.parts = make([]memPart, n)
	for i := range c.parts {
		c.parts[i].capacity = o.Capacity >> o.PartitionBits
		c.parts[i].entries = map[string]map[memRange]*list.Element{}
	}
	return c, nil
}

// memRange names one cached value of a key: a range, the whole object
// (off 0, length -1) or its size (off -1).
type memRange struct{ off, length int64 }

var (
	memWhole = memRange{0, -1}
	memSize  = memRange{-1, -1}
)

type memEntry struct {
	key  string
	r    memRange
	data []byte
	size int64
	cost int64
}

type memPart struct {
	mu       sync.Mutex
	capacity int64
	used     int64
	lru      list.List // front: most recently used
	entries  map[string]map[memRange]*list.Element
}

type memCache struct {
	b         Bucket
	cacheable func(string) bool
	m         *cacheMetrics
	seed      maphash.Seed
	parts     []memPart
	gens      [256]atomic.Uint64 // invalidation generations, by key hash
	closed    atomic.Bool
}

func (c *memCache) ok(key string) bool {
	return (c.cacheable == nil || c.cacheable(key)) && CheckKey(key) == nil
}

func (c *memCache) gen(key string) *atomic.Uint64 {
	return &c.gens[maphash.String(c.seed, key)&255]
}

func (c *memCache) part(key string, r memRange) *memPart {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(key)
	var buf [16]byte
	for i := 0; i < 8; i++ {
		buf[i] = byte(r.off >> (8 * i))
		buf[8+i] = byte(r.length >> (8 * i))
	}
	h.Write(buf[:])
	return &c.parts[h.Sum64()&uint64(len(c.parts)-1)]
}

func (c *memCache) lookup(key string, r memRange) (*memEntry, bool) {
	p := c.part(key, r)
	p.mu.Lock()
	defer p.mu.Unlock()
	el, ok := p.entries[key][r]
	if !ok {
		c.m.misses.Inc()
		return nil, false
	}
	p.lru.MoveToFront(el)
	c.m.hits.Inc()
	return el.Value.(*memEntry), true
}

// insert caches e unless key was invalidated since gen was read.
func (c *memCache) insert(e *memEntry, gen uint64) {
	e.cost = int64(len(e.data)) + int64(len(e.key)) + 96
	p := c.part(e.key, e.r)
	if e.cost > p.capacity {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.gen(e.key).Load() != gen || c.closed.Load() {
		return
	}
	byRange := p.entries[e.key]
	if byRange == nil {
		byRange = map[memRange]*list.Element{}
		p.entries[e.key] = byRange
	}
	if old, ok := byRange[e.r]; ok {
		c.removeLocked(p, old)
	}
	byRange[e.r] = p.lru.PushFront(e)
	p.used += e.cost
	c.m.used.Add(float64(e.cost))
	for p.used > p.capacity {
		c.removeLocked(p, p.lru.Back())
		c.m.evictions.Inc()
	}
}

func (c *memCache) removeLocked(p *memPart, el *list.Element) {
	e := p.lru.Remove(el).(*memEntry)
	byRange := p.entries[e.key]
	delete(byRange, e.r)
	if len(byRange) == 0 {
		delete(p.entries, e.key)
	}
	p.used -= e.cost
	c.m.used.Sub(float64(e.cost))
}

// invalidate drops every cached value of key and makes reads that started
// before it skip their insert.
func (c *memCache) invalidate(key string) {
	c.gen(key).Add(1)
	for i := range c.parts {
		p := &c.parts[i]
		p.mu.Lock()
		for _, el := range p.entries[key] {
			c.removeLocked(p, el)
		}
		p.mu.Unlock()
	}
}

func (c *memCache) Get(ctx context.Context, key string) ([]byte, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if !c.ok(key) {
		return c.b.Get(ctx, key)
	}
	if e, ok := c.lookup(key, memWhole); ok {
		return clone(e.data), nil
	}
	gen := c.gen(key).Load()
	data, err := c.b.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	c.insert(&memEntry{key: key, r: memWhole, data: clone(data)}, gen)
	return data, nil
}

func (c *memCache) GetRange(ctx context.Context, key string, off, length int64) ([]byte, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if !c.ok(key) || off < 0 || length <= 0 {
		return c.b.GetRange(ctx, key, off, length)
	}
	r := memRange{off, length}
	if e, ok := c.lookup(key, r); ok {
		return clone(e.data), nil
	}
	gen := c.gen(key).Load()
	data, err := c.b.GetRange(ctx, key, off, length)
	if err != nil {
		return nil, err
	}
	c.insert(&memEntry{key: key, r: r, data: clone(data)}, gen)
	return data, nil
}

func (c *memCache) Size(ctx context.Context, key string) (int64, error) {
	if c.closed.Load() {
		return 0, ErrClosed
	}
	if !c.ok(key) {
		return c.b.Size(ctx, key)
	}
	if e, ok := c.lookup(key, memSize); ok {
		return e.size, nil
	}
	gen := c.gen(key).Load()
	n, err := c.b.Size(ctx, key)
	if err != nil {
		return 0, err
	}
	c.insert(&memEntry{key: key, r: memSize, size: n}, gen)
	return n, nil
}

func (c *memCache) Put(ctx context.Context, key string, data []byte) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if !c.ok(key) {
		return c.b.Put(ctx, key, data)
	}
	// Before: nothing old is served while the write is under way. After:
	// a read that fetched the old object meanwhile does not cache it.
	c.invalidate(key)
	defer c.invalidate(key)
	return c.b.Put(ctx, key, data)
}

func (c *memCache) Delete(ctx context.Context, key string) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if !c.ok(key) {
		return c.b.Delete(ctx, key)
	}
	c.invalidate(key)
	defer c.invalidate(key)
	return c.b.Delete(ctx, key)
}

func (c *memCache) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	return c.b.List(ctx, prefix)
}

func (c *memCache) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	for i := range c.parts {
		p := &c.parts[i]
		p.mu.Lock()
		for p.lru.Len() > 0 {
			c.removeLocked(p, p.lru.Back())
		}
		p.mu.Unlock()
	}
	return c.b.Close()
}

func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append(make([]byte, 0, len(b)), b...)
}

// cacheMetrics are the metrics of one kind of cache.
type cacheMetrics struct {
	hits, misses, evictions, corrupt prometheus.Counter
	used                             prometheus.Gauge
}

func newCacheMetrics(reg prometheus.Registerer, cache string) (*cacheMetrics, error) {
	const ns, sub = "horaedb", "objstore"
	labels := prometheus.Labels{"cache": cache}
	requests, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "cache_requests_total", ConstLabels: labels,
		Help: "Cache lookups, by result (hit or miss). The disk cache counts pages.",
	}, []string{"result"}))
	if err != nil {
		return nil, err
	}
	evictions, err := register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "cache_evictions_total", ConstLabels: labels,
		Help: "Cache entries (disk: pages) evicted to make room.",
	}))
	if err != nil {
		return nil, err
	}
	corrupt, err := register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "cache_corrupt_pages_total", ConstLabels: labels,
		Help: "Disk cache pages dropped because they failed their checksum or were unreadable.",
	}))
	if err != nil {
		return nil, err
	}
	used, err := register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "cache_used_bytes", ConstLabels: labels,
		Help: "Bytes the cache holds (disk: pages times page size).",
	}))
	if err != nil {
		return nil, err
	}
	return &cacheMetrics{
		hits: requests.WithLabelValues("hit"), misses: requests.WithLabelValues("miss"),
		evictions: evictions, corrupt: corrupt, used: used,
	}, nil
}
