package table

import (
	"fmt"
	"slices"
	"strings"
)

// Stats returns the WAL's state as text, for GET /debug/wal_stats: the
// database, the counters, and per open shard log its table, epoch,
// sequences, marks and cleaning progress. It reads memory only.
func (w *WAL) Stats() string {
	var b strings.Builder
	fmt.Fprintf(&b, "backend: table\naddr: %s\ndatabase: %s\nnamespace: %s\nbuckets: %d\nmax_entry_size: %d\n",
		w.addr, w.dbName, w.names.ns, w.buckets, w.maxEntry)
	m := w.metrics
	fmt.Fprintf(&b, "appends: %d acknowledged, %d failed (%d failed fast)\n",
		m.appends.value(), m.appendErrors.value(), m.failFast.value())
	fmt.Fprintf(&b, "entries: %d, payload bytes: %d, group commits: %d, rows deleted: %d\n",
		m.entries.value(), m.bytes.value(), m.commits.value(), m.deletedRows.value())
	fmt.Fprintf(&b, "clean_period: %s, ttl: %s, append_timeout: %s\n", w.opts.CleanPeriod, w.opts.TTL, w.opts.AppendTimeout)
	logs := w.openLogs()
	slices.SortFunc(logs, func(a, b *Log) int { return int(a.shard) - int(b.shard) })
	fmt.Fprintf(&b, "open logs: %d\n", len(logs))
	for _, l := range logs {
		marks := l.marks.Load().m
		live, dropped := 0, 0
		for _, m := range marks {
			if m.dropped {
				dropped++
			} else {
				live++
			}
		}
		next := l.next.Load()
		state := "ok"
		if err := l.c.fencedErr(); err != nil {
			state = "FENCED: " + err.Error()
		}
		l.mu.Lock()
		fmt.Fprintf(&b, "shard %d: table %s; epoch %d; next_sequence %d; purged_below %d; watermark %d; "+
			"tables %d live %d dropped; deleted_below %d; %s\n",
			l.shard, l.table, l.c.epochValue(), next, l.purged.Load(), watermark(marks, next),
			live, dropped, l.mu.deletedBelow, state)
		l.mu.Unlock()
	}
	return b.String()
}
