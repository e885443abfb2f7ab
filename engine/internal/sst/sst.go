// Package sst writes and reads a table's sorted string tables: Parquet files
// in object storage holding rows sorted by primary key, each with its
// sequence number. Readers prune row groups by time range and read only the
// columns a scan needs. The format is documented in engine/docs/format/sst.md.
package sst

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/horaego/horaedb/engine/internal/merge"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/objstore"
)

// FormatVersion is the version of the SSTs this package writes, recorded
// in Meta.Format: 0 was the first; 1 delta-encodes timestamps and
// sequences, stores integral double columns as INT64 (listing the others
// in Meta.Float) and adds bloom filters to tag columns. Readers read both.
const FormatVersion = 1

// Meta describes one SST; the manifest records it.
type Meta struct {
	ID            uint64 `json:"id"`
	Size          int64  `json:"size"`
	Rows          int64  `json:"rows"`
	MinTime       int64  `json:"min_time"` // milliseconds, inclusive
	MaxTime       int64  `json:"max_time"` // milliseconds, inclusive
	MinSeq        uint64 `json:"min_seq"`
	MaxSeq        uint64 `json:"max_seq"`
	SchemaVersion uint32 `json:"schema_version"`
	// Format is the FormatVersion the file was written with.
	Format int `json:"format,omitempty"`
	// Float lists the double columns stored as doubles because some value
	// is not an integer; the file stores its other double columns as
	// INT64. Meaningful from format 1.
	Float []string `json:"float,omitempty"`
}

// TimeRange is a half-open range [Start, End) of milliseconds.
type TimeRange struct {
	Start, End int64
}

// Overlaps reports whether [lo, hi] (inclusive) intersects r.
func (r TimeRange) Overlaps(lo, hi int64) bool { return hi >= r.Start && lo < r.End }

// WriteOptions configure the Parquet encoding.
type WriteOptions struct {
	// Compression is the table option: UNCOMPRESSED, LZ4, SNAPPY or ZSTD.
	Compression string
	// RowGroupRows is the number of rows per row group.
	RowGroupRows int
	// Integral names double columns whose values are all integers (see
	// IntegralColumns, IntegralAfterMerge), stored as INT64. A value that
	// is not an integer fails the write rather than lose precision.
	Integral map[string]bool
	Mem      memory.Allocator
}

func codec(name string) compress.Compression {
	switch name {
	case "UNCOMPRESSED":
		return compress.Codecs.Uncompressed
	case "LZ4":
		return compress.Codecs.Lz4Raw
	case "SNAPPY":
		return compress.Codecs.Snappy
	}
	return compress.Codecs.Zstd
}

// Writer builds one SST from sorted records; nothing is stored until
// Finish.
type Writer struct {
	w        *pqarrow.FileWriter
	buf      bytes.Buffer
	meta     Meta
	sch      *schema.Schema
	stored   *arrow.Schema // InternalArrowSchema with integral doubles as int64
	integral []int         // their column indices
	filters  *filterBuilder
	mem      memory.Allocator
}

// NewWriter starts an SST of records with the columns of
// sch.InternalArrowSchema().
func NewWriter(sch *schema.Schema, o WriteOptions) (*Writer, error) {
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = 8192
	}
	wr := &Writer{sch: sch, meta: Meta{SchemaVersion: sch.Version, Format: FormatVersion}, mem: o.Mem}
	fields := slices.Clone(sch.InternalArrowSchema().Fields())
	for i, c := range sch.Columns {
		if c.Kind != schema.Double {
			continue
		}
		if o.Integral[c.Name] {
			fields[i].Type = arrow.PrimitiveTypes.Int64
			wr.integral = append(wr.integral, i)
		} else {
			wr.meta.Float = append(wr.meta.Float, c.Name)
		}
	}
	wr.stored = arrow.NewSchema(fields, nil)
	var tagCols []int
	var tagNames []string
	for i, c := range sch.Columns {
		if c.IsTag && c.Kind == schema.String {
			tagCols, tagNames = append(tagCols, i), append(tagNames, c.Name)
		}
	}
	if len(tagCols) > 0 {
		wr.filters = newFilterBuilder(tagCols, tagNames, o.RowGroupRows)
	}
	w, err := pqarrow.NewFileWriter(wr.stored, &wr.buf, writerProperties(sch, wr.integral, o),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(o.Mem)))
	if err != nil {
		return nil, fmt.Errorf("sst: new writer: %w", err)
	}
	wr.w = w
	return wr, nil
}

// Write appends sorted rows; they must sort after the rows written before.
func (w *Writer) Write(rec arrow.RecordBatch) error {
	if rec.NumRows() == 0 {
		return nil
	}
	w.meta.observe(rec, w.sch.TimestampIndex, len(w.sch.Columns))
	if w.filters != nil {
		w.filters.add(rec)
	}
	if len(w.integral) > 0 {
		cols := slices.Clone(rec.Columns())
		for _, i := range w.integral {
			a, err := toInt64(cols[i].(*array.Float64), w.mem)
			if err != nil {
				for _, j := range w.integral {
					if j < i {
						cols[j].Release()
					}
				}
				return fmt.Errorf("%w (column %s)", err, w.sch.Columns[i].Name)
			}
			cols[i] = a
		}
		rec = array.NewRecordBatch(w.stored, cols, rec.NumRows())
		for _, i := range w.integral {
			cols[i].Release()
		}
		defer rec.Release()
	}
	if err := w.w.WriteBuffered(rec); err != nil {
		return fmt.Errorf("sst: write: %w", err)
	}
	return nil
}

// Rows returns the number of rows written so far.
func (w *Writer) Rows() int64 { return w.meta.Rows }

// Finish closes the file and stores it at key, unless it is empty. It
// returns the file's metadata with ID left zero.
func (w *Writer) Finish(ctx context.Context, bucket objstore.Bucket, key string) (Meta, error) {
	if w.filters != nil && w.meta.Rows > 0 {
		groups := int((w.meta.Rows + int64(w.filters.groupLen) - 1) / int64(w.filters.groupLen))
		v, err := w.filters.encode(groups)
		if err != nil {
			w.Abort()
			return Meta{}, err
		}
		if err := w.w.AppendKeyValueMetadata(tagFilterKey, v); err != nil {
			w.Abort()
			return Meta{}, fmt.Errorf("sst: tag filters: %w", err)
		}
	}
	if err := w.w.Close(); err != nil {
		return Meta{}, fmt.Errorf("sst: close writer: %w", err)
	}
	if md, err := w.w.FileMetadata(); err == nil && w.filters != nil && w.meta.Rows > 0 &&
		md.NumRowGroups() != len(w.filters.done[0]) {
		return Meta{}, fmt.Errorf("sst: %d row groups written, tag filters for %d", md.NumRowGroups(), len(w.filters.done[0]))
	}
	if w.meta.Rows == 0 {
		return w.meta, nil
	}
	w.meta.Size = int64(w.buf.Len())
	if err := bucket.Put(ctx, key, w.buf.Bytes()); err != nil {
		return Meta{}, err
	}
	return w.meta, nil
}

// Abort drops a writer without storing anything.
func (w *Writer) Abort() { _ = w.w.Close() }

// Write drains in, a sorted stream of records with the columns of
// sch.InternalArrowSchema(), into one SST stored at key. It returns the
// file's metadata with ID left zero. An empty stream writes nothing and
// returns Rows == 0.
func Write(ctx context.Context, bucket objstore.Bucket, key string, sch *schema.Schema, in merge.Stream, o WriteOptions) (Meta, error) {
	defer in.Close()
	w, err := NewWriter(sch, o)
	if err != nil {
		return Meta{}, err
	}
	for {
		rec, err := in.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.Abort()
			return Meta{}, err
		}
		err = w.Write(rec)
		rec.Release()
		if err != nil {
			w.Abort()
			return Meta{}, err
		}
	}
	return w.Finish(ctx, bucket, key)
}

// writerProperties are the Parquet settings of an SST: the table's
// compression, its row group size, statistics for every column; timestamps,
// sequences, integer fields and integral doubles delta-encoded (they change little from
// row to row within a series); tags dictionary-encoded (Parquet's default);
// tag filters (tagfilter.go) in the footer.
func writerProperties(sch *schema.Schema, integral []int, o WriteOptions) *parquet.WriterProperties {
	props := []parquet.WriterProperty{
		parquet.WithAllocator(o.Mem),
		parquet.WithCompression(codec(o.Compression)),
		parquet.WithMaxRowGroupLength(int64(o.RowGroupRows)),
		parquet.WithStats(true),
		parquet.WithCreatedBy("horaedb-go"),
	}
	delta := func(name string) {
		props = append(props, parquet.WithDictionaryFor(name, false),
			parquet.WithEncodingFor(name, parquet.Encodings.DeltaBinaryPacked))
	}
	delta(sch.Timestamp().Name)
	delta(schema.SeqColumn)
	for _, i := range integral {
		delta(sch.Columns[i].Name)
	}
	for i, c := range sch.Columns {
		switch {
		case c.IsTag || i == sch.TsidIndex || slices.Contains(integral, i):
		case c.Kind.IsSigned() || c.Kind.IsUnsigned(): // counters and gauges
			delta(c.Name)
		case c.Kind == schema.Double || c.Kind == schema.Float:
			// Measured floats rarely repeat, so a dictionary rarely pays;
			// and Parquet's dictionary treats every NaN as one, which would
			// turn Prometheus' stale marker (a NaN with its own bits) into
			// a plain NaN. Byte-stream split keeps every bit and lets zstd
			// see the slowly changing exponent bytes together.
			props = append(props, parquet.WithDictionaryFor(c.Name, false),
				parquet.WithEncodingFor(c.Name, parquet.Encodings.ByteStreamSplit))
		}
	}
	return parquet.NewWriterProperties(props...)
}

func (m *Meta) observe(rec arrow.RecordBatch, tsIdx, seqIdx int) {
	ts := rec.Column(tsIdx).(*array.Timestamp).TimestampValues()
	seq := rec.Column(seqIdx).(*array.Uint64).Uint64Values()
	if m.Rows == 0 {
		m.MinTime, m.MaxTime = int64(ts[0]), int64(ts[0])
		m.MinSeq, m.MaxSeq = seq[0], seq[0]
	}
	for _, v := range ts {
		m.MinTime, m.MaxTime = min(m.MinTime, int64(v)), max(m.MaxTime, int64(v))
	}
	for _, v := range seq {
		m.MinSeq, m.MaxSeq = min(m.MinSeq, v), max(m.MaxSeq, v)
	}
	m.Rows += rec.NumRows()
}
