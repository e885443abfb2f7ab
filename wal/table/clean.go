package table

import (
	"context"
	"fmt"
	"time"
)

// Cleaning.
//
// Truncate and DropTable only write marks. Every CleanPeriod the cleaner
// deletes, for each open log, the rows below the shard's watermark (the
// lowest mark of its live tables, or the next sequence), in chunks of
// deleteChunk rows so that no statement holds locks for long; then it hands
// the committer a request that records the new purge floor in the shard's
// row and forgets the dropped tables whose marks are at or below it (none
// of their rows is left). With a TTL it also deletes the rows written
// longer ago than the TTL, whatever their marks say.

const deleteChunk = 10_000

func (w *WAL) cleanLoop() {
	defer w.wg.Done()
	t := time.NewTicker(w.opts.CleanPeriod)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-w.stop
		cancel()
	}()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		for _, l := range w.openLogs() {
			if err := l.clean(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("cleaning failed; will retry next period", "shard", l.shard, "err", err)
			}
		}
	}
}

// Clean runs the cleaner on the log now. Tests and operators use it; the
// WAL runs it every clean period.
func (l *Log) Clean(ctx context.Context) error {
	if err := l.checkOpen(ctx); err != nil {
		return err
	}
	return l.clean(ctx)
}

func (l *Log) clean(ctx context.Context) error {
	if l.closed.Load() {
		return nil
	}
	w := watermark(l.marks.Load().m, l.next.Load())
	l.mu.Lock()
	deleted := l.mu.deletedBelow
	l.mu.Unlock()
	if w > deleted {
		if err := l.deleteBelow(ctx, w); err != nil {
			return err
		}
		l.mu.Lock()
		l.mu.deletedBelow = max(l.mu.deletedBelow, w)
		l.mu.Unlock()
	}
	forget := w > l.purged.Load()
	for _, m := range l.marks.Load().m {
		forget = forget || (m.dropped && m.below <= w)
	}
	if forget {
		if _, err := l.c.do(ctx, &request{kind: reqForget, below: w}); err != nil {
			return fmt.Errorf("wal/table: shard %d: record purge floor: %w", l.shard, err)
		}
	}
	if ttl := l.w.opts.TTL; ttl > 0 {
		if err := l.expire(ctx, time.Now().Add(-ttl)); err != nil {
			return err
		}
	}
	return nil
}

// deleteBelow deletes the shard's rows with seq < below.
func (l *Log) deleteBelow(ctx context.Context, below uint64) error {
	q := "DELETE FROM `" + l.table + "` WHERE shard_id = ? AND seq < ? ORDER BY seq LIMIT ?"
	for {
		res, err := l.w.db.ExecContext(ctx, q, l.shard, below, deleteChunk)
		if err != nil {
			return fmt.Errorf("wal/table: shard %d: delete rows below %d: %w", l.shard, below, dbError(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("wal/table: shard %d: delete rows below %d: %w", l.shard, below, dbError(err))
		}
		l.w.metrics.deletedRows.Add(float64(n))
		if n < deleteChunk {
			return nil
		}
	}
}

// expire deletes the shard's rows written before cutoff.
func (l *Log) expire(ctx context.Context, cutoff time.Time) error {
	// Sequences grow with time: the rows before the first one written at
	// or after the cutoff are expired. The scan passes only those.
	var first uint64
	err := l.w.db.QueryRowContext(ctx,
		"SELECT COALESCE(MIN(seq), ?) FROM (SELECT seq FROM `"+l.table+"` WHERE shard_id = ? AND created_ms >= ? ORDER BY seq LIMIT 1) AS t",
		l.next.Load(), l.shard, cutoff.UnixMilli()).Scan(&first)
	if err != nil {
		return fmt.Errorf("wal/table: shard %d: find expired rows: %w", l.shard, dbError(err))
	}
	l.mu.Lock()
	done := l.mu.ttlBelow
	l.mu.Unlock()
	if first <= done {
		return nil
	}
	if err := l.deleteBelow(ctx, first); err != nil {
		return err
	}
	l.w.log.Info("deleted expired WAL rows", "shard", l.shard, "below", first, "ttl", l.w.opts.TTL)
	l.mu.Lock()
	l.mu.ttlBelow = max(l.mu.ttlBelow, first)
	l.mu.Unlock()
	return nil
}
