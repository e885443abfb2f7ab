package expr

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// ints, uints and floats return an array's values converted to int64,
// uint64 or float64: without copying when the array already has that
// representation.
func ints(arr arrow.Array) []int64 {
	switch a := arr.(type) {
	case *array.Int64:
		return a.Int64Values()
	case *array.Timestamp:
		return arrow.Int64Traits.CastFromBytes(arrow.TimestampTraits.CastToBytes(a.TimestampValues()))
	case *array.Time64:
		return arrow.Int64Traits.CastFromBytes(arrow.Time64Traits.CastToBytes(a.Time64Values()))
	case *array.Duration:
		return arrow.Int64Traits.CastFromBytes(arrow.DurationTraits.CastToBytes(a.DurationValues()))
	}
	out := make([]int64, arr.Len())
	switch a := arr.(type) {
	case *array.Int32:
		for i, v := range a.Int32Values() {
			out[i] = int64(v)
		}
	case *array.Int16:
		for i, v := range a.Int16Values() {
			out[i] = int64(v)
		}
	case *array.Int8:
		for i, v := range a.Int8Values() {
			out[i] = int64(v)
		}
	case *array.Date32:
		for i, v := range a.Date32Values() {
			out[i] = int64(v)
		}
	case *array.Uint64:
		for i, v := range a.Uint64Values() {
			out[i] = int64(v)
		}
	case *array.Uint32:
		for i, v := range a.Uint32Values() {
			out[i] = int64(v)
		}
	case *array.Uint16:
		for i, v := range a.Uint16Values() {
			out[i] = int64(v)
		}
	case *array.Uint8:
		for i, v := range a.Uint8Values() {
			out[i] = int64(v)
		}
	case *array.Float64:
		for i, v := range a.Float64Values() {
			out[i] = int64(v)
		}
	case *array.Float32:
		for i, v := range a.Float32Values() {
			out[i] = int64(v)
		}
	}
	return out
}

func uints(arr arrow.Array) []uint64 {
	if a, ok := arr.(*array.Uint64); ok {
		return a.Uint64Values()
	}
	out := make([]uint64, arr.Len())
	switch a := arr.(type) {
	case *array.Uint32:
		for i, v := range a.Uint32Values() {
			out[i] = uint64(v)
		}
	case *array.Uint16:
		for i, v := range a.Uint16Values() {
			out[i] = uint64(v)
		}
	case *array.Uint8:
		for i, v := range a.Uint8Values() {
			out[i] = uint64(v)
		}
	default:
		for i, v := range ints(arr) {
			out[i] = uint64(v)
		}
	}
	return out
}

func floats(arr arrow.Array) []float64 {
	switch a := arr.(type) {
	case *array.Float64:
		return a.Float64Values()
	case *array.Float32:
		out := make([]float64, arr.Len())
		for i, v := range a.Float32Values() {
			out[i] = float64(v)
		}
		return out
	case *array.Uint64, *array.Uint32, *array.Uint16, *array.Uint8:
		out := make([]float64, arr.Len())
		for i, v := range uints(arr) {
			out[i] = float64(v)
		}
		return out
	}
	out := make([]float64, arr.Len())
	for i, v := range ints(arr) {
		out[i] = float64(v)
	}
	return out
}

// newInt64, newUint64, newFloat64 and newTimestamp build arrays from values
// and an AppendValues-style validity.
func newInt64(c *Ctx, vals []int64, valid []bool) arrow.Array {
	b := array.NewInt64Builder(c.Mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func newUint64(c *Ctx, vals []uint64, valid []bool) arrow.Array {
	b := array.NewUint64Builder(c.Mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func newFloat64(c *Ctx, vals []float64, valid []bool) arrow.Array {
	b := array.NewFloat64Builder(c.Mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func newTimestamp(c *Ctx, vals []int64, valid []bool) arrow.Array {
	b := array.NewTimestampBuilder(c.Mem, TimestampType)
	defer b.Release()
	b.AppendValues(arrow.TimestampTraits.CastFromBytes(arrow.Int64Traits.CastToBytes(vals)), valid)
	return b.NewArray()
}
