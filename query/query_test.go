package query_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/parser"
	"github.com/horaego/horaedb/wal/local"
)

type env struct {
	t *testing.T
	x *query.Executor
	e *engine.Engine
}

func newEnv(t *testing.T) *env {
	t.Helper()
	w, err := local.Open(filepath.Join(t.TempDir(), "wal"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := objstore.NewMemory()
	e, err := engine.Open(engine.Options{Now: epochClock, WAL: w, Store: b, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); w.Close(); b.Close() })
	for s := uint32(0); s < 2; s++ {
		if err := e.OpenShard(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	x := query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 2},
		Now: func() time.Time { return time.UnixMilli(1_700_000_000_000) }})
	return &env{t: t, x: x, e: e}
}

// run executes sql and renders the result: "affected_rows: N" or a header
// line of column names and one line per row.
func (v *env) run(sql string) (string, error) {
	res, err := v.x.Execute(context.Background(), query.Session{}, sql)
	if err != nil {
		return "", err
	}
	defer res.Release()
	if !res.IsQuery() {
		return fmt.Sprintf("affected_rows: %d", res.AffectedRows), nil
	}
	var b strings.Builder
	for i, f := range res.Schema.Fields() {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(f.Name)
	}
	for _, rec := range res.Records {
		for r := 0; r < int(rec.NumRows()); r++ {
			b.WriteString("\n")
			for c := 0; c < int(rec.NumCols()); c++ {
				if c > 0 {
					b.WriteString(",")
				}
				b.WriteString(cell(rec.Column(c), r))
			}
		}
	}
	return b.String(), nil
}

func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch a := a.(type) {
	case *array.Timestamp:
		return fmt.Sprint(int64(a.Value(i)))
	case *array.String:
		return a.Value(i)
	}
	return a.ValueStr(i)
}

func (v *env) must(sql string) string {
	v.t.Helper()
	out, err := v.run(sql)
	if err != nil {
		v.t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func (v *env) expect(sql, want string) {
	v.t.Helper()
	if got := v.must(sql); got != want {
		v.t.Errorf("%s\ngot:\n%s\nwant:\n%s", sql, got, want)
	}
}

func (v *env) expectErr(sql, contains string, client bool) {
	v.t.Helper()
	_, err := v.run(sql)
	if err == nil || !strings.Contains(err.Error(), contains) {
		v.t.Errorf("%s: err = %v, want one containing %q", sql, err, contains)
		return
	}
	if query.IsClientError(err) != client {
		v.t.Errorf("%s: IsClientError(%v) = %v, want %v", sql, err, !client, client)
	}
}

const demo = "CREATE TABLE demo (name string TAG, value double NOT NULL, t timestamp NOT NULL, TIMESTAMP KEY(t)) ENGINE=Analytic WITH (enable_ttl='false')"

func TestBasic(t *testing.T) {
	v := newEnv(t)
	v.expect(demo, "affected_rows: 0")
	v.expect("INSERT INTO demo (t, name, value) VALUES (1651737067000, 'horaedb', 100)", "affected_rows: 1")
	// The reference's exact tsid for name='horaedb'.
	v.expect("SELECT * FROM demo", "tsid,t,name,value\n1023872802579860359,1651737067000,horaedb,100")
	v.expect("SHOW CREATE TABLE demo", "Table,Create Table\ndemo,CREATE TABLE `demo` (`tsid` uint64 NOT NULL, `t` timestamp NOT NULL, `name` string TAG, `value` double NOT NULL, PRIMARY KEY(tsid,t), TIMESTAMP KEY(t)) ENGINE=Analytic WITH(arena_block_size='2097152', compaction_strategy='default', compression='ZSTD', enable_ttl='false', layered_enable='false', layered_mutable_switch_threshold='3145728', memtable_type='skiplist', num_rows_per_row_group='8192', segment_duration='', storage_format='AUTO', ttl='7d', update_mode='OVERWRITE', write_buffer_size='33554432')")
	v.expect("DESCRIBE demo", "name,type,is_primary,is_nullable,is_tag,is_dictionary\ntsid,uint64,true,false,false,false\nt,timestamp,true,false,false,false\nname,string,false,true,true,false\nvalue,double,false,false,false,false")
	v.expect("SHOW TABLES", "Tables\ndemo")
	v.expect("SHOW TABLES LIKE 'de%'", "Tables\ndemo")
	v.expect("SHOW TABLES LIKE 'x%'", "Tables")
	v.expect("SHOW DATABASES", "Schemas\npublic")
	v.expect("EXISTS TABLE demo", "result\n1")
	v.expect("EXISTS TABLE nope", "result\n0")
	v.expect("CREATE TABLE IF NOT EXISTS demo (t timestamp NOT NULL)", "affected_rows: 0")
	v.expectErr("CREATE TABLE demo (t timestamp NOT NULL)", "Table already exists", true)
	v.expect("DROP TABLE demo", "affected_rows: 0")
	v.expect("DROP TABLE IF EXISTS demo", "affected_rows: 0")
	v.expectErr("DROP TABLE demo", "Table not found, table:demo", true)
}

func TestSelect(t *testing.T) {
	v := newEnv(t)
	v.must("CREATE TABLE cpu (host string TAG, region string TAG, usage double, t timestamp NOT NULL, TIMESTAMP KEY(t))")
	v.must(`INSERT INTO cpu (host, region, usage, t) VALUES
		('a', 'eu', 1.5, 1000), ('a', 'eu', 2.5, 2000), ('a', 'eu', 3.5, 61000),
		("b", 'us', 10, 1000), ('b', 'us', 20, 2000), ('c', 'us', NULL, 3000)`)
	for _, tc := range []struct{ sql, want string }{
		{"SELECT host, usage FROM cpu WHERE host = 'a' ORDER BY t", "host,usage\na,1.5\na,2.5\na,3.5"},
		{"SELECT host, usage FROM cpu WHERE usage > 2 AND usage < 15 ORDER BY usage DESC", "host,usage\nb,10\na,3.5\na,2.5"},
		{"SELECT host FROM cpu WHERE host IN ('b', 'c') AND t BETWEEN 1000 AND 2000 ORDER BY host", "host\nb\nb"},
		{"SELECT host FROM cpu WHERE NOT (host = 'a' OR host = 'b')", "host\nc"},
		{"SELECT host, t FROM cpu WHERE t >= '1970-01-01 00:00:02' AND t < '1970-01-01T00:01:00Z' ORDER BY host", "host,t\na,2000\nb,2000\nc,3000"},
		{"SELECT count(*), count(usage), sum(usage), min(usage), max(usage), avg(usage) FROM cpu",
			"COUNT(*),COUNT(cpu.usage),SUM(cpu.usage),MIN(cpu.usage),MAX(cpu.usage),AVG(cpu.usage)\n6,5,37.5,1.5,20,7.5"},
		{"SELECT host, count(*) AS n, sum(usage) FROM cpu GROUP BY host ORDER BY host", "host,n,SUM(cpu.usage)\na,3,7.5\nb,2,30\nc,1,NULL"},
		{"SELECT region, count(DISTINCT host) FROM cpu GROUP BY region ORDER BY 1", "region,COUNT(DISTINCT cpu.host)\neu,1\nus,2"},
		{"SELECT time_bucket(t, 'PT1M') AS b, count(*) FROM cpu GROUP BY b ORDER BY b DESC", "b,COUNT(*)\n60000,1\n0,5"},
		{"SELECT time_bucket(t, 'PT1M'), max(usage) FROM cpu GROUP BY time_bucket(t, 'PT1M') ORDER BY 1",
			"time_bucket(cpu.t,Utf8(\"PT1M\")),MAX(cpu.usage)\n0,20\n60000,3.5"},
		{"SELECT host, sum(usage) AS s FROM cpu GROUP BY host HAVING sum(usage) > 7 ORDER BY s", "host,s\na,7.5\nb,30"},
		{"SELECT host FROM cpu ORDER BY usage DESC LIMIT 2", "host\nc\nb"}, // NULLs first when descending
		{"SELECT host FROM cpu ORDER BY t, host LIMIT 2 OFFSET 1", "host\nb\na"},
		{"SELECT DISTINCT region FROM cpu ORDER BY region", "region\neu\nus"},
		{"SELECT usage * 2 + 1 AS x FROM cpu WHERE host = 'b' ORDER BY x", "x\n21\n41"},
		{"SELECT 1 + 2, 'a', 7 / 2, 7 % 3, 1.5 * 2", "Int64(1) + Int64(2),Utf8(\"a\"),Int64(7) / Int64(2),Int64(7) % Int64(3),Float64(1.5) * Int64(2)\n3,a,3,1,3"},
		{"SELECT count(*) FROM cpu WHERE host = 'nobody'", "COUNT(*)\n0"},
		{"SELECT host FROM cpu WHERE usage IS NULL", "host\nc"},
		{"SELECT count(*) FROM cpu WHERE usage IS NOT NULL", "COUNT(*)\n5"},
		{"SELECT now()", "now()\n1700000000000"},
		{"SELECT tsid = 0 AS z FROM cpu LIMIT 1", "z\nfalse"},
	} {
		v.expect(tc.sql, tc.want)
	}
}

func TestDedupAndAppend(t *testing.T) {
	v := newEnv(t)
	v.must("CREATE TABLE o (k string TAG, v int, t timestamp NOT NULL)")
	v.must("CREATE TABLE a (k string TAG, v int, t timestamp NOT NULL) WITH (update_mode='append')")
	for _, tb := range []string{"o", "a"} {
		v.must("INSERT INTO " + tb + " (k, v, t) VALUES ('x', 1, 1), ('x', 2, 1)")
		v.must("INSERT INTO " + tb + " (k, t) VALUES ('x', 1)") // whole row replaced: v becomes NULL
	}
	v.expect("SELECT k, v FROM o", "k,v\nx,NULL")
	v.expect("SELECT count(*) FROM a", "COUNT(*)\n3")
}

func TestInsertErrors(t *testing.T) {
	v := newEnv(t)
	v.must("CREATE TABLE e (k string TAG, n tinyint, u uint8, d double NOT NULL, t timestamp NOT NULL)")
	for _, tc := range []struct{ sql, msg string }{
		{"INSERT INTO e (k, d) VALUES ('a', 1)", "missing timestamp column t"},
		{"INSERT INTO e (k, d, t) VALUES ('a', NULL, 1)", "column d cannot be null"},
		{"INSERT INTO e (k, t) VALUES ('a', 1)", "missing value for column d"},
		{"INSERT INTO e (nope, d, t) VALUES (1, 1, 1)", "unknown column nope"},
		{"INSERT INTO e (d, d, t) VALUES (1, 1, 1)", "listed twice"},
		{"INSERT INTO e (tsid, d, t) VALUES (1, 1, 1)", "tsid is computed"},
		{"INSERT INTO e (n, d, t) VALUES (300, 1, 1)", "out of range"},
		{"INSERT INTO e (u, d, t) VALUES (-1, 1, 1)", "out of range"},
		{"INSERT INTO e (d, t) VALUES ('x', 1)", "cannot convert"},
		{"INSERT INTO e (k, d, t) VALUES (1, 1, 1)", "column k is a string"},
		{"INSERT INTO e (d, t) VALUES (1, 1, 2)", "3 values for 2 columns"},
		{"INSERT INTO e (d, t) VALUES (1, 'yesterday')", "cannot parse"},
		{"INSERT INTO nope (d) VALUES (1)", "Table not found"},
		{"INSERT INTO e (d, t) VALUES (1, 1), (1)", "row 2 has 1 values"},
	} {
		v.expectErr(tc.sql, tc.msg, true)
	}
	// A failed multi-row INSERT leaves nothing behind.
	v.expect("SELECT count(*) FROM e", "COUNT(*)\n0")
	v.expect("INSERT INTO e (d, t) VALUES (1, '2024-01-02 03:04:05'), (-2.5, 5)", "affected_rows: 2")
	v.expect("SELECT d, t FROM e ORDER BY t", "d,t\n-2.5,5\n1,1704164645000")
}

func TestQueryErrors(t *testing.T) {
	v := newEnv(t)
	v.must(demo)
	for _, tc := range []struct {
		sql, msg string
		client   bool
	}{
		{"SELEC 1", "syntax error", true},
		{"SELECT nope FROM demo", "column nope not found", true},
		{"SELECT * FROM nope", "Table not found", true},
		{"SELECT name, count(*) FROM demo", "must appear in the GROUP BY", true},
		{"SELECT name FROM demo WHERE count(*) > 1", "not allowed here", true},
		{"SELECT name FROM demo WHERE value + 'x' > 1", "cannot", true},
		{"SELECT 1 / 0", "Divide by zero", true},
		{"SELECT nofunc(1)", "unknown function nofunc", true},
		{"SELECT name FROM demo LIMIT -1", "LIMIT must be a non-negative integer", true},
		{"SELECT 1; SELECT 2", "Only support execute one statement", true},
		{"SELECT name, name FROM demo", "unique expression names", true},
		{"SELECT time_bucket(t, 'PT0S') FROM demo", "invalid period", true},
	} {
		v.expectErr(tc.sql, tc.msg, tc.client)
	}
}

func TestRecoveryThroughExecutor(t *testing.T) {
	dir := t.TempDir()
	open := func() (*query.Executor, func()) {
		w, err := local.Open(filepath.Join(dir, "wal"), local.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := objstore.OpenLocal(filepath.Join(dir, "store"))
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.Open(engine.Options{Now: epochClock, WAL: w, Store: b, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.OpenShard(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		return query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 1}}), func() { e.Close(); w.Close(); b.Close() }
	}
	x, closeFn := open()
	ctx := context.Background()
	for _, sql := range []string{demo, "INSERT INTO demo (name, value, t) VALUES ('a', 1, 1), ('b', 2, 2)"} {
		if _, err := x.Execute(ctx, query.Session{}, sql); err != nil {
			t.Fatal(err)
		}
	}
	closeFn()
	x, closeFn = open()
	defer closeFn()
	res, err := x.Execute(ctx, query.Session{}, "SELECT count(*) FROM demo")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Records[0].Column(0).(*array.Int64).Value(0); got != 2 {
		t.Fatalf("count after restart = %d", got)
	}
	_, err = x.Execute(ctx, query.Session{}, "SELEC")
	if !errors.Is(err, parser.ErrSyntax) {
		t.Fatalf("syntax error not classified: %v", err)
	}
}

// epochClock pins the engine's clock to 1970, so the tests' small
// timestamps are never older than a table's TTL.
func epochClock() time.Time { return time.UnixMilli(0) }
