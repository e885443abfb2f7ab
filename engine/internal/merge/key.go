// Package merge orders rows by primary key: it sorts a write batch, and
// merges sorted streams of records into one, keeping only the newest row of
// each primary key when deduplicating (OVERWRITE tables). Memtables, flushes,
// scans and compactions all build on it.
//
// Records handled here have the table's columns in schema order (the primary
// key first) followed by the uint64 sequence column.
package merge

import (
	"bytes"
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Stream yields records in key order. Next returns io.EOF after the last
// record.
type Stream interface {
	Next(ctx context.Context) (arrow.RecordBatch, error)
	Close()
}

// keyCol gives typed access to one key column of a record.
type keyCol struct {
	valid func(int) bool // nil when the column has no nulls
	i64   []int64
	u64   []uint64
	i32   []int32
	u32   []uint32
	i16   []int16
	u16   []uint16
	i8    []int8
	u8    []uint8
	str   *array.String
	bin   *array.Binary
	bools *array.Boolean
}

func newKeyCol(arr arrow.Array) keyCol {
	var k keyCol
	if arr.NullN() > 0 {
		k.valid = arr.IsValid
	}
	switch a := arr.(type) {
	case *array.Int64:
		k.i64 = a.Int64Values()
	case *array.Timestamp:
		vals := a.TimestampValues()
		k.i64 = arrow.Int64Traits.CastFromBytes(arrow.TimestampTraits.CastToBytes(vals))
	case *array.Time64:
		vals := a.Time64Values()
		k.i64 = arrow.Int64Traits.CastFromBytes(arrow.Time64Traits.CastToBytes(vals))
	case *array.Uint64:
		k.u64 = a.Uint64Values()
	case *array.Int32:
		k.i32 = a.Int32Values()
	case *array.Date32:
		k.i32 = arrow.Int32Traits.CastFromBytes(arrow.Date32Traits.CastToBytes(a.Date32Values()))
	case *array.Uint32:
		k.u32 = a.Uint32Values()
	case *array.Int16:
		k.i16 = a.Int16Values()
	case *array.Uint16:
		k.u16 = a.Uint16Values()
	case *array.Int8:
		k.i8 = a.Int8Values()
	case *array.Uint8:
		k.u8 = a.Uint8Values()
	case *array.String:
		k.str = a
	case *array.Binary:
		k.bin = a
	case *array.Boolean:
		k.bools = a
	default:
		panic("merge: unsupported key column type " + arr.DataType().String())
	}
	return k
}

func cmp3[T int64 | uint64 | int32 | uint32 | int16 | uint16 | int8 | uint8](a, b T) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// compare compares row i of a with row j of b (same column type). Nulls sort
// first.
func compare(a *keyCol, i int, b *keyCol, j int) int {
	if a.valid != nil || b.valid != nil {
		av := a.valid == nil || a.valid(i)
		bv := b.valid == nil || b.valid(j)
		if !av || !bv {
			switch {
			case av == bv:
				return 0
			case !av:
				return -1
			default:
				return 1
			}
		}
	}
	switch {
	case a.i64 != nil:
		return cmp3(a.i64[i], b.i64[j])
	case a.u64 != nil:
		return cmp3(a.u64[i], b.u64[j])
	case a.str != nil:
		return bytes.Compare(unsafeBytes(a.str, i), unsafeBytes(b.str, j))
	case a.i32 != nil:
		return cmp3(a.i32[i], b.i32[j])
	case a.u32 != nil:
		return cmp3(a.u32[i], b.u32[j])
	case a.bin != nil:
		return bytes.Compare(a.bin.Value(i), b.bin.Value(j))
	case a.i16 != nil:
		return cmp3(a.i16[i], b.i16[j])
	case a.u16 != nil:
		return cmp3(a.u16[i], b.u16[j])
	case a.i8 != nil:
		return cmp3(a.i8[i], b.i8[j])
	case a.u8 != nil:
		return cmp3(a.u8[i], b.u8[j])
	case a.bools != nil:
		x, y := a.bools.Value(i), b.bools.Value(j)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		default:
			return 1
		}
	}
	return 0
}

func unsafeBytes(a *array.String, i int) []byte {
	offs := a.ValueOffsets()
	return a.ValueBytes()[offs[i]-offs[0] : offs[i+1]-offs[0]]
}

// keys is typed access to the key columns and the sequence column of a
// record.
type keys struct {
	cols []keyCol
	seq  []uint64 // nil when the record has no sequence column
}

func newKeys(rec arrow.RecordBatch, numKeys, seqIdx int) keys {
	k := keys{cols: make([]keyCol, numKeys)}
	for c := 0; c < numKeys; c++ {
		k.cols[c] = newKeyCol(rec.Column(c))
	}
	if seqIdx >= 0 {
		k.seq = rec.Column(seqIdx).(*array.Uint64).Uint64Values()
	}
	return k
}

// compareKeys compares the primary keys of row i of a and row j of b.
func compareKeys(a *keys, i int, b *keys, j int) int {
	for c := range a.cols {
		if r := compare(&a.cols[c], i, &b.cols[c], j); r != 0 {
			return r
		}
	}
	return 0
}
