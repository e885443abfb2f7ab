package procedure

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// lockTable serialises procedures on the things they change: a table name
// ("table/<schema>/<name>") and shards ("shard/<id>"). Each key has a FIFO
// queue; a procedure owns its keys when it is first in all their queues.
// Keys a procedure adds together are queued together, so procedures are
// ordered the same way in every queue they share and cannot deadlock: a
// DDL procedure queues its table name at submission and its shards once it
// has picked them, and never waits for a name while holding a shard.
type lockTable struct {
	mu      sync.Mutex
	queues  map[string][]uint64
	changed chan struct{} // closed and replaced on every release
}

func newLockTable() *lockTable {
	return &lockTable{queues: map[string][]uint64{}, changed: make(chan struct{})}
}

func tableLock(schema, name string) string { return "table/" + schema + "/" + name }

func shardLock(id uint32) string { return "shard/" + strconv.FormatUint(uint64(id), 10) }

// add queues id on keys.
func (l *lockTable) add(id uint64, keys []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if !slices.Contains(l.queues[k], id) {
			l.queues[k] = append(l.queues[k], id)
		}
	}
}

// wait blocks until id is first in the queues of keys, or ctx is done.
func (l *lockTable) wait(ctx context.Context, id uint64, keys []string) error {
	for {
		l.mu.Lock()
		ok := true
		for _, k := range keys {
			if q := l.queues[k]; len(q) == 0 || q[0] != id {
				ok = false
				break
			}
		}
		ch := l.changed
		l.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// release removes id from every queue.
func (l *lockTable) release(id uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, q := range l.queues {
		if i := slices.Index(q, id); i >= 0 {
			q = slices.Delete(q, i, i+1)
			if len(q) == 0 {
				delete(l.queues, k)
			} else {
				l.queues[k] = q
			}
		}
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// shards returns the shards with a procedure queued or running.
func (l *lockTable) shards() map[uint32]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[uint32]bool{}
	for k := range l.queues {
		if rest, ok := strings.CutPrefix(k, "shard/"); ok {
			if id, err := strconv.ParseUint(rest, 10, 32); err == nil {
				out[uint32(id)] = true
			}
		}
	}
	return out
}
