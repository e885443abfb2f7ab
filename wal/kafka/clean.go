package kafka

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Cleaning.
//
// Truncate and DropTable only write marks. The cleaner, every CleanPeriod
// for each open log, turns them into deleted records:
//
//  1. The purge floor rises to the shard's watermark (the lowest mark of
//     its live tables, or the next sequence): it is written to the meta
//     topic first, so that records a broker resurrects after an unclean
//     restart (Kafka checkpoints log start offsets lazily) stay dead.
//  2. DeleteRecords deletes the data records before the offset index's
//     point at or below the floor: every entry before that point has a
//     sequence below the floor. It never deletes the newest record that
//     tells the next sequence (OpenLog needs one).
//  3. Dropped tables whose mark is at or below the floor have no entry
//     left and are forgotten. When one is, when MetaCleanPeriod has passed
//     or when metaSnapshotEvery records accumulated, the marks are written
//     as one snapshot and the meta records before it deleted.

// cleanLoop runs the cleaner until the WAL closes.
func (w *WAL) cleanLoop() {
	defer w.wg.Done()
	period := min(w.opts.CleanPeriod, w.opts.MetaCleanPeriod)
	t := time.NewTicker(period)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-w.stop
		cancel()
	}()
	last := time.Now()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		data := time.Since(last) >= w.opts.CleanPeriod-period/2
		if data {
			last = time.Now()
		}
		for _, l := range w.openLogs() {
			if err := l.clean(ctx, data); err != nil && ctx.Err() == nil {
				w.log.Warn("cleaning failed; will retry next period", "shard", l.shard, "err", err)
			}
		}
	}
}

// Clean runs the cleaner on the log now: it deletes the records below the
// marks and compacts the meta topic. Tests and operators use it; the WAL
// runs it every clean period.
func (l *Log) Clean(ctx context.Context) error {
	if err := l.checkOpen(ctx); err != nil {
		return err
	}
	return l.clean(ctx, true)
}

// clean deletes dead data records (with data set) and snapshots the marks
// when due.
func (l *Log) clean(ctx context.Context, data bool) error {
	if l.closed.Load() {
		return nil
	}
	l.metaMu.Lock()
	defer l.metaMu.Unlock()
	marks := l.marks.Load().m
	purged := l.purged.Load()
	if data {
		if w := watermark(marks, l.next.Load()); w > purged {
			if _, err := l.writeMeta(ctx, appendPurged(nil, l.epoch, w)); err != nil {
				return fmt.Errorf("wal/kafka: shard %d: write purge floor: %w", l.shard, err)
			}
			purged = w
			l.purged.Store(w)
		}
		l.mu.Lock()
		before := min(l.mu.index.seek(purged), l.mu.lastInfo)
		deleted := l.mu.deletedBelow
		l.mu.Unlock()
		if before > deleted {
			if err := l.w.deleteRecords(ctx, l.data.name, before); err != nil {
				return fmt.Errorf("wal/kafka: shard %d: %w", l.shard, err)
			}
			l.mu.Lock()
			l.mu.deletedBelow = max(l.mu.deletedBelow, before)
			l.mu.index.dropBelow(before)
			l.mu.Unlock()
			l.w.log.Debug("deleted records", "shard", l.shard, "topic", l.data.name, "before", before, "purged", purged)
		}
	}

	forget := false
	for _, m := range marks {
		if m.dropped && m.below <= purged {
			forget = true
			break
		}
	}
	l.mu.Lock()
	n, last := l.mu.metaRecords, l.mu.lastMetaSnapshot
	l.mu.Unlock()
	if !forget && n < metaSnapshotEvery && (n == 0 || time.Since(last) < l.w.opts.MetaCleanPeriod) {
		return nil
	}
	kept := maps.Clone(marks)
	maps.DeleteFunc(kept, func(_ uint64, m mark) bool { return m.dropped && m.below <= purged })
	// Epochs whose records are all deleted are not needed any more: keep
	// the one in force at the first offset left, and those after it.
	l.mu.Lock()
	epochs := slices.Clone(l.mu.epochs)
	deletedBelow := l.mu.deletedBelow
	l.mu.Unlock()
	for len(epochs) > 1 && epochs[1] <= epochAt(deletedBelow) {
		epochs = epochs[1:]
	}
	off, err := l.writeMeta(ctx, appendSnapshot(nil, l.epoch, purged, kept, epochs))
	if err != nil {
		return fmt.Errorf("wal/kafka: shard %d: write marks snapshot: %w", l.shard, err)
	}
	l.publish(kept)
	l.mu.Lock()
	l.mu.metaRecords = 0
	l.mu.lastMetaSnapshot = time.Now()
	l.mu.epochs = epochs
	l.mu.Unlock()
	if err := l.w.deleteRecords(ctx, l.meta.name, off); err != nil {
		return fmt.Errorf("wal/kafka: shard %d: %w", l.shard, err)
	}
	return nil
}
