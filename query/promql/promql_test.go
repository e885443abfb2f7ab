package promql_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/horaego/horaedb/query/promql"
)

// TestEngineMetrics: the engine's metrics go to the registry given, and a
// second engine on the same registry (a restarted server) does not panic.
func TestEngineMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	v := newEnv(t)
	promql.New(v.x, promql.Options{Registerer: reg})
	promql.New(v.x, promql.Options{Registerer: reg})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		found = found || strings.HasPrefix(mf.GetName(), "prometheus_engine_")
	}
	if !found {
		t.Fatal("no prometheus_engine_ metrics registered")
	}
}

// TestLabelCacheNewSeries: a series written after its table's labels were
// cached is found, with its labels, and so are the old ones.
func TestLabelCacheNewSeries(t *testing.T) {
	v := newEnv(t)
	ts := dataEnd.UnixMilli()
	series := func(inst string, val float64) testSeries {
		return testSeries{lset: labels.FromStrings("__name__", "up", "job", "node", "instance", inst),
			ts: []int64{ts}, vs: []float64{val}}
	}
	v.write(t, []testSeries{series("a", 1)})
	e := promql.New(v.x, promql.Options{})
	ctx := context.Background()
	eval := func(expr string) string {
		t.Helper()
		q, err := e.NewInstantQuery(ctx, "", nil, expr, dataEnd)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		res := q.Exec(ctx)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		return res.Value.String()
	}
	if got, want := eval(`up`), `{__name__="up", instance="a", job="node"} => 1 @[1772365800000]`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	v.write(t, []testSeries{series("b", 2), series("c", 3)})
	want := "{__name__=\"up\", instance=\"a\", job=\"node\"} => 1 @[1772365800000]\n" +
		"{__name__=\"up\", instance=\"b\", job=\"node\"} => 2 @[1772365800000]\n" +
		"{__name__=\"up\", instance=\"c\", job=\"node\"} => 3 @[1772365800000]"
	for range 2 { // the tags of b and c looked up by tsid, then cached
		if got := eval(`up`); got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
	}
	if got, want := eval(`up{instance!="a"}`), "{__name__=\"up\", instance=\"b\", job=\"node\"} => 2 @[1772365800000]\n"+
		"{__name__=\"up\", instance=\"c\", job=\"node\"} => 3 @[1772365800000]"; got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}
