// Package exec holds the operators of a query plan. Each pulls Arrow
// record batches from its input and passes batches on; aggregation and
// sorting consume their whole input first.
package exec

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/query/internal/expr"
)

// Operator produces record batches. Next returns io.EOF at the end.
type Operator interface {
	Schema() *arrow.Schema
	Next(ctx context.Context) (arrow.RecordBatch, error)
	Close()
}

// Drain reads an operator to the end and closes it; the rows it holds are
// charged to c's budget.
func Drain(ctx context.Context, op Operator, c *expr.Ctx) ([]arrow.RecordBatch, error) {
	defer op.Close()
	var out []arrow.RecordBatch
	fail := func(err error) ([]arrow.RecordBatch, error) {
		for _, r := range out {
			r.Release()
		}
		return nil, err
	}
	for {
		rec, err := op.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return fail(err)
		}
		if rec.NumRows() == 0 {
			rec.Release()
			continue
		}
		out = append(out, rec)
		if err := c.Reserve(expr.RecordBytes(rec)); err != nil {
			return fail(err)
		}
	}
}

// Scan reads a table, or one partition of a table scan.
type Scan struct {
	Table   *engine.Table
	Request engine.ScanRequest
	Stats   *engine.ScanStats
	schema  *arrow.Schema
	shared  *sharedScan
	part    int
}

// sharedScan opens the partitions of one table scan once, for all of them.
type sharedScan struct {
	once    sync.Once
	streams []engine.Stream
	stats   *engine.ScanStats
	err     error
}

// NewScan prepares a scan; it reads nothing yet.
func NewScan(t *engine.Table, req engine.ScanRequest) (*Scan, error) {
	parts, err := NewScanPartitions(t, req, 1)
	if err != nil {
		return nil, err
	}
	return parts[0], nil
}

// NewScanPartitions prepares n operators that read the partitions of one
// scan; they may run concurrently.
func NewScanPartitions(t *engine.Table, req engine.ScanRequest, n int) ([]*Scan, error) {
	s, err := t.OutputSchema(req.Columns)
	if err != nil {
		return nil, err
	}
	req.Partitions = n
	shared := &sharedScan{}
	out := make([]*Scan, n)
	for i := range out {
		out[i] = &Scan{Table: t, Request: req, schema: s, shared: shared, part: i}
	}
	return out, nil
}

// Schema implements Operator.
func (s *Scan) Schema() *arrow.Schema { return s.schema }

// Next implements Operator.
func (s *Scan) Next(ctx context.Context) (arrow.RecordBatch, error) {
	sh := s.shared
	sh.once.Do(func() { sh.streams, sh.stats, sh.err = s.Table.ScanPartitions(ctx, s.Request) })
	if sh.err != nil {
		return nil, sh.err
	}
	s.Stats = sh.stats
	if s.part >= len(sh.streams) {
		return nil, io.EOF
	}
	return sh.streams[s.part].Next(ctx)
}

// Close implements Operator.
func (s *Scan) Close() {
	if s.shared != nil && s.part < len(s.shared.streams) {
		s.shared.streams[s.part].Close()
	}
}

// Values yields one batch of n rows with no columns, the input of a
// SELECT without FROM.
type Values struct {
	Rows int
	done bool
}

var emptySchema = arrow.NewSchema(nil, nil)

// Schema implements Operator.
func (v *Values) Schema() *arrow.Schema { return emptySchema }

// Next implements Operator.
func (v *Values) Next(context.Context) (arrow.RecordBatch, error) {
	if v.done {
		return nil, io.EOF
	}
	v.done = true
	return array.NewRecordBatch(emptySchema, nil, int64(v.Rows)), nil
}

// Close implements Operator.
func (v *Values) Close() {}

// Filter keeps the rows for which a predicate is true.
type Filter struct {
	Input Operator
	Pred  expr.Expr
	C     *expr.Ctx
}

// Schema implements Operator.
func (f *Filter) Schema() *arrow.Schema { return f.Input.Schema() }

// Next implements Operator.
func (f *Filter) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		rec, err := f.Input.Next(ctx)
		if err != nil {
			return nil, err
		}
		mask, err := f.Pred.Eval(f.C, rec)
		if err != nil {
			rec.Release()
			return nil, err
		}
		if mask.DataType().ID() != arrow.BOOL {
			mask.Release()
			rec.Release()
			continue // a NULL predicate keeps nothing
		}
		b := mask.(*array.Boolean)
		keep := 0
		for i := 0; i < b.Len(); i++ {
			if !expr.IsNullAt(b, i) && b.Value(i) {
				keep++
			}
		}
		switch keep {
		case 0:
			mask.Release()
			rec.Release()
			continue
		case int(rec.NumRows()):
			mask.Release()
			return rec, nil
		}
		out, err := compute.FilterRecordBatch(compute.WithAllocator(ctx, f.C.Mem), rec, mask, compute.DefaultFilterOptions())
		mask.Release()
		rec.Release()
		return out, err
	}
}

// Close implements Operator.
func (f *Filter) Close() { f.Input.Close() }

// Project computes output columns from expressions.
type Project struct {
	Input  Operator
	Exprs  []expr.Expr
	schema *arrow.Schema
	C      *expr.Ctx
}

// NewProject builds a projection with the given output names.
func NewProject(in Operator, exprs []expr.Expr, names []string, c *expr.Ctx) *Project {
	fields := make([]arrow.Field, len(exprs))
	for i, e := range exprs {
		fields[i] = arrow.Field{Name: names[i], Type: e.Type(), Nullable: true}
	}
	return &Project{Input: in, Exprs: exprs, schema: arrow.NewSchema(fields, nil), C: c}
}

// Schema implements Operator.
func (p *Project) Schema() *arrow.Schema { return p.schema }

// Next implements Operator.
func (p *Project) Next(ctx context.Context) (arrow.RecordBatch, error) {
	rec, err := p.Input.Next(ctx)
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	cols := make([]arrow.Array, len(p.Exprs))
	for i, e := range p.Exprs {
		a, err := e.Eval(p.C, rec)
		if err != nil {
			for _, c := range cols[:i] {
				c.Release()
			}
			return nil, err
		}
		cols[i] = a
	}
	out := array.NewRecordBatch(p.schema, cols, rec.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

// Close implements Operator.
func (p *Project) Close() { p.Input.Close() }

// Limit skips Offset rows and then passes at most Count rows (Count < 0:
// no limit).
type Limit struct {
	Input         Operator
	Offset, Count int64
	seen, emitted int64
}

// Schema implements Operator.
func (l *Limit) Schema() *arrow.Schema { return l.Input.Schema() }

// Next implements Operator.
func (l *Limit) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if l.Count >= 0 && l.emitted >= l.Count {
			return nil, io.EOF
		}
		rec, err := l.Input.Next(ctx)
		if err != nil {
			return nil, err
		}
		n := rec.NumRows()
		start := int64(0)
		if l.seen < l.Offset {
			start = min(l.Offset-l.seen, n)
		}
		l.seen += n
		end := n
		if l.Count >= 0 {
			end = min(n, start+l.Count-l.emitted)
		}
		if start >= end {
			rec.Release()
			continue
		}
		l.emitted += end - start
		if start == 0 && end == n {
			return rec, nil
		}
		out := rec.NewSlice(start, end)
		rec.Release()
		return out, nil
	}
}

// Close implements Operator.
func (l *Limit) Close() { l.Input.Close() }
