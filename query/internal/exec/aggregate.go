package exec

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/query/internal/expr"
)

// Aggregate groups its input by key expressions and folds each group with
// aggregate functions. Its output has the key columns, then one column per
// aggregate. Without keys it yields exactly one row.
type Aggregate struct {
	Input  Operator
	Keys   []expr.Expr
	Aggs   []*expr.Agg
	C      *expr.Ctx
	schema *arrow.Schema
	done   bool
}

// NewAggregate builds an aggregation with the given output names (keys
// first).
func NewAggregate(in Operator, keys []expr.Expr, aggs []*expr.Agg, names []string, c *expr.Ctx) *Aggregate {
	fields := make([]arrow.Field, 0, len(keys)+len(aggs))
	for i, k := range keys {
		fields = append(fields, arrow.Field{Name: names[i], Type: k.Type(), Nullable: true})
	}
	for i, a := range aggs {
		fields = append(fields, arrow.Field{Name: names[len(keys)+i], Type: a.Type(), Nullable: true})
	}
	return &Aggregate{Input: in, Keys: keys, Aggs: aggs, C: c, schema: arrow.NewSchema(fields, nil)}
}

// Schema implements Operator.
func (a *Aggregate) Schema() *arrow.Schema { return a.schema }

// Close implements Operator.
func (a *Aggregate) Close() { a.Input.Close() }

// aggTable is the state of a hash aggregation: the groups found, their
// key values, and the accumulators.
type aggTable struct {
	groups    map[string]uint32
	keyRows   [][]expr.Scalar
	accs      []expr.Accumulator
	buf       []byte
	newGroups int // since the last charge to the budget
}

func (a *Aggregate) newTable() *aggTable {
	t := &aggTable{groups: map[string]uint32{}, accs: make([]expr.Accumulator, len(a.Aggs))}
	for i, ag := range a.Aggs {
		t.accs[i] = ag.NewAccumulator()
	}
	if len(a.Keys) == 0 {
		t.keyRows = append(t.keyRows, nil) // the single group
	}
	return t
}

// group returns the group of the given key (encoded in t.buf), adding it.
func (t *aggTable) group(keys []arrow.Array, r int) uint32 {
	g, ok := t.groups[string(t.buf)]
	if !ok {
		t.newGroups++
		g = uint32(len(t.keyRows))
		t.groups[string(t.buf)] = g
		row := make([]expr.Scalar, len(keys))
		for i, k := range keys {
			row[i] = expr.ScalarAt(k, r)
		}
		t.keyRows = append(t.keyRows, row)
	}
	return g
}

// consume folds all of the input into a table.
func (a *Aggregate) consume(ctx context.Context) (*aggTable, error) {
	t := a.newTable()
	for {
		rec, err := a.Input.Next(ctx)
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, err
		}
		err = a.fold(t, rec)
		rec.Release()
		if err != nil {
			return nil, err
		}
	}
}

func (a *Aggregate) fold(t *aggTable, rec arrow.RecordBatch) error {
	n := int(rec.NumRows())
	gids := make([]uint32, n)
	if len(a.Keys) > 0 {
		keys, err := evalAll(a.C, rec, a.Keys)
		if err != nil {
			return err
		}
		for r := 0; r < n; r++ {
			t.buf = t.buf[:0]
			for _, k := range keys {
				t.buf = appendKey(t.buf, k, r)
			}
			gids[r] = t.group(keys, r)
		}
		releaseAll(keys)
	}
	// A group costs its map entry, key values and accumulator states.
	cost := int64(t.newGroups) * int64(96+len(t.buf)+48*len(a.Aggs))
	t.newGroups = 0
	for _, ag := range a.Aggs {
		if ag.Buffers() {
			cost += int64(n) * 16 // every value is kept
		}
	}
	if err := a.C.Reserve(cost); err != nil {
		return err
	}
	for i, ag := range a.Aggs {
		args, err := evalAll(a.C, rec, ag.Args)
		if err != nil {
			return err
		}
		t.accs[i].Update(gids, args, n, len(t.keyRows))
		releaseAll(args)
	}
	return nil
}

// merge folds a partial table into t.
func (a *Aggregate) merge(t, part *aggTable) {
	for _, acc := range part.accs {
		acc.Update(nil, nil, 0, len(part.keyRows)) // groups that saw no row
	}
	for sg, row := range part.keyRows {
		dg := uint32(0)
		if len(a.Keys) > 0 {
			t.buf = t.buf[:0]
			for _, v := range row {
				t.buf = appendScalarKey(t.buf, v)
			}
			if g, ok := t.groups[string(t.buf)]; ok {
				dg = g
			} else {
				dg = uint32(len(t.keyRows))
				t.groups[string(t.buf)] = dg
				t.keyRows = append(t.keyRows, row)
			}
		}
		for i, acc := range t.accs {
			acc.Merge(dg, part.accs[i], uint32(sg), len(t.keyRows))
		}
	}
}

// output turns a table into the result record.
func (a *Aggregate) output(t *aggTable) arrow.RecordBatch {
	numGroups := len(t.keyRows)
	cols := make([]arrow.Array, 0, len(a.schema.Fields()))
	for i, k := range a.Keys {
		b := array.NewBuilder(a.C.Mem, k.Type())
		for _, row := range t.keyRows {
			row[i].Append(b)
		}
		cols = append(cols, b.NewArray())
		b.Release()
	}
	for _, acc := range t.accs {
		acc.Update(nil, nil, 0, numGroups) // groups that never saw a row
		cols = append(cols, acc.Result(a.C))
	}
	out := array.NewRecordBatch(a.schema, cols, int64(numGroups))
	releaseAll(cols)
	return out
}

// Next implements Operator.
func (a *Aggregate) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if a.done {
		return nil, io.EOF
	}
	a.done = true
	var t *aggTable
	var err error
	if g, ok := a.Input.(*Gather); ok && len(g.Ins) > 1 {
		t, err = a.parallel(ctx, g)
	} else {
		t, err = a.consume(ctx)
	}
	if err != nil {
		return nil, err
	}
	return a.output(t), nil
}

// parallel aggregates each input of a Gather in its own goroutine (the
// partial step), then merges the partial tables (the final step).
func (a *Aggregate) parallel(ctx context.Context, g *Gather) (*aggTable, error) {
	parts := make([]*aggTable, len(g.Ins))
	errs := make([]error, len(g.Ins))
	var wg sync.WaitGroup
	for i, in := range g.Ins {
		wg.Add(1)
		go func(i int, in Operator) {
			defer wg.Done()
			p := &Aggregate{Input: in, Keys: a.Keys, Aggs: a.Aggs, C: a.C, schema: a.schema}
			parts[i], errs[i] = p.consume(ctx)
		}(i, in)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t := parts[0]
	for _, p := range parts[1:] {
		a.merge(t, p)
	}
	return t, nil
}

func releaseAll(as []arrow.Array) {
	for _, x := range as {
		if x != nil {
			x.Release()
		}
	}
}

// appendKey appends a self-delimiting encoding of row r of arr.
func appendKey(buf []byte, arr arrow.Array, r int) []byte {
	if expr.IsNullAt(arr, r) {
		return append(buf, 0)
	}
	buf = append(buf, 1)
	switch a := arr.(type) {
	case *array.Int64:
		return binary.LittleEndian.AppendUint64(buf, uint64(a.Value(r)))
	case *array.Uint64:
		return binary.LittleEndian.AppendUint64(buf, a.Value(r))
	case *array.Timestamp:
		return binary.LittleEndian.AppendUint64(buf, uint64(a.Value(r)))
	case *array.Float64:
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(a.Value(r)))
	case *array.String:
		s := a.Value(r)
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		return append(buf, s...)
	case *array.Binary:
		s := a.Value(r)
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		return append(buf, s...)
	}
	return appendScalarKey(buf[:len(buf)-1], expr.ScalarAt(arr, r))
}

// appendScalarKey encodes a value like appendKey encodes an array's row,
// so that a partial table's keys find their groups in the final table.
func appendScalarKey(buf []byte, s expr.Scalar) []byte {
	if s.Null {
		return append(buf, 0)
	}
	buf = append(buf, 1)
	switch s.Type.ID() {
	case arrow.INT64, arrow.TIMESTAMP:
		return binary.LittleEndian.AppendUint64(buf, uint64(s.I))
	case arrow.UINT64:
		return binary.LittleEndian.AppendUint64(buf, s.U)
	case arrow.FLOAT64:
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(s.F))
	case arrow.STRING, arrow.BINARY:
		buf = binary.AppendUvarint(buf, uint64(len(s.S)))
		return append(buf, s.S...)
	}
	buf = binary.LittleEndian.AppendUint64(buf, uint64(s.I))
	buf = binary.LittleEndian.AppendUint64(buf, s.U)
	buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(s.F))
	if s.Bool {
		buf = append(buf, 1)
	}
	buf = binary.AppendUvarint(buf, uint64(len(s.S)))
	return append(buf, s.S...)
}
