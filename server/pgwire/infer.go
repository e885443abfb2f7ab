package pgwire

import (
	"context"
	"reflect"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/parser"
	"github.com/horaego/horaedb/server/mysqlwire/sqltext"
)

// Parameter types. PostgreSQL tells a client the type of each parameter
// (ParameterDescription), and drivers encode values by it: pgx sends an
// int64 for an int8 parameter in binary, but cannot send it at all for a
// text one. The executor has no placeholders, so the types of the
// parameters a client leaves unspecified are inferred from where each
// placeholder stands:
//
//	col <op> $n, $n <op> col     the column's type (comparisons and
//	                             arithmetic; the column is looked up in the
//	                             statement's tables with DESCRIBE)
//	col [NOT] IN ($n, ...)       the column's type
//	col BETWEEN $n AND $m        the column's type
//	$n <op> 42 (or 1.5, 'x', ..) the literal's type
//	INSERT INTO t (cols) VALUES  the target column's type
//	CAST($n AS type), $n::type   that type
//	LIMIT $n, OFFSET $n          int8
//	x LIKE $n                    text
//
// Any other parameter is unspecified (OID 0): drivers send it as text, and
// it becomes a string literal.

// markerPrefix starts the string literal a parameter is replaced with to
// find it in the syntax tree.
const markerPrefix = "\x00horaedb-param-"

// inferParams fills the unspecified parameter types of st.
func (c *conn) inferParams(ctx context.Context, st *prepared) {
	n := st.tmpl.NumParams()
	unknown := false
	for _, oid := range st.paramOIDs[:n] {
		unknown = unknown || oid == oidUnspecified
	}
	if !unknown {
		return
	}
	lits := make([][]byte, n)
	for i := range lits {
		lits[i] = sqltext.AppendString(nil, markerPrefix+strconv.Itoa(i))
	}
	sql, err := st.tmpl.Bind(lits)
	if err != nil {
		return
	}
	stmt, err := parser.Parse(sql)
	if err != nil {
		return
	}
	inf := &inferrer{c: c, ctx: ctx, oids: st.paramOIDs, columns: map[string]map[string]uint32{}}
	walk(reflect.ValueOf(stmt), func(n any) {
		if t, ok := n.(*parser.TableName); ok {
			inf.tables = append(inf.tables, t.Name.Table().Name)
		}
	})
	if ins, ok := stmt.(*parser.Insert); ok {
		inf.tables = append(inf.tables, ins.Table.Table().Name)
	}
	walk(reflect.ValueOf(stmt), inf.visit)
}

// inferrer infers parameter types from the nodes of a statement.
type inferrer struct {
	c       *conn
	ctx     context.Context
	oids    []uint32
	tables  []string
	columns map[string]map[string]uint32 // table → column → type OID
	order   map[string][]string          // table → columns in order
}

// param returns the parameter e stands for.
func param(e parser.Expr) (int, bool) {
	s, ok := e.(*parser.StringLit)
	if !ok || !strings.HasPrefix(s.Value, markerPrefix) {
		return 0, false
	}
	i, err := strconv.Atoi(s.Value[len(markerPrefix):])
	return i, err == nil
}

// set gives parameter i type oid unless it has one.
func (inf *inferrer) set(e parser.Expr, oid uint32) {
	if i, ok := param(e); ok && i < len(inf.oids) && inf.oids[i] == oidUnspecified && oid != oidUnspecified {
		inf.oids[i] = oid
	}
}

// typeOf returns the type of an expression when it is a column or a
// literal.
func (inf *inferrer) typeOf(e parser.Expr) uint32 {
	switch e := e.(type) {
	case *parser.ColumnRef:
		return inf.column(e.Column.Name)
	case *parser.IntLit:
		return oidInt8
	case *parser.FloatLit:
		return oidFloat8
	case *parser.BoolLit:
		return oidBool
	case *parser.TypedLit:
		return oidOf(e.Type)
	case *parser.StringLit:
		if _, ok := param(e); !ok {
			return oidText
		}
	case *parser.CastExpr:
		return oidOf(e.Type.Name)
	}
	return oidUnspecified
}

func (inf *inferrer) visit(n any) {
	switch n := n.(type) {
	case *parser.BinaryExpr:
		switch n.Op {
		case parser.OpAnd, parser.OpOr, parser.OpXor, parser.OpConcat:
			return
		}
		inf.set(n.Left, inf.typeOf(n.Right))
		inf.set(n.Right, inf.typeOf(n.Left))
	case *parser.InListExpr:
		t := inf.typeOf(n.X)
		for _, e := range n.List {
			inf.set(e, t)
			inf.set(n.X, inf.typeOf(e))
		}
	case *parser.BetweenExpr:
		t := inf.typeOf(n.X)
		inf.set(n.Low, t)
		inf.set(n.High, t)
	case *parser.LikeExpr:
		inf.set(n.Pattern, oidText)
		inf.set(n.X, oidText)
	case *parser.CastExpr:
		inf.set(n.X, oidOf(n.Type.Name))
	case *parser.Query:
		inf.set(n.Limit, oidInt8)
		inf.set(n.Offset, oidInt8)
	case *parser.Insert:
		table := n.Table.Table().Name
		var cols []string
		for _, id := range n.Columns {
			cols = append(cols, id.Name)
		}
		if cols == nil {
			inf.columnOf(table, "") // reads the table's columns
			cols = inf.order[table]
		}
		for _, row := range n.Rows {
			for j, e := range row {
				if j < len(cols) {
					inf.set(e, inf.columnOf(table, cols[j]))
				}
			}
		}
	}
}

// column returns the type of a column of the statement's tables.
func (inf *inferrer) column(name string) uint32 {
	for _, t := range inf.tables {
		if oid := inf.columnOf(t, name); oid != oidUnspecified {
			return oid
		}
	}
	return oidUnspecified
}

// columnOf returns the type of a column of table, reading the table's
// columns with DESCRIBE once.
func (inf *inferrer) columnOf(table, col string) uint32 {
	cols, ok := inf.columns[table]
	if !ok {
		cols = map[string]uint32{}
		inf.columns[table] = cols
		if inf.order == nil {
			inf.order = map[string][]string{}
		}
		inf.order[table] = inf.describe(table, cols)
	}
	return cols[col]
}

// describe reads the columns of table into cols and returns the columns an
// INSERT without a column list takes (all but tsid), in order.
func (inf *inferrer) describe(table string, cols map[string]uint32) []string {
	quoted := "`" + strings.ReplaceAll(table, "`", "``") + "`"
	res, err := inf.c.srv.o.Executor.Execute(inf.ctx, query.Session{Database: inf.c.db, User: inf.c.user}, "DESCRIBE "+quoted)
	if err != nil {
		return nil
	}
	defer res.Release()
	var order []string
	for _, rec := range res.Records {
		if rec.NumCols() < 2 {
			continue
		}
		names, ok1 := rec.Column(0).(*array.String)
		types, ok2 := rec.Column(1).(*array.String)
		if !ok1 || !ok2 {
			continue
		}
		for i := range names.Len() {
			name, typ := names.Value(i), types.Value(i)
			cols[name] = oidOf(typ)
			if name == "tsid" && typ == "uint64" {
				continue
			}
			order = append(order, name)
		}
	}
	return order
}

// oidOf returns the OID of a dialect type name (as DESCRIBE prints it, or
// in a CAST): the type result columns of that type are sent as.
func oidOf(name string) uint32 {
	kind, err := schema.ParseKind(name)
	if err != nil {
		return oidUnspecified
	}
	if kind == schema.Null {
		return oidUnspecified
	}
	return encoderFor(kind.ArrowType()).typ.oid
}

// walk calls fn for every pointer to a struct in a syntax tree, parents
// before children.
func walk(v reflect.Value, fn func(any)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Elem().Kind() == reflect.Struct {
			fn(v.Interface())
		}
		walk(v.Elem(), fn)
	case reflect.Interface:
		if !v.IsNil() {
			walk(v.Elem(), fn)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				walk(v.Field(i), fn)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walk(v.Index(i), fn)
		}
	}
}
