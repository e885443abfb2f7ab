package kafka

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/horaego/horaedb/wal"
)

// Read returns the live entries with Seq >= from in sequence order; see
// wal.Log. The iterator fetches the data topic from the offset index's
// point at or before from (or the log start) up to the high watermark seen
// by its first fetch, which is past every acknowledged Append. It is
// closed, if still open, when the log or the WAL closes.
func (l *Log) Read(ctx context.Context, from uint64) (wal.Iterator, error) {
	if err := l.checkOpen(ctx); err != nil {
		return nil, err
	}
	it := &iterator{
		log:    l,
		from:   max(from, 1),
		purged: l.purged.Load(),
		marks:  l.marks.Load().m,
	}
	it.bg, it.cancel = context.WithCancel(context.WithoutCancel(ctx))
	start := max(it.from, it.purged)
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		it.cancel()
		return nil, fmt.Errorf("wal/kafka: shard %d: %w", l.shard, wal.ErrClosed)
	}
	it.offset = max(0, l.mu.index.seek(start), l.mu.deletedBelow)
	it.valid = newValidator(slices.Clone(l.mu.epochs), it.offset)
	l.mu.iters[it] = struct{}{}
	l.mu.Unlock()

	// The first fetch fixes the end: every Append acknowledged before Read
	// was called is below the high watermark it reports.
	it.mu.Lock()
	err := it.fetchLocked(ctx)
	it.mu.Unlock()
	if err != nil {
		it.close(err)
		return nil, err
	}
	return it, nil
}

// iterator implements wal.Iterator over fetches of the data topic.
type iterator struct {
	log    *Log
	from   uint64
	purged uint64
	marks  map[uint64]mark
	valid  *validator // used under mu

	// The next fetch runs in the background while the records of the last
	// one are consumed; bg is its context, cancelled by close, which waits
	// for it.
	bg     context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu is held by Next and Close: the log or the WAL may close the
	// iterator from another goroutine.
	mu struct {
		sync.Mutex
		offset   int64 // next offset to fetch
		end      int64 // high watermark of the first fetch; -1 before it
		fetched  bool
		buf      []*kgo.Record
		pos      int
		lastNext uint64            // the sequence after the last Append seen
		prefetch chan fetchOutcome // the fetch of offset in flight, or nil
		asm      assembly
		entries  []wal.Record // live entries of the current Append
		epos     int
		rec      wal.Record
		done     bool
		released bool
		err      error
	}
	offset int64 // initial offset, copied into mu by the first fetch
}

// assembly collects the parts of an Append split over several records.
type assembly struct {
	active bool
	hdr    dataHeader
	body   []byte
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
	for {
		if it.mu.epos < len(it.mu.entries) {
			it.mu.rec = it.mu.entries[it.mu.epos]
			it.mu.epos++
			return true
		}
		if it.mu.pos < len(it.mu.buf) {
			r := it.mu.buf[it.mu.pos]
			it.mu.buf[it.mu.pos] = nil
			it.mu.pos++
			if err := it.processLocked(r); err != nil {
				return it.stopLocked(err)
			}
			continue
		}
		if it.mu.offset >= it.mu.end {
			return it.stopLocked(nil)
		}
		if err := it.fetchLocked(ctx); err != nil {
			return it.stopLocked(err)
		}
	}
}

// fetchOutcome is the result of a background fetch.
type fetchOutcome struct {
	res fetchResult
	err error
}

// fetchLocked takes the next records up to the end: those of the fetch in
// flight, or of a new one; then it starts the fetch after them.
func (it *iterator) fetchLocked(ctx context.Context) error {
	l := it.log
	if !it.mu.fetched {
		it.mu.offset = it.offset
	}
	var res fetchResult
	var err error
	if ch := it.mu.prefetch; ch != nil {
		it.mu.prefetch = nil
		select {
		case o := <-ch:
			res, err = o.res, o.err
		case <-ctx.Done():
			return ctx.Err()
		}
	} else {
		res, err = l.w.fetch(ctx, l.data, it.mu.offset)
	}
	if err != nil {
		return fmt.Errorf("wal/kafka: shard %d: read: %w", l.shard, err)
	}
	if !it.mu.fetched {
		it.mu.fetched = true
		it.mu.end = res.highWatermark
	}
	it.mu.offset = max(it.mu.offset, res.logStartOffset)
	it.mu.buf, it.mu.pos = it.mu.buf[:0], 0
	for _, r := range res.records {
		if r.Offset >= it.mu.offset && r.Offset < it.mu.end {
			it.mu.buf = append(it.mu.buf, r)
		}
	}
	switch {
	case len(it.mu.buf) > 0:
		it.mu.offset = it.mu.buf[len(it.mu.buf)-1].Offset + 1
	case len(res.records) > 0:
		it.mu.offset = max(it.mu.offset, res.records[len(res.records)-1].Offset+1)
	case res.highWatermark <= it.mu.offset:
		it.mu.end = min(it.mu.end, it.mu.offset) // deleted under us, or nothing left
	default:
		it.mu.offset++ // a gap in the offsets
	}
	if it.mu.offset < it.mu.end && it.bg.Err() == nil {
		ch := make(chan fetchOutcome, 1)
		it.mu.prefetch = ch
		off := it.mu.offset
		it.wg.Go(func() {
			res, err := l.w.fetch(it.bg, l.data, off)
			ch <- fetchOutcome{res, err}
		})
	}
	return nil
}

// processLocked decodes one record into the live entries it holds.
func (it *iterator) processLocked(r *kgo.Record) error {
	l := it.log
	d, err := decodeData(r.Value)
	if err != nil {
		return fmt.Errorf("wal/kafka: shard %d: topic %s offset %d: %w: %w", l.shard, l.data.name, r.Offset, wal.ErrCorrupt, err)
	}
	if !it.valid.valid(r.Offset, d) || d.kind != kindData {
		return nil // not data, or a late record of an earlier owner
	}
	h := d.hdr
	a := &it.mu.asm
	if a.active && h.first == a.hdr.first {
		if h.part != a.hdr.part+1 || h.parts != a.hdr.parts || h.count != a.hdr.count {
			*a = assembly{} // not the part we need: the Append is incomplete
			return nil
		}
		a.hdr.part = h.part
		a.body = append(a.body, d.body...)
		if h.part+1 < h.parts {
			return nil
		}
		body := a.body
		a.active = false
		a.body = nil
		return it.decodeLocked(r.Offset, h, body)
	}
	// An Append begins (or a tail of one whose head we did not see).
	*a = assembly{}
	if h.first < it.mu.lastNext {
		// Sequences that went back: a record of an earlier writer that
		// reached Kafka late. It was never acknowledged; skip it.
		l.w.log.Warn("skipping a record whose sequences are below an earlier one's", "shard", l.shard,
			"offset", r.Offset, "first", h.first, "expected_at_least", it.mu.lastNext)
		return nil
	}
	it.mu.lastNext = h.next()
	if h.part != 0 {
		return nil
	}
	l.noteRecord(r.Offset, h)
	if h.parts == 1 {
		return it.decodeLocked(r.Offset, h, d.body)
	}
	*a = assembly{active: true, hdr: h, body: append(make([]byte, 0, len(d.body)*int(h.parts)), d.body...)}
	return nil
}

// decodeLocked decodes a complete Append into its live entries.
func (it *iterator) decodeLocked(off int64, h dataHeader, body []byte) error {
	if h.next() <= it.from || h.next() <= it.purged {
		return nil
	}
	it.mu.entries, it.mu.epos = it.mu.entries[:0], 0
	err := decodeBody(body, h.count, func(i, table uint64, payload []byte) {
		seq := h.first + i
		if seq < it.from || seq < it.purged {
			return
		}
		if m, ok := it.marks[table]; ok && seq < m.below {
			return
		}
		it.mu.entries = append(it.mu.entries, wal.Record{Seq: seq, TableID: table, Payload: payload})
	})
	if err != nil {
		return fmt.Errorf("wal/kafka: shard %d: topic %s offset %d: %w: %w", it.log.shard, it.log.data.name, off, wal.ErrCorrupt, err)
	}
	return nil
}

// stopLocked ends the iteration with err (nil at the end) and returns
// false.
func (it *iterator) stopLocked(err error) bool {
	if !it.mu.done {
		it.mu.done = true
		it.mu.err = err
	}
	it.mu.rec = wal.Record{}
	it.mu.buf, it.mu.entries, it.mu.asm = nil, nil, assembly{}
	it.cancel() // no more fetches
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
// an iteration not yet done ends with cause.
func (it *iterator) close(cause error) {
	it.cancel() // ends a fetch in flight
	it.mu.Lock()
	defer it.mu.Unlock()
	if !it.mu.done {
		if cause == nil {
			cause = fmt.Errorf("wal/kafka: iterator closed: %w", wal.ErrClosed)
		}
		it.stopLocked(cause)
	}
	it.wg.Wait()
	it.mu.prefetch = nil
	it.releaseLocked()
}

func (it *iterator) releaseLocked() {
	if it.mu.released {
		return
	}
	it.mu.released = true
	l := it.log
	l.mu.Lock()
	delete(l.mu.iters, it)
	l.mu.Unlock()
}
