// Package query runs HoraeDB's SQL dialect: it parses a statement
// (query/parser), plans it against the catalog, and executes it on Arrow
// record batches with a vectorized executor. DDL and INSERT go to the
// storage engine; SELECT scans tables with the time range and projection
// pushed down.
package query

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query/internal/exec"
)

// Sentinel errors. Errors the client caused wrap ErrInvalid (or one of the
// engine's or parser's client-error sentinels); see IsClientError.
var (
	// ErrInvalid is a statement that cannot run as written: an unknown
	// table or column, a type mismatch, a bad value.
	ErrInvalid = errors.New("query: invalid statement")
	// ErrUnsupported is a statement or feature we do not support.
	ErrUnsupported = errors.New("query: unsupported")
)

// Options configure an Executor.
type Options struct {
	// Catalog resolves and changes tables. Required.
	Catalog Catalog
	// Logger; default slog.Default().
	Logger *slog.Logger
	// TimeZone is the server's default time zone for time functions and
	// for timestamp strings without a zone; default UTC.
	TimeZone *time.Location
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Mem allocates Arrow memory; default memory.DefaultAllocator.
	Mem memory.Allocator
	// TableDefaults are the options of a new table before its WITH clause
	// ([analytic.table_opts]); default options.Default().
	TableDefaults *options.Table
	// ReadParallelism is how many partitions a table scan is split into,
	// each read, filtered and partially aggregated by its own goroutine
	// (query_engine.read_parallelism); default GOMAXPROCS.
	ReadParallelism int
	// MemoryLimit bounds the memory one statement may hold, in bytes
	// (query_engine.memory_limit); default 2 GiB; negative: unbounded.
	MemoryLimit int64
}

// Session is the per-request context of a statement.
type Session struct {
	// Database is the schema tables are resolved in; default "public".
	Database string
	// User is who sent the statement, when a front end authenticated
	// them by a handshake (MySQL, PostgreSQL); a node forwarding the
	// statement vouches for this user to the owner. "" otherwise.
	User string
}

// Result is the outcome of a statement: either a number of affected rows
// (DDL, INSERT) or a query result.
type Result struct {
	// AffectedRows counts rows written (INSERT) and is 0 for DDL.
	AffectedRows int64
	// Schema is the schema of a query's result; nil for DDL and DML.
	Schema *arrow.Schema
	// Records hold a query's rows (Execute).
	Records []arrow.RecordBatch

	op exec.Operator // ExecuteStream: the rows, not yet produced
}

// IsQuery reports whether the result holds rows (even zero of them).
func (r *Result) IsQuery() bool { return r.Schema != nil }

// NumRows counts the rows of a query result.
func (r *Result) NumRows() int64 {
	var n int64
	for _, rec := range r.Records {
		n += rec.NumRows()
	}
	return n
}

// Release releases the records, and stops a stream.
func (r *Result) Release() {
	for _, rec := range r.Records {
		rec.Release()
	}
	r.Records = nil
	if r.op != nil {
		r.op.Close()
		r.op = nil
	}
}

// Next returns the next batch of a query's rows, io.EOF after the last.
// After ExecuteStream it runs the executor for as long as one batch takes;
// after Execute it hands out Records (which it then no longer holds). The
// caller releases each batch, and the Result when done.
func (r *Result) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.op != nil {
		for {
			rec, err := r.op.Next(ctx)
			if err != nil || rec.NumRows() > 0 {
				return rec, err
			}
			rec.Release()
		}
	}
	if len(r.Records) == 0 {
		return nil, io.EOF
	}
	rec := r.Records[0]
	r.Records = r.Records[1:]
	return rec, nil
}

// Executor runs statements. Safe for concurrent use.
type Executor struct {
	o      Options
	limits atomic.Pointer[Limits] // nil: none
}

// NewExecutor returns an executor.
func NewExecutor(o Options) *Executor {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.TimeZone == nil {
		o.TimeZone = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
	if o.TableDefaults == nil {
		d := options.Default()
		o.TableDefaults = &d
	}
	if o.ReadParallelism <= 0 {
		o.ReadParallelism = runtime.GOMAXPROCS(0)
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = 2 << 30
	}
	return &Executor{o: o}
}

// Execute parses, plans and runs one SQL statement. A query's rows are
// gathered into Result.Records, within the statement memory limit.
func (x *Executor) Execute(ctx context.Context, sess Session, sql string) (*Result, error) {
	if sess.Database == "" {
		sess.Database = DefaultDatabase
	}
	return x.execute(ctx, sess, sql, false)
}

// ExecuteStream is Execute for callers that send rows on as they come: a
// SELECT returns as soon as it is planned, and Result.Next produces its
// batches one at a time, so a large result is never held whole. Other
// statements (DDL, INSERT, SHOW, EXPLAIN) run to completion as in
// Execute. The Result must be released.
func (x *Executor) ExecuteStream(ctx context.Context, sess Session, sql string) (*Result, error) {
	if sess.Database == "" {
		sess.Database = DefaultDatabase
	}
	return x.execute(ctx, sess, sql, true)
}

// DefaultDatabase is the schema of the default catalog.
const DefaultDatabase = "public"

// TableSchema returns the current schema of a table, for front ends that
// plan by columns (InfluxQL, PromQL); engine.ErrTableNotFound if none.
func (x *Executor) TableSchema(database, table string) (*schema.Schema, error) {
	t, err := x.o.Catalog.Table(database, table)
	if err != nil {
		return nil, err
	}
	return t.Schema(), nil
}

// LatestRows returns the newest row of every series of a table (see
// engine.Table.LatestRows), for front ends that answer "the last point of
// each series" without a scan; engine.ErrNoLatest when the table cannot.
// The caller releases the record.
func (x *Executor) LatestRows(ctx context.Context, database, table string) (arrow.RecordBatch, error) {
	t, err := x.o.Catalog.Table(database, table)
	if err != nil {
		return nil, err
	}
	if err := x.checkRead(t.Name(), engine.AllTime, false); err != nil {
		return nil, err
	}
	return t.LatestRows(ctx)
}

// TableNames lists the tables of a database, sorted.
func (x *Executor) TableNames(database string) []string { return x.o.Catalog.TableNames(database) }

// Databases lists the databases, sorted.
func (x *Executor) Databases() []string { return x.o.Catalog.Databases() }
