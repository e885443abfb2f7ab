package influxql_test

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

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/influxql"
	"github.com/horaego/horaedb/wal/local"
)

// t0 is 2026-01-01T00:00:00Z.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ms(d time.Duration) int64 { return t0.Add(d).UnixMilli() }

func rfc(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }

type env struct {
	t testing.TB
	x *query.Executor
	e *influxql.Engine
}

// newEnv loads cpu: hosts h1 (region eu) and h2 (no region), a point every
// 10 s for 10 minutes from t0, usage_user = minute*10 + second/10 for h1
// and +100 for h2, except that h1 has nothing in minute 3; and mem: one
// point of h1.
func newEnv(t testing.TB) *env {
	t.Helper()
	w, err := local.Open(filepath.Join(t.TempDir(), "wal"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := objstore.NewMemory()
	eng, err := engine.Open(engine.Options{WAL: w, Store: b, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); w.Close(); b.Close() })
	if err := eng.OpenShard(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	x := query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: eng, NumShards: 1}})
	cpu := query.WriteTable{Table: "cpu", Tags: []string{"hostname", "region"}, Fields: []string{"usage_user", "usage_system"}}
	for s := 0; s < 60; s++ {
		at := time.Duration(s) * 10 * time.Second
		v := float64(s/6*10 + s%6)
		if s/6 != 3 {
			cpu.Rows = append(cpu.Rows, query.WriteRow{Timestamp: ms(at),
				Tags:   []query.Cell{{Index: 0, Value: str("h1")}, {Index: 1, Value: str("eu")}},
				Fields: []query.Cell{{Index: 0, Value: f64(v)}, {Index: 1, Value: f64(1)}}})
		}
		cpu.Rows = append(cpu.Rows, query.WriteRow{Timestamp: ms(at),
			Tags:   []query.Cell{{Index: 0, Value: str("h2")}},
			Fields: []query.Cell{{Index: 0, Value: f64(v + 100)}, {Index: 1, Value: f64(2)}}})
	}
	mem := query.WriteTable{Table: "mem", Tags: []string{"hostname"}, Fields: []string{"free"},
		Rows: []query.WriteRow{{Timestamp: ms(0), Tags: []query.Cell{{Index: 0, Value: str("h1")}},
			Fields: []query.Cell{{Index: 0, Value: query.Value{Kind: schema.Int64, I: 42}}}}}}
	if _, err := x.Write(context.Background(), query.Session{}, []query.WriteTable{cpu, mem}, query.WriteOptions{TimestampColumn: "time"}); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, x: x, e: influxql.New(x)}
}

func str(s string) query.Value  { return query.Value{Kind: schema.String, S: s} }
func f64(f float64) query.Value { return query.Value{Kind: schema.Double, F: f} }

// run renders the results: per series "name{tags} columns" and its rows,
// times as offsets from t0.
func (v *env) run(q string) string {
	v.t.Helper()
	res, err := v.e.Run(context.Background(), "", q, t0.Add(10*time.Minute))
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for i, r := range res {
		if i > 0 {
			b.WriteString("---\n")
		}
		if r.Err != nil {
			fmt.Fprintf(&b, "error: %v\n", r.Err)
			continue
		}
		for _, s := range r.Series {
			fmt.Fprintf(&b, "%s", s.Name)
			if len(s.Tags) > 0 {
				var kv []string
				for _, t := range s.Tags {
					kv = append(kv, t.Key+"="+t.Value)
				}
				fmt.Fprintf(&b, "{%s}", strings.Join(kv, ","))
			}
			fmt.Fprintf(&b, " %s\n", strings.Join(s.Columns, ","))
			for _, row := range s.Values {
				var cells []string
				for _, c := range row {
					switch c := c.(type) {
					case influxql.Time:
						cells = append(cells, off(int64(c)))
					case nil:
						cells = append(cells, "null")
					default:
						cells = append(cells, fmt.Sprint(c))
					}
				}
				fmt.Fprintf(&b, "  %s\n", strings.Join(cells, ","))
			}
		}
	}
	return b.String()
}

// off renders a result time as its offset from t0.
func off(ms int64) string { return (time.Duration(ms-t0.UnixMilli()) * time.Millisecond).String() }

func (v *env) expect(q, want string) {
	v.t.Helper()
	if got := v.run(q); got != want {
		v.t.Errorf("%s\ngot:\n%s\nwant:\n%s", q, got, want)
	}
}

func TestRawQueries(t *testing.T) {
	v := newEnv(t)
	v.expect(fmt.Sprintf("SELECT usage_user FROM cpu WHERE hostname = 'h1' AND time >= '%s' AND time < '%s'", rfc(2*time.Minute+30*time.Second), rfc(4*time.Minute+20*time.Second)),
		"cpu time,usage_user\n  2m30s,23\n  2m40s,24\n  2m50s,25\n  4m0s,40\n  4m10s,41\n")
	// DESC, LIMIT and OFFSET; the ns epoch form of a time bound.
	v.expect(fmt.Sprintf("SELECT usage_user, hostname FROM cpu WHERE time <= %d ORDER BY time DESC LIMIT 2 OFFSET 1", t0.Add(time.Minute).UnixNano()),
		"cpu time,usage_user,hostname\n  1m0s,110,h2\n  50s,5,h1\n")
	// GROUP BY a tag splits series; LIMIT applies to each; * leaves out the grouped tag.
	v.expect("SELECT * FROM cpu GROUP BY hostname LIMIT 1",
		"cpu{hostname=h1} time,region,usage_system,usage_user\n  0s,eu,1,0\ncpu{hostname=h2} time,region,usage_system,usage_user\n  0s,null,2,100\n")
	// lastpoint, as TSBS asks it.
	v.expect(`SELECT * from cpu group by "hostname" order by time desc limit 1`,
		"cpu{hostname=h1} time,region,usage_system,usage_user\n  9m50s,eu,1,95\ncpu{hostname=h2} time,region,usage_system,usage_user\n  9m50s,null,2,195\n")
	// high-cpu: a field condition.
	v.expect(fmt.Sprintf("SELECT * FROM cpu WHERE usage_user > 94.0 AND time >= '%s' AND time < '%s' AND (hostname = 'h1')", rfc(0), rfc(time.Hour)),
		"cpu time,hostname,region,usage_system,usage_user\n  9m50s,h1,eu,1,95\n")
	// Arithmetic.
	v.expect("SELECT usage_user * 2 + 1 FROM cpu WHERE hostname = 'h2' LIMIT 1", "cpu time,usage_user\n  0s,201\n")
}

func TestTagSemantics(t *testing.T) {
	v := newEnv(t)
	count := func(cond string) string {
		return v.run("SELECT count(usage_user) FROM cpu WHERE " + cond)
	}
	for _, tc := range []struct{ cond, want string }{
		{"region = 'eu'", "54"},
		{"region = ''", "60"}, // h2 has no region
		{"region != 'eu'", "60"},
		{"region != ''", "54"},
		{"nosuchtag = ''", "114"},
		{"nosuchtag != 'x'", "114"},
		{"nosuchtag = 'x'", ""},
		{"hostname =~ /^h[12]$/", "114"},
		{"hostname !~ /1/", "60"},
		{"region =~ /.*/", "114"}, // matches the empty value too
		{"hostname = 1", ""},
		{"(hostname = 'h1' OR hostname = 'h2') AND usage_user >= 100", "60"},
	} {
		got := count(tc.cond)
		want := ""
		if tc.want != "" {
			want = "cpu time,count\n  0s," + tc.want + "\n"
			want = strings.Replace(want, "0s", off(0), 1)
		}
		if got != want {
			t.Errorf("WHERE %s: got %q, want %q", tc.cond, got, want)
		}
	}
}

func TestGroupByTime(t *testing.T) {
	v := newEnv(t)
	where := fmt.Sprintf("hostname = 'h1' AND time >= '%s' AND time < '%s'", rfc(time.Minute), rfc(5*time.Minute))
	// fill(null) by default; minute 3 is empty.
	v.expect("SELECT max(usage_user), count(usage_user) FROM cpu WHERE "+where+" GROUP BY time(1m)",
		"cpu time,max,count\n  1m0s,15,6\n  2m0s,25,6\n  3m0s,null,0\n  4m0s,45,6\n")
	v.expect("SELECT max(usage_user) FROM cpu WHERE "+where+" GROUP BY time(1m) fill(none)",
		"cpu time,max\n  1m0s,15\n  2m0s,25\n  4m0s,45\n")
	v.expect("SELECT max(usage_user) FROM cpu WHERE "+where+" GROUP BY time(1m) fill(-1)",
		"cpu time,max\n  1m0s,15\n  2m0s,25\n  3m0s,-1\n  4m0s,45\n")
	v.expect("SELECT max(usage_user) FROM cpu WHERE "+where+" GROUP BY time(1m) fill(previous)",
		"cpu time,max\n  1m0s,15\n  2m0s,25\n  3m0s,25\n  4m0s,45\n")
	v.expect("SELECT max(usage_user) FROM cpu WHERE "+where+" GROUP BY time(1m) fill(linear)",
		"cpu time,max\n  1m0s,15\n  2m0s,25\n  3m0s,35\n  4m0s,45\n")
	// An offset shifts the buckets; mean, spread, first, last, median, percentile.
	v.expect("SELECT mean(usage_user), spread(usage_user), first(usage_user), last(usage_user), median(usage_user), percentile(usage_user, 100) FROM cpu WHERE "+where+" GROUP BY time(2m, 1m)",
		"cpu time,mean,spread,first,last,median,percentile\n  1m0s,17.5,15,10,25,17.5,25\n  3m0s,42.5,5,40,45,42.5,45\n")
	// GROUP BY time and tag: double-groupby.
	v.expect(fmt.Sprintf("SELECT mean(usage_user) FROM cpu WHERE time >= '%s' AND time < '%s' GROUP BY time(1m), hostname", rfc(0), rfc(2*time.Minute)),
		"cpu{hostname=h1} time,mean\n  0s,2.5\n  1m0s,12.5\ncpu{hostname=h2} time,mean\n  0s,102.5\n  1m0s,112.5\n")
	// groupby-orderby-limit: no lower bound, the last buckets before the upper one.
	v.expect(fmt.Sprintf("SELECT max(usage_user) from cpu where time < '%s' group by time(1m) order by time desc limit 3", rfc(6*time.Minute)),
		"cpu time,max\n  5m0s,155\n  4m0s,145\n  3m0s,135\n")
	// cpu-max-all: max(*).
	v.expect(fmt.Sprintf("SELECT max(*) FROM cpu WHERE hostname = 'h2' AND time >= '%s' AND time < '%s' GROUP BY time(1h)", rfc(0), rfc(time.Hour)),
		"cpu time,max_usage_system,max_usage_user\n  0s,2,195\n")
	// SLIMIT.
	v.expect(fmt.Sprintf("SELECT count(usage_user) FROM cpu WHERE time >= '%s' AND time < '%s' GROUP BY hostname SLIMIT 1 SOFFSET 1", rfc(0), rfc(time.Hour)),
		"cpu{hostname=h2} time,count\n  0s,60\n")
}

func TestShowAndErrors(t *testing.T) {
	v := newEnv(t)
	v.expect("SHOW DATABASES", "databases name\n  public\n")
	v.expect("SHOW MEASUREMENTS", "measurements name\n  cpu\n  mem\n")
	v.expect("SHOW TAG KEYS FROM cpu", "cpu tagKey\n  hostname\n  region\n")
	v.expect(`SHOW TAG VALUES FROM cpu WITH KEY = "hostname"`, "cpu key,value\n  hostname,h1\n  hostname,h2\n")
	v.expect("SHOW FIELD KEYS", "cpu fieldKey,fieldType\n  usage_system,float\n  usage_user,float\nmem fieldKey,fieldType\n  free,integer\n")
	v.expect("CREATE DATABASE benchmark", "")
	v.expect("SELECT x FROM nosuch", "")
	v.expect("SELECT nope(usage_user) FROM cpu", "error: influxql: invalid statement: function nope() is not supported\n")
	v.expect("SELECT hostname FROM cpu", "error: influxql: invalid statement: at least 1 non-time field must be queried\n")
	v.expect("SELECT FROM", "error: influxql: invalid statement: error parsing query: found FROM, expected identifier, string, number, bool at line 1, char 8")
	v.expect("SHOW DATABASES; SELECT nope(x) FROM cpu", "databases name\n  public\n---\nerror: influxql: invalid statement: function nope() is not supported\n")
	if _, err := v.e.Run(context.Background(), "", "SELEC", t0); !errors.Is(err, influxql.ErrInvalid) {
		t.Errorf("a parse error: %v", err)
	}
}

func FuzzRun(f *testing.F) {
	for _, q := range []string{
		"SELECT max(usage_user) FROM cpu WHERE hostname = 'h1' AND time >= now() - 1h GROUP BY time(1m) fill(linear)",
		"SELECT * FROM cpu WHERE usage_user > 90 AND region =~ /e.*/ GROUP BY * ORDER BY time DESC LIMIT 2 SLIMIT 1",
		"SHOW TAG VALUES WITH KEY =~ /host/ WHERE region != ''",
		"SELECT mean(usage_user) / count(usage_user) FROM cpu GROUP BY time(10s, -5s)",
	} {
		f.Add(q)
	}
	v := newEnv(f)
	f.Fuzz(func(t *testing.T, q string) {
		res, err := v.e.Run(context.Background(), "", q, t0.Add(10*time.Minute))
		if err != nil {
			if !errors.Is(err, influxql.ErrInvalid) {
				t.Fatalf("%q: error %v is not ErrInvalid", q, err)
			}
			return
		}
		for _, r := range res {
			if r.Err != nil && !errors.Is(r.Err, influxql.ErrInvalid) && !query.IsClientError(r.Err) {
				t.Fatalf("%q: a server error: %v", q, r.Err)
			}
		}
	})
}

// counting is the executor with its calls counted.
type counting struct {
	*query.Executor
	executes, latest int
}

func (c *counting) Execute(ctx context.Context, sess query.Session, sql string) (*query.Result, error) {
	c.executes++
	return c.Executor.Execute(ctx, sess, sql)
}

func (c *counting) LatestRows(ctx context.Context, db, table string) (arrow.RecordBatch, error) {
	c.latest++
	return c.Executor.LatestRows(ctx, db, table)
}

// TestLastpoint checks that "the newest point of each series" queries are
// answered from the engine's latest rows without a scan, with the same
// answer as the scan gives (an upper time bound far in the future forces
// the scan), and that queries the shortcut cannot answer still scan.
func TestLastpoint(t *testing.T) {
	v := newEnv(t)
	c := &counting{Executor: v.x}
	v.e = influxql.New(c)
	scan := func(q string) string {
		at := strings.Index(q, " GROUP BY")
		if at < 0 {
			at = strings.Index(q, " ORDER BY")
		}
		return v.run(q[:at] + " WHERE time <= '2100-01-01T00:00:00Z'" + q[at:])
	}
	check := func(q string, shortcut bool) {
		t.Helper()
		want := scan(q)
		c.executes, c.latest = 0, 0
		if got := v.run(q); got != want {
			t.Errorf("%s\ngot:\n%s\nscan:\n%s", q, got, want)
		}
		if used := c.latest > 0 && c.executes == 0; used != shortcut {
			t.Errorf("%s: latest rows used %v (latest %d, executes %d), want %v", q, used, c.latest, c.executes, shortcut)
		}
	}
	for _, q := range []string{
		`SELECT * FROM cpu GROUP BY "hostname" ORDER BY time DESC LIMIT 1`,
		`SELECT * FROM cpu ORDER BY time DESC LIMIT 1`,
		`SELECT usage_user, hostname FROM cpu GROUP BY region ORDER BY time DESC LIMIT 1`,
		`SELECT usage_system FROM cpu GROUP BY * ORDER BY time DESC LIMIT 1`,
		`SELECT usage_user, nosuchfield FROM cpu GROUP BY nosuchtag ORDER BY time DESC LIMIT 1`,
		`SELECT * FROM mem GROUP BY hostname ORDER BY time DESC LIMIT 1`,
	} {
		check(q, true)
	}
	// A lower time bound after every point: no series.
	q := fmt.Sprintf(`SELECT * FROM cpu WHERE time >= '%s' GROUP BY hostname ORDER BY time DESC LIMIT 1`, rfc(time.Hour))
	c.executes, c.latest = 0, 0
	if got := v.run(q); got != "" || c.executes != 0 {
		t.Errorf("%s: %q with %d scans", q, got, c.executes)
	}
	// Shapes it cannot answer scan.
	for _, q := range []string{
		`SELECT * FROM cpu GROUP BY hostname ORDER BY time DESC LIMIT 2`,
		`SELECT * FROM cpu GROUP BY hostname ORDER BY time DESC LIMIT 1 OFFSET 1`,
		`SELECT usage_user * 2 FROM cpu GROUP BY hostname ORDER BY time DESC LIMIT 1`,
	} {
		check(q, false)
	}
	// h1's newest row has no usage_user: the answer is an older row, so it
	// scans; usage_system is answered from the newest row.
	newer := query.WriteTable{Table: "cpu", Tags: []string{"hostname", "region"}, Fields: []string{"usage_system"},
		Rows: []query.WriteRow{{Timestamp: ms(20 * time.Minute),
			Tags:   []query.Cell{{Index: 0, Value: str("h1")}, {Index: 1, Value: str("eu")}},
			Fields: []query.Cell{{Index: 0, Value: f64(7)}}}}}
	if _, err := v.x.Write(context.Background(), query.Session{}, []query.WriteTable{newer}, query.WriteOptions{TimestampColumn: "time"}); err != nil {
		t.Fatal(err)
	}
	check(`SELECT usage_user FROM cpu GROUP BY hostname ORDER BY time DESC LIMIT 1`, false)
	check(`SELECT usage_system FROM cpu GROUP BY hostname ORDER BY time DESC LIMIT 1`, true)
	check(`SELECT * FROM cpu GROUP BY hostname ORDER BY time DESC LIMIT 1`, true)
}
