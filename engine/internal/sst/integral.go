package sst

import (
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine/schema"
)

// Double columns whose values are all integers (as metrics often are:
// counts, percentages, TSBS's cpu fields) are stored as INT64 with
// DELTA_BINARY_PACKED, about a third of the bytes of the best encoding
// Parquet has for doubles. The file's Arrow schema then says int64 where
// the table says double; readers turn such columns back into doubles,
// exactly: only values that convert both ways without loss qualify.

// maxExact is the largest magnitude below which every integer is a
// float64.
const maxExact = 1 << 53

// isIntegral reports whether v survives float64 → int64 → float64
// unchanged, sign of zero included.
func isIntegral(v float64) bool {
	return v == math.Trunc(v) && math.Abs(v) <= maxExact && !(v == 0 && math.Signbit(v))
}

// IntegralColumns returns the double columns of s whose non-null values in
// every record are integers: what a flush of those records may store as
// integers.
func IntegralColumns(s *schema.Schema, recs []arrow.RecordBatch) map[string]bool {
	out := map[string]bool{}
	for i, c := range s.Columns {
		if c.Kind != schema.Double {
			continue
		}
		ok := true
		for _, rec := range recs {
			if i >= int(rec.NumCols()) || !allIntegral(rec.Column(i).(*array.Float64)) {
				ok = false
				break
			}
		}
		if ok {
			out[c.Name] = true
		}
	}
	return out
}

func allIntegral(a *array.Float64) bool {
	vals := a.Float64Values()
	if a.NullN() == 0 {
		for _, v := range vals {
			if !isIntegral(v) {
				return false
			}
		}
		return true
	}
	for i, v := range vals {
		if a.IsValid(i) && !isIntegral(v) {
			return false
		}
	}
	return true
}

// IntegralAfterMerge returns the double columns of s that are integral in
// every input file, so in whatever merging them yields. A column a file
// lacks (added later) is null there, which does not spoil it; files of
// format 0 recorded nothing and spoil every column.
func IntegralAfterMerge(s *schema.Schema, inputs []Meta) map[string]bool {
	out := map[string]bool{}
	for _, c := range s.Columns {
		if c.Kind != schema.Double {
			continue
		}
		ok := true
		for _, f := range inputs {
			if f.Format < 1 || slices.Contains(f.Float, c.Name) {
				ok = false
				break
			}
		}
		if ok {
			out[c.Name] = true
		}
	}
	return out
}

// toInt64 returns a double column's values as INT64, or an error naming
// the first value that is not an integer.
func toInt64(a *array.Float64, mem memory.Allocator) (arrow.Array, error) {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.Reserve(a.Len())
	for i, v := range a.Float64Values() {
		if a.IsNull(i) {
			b.UnsafeAppendBoolToBitmap(false)
			continue
		}
		if !isIntegral(v) {
			return nil, fmt.Errorf("sst: value %v of a column written as integers is not an integer", v)
		}
		b.UnsafeAppend(int64(v))
	}
	return b.NewArray(), nil
}

// toFloat64 turns a column stored as integers back into doubles. The
// validity bitmap is shared, the values converted in one pass.
func toFloat64(a *array.Int64, mem memory.Allocator) arrow.Array {
	n := a.Len()
	d := a.Data()
	if d.Offset() != 0 && a.NullN() > 0 { // an offset bitmap: build anew
		b := array.NewFloat64Builder(mem)
		defer b.Release()
		b.Reserve(n)
		for i, v := range a.Int64Values() {
			if a.IsNull(i) {
				b.UnsafeAppendBoolToBitmap(false)
			} else {
				b.UnsafeAppend(float64(v))
			}
		}
		return b.NewArray()
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n * 8)
	out := arrow.Float64Traits.CastFromBytes(buf.Bytes())
	for i, v := range a.Int64Values() {
		out[i] = float64(v)
	}
	var validity *memory.Buffer
	if a.NullN() > 0 {
		validity = d.Buffers()[0]
	}
	data := array.NewData(arrow.PrimitiveTypes.Float64, n, []*memory.Buffer{validity, buf}, nil, a.NullN(), 0)
	buf.Release()
	defer data.Release()
	return array.MakeFromData(data)
}
