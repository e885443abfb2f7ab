package query_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/wal/local"
)

// executors returns two executors over the same engine: one serial, one
// reading in 7 partitions.
func executors(t *testing.T, memLimit int64) (serial, parallel *env) {
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
	if err := e.OpenShard(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	mk := func(n int) *env {
		x := query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 1}, ReadParallelism: n,
			MemoryLimit: memLimit, Now: func() time.Time { return time.UnixMilli(1_700_000_000_000) }})
		return &env{t: t, x: x, e: e}
	}
	return mk(1), mk(7)
}

// sortedRows makes a result comparable regardless of row order.
func sortedRows(out string) string {
	lines := strings.Split(out, "\n")
	body := lines[1:]
	sort.Strings(body)
	return lines[0] + "\n" + strings.Join(body, "\n")
}

// TestParallelMatchesSerial runs the same queries with one and with seven
// partitions (partial + final aggregation) over data spread across
// memtables and SSTs, and requires equal answers.
func TestParallelMatchesSerial(t *testing.T) {
	serial, parallel := executors(t, 0)
	serial.must("CREATE TABLE p (host string TAG, dc string TAG, v double, n bigint, t timestamp NOT NULL) WITH (update_mode='APPEND')")
	rng := rand.New(rand.NewPCG(3, 4))
	for batch := 0; batch < 12; batch++ {
		var b strings.Builder
		b.WriteString("INSERT INTO p (host, dc, v, n, t) VALUES ")
		for i := 0; i < 200; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			v := fmt.Sprintf("%d.%d", rng.IntN(100), rng.IntN(10))
			if rng.IntN(20) == 0 {
				v = "NULL"
			}
			fmt.Fprintf(&b, "('h%d', 'dc%d', %s, %d, %d)", rng.IntN(30), rng.IntN(3), v, rng.IntN(1000)-500, batch*10_000+rng.IntN(10_000))
		}
		serial.must(b.String())
		if batch%3 == 2 {
			if _, failed := serial.e.FlushAll(context.Background()); len(failed) > 0 {
				t.Fatal(failed)
			}
		}
	}
	for _, q := range []string{
		// Float sums round: their order differs between partitions.
		"SELECT count(*), count(v), round(sum(v), 6), round(avg(v), 6), min(v), max(v), sum(n), min(host), max(host) FROM p",
		"SELECT host, count(*), sum(n), round(avg(v), 4), min(t), max(t) FROM p GROUP BY host",
		"SELECT dc, time_bucket(t, 'PT10S') AS b, max(v), count(DISTINCT host) FROM p GROUP BY dc, b",
		"SELECT host, first(v), last(v), first(n), last(n) FROM p WHERE v IS NOT NULL GROUP BY host",
		"SELECT dc, round(stddev(v), 6), round(var_pop(v), 6), median(n), round(approx_percentile_cont(v, 0.9), 6) FROM p GROUP BY dc",
		"SELECT dc, approx_distinct(host), thetasketch_distinct(n) FROM p GROUP BY dc",
		"SELECT count(*) FROM p WHERE host IN ('h1', 'h2') AND t >= 30000 AND t < 70000",
		"SELECT host, v, t FROM p WHERE n > 490",
		"SELECT DISTINCT dc FROM p",
		"SELECT host, round(sum(v), 6) AS s FROM p GROUP BY host HAVING s > 5000",
	} {
		s, p := serial.must(q), parallel.must(q)
		if sortedRows(s) != sortedRows(p) {
			t.Errorf("%s\nserial:\n%s\nparallel:\n%s", q, s, p)
		}
	}
	if out := parallel.must("EXPLAIN SELECT count(*) FROM p"); !strings.Contains(out, "Gather: partitions=7") {
		t.Errorf("parallel plan has no Gather:\n%s", out)
	}
}

func TestMemoryLimit(t *testing.T) {
	limited, _ := executors(t, 512<<10) // 512 KiB
	limited.must("CREATE TABLE m (k string TAG, v double, t timestamp NOT NULL)")
	var b strings.Builder
	b.WriteString("INSERT INTO m (k, v, t) VALUES ")
	for i := 0; i < 40000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "('key-%d', %d, %d)", i, i, i)
	}
	limited.must(b.String())
	limited.must("SELECT count(*) FROM m") // tiny state: fine
	for _, q := range []string{
		"SELECT k, v FROM m",                           // the result
		"SELECT k, count(*) FROM m GROUP BY k",         // 40000 groups
		"SELECT k FROM m ORDER BY v DESC",              // the sort's input
		"SELECT a.k FROM m a JOIN m b ON a.k = b.k",    // the join's build side
		"SELECT approx_percentile_cont(v, 0.5) FROM m", // kept values
	} {
		limited.expectErr(q, "memory_limit", true)
	}
	limited.must("SELECT k FROM m ORDER BY v DESC LIMIT 3") // top-k holds little
}

func TestPruningInExplain(t *testing.T) {
	v, _ := executors(t, 0)
	v.must("CREATE TABLE pr (host string TAG, v double, t timestamp NOT NULL) WITH (num_rows_per_row_group=100)")
	var b strings.Builder
	b.WriteString("INSERT INTO pr (host, v, t) VALUES ")
	for i := 0; i < 1000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "('h%d', %d, %d)", i/100, i, i)
	}
	v.must(b.String())
	v.e.FlushAll(context.Background())
	out := v.must("EXPLAIN ANALYZE SELECT count(*) FROM pr WHERE host = 'h7'")
	if !strings.Contains(out, "pruning=[host = 'h7']") || !strings.Contains(out, "/10,") && !strings.Contains(out, "/10]") {
		t.Fatalf("no pruning:\n%s", out)
	}
	if strings.Contains(out, "row_groups=10/10") {
		t.Errorf("every row group was read:\n%s", out)
	}
	v.expect("SELECT count(*) FROM pr WHERE host = 'h7'", "COUNT(*)\n100")
	// An OR of equalities on one tag prunes as an IN list.
	out = v.must("EXPLAIN ANALYZE SELECT count(*) FROM pr WHERE (host = 'h2' OR host = 'h5') OR host IN ('h8')")
	if !strings.Contains(out, "pruning=[host IN ('h2', 'h5', 'h8')]") || !strings.Contains(out, "row_groups=3/10") {
		t.Errorf("an OR of equalities did not prune:\n%s", out)
	}
	v.expect("SELECT count(*) FROM pr WHERE (host = 'h2' OR host = 'h5') OR host IN ('h8')", "COUNT(*)\n300")
	// An OR over two columns, or with another comparison, does not.
	for _, q := range []string{"host = 'h2' OR v = 5", "host = 'h2' OR host > 'h8'"} {
		if out := v.must("EXPLAIN SELECT count(*) FROM pr WHERE " + q); strings.Contains(out, "pruning") {
			t.Errorf("%s was pushed down:\n%s", q, out)
		}
	}
	// A field of an OVERWRITE table is not used for pruning.
	if out := v.must("EXPLAIN SELECT count(*) FROM pr WHERE v > 5"); strings.Contains(out, "pruning") {
		t.Errorf("a field predicate was pushed into an OVERWRITE scan:\n%s", out)
	}
}

// TestTopKMatchesFullSort compares ORDER BY ... LIMIT k with the first k
// rows of the full sort, over data with ties and NULLs, in batches large
// enough for the top-k pruning to run.
func TestTopKMatchesFullSort(t *testing.T) {
	v, _ := executors(t, 0)
	v.must("CREATE TABLE tk (g string TAG, a bigint, b double, t timestamp NOT NULL) WITH (update_mode='APPEND')")
	rng := rand.New(rand.NewPCG(9, 9))
	for batch := 0; batch < 3; batch++ {
		var sb strings.Builder
		sb.WriteString("INSERT INTO tk (g, a, b, t) VALUES ")
		for i := 0; i < 5000; i++ {
			if i > 0 {
				sb.WriteString(",")
			}
			b := fmt.Sprint(rng.IntN(50))
			if rng.IntN(10) == 0 {
				b = "NULL"
			}
			fmt.Fprintf(&sb, "('g%d', %d, %s, %d)", rng.IntN(7), rng.IntN(100), b, batch*5000+i)
		}
		v.must(sb.String())
	}
	for _, order := range []string{"a DESC, t", "b, t DESC", "b DESC NULLS LAST, a, t", "g, a DESC, t", "b NULLS FIRST, t"} {
		for _, k := range []int{1, 100, 9000} {
			full := strings.Split(v.must("SELECT g, a, b, t FROM tk ORDER BY "+order), "\n")
			top := v.must(fmt.Sprintf("SELECT g, a, b, t FROM tk ORDER BY %s LIMIT %d", order, k))
			if want := strings.Join(full[:k+1], "\n"); top != want {
				t.Fatalf("ORDER BY %s LIMIT %d differs from the full sort", order, k)
			}
		}
	}
}
