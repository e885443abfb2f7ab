package exec

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/horaego/horaedb/query/internal/expr"
)

// JoinKind is the kind of a join.
type JoinKind uint8

// Join kinds.
const (
	InnerJoin JoinKind = iota
	LeftJoin
)

// HashJoin joins its left input with its right input on equal keys (a hash
// table of the right input; no keys: every pair, a cross join). A residual
// predicate, evaluated on the joined row, must hold too. A left join keeps
// left rows without a match, with NULLs on the right.
type HashJoin struct {
	Left, Right         Operator
	LeftKeys, RightKeys []expr.Expr
	Residual            expr.Expr
	Kind                JoinKind
	C                   *expr.Ctx
	// MaxPairs bounds the rows one left batch may produce; 0 means no
	// bound.
	MaxPairs int

	schema *arrow.Schema
	built  bool
	right  arrow.RecordBatch
	table  map[string][]int32
}

// NewHashJoin builds a join; its output has the left columns, then the
// right ones.
func NewHashJoin(left, right Operator, lk, rk []expr.Expr, residual expr.Expr, kind JoinKind, c *expr.Ctx) *HashJoin {
	fields := append([]arrow.Field(nil), left.Schema().Fields()...)
	for _, f := range right.Schema().Fields() {
		f.Nullable = true
		fields = append(fields, f)
	}
	return &HashJoin{Left: left, Right: right, LeftKeys: lk, RightKeys: rk, Residual: residual, Kind: kind, C: c,
		schema: arrow.NewSchema(fields, nil)}
}

// Schema implements Operator.
func (j *HashJoin) Schema() *arrow.Schema { return j.schema }

// Close implements Operator.
func (j *HashJoin) Close() {
	j.Left.Close()
	j.Right.Close()
	if j.right != nil {
		j.right.Release()
		j.right = nil
	}
}

func (j *HashJoin) build(ctx context.Context) error {
	j.built = true
	var recs []arrow.RecordBatch
	for {
		rec, err := j.Right.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		recs = append(recs, rec)
	}
	all, err := Concat(j.Right.Schema(), recs, j.C)
	for _, r := range recs {
		r.Release()
	}
	if err != nil {
		return err
	}
	j.right = all
	if err := j.C.Reserve(expr.RecordBytes(all)); err != nil {
		return err
	}
	if len(j.RightKeys) == 0 {
		return nil
	}
	keys, err := evalAll(j.C, all, j.RightKeys)
	if err != nil {
		return err
	}
	defer releaseAll(keys)
	j.table = map[string][]int32{}
	var buf []byte
	for r := 0; r < int(all.NumRows()); r++ {
		var ok bool
		if buf, ok = joinKey(buf[:0], keys, r); ok {
			j.table[string(buf)] = append(j.table[string(buf)], int32(r))
		}
	}
	return nil
}

func evalAll(c *expr.Ctx, rec arrow.RecordBatch, xs []expr.Expr) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(xs))
	for i, x := range xs {
		a, err := x.Eval(c, rec)
		if err != nil {
			releaseAll(out[:i])
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// joinKey encodes row r's keys; false when one is NULL (NULL never joins).
func joinKey(buf []byte, keys []arrow.Array, r int) ([]byte, bool) {
	for _, k := range keys {
		if expr.IsNullAt(k, r) {
			return buf, false
		}
		buf = appendKey(buf, k, r)
	}
	return buf, true
}

// Next implements Operator.
func (j *HashJoin) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !j.built {
		if err := j.build(ctx); err != nil {
			return nil, err
		}
	}
	for {
		left, err := j.Left.Next(ctx)
		if err != nil {
			return nil, err
		}
		out, err := j.probe(ctx, left)
		left.Release()
		if err != nil {
			return nil, err
		}
		if out.NumRows() > 0 {
			return out, nil
		}
		out.Release()
	}
}

// probe joins one left batch with the right input.
func (j *HashJoin) probe(ctx context.Context, left arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(left.NumRows())
	var li, ri []int32
	if len(j.LeftKeys) == 0 {
		rn := int32(j.right.NumRows())
		for l := 0; l < n; l++ {
			for r := int32(0); r < rn; r++ {
				li, ri = append(li, int32(l)), append(ri, r)
			}
			if j.MaxPairs > 0 && len(li) > j.MaxPairs {
				return nil, expr.Errorf("join produces more than %d rows per batch", j.MaxPairs)
			}
		}
	} else {
		keys, err := evalAll(j.C, left, j.LeftKeys)
		if err != nil {
			return nil, err
		}
		var buf []byte
		for l := 0; l < n; l++ {
			var ok bool
			if buf, ok = joinKey(buf[:0], keys, l); ok {
				for _, r := range j.table[string(buf)] {
					li, ri = append(li, int32(l)), append(ri, r)
				}
			}
		}
		releaseAll(keys)
	}
	if j.Residual != nil && len(li) > 0 {
		pairs, err := j.materialize(ctx, left, li, ri)
		if err != nil {
			return nil, err
		}
		mask, err := j.Residual.Eval(j.C, pairs)
		pairs.Release()
		if err != nil {
			return nil, err
		}
		b, _ := mask.(*array.Boolean)
		keep := 0
		for i := range li {
			if b != nil && !expr.IsNullAt(b, i) && b.Value(i) {
				li[keep], ri[keep] = li[i], ri[i]
				keep++
			}
		}
		mask.Release()
		li, ri = li[:keep], ri[:keep]
	}
	if j.Kind == LeftJoin {
		matched := make([]bool, n)
		for _, l := range li {
			matched[l] = true
		}
		for l := 0; l < n; l++ {
			if !matched[l] {
				li, ri = append(li, int32(l)), append(ri, -1)
			}
		}
	}
	return j.materialize(ctx, left, li, ri)
}

// materialize builds the joined rows: left row li[i] with right row ri[i]
// (-1: NULLs).
func (j *HashJoin) materialize(ctx context.Context, left arrow.RecordBatch, li, ri []int32) (arrow.RecordBatch, error) {
	lb := array.NewInt32Builder(j.C.Mem)
	lb.AppendValues(li, nil)
	lidx := lb.NewArray()
	lb.Release()
	defer lidx.Release()
	rb := array.NewInt32Builder(j.C.Mem)
	for _, r := range ri {
		if r < 0 {
			rb.AppendNull()
		} else {
			rb.Append(r)
		}
	}
	ridx := rb.NewArray()
	rb.Release()
	defer ridx.Release()
	cctx := compute.WithAllocator(ctx, j.C.Mem)
	cols := make([]arrow.Array, 0, len(j.schema.Fields()))
	take := func(rec arrow.RecordBatch, idx arrow.Array) error {
		for c := 0; c < int(rec.NumCols()); c++ {
			col, err := compute.TakeArray(cctx, rec.Column(c), idx)
			if err != nil {
				return err
			}
			cols = append(cols, col)
		}
		return nil
	}
	if err := take(left, lidx); err != nil {
		releaseAll(cols)
		return nil, err
	}
	if err := take(j.right, ridx); err != nil {
		releaseAll(cols)
		return nil, err
	}
	out := array.NewRecordBatch(j.schema, cols, int64(len(li)))
	releaseAll(cols)
	return out, nil
}
