package pgwire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/auth"
	"github.com/horaego/horaedb/wal/local"
)

// newExecutor returns a query executor over a real engine in a temporary
// directory, closed when the test ends.
func newExecutor(t testing.TB) *query.Executor {
	t.Helper()
	dir := t.TempDir()
	w, err := local.Open(filepath.Join(dir, "wal"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := objstore.OpenLocal(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(engine.Options{WAL: w, Store: b, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); w.Close(); b.Close() })
	if err := e.OpenShard(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	return query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 1}})
}

// startServer serves o on a free loopback port until the test ends.
func startServer(t testing.TB, o Options) (*Server, string) {
	t.Helper()
	if o.Executor == nil {
		o.Executor = newExecutor(t)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, ln.Addr().String()
}

func connect(t testing.TB, addr, user, pass, db string, mode pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	conn, err := dial(addr, user, pass, db, mode)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func dial(addr, user, pass, db string, mode pgx.QueryExecMode) (*pgx.Conn, error) {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, pass), Host: addr, Path: "/" + db, RawQuery: "sslmode=disable&connect_timeout=5"}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = mode
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return pgx.ConnectConfig(ctx, cfg)
}

var modes = []struct {
	name string
	mode pgx.QueryExecMode
}{
	{"CacheStatement", pgx.QueryExecModeCacheStatement},
	{"CacheDescribe", pgx.QueryExecModeCacheDescribe},
	{"DescribeExec", pgx.QueryExecModeDescribeExec},
	{"Exec", pgx.QueryExecModeExec},
	{"SimpleProtocol", pgx.QueryExecModeSimpleProtocol},
}

const allTypes = `CREATE TABLE %s (
	ts timestamp NOT NULL, h string TAG, d double, f float, s string, vb varbinary,
	i64 bigint, u64 uint64, i32 int, u32 uint32, i16 smallint, u16 uint16, i8 tinyint, u8 uint8,
	b boolean, dt date, tm time, TIMESTAMP KEY(ts)) ENGINE=Analytic WITH (enable_ttl='false')`

const allColumns = "ts, h, d, f, s, vb, i64, u64, i32, u32, i16, u16, i8, u8, b, dt, tm"

// pgRow is one row of the all-types table as pgx scans it.
type pgRow struct {
	TS       time.Time
	H        string
	D        *float64
	F        *float32
	S        *string
	VB       []byte
	I64      *int64
	U64      pgtype.Numeric
	I32, U32 *int64
	I16, U16 *int32
	I8, U8   *int16
	B        *bool
	DT       pgtype.Date
	TM       pgtype.Time
}

func (r *pgRow) dest() []any {
	return []any{&r.TS, &r.H, &r.D, &r.F, &r.S, &r.VB, &r.I64, &r.U64, &r.I32, &r.U32, &r.I16, &r.U16, &r.I8, &r.U8, &r.B, &r.DT, &r.TM}
}

func TestPgx(t *testing.T) {
	_, addr := startServer(t, Options{})
	ctx := context.Background()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			conn := connect(t, addr, "root", "", "public", m.mode)
			table := "t_" + strings.ToLower(m.name)
			if _, err := conn.Exec(ctx, fmt.Sprintf(allTypes, table)); err != nil {
				t.Fatal(err)
			}
			// A row of literals, one of parameters of every type, one of
			// NULLs.
			tag, err := conn.Exec(ctx, `INSERT INTO `+table+` (`+allColumns+`) VALUES (1700000000123, 'lit', 1.5, 2.5, 'it''s',
				x'00ff', -9223372036854775808, 18446744073709551615, -2147483648, 4294967295, -32768, 65535, -128, 255,
				true, '2024-01-02', '12:34:56.789')`)
			if err != nil || tag.String() != "INSERT 0 1" {
				t.Fatalf("insert: %q %v", tag, err)
			}
			params := []any{"params", math.Pi, float32(0.25), `quote ' backslash \ done`,
				[]byte{0xff, 0xfe, 0}, int64(math.MinInt64), int64(math.MaxInt64), int64(math.MinInt32), int64(math.MaxUint32),
				int64(math.MinInt16), int64(math.MaxUint16), int64(math.MinInt8), int64(math.MaxUint8), true}
			q := `INSERT INTO ` + table + ` (` + allColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`
			ts := time.UnixMilli(1700000000456).UTC()
			dates := []any{ts, "2024-02-29", "23:59:59.5"}
			if m.mode != pgx.QueryExecModeSimpleProtocol && m.mode != pgx.QueryExecModeExec {
				// The described types: a time.Time for the date, a
				// pgtype.Time for the time.
				dates = []any{ts, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), pgtype.Time{Microseconds: 86399500000, Valid: true}}
			}
			if m.mode == pgx.QueryExecModeSimpleProtocol {
				// pgx writes a time as '2023-11-14 22:13:20.456Z', which
				// the executor does not read (docs/compatibility.md).
				dates[0] = ts.Format(time.RFC3339Nano)
			}
			args := append([]any{dates[0]}, params...)
			args = append(args, dates[1], dates[2])
			if _, err := conn.Exec(ctx, q, args...); err != nil {
				t.Fatalf("insert with parameters: %v", err)
			}
			var nullTS any = time.UnixMilli(1700000000789).UTC()
			if m.mode == pgx.QueryExecModeSimpleProtocol {
				nullTS = "2023-11-14T22:13:20.789Z"
			}
			if _, err := conn.Exec(ctx, q, nullTS, "nulls", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil); err != nil {
				t.Fatalf("insert of NULLs: %v", err)
			}

			rows, err := conn.Query(ctx, "SELECT "+allColumns+" FROM "+table+" ORDER BY ts")
			if err != nil {
				t.Fatal(err)
			}
			var got []pgRow
			for rows.Next() {
				var r pgRow
				if err := rows.Scan(r.dest()...); err != nil {
					t.Fatal(err)
				}
				got = append(got, r)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 {
				t.Fatalf("%d rows, want 3", len(got))
			}
			lit, par, null := got[0], got[1], got[2]
			u64, _ := lit.U64.Int64Value()
			if !lit.TS.Equal(time.UnixMilli(1700000000123)) || lit.H != "lit" || *lit.D != 1.5 || *lit.F != 2.5 || *lit.S != "it's" ||
				string(lit.VB) != "\x00\xff" || *lit.I64 != math.MinInt64 || lit.U64.Int.String() != "18446744073709551615" || u64.Valid ||
				*lit.I32 != math.MinInt32 || *lit.U32 != math.MaxUint32 || *lit.I16 != math.MinInt16 || *lit.U16 != math.MaxUint16 ||
				*lit.I8 != math.MinInt8 || *lit.U8 != math.MaxUint8 || !*lit.B ||
				!lit.DT.Time.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) || lit.TM.Microseconds != 45296789000 {
				t.Errorf("row of literals: %+v", lit)
			}
			if !par.TS.Equal(ts) || par.H != "params" || *par.D != math.Pi || *par.F != 0.25 || *par.S != `quote ' backslash \ done` ||
				*par.I64 != math.MinInt64 || par.U64.Int.String() != "9223372036854775807" ||
				*par.I32 != math.MinInt32 || *par.U32 != math.MaxUint32 || *par.U16 != math.MaxUint16 || *par.U8 != math.MaxUint8 || !*par.B ||
				!par.DT.Time.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) || par.TM.Microseconds != 86399500000 {
				t.Errorf("row of parameters: %+v", par)
			}
			if m.mode != pgx.QueryExecModeSimpleProtocol && string(par.VB) != "\xff\xfe\x00" {
				// The simple protocol sends bytes as the text '\xfffe00'
				// (docs/compatibility.md).
				t.Errorf("bytes parameter: %x", par.VB)
			}
			if null.H != "nulls" || null.D != nil || null.F != nil || null.S != nil || null.VB != nil || null.I64 != nil ||
				null.U64.Valid || null.I32 != nil || null.B != nil || null.DT.Valid || null.TM.Valid {
				t.Errorf("row of NULLs: %+v", null)
			}

			// Parameters in WHERE bind to the right rows.
			for _, tc := range []struct {
				where string
				arg   any
				want  string
			}{
				{"h = $1", "params", "params"},
				{"s = $1", "it's", "lit"},
				{"i64 = $1 AND h <> 'params'", int64(math.MinInt64), "lit"},
				{"d > $1", 3.0, "params"},
				{"b = $1 AND h = 'lit'", true, "lit"},
				{"u32 = $1 AND h = 'lit'", int64(math.MaxUint32), "lit"},
				{"h LIKE $1", "par%", "params"},
				{"h IN ($1, 'x')", "nulls", "nulls"},
				{"ts BETWEEN $1 AND 1700000000500", time.UnixMilli(1700000000400), "params"},
			} {
				if m.mode == pgx.QueryExecModeSimpleProtocol && strings.HasPrefix(tc.where, "ts") {
					continue // a time is sent as text the executor does not read
				}
				var h string
				err := conn.QueryRow(ctx, "SELECT h FROM "+table+" WHERE "+tc.where+" ORDER BY ts LIMIT 1", tc.arg).Scan(&h)
				if err != nil || h != tc.want {
					t.Errorf("WHERE %s [%v]: %q, %v; want %q", tc.where, tc.arg, h, err, tc.want)
				}
			}
			if m.mode != pgx.QueryExecModeSimpleProtocol {
				var h string
				err := conn.QueryRow(ctx, "SELECT h FROM "+table+" WHERE ts = $1", ts).Scan(&h)
				if err != nil || h != "params" {
					t.Errorf("WHERE ts = $1 [time]: %q %v", h, err)
				}
			}
			var n int64
			if m.mode != pgx.QueryExecModeSimpleProtocol { // LIMIT '5' is not read as a number
				if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table+" LIMIT $1", 5).Scan(&n); err != nil || n != 3 {
					t.Errorf("LIMIT $1: %d %v", n, err)
				}
			}
			var cast int64
			if err := conn.QueryRow(ctx, "SELECT $1::int8 + 1", 41).Scan(&cast); err != nil || cast != 42 {
				t.Errorf("$1::int8: %d %v", cast, err)
			}

			// An empty result has its columns.
			rows, err = conn.Query(ctx, "SELECT ts, h FROM "+table+" WHERE ts < 0")
			if err != nil {
				t.Fatal(err)
			}
			if rows.Next() {
				t.Error("rows in an empty result")
			}
			fds := rows.FieldDescriptions()
			rows.Close()
			if len(fds) != 2 || fds[0].Name != "ts" || fds[0].DataTypeOID != oidTimestamptz || fds[1].DataTypeOID != oidText {
				t.Errorf("empty result columns: %+v", fds)
			}

			// Errors have their SQLSTATE and leave the connection usable.
			for _, tc := range []struct {
				sql  string
				args []any
				code string
			}{
				{"SELEC 1", nil, "42601"},
				{"SELECT * FROM nope", nil, "42P01"},
				{"SELECT * FROM nope WHERE a = $1", []any{1}, "42P01"},
				{"SELECT nope FROM " + table, nil, "42000"},
				{"DELETE FROM " + table, nil, "0A000"},
				{fmt.Sprintf(allTypes, table), nil, "42P07"},
			} {
				_, err := conn.Exec(ctx, tc.sql, tc.args...)
				var pe *pgconn.PgError
				if !errors.As(err, &pe) || pe.Code != tc.code {
					t.Errorf("%s: %v, want SQLSTATE %s", tc.sql, err, tc.code)
				}
				var one int
				if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
					t.Fatalf("after %q: %d %v", tc.sql, one, err)
				}
			}

			// Compatibility queries.
			var v string
			if err := conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil || !strings.HasPrefix(v, "PostgreSQL 14.0") {
				t.Errorf("version(): %q %v", v, err)
			}
			if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil || v != "14.0" {
				t.Errorf("SHOW server_version: %q %v", v, err)
			}
			if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&v); err != nil || v != "public" {
				t.Errorf("current_database(): %q %v", v, err)
			}
			for _, q := range []string{"SET search_path TO public", "BEGIN", "COMMIT", "ROLLBACK", "RESET ALL", "DISCARD ALL"} {
				if _, err := conn.Exec(ctx, q); err != nil {
					t.Errorf("%s: %v", q, err)
				}
			}
		})
	}
}

// TestPgxTransaction: pgx's Begin and Commit go through compat; the
// statements inside run on their own.
func TestPgxTransaction(t *testing.T) {
	_, addr := startServer(t, Options{})
	ctx := context.Background()
	conn := connect(t, addr, "root", "", "", pgx.QueryExecModeCacheStatement)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if conn.PgConn().TxStatus() != 'T' {
		t.Errorf("in a transaction the status is %q", conn.PgConn().TxStatus())
	}
	var one int
	if err := tx.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if conn.PgConn().TxStatus() != 'I' {
		t.Errorf("after COMMIT the status is %q", conn.PgConn().TxStatus())
	}
}

func TestPgxSchemaAndBatch(t *testing.T) {
	_, addr := startServer(t, Options{})
	ctx := context.Background()
	other := connect(t, addr, "root", "", "horaedb-other", pgx.QueryExecModeCacheStatement)
	if _, err := other.Exec(ctx, "CREATE TABLE only_here (ts timestamp NOT NULL, TIMESTAMP KEY(ts)) ENGINE=Analytic"); err != nil {
		t.Fatal(err)
	}
	var db string
	if err := other.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil || db != "other" {
		t.Errorf("current_database() = %q %v", db, err)
	}
	pub := connect(t, addr, "root", "", "root", pgx.QueryExecModeCacheStatement)
	if _, err := pub.Exec(ctx, "SELECT * FROM only_here"); err == nil {
		t.Error("the table of schema other is visible in public")
	}
	// A batch: several statements in one round trip, one Sync.
	b := &pgx.Batch{}
	b.Queue("SELECT 1")
	b.Queue("SELECT $1::text", "two")
	b.Queue("SHOW TABLES")
	res := other.SendBatch(ctx, b)
	var one int
	var two, table string
	if err := res.QueryRow().Scan(&one); err != nil {
		t.Fatal(err)
	}
	if err := res.QueryRow().Scan(&two); err != nil || two != "two" {
		t.Fatal(two, err)
	}
	if err := res.QueryRow().Scan(&table); err != nil || table != "only_here" {
		t.Fatal(table, err)
	}
	if err := res.Close(); err != nil {
		t.Fatal(err)
	}
	// Simple protocol with several statements in one message.
	mrr := other.PgConn().Exec(ctx, "SELECT 1; SELECT 'x'; SHOW TABLES")
	results, err := mrr.ReadAll()
	if err != nil || len(results) != 3 || string(results[1].Rows[0][0]) != "x" {
		t.Errorf("multi-statement query: %d results, %v", len(results), err)
	}
	// A failing statement stops the ones after it.
	results, err = other.PgConn().Exec(ctx, "SELECT 1; SELECT * FROM nope; SELECT 3").ReadAll()
	if err == nil || len(results) != 1 {
		t.Errorf("after an error: %d results, %v", len(results), err)
	}
}

func TestPgxAuth(t *testing.T) {
	users, err := auth.Parse([]byte("root,secret\nreader,\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []AuthMethod{AuthMD5, AuthPassword} {
		t.Run(string(method), func(t *testing.T) {
			_, addr := startServer(t, Options{Users: users, AuthMethod: method})
			for _, tc := range []struct {
				user, pass string
				ok         bool
			}{
				{"root", "secret", true},
				{"root", "wrong", false},
				{"nobody", "secret", false},
				{"reader", "", true},
			} {
				conn, err := dial(addr, tc.user, tc.pass, "public", pgx.QueryExecModeCacheStatement)
				var pe *pgconn.PgError
				switch {
				case tc.ok && err != nil:
					t.Errorf("%s/%s: %v", tc.user, tc.pass, err)
				case !tc.ok && (!errors.As(err, &pe) || pe.Code != "28P01"):
					t.Errorf("%s/%s: %v, want 28P01", tc.user, tc.pass, err)
				}
				if conn != nil {
					conn.Close(context.Background())
				}
			}
		})
	}
}

func TestCancelRequest(t *testing.T) {
	slow := &blockingExecutor{started: make(chan struct{}, 1)}
	_, addr := startServer(t, Options{Executor: slow})
	conn := connect(t, addr, "root", "", "", pgx.QueryExecModeSimpleProtocol)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, "SELECT slow")
		errc <- err
	}()
	select {
	case <-slow.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the statement did not start")
	}
	// Cancelling the context makes pgx send a CancelRequest on a new
	// connection; the server cancels the statement's context.
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("the cancelled statement succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the statement was not cancelled")
	}
}

// blockingExecutor runs every statement until its context ends.
type blockingExecutor struct{ started chan struct{} }

func (b *blockingExecutor) Execute(ctx context.Context, _ query.Session, _ string) (*query.Result, error) {
	b.started <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestCloseCancelsStatements(t *testing.T) {
	slow := &blockingExecutor{started: make(chan struct{}, 1)}
	reg := prometheus.NewRegistry()
	s, addr := startServer(t, Options{Executor: slow, Registerer: reg})
	conn := connect(t, addr, "root", "", "", pgx.QueryExecModeSimpleProtocol)
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(context.Background(), "SELECT slow")
		errc <- err
	}()
	<-slow.started
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err == nil {
		t.Error("the statement succeeded although the server closed")
	}
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 0 {
		t.Errorf("metrics after Close: %d families, %v", len(mfs), err)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, addr := startServer(t, Options{Registerer: reg})
	conn := connect(t, addr, "root", "", "", pgx.QueryExecModeCacheStatement)
	ctx := context.Background()
	conn.Exec(ctx, "SELECT 1")
	conn.Exec(ctx, "SELECT * FROM nope")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				got[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				got[name] = m.GetGauge().GetValue()
			}
		}
	}
	if got["horaedb_postgresql_connections"] != 1 || got["horaedb_postgresql_statements_total/ok"] < 1 ||
		got["horaedb_postgresql_statements_total/client_error"] != 1 {
		t.Errorf("metrics: %v", got)
	}
}

// TestStatementTimeout checks that Options.Timeout (server.timeout)
// cancels a statement with 57014 and keeps the connection.
func TestStatementTimeout(t *testing.T) {
	slow := &blockingExecutor{started: make(chan struct{}, 2)}
	_, addr := startServer(t, Options{Executor: slow, Timeout: 50 * time.Millisecond})
	conn := connect(t, addr, "root", "", "", pgx.QueryExecModeSimpleProtocol)
	for range 2 {
		_, err := conn.Exec(context.Background(), "SELECT slow")
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57014" || !strings.Contains(pe.Message, "statement timeout") {
			t.Errorf("timed-out statement: %v, want 57014", err)
		}
	}
}
