package query_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/wal/local"
)

// FuzzExpression evaluates arbitrary expressions over a table with a
// column of every kind: an expression either runs or fails as the
// client's mistake; it never panics and never fails as the server's.
func FuzzExpression(f *testing.F) {
	for _, seed := range []string{
		"i + 1", "f / 0", "i / 0", "s || 'x'", "s LIKE 'a%'", "t + INTERVAL '1 hour'", "CAST(s AS bigint)",
		"CASE WHEN b THEN i ELSE f END", "coalesce(NULL, i, 3)", "u - 1", "u * u * u", "abs(i)", "substr(s, i, u)",
		"time_bucket(t, 'P1W', '', 'Asia/Shanghai')", "date_bin(INTERVAL '1 day', t)", "i IN (1, NULL, 'x')",
		"NOT b OR NULL", "d > DATE '2024-01-01'", "tm < TIME '12:00:00'", "-9223372036854775807 - i",
		"round(f, i)", "repeat(s, i)", "lpad(s, 1000000000)", "x IS DISTINCT FROM NULL", "split_part(s, '', 0)",
		"sum(i)", "count(DISTINCT s)", "approx_percentile_cont(f, 2)", "first(s)", "EXTRACT(epoch FROM t)",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	w, err := local.Open(filepath.Join(dir, "wal"), local.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	b := objstore.NewMemory()
	e, err := engine.Open(engine.Options{Now: epochClock, WAL: w, Store: b, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	defer func() { e.Close(); w.Close(); b.Close() }()
	ctx := context.Background()
	if err := e.OpenShard(ctx, 0); err != nil {
		f.Fatal(err)
	}
	x := query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 1}, MemoryLimit: 64 << 20})
	for _, sql := range []string{
		"CREATE TABLE e (s string TAG, i bigint, u uint64, f double, b boolean, x varbinary, d date, tm time, t timestamp NOT NULL)",
		"INSERT INTO e (s, i, u, f, b, x, d, tm, t) VALUES ('abc', -3, 18446744073709551615, 1.5, true, x'00ff', '2024-02-29', '01:02:03', 1000)," +
			" (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 2000), ('', 9223372036854775807, 0, -0.0, false, '', '1970-01-01', '23:59:59', -1)",
	} {
		if _, err := x.Execute(ctx, query.Session{}, sql); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if len(expr) > 2000 {
			return
		}
		for _, sql := range []string{"SELECT " + expr + " FROM e", "SELECT s FROM e WHERE " + expr, "SELECT " + expr} {
			res, err := x.Execute(ctx, query.Session{}, sql)
			if err != nil {
				if !query.IsClientError(err) {
					t.Fatalf("%s: server error %v", sql, err)
				}
				continue
			}
			res.Release()
		}
	})
}
