package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/horaego/horaedb/wal"
)

// Log is the log of one shard, opened by WAL.OpenLog. It is safe for
// concurrent use.
type Log struct {
	w          *WAL
	shard      uint32
	data, meta topicRef
	closed     atomic.Bool

	next   atomic.Uint64           // the next sequence to hand out
	marks  atomic.Pointer[markSet] // immutable once published
	purged atomic.Uint64           // entries below are dead (persisted in the meta topic)
	epoch  uint64                  // ours: epochAt(our barrier's offset); set by open

	// metaMu serializes the writes to the meta topic and the cleaning. It
	// is taken before produceMu.
	metaMu sync.Mutex
	// produceMu orders sequence assignment with handing records to the
	// client: records reach the partition in sequence order.
	produceMu sync.Mutex

	mu struct {
		sync.Mutex
		closed bool
		iters  map[*iterator]struct{} // open iterators, closed with the log
		index  offsetIndex
		// lastInfo is the offset of the newest record that tells the next
		// sequence (a data record or a fence with it); the cleaner never
		// deletes it, so that OpenLog finds it.
		lastInfo         int64
		deletedBelow     int64 // data offsets below are deleted
		metaRecords      int   // meta records since the last snapshot
		lastMetaSnapshot time.Time
		epochs           []uint64 // known epoch starts, increasing

		// expected is the offset after our last acknowledged record. When
		// one lands beyond it, the records in between are someone else's:
		// late records of an earlier owner are harmless (readers skip
		// them), a barrier or a record of a later epoch means another
		// process opened the shard since: the log is fenced. After a
		// failed produce (which may have landed anyway) the tail is
		// checked the same way before the next one.
		expected  int64
		inflight  int  // our records produced and not called back
		needCheck bool // a produce failed: check the tail first
		fenced    error
	}
}

var _ wal.Log = (*Log)(nil)

func newLog(w *WAL, shard uint32) *Log {
	l := &Log{
		w:     w,
		shard: shard,
		data:  topicRef{name: w.opts.dataTopic(shard)},
		meta:  topicRef{name: w.opts.metaTopic(shard)},
	}
	l.marks.Store(&markSet{m: map[uint64]mark{}})
	l.mu.iters = make(map[*iterator]struct{})
	l.mu.lastMetaSnapshot = time.Now()
	return l
}

// open creates the topics if needed, starts our epoch and recovers the
// log's state.
//
// The barrier record starts the epoch; it is acknowledged (acks=all) only
// once the high watermark passed it, so every record produced before it,
// also one an earlier owner still had in flight, is visible below it, and
// every record an earlier owner produces after it is invalid (its epoch is
// older than the one in force at its offset). The epoch is then recorded
// in the meta topic, which is replayed (the earlier owner's later meta
// records are ignored the same way), and the next sequence is read from
// the last valid records before the barrier. A fence record carrying it
// follows.
func (l *Log) open(ctx context.Context) error {
	var err error
	if l.data, err = l.w.ensureTopic(ctx, l.data.name); err != nil {
		return err
	}
	if l.meta, err = l.w.ensureTopic(ctx, l.meta.name); err != nil {
		return err
	}
	offs, err := l.w.produceSync(ctx, l.data.name, appendBarrier(nil))
	if err != nil {
		return fmt.Errorf("barrier: %w", err)
	}
	barrier := offs[0]
	l.epoch = epochAt(barrier)
	if _, err := l.w.produceSync(ctx, l.meta.name, appendEpoch(nil, l.epoch)); err != nil {
		return fmt.Errorf("record epoch: %w", err)
	}
	if err := l.loadMeta(ctx); err != nil {
		return err
	}
	next, err := l.findNext(ctx, barrier)
	if err != nil {
		return err
	}
	next = max(next, l.purged.Load(), 1)
	// The fence keeps the next sequence findable after the cleaner deleted
	// the records before.
	offs, err = l.w.produceSync(ctx, l.data.name, appendFence(nil, l.epoch, next))
	if err != nil {
		return fmt.Errorf("fence: %w", err)
	}
	if fence := offs[0]; fence != barrier+1 {
		// Someone else's records in between: fine if they are late ones
		// of earlier owners.
		if _, err := l.checkRecords(ctx, barrier+1, fence); err != nil {
			return err
		}
	}
	l.next.Store(next)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.lastInfo = offs[0]
	l.mu.expected = offs[0] + 1
	return nil
}

// findNext returns the sequence after the last valid Append before offset
// barrier, walking back in growing windows until a record tells it; 1 if
// none does.
func (l *Log) findNext(ctx context.Context, barrier int64) (uint64, error) {
	l.mu.Lock()
	epochs := slices.Clone(l.mu.epochs)
	l.mu.Unlock()
	start, err := l.w.logStart(ctx, l.data.name)
	if err != nil {
		return 0, unavailable("log start of "+l.data.name, err)
	}
	hi, window := barrier, int64(16)
	for hi > start {
		lo := max(start, hi-window)
		var next uint64
		var found bool
		v := newValidator(epochs, lo)
		_, err := l.w.scan(ctx, l.data, lo, hi, func(off int64, val []byte) error {
			r, err := decodeData(val)
			if err != nil {
				return fmt.Errorf("data topic %s offset %d: %w: %w", l.data.name, off, wal.ErrCorrupt, err)
			}
			switch {
			case !v.valid(off, r):
			case r.kind == kindData:
				next, found = r.hdr.next(), true
				if r.hdr.part == 0 {
					l.noteRecord(off, r.hdr)
				}
			case r.kind == kindFence:
				next, found = r.next, true
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		if found {
			return next, nil
		}
		hi, window = lo, window*4
	}
	return 1, nil
}

// epochAt is the epoch a barrier at offset off starts: off + 1, so that no
// epoch is 0.
func epochAt(off int64) uint64 { return uint64(off) + 1 }

// validator tells valid records of the data topic, read in offset order,
// from invalid ones: a data or fence record is valid if its epoch is at
// least the one in force at its offset, the greatest epoch start (known
// from the meta topic, or a barrier met on the way) at or before it.
type validator struct {
	epochs []uint64 // known epoch starts, increasing
	i      int      // epochs[:i] are at or before the offset reached
	cur    uint64   // the epoch in force
}

func newValidator(epochs []uint64, from int64) *validator {
	v := &validator{epochs: epochs}
	v.advance(from)
	return v
}

func (v *validator) advance(off int64) {
	for v.i < len(v.epochs) && v.epochs[v.i] <= epochAt(off) {
		v.cur = max(v.cur, v.epochs[v.i])
		v.i++
	}
}

// valid reports whether the record at off counts; a barrier starts an
// epoch and does not count itself.
func (v *validator) valid(off int64, r record) bool {
	v.advance(off)
	switch r.kind {
	case kindBarrier:
		v.cur = max(v.cur, epochAt(off))
		return false
	case kindData:
		return r.hdr.epoch >= v.cur
	case kindFence:
		return r.epoch >= v.cur
	}
	return false
}

// ShardID returns the shard this log belongs to.
func (l *Log) ShardID() uint32 { return l.shard }

// NextSequence returns the sequence the next appended entry will get.
func (l *Log) NextSequence() uint64 { return l.next.Load() }

// Append writes entries atomically and durably; see wal.Log. It returns
// once Kafka acknowledged every record of the Append (acks=all), or fails
// with wal.ErrUnavailable after AppendTimeout; then, and when ctx ends
// after the records were handed to the client, the outcome is unknown.
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
		return 0, fmt.Errorf("wal/kafka: shard %d: append of no entries: %w", l.shard, wal.ErrInvalid)
	}
	size := 0
	for i := range entries {
		e := &entries[i]
		if len(e.Payload) > l.w.opts.MaxEntrySize {
			return 0, fmt.Errorf("wal/kafka: shard %d: entry of %d bytes exceeds the maximum of %d: %w",
				l.shard, len(e.Payload), l.w.opts.MaxEntrySize, wal.ErrInvalid)
		}
		size += bodyEntryLen(e.TableID, len(e.Payload))
		if size > maxAppendBytes {
			return 0, fmt.Errorf("wal/kafka: shard %d: append of more than %d bytes: %w",
				l.shard, maxAppendBytes, wal.ErrInvalid)
		}
	}
	if err := l.checkOpen(ctx); err != nil {
		return 0, err
	}
	body := make([]byte, 0, size)
	for i := range entries {
		body = appendBodyEntry(body, entries[i].TableID, entries[i].Payload)
	}

	probe, err := l.w.health.admit()
	if err != nil {
		return 0, err
	}
	if probe {
		defer l.w.health.endProbe()
	}

	p, first, err := l.produce(ctx, entries, body)
	if err != nil {
		return 0, err
	}
	timer := time.NewTimer(l.w.opts.AppendTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		err := fmt.Errorf("wal/kafka: shard %d: %w: no acknowledgement from Kafka within %s; "+
			"the append was not acknowledged", l.shard, wal.ErrUnavailable, l.w.opts.AppendTimeout)
		l.w.health.fail(err)
		return 0, err
	case <-ctx.Done():
		// The records may still reach Kafka: the outcome is unknown.
		return 0, fmt.Errorf("wal/kafka: shard %d: %w: %w", l.shard, wal.ErrUnavailable, ctx.Err())
	}
	if p.err != nil {
		err := l.w.produceError(l.data.name, p.err)
		if !errors.Is(err, wal.ErrClosed) && l.fencedErr() == nil {
			l.w.health.fail(err)
		}
		return 0, fmt.Errorf("wal/kafka: shard %d: %w", l.shard, err)
	}
	for _, g := range p.gaps {
		// Records of others landed before ours: if one is of a later
		// owner, ours are invalid and the log is fenced.
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.w.opts.AppendTimeout)
		_, err := l.checkRecords(gctx, g.from, g.to)
		cancel()
		if err != nil {
			return 0, err
		}
	}
	return first, nil
}

// produce assigns the Append its sequences and hands its records to the
// client, registering its tables first if needed.
func (l *Log) produce(ctx context.Context, entries []wal.Entry, body []byte) (*pendingAppend, uint64, error) {
	for {
		l.produceMu.Lock()
		if l.closed.Load() {
			l.produceMu.Unlock()
			return nil, 0, fmt.Errorf("wal/kafka: shard %d: %w", l.shard, wal.ErrClosed)
		}
		if err := l.checkTail(ctx, l.w.opts.AppendTimeout); err != nil {
			l.produceMu.Unlock()
			return nil, 0, err
		}
		tables := l.needsRegistration(entries)
		if len(tables) == 0 {
			break
		}
		l.produceMu.Unlock()
		if err := l.register(ctx, tables); err != nil {
			return nil, 0, err
		}
	}
	defer l.produceMu.Unlock()

	first := l.next.Load()
	h := dataHeader{epoch: l.epoch, first: first, count: uint64(len(entries)), parts: 1}
	partSize := l.w.opts.partSize()
	if len(body) > partSize {
		h.parts = uint64((len(body) + partSize - 1) / partSize)
	}
	p := &pendingAppend{l: l, first: first, done: make(chan struct{})}
	p.left.Store(int32(h.parts))
	l.mu.Lock()
	l.mu.inflight += int(h.parts)
	l.mu.Unlock()
	for part := range h.parts {
		h.part = part
		chunk := body[min(len(body), int(part)*partSize):min(len(body), int(part+1)*partSize)]
		v := make([]byte, 0, maxHeaderLen+len(chunk))
		v = append(appendDataHeader(v, h), chunk...)
		rec := &kgo.Record{Topic: l.data.name, Partition: 0, Value: v}
		l.w.cl.TryProduce(context.Background(), rec, p.callback(h))
	}
	l.w.metrics.records.Add(float64(h.parts))
	l.next.Store(first + uint64(len(entries)))
	return p, first, nil
}

// checkTail returns the fencing error of a fenced log, and after a failed
// produce checks, before producing again, the records in the data topic
// after the last one acknowledged (a failed record may have landed
// anyway): see checkRecords. It is called with produceMu held.
func (l *Log) checkTail(ctx context.Context, timeout time.Duration) error {
	l.mu.Lock()
	fenced, need, inflight, from := l.mu.fenced, l.mu.needCheck, l.mu.inflight, l.mu.expected
	l.mu.Unlock()
	switch {
	case fenced != nil:
		return fenced
	case !need:
		return nil
	case inflight > 0:
		return fmt.Errorf("wal/kafka: shard %d: %w: waiting for the outcome of earlier produces", l.shard, wal.ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	end, err := l.checkRecords(ctx, from, -1)
	if err != nil {
		if !errors.Is(err, wal.ErrUnavailable) {
			err = fmt.Errorf("%w: %w", wal.ErrUnavailable, err)
		}
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.expected = max(l.mu.expected, end)
	l.mu.needCheck = false
	return nil
}

var errStopScan = errors.New("stop scan")

// fenceLocked marks the log fenced: another process wrote to its topic, so
// it opened the shard after us. Every later write fails.
func (l *Log) fenceLocked(cause error) error {
	if l.mu.fenced == nil {
		l.mu.fenced = fmt.Errorf("wal/kafka: shard %d: %w: another process opened this shard's log (%v); "+
			"this log is fenced and refuses every write", l.shard, wal.ErrUnavailable, cause)
		l.w.log.Error("shard log fenced", "shard", l.shard, "topic", l.data.name, "cause", cause)
	}
	return l.mu.fenced
}

// pendingAppend collects the acknowledgements of an Append's records. The
// client calls the callbacks serially, in partition order.
type pendingAppend struct {
	l     *Log
	first uint64
	left  atomic.Int32
	err   error // the first error; read after done
	gaps  []gap // records of others before ours; read after done
	done  chan struct{}
}

func (p *pendingAppend) callback(h dataHeader) func(*kgo.Record, error) {
	return func(r *kgo.Record, err error) {
		l := p.l
		if err == nil {
			var g gap
			if g, err = l.acked(r.Offset, h); g.to > g.from {
				p.gaps = append(p.gaps, g)
			}
		} else {
			l.mu.Lock()
			l.mu.inflight--
			l.mu.needCheck = true
			l.mu.Unlock()
		}
		if err != nil && p.err == nil {
			p.err = err
		}
		if p.left.Add(-1) == 0 {
			close(p.done)
		}
	}
}

// gap is a range of offsets of the data topic with records of others.
type gap struct{ from, to int64 }

// acked records the acknowledgement of one of our data records. It
// returns the records between the previous one and this one, if any: the
// Append is acknowledged only once they are checked (see checkGap).
func (l *Log) acked(off int64, h dataHeader) (gap, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.inflight--
	if l.mu.fenced != nil {
		return gap{}, l.mu.fenced
	}
	var g gap
	if !l.mu.needCheck { // else checkTail checks from expected on
		if off < l.mu.expected {
			return gap{}, fmt.Errorf("wal/kafka: shard %d: %w: record acknowledged at offset %d, expected %d or later",
				l.shard, wal.ErrUnavailable, off, l.mu.expected)
		}
		g = gap{l.mu.expected, off}
		l.mu.expected = off + 1
	}
	l.w.health.ok()
	if h.part == 0 {
		l.mu.index.add(off, h.first)
	}
	if h.part == h.parts-1 {
		l.mu.lastInfo = max(l.mu.lastInfo, off)
	}
	return g, nil
}

// checkRecords checks records of the data topic from offset from: ours
// and late ones of earlier owners are fine; a barrier or a record of a
// later epoch means another process opened the shard since, and fences the
// log. With to < 0 it checks up to the high watermark and returns where it
// stopped.
func (l *Log) checkRecords(ctx context.Context, from, to int64) (int64, error) {
	var newer error
	end, err := l.w.scan(ctx, l.data, from, to, func(off int64, v []byte) error {
		r, err := decodeData(v)
		switch {
		case err != nil:
			return fmt.Errorf("data topic %s offset %d: %w: %w", l.data.name, off, wal.ErrCorrupt, err)
		case r.kind == kindBarrier:
			newer = fmt.Errorf("the barrier of epoch %d at offset %d", epochAt(off), off)
		case r.kind == kindData && r.hdr.epoch > l.epoch:
			newer = fmt.Errorf("a record of epoch %d at offset %d", r.hdr.epoch, off)
		case r.kind == kindFence && r.epoch > l.epoch:
			newer = fmt.Errorf("a fence of epoch %d at offset %d", r.epoch, off)
		}
		if newer != nil {
			return errStopScan
		}
		return nil
	})
	if newer != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		return end, l.fenceLocked(newer)
	}
	if err != nil {
		return end, fmt.Errorf("wal/kafka: shard %d: check records of others: %w", l.shard, err)
	}
	return end, nil
}

// noteRecord remembers where the record of an Append (its first part) is.
func (l *Log) noteRecord(off int64, h dataHeader) {
	l.mu.Lock()
	l.mu.index.add(off, h.first)
	l.mu.Unlock()
}

// Close closes the log and its open iterators; the WAL stays open and the
// shard's log can be opened again. Appends in flight get their outcome
// from Kafka (or time out). Idempotent.
func (l *Log) Close() error {
	l.produceMu.Lock()
	l.closed.Store(true)
	l.produceMu.Unlock()
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
	l.w.forget(l)
	return nil
}

var errLogClosed = fmt.Errorf("wal/kafka: log closed: %w", wal.ErrClosed)

// checkOpen returns the error that refuses a call now, or nil.
func (l *Log) checkOpen(ctx context.Context) error {
	if l.closed.Load() {
		return fmt.Errorf("wal/kafka: shard %d: %w", l.shard, wal.ErrClosed)
	}
	if err := l.fencedErr(); err != nil {
		return err
	}
	return ctx.Err()
}

// fencedErr returns the error of a fenced log, or nil.
func (l *Log) fencedErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.fenced
}

// offsetIndex maps sequences to offsets: the offsets of the first records
// of some Appends, sorted, spaced at least indexSpacing offsets apart (the
// newest is always kept). A read from a sequence starts at the last point
// at or before it.
type offsetIndex struct {
	points []indexPoint
}

type indexPoint struct {
	off   int64
	first uint64
}

const (
	indexSpacing   = 32
	indexMaxPoints = 1 << 16
)

func (x *offsetIndex) add(off int64, first uint64) {
	p := x.points
	n := len(p)
	switch {
	case n == 0 || off > p[n-1].off:
		// The common case: appends and reads in offset order. The newest
		// point replaces the previous one if that is too close to the one
		// before it.
		if n >= 2 && p[n-1].off-p[n-2].off < indexSpacing {
			p[n-1] = indexPoint{off, first}
		} else {
			x.points = append(p, indexPoint{off, first})
		}
	default:
		i := searchOffset(p, off)
		if i < n && p[i].off == off {
			return
		}
		if (i > 0 && off-p[i-1].off < indexSpacing) || (i < n && p[i].off-off < indexSpacing) {
			return
		}
		x.points = append(p[:i], append([]indexPoint{{off, first}}, p[i:]...)...)
	}
	if n := len(x.points); n > indexMaxPoints {
		// Keep every other point, and the newest.
		last := x.points[n-1]
		k := 0
		for i := 0; i < n; i += 2 {
			x.points[k] = x.points[i]
			k++
		}
		x.points = x.points[:k]
		if x.points[k-1] != last {
			x.points = append(x.points, last)
		}
	}
}

// seek returns the offset of the last point with first <= seq, or -1.
func (x *offsetIndex) seek(seq uint64) int64 {
	p := x.points
	lo, hi := 0, len(p)
	for lo < hi {
		m := (lo + hi) / 2
		if p[m].first <= seq {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return -1
	}
	return p[lo-1].off
}

// dropBelow forgets the points below off.
func (x *offsetIndex) dropBelow(off int64) {
	i := searchOffset(x.points, off)
	x.points = append(x.points[:0], x.points[i:]...)
}

// searchOffset returns the index of the first point with p.off >= off.
func searchOffset(p []indexPoint, off int64) int {
	lo, hi := 0, len(p)
	for lo < hi {
		m := (lo + hi) / 2
		if p[m].off < off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
