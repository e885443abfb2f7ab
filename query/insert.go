package query

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query/internal/exec"
	"github.com/horaego/horaedb/query/internal/expr"
	"github.com/horaego/horaedb/query/parser"
)

// insert runs INSERT ... VALUES and INSERT ... SELECT. The rows are written
// as one batch: all of them or none.
func (sc *stmtCtx) insert(ctx context.Context, s *parser.Insert) (*Result, error) {
	t, err := sc.table(s.Table)
	if err != nil {
		return nil, err
	}
	if err := sc.x.checkWrite(t.Name()); err != nil {
		return nil, err
	}
	sch := t.Schema()
	target, err := insertTargets(sch, s.Columns, t.Name())
	if err != nil {
		return nil, err
	}
	var rec arrow.RecordBatch
	if s.Query != nil {
		rec, err = sc.insertSelect(ctx, s.Query, sch, target)
	} else {
		rec, err = sc.insertValues(s.Rows, sch, target)
	}
	if err != nil {
		return nil, err
	}
	full, err := sc.fillDefaults(rec, sch, target)
	rec.Release()
	if err != nil {
		return nil, err
	}
	defer full.Release()
	if full.NumRows() == 0 {
		return &Result{}, nil
	}
	n, err := t.Write(ctx, full)
	if err != nil {
		return nil, err
	}
	return &Result{AffectedRows: int64(n)}, nil
}

// insertTargets resolves the column list of an INSERT to schema indexes
// (all columns but tsid when there is no list).
func insertTargets(sch *schema.Schema, cols []parser.Ident, table string) ([]int, error) {
	var target []int
	if len(cols) == 0 {
		for i := range sch.Columns {
			if i != sch.TsidIndex {
				target = append(target, i)
			}
		}
		return target, nil
	}
	seen := map[int]bool{}
	for _, id := range cols {
		i := sch.Index(id.Name)
		if i < 0 {
			return nil, fmt.Errorf("%w: unknown column %s in INSERT into %s", ErrInvalid, id.Name, table)
		}
		if i == sch.TsidIndex {
			return nil, fmt.Errorf("%w: column tsid is computed by the server and cannot be inserted", ErrInvalid)
		}
		if seen[i] {
			return nil, fmt.Errorf("%w: column %s is listed twice in INSERT", ErrInvalid, id.Name)
		}
		seen[i] = true
		target = append(target, i)
	}
	return target, nil
}

func targetSchema(sch *schema.Schema, target []int) *arrow.Schema {
	fields := make([]arrow.Field, len(target))
	for k, i := range target {
		c := sch.Columns[i]
		fields[k] = arrow.Field{Name: c.Name, Type: c.Kind.ArrowType(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// insertValues converts the VALUES rows to a record of the target columns.
func (sc *stmtCtx) insertValues(rows [][]parser.Expr, sch *schema.Schema, target []int) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(sc.ec.Mem, targetSchema(sch, target))
	defer b.Release()
	for r, row := range rows {
		if len(row) != len(target) {
			return nil, fmt.Errorf("%w: INSERT row %d has %d values for %d columns", ErrInvalid, r+1, len(row), len(target))
		}
		for j, e := range row {
			c := sch.Columns[target[j]]
			v, ok := literalScalar(e)
			if !ok {
				var err error
				if v, err = sc.constant(e); err != nil {
					return nil, err
				}
			}
			if err := appendValue(b.Field(j), v, c, sc.ec); err != nil {
				return nil, fmt.Errorf("%w: row %d: %v", ErrInvalid, r+1, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}

// insertSelect runs the query of INSERT ... SELECT and converts its columns
// to the target columns' types.
func (sc *stmtCtx) insertSelect(ctx context.Context, q *parser.Query, sch *schema.Schema, target []int) (arrow.RecordBatch, error) {
	rel, err := sc.planQuery(q, nil, 0)
	if err != nil {
		return nil, err
	}
	if n := len(rel.scope.cols); n != len(target) {
		rel.op.Close()
		return nil, fmt.Errorf("%w: INSERT has %d target columns but the query returns %d", ErrInvalid, len(target), n)
	}
	exprs := make([]expr.Expr, len(target))
	names := make([]string, len(target))
	for k, i := range target {
		c := sch.Columns[i]
		from := rel.scope.cols[k].Type
		if !castable(from, c.Kind.ArrowType()) {
			rel.op.Close()
			return nil, fmt.Errorf("%w: INSERT column %s (%s) cannot take values of type %s", ErrInvalid, c.Name, c.Kind, typeName(from))
		}
		exprs[k], names[k] = castTo(rel.scope.column(k), c.Kind.ArrowType()), c.Name
	}
	recs, err := exec.Drain(ctx, exec.NewProject(rel.op, exprs, names, sc.ec), sc.ec)
	if err != nil {
		return nil, invalid(err)
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	return exec.Concat(targetSchema(sch, target), recs, sc.ec)
}

// castable reports whether values of type from can be converted to to
// (strings are parsed, so they may fail row by row).
func castable(from, to arrow.DataType) bool {
	switch {
	case arrow.TypeEqual(from, to), from.ID() == arrow.NULL, from.ID() == arrow.STRING, to.ID() == arrow.STRING:
		return true
	case expr.IsNumeric(from) && (expr.IsNumeric(to) || to.ID() == arrow.TIMESTAMP):
		return true
	case from.ID() == arrow.TIMESTAMP && (to.ID() == arrow.DATE32 || expr.IsNumeric(to) && to.ID() != arrow.FLOAT32):
		return true
	case from.ID() == arrow.DATE32 && to.ID() == arrow.TIMESTAMP:
		return true
	}
	return false
}

// fillDefaults completes a record of the target columns with the other
// columns: their DEFAULT, evaluated per row (it may refer to other columns
// of the row, which are NULL when not given), or NULL.
func (sc *stmtCtx) fillDefaults(rec arrow.RecordBatch, sch *schema.Schema, target []int) (arrow.RecordBatch, error) {
	given := map[int]bool{}
	for _, i := range target {
		given[i] = true
	}
	fields := append([]arrow.Field(nil), rec.Schema().Fields()...)
	cols := append([]arrow.Array(nil), rec.Columns()...)
	for _, c := range cols {
		c.Retain()
	}
	n := int(rec.NumRows())
	var defaulted []int
	for i, c := range sch.Columns {
		if given[i] || i == sch.TsidIndex {
			continue
		}
		if c.Default != "" {
			defaulted = append(defaulted, i)
			continue
		}
		if !c.Nullable || i == sch.TimestampIndex {
			continue // the engine names the missing column
		}
		null := array.MakeArrayOfNull(sc.ec.Mem, c.Kind.ArrowType(), n)
		fields = append(fields, arrow.Field{Name: c.Name, Type: c.Kind.ArrowType(), Nullable: true})
		cols = append(cols, null)
	}
	for _, i := range defaulted {
		c := sch.Columns[i]
		cur := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
		s := &scope{}
		for _, f := range fields {
			s.cols = append(s.cols, scopeCol{Name: f.Name, Type: f.Type})
		}
		x, err := sc.bindDefault(c, s)
		if err != nil {
			cur.Release()
			releaseArrays(cols)
			return nil, err
		}
		v, err := x.Eval(sc.ec, cur)
		cur.Release()
		if err != nil {
			releaseArrays(cols)
			return nil, fmt.Errorf("%w: DEFAULT of column %s: %v", ErrInvalid, c.Name, err)
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: c.Kind.ArrowType(), Nullable: true})
		cols = append(cols, v)
	}
	out := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
	releaseArrays(cols)
	return out, nil
}

func releaseArrays(as []arrow.Array) {
	for _, a := range as {
		a.Release()
	}
}

// bindDefault binds a column's DEFAULT expression over s, cast to the
// column's type.
func (sc *stmtCtx) bindDefault(c schema.Column, s *scope) (expr.Expr, error) {
	stmt, err := parser.Parse("SELECT " + c.Default)
	if err != nil {
		return nil, fmt.Errorf("%w: DEFAULT of column %s: %v", ErrInvalid, c.Name, err)
	}
	sel, ok := stmt.(*parser.Query).Body.(*parser.Select)
	if !ok || len(sel.Items) != 1 || len(sel.From) > 0 {
		return nil, fmt.Errorf("%w: DEFAULT of column %s is not an expression", ErrInvalid, c.Name)
	}
	x, err := (&binder{sc: sc, scope: s}).bind(sel.Items[0].Expr)
	if err != nil {
		return nil, fmt.Errorf("%w: DEFAULT of column %s: %v", ErrInvalid, c.Name, err)
	}
	if !castable(x.Type(), c.Kind.ArrowType()) {
		return nil, fmt.Errorf("%w: DEFAULT of column %s: a value of type %s cannot be stored in a %s column", ErrInvalid, c.Name, typeName(x.Type()), c.Kind)
	}
	return castTo(x, c.Kind.ArrowType()), nil
}

// checkDefaults binds every DEFAULT of a schema over its columns, as
// CREATE TABLE and ADD COLUMN do before anything is stored.
func (sc *stmtCtx) checkDefaults(sch *schema.Schema) error {
	s := &scope{}
	for _, c := range sch.Columns {
		s.cols = append(s.cols, scopeCol{Name: c.Name, Type: c.Kind.ArrowType()})
	}
	for _, c := range sch.Columns {
		if c.Default == "" {
			continue
		}
		if _, err := sc.bindDefault(c, s); err != nil {
			return err
		}
	}
	return nil
}

// literalScalar converts a plain literal without binding it.
func literalScalar(e parser.Expr) (expr.Scalar, bool) {
	switch e := e.(type) {
	case *parser.IntLit:
		if v, ok := e.Int64(); ok {
			return expr.Int64(v), true
		}
		return expr.UInt64(e.Value), true
	case *parser.FloatLit:
		return expr.Float64(e.Value), true
	case *parser.StringLit:
		return expr.String(e.Value), true
	case *parser.NullLit:
		return expr.Null(), true
	case *parser.BoolLit:
		return expr.Bool(e.Value), true
	case *parser.HexLit:
		return expr.Bytes(e.Value), true
	case *parser.UnaryExpr:
		if e.Op == parser.OpNeg {
			if v, ok := literalScalar(e.X); ok {
				switch {
				case v.Type.ID() == arrow.INT64:
					return expr.Int64(-v.I), true
				case v.Type.ID() == arrow.FLOAT64:
					return expr.Float64(-v.F), true
				case v.Type.ID() == arrow.UINT64 && v.U == 1<<63:
					return expr.Int64(-1 << 63), true
				}
			}
		}
	}
	return expr.Scalar{}, false
}

// appendValue converts v to the column's type and appends it.
func appendValue(b array.Builder, v expr.Scalar, c schema.Column, ec *expr.Ctx) error {
	if v.Null {
		b.AppendNull() // the engine rejects NULL in NOT NULL columns
		return nil
	}
	to := c.Kind.ArrowType()
	if c.Kind == schema.Varbinary && v.Type.ID() == arrow.STRING {
		v = expr.Bytes([]byte(v.S))
	}
	if c.Kind == schema.String && v.Type.ID() != arrow.STRING {
		return fmt.Errorf("column %s is a string; got %s (quote it)", c.Name, v.Display())
	}
	cv, err := v.Cast(to, ec.TimeZone)
	if err != nil {
		return fmt.Errorf("column %s (%s): %v", c.Name, c.Kind, strings.TrimPrefix(err.Error(), "expr: evaluation error: "))
	}
	cv.Append(b)
	return nil
}
