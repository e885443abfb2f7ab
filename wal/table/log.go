package table

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horaego/horaedb/wal"
)

// mark is a table's truncation mark: its entries with seq < below are dead;
// a dropped table no longer holds the shard's watermark back.
type mark struct {
	below   uint64
	dropped bool
}

// markSet is an immutable map from table id to mark.
type markSet struct{ m map[uint64]mark }

// watermark returns the lowest mark of the live tables, or next if there is
// none: every row below it is dead.
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

// Log is the log of one shard, opened by WAL.OpenLog. It is safe for
// concurrent use.
type Log struct {
	w      *WAL
	shard  uint32
	table  string // the shard's bucket table
	closed atomic.Bool
	c      *committer

	// Published by the committer once a group has committed.
	next   atomic.Uint64
	marks  atomic.Pointer[markSet]
	purged atomic.Uint64 // rows below are dead; the cleaner deleted them

	mu struct {
		sync.Mutex
		closed       bool
		iters        map[*iterator]struct{}
		deletedBelow uint64 // the cleaner deleted every row below
		ttlBelow     uint64 // the TTL cleaner deleted every row below
	}
}

var _ wal.Log = (*Log)(nil)

func newLog(w *WAL, shard uint32) *Log {
	l := &Log{w: w, shard: shard, table: w.names.bucket(int(shard % uint32(w.buckets)))}
	l.c = newCommitter(l)
	l.marks.Store(&markSet{m: map[uint64]mark{}})
	l.mu.iters = make(map[*iterator]struct{})
	return l
}

// shardState is a shard's row of <ns>_shards.
type shardState struct {
	next, epoch, purged uint64
}

// load creates the bucket table if needed, takes ownership of the shard
// (epoch + 1) and reads its state.
func (l *Log) load(ctx context.Context) error {
	w := l.w
	n := w.names
	if err := w.createTable(ctx, l.table, n.bucketDDL(int(l.shard%uint32(w.buckets)))); err != nil {
		return err
	}
	tx, err := beginBound(ctx, w.db)
	if err != nil {
		return dbError(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT IGNORE INTO `"+n.shards+"` (shard_id, next_seq, epoch, purged) VALUES (?, 1, 0, 0)",
		l.shard); err != nil {
		return fmt.Errorf("register shard: %w", dbError(err))
	}
	var st shardState
	if err := tx.QueryRowContext(ctx, "SELECT next_seq, epoch, purged FROM `"+n.shards+"` WHERE shard_id = ? FOR UPDATE",
		l.shard).Scan(&st.next, &st.epoch, &st.purged); err != nil {
		return fmt.Errorf("read shard: %w", dbError(err))
	}
	st.epoch++
	if _, err := tx.ExecContext(ctx, "UPDATE `"+n.shards+"` SET epoch = ? WHERE shard_id = ?", st.epoch, l.shard); err != nil {
		return fmt.Errorf("raise epoch: %w", dbError(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("take the shard: %w", dbError(err))
	}
	marks, err := l.readMarks(ctx)
	if err != nil {
		return err
	}
	var maxSeq sql.NullInt64
	if err := w.db.QueryRowContext(ctx, "SELECT MAX(seq) FROM `"+l.table+"` WHERE shard_id = ?", l.shard).Scan(&maxSeq); err != nil {
		return fmt.Errorf("read last sequence: %w", dbError(err))
	}
	next := max(st.next, 1)
	if maxSeq.Valid && uint64(maxSeq.Int64) >= next {
		next = uint64(maxSeq.Int64) + 1
	}
	l.c.epoch.Store(st.epoch)
	l.next.Store(next)
	l.purged.Store(st.purged)
	l.marks.Store(&markSet{m: marks})
	l.mu.Lock()
	l.mu.deletedBelow = st.purged
	l.mu.Unlock()
	return nil
}

// readState reads the shard's row.
func (l *Log) readState(ctx context.Context) (shardState, error) {
	var st shardState
	err := l.w.db.QueryRowContext(ctx, "SELECT next_seq, epoch, purged FROM `"+l.w.names.shards+"` WHERE shard_id = ?",
		l.shard).Scan(&st.next, &st.epoch, &st.purged)
	if err != nil {
		return shardState{}, fmt.Errorf("read shard: %w", dbError(err))
	}
	return st, nil
}

// readMarks reads the shard's marks.
func (l *Log) readMarks(ctx context.Context) (map[uint64]mark, error) {
	rows, err := l.w.db.QueryContext(ctx, "SELECT table_id, below, dropped FROM `"+l.w.names.marks+"` WHERE shard_id = ?", l.shard)
	if err != nil {
		return nil, fmt.Errorf("read marks: %w", dbError(err))
	}
	defer rows.Close()
	marks := make(map[uint64]mark)
	for rows.Next() {
		var t uint64
		var m mark
		if err := rows.Scan(&t, &m.below, &m.dropped); err != nil {
			return nil, fmt.Errorf("read marks: %w", dbError(err))
		}
		marks[t] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read marks: %w", dbError(err))
	}
	return marks, nil
}

// ShardID returns the shard this log belongs to.
func (l *Log) ShardID() uint32 { return l.shard }

// NextSequence returns the sequence the next appended entry will get.
func (l *Log) NextSequence() uint64 { return l.next.Load() }

// Append writes entries atomically and durably; see wal.Log. It waits for
// the group commit that carries them. If ctx ends before they are taken
// into a group, Append returns ctx's error and writes nothing; once they
// are, it waits for the transaction (bounded by AppendTimeout).
func (l *Log) Append(ctx context.Context, entries []wal.Entry) (uint64, error) {
	start := time.Now()
	first, err := l.append(ctx, entries)
	m := l.w.metrics
	if err != nil {
		m.appendErrors.Inc()
		return 0, err
	}
	m.appendDuration.Observe(time.Since(start).Seconds())
	m.appends.Inc()
	m.entries.Add(float64(len(entries)))
	var n int
	for i := range entries {
		n += len(entries[i].Payload)
	}
	m.bytes.Add(float64(n))
	return first, nil
}

func (l *Log) append(ctx context.Context, entries []wal.Entry) (uint64, error) {
	if len(entries) == 0 {
		return 0, fmt.Errorf("wal/table: shard %d: append of no entries: %w", l.shard, wal.ErrInvalid)
	}
	size := 0
	for i := range entries {
		if n := len(entries[i].Payload); n > l.w.maxEntry {
			return 0, fmt.Errorf("wal/table: shard %d: entry of %d bytes exceeds the maximum of %d: %w",
				l.shard, n, l.w.maxEntry, wal.ErrInvalid)
		}
		size += len(entries[i].Payload) + 32
		if size > maxAppendBytes {
			return 0, fmt.Errorf("wal/table: shard %d: append of more than %d bytes: %w", l.shard, maxAppendBytes, wal.ErrInvalid)
		}
	}
	if err := l.checkOpen(ctx); err != nil {
		return 0, err
	}
	return l.c.do(ctx, &request{kind: reqAppend, entries: entries, size: size})
}

// Truncate removes the entries of a table with Seq < below; see wal.Log.
// The mark is durable when Truncate returns; the cleaner deletes the rows
// every clean period.
func (l *Log) Truncate(ctx context.Context, tableID, below uint64) error {
	if err := l.checkOpen(ctx); err != nil {
		return err
	}
	if next := l.NextSequence(); below > next {
		return fmt.Errorf("wal/table: shard %d: truncate table %d below %d beyond next sequence %d: %w",
			l.shard, tableID, below, next, wal.ErrInvalid)
	}
	// Nothing to do for a mark that would not move forward, nor for an
	// unknown or dropped table: it has no live entry, and entries appended
	// later get sequences >= NextSequence >= below.
	if m, ok := l.marks.Load().m[tableID]; !ok || m.dropped || below <= m.below {
		return nil
	}
	_, err := l.c.do(ctx, &request{kind: reqTruncate, table: tableID, below: below, size: 64})
	return err
}

// DropTable removes all entries of a table and forgets it; see wal.Log.
// The committer orders it with the appends: an Append racing with it is
// either dropped with the rest or, committed after it, starts the table
// anew.
func (l *Log) DropTable(ctx context.Context, tableID uint64) error {
	if err := l.checkOpen(ctx); err != nil {
		return err
	}
	if m, ok := l.marks.Load().m[tableID]; !ok || m.dropped {
		return nil
	}
	_, err := l.c.do(ctx, &request{kind: reqDrop, table: tableID, size: 64})
	return err
}

// Close closes the log and its open iterators, after its committer has
// written the requests already queued; the WAL stays open and the shard's
// log can be opened again. Idempotent.
func (l *Log) Close() error {
	l.closed.Store(true)
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return nil
	}
	l.mu.closed = true
	iters := l.mu.iters
	l.mu.iters = nil
	l.mu.Unlock()
	for it := range iters {
		it.close(errLogClosed)
	}
	l.c.close()
	l.w.forget(l)
	return nil
}

var errLogClosed = fmt.Errorf("wal/table: log closed: %w", wal.ErrClosed)

// checkOpen returns the error that refuses a call now, or nil.
func (l *Log) checkOpen(ctx context.Context) error {
	if l.closed.Load() {
		return fmt.Errorf("wal/table: shard %d: %w", l.shard, wal.ErrClosed)
	}
	if err := l.c.fencedErr(); err != nil {
		return err
	}
	return ctx.Err()
}
