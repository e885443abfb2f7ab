package merge

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// validity returns the validity of arr's rows [from, to) as AppendValues
// wants it: nil when all are valid.
func validity(arr arrow.Array, from, to int) []bool {
	if arr.NullN() == 0 {
		return nil
	}
	v := make([]bool, to-from)
	for i := range v {
		v[i] = arr.IsValid(from + i)
	}
	return v
}

// AppendRange appends rows [from, to) of arr to b, which must build arr's
// type.
func AppendRange(b array.Builder, arr arrow.Array, from, to int) {
	if from >= to {
		return
	}
	switch a := arr.(type) {
	case *array.Int64:
		b.(*array.Int64Builder).AppendValues(a.Int64Values()[from:to], validity(arr, from, to))
	case *array.Uint64:
		b.(*array.Uint64Builder).AppendValues(a.Uint64Values()[from:to], validity(arr, from, to))
	case *array.Timestamp:
		b.(*array.TimestampBuilder).AppendValues(a.TimestampValues()[from:to], validity(arr, from, to))
	case *array.Float64:
		b.(*array.Float64Builder).AppendValues(a.Float64Values()[from:to], validity(arr, from, to))
	case *array.Float32:
		b.(*array.Float32Builder).AppendValues(a.Float32Values()[from:to], validity(arr, from, to))
	case *array.Int32:
		b.(*array.Int32Builder).AppendValues(a.Int32Values()[from:to], validity(arr, from, to))
	case *array.Uint32:
		b.(*array.Uint32Builder).AppendValues(a.Uint32Values()[from:to], validity(arr, from, to))
	case *array.Int16:
		b.(*array.Int16Builder).AppendValues(a.Int16Values()[from:to], validity(arr, from, to))
	case *array.Uint16:
		b.(*array.Uint16Builder).AppendValues(a.Uint16Values()[from:to], validity(arr, from, to))
	case *array.Int8:
		b.(*array.Int8Builder).AppendValues(a.Int8Values()[from:to], validity(arr, from, to))
	case *array.Uint8:
		b.(*array.Uint8Builder).AppendValues(a.Uint8Values()[from:to], validity(arr, from, to))
	case *array.Date32:
		b.(*array.Date32Builder).AppendValues(a.Date32Values()[from:to], validity(arr, from, to))
	case *array.Time64:
		b.(*array.Time64Builder).AppendValues(a.Time64Values()[from:to], validity(arr, from, to))
	case *array.Boolean:
		bb := b.(*array.BooleanBuilder)
		bb.Reserve(to - from)
		for i := from; i < to; i++ {
			if a.IsNull(i) {
				bb.UnsafeAppendBoolToBitmap(false)
			} else {
				bb.UnsafeAppend(a.Value(i))
			}
		}
	case *array.String:
		sb := b.(*array.StringBuilder)
		sb.Reserve(to - from) // not ReserveData: it reallocates on every call
		for i := from; i < to; i++ {
			if a.IsNull(i) {
				sb.AppendNull()
			} else {
				sb.Append(a.Value(i))
			}
		}
	case *array.Binary:
		bb := b.(*array.BinaryBuilder)
		bb.Reserve(to - from)
		for i := from; i < to; i++ {
			if a.IsNull(i) {
				bb.AppendNull()
			} else {
				bb.Append(a.Value(i))
			}
		}
	case *array.Null:
		b.AppendNulls(to - from)
	default:
		panic(fmt.Sprintf("merge: AppendRange of unsupported type %s", arr.DataType()))
	}
}
