package merge

import (
	"context"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// SortBatch returns rec's rows ordered by the first numKeys columns. Rows
// with equal keys keep their input order; with dedup only the last of them
// (the one written last in the batch) is kept. The returned record is rec
// itself (retained) when it is already sorted and free of duplicates.
func SortBatch(rec arrow.RecordBatch, numKeys int, dedup bool, mem memory.Allocator) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	k := newKeys(rec, numKeys, -1)
	sorted, unique := true, true
	for i := 1; i < n; i++ {
		switch c := compareKeys(&k, i-1, &k, i); {
		case c > 0:
			sorted = false
		case c == 0:
			unique = false
		}
	}
	if sorted && (unique || !dedup) {
		rec.Retain()
		return rec, nil
	}
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	if !sorted {
		slices.SortStableFunc(idx, func(a, b int32) int { return compareKeys(&k, int(a), &k, int(b)) })
	}
	if dedup {
		out := idx[:0]
		for i, r := range idx {
			if i+1 < len(idx) && compareKeys(&k, int(r), &k, int(idx[i+1])) == 0 {
				continue // a later row of the batch has the same key
			}
			out = append(out, r)
		}
		idx = out
	}
	return Take(rec, idx, mem)
}

// Take returns the rows of rec at idx, in that order.
func Take(rec arrow.RecordBatch, idx []int32, mem memory.Allocator) (arrow.RecordBatch, error) {
	indices := array.NewInt32Data(array.NewData(arrow.PrimitiveTypes.Int32, len(idx),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(idx))}, nil, 0, 0))
	defer indices.Release()
	ctx := compute.WithAllocator(context.Background(), mem)
	cols := make([]arrow.Array, rec.NumCols())
	for i := range cols {
		c, err := compute.TakeArray(ctx, rec.Column(i), indices)
		if err != nil {
			for _, done := range cols[:i] {
				done.Release()
			}
			return nil, err
		}
		cols[i] = c
	}
	out := array.NewRecordBatch(rec.Schema(), cols, int64(len(idx)))
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}
