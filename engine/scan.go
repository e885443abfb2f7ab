package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine/internal/memtable"
	"github.com/horaego/horaedb/engine/internal/merge"
	"github.com/horaego/horaedb/engine/internal/sst"
)

// TimeRange is a half-open range [Start, End) of milliseconds.
type TimeRange = sst.TimeRange

// AllTime covers every timestamp.
var AllTime = TimeRange{Start: math.MinInt64, End: math.MaxInt64}

// ScanRequest selects what a scan returns.
type ScanRequest struct {
	// Columns to return, by name, in this order; nil returns every column.
	Columns []string
	// TimeRange filters rows by the timestamp key; the zero value means
	// AllTime.
	TimeRange TimeRange
	// BatchSize is the number of rows per record; default the table's
	// num_rows_per_row_group.
	BatchSize int
	// Filters prune SST row groups by their statistics; they must be on
	// columns for which PushdownSafe is true. They do not filter rows.
	Filters []Filter
	// Partitions is how many streams ScanPartitions returns at most;
	// default 1.
	Partitions int
}

// Filter is a pruning predicate; see ScanRequest.Filters.
type Filter = sst.Filter

// FilterOp is the comparison of a Filter.
type FilterOp = sst.FilterOp

// Filter operators.
const (
	FilterEq   = sst.Eq
	FilterLt   = sst.Lt
	FilterLtEq = sst.LtEq
	FilterGt   = sst.Gt
	FilterGtEq = sst.GtEq
	FilterIn   = sst.In
)

// PushdownSafe reports whether a predicate on column may prune rows before
// OVERWRITE deduplication: on APPEND tables any column; on OVERWRITE tables
// only columns every version of a row shares (the primary key, and tags
// when the key includes tsid). Pruning by another column could drop the
// newest version of a row and resurrect an older one.
func (t *Table) PushdownSafe(column string) bool {
	s := t.Schema()
	i := s.Index(column)
	if i < 0 {
		return false
	}
	if !t.Options().NeedDedup() {
		return true
	}
	return i < s.NumKeys || (s.TsidIndex >= 0 && s.Columns[i].IsTag)
}

// Stream yields records; Next returns io.EOF at the end.
type Stream interface {
	Next(ctx context.Context) (arrow.RecordBatch, error)
	Close()
}

// ScanStats describe what a scan read, for EXPLAIN ANALYZE.
type ScanStats struct {
	Memtables      int // memtables with rows in range
	SSTs           int // SSTs overlapping the range
	SSTsPruned     int // SSTs skipped by their time range
	RowGroups      int // row groups read
	RowGroupsTotal int // row groups in the SSTs read
}

// source is one memtable run or SST a scan reads, with its time range.
type source struct {
	minTime, maxTime int64
	run              *memtable.Run // or
	file             *sst.Meta
}

// Scan returns the table's rows, deduplicated for OVERWRITE tables. Rows
// are not in any particular order. It reads a snapshot: writes after Scan
// returns are not seen.
//
// Only sources whose time ranges overlap can hold the same primary key
// (the timestamp is part of it), so only those are merged; when no source
// overlaps another, the key and sequence columns are not even read.
func (t *Table) Scan(ctx context.Context, req ScanRequest) (Stream, *ScanStats, error) {
	req.Partitions = 1
	parts, stats, err := t.ScanPartitions(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	return parts[0], stats, nil
}

// ScanPartitions is Scan split into up to req.Partitions streams that may
// be read concurrently; together they hold the scan's rows.
func (t *Table) ScanPartitions(ctx context.Context, req ScanRequest) ([]Stream, *ScanStats, error) {
	s := t.Schema()
	for _, f := range req.Filters {
		if !t.PushdownSafe(f.Column) || len(f.Values) == 0 {
			return nil, nil, fmt.Errorf("engine: filter on column %s cannot be pushed down", f.Column)
		}
	}
	opts := t.Options()
	if req.TimeRange == (TimeRange{}) {
		req.TimeRange = AllTime
	}
	if opts.EnableTTL { // expired rows are invisible, also before compaction drops them
		req.TimeRange.Start = max(req.TimeRange.Start, t.e.o.Now().UnixMilli()-opts.TTL.Milliseconds())
		req.TimeRange.End = max(req.TimeRange.End, req.TimeRange.Start)
	}
	if req.BatchSize <= 0 {
		req.BatchSize = opts.NumRowsPerRowGroup
	}
	cols := req.Columns
	if cols == nil {
		for _, c := range s.Columns {
			cols = append(cols, c.Name)
		}
	}
	wanted := make([]bool, len(s.Columns))
	for _, name := range cols {
		idx := s.Index(name)
		if idx < 0 {
			return nil, nil, fmt.Errorf("%w: table %s has no column %s", ErrColumnNotFound, t.Name(), name)
		}
		wanted[idx] = true
	}
	stats := &ScanStats{}

	// Gather the sources in range.
	v, release := t.snapshot()
	var sources []source
	var runs []memtable.Run
	for _, m := range append(v.immutables, v.mutable) {
		ms := m.Stats()
		if ms.Rows == 0 || !req.TimeRange.Overlaps(ms.MinTime, ms.MaxTime) {
			continue
		}
		stats.Memtables++
		for _, r := range m.Runs() {
			runs = append(runs, r)
			if req.TimeRange.Overlaps(r.MinTime, r.MaxTime) {
				sources = append(sources, source{minTime: r.MinTime, maxTime: r.MaxTime, run: &runs[len(runs)-1]})
			}
		}
	}
	defer func() {
		for _, r := range runs {
			r.Rec.Release()
		}
	}()
	for i := range v.files {
		f := &v.files[i]
		if !req.TimeRange.Overlaps(f.MinTime, f.MaxTime) {
			stats.SSTsPruned++
			continue
		}
		sources = append(sources, source{minTime: f.MinTime, maxTime: f.MaxTime, file: f})
	}
	clusters := [][]source{}
	if opts.NeedDedup() {
		clusters = overlapping(sources)
	} else {
		for _, src := range sources {
			clusters = append(clusters, []source{src})
		}
	}
	needMerge := false
	for _, c := range clusters {
		needMerge = needMerge || len(c) > 1
	}

	// The columns read: the wanted ones and the timestamp (to filter by
	// time), plus the key and the sequence when merging.
	var read []int
	for i := range s.Columns {
		if wanted[i] || i == s.TimestampIndex || (needMerge && i < s.NumKeys) {
			read = append(read, i)
		}
	}
	internal := s.InternalArrowSchema()
	pos := make(map[int]int, len(read))
	fields := make([]arrow.Field, 0, len(read)+1)
	for p, idx := range read {
		pos[idx] = p
		fields = append(fields, internal.Field(idx))
	}
	if needMerge {
		fields = append(fields, internal.Field(len(s.Columns)))
	}
	readSchema := arrow.NewSchema(fields, nil)
	out := make([]int, len(cols))
	for i, name := range cols {
		out[i] = pos[s.Index(name)]
	}
	tsPos := pos[s.TimestampIndex]

	var streams []merge.Stream
	var weights []int64 // rows, to balance partitions
	closeAll := func() {
		for _, st := range streams {
			st.Close()
		}
		release()
	}
	open := func(src source) (merge.Stream, error) {
		if src.run != nil {
			sel, err := selectRun(ctx, src.run.Rec, readSchema, tsPos, req.TimeRange, t.e.o.Mem)
			if err != nil || sel == nil {
				return nil, err
			}
			return merge.NewSlicedStream(req.BatchSize, sel), nil
		}
		st, err := sst.Read(ctx, t.e.o.Store, sstKey(t.ID(), src.file.ID), src.file.Size, sst.ReadOptions{
			Schema: readSchema, TimeColumn: s.Timestamp().Name, Range: req.TimeRange,
			BatchSize: req.BatchSize, Mem: t.e.o.Mem, Filters: req.Filters, Meta: t.e.sstMeta})
		if err != nil {
			return nil, err
		}
		stats.SSTs++
		stats.RowGroups += st.RowGroups
		stats.RowGroupsTotal += st.TotalRowGroups
		return st, nil
	}
	for _, c := range clusters {
		var parts []merge.Stream
		var w int64
		for _, src := range c {
			if src.run != nil {
				w += src.run.Rec.NumRows()
			} else {
				w += src.file.Rows
			}
			st, err := open(src)
			if err != nil {
				for _, p := range parts {
					p.Close()
				}
				closeAll()
				return nil, nil, err
			}
			if st != nil {
				parts = append(parts, st)
			}
		}
		switch len(parts) {
		case 0:
			continue
		case 1:
			streams = append(streams, parts[0])
		default:
			streams = append(streams, merge.New(parts, merge.Options{NumKeys: s.NumKeys, SeqIndex: len(read),
				Dedup: true, BatchSize: req.BatchSize, Mem: t.e.o.Mem}))
		}
		weights = append(weights, w)
	}
	t.e.metrics.scans.Inc()
	t.e.metrics.scannedSSTs.Add(float64(stats.SSTs))
	outFields := make([]arrow.Field, len(out))
	for i, p := range out {
		outFields[i] = readSchema.Field(p)
	}
	outSchema := arrow.NewSchema(outFields, nil)
	// Deal the streams to the partitions, heaviest first, each to the
	// lightest partition so far.
	n := max(1, min(req.Partitions, len(streams)))
	order := make([]int, len(streams))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return weights[order[a]] > weights[order[b]] })
	groups := make([][]merge.Stream, n)
	load := make([]int64, n)
	for _, i := range order {
		p := 0
		for k := range load {
			if load[k] < load[p] {
				p = k
			}
		}
		groups[p] = append(groups[p], streams[i])
		load[p] += weights[i]
	}
	parts := make([]Stream, n)
	done := newReleaser(n, release) // the SSTs stay until every partition is closed
	for p := range groups {
		parts[p] = &projectStream{in: &concatStream{streams: groups[p]}, cols: out, schema: outSchema, m: t.e.metrics, done: done.done}
	}
	return parts, stats, nil
}

// overlapping groups sources into clusters whose time ranges overlap,
// transitively.
func overlapping(srcs []source) [][]source {
	sorted := append([]source(nil), srcs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].minTime < sorted[j].minTime })
	var out [][]source
	var end int64
	for i, src := range sorted {
		if i > 0 && src.minTime <= end {
			out[len(out)-1] = append(out[len(out)-1], src)
			end = max(end, src.maxTime)
			continue
		}
		out = append(out, []source{src})
		end = src.maxTime
	}
	return out
}

// selectRun returns the rows of a memtable run within tr, with the columns
// of readSchema matched by name (a run written before ALTER TABLE ADD COLUMN
// lacks the new columns: they are null), or nil when no row is in range.
func selectRun(ctx context.Context, run arrow.RecordBatch, readSchema *arrow.Schema, tsPos int, tr TimeRange, mem memory.Allocator) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, len(readSchema.Fields()))
	var nulls []arrow.Array
	for i, f := range readSchema.Fields() {
		if idx := run.Schema().FieldIndices(f.Name); len(idx) > 0 {
			cols[i] = run.Column(idx[0])
			continue
		}
		cols[i] = array.MakeArrayOfNull(mem, f.Type, int(run.NumRows()))
		nulls = append(nulls, cols[i])
	}
	rec := array.NewRecordBatch(readSchema, cols, run.NumRows())
	for _, n := range nulls {
		n.Release()
	}
	defer rec.Release()
	return merge.FilterTime(ctx, rec, tsPos, tr.Start, tr.End, mem)
}

// concatStream yields the records of its streams one stream after another.
type concatStream struct{ streams []merge.Stream }

func (c *concatStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for len(c.streams) > 0 {
		rec, err := c.streams[0].Next(ctx)
		if errors.Is(err, io.EOF) {
			c.streams[0].Close()
			c.streams = c.streams[1:]
			continue
		}
		return rec, err
	}
	return nil, io.EOF
}

func (c *concatStream) Close() {
	for _, s := range c.streams {
		s.Close()
	}
	c.streams = nil
}

// projectStream keeps the requested columns of each record.
type projectStream struct {
	in     merge.Stream
	cols   []int
	schema *arrow.Schema
	m      *metrics
	done   func() // called once on Close
	closed bool
}

func (p *projectStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	rec, err := p.in.Next(ctx)
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	cols := make([]arrow.Array, len(p.cols))
	for i, c := range p.cols {
		cols[i] = rec.Column(c)
	}
	p.m.scannedRecords.Add(float64(rec.NumRows()))
	return array.NewRecordBatch(p.schema, cols, rec.NumRows()), nil
}

func (p *projectStream) Close() {
	if p.closed {
		return
	}
	p.closed = true
	p.in.Close()
	if p.done != nil {
		p.done()
	}
}

// OutputSchema returns the Arrow schema of a scan's records for the given
// columns (nil for all).
func (t *Table) OutputSchema(columns []string) (*arrow.Schema, error) {
	s := t.Schema()
	if columns == nil {
		return s.ArrowSchema(), nil
	}
	fields := make([]arrow.Field, len(columns))
	all := s.ArrowSchema()
	for i, name := range columns {
		idx := s.Index(name)
		if idx < 0 {
			return nil, fmt.Errorf("%w: table %s has no column %s", ErrColumnNotFound, t.Name(), name)
		}
		fields[i] = all.Field(idx)
	}
	return arrow.NewSchema(fields, nil), nil
}
