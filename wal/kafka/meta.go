package kafka

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/horaego/horaedb/wal"
)

// Marks.
//
// Every table with entries in a shard log has a mark in the shard's meta
// topic: its entries with seq < below are dead. A table is registered (mark
// at the next sequence) before its first entry is produced, so that the cleaner, which
// deletes records below the lowest mark of the live tables, never deletes an
// entry of a table it does not know. DropTable sets the mark to the next
// sequence and flags it dropped: the table no longer holds the watermark
// back. An Append to a dropped table first clears the flag (in the meta
// topic), keeping the mark's below. Once the purge floor passes a dropped
// table's mark, none of its entries is left and the table is forgotten.
//
// The meta topic is replayed in offset order at OpenLog: a mark record sets
// one table's mark, a purged record raises the floor, a snapshot replaces
// everything, an epoch record starts an owner's epoch (records of older
// epochs after it are ignored). A snapshot is written, and the records before it deleted,
// every meta clean period (or after metaSnapshotEvery records) and when a
// table is forgotten.

// metaSnapshotEvery is how many mark records make the cleaner write a
// snapshot before the meta clean period is over.
const metaSnapshotEvery = 1000

// mark is a table's truncation mark.
type mark struct {
	below   uint64
	dropped bool
}

// markSet is an immutable map from table id to mark.
type markSet struct{ m map[uint64]mark }

// watermark returns the lowest mark of the live tables, or next if there is
// none: every entry below it is dead.
func watermark(marks map[uint64]mark, next uint64) uint64 {
	w := next
	for _, m := range marks {
		if !m.dropped && m.below < w {
			w = m.below
		}
	}
	return w
}

func sortedTables(marks map[uint64]mark) []uint64 {
	return slices.Sorted(maps.Keys(marks))
}

// loadMeta replays the meta topic into the log's marks, purge floor and
// epochs. Records are applied in offset order; one written with an epoch
// older than the latest started before it is a late write of an earlier
// owner and is ignored.
func (l *Log) loadMeta(ctx context.Context) error {
	marks := make(map[uint64]mark)
	var purged, cur uint64
	var epochs []uint64
	n := 0
	_, err := l.w.scan(ctx, l.meta, 0, -1, func(off int64, v []byte) error {
		r, err := decodeMeta(v)
		if err != nil {
			return fmt.Errorf("meta topic %s offset %d: %w: %w", l.meta.name, off, wal.ErrCorrupt, err)
		}
		if r.kind == kindEpoch {
			if r.epoch > cur {
				cur = r.epoch
				epochs = append(epochs, r.epoch)
			}
			return nil
		}
		if r.epoch < cur {
			return nil
		}
		cur = r.epoch
		switch r.kind {
		case kindMark:
			marks[r.marks[0].table] = r.marks[0].mark
			n++
		case kindPurged:
			purged = max(purged, r.purged)
			n++
		case kindSnapshot:
			clear(marks)
			for _, e := range r.marks {
				marks[e.table] = e.mark
			}
			purged = max(purged, r.purged)
			// The snapshot's epochs, then those started after it.
			var later []uint64
			for _, e := range epochs {
				if len(r.epochs) == 0 || e > r.epochs[len(r.epochs)-1] {
					later = append(later, e)
				}
			}
			epochs = append(slices.Clone(r.epochs), later...)
			n = 0
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !slices.Contains(epochs, l.epoch) {
		return fmt.Errorf("%w: our epoch %d is not in %s after we recorded it (%v)", wal.ErrUnavailable, l.epoch, l.meta.name, epochs)
	}
	if epochs[len(epochs)-1] != l.epoch {
		return fmt.Errorf("%w: another process opened shard %d after this one (epoch %d after ours, %d)",
			wal.ErrUnavailable, l.shard, epochs[len(epochs)-1], l.epoch)
	}
	l.marks.Store(&markSet{m: marks})
	l.purged.Store(purged)
	l.mu.Lock()
	l.mu.metaRecords = n
	l.mu.epochs = epochs
	l.mu.Unlock()
	return nil
}

// writeMeta appends records to the meta topic and waits for them.
func (l *Log) writeMeta(ctx context.Context, values ...[]byte) (int64, error) {
	offs, err := l.w.produceSync(ctx, l.meta.name, values...)
	if err != nil {
		return 0, err
	}
	l.w.metrics.metaRecords.Add(float64(len(values)))
	l.mu.Lock()
	l.mu.metaRecords += len(values)
	l.mu.Unlock()
	return offs[len(offs)-1], nil
}

// publish makes marks the log's marks.
func (l *Log) publish(marks map[uint64]mark) { l.marks.Store(&markSet{m: marks}) }

// needsRegistration returns the tables of entries that have no live mark:
// unknown or dropped.
func (l *Log) needsRegistration(entries []wal.Entry) []uint64 {
	marks := l.marks.Load().m
	var out []uint64
	for i := range entries {
		t := entries[i].TableID
		if m, ok := marks[t]; (!ok || m.dropped) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// register gives the tables a live mark at NextSequence (or a dropped
// table's mark, if higher).
func (l *Log) register(ctx context.Context, tables []uint64) error {
	l.metaMu.Lock()
	defer l.metaMu.Unlock()
	cur := l.marks.Load().m
	var values [][]byte
	next := maps.Clone(cur)
	// The table's entries will get sequences >= NextSequence: the mark
	// starts there, and does not hold the watermark back below.
	below := l.next.Load()
	for _, t := range tables {
		m, ok := cur[t]
		if ok && !m.dropped {
			continue
		}
		m = mark{below: max(m.below, below)}
		next[t] = m
		values = append(values, appendMark(nil, l.epoch, t, m))
	}
	if len(values) == 0 {
		return nil
	}
	if _, err := l.writeMeta(ctx, values...); err != nil {
		return fmt.Errorf("wal/kafka: shard %d: register tables %v: %w", l.shard, tables, err)
	}
	l.publish(next)
	return nil
}

// Truncate removes the entries of a table with Seq < below; see wal.Log.
// The mark is durable (in the meta topic) when Truncate returns; the
// cleaner deletes the records every clean period.
func (l *Log) Truncate(ctx context.Context, tableID, below uint64) error {
	if err := l.checkOpen(ctx); err != nil {
		return err
	}
	if next := l.NextSequence(); below > next {
		return fmt.Errorf("wal/kafka: shard %d: truncate table %d below %d beyond next sequence %d: %w",
			l.shard, tableID, below, next, wal.ErrInvalid)
	}
	l.metaMu.Lock()
	defer l.metaMu.Unlock()
	cur := l.marks.Load().m
	// Nothing to do for a mark that would not move forward, nor for an
	// unknown or dropped table: it has no live entry, and entries appended
	// later get sequences >= NextSequence >= below.
	m, ok := cur[tableID]
	if !ok || m.dropped || below <= m.below {
		return nil
	}
	m.below = below
	if _, err := l.writeMeta(ctx, appendMark(nil, l.epoch, tableID, m)); err != nil {
		return fmt.Errorf("wal/kafka: shard %d: truncate table %d: %w", l.shard, tableID, err)
	}
	next := maps.Clone(cur)
	next[tableID] = m
	l.publish(next)
	return nil
}

// DropTable removes all entries of a table and forgets it; see wal.Log. It
// holds the log's appends while it writes the mark: an Append racing with
// it is either dropped with the rest or, ordered after it, registers the
// table anew.
func (l *Log) DropTable(ctx context.Context, tableID uint64) error {
	if err := l.checkOpen(ctx); err != nil {
		return err
	}
	l.metaMu.Lock()
	defer l.metaMu.Unlock()
	cur := l.marks.Load().m
	if m, ok := cur[tableID]; !ok || m.dropped {
		return nil
	}
	l.produceMu.Lock()
	defer l.produceMu.Unlock()
	m := mark{below: l.next.Load(), dropped: true}
	if _, err := l.writeMeta(ctx, appendMark(nil, l.epoch, tableID, m)); err != nil {
		return fmt.Errorf("wal/kafka: shard %d: drop table %d: %w", l.shard, tableID, err)
	}
	next := maps.Clone(cur)
	next[tableID] = m
	l.publish(next)
	return nil
}
