package objstore

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DiskCacheOptions configures WithDiskCache (config keys
// disk_cache_capacity, disk_cache_page_size, disk_cache_partition_bits,
// disk_cache_dir).
type DiskCacheOptions struct {
	// Dir holds the page files. Required. One process per Dir: it is
	// locked while the cache is open.
	Dir string
	// Capacity is the most bytes of pages kept, counting every page as
	// PageSize. It must be a positive multiple of PageSize*2^PartitionBits
	// (upstream's rule): each partition holds a whole number of pages.
	Capacity int64
	// PageSize is the unit fetched from the store and kept on disk: a read
	// of any byte of a page fetches the whole page. Default 2 MiB; at most
	// 1 GiB.
	PageSize int64
	// PartitionBits splits the cache into 2^bits LRU partitions. 0..20;
	// the config default is 4.
	PartitionBits int
	// Cacheable says which keys hold immutable objects and may be cached;
	// see WithDiskCache. Default nil: every key.
	Cacheable func(key string) bool
	// Logger receives notes about dropped pages. Default: discard.
	Logger *slog.Logger
	// Registerer, when set, receives the cache metrics (cache="disk").
	Registerer prometheus.Registerer
}

const maxPageSize = 1 << 30

// EnsureDefaults fills unset fields with their defaults.
func (o *DiskCacheOptions) EnsureDefaults() {
	if o.PageSize == 0 {
		o.PageSize = 2 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Dir != "" {
		o.Dir = filepath.Clean(o.Dir)
	}
}

// Validate reports the first problem with the options.
func (o *DiskCacheOptions) Validate() error {
	switch {
	case o.Dir == "":
		return fmt.Errorf("%w: disk cache: Dir is required", ErrInvalidOptions)
	case o.PageSize <= 0 || o.PageSize > maxPageSize:
		return fmt.Errorf("%w: disk cache: page size %d not in 1..%d", ErrInvalidOptions, o.PageSize, maxPageSize)
	case o.PartitionBits < 0 || o.PartitionBits > maxPartitionBits:
		return fmt.Errorf("%w: disk cache: partition bits %d not in 0..%d", ErrInvalidOptions, o.PartitionBits, maxPartitionBits)
	}
	unit := o.PageSize << o.PartitionBits
	if o.Capacity <= 0 || o.Capacity%unit != 0 {
		return fmt.Errorf("%w: disk cache: capacity %d is not a positive multiple of page size * 2^partition bits = %d",
			ErrInvalidOptions, o.Capacity, unit)
	}
	return nil
}

// WithDiskCache returns b with a cache of pages of cacheable objects in
// files under o.Dir. A read fetches the missing pages it touches from b
// (adjacent ones in one request) and stores them; from cached pages it
// reads and verifies only the 64 KiB blocks it needs. The
// cache survives restarts: opening it rebuilds the index from the page
// files (least recently written first out), dropping damaged or foreign
// ones; a page that fails its checksum when read is dropped and fetched
// again.
//
// Stale reads: as in WithMemCache, writes through the wrapper invalidate,
// but nothing else does, and pages outlive the process: a cacheable key
// must never be overwritten with different content, by anyone, for as long
// as the cache dir lives. Pass Cacheable (e.g.
// KeyMatch("tables/*/sst/*.parquet")).
func WithDiskCache(b Bucket, o DiskCacheOptions) (Bucket, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	m, err := newCacheMetrics(o.Registerer, "disk")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("objstore: disk cache dir: %w", err)
	}
	unlock, err := lockDir(o.Dir)
	if err != nil {
		return nil, err
	}
	c := &diskCache{b: b, o: o, m: m, seed: maphash.MakeSeed(), unlock: unlock}
	c.parts = make([]diskPart, 1<<o.PartitionBits)
	perPart := int(o.Capacity / o.PageSize >> o.PartitionBits)
	for i := range c.parts {
		c.parts[i].capacity = perPart
		c.parts[i].pages = map[string]map[int64]*list.Element{}
	}
	if err := c.rebuild(); err != nil {
		unlock()
		return nil, err
	}
	return c, nil
}

type diskPage struct {
	key     string
	idx     int64
	dataLen int
	objSize int64 // -1: unknown
}

type diskPart struct {
	mu       sync.Mutex
	capacity int       // pages
	lru      list.List // of *diskPage, front: most recently used
	pages    map[string]map[int64]*list.Element
}

type diskCache struct {
	b     Bucket
	o     DiskCacheOptions
	m     *cacheMetrics
	seed  maphash.Seed
	parts []diskPart
	gens  [256]atomic.Uint64 // invalidation generations, by key hash
	// writing counts Puts and Deletes under way, by key hash: a read that
	// overlaps one bypasses the cache, so it cannot mix versions.
	writing [256]atomic.Int64
	closed  atomic.Bool
	unlock  func()
}

func (c *diskCache) ok(key string) bool {
	return (c.o.Cacheable == nil || c.o.Cacheable(key)) && len(key) <= 1024 && CheckKey(key) == nil
}

func (c *diskCache) gen(key string) *atomic.Uint64 {
	return &c.gens[maphash.String(c.seed, key)&255]
}

func (c *diskCache) writers(key string) *atomic.Int64 {
	return &c.writing[maphash.String(c.seed, key)&255]
}

func (c *diskCache) part(key string, idx int64) *diskPart {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(key)
	var buf [8]byte
	for i := range buf {
		buf[i] = byte(idx >> (8 * i))
	}
	h.Write(buf[:])
	return &c.parts[h.Sum64()&uint64(len(c.parts)-1)]
}

func (c *diskCache) path(key string, idx int64) string {
	return filepath.Join(c.o.Dir, filepath.FromSlash(pageFileName(key, idx)))
}

// rebuild loads the index from the page files in the dir.
func (c *diskCache) rebuild() error {
	type found struct {
		p     diskPage
		mtime time.Time
	}
	var all []found
	dropped := 0
	err := filepath.WalkDir(c.o.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != c.o.Dir && filepath.Dir(p) != c.o.Dir {
				return fs.SkipDir // not ours: pages are one level down
			}
			return nil
		}
		name := d.Name()
		if filepath.Ext(name) == ".tmp" && filepath.Dir(p) != c.o.Dir {
			c.remove(p) // an interrupted write
			return nil
		}
		if filepath.Dir(p) == c.o.Dir || !isPageFileName(name) {
			return nil
		}
		h, info, err := readPageHeader(p)
		if err == nil && (h.pageSize != c.o.PageSize || !c.ok(h.key) ||
			c.path(h.key, h.idx) != p || info.Size() != h.fileLen()) {
			err = errCorruptPage
		}
		if err != nil {
			dropped++
			c.remove(p)
			return nil
		}
		all = append(all, found{diskPage{key: h.key, idx: h.idx, dataLen: h.dataLen, objSize: h.objSize}, info.ModTime()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("objstore: disk cache: scan %s: %w", c.o.Dir, err)
	}
	slices.SortFunc(all, func(a, b found) int { return a.mtime.Compare(b.mtime) })
	var evicted []string
	for _, f := range all {
		p := c.part(f.p.key, f.p.idx)
		page := f.p
		evicted = append(evicted, c.addLocked(p, &page)...)
	}
	for _, e := range evicted {
		c.remove(e)
	}
	if dropped > 0 {
		c.m.corrupt.Add(float64(dropped))
	}
	c.o.Logger.Info("objstore: disk cache opened", "dir", c.o.Dir, "pages", len(all)-len(evicted),
		"dropped", dropped, "evicted", len(evicted))
	return nil
}

func readPageHeader(path string) (pageHeader, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return pageHeader{}, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return pageHeader{}, nil, err
	}
	buf := make([]byte, pageFixedLen+1024+4)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return pageHeader{}, nil, err
	}
	h, err := decodePageHeader(buf[:n])
	return h, info, err
}

// addLocked inserts page into p (the caller holds p.mu or owns c) and
// returns the files of the pages evicted for it.
func (c *diskCache) addLocked(p *diskPart, page *diskPage) (evicted []string) {
	byIdx := p.pages[page.key]
	if byIdx == nil {
		byIdx = map[int64]*list.Element{}
		p.pages[page.key] = byIdx
	}
	if old, ok := byIdx[page.idx]; ok {
		c.removeLocked(p, old) // the new file replaced the old one
	}
	byIdx[page.idx] = p.lru.PushFront(page)
	c.m.used.Add(float64(c.o.PageSize))
	for p.lru.Len() > p.capacity {
		old := c.removeLocked(p, p.lru.Back())
		evicted = append(evicted, c.path(old.key, old.idx))
		c.m.evictions.Inc()
	}
	return evicted
}

func (c *diskCache) removeLocked(p *diskPart, el *list.Element) *diskPage {
	page := p.lru.Remove(el).(*diskPage)
	byIdx := p.pages[page.key]
	delete(byIdx, page.idx)
	if len(byIdx) == 0 {
		delete(p.pages, page.key)
	}
	c.m.used.Sub(float64(c.o.PageSize))
	return page
}

// lookup returns the index entry of a page, marking it used.
func (c *diskCache) lookup(key string, idx int64) (diskPage, bool) {
	p := c.part(key, idx)
	p.mu.Lock()
	defer p.mu.Unlock()
	el, ok := p.pages[key][idx]
	if !ok {
		return diskPage{}, false
	}
	p.lru.MoveToFront(el)
	return *el.Value.(*diskPage), true
}

// remove deletes a file of the cache; a failure is logged (the file is
// then unaccounted for until the next open indexes or drops it).
func (c *diskCache) remove(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.o.Logger.Warn("objstore: disk cache cannot remove a file", "path", path, "err", err)
	}
}

// drop removes one page from the index and its file.
func (c *diskCache) drop(key string, idx int64, path string) {
	p := c.part(key, idx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if el, ok := p.pages[key][idx]; ok {
		c.removeLocked(p, el)
		c.remove(path)
	}
}

// objSize returns the size of key's object if a cached page knows it.
func (c *diskCache) objSize(key string) (int64, bool) {
	page, ok := c.lookup(key, 0)
	if !ok || page.objSize < 0 {
		return 0, false
	}
	return page.objSize, true
}

// learnSize records the object size on the cached first page, unless key
// was invalidated since gen.
func (c *diskCache) learnSize(key string, size int64, gen uint64) {
	p := c.part(key, 0)
	p.mu.Lock()
	defer p.mu.Unlock()
	if el, ok := p.pages[key][0]; ok && c.gen(key).Load() == gen {
		el.Value.(*diskPage).objSize = size
	}
}

// storePage writes one page, unless key was invalidated since gen.
func (c *diskCache) storePage(key string, idx int64, data []byte, objSize int64, gen uint64) error {
	path := c.path(key, idx)
	buf := encodePage(pageHeader{pageSize: c.o.PageSize, idx: idx, objSize: objSize, key: key}, data)
	tmp := path + "." + strconv.FormatUint(rand.Uint64(), 36) + ".tmp"
	err := os.WriteFile(tmp, buf, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			err = os.WriteFile(tmp, buf, 0o644)
		}
	}
	if err != nil {
		c.remove(tmp)
		return err
	}
	p := c.part(key, idx)
	p.mu.Lock()
	if c.gen(key).Load() != gen || c.closed.Load() {
		p.mu.Unlock()
		c.remove(tmp)
		return nil
	}
	if err := os.Rename(tmp, path); err != nil {
		p.mu.Unlock()
		c.remove(tmp)
		return err
	}
	evicted := c.addLocked(p, &diskPage{key: key, idx: idx, dataLen: len(data), objSize: objSize})
	for _, e := range evicted {
		c.remove(e)
	}
	p.mu.Unlock()
	return nil
}

// store writes pages starting at page first; a failure to write the cache
// is logged, never returned: the read itself succeeded.
func (c *diskCache) store(key string, first int64, pages [][]byte, objSize int64, gen uint64) {
	if total := int(c.o.Capacity / c.o.PageSize); len(pages) > total {
		// Pages written first would be evicted by the ones after them.
		first += int64(len(pages) - total)
		pages = pages[len(pages)-total:]
	}
	for i, data := range pages {
		if len(data) == 0 {
			continue
		}
		if err := c.storePage(key, first+int64(i), data, objSize, gen); err != nil {
			c.o.Logger.Warn("objstore: disk cache write failed", "key", key, "page", first+int64(i), "err", err)
			return
		}
	}
}

// invalidate drops every page of key and makes reads that started before
// it skip their inserts.
func (c *diskCache) invalidate(key string) {
	c.gen(key).Add(1)
	for i := range c.parts {
		p := &c.parts[i]
		p.mu.Lock()
		for idx, el := range p.pages[key] {
			c.removeLocked(p, el)
			c.remove(c.path(key, idx))
		}
		p.mu.Unlock()
	}
}

func (c *diskCache) GetRange(ctx context.Context, key string, off, length int64) ([]byte, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if !c.ok(key) || off < 0 || length <= 0 {
		return c.b.GetRange(ctx, key, off, length)
	}
	gen := c.gen(key).Load()
	if c.writers(key).Load() > 0 {
		return c.b.GetRange(ctx, key, off, length)
	}
	out, err := c.getRange(ctx, key, off, length, gen)
	if err != nil {
		return nil, err
	}
	if c.gen(key).Load() != gen || c.writers(key).Load() > 0 {
		// A write overlapped: the pages may be of two versions. One
		// request to the store is atomic.
		return c.b.GetRange(ctx, key, off, length)
	}
	return out, nil
}

func (c *diskCache) Get(ctx context.Context, key string) ([]byte, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if !c.ok(key) {
		return c.b.Get(ctx, key)
	}
	gen := c.gen(key).Load()
	if size, ok := c.objSize(key); ok && size > 0 && c.writers(key).Load() == 0 {
		data, err := c.getRange(ctx, key, 0, size, gen)
		if err == nil && c.gen(key).Load() == gen && c.writers(key).Load() == 0 {
			return data, nil
		}
	}
	data, err := c.b.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	ps := c.o.PageSize
	var pages [][]byte
	for lo := int64(0); lo < int64(len(data)); lo += ps {
		pages = append(pages, data[lo:min(lo+ps, int64(len(data)))])
	}
	c.store(key, 0, pages, int64(len(data)), gen)
	return data, nil
}

func (c *diskCache) Size(ctx context.Context, key string) (int64, error) {
	if c.closed.Load() {
		return 0, ErrClosed
	}
	if c.ok(key) {
		if size, ok := c.objSize(key); ok {
			return size, nil
		}
	}
	return c.b.Size(ctx, key)
}

func (c *diskCache) Put(ctx context.Context, key string, data []byte) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if !c.ok(key) {
		return c.b.Put(ctx, key, data)
	}
	w := c.writers(key)
	w.Add(1)
	defer w.Add(-1)
	c.invalidate(key)
	defer c.invalidate(key)
	return c.b.Put(ctx, key, data)
}

func (c *diskCache) Delete(ctx context.Context, key string) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if !c.ok(key) {
		return c.b.Delete(ctx, key)
	}
	w := c.writers(key)
	w.Add(1)
	defer w.Add(-1)
	c.invalidate(key)
	defer c.invalidate(key)
	return c.b.Delete(ctx, key)
}

func (c *diskCache) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	return c.b.List(ctx, prefix)
}

// Close releases the dir lock and closes the inner bucket; the pages stay
// for the next open.
func (c *diskCache) Close() error {
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
	c.unlock()
	return c.b.Close()
}
