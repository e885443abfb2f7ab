package local

import (
	"context"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/horaego/horaedb/wal"
)

// Read returns the live entries with Seq >= from in sequence order; see
// wal.Log. The iterator reads a point-in-time view of the store taken by
// Read. It is closed, if still open, when the log or the WAL closes.
func (l *Log) Read(ctx context.Context, from uint64) (wal.Iterator, error) {
	if err := l.checkOpen(ctx); err != nil {
		return nil, err
	}
	if err := l.w.c.err(); err != nil {
		return nil, err
	}
	from = max(from, 1, l.shard.purged.Load())
	it := &iterator{log: l}
	putDataKey(it.lower[:], l.shard.id, from)
	_, upper := shardSpan(prefixData, l.shard.id)

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return nil, fmt.Errorf("wal/local: shard %d: %w", l.shard.id, wal.ErrClosed)
	}
	// The marks are loaded before the view is taken: a mark never hides an
	// entry the view holds that was live when Read was called (see
	// truncate.go: a table's mark is only forgotten once none of its entries
	// is left).
	it.marks = l.shard.marks.Load().m
	pit, err := l.w.db.NewIter(&pebble.IterOptions{LowerBound: it.lower[:], UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("wal/local: shard %d: read: %w", l.shard.id, storeError(err))
	}
	it.mu.it = pit
	l.mu.iters[it] = struct{}{}
	return it, nil
}

// iterator implements wal.Iterator over a Pebble iterator.
type iterator struct {
	log   *Log
	marks map[uint64]mark
	lower [dataKeyLen]byte

	// mu is held by Next and Close: the log or the WAL may close the
	// iterator from another goroutine.
	mu struct {
		sync.Mutex
		it      *pebble.Iterator // nil once closed
		started bool
		done    bool
		rec     wal.Record
		err     error
	}
}

// skipCheckEvery is how many dead entries Next skips between two looks at
// its context.
const skipCheckEvery = 1024

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
	pit := it.mu.it
	var valid bool
	if !it.mu.started {
		it.mu.started = true
		valid = pit.First()
	} else {
		valid = pit.Next()
	}
	for skipped := 0; valid; valid = pit.Next() {
		_, seq, err := decodeDataKey(pit.Key())
		if err != nil {
			return it.stopLocked(fmt.Errorf("wal/local: shard %d: %w: %w", it.log.shard.id, wal.ErrCorrupt, err))
		}
		v, err := pit.ValueAndErr()
		if err != nil {
			return it.stopLocked(fmt.Errorf("wal/local: shard %d: read seq %d: %w", it.log.shard.id, seq, storeError(err)))
		}
		table, payload, err := decodeValue(v)
		if err != nil {
			return it.stopLocked(fmt.Errorf("wal/local: shard %d: seq %d: %w: %w", it.log.shard.id, seq, wal.ErrCorrupt, err))
		}
		if m, ok := it.marks[table]; ok && seq < m.below {
			if skipped++; skipped%skipCheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					return it.stopLocked(err)
				}
			}
			continue
		}
		it.mu.rec = wal.Record{Seq: seq, TableID: table, Payload: payload}
		return true
	}
	if err := pit.Error(); err != nil {
		return it.stopLocked(fmt.Errorf("wal/local: shard %d: read: %w", it.log.shard.id, storeError(err)))
	}
	return it.stopLocked(nil)
}

// stopLocked ends the iteration with err (nil at the end) and returns false.
func (it *iterator) stopLocked(err error) bool {
	it.mu.done = true
	it.mu.err = err
	it.mu.rec = wal.Record{}
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
	err := it.close(nil)
	it.log.mu.Lock()
	delete(it.log.mu.iters, it)
	it.log.mu.Unlock()
	return err
}

// close closes the Pebble iterator. With cause set (the log or WAL closed
// under the iterator), an iteration not yet done ends with cause.
func (it *iterator) close(cause error) error {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.mu.it == nil {
		return nil
	}
	err := it.mu.it.Close()
	it.mu.it = nil
	if !it.mu.done {
		if cause == nil {
			cause = fmt.Errorf("wal/local: iterator closed: %w", wal.ErrClosed)
		}
		it.stopLocked(cause)
	}
	if err != nil {
		return fmt.Errorf("wal/local: close iterator: %w", storeError(err))
	}
	return nil
}
