// Package memtable holds a table's recent writes in memory until they are
// flushed to an SST. A memtable is a list of sorted runs: every write batch
// arrives sorted by primary key (and, for OVERWRITE tables, deduplicated) and
// is appended as a run, so a write never waits for a merge; when runs pile
// up, the newest ones are merged into one, size-tiered, which keeps their
// number logarithmic in the memtable size. Readers take a snapshot of the
// runs and merge them by key.
package memtable

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine/internal/merge"
	"github.com/horaego/horaedb/engine/schema"
)

// maxRuns is the number of runs that triggers a merge of the newest ones.
const maxRuns = 8

// Options describe the rows a memtable holds.
type Options struct {
	// Schema of the rows (without the sequence column, which follows).
	Schema    *schema.Schema
	NumKeys   int  // leading primary key columns
	SeqIndex  int  // index of the sequence column
	TimeIndex int  // index of the timestamp column
	Dedup     bool // OVERWRITE semantics
	Mem       memory.Allocator
	// Account, when set, is told of every change of the memtable's byte
	// count (positive on inserts, negative on merges and Release), so an
	// engine can bound the memory of all its memtables.
	Account func(delta int64)
}

// Memtable is safe for concurrent use.
type Memtable struct {
	o  Options
	mu struct {
		sync.Mutex
		runs     []Run
		bytes    int64
		rows     int64
		minSeq   uint64
		maxSeq   uint64
		minTime  int64
		maxTime  int64
		merging  bool
		released bool
	}
}

// New returns an empty memtable.
func New(o Options) *Memtable {
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
	return &Memtable{o: o}
}

// Run is one sorted run and the range of its timestamps.
type Run struct {
	Rec              arrow.RecordBatch
	MinTime, MaxTime int64 // milliseconds, inclusive
}

// Stats summarise a memtable.
type Stats struct {
	Bytes            int64
	Rows             int64
	Runs             int
	MinSeq, MaxSeq   uint64
	MinTime, MaxTime int64 // milliseconds; valid when Rows > 0
}

// Schema returns the schema of the memtable's rows.
func (m *Memtable) Schema() *schema.Schema { return m.o.Schema }

// Stats returns the current statistics.
func (m *Memtable) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{Bytes: m.mu.bytes, Rows: m.mu.rows, Runs: len(m.mu.runs),
		MinSeq: m.mu.minSeq, MaxSeq: m.mu.maxSeq, MinTime: m.mu.minTime, MaxTime: m.mu.maxTime}
}

// Insert adds a sorted run whose rows all carry sequence seq. The memtable
// keeps a reference to rec.
func (m *Memtable) Insert(rec arrow.RecordBatch, seq uint64) {
	if rec.NumRows() == 0 {
		return
	}
	lo, hi := timeRange(rec.Column(m.o.TimeIndex).(*array.Timestamp))
	size := recordBytes(rec)
	rec.Retain()
	m.mu.Lock()
	if m.mu.rows == 0 {
		m.mu.minSeq, m.mu.maxSeq, m.mu.minTime, m.mu.maxTime = seq, seq, lo, hi
	} else {
		m.mu.minSeq, m.mu.maxSeq = min(m.mu.minSeq, seq), max(m.mu.maxSeq, seq)
		m.mu.minTime, m.mu.maxTime = min(m.mu.minTime, lo), max(m.mu.maxTime, hi)
	}
	m.mu.runs = append(m.mu.runs, Run{Rec: rec, MinTime: lo, MaxTime: hi})
	m.mu.bytes += size
	m.mu.rows += rec.NumRows()
	m.account(size)
	var toMerge []Run
	first := 0
	if len(m.mu.runs) > maxRuns && !m.mu.merging {
		first = pickRuns(m.mu.runs)
		toMerge = append(toMerge, m.mu.runs[first:]...)
		m.mu.merging = true
	}
	m.mu.Unlock()
	if toMerge != nil {
		m.mergeRuns(first, toMerge)
	}
}

// pickRuns returns the index of the first run to merge: the newest runs
// whose sizes are small compared with what is newer, size-tiered.
func pickRuns(runs []Run) int {
	first := len(runs) - 2
	acc := runs[len(runs)-1].Rec.NumRows() + runs[len(runs)-2].Rec.NumRows()
	for first > 0 && runs[first-1].Rec.NumRows() <= 2*acc {
		first--
		acc += runs[first].Rec.NumRows()
	}
	return first
}

// mergeRuns merges runs that start at index first into one, outside the
// lock: concurrent inserts only append after them.
func (m *Memtable) mergeRuns(first int, runs []Run) {
	streams := make([]merge.Stream, len(runs))
	var rows int64
	merged := Run{MinTime: runs[0].MinTime, MaxTime: runs[0].MaxTime}
	for i, r := range runs {
		streams[i] = merge.NewRecordStream(r.Rec)
		rows += r.Rec.NumRows()
		merged.MinTime, merged.MaxTime = min(merged.MinTime, r.MinTime), max(merged.MaxTime, r.MaxTime)
	}
	mg := merge.New(streams, merge.Options{NumKeys: m.o.NumKeys, SeqIndex: m.o.SeqIndex,
		Dedup: m.o.Dedup, BatchSize: int(rows), Mem: m.o.Mem})
	rec, err := mg.Next(context.Background())
	mg.Close()
	merged.Rec = rec
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mu.merging = false
	if err != nil {
		// Cannot happen for in-memory streams with matching schemas; keep
		// the runs as they are rather than lose anything.
		return
	}
	if m.mu.released { // flushed or dropped meanwhile
		rec.Release()
		return
	}
	var oldBytes int64
	for _, r := range runs {
		oldBytes += recordBytes(r.Rec)
	}
	tail := m.mu.runs[first+len(runs):]
	out := append(m.mu.runs[:first:first], merged)
	m.mu.runs = append(out, tail...)
	delta := recordBytes(rec) - oldBytes
	m.mu.bytes += delta
	m.mu.rows += rec.NumRows() - rows
	m.account(delta)
	for _, r := range runs {
		r.Rec.Release()
	}
}

// Runs returns a snapshot of the sorted runs; each is retained and must be
// released by the caller.
func (m *Memtable) Runs() []Run {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]Run(nil), m.mu.runs...)
	for _, r := range out {
		r.Rec.Retain()
	}
	return out
}

// Stream returns the memtable's rows as one sorted stream, merged (and
// deduplicated for OVERWRITE tables) across runs. Streams over a snapshot:
// later inserts are not seen.
func (m *Memtable) Stream(batchSize int) merge.Stream {
	runs := m.Runs()
	if len(runs) == 1 {
		return merge.NewRecordStream(runs[0].Rec)
	}
	streams := make([]merge.Stream, len(runs))
	for i, r := range runs {
		streams[i] = merge.NewRecordStream(r.Rec)
	}
	return merge.New(streams, merge.Options{NumKeys: m.o.NumKeys, SeqIndex: m.o.SeqIndex,
		Dedup: m.o.Dedup, BatchSize: batchSize, Mem: m.o.Mem})
}

// Release drops the memtable's references to its runs and returns its
// bytes to the account. Idempotent; the memtable must not be written after.
func (m *Memtable) Release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.released {
		return
	}
	m.mu.released = true
	for _, r := range m.mu.runs {
		r.Rec.Release()
	}
	m.mu.runs = nil
	m.account(-m.mu.bytes)
}

func (m *Memtable) account(delta int64) {
	if m.o.Account != nil && delta != 0 {
		m.o.Account(delta)
	}
}

func timeRange(ts *array.Timestamp) (lo, hi int64) {
	vals := ts.TimestampValues()
	lo, hi = int64(vals[0]), int64(vals[0])
	for _, v := range vals[1:] {
		lo, hi = min(lo, int64(v)), max(hi, int64(v))
	}
	return lo, hi
}

func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		for _, b := range c.Data().Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
	}
	return n
}

// Drain reads a stream to the end, for tests and small flushes.
func Drain(ctx context.Context, s merge.Stream) ([]arrow.RecordBatch, error) {
	defer s.Close()
	var out []arrow.RecordBatch
	for {
		rec, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
}
