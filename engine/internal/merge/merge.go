package merge

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Options configure a Merger.
type Options struct {
	// NumKeys is the number of leading primary key columns.
	NumKeys int
	// SeqIndex is the column index of the sequence column.
	SeqIndex int
	// Dedup keeps only the row with the highest sequence of each key.
	Dedup bool
	// BatchSize is the number of rows per output record; default 8192.
	BatchSize int
	// Mem allocates output records; default memory.DefaultAllocator.
	Mem memory.Allocator
}

type cursor struct {
	s    Stream
	rec  arrow.RecordBatch
	k    keys
	row  int
	n    int
	done bool
}

// advance loads the next non-empty record of the stream.
func (c *cursor) advance(ctx context.Context, o *Options) error {
	for {
		rec, err := c.s.Next(ctx)
		if errors.Is(err, io.EOF) {
			c.done = true
			c.rec = nil
			return nil
		}
		if err != nil {
			return err
		}
		if rec.NumRows() == 0 {
			rec.Release()
			continue
		}
		c.rec, c.row, c.n = rec, 0, int(rec.NumRows())
		c.k = newKeys(rec, o.NumKeys, o.SeqIndex)
		return nil
	}
}

// Merger merges sorted streams into one sorted stream; it is a Stream.
type Merger struct {
	o       Options
	streams []Stream
	heap    []*cursor
	started bool
	b       *array.RecordBuilder

	// pending is the run of rows of one record waiting to be copied out.
	pending            arrow.RecordBatch
	pendStart, pendEnd int
	// last is the last row emitted, to drop older versions of its key.
	lastKeys keys
	lastRow  int
	haveLast bool
	lastRec  arrow.RecordBatch
}

// New returns a Merger of the given streams. The merger owns them and
// closes them.
func New(streams []Stream, o Options) *Merger {
	if o.BatchSize <= 0 {
		o.BatchSize = 8192
	}
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
	return &Merger{o: o, streams: streams}
}

// less orders cursors by key, then by sequence descending.
func (m *Merger) less(a, b *cursor) bool {
	c := compareKeys(&a.k, a.row, &b.k, b.row)
	if c != 0 {
		return c < 0
	}
	return a.k.seq[a.row] > b.k.seq[b.row]
}

func (m *Merger) siftDown(i int) {
	h := m.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		small := l
		if r := l + 1; r < len(h) && m.less(h[r], h[l]) {
			small = r
		}
		if !m.less(h[small], h[i]) {
			return
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
}

func (m *Merger) start(ctx context.Context) error {
	m.started = true
	for _, s := range m.streams {
		c := &cursor{s: s}
		if err := c.advance(ctx, &m.o); err != nil {
			return err
		}
		if !c.done {
			m.heap = append(m.heap, c)
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.siftDown(i)
	}
	return nil
}

func (m *Merger) flushPending() {
	if m.pending == nil || m.pendStart == m.pendEnd {
		m.pending = nil
		return
	}
	if m.b == nil {
		m.b = array.NewRecordBuilder(m.o.Mem, m.pending.Schema())
	}
	for c := 0; c < int(m.pending.NumCols()); c++ {
		AppendRange(m.b.Field(c), m.pending.Column(c), m.pendStart, m.pendEnd)
	}
	m.pending = nil
}

// Next returns the next merged record, or io.EOF.
func (m *Merger) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !m.started {
		if err := m.start(ctx); err != nil {
			return nil, err
		}
	}
	rows := 0
	for rows < m.o.BatchSize && len(m.heap) > 0 {
		c := m.heap[0]
		skip := m.o.Dedup && m.haveLast && compareKeys(&m.lastKeys, m.lastRow, &c.k, c.row) == 0
		if skip {
			m.flushPending()
		} else {
			if m.pending != c.rec || m.pendEnd != c.row {
				m.flushPending()
				m.pending, m.pendStart = c.rec, c.row
			}
			m.pendEnd = c.row + 1
			rows++
			m.lastKeys, m.lastRow, m.lastRec, m.haveLast = c.k, c.row, c.rec, true
		}
		c.row++
		if c.row < c.n {
			m.siftDown(0)
			continue
		}
		m.flushPending()
		if err := c.advance(ctx, &m.o); err != nil {
			return nil, err
		}
		if c.done {
			last := len(m.heap) - 1
			m.heap[0] = m.heap[last]
			m.heap = m.heap[:last]
		}
		if len(m.heap) > 0 {
			m.siftDown(0)
		}
	}
	m.flushPending()
	if rows == 0 {
		return nil, io.EOF
	}
	return m.b.NewRecordBatch(), nil
}

// Close closes every input stream.
func (m *Merger) Close() {
	for _, s := range m.streams {
		s.Close()
	}
	m.streams = nil
	if m.b != nil {
		m.b.Release()
		m.b = nil
	}
}

// RecordStream is a Stream over records in memory.
type RecordStream struct {
	recs  []arrow.RecordBatch
	batch int64 // 0: whole records
	off   int64
}

// NewRecordStream returns a Stream yielding recs in order.
func NewRecordStream(recs ...arrow.RecordBatch) *RecordStream {
	return &RecordStream{recs: recs}
}

// NewSlicedStream returns a Stream yielding recs in order, cut into slices
// of at most batch rows (without copying).
func NewSlicedStream(batch int, recs ...arrow.RecordBatch) *RecordStream {
	return &RecordStream{recs: recs, batch: int64(batch)}
}

// Next implements Stream.
func (s *RecordStream) Next(context.Context) (arrow.RecordBatch, error) {
	if len(s.recs) == 0 {
		return nil, io.EOF
	}
	r := s.recs[0]
	if s.batch <= 0 || r.NumRows() <= s.batch {
		s.recs = s.recs[1:]
		r.Retain()
		return r, nil
	}
	end := min(s.off+s.batch, r.NumRows())
	out := r.NewSlice(s.off, end)
	s.off = end
	if end == r.NumRows() {
		s.recs, s.off = s.recs[1:], 0
	}
	return out, nil
}

// Close implements Stream.
func (s *RecordStream) Close() { s.recs = nil }
