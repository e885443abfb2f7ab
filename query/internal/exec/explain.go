package exec

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/query/internal/expr"
)

// Node is what EXPLAIN knows of an operator: a one-line description and
// its inputs, which it can replace (to meter them).
type Node interface {
	Operator
	Describe() string
	Inputs() []Operator
	SetInputs([]Operator)
}

func exprList(xs []expr.Expr) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = x.String()
	}
	return strings.Join(parts, ", ")
}

// Describe implementations.

func (s *Scan) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Scan: table=%s, columns=[%s]", s.Table.Name(), strings.Join(s.Request.Columns, ", "))
	if tr := s.Request.TimeRange; tr.Start != minTime || tr.End != maxTime {
		fmt.Fprintf(&b, ", time_range=[%s, %s)", fmtTime(tr.Start), fmtTime(tr.End))
	}
	if len(s.Request.Filters) > 0 {
		var fs []string
		for _, f := range s.Request.Filters {
			fs = append(fs, describeFilter(f))
		}
		fmt.Fprintf(&b, ", pruning=[%s]", strings.Join(fs, ", "))
	}
	if s.Stats != nil {
		st := s.Stats
		fmt.Fprintf(&b, ", memtables=%d, ssts=%d, ssts_pruned=%d, row_groups=%d/%d",
			st.Memtables, st.SSTs, st.SSTsPruned, st.RowGroups, st.RowGroupsTotal)
	}
	return b.String()
}

const (
	minTime = -1 << 63
	maxTime = 1<<63 - 1
)

func fmtTime(ms int64) string {
	switch ms {
	case minTime:
		return "-inf"
	case maxTime:
		return "+inf"
	}
	return fmt.Sprintf("%d", ms)
}

func (s *Scan) Inputs() []Operator     { return nil }
func (s *Scan) SetInputs([]Operator)   {}
func (v *Values) Describe() string     { return fmt.Sprintf("Values: rows=%d", v.Rows) }
func (v *Values) Inputs() []Operator   { return nil }
func (v *Values) SetInputs([]Operator) {}

func (f *Filter) Describe() string        { return "Filter: " + f.Pred.String() }
func (f *Filter) Inputs() []Operator      { return []Operator{f.Input} }
func (f *Filter) SetInputs(in []Operator) { f.Input = in[0] }

func (p *Project) Describe() string {
	parts := make([]string, len(p.Exprs))
	for i, x := range p.Exprs {
		name := p.schema.Field(i).Name
		if name != x.String() {
			parts[i] = x.String() + " AS " + name
		} else {
			parts[i] = name
		}
	}
	return "Projection: " + strings.Join(parts, ", ")
}
func (p *Project) Inputs() []Operator      { return []Operator{p.Input} }
func (p *Project) SetInputs(in []Operator) { p.Input = in[0] }

func (a *Aggregate) Describe() string {
	aggs := make([]string, len(a.Aggs))
	for i, x := range a.Aggs {
		aggs[i] = x.String()
	}
	return fmt.Sprintf("Aggregate: groupBy=[%s], aggr=[%s]", exprList(a.Keys), strings.Join(aggs, ", "))
}
func (a *Aggregate) Inputs() []Operator      { return []Operator{a.Input} }
func (a *Aggregate) SetInputs(in []Operator) { a.Input = in[0] }

func (s *Sort) Describe() string {
	parts := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		dir := "ASC"
		if k.Desc {
			dir = "DESC"
		}
		nulls := "NULLS LAST"
		if k.NullsFirst {
			nulls = "NULLS FIRST"
		}
		parts[i] = fmt.Sprintf("%s %s %s", k.Expr, dir, nulls)
	}
	out := "Sort: " + strings.Join(parts, ", ")
	if s.Limit > 0 {
		out += fmt.Sprintf(", fetch=%d", s.Limit)
	}
	return out
}
func (s *Sort) Inputs() []Operator      { return []Operator{s.Input} }
func (s *Sort) SetInputs(in []Operator) { s.Input = in[0] }

func (l *Limit) Describe() string {
	if l.Count < 0 {
		return fmt.Sprintf("Limit: skip=%d", l.Offset)
	}
	return fmt.Sprintf("Limit: skip=%d, fetch=%d", l.Offset, l.Count)
}
func (l *Limit) Inputs() []Operator      { return []Operator{l.Input} }
func (l *Limit) SetInputs(in []Operator) { l.Input = in[0] }

func (u *Union) Describe() string        { return "Union" }
func (u *Union) Inputs() []Operator      { return u.Ins }
func (u *Union) SetInputs(in []Operator) { u.Ins = in }

func (j *HashJoin) Describe() string {
	kind := "Inner"
	if j.Kind == LeftJoin {
		kind = "Left"
	}
	var on []string
	for i := range j.LeftKeys {
		on = append(on, fmt.Sprintf("%s = %s", j.LeftKeys[i], j.RightKeys[i]))
	}
	out := fmt.Sprintf("HashJoin: type=%s, on=[%s]", kind, strings.Join(on, ", "))
	if len(j.LeftKeys) == 0 {
		out = fmt.Sprintf("NestedLoopJoin: type=%s", kind)
	}
	if j.Residual != nil {
		out += ", filter=" + j.Residual.String()
	}
	return out
}
func (j *HashJoin) Inputs() []Operator      { return []Operator{j.Left, j.Right} }
func (j *HashJoin) SetInputs(in []Operator) { j.Left, j.Right = in[0], in[1] }

// Metered counts the rows and time of the operator it wraps.
type Metered struct {
	Node
	Rows    int64
	Batches int64
	Elapsed time.Duration // including the time of its inputs
}

// Next implements Operator.
func (m *Metered) Next(ctx context.Context) (arrow.RecordBatch, error) {
	start := time.Now()
	rec, err := m.Node.Next(ctx)
	m.Elapsed += time.Since(start)
	if err == nil {
		m.Rows += rec.NumRows()
		m.Batches++
	}
	return rec, err
}

// Meter wraps every operator of a tree in Metered.
func Meter(op Operator) Operator {
	n, ok := op.(Node)
	if !ok {
		return op
	}
	ins := n.Inputs()
	wrapped := make([]Operator, len(ins))
	for i, in := range ins {
		wrapped[i] = Meter(in)
	}
	n.SetInputs(wrapped)
	return &Metered{Node: n}
}

// Explain renders an operator tree, one operator per line, inputs indented.
func Explain(op Operator) string {
	var b strings.Builder
	var walk func(op Operator, depth int)
	walk = func(op Operator, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		m, metered := op.(*Metered)
		n, ok := op.(Node)
		if metered {
			n = m.Node
		}
		if !ok && !metered {
			fmt.Fprintf(&b, "%T\n", op)
			return
		}
		b.WriteString(n.Describe())
		if metered {
			fmt.Fprintf(&b, ", metrics=[output_rows=%d, batches=%d, elapsed=%s]", m.Rows, m.Batches, m.Elapsed.Round(time.Microsecond))
		}
		b.WriteByte('\n')
		ins := n.Inputs()
		if _, ok := n.(*Gather); ok && len(ins) > 1 {
			ins = ins[:1] // the partitions run the same plan: show one
		}
		for _, in := range ins {
			walk(in, depth+1)
		}
	}
	walk(op, 0)
	return b.String()
}

func describeFilter(f engine.Filter) string {
	ops := map[engine.FilterOp]string{engine.FilterEq: "=", engine.FilterLt: "<", engine.FilterLtEq: "<=",
		engine.FilterGt: ">", engine.FilterGtEq: ">=", engine.FilterIn: "IN"}
	vals := make([]string, len(f.Values))
	for i, v := range f.Values {
		if s, ok := v.(string); ok {
			vals[i] = fmt.Sprintf("'%s'", s)
		} else {
			vals[i] = fmt.Sprint(v)
		}
	}
	if f.Op == engine.FilterIn {
		return fmt.Sprintf("%s IN (%s)", f.Column, strings.Join(vals, ", "))
	}
	return fmt.Sprintf("%s %s %s", f.Column, ops[f.Op], vals[0])
}
