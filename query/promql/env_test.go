package promql_test

import (
	"context"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/promql"
	"github.com/horaego/horaedb/wal/local"
)

// now is the clock of the engine under test; the data lies before it.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is an executor over a real engine (local WAL, in-memory object
// store).
type env struct {
	x *query.Executor
	e *engine.Engine
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	w, err := local.Open(filepath.Join(tb.TempDir(), "wal"), local.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	b := objstore.NewMemory()
	clock := func() time.Time { return now }
	e, err := engine.Open(engine.Options{WAL: w, Store: b, Logger: slog.New(slog.DiscardHandler), Now: clock})
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.OpenShard(context.Background(), 0); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close(); w.Close(); b.Close() })
	x := query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 1}, Now: clock,
		Logger: slog.New(slog.DiscardHandler)})
	return &env{x: x, e: e}
}

// testSeries is a series of test data: labels (with __name__) and samples.
type testSeries struct {
	lset labels.Labels
	ts   []int64
	vs   []float64
}

// write writes series as Prometheus remote write does: a table per
// metric, labels as string tags, the value in the double field "value".
func (v *env) write(tb testing.TB, data []testSeries) {
	tb.Helper()
	byTable := map[string]*query.WriteTable{}
	var order []string
	for _, s := range data {
		name := s.lset.Get(promql.LabelMetricName)
		wt := byTable[name]
		if wt == nil {
			wt = &query.WriteTable{Table: name, Fields: []string{"value"}}
			byTable[name] = wt
			order = append(order, name)
		}
		var cells []query.Cell
		s.lset.Range(func(l labels.Label) {
			if l.Name == promql.LabelMetricName {
				return
			}
			i := slices.Index(wt.Tags, l.Name)
			if i < 0 {
				i = len(wt.Tags)
				wt.Tags = append(wt.Tags, l.Name)
			}
			cells = append(cells, query.Cell{Index: uint32(i), Value: query.Value{Kind: schema.String, S: l.Value}})
		})
		for i, t := range s.ts {
			wt.Rows = append(wt.Rows, query.WriteRow{Timestamp: t, Tags: cells,
				Fields: []query.Cell{{Index: 0, Value: query.Value{Kind: schema.Double, F: s.vs[i]}}}})
		}
	}
	tables := make([]query.WriteTable, 0, len(order))
	for _, name := range order {
		tables = append(tables, *byTable[name])
	}
	if _, err := v.x.Write(context.Background(), query.Session{}, tables, query.WriteOptions{}); err != nil {
		tb.Fatal(err)
	}
}

// openTSDB returns Prometheus' own storage holding data.
func openTSDB(tb testing.TB, data []testSeries) *tsdb.DB {
	tb.Helper()
	opts := tsdb.DefaultOptions()
	opts.OutOfOrderTimeWindow = int64(48 * time.Hour / time.Millisecond)
	db, err := tsdb.Open(tb.TempDir(), slog.New(slog.DiscardHandler), nil, opts, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	app := db.Appender(context.Background())
	for _, s := range data {
		for i, t := range s.ts {
			if _, err := app.Append(0, s.lset, t, s.vs[i]); err != nil {
				tb.Fatalf("append %s: %v", s.lset, err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		tb.Fatal(err)
	}
	return db
}

// Test data: three hours at a 15 s scrape interval ending 10 minutes
// before now.
var (
	dataStart = now.Add(-3*time.Hour - 10*time.Minute)
	dataEnd   = now.Add(-10 * time.Minute)
	interval  = 15 * time.Second
)

// rng is a small deterministic generator (xorshift), so both storages and
// every run see the same data.
type rng uint64

func (r *rng) next() float64 {
	x := uint64(*r)
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	*r = rng(x)
	return float64(x>>11) / (1 << 53)
}

// conformanceData holds counters, gauges (one with a gap and a staleness
// marker, some without a label others have) and a classic histogram.
func conformanceData() []testSeries {
	r := rng(88172645463325252)
	var out []testSeries
	steps := int(dataEnd.Sub(dataStart) / interval)
	times := make([]int64, steps+1)
	for i := range times {
		times[i] = dataStart.Add(time.Duration(i) * interval).UnixMilli()
	}
	// Counters, one with a reset half way.
	for _, inst := range []string{"i1", "i2", "i3"} {
		for _, method := range []string{"GET", "POST"} {
			for _, code := range []string{"200", "500"} {
				s := testSeries{lset: labels.FromStrings("__name__", "http_requests_total", "job", "api",
					"instance", inst, "method", method, "code", code)}
				c := 0.0
				for i, t := range times {
					c += math.Floor(r.next() * 20)
					if inst == "i2" && method == "GET" && code == "200" && i == steps/2 {
						c = 3
					}
					s.ts, s.vs = append(s.ts, t), append(s.vs, c)
				}
				out = append(out, s)
			}
		}
	}
	// Gauges: i1 and i2 carry a zone, i3 has none, a gap of 20 minutes
	// and a staleness marker.
	for _, inst := range []string{"i1", "i2", "i3"} {
		ls := []string{"__name__", "node_memory_bytes", "job", "node", "instance", inst}
		if inst != "i3" {
			ls = append(ls, "zone", "z"+inst[1:])
		}
		s := testSeries{lset: labels.FromStrings(ls...)}
		g := 4e8 + r.next()*2e8
		for i, t := range times {
			g += (r.next() - 0.5) * 1e7
			if inst == "i3" {
				if i > steps/3 && i < steps/3+80 {
					continue
				}
				if i == 2*steps/3 {
					s.ts, s.vs = append(s.ts, t), append(s.vs, math.Float64frombits(value.StaleNaN))
					continue
				}
				if i > 2*steps/3 && i < 2*steps/3+10 {
					continue
				}
			}
			s.ts, s.vs = append(s.ts, t), append(s.vs, g)
		}
		out = append(out, s)
	}
	// A classic histogram: cumulative buckets, sum and count.
	bounds := []string{"0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"}
	limits := []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, math.Inf(1)}
	for _, inst := range []string{"i1", "i2"} {
		buckets := make([]testSeries, len(bounds))
		for k, le := range bounds {
			buckets[k].lset = labels.FromStrings("__name__", "request_duration_seconds_bucket", "job", "api",
				"instance", inst, "le", le)
		}
		sum := testSeries{lset: labels.FromStrings("__name__", "request_duration_seconds_sum", "job", "api", "instance", inst)}
		count := testSeries{lset: labels.FromStrings("__name__", "request_duration_seconds_count", "job", "api", "instance", inst)}
		counts := make([]float64, len(bounds))
		var total, n float64
		for _, t := range times {
			for range 10 {
				d := r.next() * r.next() * 3
				total += d
				n++
				for k, lim := range limits {
					if d <= lim {
						counts[k]++
					}
				}
			}
			for k := range buckets {
				buckets[k].ts, buckets[k].vs = append(buckets[k].ts, t), append(buckets[k].vs, counts[k])
			}
			sum.ts, sum.vs = append(sum.ts, t), append(sum.vs, total)
			count.ts, count.vs = append(count.ts, t), append(count.vs, n)
		}
		out = append(out, buckets...)
		out = append(out, sum, count)
	}
	return out
}
