package promql_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/horaego/horaedb/query/promql"
)

// BenchmarkPromQLRangeQuery: sum(rate(x[5m])) over 100 counters × 1 day
// at 10 s (864,000 samples, flushed to SSTs), one step a minute.
func BenchmarkPromQLRangeQuery(b *testing.B) {
	const series, interval = 100, 10 * time.Second
	end := now.Add(-time.Minute)
	start := end.Add(-24 * time.Hour)
	v := newEnv(b)
	n := int(end.Sub(start) / interval)
	for i := range series {
		s := testSeries{lset: labels.FromStrings("__name__", "bench_requests_total", "job", "bench",
			"instance", fmt.Sprintf("host-%03d", i))}
		s.ts, s.vs = make([]int64, n), make([]float64, n)
		c := 0.0
		for j := range n {
			c += float64((i*7 + j*13) % 17)
			s.ts[j], s.vs[j] = start.Add(time.Duration(j)*interval).UnixMilli(), c
		}
		v.write(b, []testSeries{s})
	}
	if _, failed := v.e.FlushAll(context.Background()); len(failed) > 0 {
		b.Fatalf("flush: %v", failed)
	}
	e := promql.New(v.x, promql.Options{})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		q, err := e.NewRangeQuery(ctx, "", nil, `sum(rate(bench_requests_total[5m]))`, start, end, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		res := q.Exec(ctx)
		if res.Err != nil {
			b.Fatal(res.Err)
		}
		if m, err := res.Matrix(); err != nil || len(m) != 1 || len(m[0].Floats) < 1400 {
			b.Fatalf("unexpected result: %v %v", err, res.Value)
		}
		q.Close()
	}
	b.ReportMetric(float64(series*n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
