// Package influxql answers InfluxQL (InfluxDB 1.x's query language) from
// our tables: a measurement is a table, tags are its TAG columns, fields
// its other columns, time its timestamp key. Statements are parsed by
// github.com/influxdata/influxql and translated into SQL of our dialect,
// so that time ranges, tag filters and aggregation run in the executor
// with its pruning and parallelism; what SQL has no word for (series per
// tag set, fill, per-series LIMIT and SLIMIT) is done here on the rows
// the SQL returns.
package influxql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/influxdata/influxql"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
)

// ErrInvalid wraps errors in a statement: the client's.
var ErrInvalid = errors.New("influxql: invalid statement")

// Executor runs SQL and describes tables; *query.Executor.
type Executor interface {
	Execute(ctx context.Context, sess query.Session, sql string) (*query.Result, error)
	TableSchema(database, table string) (*schema.Schema, error)
	LatestRows(ctx context.Context, database, table string) (arrow.RecordBatch, error)
	TableNames(database string) []string
	Databases() []string
}

// Time is a timestamp in milliseconds in a result; renderers format it as
// the request asks (RFC 3339 or an epoch unit).
type Time int64

// Tag is one tag of a series.
type Tag struct{ Key, Value string }

// Series is one series of a statement's result: rows of one measurement
// and one tag set. Values hold Time, float64, int64, uint64, string, bool
// or nil.
type Series struct {
	Name    string
	Tags    []Tag
	Columns []string
	Values  [][]any
}

// Result is the outcome of one statement: its series, or its error.
type Result struct {
	Series []Series
	Err    error
}

// Engine runs InfluxQL queries.
type Engine struct {
	x Executor
}

// New returns an Engine over x.
func New(x Executor) *Engine { return &Engine{x: x} }

// Run parses q and runs its statements in database db, with now for
// now() and for the end of GROUP BY time ranges that name none. A parse
// error fails the whole request (error); an error of one statement is in
// its Result.
func (e *Engine) Run(ctx context.Context, db, q string, now time.Time) ([]Result, error) {
	parsed, err := influxql.ParseQuery(q)
	if err != nil {
		return nil, fmt.Errorf("%w: error parsing query: %v", ErrInvalid, err)
	}
	if db == "" {
		db = query.DefaultDatabase
	}
	out := make([]Result, 0, len(parsed.Statements))
	for _, st := range parsed.Statements {
		series, err := e.run(ctx, db, st, now)
		out = append(out, Result{Series: series, Err: err})
	}
	return out, nil
}

func (e *Engine) run(ctx context.Context, db string, st influxql.Statement, now time.Time) ([]Series, error) {
	switch s := st.(type) {
	case *influxql.SelectStatement:
		return e.selectStatement(ctx, db, s, now)
	case *influxql.ShowDatabasesStatement:
		return e.showDatabases(), nil
	case *influxql.ShowMeasurementsStatement:
		return e.showMeasurements(db, s)
	case *influxql.ShowTagKeysStatement:
		return e.showTagKeys(db, s)
	case *influxql.ShowTagValuesStatement:
		return e.showTagValues(ctx, db, s)
	case *influxql.ShowFieldKeysStatement:
		return e.showFieldKeys(db, s)
	case *influxql.ShowRetentionPoliciesStatement:
		return []Series{{Columns: []string{"name", "duration", "shardGroupDuration", "replicaN", "default"},
			Values: [][]any{{"autogen", "0s", "168h0m0s", int64(1), true}}}}, nil
	case *influxql.CreateDatabaseStatement, *influxql.CreateRetentionPolicyStatement:
		return nil, nil // databases are schemas, created with their first table
	}
	return nil, fmt.Errorf("%w: %s statements are not supported", ErrInvalid, statementName(st))
}

func statementName(st influxql.Statement) string {
	s := fmt.Sprintf("%T", st)
	s = strings.TrimPrefix(s, "*influxql.")
	return strings.TrimSuffix(s, "Statement")
}

// table describes the measurement a SELECT reads.
type table struct {
	name   string
	schema *schema.Schema
	ts     string // the timestamp column
}

func (t *table) column(name string) (schema.Column, bool) {
	i := t.schema.Index(name)
	if i < 0 {
		return schema.Column{}, false
	}
	return t.schema.Columns[i], true
}

// fields lists the field columns (not tags, time or tsid) in name order.
func (t *table) fields() []schema.Column {
	var out []schema.Column
	for i, c := range t.schema.Columns {
		if !c.IsTag && i != t.schema.TimestampIndex && i != t.schema.TsidIndex {
			out = append(out, c)
		}
	}
	sortColumns(out)
	return out
}

// tags lists the tag columns in name order.
func (t *table) tags() []schema.Column {
	var out []schema.Column
	for _, c := range t.schema.Columns {
		if c.IsTag {
			out = append(out, c)
		}
	}
	sortColumns(out)
	return out
}

func sortColumns(cs []schema.Column) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].Name < cs[j-1].Name; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// ident quotes an identifier for our SQL.
func ident(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

// literal quotes a string for our SQL.
func literal(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
}
