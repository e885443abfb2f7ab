package promql

import (
	"strings"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
)

// Reading the string tags of every sample costs two thirds of a scan, yet
// a series' tags never change: its tsid is their hash. So the labels of a
// tsid, once read, are remembered here; a query of a table whose series
// were seen reads only tsid, timestamp and field, and asks for the tags of
// the tsids it does not know (new series) by tsid.

// cacheKey names a table and its tag columns: a table re-created with other
// tags is another key.
type cacheKey struct {
	db, table, tags string
}

func keyOf(db string, t *table) cacheKey {
	var b strings.Builder
	for _, c := range t.tags {
		b.WriteString(c.name)
		b.WriteByte(0)
	}
	return cacheKey{db, t.name, b.String()}
}

// labelCache maps the tsids of tables to their labels, up to max label
// sets in all; over it, it starts afresh. Safe for concurrent use.
type labelCache struct {
	max int
	mu  struct {
		sync.Mutex
		tables map[cacheKey]map[uint64]labels.Labels
		n      int
	}
}

func newLabelCache(max int) *labelCache {
	c := &labelCache{max: max}
	c.mu.tables = map[cacheKey]map[uint64]labels.Labels{}
	return c
}

// known tells whether the cache holds series of a table.
func (c *labelCache) known(k cacheKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.tables[k] != nil
}

// lookup returns the labels of the tsids it knows, and the tsids it does
// not.
func (c *labelCache) lookup(k cacheKey, tsids []uint64) (map[uint64]labels.Labels, []uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.mu.tables[k]
	found := make(map[uint64]labels.Labels, len(tsids))
	var missing []uint64
	for _, id := range tsids {
		if l, ok := m[id]; ok {
			found[id] = l
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing
}

// add remembers the labels of tsids of a table.
func (c *labelCache) add(k cacheKey, ls map[uint64]labels.Labels) {
	if len(ls) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.n+len(ls) > c.max {
		clear(c.mu.tables)
		c.mu.n = 0
		if len(ls) > c.max {
			return
		}
	}
	m := c.mu.tables[k]
	if m == nil {
		m = make(map[uint64]labels.Labels, len(ls))
		c.mu.tables[k] = m
	}
	for id, l := range ls {
		if _, ok := m[id]; !ok {
			m[id] = l
			c.mu.n++
		}
	}
}
