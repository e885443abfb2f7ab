package promql_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	pql "github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/promql"
)

// conformanceExprs are evaluated over our tables and over Prometheus' own
// TSDB holding the same data; the results must agree.
var conformanceExprs = []string{
	// Selectors: the four matcher kinds, on tags and on __name__.
	`http_requests_total`,
	`http_requests_total{method="GET"}`,
	`http_requests_total{method!="GET"}`,
	`http_requests_total{instance=~"i[12]"}`,
	`http_requests_total{instance!~"i[12]"}`,
	`http_requests_total{code=~"5..|404", method=~"post|POST"}`,
	`http_requests_total{instance=~"i1|i3"}`,
	`http_requests_total{instance=~"(?i)I1"}`,
	`http_requests_total{nolabel=""}`,
	`http_requests_total{nolabel!=""}`,
	`http_requests_total{nolabel=~".*"}`,
	`http_requests_total{nolabel!~".+"}`,
	`http_requests_total{method=~".+"}`,
	`http_requests_total{method!~".*"}`,
	`node_memory_bytes{zone=""}`,
	`node_memory_bytes{zone!=""}`,
	`node_memory_bytes{zone=~"z.*"}`,
	`node_memory_bytes{zone!~"z1"}`,
	`{__name__=~"http_.*", method="POST", instance="i1"}`,
	`{__name__=~"node_.*|http_requests_total", instance="i1"}`,
	`{__name__!="http_requests_total", job="api"}`,
	`{job="node"}`,
	`count by (__name__) ({__name__=~".+"})`,
	`nonexistent_metric`,
	`nonexistent_metric{a="b"}`,
	// Functions over ranges.
	`rate(http_requests_total[5m])`,
	`irate(http_requests_total[5m])`,
	`increase(http_requests_total[10m])`,
	`resets(http_requests_total[1h])`,
	`delta(node_memory_bytes[10m])`,
	`deriv(node_memory_bytes[10m])`,
	`changes(node_memory_bytes[30m])`,
	`count_over_time(node_memory_bytes[10m])`,
	`count_over_time(http_requests_total{instance="i1"}[1m])`,
	`avg_over_time(node_memory_bytes[10m])`,
	`quantile_over_time(0.9, node_memory_bytes[15m])`,
	`last_over_time(node_memory_bytes[1h])`,
	// Aggregations.
	`sum by (method) (rate(http_requests_total[5m]))`,
	`sum without (instance) (rate(http_requests_total[5m]))`,
	`avg without (instance, code) (rate(http_requests_total[5m]))`,
	`max by (instance) (node_memory_bytes)`,
	`count(node_memory_bytes)`,
	// topk and bottomk break ties by the order of the storage's series
	// (TSDB's is creation order, ours label order), so over tie-free data.
	`topk(2, node_memory_bytes)`,
	`topk(1, rate(request_duration_seconds_sum[5m]))`,
	`bottomk(1, node_memory_bytes)`,
	`quantile(0.5, node_memory_bytes)`,
	`count_values("code", http_requests_total{instance="i1", method="GET"} % 7)`,
	`sort_desc(sum by (instance) (node_memory_bytes))`,
	// Histograms.
	`histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))`,
	`histogram_quantile(0.5, rate(request_duration_seconds_bucket[5m]))`,
	`histogram_quantile(0.99, sum by (instance, le) (increase(request_duration_seconds_bucket[10m])))`,
	`rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])`,
	// Offset, @, subqueries.
	`http_requests_total offset 10m`,
	`rate(http_requests_total[5m] offset 30m)`,
	`node_memory_bytes offset -5m`,
	`max_over_time(rate(http_requests_total[5m])[30m:1m])`,
	`avg_over_time(node_memory_bytes[10m:])`,
	`min_over_time(sum(node_memory_bytes)[20m:2m] offset 5m)`,
	`node_memory_bytes @ end()`,
	`rate(http_requests_total[5m] @ start())`,
	// absent.
	`absent(nonexistent_metric)`,
	`absent(http_requests_total{method="DELETE"})`,
	`absent(http_requests_total)`,
	`absent_over_time(node_memory_bytes{instance="i3"}[5m])`,
	// Binary operators, labels, scalars.
	`node_memory_bytes > 5e8`,
	`node_memory_bytes > bool 5e8`,
	`sum by (instance) (rate(http_requests_total{code="500"}[5m])) / sum by (instance) (rate(http_requests_total[5m]))`,
	`http_requests_total / ignoring(code) group_left sum without (code) (http_requests_total)`,
	`label_replace(node_memory_bytes, "host", "$1", "instance", "i(.*)")`,
	`label_join(node_memory_bytes, "id", "-", "instance", "zone")`,
	`scalar(sum(node_memory_bytes))`,
	`time()`,
	`vector(1)`,
	`timestamp(node_memory_bytes)`,
	`node_memory_bytes and on(instance) http_requests_total{method="GET", code="200"}`,
	`node_memory_bytes unless node_memory_bytes{zone="z1"}`,
}

// evalTimes are the instant query times: the start, the middle, inside
// the gap, at the staleness marker, after the end within and beyond the
// lookback delta.
func evalTimes() []time.Time {
	mid := dataStart.Add(dataEnd.Sub(dataStart) / 2)
	third := dataStart.Add(dataEnd.Sub(dataStart) / 3)
	return []time.Time{
		dataStart,
		dataStart.Add(7 * time.Minute),
		third.Add(10 * time.Minute),
		dataStart.Add(2 * dataEnd.Sub(dataStart) / 3).Add(30 * time.Second),
		mid.Add(1234 * time.Millisecond),
		dataEnd,
		dataEnd.Add(3 * time.Minute),
		dataEnd.Add(6 * time.Minute),
	}
}

func TestConformance(t *testing.T) {
	data := conformanceData()
	v := newEnv(t)
	v.write(t, data)
	theirs := openTSDB(t, data)
	for _, tc := range []struct {
		name string
		o    promql.Options
	}{
		{"label cache", promql.Options{}},
		{"no label cache", promql.Options{SeriesCacheSize: -1}},
		{"tiny label cache", promql.Options{SeriesCacheSize: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) { conformance(t, promql.New(v.x, tc.o), theirs) })
	}
}

func conformance(t *testing.T, ours *promql.Engine, theirs storage.Queryable) {
	eng := ours.PromQL()
	ctx := context.Background()

	run := func(t *testing.T, q storage.Queryable, mk func(storage.Queryable) (pql.Query, error)) *pql.Result {
		t.Helper()
		qry, err := mk(q)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(qry.Close)
		return qry.Exec(ctx)
	}
	compare := func(t *testing.T, mk func(storage.Queryable) (pql.Query, error)) {
		t.Helper()
		want := run(t, theirs, mk)
		got := run(t, ours.Queryable(""), mk)
		if (want.Err == nil) != (got.Err == nil) {
			t.Fatalf("error: got %v, want %v", got.Err, want.Err)
		}
		if want.Err != nil {
			return
		}
		if d := diff(got.Value, want.Value); d != "" {
			t.Fatalf("%s\ngot:\n%s\nwant:\n%s", d, got.Value, want.Value)
		}
		gw, _ := got.Warnings.AsStrings("", 0, 0)
		ww, _ := want.Warnings.AsStrings("", 0, 0)
		slices.Sort(gw)
		slices.Sort(ww)
		if !slices.Equal(gw, ww) {
			t.Fatalf("warnings: got %q, want %q", gw, ww)
		}
	}
	nonEmpty := 0
	for _, expr := range conformanceExprs {
		t.Run(expr, func(t *testing.T) {
			for _, ts := range evalTimes() {
				compare(t, func(q storage.Queryable) (pql.Query, error) {
					return eng.NewInstantQuery(ctx, q, nil, expr, ts)
				})
			}
			for _, step := range []time.Duration{time.Minute, 37 * time.Second} {
				compare(t, func(q storage.Queryable) (pql.Query, error) {
					return eng.NewRangeQuery(ctx, q, nil, expr, dataStart.Add(-2*time.Minute), dataEnd.Add(7*time.Minute), step)
				})
			}
			res := run(t, ours.Queryable(""), func(q storage.Queryable) (pql.Query, error) {
				return eng.NewRangeQuery(ctx, q, nil, expr, dataStart, dataEnd, time.Minute)
			})
			if m, ok := res.Value.(pql.Matrix); ok && len(m) > 0 {
				nonEmpty++
			}
		})
	}
	// The comparison means something only if most expressions have data.
	if nonEmpty < len(conformanceExprs)*3/4 {
		t.Errorf("only %d of %d expressions have a non-empty result", nonEmpty, len(conformanceExprs))
	}
	// A string literal is an instant query only.
	compare(t, func(q storage.Queryable) (pql.Query, error) {
		return eng.NewInstantQuery(ctx, q, nil, `"a string"`, dataEnd)
	})
}

// diff describes how two query results differ, "" if they agree (floats
// to a relative 1e-9; NaN equals NaN). Vectors are compared in label
// order, since only sort() and sort_desc() define the order of one.
func diff(got, want any) string {
	switch w := want.(type) {
	case pql.Matrix:
		g, ok := got.(pql.Matrix)
		if !ok {
			return fmt.Sprintf("got a %T, want a matrix", got)
		}
		if len(g) != len(w) {
			return fmt.Sprintf("got %d series, want %d", len(g), len(w))
		}
		for i := range w {
			if !labels.Equal(g[i].Metric, w[i].Metric) {
				return fmt.Sprintf("series %d: got %s, want %s", i, g[i].Metric, w[i].Metric)
			}
			if len(g[i].Floats) != len(w[i].Floats) || len(g[i].Histograms) != len(w[i].Histograms) {
				return fmt.Sprintf("series %s: got %d points, want %d", w[i].Metric, len(g[i].Floats), len(w[i].Floats))
			}
			for j, p := range w[i].Floats {
				if q := g[i].Floats[j]; q.T != p.T || !near(q.F, p.F) {
					return fmt.Sprintf("series %s: point %d: got %v, want %v", w[i].Metric, j, q, p)
				}
			}
		}
	case pql.Vector:
		g, ok := got.(pql.Vector)
		if !ok {
			return fmt.Sprintf("got a %T, want a vector", got)
		}
		if len(g) != len(w) {
			return fmt.Sprintf("got %d samples, want %d", len(g), len(w))
		}
		g, w = slices.Clone(g), slices.Clone(w)
		for _, v := range []pql.Vector{g, w} {
			slices.SortStableFunc(v, func(a, b pql.Sample) int { return labels.Compare(a.Metric, b.Metric) })
		}
		for i := range w {
			if !labels.Equal(g[i].Metric, w[i].Metric) || g[i].T != w[i].T || !near(g[i].F, w[i].F) {
				return fmt.Sprintf("sample %d: got %s, want %s", i, g[i], w[i])
			}
		}
	case pql.Scalar:
		g, ok := got.(pql.Scalar)
		if !ok || g.T != w.T || !near(g.V, w.V) {
			return fmt.Sprintf("got %v, want %v", got, w)
		}
	case pql.String:
		if g, ok := got.(pql.String); !ok || g != w {
			return fmt.Sprintf("got %v, want %v", got, w)
		}
	default:
		return fmt.Sprintf("unexpected result %T", want)
	}
	return ""
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// TestSelectorSemantics checks what the conformance test cannot compare:
// our own labels and the behaviour of the data model.
func TestSelectorSemantics(t *testing.T) {
	data := conformanceData()
	v := newEnv(t)
	v.write(t, data)
	ours := promql.New(v.x, promql.Options{})
	ctx := context.Background()
	instant := func(expr string) (pql.Vector, error) {
		t.Helper()
		q, err := ours.NewInstantQuery(ctx, "", nil, expr, dataEnd)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		res := q.Exec(ctx)
		if res.Err != nil {
			return nil, res.Err
		}
		vec, _ := res.Vector()
		return vec, nil
	}
	// __horaedb_field__ picks the field and is no label of the result.
	vec, err := instant(`node_memory_bytes{__horaedb_field__="value", instance="i1"}`)
	if err != nil || len(vec) != 1 || vec[0].Metric.Has(promql.LabelField) {
		t.Fatalf("field matcher: %v, %v", vec, err)
	}
	// A missing field is the client's error, naming the field.
	if _, err := instant(`node_memory_bytes{__horaedb_field__="nope"}`); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("missing field: %v", err)
	}
	if _, err := instant(`node_memory_bytes{__horaedb_field__=~"v.*"}`); err == nil || !strings.Contains(err.Error(), "equality") {
		t.Fatalf("field regexp: %v", err)
	}
	// Another field of the same table.
	if _, err := v.x.Execute(ctx, query.Session{}, "ALTER TABLE node_memory_bytes ADD COLUMN free double"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.x.Execute(ctx, query.Session{}, fmt.Sprintf(
		"INSERT INTO node_memory_bytes (`timestamp`, instance, job, free) VALUES (%d, 'i9', 'node', 42)", dataEnd.UnixMilli())); err != nil {
		t.Fatal(err)
	}
	vec, err = instant(`node_memory_bytes{__horaedb_field__="free"}`)
	if err != nil || len(vec) != 1 || vec[0].F != 42 || vec[0].Metric.Get("instance") != "i9" {
		t.Fatalf("field free: %v, %v", vec, err)
	}
	// The value of that row is NULL: no sample for i9 in "value".
	vec, err = instant(`node_memory_bytes{instance="i9"}`)
	if err != nil || len(vec) != 0 {
		t.Fatalf("null value: %v, %v", vec, err)
	}
}
