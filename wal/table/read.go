package table

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/horaego/horaedb/wal"
)

// Read returns the live entries with Seq >= from in sequence order; see
// wal.Log. The iterator streams one range query over the shard's primary
// key, from max(from, the shard's watermark) up to the next sequence at the
// time of Read: group commits are sequential transactions, so every
// acknowledged entry below it is committed. A goroutine reads the rows
// ahead, in batches, while the caller consumes the previous ones. The
// iterator is closed, if still open, when the log or the WAL closes.
func (l *Log) Read(ctx context.Context, from uint64) (wal.Iterator, error) {
	if err := l.checkOpen(ctx); err != nil {
		return nil, err
	}
	marks := l.marks.Load().m
	next := l.next.Load()
	start := max(from, 1, l.purged.Load(), watermark(marks, next))
	it := &iterator{log: l}
	qctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	it.cancel = cancel
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		cancel()
		return nil, fmt.Errorf("wal/table: shard %d: %w", l.shard, wal.ErrClosed)
	}
	l.mu.iters[it] = struct{}{}
	l.mu.Unlock()
	if start >= next {
		it.mu.done = true
		return it, nil
	}
	rows, err := l.w.db.QueryContext(qctx,
		"SELECT seq, table_id, payload FROM `"+l.table+"` WHERE shard_id = ? AND seq >= ? AND seq < ? ORDER BY seq",
		l.shard, start, next)
	if err != nil {
		it.close(nil)
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("wal/table: shard %d: read: %w", l.shard, dbError(err))
	}
	it.batches = make(chan rowBatch, 2)
	it.wg.Go(func() { it.readAhead(qctx, rows, marks) })
	return it, nil
}

// rowBatch is a batch of live records read ahead, or the error that ended
// the reading.
type rowBatch struct {
	recs []wal.Record
	err  error
}

const (
	batchRecords = 256
	batchBytes   = 4 << 20
)

// readAhead reads the rows into batches until the end, an error or ctx's
// end, and closes the channel.
func (it *iterator) readAhead(ctx context.Context, rows *sql.Rows, marks map[uint64]mark) {
	defer close(it.batches)
	defer rows.Close()
	send := func(b rowBatch) bool {
		select {
		case it.batches <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var b rowBatch
	size := 0
	var payload sql.RawBytes
	for rows.Next() {
		var seq, table uint64
		if err := rows.Scan(&seq, &table, &payload); err != nil {
			send(rowBatch{err: fmt.Errorf("wal/table: shard %d: read: %w: %w", it.log.shard, wal.ErrCorrupt, err)})
			return
		}
		if m, ok := marks[table]; ok && seq < m.below {
			continue
		}
		b.recs = append(b.recs, wal.Record{Seq: seq, TableID: table, Payload: bytes.Clone([]byte(payload))})
		size += len(payload)
		if len(b.recs) >= batchRecords || size >= batchBytes {
			if !send(b) {
				return
			}
			b, size = rowBatch{}, 0
		}
	}
	if err := rows.Err(); err != nil {
		b.err = fmt.Errorf("wal/table: shard %d: read: %w", it.log.shard, dbError(err))
	}
	if len(b.recs) > 0 || b.err != nil {
		send(b)
	}
}

// iterator implements wal.Iterator over a streamed range query.
type iterator struct {
	log     *Log
	cancel  context.CancelFunc // cancels the query
	batches chan rowBatch      // from readAhead; nil if there is nothing to read
	wg      sync.WaitGroup

	// mu is held by Next and Close: the log or the WAL may close the
	// iterator from another goroutine.
	mu struct {
		sync.Mutex
		batch    []wal.Record
		pos      int
		rec      wal.Record
		done     bool
		released bool
		err      error
	}
}

// Next advances to the next live record.
func (it *iterator) Next(ctx context.Context) bool {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.mu.done {
		return false
	}
	if err := ctx.Err(); err != nil {
		return it.stopLocked(err)
	}
	for it.mu.pos >= len(it.mu.batch) {
		var b rowBatch
		var ok bool
		select {
		case b, ok = <-it.batches:
		case <-ctx.Done():
			return it.stopLocked(ctx.Err())
		}
		switch {
		case !ok:
			return it.stopLocked(nil)
		case b.err != nil:
			return it.stopLocked(b.err)
		}
		it.mu.batch, it.mu.pos = b.recs, 0
	}
	it.mu.rec = it.mu.batch[it.mu.pos]
	it.mu.batch[it.mu.pos] = wal.Record{}
	it.mu.pos++
	return true
}

// stopLocked ends the iteration with err (nil at the end) and returns
// false.
func (it *iterator) stopLocked(err error) bool {
	if !it.mu.done {
		it.mu.done = true
		it.mu.err = err
	}
	it.mu.rec = wal.Record{}
	it.mu.batch = nil
	it.cancel()
	return false
}

// Record returns the current record.
func (it *iterator) Record() wal.Record {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.mu.rec
}

// Err returns the error that stopped the iteration, if any.
func (it *iterator) Err() error {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.mu.err
}

// Close releases the iterator. Idempotent.
func (it *iterator) Close() error {
	it.close(nil)
	return nil
}

// close ends the iterator; with cause set (the log or WAL closed under it),
// an iteration not yet done ends with cause. It waits for the reading
// goroutine.
func (it *iterator) close(cause error) {
	it.cancel() // ends the query and the reading goroutine
	it.mu.Lock()
	defer it.mu.Unlock()
	if !it.mu.done {
		if cause == nil {
			cause = fmt.Errorf("wal/table: iterator closed: %w", wal.ErrClosed)
		}
		it.stopLocked(cause)
	}
	it.wg.Wait()
	if it.mu.released {
		return
	}
	it.mu.released = true
	l := it.log
	l.mu.Lock()
	delete(l.mu.iters, it)
	l.mu.Unlock()
}
