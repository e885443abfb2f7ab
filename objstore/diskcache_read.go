package objstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// errPageGone means a page in the index could not be read (evicted
// meanwhile, or damaged); it has been dropped.
var errPageGone = errors.New("objstore: disk cache page gone")

// getRange serves a read from pages, fetching the missing ones. A page
// that turns out unreadable is dropped and the read tried once more, then
// served by the store.
func (c *diskCache) getRange(ctx context.Context, key string, off, length int64, gen uint64) ([]byte, error) {
	for attempt := 0; attempt < 2; attempt++ {
		out, err := c.tryGetRange(ctx, key, off, length, gen)
		if !errors.Is(err, errPageGone) {
			return out, err
		}
	}
	return c.b.GetRange(ctx, key, off, length)
}

func (c *diskCache) tryGetRange(ctx context.Context, key string, off, length int64, gen uint64) ([]byte, error) {
	ps := c.o.PageSize
	end := off + length
	if end < off { // overflow: read to the end
		end = 1<<63 - 1
	}
	if size, ok := c.objSize(key); ok {
		if off >= size {
			return c.b.GetRange(ctx, key, off, length) // let the store say what reading past the end means
		}
		end = min(end, size)
	}
	first, last := off/ps, (end-1)/ps
	n := int(last - first + 1)
	cached := make([]int, n) // data length of a cached page, -1: missing
	fetched := make([][]byte, n)
	stop := n // pages at and after stop lie past the end of the object
	for i := range n {
		page, ok := c.lookup(key, first+int64(i))
		if !ok {
			cached[i] = -1
			c.m.misses.Inc()
			continue
		}
		c.m.hits.Inc()
		cached[i] = page.dataLen
		if int64(page.dataLen) < ps {
			stop = i + 1
			break
		}
	}
	// Fetch runs of missing pages, one request per run.
	objSize := int64(-1)
	for i := 0; i < stop; {
		if cached[i] >= 0 {
			i++
			continue
		}
		j := i
		for j < stop && cached[j] < 0 {
			j++
		}
		start := (first + int64(i)) * ps
		data, err := c.b.GetRange(ctx, key, start, int64(j-i)*ps)
		if err != nil {
			return nil, err
		}
		for k := i; k < j; k++ {
			lo := int64(k-i) * ps
			if lo >= int64(len(data)) {
				break
			}
			fetched[k] = data[lo:min(lo+ps, int64(len(data)))]
		}
		if int64(len(data)) < int64(j-i)*ps {
			objSize = start + int64(len(data))
			stop = i + int((int64(len(data))+ps-1)/ps)
		}
		c.store(key, first+int64(i), fetched[i:min(j, stop)], objSize, gen)
		i = j
	}
	if objSize >= 0 {
		c.learnSize(key, objSize, gen)
	}
	// Assemble [off, end): fetched pages from memory, cached ones from
	// their files, reading only the blocks needed.
	out := make([]byte, 0, min(end-off, int64(stop)*ps))
	for i := range stop {
		pstart := (first + int64(i)) * ps
		plen := int64(cached[i])
		if fetched[i] != nil {
			plen = int64(len(fetched[i]))
		}
		lo, hi := max(off-pstart, 0), min(end-pstart, plen)
		if lo >= hi {
			continue
		}
		if fetched[i] != nil {
			out = append(out, fetched[i][lo:hi]...)
			continue
		}
		part, err := c.readPage(key, first+int64(i), cached[i], int(lo), int(hi))
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}

// readPage reads bytes [lo, hi) of a cached page. A page whose file is
// damaged or gone is dropped, and errPageGone returned.
func (c *diskCache) readPage(key string, idx int64, dataLen, lo, hi int) ([]byte, error) {
	path := c.path(key, idx)
	f, err := os.Open(path)
	var data []byte
	if err == nil {
		data, err = readPageRange(f, key, idx, c.o.PageSize, dataLen, lo, hi)
		f.Close()
	}
	if err == nil {
		return data, nil
	}
	c.drop(key, idx, path)
	if !errors.Is(err, fs.ErrNotExist) {
		c.m.corrupt.Inc()
		c.o.Logger.Warn("objstore: dropped a damaged disk cache page", "key", key, "page", idx, "err", err)
	}
	return nil, fmt.Errorf("%w: %w", errPageGone, err)
}
