package sst

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/horaego/horaedb/engine/internal/merge"
	"github.com/horaego/horaedb/objstore"
)

// FilterOp is the comparison of a pruning filter.
type FilterOp uint8

// Filter operators.
const (
	Eq FilterOp = iota + 1
	Lt
	LtEq
	Gt
	GtEq
	In
)

// Filter is a predicate on one column used to skip row groups whose
// statistics rule it out. Values are int64 (for signed integer and
// timestamp columns: never give one for an unsigned column, whose
// statistics order differs), float64 or string. A filter only prunes: the
// rows of a group that is read are not filtered by it.
type Filter struct {
	Column string
	Op     FilterOp
	Values []any // one value, or the list of In
}

// ReadOptions select what a read returns.
type ReadOptions struct {
	// Filters prune row groups by their column statistics.
	Filters []Filter
	// Schema lists the columns wanted, by name, with their types; columns
	// the file lacks (added to the table after it was written) are null.
	Schema *arrow.Schema
	// TimeColumn names the timestamp key column, used to prune by Range.
	TimeColumn string
	Range      TimeRange
	BatchSize  int
	Mem        memory.Allocator
	// Meta caches parsed footers; nil parses the footer every time.
	Meta *MetaCache
}

// objectReader reads an object through ranged GETs. It implements
// parquet.ReaderAtSeeker; it holds the context of the read it serves
// because io.ReaderAt has no place for one.
type objectReader struct {
	ctx    context.Context
	bucket objstore.Bucket
	key    string
	size   int64
	off    int64
}

func (r *objectReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	data, err := r.bucket.GetRange(r.ctx, r.key, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	n := copy(p, data)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *objectReader) Read(p []byte) (int, error) {
	n, err := r.ReadAt(p, r.off)
	r.off += int64(n)
	return n, err
}

func (r *objectReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	}
	if offset < 0 {
		return 0, fmt.Errorf("sst: seek to negative offset")
	}
	r.off = offset
	return offset, nil
}

// Read streams the rows of the SST at key that fall in o.Range, in key
// order, with the columns of o.Schema.
func Read(ctx context.Context, bucket objstore.Bucket, key string, size int64, o ReadOptions) (*Stream, error) {
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 8192
	}
	rdr := &objectReader{ctx: ctx, bucket: bucket, key: key, size: size}
	ropts := []file.ReadOption{file.WithReadProps(parquet.NewReaderProperties(o.Mem))}
	cached, hit := o.Meta.get(key)
	if hit {
		ropts = append(ropts, file.WithMetadata(cached.md))
	}
	pf, err := file.NewParquetReader(rdr, ropts...)
	if err != nil {
		return nil, fmt.Errorf("sst: open %s: %w", key, err)
	}
	if !hit {
		cached = &metaEntry{key: key, md: pf.MetaData()}
		if v := cached.md.KeyValueMetadata().FindValue(tagFilterKey); v != nil {
			if cached.filters, err = decodeTagFilters(*v, cached.md.NumRowGroups()); err != nil {
				pf.Close()
				return nil, fmt.Errorf("sst: %s: %w", key, err)
			}
		}
		o.Meta.put(cached)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(o.BatchSize)}, o.Mem)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("sst: open %s: %w", key, err)
	}
	fileSchema, err := fr.Schema()
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("sst: schema of %s: %w", key, err)
	}
	s := &Stream{pf: pf, want: o.Schema, o: o, tsCol: -1}
	for i, f := range o.Schema.Fields() {
		idx := fileSchema.FieldIndices(f.Name)
		if len(idx) == 0 {
			s.missing = append(s.missing, i)
			continue
		}
		if storedAsInt(fileSchema.Field(idx[0]), f) {
			s.integral = append(s.integral, len(s.fileCols))
		}
		s.fileCols = append(s.fileCols, idx[0])
		s.outCols = append(s.outCols, i)
		if f.Name == o.TimeColumn {
			s.tsCol = len(s.fileCols) - 1
		}
	}
	tsFile := fileSchema.FieldIndices(o.TimeColumn)
	if s.tsCol < 0 {
		pf.Close()
		return nil, fmt.Errorf("sst: read %s: the time column %s must be read", key, o.TimeColumn)
	}
	if len(tsFile) == 0 {
		pf.Close()
		return nil, fmt.Errorf("sst: %s has no column %s", key, o.TimeColumn)
	}
	rowGroups, err := pruneRowGroups(cached, tsFile[0], o.Range, fileSchema, o.Filters)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("sst: %s: %w", key, err)
	}
	s.RowGroups, s.TotalRowGroups = len(rowGroups), pf.NumRowGroups()
	if len(rowGroups) == 0 || len(s.fileCols) == 0 {
		s.done = true
		return s, nil
	}
	s.rr, err = fr.GetRecordReader(ctx, s.fileCols, rowGroups)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("sst: read %s: %w", key, err)
	}
	return s, nil
}

// storedAsInt reports whether a double column of the table is stored as
// integers in the file (format 1, see IntegralColumns).
func storedAsInt(stored, want arrow.Field) bool {
	return want.Type.ID() == arrow.FLOAT64 && stored.Type.ID() == arrow.INT64
}

// pruneRowGroups returns the row groups whose timestamp statistics overlap
// r and whose column statistics and bloom filters do not rule out a
// filter.
func pruneRowGroups(e *metaEntry, tsCol int, r TimeRange, fileSchema *arrow.Schema, filters []Filter) ([]int, error) {
	md, filtersOf := e.md, e.filters
	type colFilter struct {
		col     int
		f       Filter
		asFloat bool // a double column stored as integers
		bloom   bool // string equality, which a tag filter can rule out
	}
	var cfs []colFilter
	for _, f := range filters {
		if idx := fileSchema.FieldIndices(f.Column); len(idx) > 0 {
			cf := colFilter{col: idx[0], f: f, bloom: f.Op == Eq || f.Op == In}
			for _, v := range f.Values {
				if _, ok := v.(float64); ok && fileSchema.Field(idx[0]).Type.ID() == arrow.INT64 {
					cf.asFloat = true
				}
				if _, ok := v.(string); !ok {
					cf.bloom = false
				}
			}
			cfs = append(cfs, cf)
		}
	}
	var out []int
next:
	for i := 0; i < md.NumRowGroups(); i++ {
		stats, err := e.stat(i, tsCol)
		if err != nil {
			return nil, err
		}
		if st, ok := stats.(*metadata.Int64Statistics); ok && st != nil && st.HasMinMax() {
			if !r.Overlaps(st.Min(), st.Max()) {
				continue
			}
		}
		for _, cf := range cfs {
			stats, err := e.stat(i, cf.col)
			if err != nil {
				return nil, err
			}
			if rules(stats, cf.f, cf.asFloat) {
				continue next
			}
			if cf.bloom && filtersOf != nil && !filtersOf.mayContain(cf.f.Column, i, cf.f.Values) {
				continue next
			}
		}
		out = append(out, i)
	}
	return out, nil
}

// rules reports whether statistics prove that no row of a row group
// passes a filter. asFloat compares the integer statistics of a double
// column stored as integers with the filter's doubles.
func rules(stats metadata.TypedStatistics, f Filter, asFloat bool) bool {
	if stats == nil || !stats.HasMinMax() {
		return false
	}
	var lo, hi any
	switch st := stats.(type) {
	case *metadata.Int64Statistics:
		lo, hi = st.Min(), st.Max()
		if asFloat {
			lo, hi = float64(st.Min()), float64(st.Max())
		}
	case *metadata.Int32Statistics:
		lo, hi = int64(st.Min()), int64(st.Max())
	case *metadata.Float64Statistics:
		lo, hi = st.Min(), st.Max()
	case *metadata.ByteArrayStatistics:
		lo, hi = string(st.Min()), string(st.Max())
	default:
		return false
	}
	outside := func(v any) bool { // v < lo || v > hi
		return less(v, lo) || less(hi, v)
	}
	v := f.Values[0]
	switch f.Op {
	case Eq:
		return outside(v)
	case In:
		for _, v := range f.Values {
			if !outside(v) {
				return false
			}
		}
		return true
	case Lt:
		return !less(lo, v) // lo >= v
	case LtEq:
		return less(v, lo) // lo > v
	case Gt:
		return !less(v, hi) // hi <= v
	case GtEq:
		return less(hi, v) // hi < v
	}
	return false
}

// less compares two values of the same Go type; mismatched types compare
// as not less, so nothing is pruned on a type confusion.
func less(a, b any) bool {
	switch x := a.(type) {
	case int64:
		y, ok := b.(int64)
		return ok && x < y
	case float64:
		y, ok := b.(float64)
		return ok && x < y
	case string:
		y, ok := b.(string)
		return ok && x < y
	}
	return false
}

// Stream yields the rows of one SST; it implements merge.Stream.
type Stream struct {
	pf       *file.Reader
	rr       pqarrow.RecordReader
	want     *arrow.Schema
	o        ReadOptions
	fileCols []int // file columns read, in output order
	outCols  []int // their positions in the output
	missing  []int // output positions filled with nulls
	tsCol    int   // position of the timestamp among fileCols
	integral []int // positions among fileCols of doubles stored as integers
	done     bool

	// RowGroups and TotalRowGroups count the row groups read and present,
	// for EXPLAIN ANALYZE.
	RowGroups, TotalRowGroups int
}

// Next implements merge.Stream.
func (s *Stream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for !s.done {
		if !s.rr.Next() {
			s.done = true
			if err := s.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("sst: read: %w", err)
			}
			break
		}
		rec := s.rr.RecordBatch()
		out, err := s.shape(ctx, rec)
		if err != nil {
			return nil, err
		}
		if out != nil {
			return out, nil
		}
	}
	return nil, io.EOF
}

// shape filters rec to the time range and arranges its columns as wanted;
// it returns nil when no row is in range.
func (s *Stream) shape(ctx context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	sel, err := merge.FilterTime(ctx, rec, s.tsCol, s.o.Range.Start, s.o.Range.End, s.o.Mem)
	if err != nil || sel == nil {
		return nil, err
	}
	defer sel.Release()
	n := sel.NumRows()
	cols := make([]arrow.Array, len(s.want.Fields()))
	for i, out := range s.outCols {
		cols[out] = sel.Column(i)
		cols[out].Retain()
	}
	for _, i := range s.integral {
		out := s.outCols[i]
		f := toFloat64(cols[out].(*array.Int64), s.o.Mem)
		cols[out].Release()
		cols[out] = f
	}
	for _, m := range s.missing {
		cols[m] = array.MakeArrayOfNull(s.o.Mem, s.want.Field(m).Type, int(n))
	}
	out := array.NewRecordBatch(s.want, cols, n)
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

// Close implements merge.Stream.
func (s *Stream) Close() {
	if s.rr != nil {
		s.rr.Release()
		s.rr = nil
	}
	if s.pf != nil {
		s.pf.Close()
		s.pf = nil
	}
}
