package kafka

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Stats returns the WAL's state as text, for GET /debug/wal_stats: the
// brokers and Kafka's availability as the appends see it, the counters, and
// per open shard log its topics, sequences, marks and cleaning progress.
// It reads memory only.
func (w *WAL) Stats() string {
	var b strings.Builder
	fmt.Fprintf(&b, "backend: kafka\nbrokers: %s\ntopic_prefix: %s\n", strings.Join(w.opts.Brokers, ","), w.opts.TopicPrefix)
	if down, since, err := w.health.state(); down {
		fmt.Fprintf(&b, "kafka: UNAVAILABLE for %s (%v); appends fail fast\n", time.Since(since).Round(time.Millisecond), err)
	} else {
		b.WriteString("kafka: available\n")
	}
	m := w.metrics
	fmt.Fprintf(&b, "appends: %d acknowledged, %d failed (%d failed fast)\n",
		count(m.appends), count(m.appendErrors), count(m.failFast))
	fmt.Fprintf(&b, "entries: %d, payload bytes: %d, data records: %d, meta records: %d\n",
		count(m.entries), count(m.bytes), count(m.records), count(m.metaRecords))
	fmt.Fprintf(&b, "delete_records: %d, records read: %d\n", count(m.deletes), count(m.readRecords))
	fmt.Fprintf(&b, "clean_period: %s, meta_clean_period: %s, append_timeout: %s, max_message_bytes: %d\n",
		w.opts.CleanPeriod, w.opts.MetaCleanPeriod, w.opts.AppendTimeout, w.opts.MaxMessageBytes)
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
		l.mu.Lock()
		fmt.Fprintf(&b, "shard %d: topics %s %s; next_sequence %d; purged_below %d; watermark %d; "+
			"tables %d live %d dropped; deleted_below_offset %d; last_info_offset %d; index_points %d; "+
			"meta_records_since_snapshot %d\n",
			l.shard, l.data.name, l.meta.name, next, l.purged.Load(), watermark(marks, next),
			live, dropped, l.mu.deletedBelow, l.mu.lastInfo, len(l.mu.index.points), l.mu.metaRecords)
		l.mu.Unlock()
	}
	return b.String()
}

// count reads a counter's value.
func count(c *counter) uint64 { return c.value() }
