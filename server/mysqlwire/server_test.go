package mysqlwire

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
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

// startServer serves o on a free loopback port until the test ends and
// returns the server and its address.
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

func openDB(t testing.TB, addr, user, pass, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/public?%s", user, pass, addr, params))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

const allTypes = `CREATE TABLE all_types (
	ts timestamp NOT NULL, h string TAG, d double, f float, s string, vb varbinary,
	i64 bigint, u64 uint64, i32 int, u32 uint32, i16 smallint, u16 uint16, i8 tinyint, u8 uint8,
	b boolean, dt date, tm time, TIMESTAMP KEY(ts)) ENGINE=Analytic WITH (enable_ttl='false')`

const allColumns = "ts, h, d, f, s, vb, i64, u64, i32, u32, i16, u16, i8, u8, b, dt, tm"

// row is one row of all_types as go-sql-driver scans it.
type row struct {
	ts       time.Time
	h        string
	d        sql.NullFloat64
	f        sql.NullFloat64
	s        sql.NullString
	vb       []byte
	i64      sql.NullInt64
	u64      sql.Null[uint64]
	i32, u32 sql.NullInt64
	i16, u16 sql.NullInt64
	i8, u8   sql.NullInt64
	b        sql.NullBool
	dt       sql.NullTime
	tm       sql.NullString
}

func scanRows(t *testing.T, rows *sql.Rows) []row {
	t.Helper()
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.ts, &r.h, &r.d, &r.f, &r.s, &r.vb, &r.i64, &r.u64, &r.i32, &r.u32,
			&r.i16, &r.u16, &r.i8, &r.u8, &r.b, &r.dt, &r.tm); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDriver(t *testing.T) {
	_, addr := startServer(t, Options{})
	db := openDB(t, addr, "root", "", "parseTime=true&loc=UTC")
	ctx := context.Background()
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	mustExec := func(q string, args ...any) sql.Result {
		t.Helper()
		res, err := db.ExecContext(ctx, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return res
	}
	mustExec(allTypes)

	// A row written through the text protocol...
	res := mustExec(`INSERT INTO all_types (` + allColumns + `) VALUES (1700000000123, 'text', 1.5, 2.5, 'it''s', x'00ff',
		-9223372036854775808, 18446744073709551615, -2147483648, 4294967295, -32768, 65535, -128, 255, true, '2024-01-02', '12:34:56.789')`)
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("RowsAffected = %d, want 1", n)
	}
	// ... one through a prepared statement with a parameter of every type...
	ts := time.UnixMilli(1700000000456).UTC()
	res = mustExec(`INSERT INTO all_types (`+allColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ts, "prepared", math.Pi, float32(0.25), `quote ' backslash \ percent % nul `+"\x00", []byte{0xff, 0xfe, 0},
		int64(math.MinInt64), uint64(math.MaxUint64), int64(math.MinInt32), uint64(math.MaxUint32),
		int64(math.MinInt16), int64(math.MaxUint16), int64(math.MinInt8), int64(math.MaxUint8), true, "2024-02-29", "23:59:59.5")
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("RowsAffected = %d, want 1", n)
	}
	// ... and one of NULLs.
	mustExec(`INSERT INTO all_types (ts, h, d, f, s, vb, i64, u64, i32, u32, i16, u16, i8, u8, b, dt, tm)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		time.UnixMilli(1700000000789), "nulls", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)

	want := []row{
		{ts: time.UnixMilli(1700000000123).UTC(), h: "text", d: sql.NullFloat64{Float64: 1.5, Valid: true},
			f: sql.NullFloat64{Float64: 2.5, Valid: true}, s: sql.NullString{String: "it's", Valid: true}, vb: []byte{0, 0xff},
			i64: sql.NullInt64{Int64: math.MinInt64, Valid: true}, u64: sql.Null[uint64]{V: math.MaxUint64, Valid: true},
			i32: sql.NullInt64{Int64: math.MinInt32, Valid: true}, u32: sql.NullInt64{Int64: math.MaxUint32, Valid: true},
			i16: sql.NullInt64{Int64: math.MinInt16, Valid: true}, u16: sql.NullInt64{Int64: math.MaxUint16, Valid: true},
			i8: sql.NullInt64{Int64: math.MinInt8, Valid: true}, u8: sql.NullInt64{Int64: math.MaxUint8, Valid: true},
			b: sql.NullBool{Bool: true, Valid: true}, dt: sql.NullTime{Time: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), Valid: true},
			tm: sql.NullString{String: "12:34:56.789000", Valid: true}},
		{ts: ts, h: "prepared", d: sql.NullFloat64{Float64: math.Pi, Valid: true},
			f: sql.NullFloat64{Float64: 0.25, Valid: true}, s: sql.NullString{String: `quote ' backslash \ percent % nul ` + "\x00", Valid: true},
			vb:  []byte{0xff, 0xfe, 0},
			i64: sql.NullInt64{Int64: math.MinInt64, Valid: true}, u64: sql.Null[uint64]{V: math.MaxUint64, Valid: true},
			i32: sql.NullInt64{Int64: math.MinInt32, Valid: true}, u32: sql.NullInt64{Int64: math.MaxUint32, Valid: true},
			i16: sql.NullInt64{Int64: math.MinInt16, Valid: true}, u16: sql.NullInt64{Int64: math.MaxUint16, Valid: true},
			i8: sql.NullInt64{Int64: math.MinInt8, Valid: true}, u8: sql.NullInt64{Int64: math.MaxUint8, Valid: true},
			b: sql.NullBool{Bool: true, Valid: true}, dt: sql.NullTime{Time: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), Valid: true},
			tm: sql.NullString{String: "23:59:59.500000", Valid: true}},
		{ts: time.UnixMilli(1700000000789).UTC(), h: "nulls"},
	}
	check := func(name string, got []row) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows, want %d: %+v", name, len(got), len(want), got)
		}
		for i := range want {
			g, w := got[i], want[i]
			if !g.ts.Equal(w.ts) || !bytes.Equal(g.vb, w.vb) {
				t.Errorf("%s: row %d: ts %v vb %x, want %v %x", name, i, g.ts, g.vb, w.ts, w.vb)
			}
			g.ts, w.ts, g.vb, w.vb = time.Time{}, time.Time{}, nil, nil
			if fmt.Sprint(g) != fmt.Sprint(w) {
				t.Errorf("%s: row %d:\ngot  %+v\nwant %+v", name, i, g, w)
			}
		}
	}
	const sel = "SELECT " + allColumns + " FROM all_types ORDER BY ts"
	// The text protocol (no arguments: go-sql-driver sends COM_QUERY)...
	rows, err := db.QueryContext(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	check("text", scanRows(t, rows))
	// ... and the binary protocol of prepared statements.
	rows, err = db.QueryContext(ctx, "SELECT "+allColumns+" FROM all_types WHERE ts >= ? ORDER BY ts", time.UnixMilli(0))
	if err != nil {
		t.Fatal(err)
	}
	check("binary", scanRows(t, rows))

	// Parameters in WHERE, of several types, bind to the right rows.
	for _, tc := range []struct {
		where string
		arg   any
		want  string
	}{
		{"h = ?", "prepared", "prepared"},
		{"s = ?", "it's", "text"},
		{"i64 = ?", int64(math.MinInt64), "text"},
		{"u64 = ?", uint64(math.MaxUint64), "text"},
		{"d > ?", 3.0, "prepared"},
		{"b = ? AND i64 < 0", true, "text"},
		{"ts = ?", time.UnixMilli(1700000000456), "prepared"},
		{"ts > ? AND d IS NULL", "2023-11-14 22:13:20.500", "nulls"},
	} {
		var h string
		err := db.QueryRowContext(ctx, "SELECT h FROM all_types WHERE "+tc.where+" ORDER BY ts LIMIT 1", tc.arg).Scan(&h)
		if err != nil || h != tc.want {
			t.Errorf("WHERE %s [%v]: %q, %v; want %q", tc.where, tc.arg, h, err, tc.want)
		}
	}

	// An empty result still has its columns.
	for _, args := range [][]any{nil, {int64(-1)}} {
		q := "SELECT ts, h FROM all_types WHERE ts < 0"
		if args != nil {
			q = "SELECT ts, h FROM all_types WHERE ts < ?"
		}
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		if rows.Next() || strings.Join(cols, ",") != "ts,h" {
			t.Errorf("%s: columns %q, want ts,h and no rows", q, cols)
		}
		rows.Close()
	}

	// Column types as the driver sees them.
	rows, err = db.QueryContext(ctx, "SELECT "+allColumns+" FROM all_types LIMIT 1")
	if err != nil {
		t.Fatal(err)
	}
	types, _ := rows.ColumnTypes()
	var names []string
	for _, ct := range types {
		names = append(names, ct.DatabaseTypeName())
	}
	rows.Close()
	wantTypes := "DATETIME VARCHAR DOUBLE FLOAT VARCHAR LONGBLOB BIGINT UNSIGNED BIGINT INT UNSIGNED INT SMALLINT UNSIGNED SMALLINT TINYINT UNSIGNED TINYINT TINYINT DATE TIME"
	if got := strings.Join(names, " "); got != wantTypes {
		t.Errorf("column types:\ngot  %s\nwant %s", got, wantTypes)
	}
}

func TestDriverErrorsKeepConnection(t *testing.T) {
	_, addr := startServer(t, Options{})
	db := openDB(t, addr, "root", "", "")
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, tc := range []struct {
		sql   string
		args  []any
		code  uint16
		state string
	}{
		{"SELEC 1", nil, 1064, "42000"},
		{"SELECT * FROM nope", nil, 1146, "42S02"},
		{"SELECT * FROM nope WHERE a = ?", []any{1}, 1146, "42S02"},
		{"SELECT 1 +", []any{}, 1064, "42000"},
		{"SELECT nope FROM (SELECT 1 AS a)", nil, 1105, "HY000"},
		{"DELETE FROM t", nil, 1235, "42000"},
		{"CREATE TABLE t1 (ts timestamp NOT NULL, TIMESTAMP KEY(ts)) ENGINE=Analytic", nil, 0, ""},
		{"CREATE TABLE t1 (ts timestamp NOT NULL, TIMESTAMP KEY(ts)) ENGINE=Analytic", nil, 1050, "42S01"},
		{"SELECT 1; SELECT 2", nil, 1064, "42000"},
		{"  ", nil, 1065, "42000"},
		{"SELECT ?", []any{"x"}, 0, ""},
	} {
		_, err := conn.ExecContext(ctx, tc.sql, tc.args...)
		var me *mysql.MySQLError
		switch {
		case tc.code == 0 && err != nil:
			t.Errorf("%s: %v", tc.sql, err)
		case tc.code == 0:
		case !errors.As(err, &me):
			t.Errorf("%s: %v, want a MySQL error %d", tc.sql, err, tc.code)
		case me.Number != tc.code || string(me.SQLState[:]) != tc.state:
			t.Errorf("%s: error %d (%s) %q, want %d (%s)", tc.sql, me.Number, me.SQLState, me.Message, tc.code, tc.state)
		}
		// The connection is still usable.
		var one int
		if err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("after %q: SELECT 1 = %d, %v", tc.sql, one, err)
		}
	}
}

func TestDriverSessionAndCompat(t *testing.T) {
	_, addr := startServer(t, Options{Version: "1.2.3", MaxPacketSize: 8 << 20})
	db := openDB(t, addr, "root", "", "multiStatements=true")
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	queryString := func(q string, args ...any) string {
		t.Helper()
		var s sql.NullString
		if err := conn.QueryRowContext(ctx, q, args...).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return s.String
	}
	for q, want := range map[string]string{
		"SELECT @@version_comment LIMIT 1":          "HoraeDB 1.2.3",
		"select @@max_allowed_packet":               "8388608",
		"SELECT @@session.auto_increment_increment": "1",
		"SELECT @@SESSION.transaction_isolation":    "REPEATABLE-READ",
		"SELECT @@tx_isolation":                     "REPEATABLE-READ",
		"SELECT @@lower_case_table_names":           "0",
		"SELECT @@character_set_client":             "utf8mb4",
		"SELECT VERSION()":                          "8.0.36-HoraeDB-1.2.3",
		"SELECT DATABASE()":                         "public",
		"SELECT TIMEDIFF(NOW(), UTC_TIMESTAMP())":   "00:00:00",
		"/* mysql-connector-java-8.0.30 */ SELECT @@session.auto_increment_increment AS auto_increment_increment": "1",
		"SELECT @@no_such_variable": "",
	} {
		if got := queryString(q); got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
	// Prepared statements are answered by compat too; but only the forms
	// it knows.
	if got := queryString("SELECT @@version_comment AS v LIMIT ?", 1); got != "HoraeDB 1.2.3" {
		t.Errorf("prepared compat query: %q", got)
	}
	if err := conn.QueryRowContext(ctx, "SELECT @@version_comment WHERE 1 = ?", 1).Scan(new(string)); err == nil {
		t.Errorf("a WHERE must not be answered by compat")
	}
	// SHOW VARIABLES, with LIKE and WHERE.
	rows, err := conn.QueryContext(ctx, "SHOW VARIABLES LIKE 'max_allowed%'")
	if err != nil {
		t.Fatal(err)
	}
	var name, value string
	if !rows.Next() || rows.Scan(&name, &value) != nil || name != "max_allowed_packet" || value != "8388608" || rows.Next() {
		t.Errorf("SHOW VARIABLES LIKE: %s=%s", name, value)
	}
	rows.Close()
	rows, err = conn.QueryContext(ctx, "SHOW VARIABLES WHERE Variable_name = 'sql_mode' OR Variable_name = 'time_zone'")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if n != 2 {
		t.Errorf("SHOW VARIABLES WHERE: %d rows, want 2", n)
	}
	for _, q := range []string{"SET NAMES utf8mb4", "SET autocommit=1, sql_mode = 'ANSI'", "START TRANSACTION", "BEGIN",
		"COMMIT", "ROLLBACK", "LOCK TABLES t READ", "UNLOCK TABLES", "SHOW WARNINGS", "SHOW COLLATION", "SHOW CHARSET",
		"SHOW CHARACTER SET LIKE 'utf8%'", "SHOW ENGINES", "SHOW STATUS"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	// The session time zone changes how DATETIME values read.
	if _, err := conn.ExecContext(ctx, "SET time_zone = '+08:00'"); err != nil {
		t.Fatal(err)
	}
	if got := queryString("SELECT CAST(0 AS timestamp)"); got != "1970-01-01 08:00:00.000" {
		t.Errorf("SELECT CAST(0 AS timestamp) in +08:00 = %q", got)
	}
	if got := queryString("SELECT @@time_zone"); got != "+08:00" {
		t.Errorf("@@time_zone = %q", got)
	}
	if got := queryString("SELECT TIMEDIFF(NOW(), UTC_TIMESTAMP())"); got != "08:00:00" {
		t.Errorf("TIMEDIFF = %q", got)
	}
	var ms int64
	if err := conn.QueryRowContext(ctx, "SELECT CAST(? AS bigint)", time.Date(1970, 1, 1, 8, 0, 1, 0, time.UTC)).Scan(&ms); err == nil {
		// go-sql-driver sends a time as text in its own zone (UTC here):
		// the executor reads it in its zone, UTC.
		if ms != 28801000 {
			t.Errorf("time parameter = %d ms", ms)
		}
	}
	if _, err := conn.ExecContext(ctx, "SET time_zone = 'Nowhere/Else'"); err == nil {
		t.Error("an unknown time zone was accepted")
	}
	if _, err := conn.ExecContext(ctx, "SET time_zone = 'UTC'"); err != nil {
		t.Fatal(err)
	}

	// USE switches the schema; catalog-schema is split on '-'.
	for _, q := range []string{"USE other", "USE `horaedb-other`"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
		if got := queryString("SELECT DATABASE()"); got != "other" {
			t.Errorf("after %s: DATABASE() = %q", q, got)
		}
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE only_here (ts timestamp NOT NULL, TIMESTAMP KEY(ts)) ENGINE=Analytic"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT * FROM only_here"); err != nil {
		t.Errorf("the table of schema other: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "USE public"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT * FROM only_here"); err == nil {
		t.Error("the table of schema other is visible in public")
	}

	// Several statements in one COM_QUERY (multiStatements=true).
	rows, err = conn.QueryContext(ctx, "SELECT 1; SELECT 'two'; SELECT @@version_comment")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if !rows.NextResultSet() {
			break
		}
	}
	rows.Close()
	if strings.Join(got, ",") != "1,two,HoraeDB 1.2.3" {
		t.Errorf("multi-statement results: %q", got)
	}
	// An error stops the statements that follow it.
	if _, err := conn.ExecContext(ctx, "SELECT 1; SELECT * FROM nope; SELECT 3"); err == nil {
		t.Error("a failing statement among several gave no error")
	}
	if got := queryString("SELECT 'still usable'"); got != "still usable" {
		t.Error(got)
	}
}

func TestDriverAuth(t *testing.T) {
	users, err := auth.Parse([]byte("root,secret\nreader,\n"))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	_, addr := startServer(t, Options{Users: users, Registerer: reg})
	for _, tc := range []struct {
		user, pass string
		ok         bool
	}{
		{"root", "secret", true},
		{"reader", "", true},
		{"root", "wrong", false},
		{"root", "", false},
		{"reader", "x", false},
		{"nobody", "secret", false},
	} {
		db := openDB(t, addr, tc.user, tc.pass, "")
		var one int
		err := db.QueryRow("SELECT 1").Scan(&one)
		var me *mysql.MySQLError
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s/%s: %v", tc.user, tc.pass, err)
		case !tc.ok && (!errors.As(err, &me) || me.Number != 1045 || string(me.SQLState[:]) != "28000"):
			t.Errorf("%s/%s: %v, want error 1045 (28000)", tc.user, tc.pass, err)
		}
		db.Close()
	}
	if got := gathered(t, reg)["horaedb_mysql_statements_total"]; got != 2 {
		t.Errorf("statements counted: %v, want 2", got)
	}
}

func TestMetricsAndClose(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, addr := startServer(t, Options{Registerer: reg})
	db := openDB(t, addr, "root", "", "")
	if _, err := db.Exec("SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("SELECT * FROM nope"); err == nil {
		t.Fatal("no error")
	}
	m := gathered(t, reg)
	if m[`horaedb_mysql_statements_total{result="ok"}`] != 1 || m[`horaedb_mysql_statements_total{result="client_error"}`] != 1 {
		t.Errorf("statements: %v", m)
	}
	if m["horaedb_mysql_connections"] != 1 {
		t.Errorf("connections = %v", m["horaedb_mysql_connections"])
	}
	// Close closes the open connection and returns once its goroutine is
	// done; the client sees the connection gone.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("SELECT 1"); err == nil {
		t.Error("a query after Close succeeded")
	}
	if m := gathered(t, reg); len(m) != 0 {
		t.Errorf("metrics after Close: %v; want none registered", m)
	}
	// A second server can register the same metrics once the first closed.
	if _, err := New(Options{Executor: s.o.Executor, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
}

// TestLargePackets sends and receives a value over 16 MiB, which travels in
// several packets both ways.
func TestLargePackets(t *testing.T) {
	if testing.Short() {
		t.Skip("large packets")
	}
	_, addr := startServer(t, Options{})
	db := openDB(t, addr, "root", "", "")
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE big (ts timestamp NOT NULL, s string, TIMESTAMP KEY(ts)) ENGINE=Analytic WITH (enable_ttl='false')`); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("0123456789abcdef", (maxChunk+1000)/16)
	if _, err := db.ExecContext(ctx, "INSERT INTO big (ts, s) VALUES (1, ?)", big); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO big (ts, s) VALUES (2, '"+big+"')"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]any{nil, {0}} {
		q := "SELECT s FROM big ORDER BY ts"
		if args != nil {
			q = "SELECT s FROM big WHERE ts > ? ORDER BY ts"
		}
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			if s != big {
				t.Errorf("%s: got %d bytes back, want %d", q, len(s), len(big))
			}
			n++
		}
		rows.Close()
		if n != 2 {
			t.Errorf("%s: %d rows", q, n)
		}
	}
}

// gathered returns the values of the metrics in reg: by name (the sum of
// its series) and by name{label="value"} for each labelled series. A
// histogram's value is its sample count.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var v float64
			switch {
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				v = float64(m.GetHistogram().GetSampleCount())
			}
			out[mf.GetName()] += v
			for _, l := range m.GetLabel() {
				out[fmt.Sprintf("%s{%s=%q}", mf.GetName(), l.GetName(), l.GetValue())] += v
			}
		}
	}
	return out
}

// blockingExecutor runs every statement until its context ends.
type blockingExecutor struct{}

func (blockingExecutor) Execute(ctx context.Context, _ query.Session, _ string) (*query.Result, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestStatementTimeout checks that Options.Timeout (server.timeout)
// cancels a statement with ER_QUERY_TIMEOUT and keeps the connection.
func TestStatementTimeout(t *testing.T) {
	_, addr := startServer(t, Options{Executor: blockingExecutor{}, Timeout: 50 * time.Millisecond})
	db := openDB(t, addr, "root", "", "")
	db.SetMaxOpenConns(1)
	for range 2 {
		_, err := db.Exec("SELECT slow")
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 3024 || !strings.Contains(me.Message, "maximum statement execution time exceeded") {
			t.Errorf("timed-out statement: %v, want error 3024", err)
		}
	}
}
