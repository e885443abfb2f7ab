package local

import (
	"fmt"
	"slices"
	"strings"
)

// Stats returns the WAL's state as text, for GET /debug/wal_stats: the
// store's directory and Pebble's metrics summary, the group committer's
// counts and, per shard loaded, its sequences and marks. It reads memory
// only.
func (w *WAL) Stats() string {
	var b strings.Builder
	fmt.Fprintf(&b, "backend: local (pebble)\ndir: %s\n", w.dir)
	if err := w.c.err(); err != nil {
		fmt.Fprintf(&b, "store: FAILED (%v); reopen the WAL\n", err)
	} else {
		b.WriteString("store: ok\n")
	}
	fmt.Fprintf(&b, "synced commits: %d, nosync: %t, max_entry_size: %d\n", w.c.syncs.Load(), w.opts.NoSync, w.opts.MaxEntrySize)
	w.mu.Lock()
	shards := make([]*shard, 0, len(w.mu.shards))
	for _, sh := range w.mu.shards {
		shards = append(shards, sh)
	}
	open := len(w.mu.logs)
	w.mu.Unlock()
	slices.SortFunc(shards, func(a, b *shard) int { return int(a.id) - int(b.id) })
	fmt.Fprintf(&b, "shards loaded: %d, logs open: %d\n", len(shards), open)
	for _, sh := range shards {
		marks := sh.marks.Load().m
		live, dropped := 0, 0
		for _, m := range marks {
			if m.dropped {
				dropped++
			} else {
				live++
			}
		}
		next := sh.next.Load()
		fmt.Fprintf(&b, "shard %d: next_sequence %d; watermark %d; deleted_below %d; tables %d live %d dropped\n",
			sh.id, next, watermark(marks, next), sh.purged.Load(), live, dropped)
	}
	fmt.Fprintf(&b, "pebble:\n%s", w.db.Metrics().String())
	return b.String()
}
