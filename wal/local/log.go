package local

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horaego/horaedb/wal"
)

// shard is the state of one shard log. The committer is its only writer;
// it publishes next and marks atomically once a group has committed.
type shard struct {
	id uint32

	next  atomic.Uint64           // the next sequence to hand out
	marks atomic.Pointer[markSet] // immutable once published
	// purged is a sequence with no data left below it: where the last
	// deletion ended, or the first sequence on disk when the shard was
	// loaded. Reads start there at the earliest, rather than step over
	// deleted ranges, and the next deletion starts there.
	purged atomic.Uint64

	// Owned by the committer.
	floor uint64  // persisted sequence floor
	pend  pending // staged state of the group being built
}

// markSet is an immutable map from table id to the table's mark.
type markSet struct{ m map[uint64]mark }

// publish makes the staged state the shard's state.
func (sh *shard) publish() {
	p := &sh.pend
	if p.marks != nil {
		sh.marks.Store(&markSet{m: p.marks})
	}
	sh.floor = p.floor
	sh.purged.Store(p.purged)
	sh.next.Store(p.next)
}

// Log is the log of one shard, opened by WAL.OpenLog. It is safe for
// concurrent use.
type Log struct {
	w      *WAL
	shard  *shard
	closed atomic.Bool

	mu struct {
		sync.Mutex
		closed bool
		iters  map[*iterator]struct{} // open iterators, closed with the log
	}
}

var _ wal.Log = (*Log)(nil)

func newLog(w *WAL, sh *shard) *Log {
	l := &Log{w: w, shard: sh}
	l.mu.iters = make(map[*iterator]struct{})
	return l
}

// ShardID returns the shard this log belongs to.
func (l *Log) ShardID() uint32 { return l.shard.id }

// NextSequence returns the sequence the next appended entry will get.
func (l *Log) NextSequence() uint64 { return l.shard.next.Load() }

// Append writes entries atomically and durably; see wal.Log. It waits for
// the group commit that carries them. If ctx is done before the entries are
// taken into a group, Append returns ctx's error and writes nothing; once
// they are, it waits for the commit (one batch write) whatever ctx says.
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
		return 0, fmt.Errorf("wal/local: shard %d: append of no entries: %w", l.shard.id, wal.ErrInvalid)
	}
	size := 0
	for i := range entries {
		e := &entries[i]
		if len(e.Payload) > l.w.opts.MaxEntrySize {
			return 0, fmt.Errorf("wal/local: shard %d: entry of %d bytes exceeds the maximum of %d: %w",
				l.shard.id, len(e.Payload), l.w.opts.MaxEntrySize, wal.ErrInvalid)
		}
		size += dataKeyLen + valueLen(e.TableID, len(e.Payload))
		if size > maxAppendBytes {
			return 0, fmt.Errorf("wal/local: shard %d: append of more than %d bytes: %w",
				l.shard.id, maxAppendBytes, wal.ErrInvalid)
		}
	}
	if err := l.checkOpen(ctx); err != nil {
		return 0, err
	}
	r := newRequest(reqAppend, l.shard)
	r.entries, r.size = entries, size
	return l.w.c.do(ctx, r)
}

// Truncate removes the entries of a table with Seq < below; see wal.Log.
// below may not exceed NextSequence (wal.ErrInvalid). The mark is durable
// when Truncate returns; data below the shard's low watermark is deleted
// in the same batch.
func (l *Log) Truncate(ctx context.Context, tableID, below uint64) error {
	if err := l.checkOpen(ctx); err != nil {
		return err
	}
	if next := l.NextSequence(); below > next {
		return fmt.Errorf("wal/local: shard %d: truncate table %d below %d beyond next sequence %d: %w",
			l.shard.id, tableID, below, next, wal.ErrInvalid)
	}
	// Nothing to do for a mark that would not move forward, nor for an
	// unknown or dropped table: it has no live entry, and entries appended
	// later get sequences >= NextSequence >= below.
	if m, ok := l.shard.marks.Load().m[tableID]; !ok || m.dropped || below <= m.below {
		return nil
	}
	r := newRequest(reqTruncate, l.shard)
	r.table, r.below, r.size = tableID, below, markKeyLen
	_, err := l.w.c.do(ctx, r)
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
	if m, ok := l.shard.marks.Load().m[tableID]; !ok || m.dropped {
		return nil
	}
	r := newRequest(reqDrop, l.shard)
	r.table, r.size = tableID, markKeyLen
	_, err := l.w.c.do(ctx, r)
	return err
}

// Close closes the log and its open iterators; the WAL stays open and the
// shard's log can be opened again. Idempotent.
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
		_ = it.close(errLogClosed) // Its reader sees ErrClosed; a close error has nowhere to go.
	}
	l.w.forget(l)
	return nil
}

var errLogClosed = fmt.Errorf("wal/local: log closed: %w", wal.ErrClosed)

// checkOpen returns the error that refuses a call now, or nil.
func (l *Log) checkOpen(ctx context.Context) error {
	if l.closed.Load() {
		return fmt.Errorf("wal/local: shard %d: %w", l.shard.id, wal.ErrClosed)
	}
	return ctx.Err()
}
