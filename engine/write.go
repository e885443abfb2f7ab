package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine/internal/merge"
	"github.com/horaego/horaedb/engine/internal/payload"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/wal"
)

// Write applies the rows of rec to the table and returns how many were
// written. rec's columns are matched to the table's by name; it need not
// contain every column: missing nullable columns are null. It must not
// contain tsid (the engine computes it). The write is all or nothing: it
// returns only after the rows are durable in the WAL, and on error nothing
// of it is visible, now or after a restart.
func (t *Table) Write(ctx context.Context, rec arrow.RecordBatch) (int, error) {
	if rec.NumRows() == 0 {
		return 0, nil
	}
	start := time.Now()
	if err := t.e.admit(ctx); err != nil {
		return 0, err
	}
	s := t.Schema()
	full, err := conform(s, rec, t.e.o.Mem)
	if err != nil {
		return 0, fmt.Errorf("%w: table %s: %v", ErrInvalidWrite, t.Name(), err)
	}
	defer full.Release()
	sorted, err := merge.SortBatch(full, s.NumKeys, t.Options().NeedDedup(), t.e.o.Mem)
	if err != nil {
		return 0, fmt.Errorf("engine: sort batch: %w", err)
	}
	defer sorted.Release()
	data := payload.Encode(nil, s, sorted)

	t.writeMu.RLock()
	if t.dropped.Load() {
		t.writeMu.RUnlock()
		return 0, fmt.Errorf("%w: %s (dropped)", ErrTableNotFound, t.Name())
	}
	if t.Schema() != s { // altered since we validated; rare, retry
		t.writeMu.RUnlock()
		return t.Write(ctx, rec)
	}
	seq, err := t.log.Append(ctx, []wal.Entry{{TableID: t.ID(), Payload: data}})
	if err != nil {
		t.writeMu.RUnlock()
		return 0, fmt.Errorf("engine: table %s: %w", t.Name(), err)
	}
	run := appendSeqColumn(sorted, seq, t.e.o.Mem)
	t.version().mutable.Insert(run, seq)
	if s.TsidIndex >= 0 {
		t.latest.observe(s, sorted)
	}
	t.writeMu.RUnlock()
	run.Release()

	t.e.metrics.writeRows.Add(float64(rec.NumRows()))
	t.e.metrics.writeBatches.Inc()
	t.e.metrics.writeDuration.Observe(time.Since(start).Seconds())
	if t.needFlush() {
		t.scheduleFlush()
	}
	if t.e.overBudget() {
		t.e.relieve(false)
	}
	return int(rec.NumRows()), nil
}

// conform returns rec as a record with every column of s in order: columns
// matched by name and type checked, missing ones null (or an error when not
// nullable), the timestamp required and non-null, tsid computed.
func conform(s *schema.Schema, rec arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	cols := make([]arrow.Array, len(s.Columns))
	release := func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}
	for i, f := range rec.Schema().Fields() {
		idx := s.Index(f.Name)
		switch {
		case f.Name == schema.TsidColumn && s.TsidIndex >= 0:
			release()
			return nil, fmt.Errorf("column tsid is computed by the server and cannot be written")
		case idx < 0:
			release()
			return nil, fmt.Errorf("unknown column %s", f.Name)
		case cols[idx] != nil:
			release()
			return nil, fmt.Errorf("column %s given twice", f.Name)
		}
		c := s.Columns[idx]
		if !arrow.TypeEqual(f.Type, c.Kind.ArrowType()) {
			release()
			return nil, fmt.Errorf("column %s has type %s, got a value of type %s", c.Name, c.Kind, f.Type)
		}
		arr := rec.Column(i)
		if arr.NullN() > 0 && (!c.Nullable || idx == s.TimestampIndex) {
			release()
			return nil, fmt.Errorf("column %s cannot be null", c.Name)
		}
		arr.Retain()
		cols[idx] = arr
	}
	for i, c := range s.Columns {
		if cols[i] != nil || i == s.TsidIndex {
			continue
		}
		if i == s.TimestampIndex {
			release()
			return nil, fmt.Errorf("missing timestamp column %s", c.Name)
		}
		if !c.Nullable {
			release()
			return nil, fmt.Errorf("missing value for column %s, which is NOT NULL", c.Name)
		}
		cols[i] = array.MakeArrayOfNull(mem, c.Kind.ArrowType(), n)
	}
	if s.TsidIndex >= 0 {
		// Hash over a record whose tag columns are in place.
		tmp := make([]arrow.Array, len(cols))
		copy(tmp, cols)
		tmp[s.TsidIndex] = array.MakeArrayOfNull(mem, arrow.PrimitiveTypes.Uint64, n)
		view := array.NewRecordBatch(s.ArrowSchema(), tmp, int64(n))
		tmp[s.TsidIndex].Release()
		h := schema.NewTsidHasher(s, view)
		b := array.NewUint64Builder(mem)
		b.Reserve(n)
		for r := 0; r < n; r++ {
			b.UnsafeAppend(h.Tsid(r))
		}
		cols[s.TsidIndex] = b.NewUint64Array()
		b.Release()
		view.Release()
	}
	out := array.NewRecordBatch(s.ArrowSchema(), cols, int64(n))
	release()
	return out, nil
}

// appendSeqColumn returns rec with a sequence column of value seq appended.
func appendSeqColumn(rec arrow.RecordBatch, seq uint64, mem memory.Allocator) arrow.RecordBatch {
	n := int(rec.NumRows())
	b := array.NewUint64Builder(mem)
	b.Reserve(n)
	for i := 0; i < n; i++ {
		b.UnsafeAppend(seq)
	}
	seqArr := b.NewUint64Array()
	b.Release()
	fields := append(append([]arrow.Field(nil), rec.Schema().Fields()...),
		arrow.Field{Name: schema.SeqColumn, Type: arrow.PrimitiveTypes.Uint64})
	cols := append(append([]arrow.Array(nil), rec.Columns()...), seqArr)
	out := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
	seqArr.Release()
	return out
}
