package opentsdb_test

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// t0 is 1699999200 s, on an hour boundary.
const t0 = 1_699_999_200

// pt renders a put data point at t0+off seconds.
func pt(metric string, off int, v float64, tags string) string {
	return fmt.Sprintf(`{"metric":%q,"timestamp":%d,"value":%v,"tags":{%s}}`, metric, t0+off, v, tags)
}

// putAll writes points in one request.
func putAll(t *testing.T, e *env, pts ...string) {
	t.Helper()
	e.put(t, "["+strings.Join(pts, ",")+"]")
}

// q builds a query body over [t0, t0+span] seconds with one sub-query.
func q(span int, sub string, extra ...string) string {
	s := fmt.Sprintf(`{"start":%d,"end":%d,"queries":[%s]`, t0, t0+span, sub)
	for _, x := range extra {
		s += "," + x
	}
	return s + "}"
}

// dps renders the expected dps of offsets (seconds after t0) and values,
// which are float64 or a string for "NaN" or nil for null.
func dps(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[strconv.Itoa(t0+kv[i].(int))] = kv[i+1]
	}
	return m
}

// same compares answer dps with expected ones, floats within 1e-9.
func same(got, want map[string]any) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			return false
		}
		switch w := w.(type) {
		case float64:
			gf, ok := g.(float64)
			if !ok || math.Abs(gf-w) > 1e-9*math.Max(1, math.Abs(w)) {
				return false
			}
		default:
			if !reflect.DeepEqual(g, w) {
				return false
			}
		}
	}
	return true
}

func show(rs []result) string {
	b, _ := json.Marshal(rs)
	return string(b)
}

// check runs a query expecting one result per want, in order.
func check(t *testing.T, e *env, body string, want ...result) {
	t.Helper()
	rs := e.query(t, body)
	if len(rs) != len(want) {
		t.Errorf("%s:\n got %s\nwant %d results", body, show(rs), len(want))
		return
	}
	for i, w := range want {
		g := rs[i]
		if w.Metric != "" && g.Metric != w.Metric {
			t.Errorf("%s: result %d metric %q", body, i, g.Metric)
		}
		if w.Tags == nil {
			w.Tags = map[string]string{}
		}
		if w.AggregateTags == nil {
			w.AggregateTags = []string{}
		}
		if !reflect.DeepEqual(g.Tags, w.Tags) || !reflect.DeepEqual(g.AggregateTags, w.AggregateTags) ||
			!reflect.DeepEqual(g.AggregatedTags, w.AggregateTags) || !same(g.DPS, w.DPS) {
			t.Errorf("%s: result %d\n got %s\nwant tags %v aggregateTags %v dps %v", body, i, show(rs[i:i+1]), w.Tags, w.AggregateTags, w.DPS)
		}
	}
}

// TestAggregators: two series with interleaved timestamps, every
// aggregator, computed by hand:
//
//	a (dc=eu,host=a): t0+0: 10, t0+20: 30
//	b (dc=eu,host=b): t0+10: 100, t0+30: 300
//
// At +0 only a (b has not started); at +10 a interpolates to 20; at +20 b
// interpolates to 200; at +30 only b (a has ended).
func TestAggregators(t *testing.T) {
	e := newEnv(t, 1<<20)
	putAll(t, e, pt("lerp", 0, 10, `"host":"a","dc":"eu"`), pt("lerp", 20, 30, `"host":"a","dc":"eu"`),
		pt("lerp", 10, 100, `"host":"b","dc":"eu"`), pt("lerp", 30, 300, `"host":"b","dc":"eu"`))
	agg := func(name string) string { return fmt.Sprintf(`{"metric":"lerp","aggregator":%q}`, name) }
	eu := map[string]string{"dc": "eu"}
	host := []string{"host"}
	for _, tc := range []struct {
		agg  string
		want map[string]any
	}{
		{"sum", dps(0, 10.0, 10, 20.0+100, 20, 30.0+200, 30, 300.0)},
		{"avg", dps(0, 10.0, 10, (20.0+100)/2, 20, (30.0+200)/2, 30, 300.0)},
		{"min", dps(0, 10.0, 10, 20.0, 20, 30.0, 30, 300.0)},
		{"max", dps(0, 10.0, 10, 100.0, 20, 200.0, 30, 300.0)},
		// Population standard deviation: of {20, 100} is 40, of {30, 200} 85.
		{"dev", dps(0, 0.0, 10, 40.0, 20, 85.0, 30, 0.0)},
		// count and zimsum fill a missing value inside a series' span with 0.
		{"count", dps(0, 1.0, 10, 2.0, 20, 2.0, 30, 1.0)},
		{"zimsum", dps(0, 10.0, 10, 100.0, 20, 30.0, 30, 300.0)},
		// mimmin and mimmax ignore a missing value.
		{"mimmax", dps(0, 10.0, 10, 100.0, 20, 30.0, 30, 300.0)},
		{"mimmin", dps(0, 10.0, 10, 100.0, 20, 30.0, 30, 300.0)},
	} {
		check(t, e, q(60, agg(tc.agg)), result{Metric: "lerp", Tags: eu, AggregateTags: host, DPS: tc.want})
	}
	check(t, e, q(60, agg("none")),
		result{Tags: map[string]string{"dc": "eu", "host": "a"}, DPS: dps(0, 10.0, 20, 30.0)},
		result{Tags: map[string]string{"dc": "eu", "host": "b"}, DPS: dps(10, 100.0, 30, 300.0)})
	// The time range is inclusive at both ends.
	check(t, e, fmt.Sprintf(`{"start":%d,"end":%d,"queries":[%s]}`, t0+10, t0+20, agg("sum")),
		result{Tags: eu, AggregateTags: host, DPS: dps(10, 100.0, 20, 30.0)})
}

// TestDownsample: buckets of a minute, every fill policy, the fast path.
//
//	a (host=a): t0+0: 1, t0+10: 3, t0+130: 5   → avg buckets 0: 2, 120: 5
//	b (host=b): t0+70: 10, t0+75: 20           → avg bucket 60: 15
func TestDownsample(t *testing.T) {
	e := newEnv(t, 1<<20)
	putAll(t, e, pt("ds", 0, 1, `"host":"a"`), pt("ds", 10, 3, `"host":"a"`), pt("ds", 130, 5, `"host":"a"`),
		pt("ds", 70, 10, `"host":"b"`), pt("ds", 75, 20, `"host":"b"`))
	sub := func(agg, ds string) string {
		return fmt.Sprintf(`{"metric":"ds","aggregator":%q,"downsample":%q}`, agg, ds)
	}
	host := []string{"host"}
	a, b := map[string]string{"host": "a"}, map[string]string{"host": "b"}
	// a has no bucket 60: it interpolates between 2 and 5; b has ended at 120.
	check(t, e, q(179, sub("sum", "1m-avg")), result{AggregateTags: host, DPS: dps(0, 2.0, 60, 3.5+15, 120, 5.0)})
	check(t, e, q(179, sub("sum", "1m-avg-none")), result{AggregateTags: host, DPS: dps(0, 2.0, 60, 3.5+15, 120, 5.0)})
	check(t, e, q(179, sub("sum", "1m-avg-zero")), result{AggregateTags: host, DPS: dps(0, 2.0, 60, 15.0, 120, 5.0)})
	check(t, e, q(179, sub("sum", "1m-avg-nan")), result{AggregateTags: host, DPS: dps(0, 2.0, 60, 15.0, 120, 5.0)})
	check(t, e, q(179, sub("none", "1m-avg-nan")),
		result{Tags: a, DPS: dps(0, 2.0, 60, "NaN", 120, 5.0)},
		result{Tags: b, DPS: dps(0, "NaN", 60, 15.0, 120, "NaN")})
	check(t, e, q(179, sub("none", "1m-count-null")),
		result{Tags: a, DPS: dps(0, 2.0, 60, nil, 120, 1.0)},
		result{Tags: b, DPS: dps(0, nil, 60, 2.0, 120, nil)})
	check(t, e, q(179, sub("count", "1m-avg-zero")), result{AggregateTags: host, DPS: dps(0, 2.0, 60, 2.0, 120, 2.0)})
	check(t, e, q(179, sub("count", "1m-avg-null")), result{AggregateTags: host, DPS: dps(0, 1.0, 60, 1.0, 120, 1.0)})
	// Done by SQL across series: zimsum of sums and counts, mimmax of
	// maxima, mimmin of minima.
	check(t, e, q(179, sub("zimsum", "1m-sum")), result{AggregateTags: host, DPS: dps(0, 4.0, 60, 30.0, 120, 5.0)})
	check(t, e, q(179, sub("zimsum", "1m-count")), result{AggregateTags: host, DPS: dps(0, 2.0, 60, 2.0, 120, 1.0)})
	check(t, e, q(179, sub("mimmax", "1m-max")), result{AggregateTags: host, DPS: dps(0, 3.0, 60, 20.0, 120, 5.0)})
	check(t, e, q(179, `{"metric":"ds","aggregator":"mimmin","downsample":"1m-min","tags":{"host":"*"}}`),
		result{Tags: a, DPS: dps(0, 1.0, 120, 5.0)}, result{Tags: b, DPS: dps(60, 10.0)})
	// One bucket for the whole range, at its start.
	check(t, e, q(179, sub("sum", "0all-sum")), result{AggregateTags: host, DPS: dps(0, 39.0)})
	check(t, e, q(179, sub("none", "1m-dev")), result{Tags: a, DPS: dps(0, 1.0, 120, 0.0)}, result{Tags: b, DPS: dps(60, 5.0)})
	check(t, e, q(179, sub("none", "1m-first")), result{Tags: a, DPS: dps(0, 1.0, 120, 5.0)}, result{Tags: b, DPS: dps(60, 10.0)})
	check(t, e, q(179, sub("none", "1m-last")), result{Tags: a, DPS: dps(0, 3.0, 120, 5.0)}, result{Tags: b, DPS: dps(60, 20.0)})
	check(t, e, q(179, sub("max", "2m-max")), result{AggregateTags: host, DPS: dps(0, 20.0, 120, 5.0)})
	// A fill policy fills from the bucket of start to the one of end.
	check(t, e, fmt.Sprintf(`{"start":%d,"end":%d,"queries":[%s]}`, t0+30, t0+200, sub("none", "1m-max-zero")),
		result{Tags: a, DPS: dps(0, 0.0, 60, 0.0, 120, 5.0, 180, 0.0)},
		result{Tags: b, DPS: dps(0, 0.0, 60, 20.0, 120, 0.0, 180, 0.0)})
}

// TestRate: a counter that resets between t0+10 and t0+20.
//
//	t0: 100, t0+10: 200, t0+20: 50, t0+30: 150
func TestRate(t *testing.T) {
	e := newEnv(t, 1<<20)
	putAll(t, e, pt("ctr", 0, 100, `"host":"a"`), pt("ctr", 10, 200, `"host":"a"`),
		pt("ctr", 20, 50, `"host":"a"`), pt("ctr", 30, 150, `"host":"a"`))
	a := map[string]string{"host": "a"}
	sub := func(opts string) string {
		return `{"metric":"ctr","aggregator":"sum","rate":true` + opts + `}`
	}
	check(t, e, q(60, sub("")), result{Tags: a, DPS: dps(10, 10.0, 20, -15.0, 30, 10.0)})
	// A counter wraps at counterMax: (1000 - 200 + 50) / 10 s.
	check(t, e, q(60, sub(`,"rateOptions":{"counter":true,"counterMax":1000}`)),
		result{Tags: a, DPS: dps(10, 10.0, 20, 85.0, 30, 10.0)})
	// ... and a rate above resetValue is a reset: 0.
	check(t, e, q(60, sub(`,"rateOptions":{"counter":true,"counterMax":1000,"resetValue":50}`)),
		result{Tags: a, DPS: dps(10, 10.0, 20, 0.0, 30, 10.0)})
	check(t, e, q(60, sub(`,"rateOptions":{"counter":true,"dropResets":true}`)),
		result{Tags: a, DPS: dps(10, 10.0, 30, 10.0)})
	// The default counterMax is 2^63-1.
	check(t, e, q(60, sub(`,"rateOptions":{"counter":true}`)),
		result{Tags: a, DPS: dps(10, 10.0, 20, (float64(math.MaxInt64)-200+50)/10, 30, 10.0)})
	// Rate after downsampling: 20 s buckets avg 150 and 100.
	check(t, e, q(60, `{"metric":"ctr","aggregator":"sum","rate":true,"downsample":"20s-avg"}`),
		result{Tags: a, DPS: dps(20, -2.5)})
}

// TestFilters: five series at t0, values 1, 2, 4, 8, 16 so that a sum
// names its members.
func TestFilters(t *testing.T) {
	e := newEnv(t, 1<<20)
	putAll(t, e, pt("f", 0, 1, `"host":"web01","dc":"eu"`), pt("f", 0, 2, `"host":"web02","dc":"eu"`),
		pt("f", 0, 4, `"host":"db01","dc":"us"`), pt("f", 0, 8, `"host":"Web03","dc":"us"`),
		pt("f", 0, 16, `"dc":"us"`))
	filter := func(typ, tagk, f string, groupBy bool) string {
		return fmt.Sprintf(`{"metric":"f","aggregator":"sum","filters":[{"type":%q,"tagk":%q,"filter":%q,"groupBy":%v}]}`, typ, tagk, f, groupBy)
	}
	tags := func(m string) string { return `{"metric":"f","aggregator":"sum","tags":` + m + `}` }
	one := func(v float64) map[string]any { return dps(0, v) }
	both := []string{"dc", "host"}
	hostOnly := []string{"host"}
	for _, tc := range []struct {
		sub  string
		want []result
	}{
		{filter("literal_or", "host", "web01|db01", false), []result{{AggregateTags: both, DPS: one(5)}}},
		{filter("literal_or", "host", "web01|db01", true), []result{
			{Tags: map[string]string{"dc": "us", "host": "db01"}, DPS: one(4)},
			{Tags: map[string]string{"dc": "eu", "host": "web01"}, DPS: one(1)}}},
		{filter("not_literal_or", "host", "web01", false), []result{{AggregateTags: both, DPS: one(2 + 4 + 8)}}},
		{filter("not_literal_or", "host", "web01|db01", true), []result{
			{Tags: map[string]string{"dc": "us", "host": "Web03"}, DPS: one(8)},
			{Tags: map[string]string{"dc": "eu", "host": "web02"}, DPS: one(2)}}},
		{filter("wildcard", "host", "web*", false), []result{{Tags: map[string]string{"dc": "eu"}, AggregateTags: hostOnly, DPS: one(3)}}},
		{filter("wildcard", "host", "*0*", true), []result{
			{Tags: map[string]string{"dc": "us", "host": "Web03"}, DPS: one(8)},
			{Tags: map[string]string{"dc": "us", "host": "db01"}, DPS: one(4)},
			{Tags: map[string]string{"dc": "eu", "host": "web01"}, DPS: one(1)},
			{Tags: map[string]string{"dc": "eu", "host": "web02"}, DPS: one(2)}}},
		{filter("iwildcard", "host", "web*", false), []result{{AggregateTags: both, DPS: one(11)}}},
		{filter("wildcard", "host", "*", false), []result{{AggregateTags: both, DPS: one(15)}}},
		{filter("regexp", "host", "^db", false), []result{{Tags: map[string]string{"dc": "us", "host": "db01"}, DPS: one(4)}}},
		{filter("regexp", "host", "0[12]$", false), []result{{AggregateTags: both, DPS: one(1 + 2 + 4)}}},
		{filter("iliteral_or", "host", "WEB01", false), []result{{Tags: map[string]string{"dc": "eu", "host": "web01"}, DPS: one(1)}}},
		{filter("not_iliteral_or", "host", "WEB01|DB01", false), []result{{AggregateTags: both, DPS: one(10)}}},
		{filter("wildcard", "dc", "*", true), []result{
			{Tags: map[string]string{"dc": "eu"}, AggregateTags: hostOnly, DPS: one(3)},
			{Tags: map[string]string{"dc": "us"}, AggregateTags: hostOnly, DPS: one(28)}}},
		{tags(`{"host":"*"}`), []result{
			{Tags: map[string]string{"dc": "us", "host": "Web03"}, DPS: one(8)},
			{Tags: map[string]string{"dc": "us", "host": "db01"}, DPS: one(4)},
			{Tags: map[string]string{"dc": "eu", "host": "web01"}, DPS: one(1)},
			{Tags: map[string]string{"dc": "eu", "host": "web02"}, DPS: one(2)}}},
		{tags(`{"dc":"eu|us"}`), []result{
			{Tags: map[string]string{"dc": "eu"}, AggregateTags: hostOnly, DPS: one(3)},
			{Tags: map[string]string{"dc": "us"}, AggregateTags: hostOnly, DPS: one(28)}}},
		{tags(`{"host":"web01"}`), []result{{Tags: map[string]string{"dc": "eu", "host": "web01"}, DPS: one(1)}}},
		{tags(`{"host":"regexp(^w)"}`), []result{
			{Tags: map[string]string{"dc": "eu", "host": "web01"}, DPS: one(1)},
			{Tags: map[string]string{"dc": "eu", "host": "web02"}, DPS: one(2)}}},
		// Filters and tags together: both apply.
		{`{"metric":"f","aggregator":"sum","tags":{"dc":"us"},"filters":[{"type":"wildcard","tagk":"host","filter":"*"}]}`,
			[]result{{Tags: map[string]string{"dc": "us"}, AggregateTags: hostOnly, DPS: one(12)}}},
		// explicitTags: only series with no other tags.
		{`{"metric":"f","aggregator":"sum","explicitTags":true,"filters":[{"type":"wildcard","tagk":"dc","filter":"*"}]}`,
			[]result{{Tags: map[string]string{"dc": "us"}, DPS: one(16)}}},
		// No filter: every series, the one without host too.
		{`{"metric":"f","aggregator":"sum"}`, []result{{AggregateTags: both, DPS: one(31)}}},
		// A tag the metric does not have matches nothing.
		{filter("literal_or", "nope", "x", false), nil},
		{filter("literal_or", "host", "nope", false), nil},
	} {
		check(t, e, q(10, tc.sub), tc.want...)
	}
}

func TestQueryTimes(t *testing.T) {
	e := newEnv(t, 1<<20)
	// now is 1700000000 s. Points 30 min and 2 h ago, and two within one
	// second.
	e.put(t, `[{"metric":"m","timestamp":1699998200000,"value":1,"tags":{"h":"a"}},
		{"metric":"m","timestamp":1699992800,"value":2,"tags":{"h":"a"}},
		{"metric":"m","timestamp":1699998200500,"value":3,"tags":{"h":"a"}}]`)
	body := func(start, end string, ms bool) string {
		s := `{"start":` + start + `,"queries":[{"metric":"m","aggregator":"sum"}],"msResolution":` + strconv.FormatBool(ms)
		if end != "" {
			s += `,"end":` + end
		}
		return s + "}"
	}
	keys := func(rs []result) string {
		if len(rs) != 1 {
			return show(rs)
		}
		var ks []string
		for k, v := range rs[0].DPS {
			ks = append(ks, fmt.Sprintf("%s=%v", k, v))
		}
		sort.Strings(ks)
		return strings.Join(ks, " ")
	}
	for _, tc := range []struct {
		body, want string
	}{
		{body(`"1h-ago"`, "", true), "1699998200000=1 1699998200500=3"},
		// In seconds, the last point of a second stands for it.
		{body(`"1h-ago"`, "", false), "1699998200=3"},
		{body(`"3h-ago"`, `"1h-ago"`, false), "1699992800=2"},
		{body(`1699992800`, `1699992800`, false), "1699992800=2"},
		{body(`1699992800000`, `"1699992800000"`, true), "1699992800000=2"},
		{body(`"1699998200.5"`, `"now"`, true), "1699998200500=3"},
		{body(`"2023/11/14-20:10:00"`, `"2023/11/14-21:00"`, false), "1699992800=2"},
		{body(`"2023/11/14"`, "", false), "1699992800=2 1699998200=3"},
		{body(`"2023/11/14-20:10:00"`, `"2023/11/14-21:00"`, false) + "", "1699992800=2"},
	} {
		if got := keys(e.query(t, tc.body)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.body, got, tc.want)
		}
	}
	// Seconds have at most 10 digits.
	if got := keys(e.query(t, body(`"1h-ago"`, `1700000000`, true))); got != "1699998200000=1 1699998200500=3" {
		t.Errorf("end in seconds: %s", got)
	}
	// The time zone of dates.
	if got := keys(e.query(t, `{"start":"2023/11/14-21:10:00","end":"2023/11/14-22:00:00","timezone":"Europe/Berlin","queries":[{"metric":"m","aggregator":"sum"}]}`)); got != "1699992800=2" {
		t.Errorf("timezone: %s", got)
	}
}

func TestQueryErrors(t *testing.T) {
	e := newEnv(t, 1<<20)
	e.put(t, `{"metric":"m","timestamp":1700000000,"value":1,"tags":{"h":"a"}}`)
	if _, err := e.x.Execute(t.Context(), querySession(), "CREATE TABLE novalue (ts timestamp NOT NULL, h string TAG, v double, TIMESTAMP KEY(ts))"); err != nil {
		t.Fatal(err)
	}
	sub := `"queries":[{"metric":"m","aggregator":"sum"}]`
	for _, tc := range []struct {
		body, want string
	}{
		{`{"start":"1h-ago","queries":[{"metric":"nope","aggregator":"sum"}]}`, "No such name for 'metrics': 'nope'"},
		{`{` + sub + `}`, "missing start time"},
		{`{"start":"yesterday",` + sub + `}`, "start: bad time"},
		{`{"start":"1x-ago",` + sub + `}`, "bad duration"},
		{`{"start":"1h-ago","end":"2h-ago",` + sub + `}`, "before the start"},
		{`{"start":"1h-ago"}`, "missing queries"},
		{`{"start":"1h-ago","queries":[{"metric":"m"}]}`, "queries[0]: missing aggregator"},
		{`{"start":"1h-ago","queries":[{"aggregator":"sum"}]}`, "missing metric"},
		{`{"start":"1h-ago","queries":[{"metric":"m","aggregator":"p99"}]}`, `no such aggregator "p99"`},
		{`{"start":"1h-ago","queries":[{"metric":"m","aggregator":"sum","downsample":"1m"}]}`, "want <interval>-<function>"},
		{`{"start":"1h-ago","queries":[{"metric":"m","aggregator":"sum","downsample":"1m-p99"}]}`, `no such function "p99"`},
		{`{"start":"1h-ago","queries":[{"metric":"m","aggregator":"sum","downsample":"1m-avg-linear"}]}`, `no such fill policy "linear"`},
		{`{"start":"1h-ago","queries":[{"metric":"m","aggregator":"sum","downsample":"0m-avg"}]}`, "bad duration"},
		{`{"start":"1h-ago","queries":[{"metric":"m","aggregator":"sum","filters":[{"type":"regexp","tagk":"h","filter":"("}]}]}`, "bad regular expression"},
		{`{"start":"1h-ago","queries":[{"metric":"m","aggregator":"sum","filters":[{"type":"fuzzy","tagk":"h","filter":"a"}]}]}`, `no such filter type "fuzzy"`},
		{`{"start":"1h-ago","queries":[{"metric":"m","aggregator":"sum","filters":[{"type":"literal_or","filter":"a"}]}]}`, "missing tagk"},
		{`{"start":"1h-ago","queries":[{"metric":"m","aggregator":"sum","tsuids":["000001"]}]}`, "tsuids are not supported"},
		{`{"start":"1h-ago","queries":[{"metric":"m","aggregator":"sum","rate":true,"rateOptions":{"counterMax":-1}}]}`, "counterMax"},
		{`{"start":"1h-ago","queries":[{"metric":"novalue","aggregator":"sum"}]}`, `metric novalue has no field column "value"`},
		{`{"start":"3h-ago","queries":[{"metric":"m","aggregator":"sum","downsample":"1ms-avg-zero"}]}`, "narrow the range"},
		{`[`, "not an OpenTSDB query"},
	} {
		code, out := e.post(t, "/opentsdb/api/query", tc.body)
		var eb struct {
			Message string
			Error   struct{ Message string }
		}
		_ = json.Unmarshal([]byte(out), &eb)
		if code != 400 || !strings.Contains(eb.Message, tc.want) || eb.Error.Message != eb.Message {
			t.Errorf("%s: %d %s, want 400 and %q", tc.body, code, out, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	e := newEnv(t, 1<<20)
	e.put(t, `[{"metric":"sys.cpu","timestamp":1700000000,"value":1,"tags":{"host":"a"}},
		{"metric":"sys.mem","timestamp":1700000000,"value":1,"tags":{"dc":"x"}},
		{"metric":"app","timestamp":1700000000,"value":1,"tags":{"host":"b"}}]`)
	for _, tc := range []struct{ params, want string }{
		{"type=metrics&q=sys", `["sys.cpu","sys.mem"]`},
		{"type=metrics", `["app","sys.cpu","sys.mem"]`},
		{"type=metrics&max=1", `["app"]`},
		{"type=tagk", `["dc","host"]`},
	} {
		code, out := e.get(t, "/opentsdb/api/suggest?"+tc.params)
		if code != 200 || strings.TrimSpace(out) != tc.want {
			t.Errorf("%s: %d %s, want %s", tc.params, code, out, tc.want)
		}
	}
	if code, _ := e.get(t, "/opentsdb/api/suggest?type=tagv"); code != 400 {
		t.Errorf("tagv: %d", code)
	}
}
