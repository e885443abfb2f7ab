package grpcapi

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/prompb"

	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/server/promremote"
)

func encodePromQuery(t *testing.T, table string, start, end int64, ms ...*prompb.LabelMatcher) []byte {
	t.Helper()
	q := prompb.Query{StartTimestampMs: start, EndTimestampMs: end,
		Matchers: append([]*prompb.LabelMatcher{{Type: prompb.LabelMatcher_EQ, Name: promremote.LabelMetricName, Value: table}}, ms...)}
	b, err := q.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func eq(name, value string) *prompb.LabelMatcher {
	return &prompb.LabelMatcher{Type: prompb.LabelMatcher_EQ, Name: name, Value: value}
}

func matcher(typ prompb.LabelMatcher_Type, name, value string) *prompb.LabelMatcher {
	return &prompb.LabelMatcher{Type: typ, Name: name, Value: value}
}

// renderSeries renders series as "labels: ts=v ts=v", one per line.
func renderSeries(res *prompb.QueryResult) string {
	var b strings.Builder
	for _, s := range res.Timeseries {
		for i, l := range s.Labels {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%s=%s", l.Name, l.Value)
		}
		b.WriteString(":")
		for _, p := range s.Samples {
			fmt.Fprintf(&b, " %d=%g", p.Timestamp-nowMs, p.Value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestPromRemoteQuery(t *testing.T) {
	v := newTestEnv(t, nil)
	var pts []point
	for i, host := range []string{"a", "b", "ab", "c"} {
		for j := range 3 {
			p := point{ts: nowMs + int64(j), tags: map[string]string{"host": host},
				fields: map[string]*storagepb.Value{"value": f64(float64(10*i + j)), "other": f64(-1), "s": str("x")}}
			if host != "c" {
				p.tags["region"] = "r" + host
			}
			if host == "b" && j == 1 {
				p.fields["value"] = nil // a null sample is left out
			}
			pts = append(pts, p)
		}
	}
	if resp, err := v.client.Write(testCtx(t), writeRequest("cpu", pts...)); err != nil || resp.GetHeader().GetCode() != 200 {
		t.Fatalf("Write: %v %v", resp, err)
	}
	// Series come in tsid order.
	tsids := map[string]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(v.rows("SELECT DISTINCT host, tsid FROM cpu")), "\n") {
		host, id, _ := strings.Cut(line, ",")
		tsids[host], _ = strconv.ParseUint(id, 10, 64)
	}
	series := map[string]string{
		"a":  "__name__=cpu,host=a,region=ra: 0=0 1=1 2=2\n",
		"b":  "__name__=cpu,host=b,region=rb: 0=10 2=12\n",
		"ab": "__name__=cpu,host=ab,region=rab: 0=20 1=21 2=22\n",
		"c":  "__name__=cpu,host=c,region=: 0=30 1=31 2=32\n",
	}
	want := func(hosts ...string) string {
		sort.Slice(hosts, func(i, j int) bool { return tsids[hosts[i]] < tsids[hosts[j]] })
		var b strings.Builder
		for _, h := range hosts {
			b.WriteString(series[h])
		}
		return b.String()
	}
	for _, tc := range []struct {
		name       string
		start, end int64
		ms         []*prompb.LabelMatcher
		want       string
	}{
		{"all", nowMs, nowMs + 2, nil, want("a", "b", "ab", "c")},
		{"eq", nowMs, nowMs + 2, []*prompb.LabelMatcher{eq("host", "a")}, want("a")},
		{"neq", nowMs, nowMs + 2, []*prompb.LabelMatcher{matcher(prompb.LabelMatcher_NEQ, "host", "a")}, want("b", "ab", "c")},
		{"re anchored", nowMs, nowMs + 2, []*prompb.LabelMatcher{matcher(prompb.LabelMatcher_RE, "host", "a|b")}, want("a", "b")},
		{"nre", nowMs, nowMs + 2, []*prompb.LabelMatcher{matcher(prompb.LabelMatcher_NRE, "host", "a.*")}, want("b", "c")},
		{"null tag is empty", nowMs, nowMs + 2, []*prompb.LabelMatcher{eq("region", "")}, want("c")},
		{"neq on null tag", nowMs, nowMs + 2, []*prompb.LabelMatcher{matcher(prompb.LabelMatcher_NEQ, "region", "ra")}, want("b", "ab", "c")},
		{"re matching empty", nowMs, nowMs + 2, []*prompb.LabelMatcher{matcher(prompb.LabelMatcher_RE, "region", "ra|")}, want("a", "c")},
		{"two matchers", nowMs, nowMs + 2, []*prompb.LabelMatcher{matcher(prompb.LabelMatcher_RE, "host", "a.*"), eq("region", "rab")}, want("ab")},
		{"unknown label", nowMs, nowMs + 2, []*prompb.LabelMatcher{eq("nope", "x")}, ""},
		{"unknown label empty", nowMs, nowMs + 2, []*prompb.LabelMatcher{eq("nope", "")}, want("a", "b", "ab", "c")},
		{"range ends inclusive", nowMs + 1, nowMs + 1, []*prompb.LabelMatcher{eq("host", "a")}, "__name__=cpu,host=a,region=ra: 1=1\n"},
		{"empty range", nowMs + 5, nowMs + 9, nil, ""},
		{"field", nowMs, nowMs, []*prompb.LabelMatcher{eq("host", "c"), eq(promremote.LabelField, "other")}, "__name__=cpu,host=c,region=: 0=-1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := v.client.PromRemoteQuery(testCtx(t), &storagepb.PrometheusRemoteQueryRequest{
				Query: encodePromQuery(t, "cpu", tc.start, tc.end, tc.ms...)})
			if err != nil || resp.GetHeader().GetCode() != 200 {
				t.Fatalf("%v %v", resp, err)
			}
			var res prompb.QueryResult
			if err := res.Unmarshal(resp.GetResponse()); err != nil {
				t.Fatal(err)
			}
			if got := renderSeries(&res); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}

	// Matchers on a tag that is not a string apply to its text.
	v.sql("CREATE TABLE ntag (id int TAG, value double, t timestamp NOT NULL, TIMESTAMP KEY(t))")
	v.sql(fmt.Sprintf("INSERT INTO ntag (id, value, t) VALUES (1, 1, %d), (2, 2, %d), (12, 12, %d)", nowMs, nowMs, nowMs))
	for _, tc := range []struct {
		m    *prompb.LabelMatcher
		want string
	}{
		{eq("id", "2"), "__name__=ntag,id=2: 0=2\n"},
		{matcher(prompb.LabelMatcher_RE, "id", "1.*"), "__name__=ntag,id=1: 0=1\n__name__=ntag,id=12: 0=12\n"},
	} {
		resp, err := v.client.PromRemoteQuery(testCtx(t), &storagepb.PrometheusRemoteQueryRequest{Query: encodePromQuery(t, "ntag", nowMs, nowMs, tc.m)})
		var res prompb.QueryResult
		if err != nil || resp.GetHeader().GetCode() != 200 || res.Unmarshal(resp.GetResponse()) != nil {
			t.Fatalf("%v %v", resp, err)
		}
		sort.Slice(res.Timeseries, func(i, j int) bool { return res.Timeseries[i].Samples[0].Value < res.Timeseries[j].Samples[0].Value })
		if got := renderSeries(&res); got != tc.want {
			t.Errorf("%v: got\n%s\nwant\n%s", tc.m, got, tc.want)
		}
	}

	resp, err := v.client.PromRemoteQuery(testCtx(t), &storagepb.PrometheusRemoteQueryRequest{Query: encodePromQuery(t, "no_such_metric", 0, nowMs)})
	if err != nil || resp.GetHeader().GetCode() != 200 || len(resp.GetResponse()) != 0 {
		t.Errorf("an unknown metric: %v %v", resp, err)
	}
	noName, _ := (&prompb.Query{Matchers: []*prompb.LabelMatcher{eq("host", "a")}}).Marshal()
	for _, tc := range []struct {
		name  string
		query []byte
		want  string
	}{
		{"no __name__", noName, "no __name__ matcher"},
		{"__name__ regex", encodePromQuery(t, "cpu", 0, 1, matcher(prompb.LabelMatcher_RE, promremote.LabelMetricName, "c.*")), "must be an equality"},
		{"bad regex", encodePromQuery(t, "cpu", 0, 1, matcher(prompb.LabelMatcher_RE, "host", "(")), "label host"},
		{"string field", encodePromQuery(t, "cpu", 0, nowMs, eq(promremote.LabelField, "s")), "not a number"},
		{"unknown field", encodePromQuery(t, "cpu", 0, nowMs, eq(promremote.LabelField, "nope")), "nope"},
		{"not a query", []byte{0xff, 0x01}, "prompb.Query"},
	} {
		resp, err := v.client.PromRemoteQuery(testCtx(t), &storagepb.PrometheusRemoteQueryRequest{Query: tc.query})
		if err != nil || resp.GetHeader().GetCode() != 400 || !strings.Contains(resp.GetHeader().GetError(), tc.want) {
			t.Errorf("%s: %v %v; want 400 naming %q", tc.name, resp, err, tc.want)
		}
	}
}
