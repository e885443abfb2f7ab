package exec

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Union yields the rows of its inputs one after another (UNION ALL). The
// inputs have the same column types; the output takes schema's names.
type Union struct {
	Ins    []Operator
	schema *arrow.Schema
	cur    int
}

// NewUnion builds a union with the given output schema.
func NewUnion(inputs []Operator, schema *arrow.Schema) *Union {
	return &Union{Ins: inputs, schema: schema}
}

// Schema implements Operator.
func (u *Union) Schema() *arrow.Schema { return u.schema }

// Next implements Operator.
func (u *Union) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for u.cur < len(u.Ins) {
		rec, err := u.Ins[u.cur].Next(ctx)
		if errors.Is(err, io.EOF) {
			u.cur++
			continue
		}
		if err != nil {
			return nil, err
		}
		out := array.NewRecordBatch(u.schema, rec.Columns(), rec.NumRows())
		rec.Release()
		return out, nil
	}
	return nil, io.EOF
}

// Close implements Operator.
func (u *Union) Close() {
	for _, in := range u.Ins {
		in.Close()
	}
}
