package query

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/query/internal/exec"
	"github.com/horaego/horaedb/query/internal/expr"
	"github.com/horaego/horaedb/query/parser"
)

// stmtCtx is the state of one statement.
type stmtCtx struct {
	x    *Executor
	sess Session
	ec   *expr.Ctx
	// stream leaves a SELECT's operator in Result.op instead of gathering
	// its rows (ExecuteStream).
	stream bool
}

func (x *Executor) execute(ctx context.Context, sess Session, sql string, stream bool) (*Result, error) {
	stmt, err := parser.Parse(sql)
	if err != nil {
		return nil, err
	}
	sc := &stmtCtx{x: x, sess: sess, stream: stream, ec: &expr.Ctx{Mem: x.o.Mem, Now: x.o.Now(), TimeZone: x.o.TimeZone,
		Budget: &expr.Budget{Limit: x.o.MemoryLimit}}}
	switch s := stmt.(type) {
	case *parser.Query:
		return sc.runQuery(ctx, s)
	case *parser.Insert:
		return sc.insert(ctx, s)
	case *parser.CreateTable:
		return sc.createTable(ctx, s)
	case *parser.DropTable:
		return sc.dropTable(ctx, s)
	case *parser.ShowTables:
		return sc.showTables(s)
	case *parser.ShowDatabases:
		return sc.showDatabases()
	case *parser.ShowCreateTable:
		return sc.showCreateTable(s)
	case *parser.DescribeTable:
		return sc.describe(s)
	case *parser.ExistsTable:
		return sc.exists(s)
	case *parser.AlterTableAddColumn:
		return sc.alterAddColumn(ctx, s)
	case *parser.AlterTableModifySetting:
		return sc.alterModifySetting(ctx, s)
	case *parser.Explain:
		return sc.explain(ctx, s)
	}
	return nil, fmt.Errorf("%w: %s statements are not supported yet", ErrUnsupported, statementKind(stmt))
}

func statementKind(s parser.Statement) string {
	switch s.(type) {
	case *parser.AlterTableAddColumn, *parser.AlterTableModifySetting:
		return "ALTER TABLE"
	case *parser.Explain:
		return "EXPLAIN"
	}
	return fmt.Sprintf("%T", s)
}

// table resolves a table name of a statement.
func (sc *stmtCtx) table(name parser.ObjectName) (*engine.Table, error) {
	t, err := sc.x.o.Catalog.Table(sc.sess.Database, name.Table().Name)
	if errors.Is(err, engine.ErrTableNotFound) {
		return nil, fmt.Errorf("%w: Table not found, table:%s", engine.ErrTableNotFound, name.Table().Name)
	}
	return t, err
}

// runQuery plans and runs a SELECT.
func (sc *stmtCtx) runQuery(ctx context.Context, q *parser.Query) (*Result, error) {
	rel, err := sc.planQuery(q, nil, 0)
	if err != nil {
		return nil, err
	}
	if sc.stream {
		return &Result{Schema: rel.op.Schema(), op: rel.op}, nil
	}
	recs, err := exec.Drain(ctx, rel.op, sc.ec)
	if err != nil {
		return nil, err
	}
	return &Result{Schema: rel.op.Schema(), Records: recs}, nil
}

// rowsResult builds a query result from string/bool/uint8 columns.
func (sc *stmtCtx) rowsResult(fields []arrow.Field, rows [][]any) *Result {
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(sc.ec.Mem, schema)
	defer b.Release()
	for _, row := range rows {
		for i, v := range row {
			switch fb := b.Field(i).(type) {
			case *array.StringBuilder:
				fb.Append(v.(string))
			case *array.BooleanBuilder:
				fb.Append(v.(bool))
			case *array.Uint8Builder:
				fb.Append(v.(uint8))
			}
		}
	}
	return &Result{Schema: schema, Records: []arrow.RecordBatch{b.NewRecordBatch()}}
}
