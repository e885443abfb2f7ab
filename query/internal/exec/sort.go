package exec

import (
	"cmp"
	"context"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/horaego/horaedb/query/internal/expr"
)

// SortKey is one ORDER BY item.
type SortKey struct {
	Expr expr.Expr
	Desc bool
	// NullsFirst places NULLs first; the SQL default is NULLS LAST for
	// ascending and NULLS FIRST for descending keys.
	NullsFirst bool
}

// Sort orders its whole input by keys. With Limit > 0 it keeps only the
// first Limit rows (top-k): memory stays proportional to Limit, not to the
// input.
type Sort struct {
	Input Operator
	Keys  []SortKey
	C     *expr.Ctx
	Limit int64
	out   arrow.RecordBatch
	pos   int64
	ready bool
}

const outBatch = 8192

// Schema implements Operator.
func (s *Sort) Schema() *arrow.Schema { return s.Input.Schema() }

// Close implements Operator.
func (s *Sort) Close() {
	s.Input.Close()
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
}

// Next implements Operator.
func (s *Sort) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !s.ready {
		s.ready = true
		if err := s.sort(ctx); err != nil {
			return nil, err
		}
	}
	if s.out == nil || s.pos >= s.out.NumRows() {
		return nil, io.EOF
	}
	end := min(s.pos+outBatch, s.out.NumRows())
	rec := s.out.NewSlice(s.pos, end)
	s.pos = end
	return rec, nil
}

func (s *Sort) sort(ctx context.Context) error {
	var recs []arrow.RecordBatch // rows held, not yet sorted
	var held int64
	var best arrow.RecordBatch // top-k: the best Limit rows so far, sorted
	var bestKeys []arrow.Array
	release := func() {
		for _, r := range recs {
			s.C.Release(expr.RecordBytes(r))
			r.Release()
		}
		recs, held = nil, 0
	}
	defer func() {
		release()
		releaseAll(bestKeys)
	}()
	for {
		rec, err := s.Input.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if best != nil && best.NumRows() == s.Limit {
			// Keep only the rows that beat the current k-th row.
			if rec, err = s.beating(ctx, rec, bestKeys); err != nil {
				return err
			}
			if rec == nil {
				continue
			}
		}
		if err := s.C.Reserve(expr.RecordBytes(rec)); err != nil {
			rec.Release()
			return err
		}
		recs = append(recs, rec)
		held += rec.NumRows()
		if s.Limit > 0 && held >= s.Limit+outBatch {
			if best != nil {
				recs = append(recs, best) // charged when it was made
			}
			nb, err := s.sorted(ctx, recs)
			if best != nil {
				recs = recs[:len(recs)-1]
				s.C.Release(expr.RecordBytes(best))
				best.Release()
			}
			release()
			if err != nil {
				return err
			}
			best = nb
			if err := s.C.Reserve(expr.RecordBytes(best)); err != nil {
				return err
			}
			releaseAll(bestKeys)
			if bestKeys, err = evalAll(s.C, best, sortExprs(s.Keys)); err != nil {
				return err
			}
		}
	}
	if best != nil {
		recs = append(recs, best)
	}
	out, err := s.sorted(ctx, recs)
	s.out = out
	return err
}

func sortExprs(keys []SortKey) []expr.Expr {
	out := make([]expr.Expr, len(keys))
	for i, k := range keys {
		out[i] = k.Expr
	}
	return out
}

// beating returns the rows of rec that sort before the last row of the
// current top-k (nil when none does); rec is consumed.
func (s *Sort) beating(ctx context.Context, rec arrow.RecordBatch, bestKeys []arrow.Array) (arrow.RecordBatch, error) {
	keys, err := evalAll(s.C, rec, sortExprs(s.Keys))
	if err != nil {
		rec.Release()
		return nil, err
	}
	defer releaseAll(keys)
	last := bestKeys[0].Len() - 1
	n := int(rec.NumRows())
	mask := make([]bool, n)
	kept := 0
	for i := 0; i < n; i++ {
		for k := range keys {
			c := crossCompare(keys[k], i, bestKeys[k], last, s.Keys[k])
			if c != 0 {
				mask[i] = c < 0
				break
			}
		}
		if mask[i] {
			kept++
		}
	}
	switch kept {
	case 0:
		rec.Release()
		return nil, nil
	case n:
		return rec, nil
	}
	m := expr.NewBool(s.C.Mem, mask, nil)
	defer m.Release()
	out, err := compute.FilterRecordBatch(compute.WithAllocator(ctx, s.C.Mem), rec, m, compute.DefaultFilterOptions())
	rec.Release()
	return out, err
}

// crossCompare orders row i of a against row j of b (arrays of one type)
// for a sort key.
func crossCompare(a arrow.Array, i int, b arrow.Array, j int, k SortKey) int {
	an, bn := expr.IsNullAt(a, i), expr.IsNullAt(b, j)
	if an || bn {
		switch {
		case an && bn:
			return 0
		case an == k.NullsFirst:
			return -1
		default:
			return 1
		}
	}
	var r int
	switch x := a.(type) {
	case *array.Float64:
		r = cmp.Compare(x.Value(i), b.(*array.Float64).Value(j))
	case *array.Int64:
		r = cmp.Compare(x.Value(i), b.(*array.Int64).Value(j))
	case *array.Timestamp:
		r = cmp.Compare(x.Value(i), b.(*array.Timestamp).Value(j))
	case *array.String:
		r = strings.Compare(x.Value(i), b.(*array.String).Value(j))
	default:
		sa, sb := expr.ScalarAt(a, i), expr.ScalarAt(b, j)
		switch {
		case sa.U != sb.U:
			r = cmp.Compare(sa.U, sb.U)
		case sa.I != sb.I:
			r = cmp.Compare(sa.I, sb.I)
		case sa.F != sb.F:
			r = cmp.Compare(sa.F, sb.F)
		case sa.S != sb.S:
			r = strings.Compare(sa.S, sb.S)
		case sa.Bool != sb.Bool:
			r = cmp.Compare(b2i(sa.Bool), b2i(sb.Bool))
		}
	}
	if k.Desc {
		return -r
	}
	return r
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sorted concatenates recs and returns their rows in order (only the first
// Limit ones with a limit).
func (s *Sort) sorted(ctx context.Context, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	all, err := Concat(s.Input.Schema(), recs, s.C)
	if err != nil || all.NumRows() == 0 {
		return all, err
	}
	defer all.Release()
	keys := make([]arrow.Array, len(s.Keys))
	for i, k := range s.Keys {
		if keys[i], err = k.Expr.Eval(s.C, all); err != nil {
			releaseAll(keys[:i])
			return nil, err
		}
	}
	defer releaseAll(keys)
	cmps := make([]func(i, j int) int, len(keys))
	for i, k := range keys {
		cmps[i] = comparator(k, s.Keys[i])
	}
	idx := make([]int32, all.NumRows())
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int {
		for _, c := range cmps {
			if r := c(int(a), int(b)); r != 0 {
				return r
			}
		}
		return 0
	})
	if s.Limit > 0 && int64(len(idx)) > s.Limit {
		idx = idx[:s.Limit]
	}
	return Take(ctx, all, idx, s.C)
}

// comparator orders rows of one key column.
func comparator(arr arrow.Array, k SortKey) func(i, j int) int {
	var base func(i, j int) int
	switch a := arr.(type) {
	case *array.String:
		base = func(i, j int) int { return strings.Compare(a.Value(i), a.Value(j)) }
	case *array.Binary:
		base = func(i, j int) int { return strings.Compare(string(a.Value(i)), string(a.Value(j))) }
	case *array.Float64:
		base = func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }
	case *array.Float32:
		base = func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }
	case *array.Uint64, *array.Uint32, *array.Uint16, *array.Uint8:
		base = func(i, j int) int { return cmp.Compare(expr.ScalarAt(arr, i).U, expr.ScalarAt(arr, j).U) }
	case *array.Boolean:
		base = func(i, j int) int {
			x, y := a.Value(i), a.Value(j)
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	case *array.Null:
		base = func(i, j int) int { return 0 }
	default:
		base = func(i, j int) int { return cmp.Compare(expr.ScalarAt(arr, i).I, expr.ScalarAt(arr, j).I) }
	}
	hasNulls := arr.NullN() > 0
	return func(i, j int) int {
		if hasNulls {
			ni, nj := expr.IsNullAt(arr, i), expr.IsNullAt(arr, j)
			if ni || nj {
				switch {
				case ni && nj:
					return 0
				case ni == k.NullsFirst:
					return -1
				default:
					return 1
				}
			}
		}
		r := base(i, j)
		if k.Desc {
			return -r
		}
		return r
	}
}

// Concat joins records of one schema into one.
func Concat(schema *arrow.Schema, recs []arrow.RecordBatch, c *expr.Ctx) (arrow.RecordBatch, error) {
	if len(recs) == 1 {
		recs[0].Retain()
		return recs[0], nil
	}
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	cols := make([]arrow.Array, len(schema.Fields()))
	for i := range cols {
		parts := make([]arrow.Array, len(recs))
		for j, r := range recs {
			parts[j] = r.Column(i)
		}
		if len(parts) == 0 {
			cols[i] = array.MakeArrayOfNull(c.Mem, schema.Field(i).Type, 0)
			continue
		}
		col, err := array.Concatenate(parts, c.Mem)
		if err != nil {
			releaseAll(cols[:i])
			return nil, err
		}
		cols[i] = col
	}
	out := array.NewRecordBatch(schema, cols, n)
	releaseAll(cols)
	return out, nil
}

// Take returns the rows of rec at idx, in that order.
func Take(ctx context.Context, rec arrow.RecordBatch, idx []int32, c *expr.Ctx) (arrow.RecordBatch, error) {
	b := array.NewInt32Builder(c.Mem)
	b.AppendValues(idx, nil)
	indices := b.NewArray()
	b.Release()
	defer indices.Release()
	cctx := compute.WithAllocator(ctx, c.Mem)
	cols := make([]arrow.Array, rec.NumCols())
	for i := range cols {
		col, err := compute.TakeArray(cctx, rec.Column(i), indices)
		if err != nil {
			releaseAll(cols[:i])
			return nil, err
		}
		cols[i] = col
	}
	out := array.NewRecordBatch(rec.Schema(), cols, int64(len(idx)))
	releaseAll(cols)
	return out, nil
}
