package merge

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FilterTime returns the rows of rec whose timestamp (column tsCol) is in
// [start, end): rec itself, retained, when all are; nil when none is.
func FilterTime(ctx context.Context, rec arrow.RecordBatch, tsCol int, start, end int64, mem memory.Allocator) (arrow.RecordBatch, error) {
	ts := rec.Column(tsCol).(*array.Timestamp).TimestampValues()
	keep := 0
	for _, v := range ts {
		if int64(v) >= start && int64(v) < end {
			keep++
		}
	}
	switch keep {
	case 0:
		return nil, nil
	case len(ts):
		rec.Retain()
		return rec, nil
	}
	mb := array.NewBooleanBuilder(mem)
	defer mb.Release()
	mb.Reserve(len(ts))
	for _, v := range ts {
		mb.UnsafeAppend(int64(v) >= start && int64(v) < end)
	}
	mask := mb.NewBooleanArray()
	defer mask.Release()
	return compute.FilterRecordBatch(compute.WithAllocator(ctx, mem), rec, mask, compute.DefaultFilterOptions())
}
