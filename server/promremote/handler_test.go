package promremote

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
)

var staleNaN = math.Float64frombits(value.StaleNaN)

// TestWriteAndRead writes real remote-write requests and reads them back
// through SQL and through remote read.
func TestWriteAndRead(t *testing.T) {
	v := newEnv(t, nil)
	v.write(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(labels("__name__", "cpu", "host", "a", "region", "eu"), 0, 1, 1000, 2, 2000, 3),
		// Unsorted labels; an empty value is no label.
		series(labels("region", "us", "host", "b", "__name__", "cpu", "zone", ""), 0, 10, 1000, math.NaN(), 2000, -0.5),
		series(labels("host", "c", "__name__", "cpu"), 1000, math.Inf(1)),
		series(labels("__name__", "mem", "host", "a"), 0, 0.5),
		{Labels: labels("__name__", "nothing")}, // no samples: no table
	}})

	// The tables: tsid, the timestamp, the tags in name order, the value.
	sch, err := v.x.TableSchema(query.DefaultDatabase, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range sch.Columns {
		kind := c.Kind.String()
		if c.IsTag {
			kind += " TAG"
		}
		cols = append(cols, c.Name+" "+kind)
	}
	if got, want := strings.Join(cols, ", "), "tsid uint64, timestamp timestamp, host string TAG, region string TAG, value double"; !strings.EqualFold(got, want) {
		t.Errorf("cpu columns: %s\nwant %s", got, want)
	}
	if _, err := v.x.TableSchema(query.DefaultDatabase, "nothing"); err == nil {
		t.Errorf("a series without samples created its table")
	}
	got := v.rows("public", fmt.Sprintf("SELECT host, region, timestamp - %d, value FROM cpu ORDER BY host, timestamp", nowMs))
	want := "a,eu,0,1\na,eu,1000,2\na,eu,2000,3\nb,us,0,10\nb,us,1000,NaN\nb,us,2000,-0.5\nc,null,1000,+Inf\n"
	if got != want {
		t.Errorf("SQL: got\n%s\nwant\n%s", got, want)
	}

	// A new label adds a tag column; older rows have none ("" in reads).
	v.write(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(labels("__name__", "cpu", "host", "a", "region", "eu", "zone", "z1"), 3000, 4),
	}})

	cpuA := "__name__=cpu,host=a,region=eu,zone=: 0=1 1000=2 2000=3\n"
	cpuA3 := "__name__=cpu,host=a,region=eu,zone=z1: 3000=4\n"
	cpuB := "__name__=cpu,host=b,region=us,zone=: 0=10 1000=NaN 2000=-0.5\n"
	cpuC := "__name__=cpu,host=c,region=,zone=: 1000=+Inf\n"
	queries := []struct {
		name string
		q    *prompb.Query
		want string
	}{
		{"all", readQuery("cpu", 0, 3000), cpuA + cpuA3 + cpuB + cpuC},
		{"eq", readQuery("cpu", 0, 3000, eq("host", "b")), cpuB},
		{"neq", readQuery("cpu", 0, 3000, matcher(prompb.LabelMatcher_NEQ, "host", "b")), cpuA + cpuA3 + cpuC},
		{"re", readQuery("cpu", 0, 3000, matcher(prompb.LabelMatcher_RE, "region", "e.|u.")), cpuA + cpuA3 + cpuB},
		{"re anchored", readQuery("cpu", 0, 3000, matcher(prompb.LabelMatcher_RE, "region", "e")), ""},
		{"nre", readQuery("cpu", 0, 3000, matcher(prompb.LabelMatcher_NRE, "host", "a|b")), cpuC},
		{"empty label", readQuery("cpu", 0, 3000, eq("zone", "")), cpuA + cpuB + cpuC},
		{"time range", readQuery("cpu", 1000, 1000, eq("host", "a")), "__name__=cpu,host=a,region=eu,zone=: 1000=2\n"},
		{"unknown metric", readQuery("no_such_metric", 0, 3000), ""},
		{"other metric", readQuery("mem", -10, 10), "__name__=mem,host=a: 0=0.5\n"},
	}
	req := &prompb.ReadRequest{}
	for _, q := range queries {
		req.Queries = append(req.Queries, q.q)
	}
	resp := v.read(req)
	for i, q := range queries {
		res := resp.Results[i]
		if got := sortedResult(res); got != q.want {
			t.Errorf("%s: got\n%s\nwant\n%s", q.name, got, q.want)
		}
		for _, s := range res.Timeseries {
			if !sort.SliceIsSorted(s.Labels, func(i, j int) bool { return s.Labels[i].Name < s.Labels[j].Name }) {
				t.Errorf("%s: labels not sorted: %v", q.name, s.Labels)
			}
			if !sort.SliceIsSorted(s.Samples, func(i, j int) bool { return s.Samples[i].Timestamp < s.Samples[j].Timestamp }) {
				t.Errorf("%s: samples not in time order: %v", q.name, s.Samples)
			}
		}
	}
	if got := testutil.ToFloat64(v.h.metrics.samplesWritten); got != 9 {
		t.Errorf("samples written: %g, want 9", got)
	}
	if got := testutil.ToFloat64(v.h.metrics.requests.WithLabelValues(apiWrite, "204")); got != 2 {
		t.Errorf("write requests: %g, want 2", got)
	}

	// Labels that sort before __name__ (upper case) stay sorted.
	v.write(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{series(labels("__name__", "up", "Job", "x", "instance", "i:9090"), 0, 1)}})
	res := v.read(&prompb.ReadRequest{Queries: []*prompb.Query{readQuery("up", 0, 0)}}).Results[0]
	if got := renderResult(res); got != "Job=x,__name__=up,instance=i:9090: 0=1\n" {
		t.Errorf("up: %s", got)
	}
}

// TestStaleMarkers checks that NaN and Prometheus' stale markers (a NaN
// of its own) are written and read back bit for bit.
func TestStaleMarkers(t *testing.T) {
	v := newEnv(t, nil)
	v.write(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(labels("__name__", "m", "h", "a"), 0, math.NaN(), 1000, staleNaN, 2000, 1),
	}})
	want := "__name__=m,h=a: 0=NaN 1000=StaleNaN 2000=1\n"
	q := &prompb.ReadRequest{Queries: []*prompb.Query{readQuery("m", 0, 2000, eq("h", "a"))}}
	if got := renderResult(v.read(q).Results[0]); got != want {
		t.Errorf("got %s want %s", got, want)
	}
	// A new label adds a column, which flushes the rows to an SST.
	v.write(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{series(labels("__name__", "m", "h", "b", "z", "1"), 0, 2)}})
	want = "__name__=m,h=a,z=: 0=NaN 1000=StaleNaN 2000=1\n"
	// (SSTs must not dictionary-encode doubles: Parquet's dictionary
	// treats every NaN as one.)
	if got := renderResult(v.read(q).Results[0]); got != want {
		t.Errorf("after a flush: got %s want %s", got, want)
	}
}

// TestReadResponseTypes checks that a client that accepts only streamed
// chunks gets samples, as from Prometheus servers that do not stream.
func TestReadResponseTypes(t *testing.T) {
	v := newEnv(t, nil)
	v.write(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{series(labels("__name__", "m", "a", "1"), 0, 7)}})
	for _, types := range [][]prompb.ReadRequest_ResponseType{
		nil,
		{prompb.ReadRequest_SAMPLES},
		{prompb.ReadRequest_STREAMED_XOR_CHUNKS, prompb.ReadRequest_SAMPLES},
		{prompb.ReadRequest_STREAMED_XOR_CHUNKS},
	} {
		resp := v.read(&prompb.ReadRequest{Queries: []*prompb.Query{readQuery("m", 0, 0)}, AcceptedResponseTypes: types})
		if got := renderResult(resp.Results[0]); got != "__name__=m,a=1: 0=7\n" {
			t.Errorf("%v: %s", types, got)
		}
	}
	// No queries: no results.
	if resp := v.read(&prompb.ReadRequest{}); len(resp.Results) != 0 {
		t.Errorf("no queries: %v", resp)
	}
}

// TestDatabase checks that the request's database (the x-horaedb-schema
// header in the server) is where writes go and reads look.
func TestDatabase(t *testing.T) {
	v := newEnv(t, nil)
	v.write(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{series(labels("__name__", "m"), 0, 1)}}, "x-horaedb-schema", "other")
	q := &prompb.ReadRequest{Queries: []*prompb.Query{readQuery("m", 0, 0)}}
	if got := renderResult(v.read(q, "x-horaedb-schema", "other").Results[0]); got != "__name__=m: 0=1\n" {
		t.Errorf("other: %s", got)
	}
	if got := renderResult(v.read(q).Results[0]); got != "" {
		t.Errorf("public: %s", got)
	}
}

// TestWriteBadRequests checks that each kind of bad request answers its
// status with a message naming the problem, and writes nothing: every
// request also carries a good series, which must not be written.
func TestWriteBadRequests(t *testing.T) {
	v := newEnv(t, func(o *Options) { o.MaxBodySize = 64 << 10 })
	v.rows("public", "CREATE TABLE clash (host string TAG, value string, timestamp timestamp NOT NULL, TIMESTAMP KEY(timestamp))")
	good := series(labels("__name__", "good", "host", "a"), 0, 1)
	withGood := func(bad ...prompb.TimeSeries) []byte {
		return encode(t, &prompb.WriteRequest{Timeseries: append([]prompb.TimeSeries{good}, bad...)})
	}
	raw := func(b []byte) []byte { return b }
	notProto := snappy.Encode(nil, []byte{0xff, 0xff, 0xff})
	bigLabel := strings.Repeat("x", 70<<10) // compresses to little, decompresses over the limit
	for _, tc := range []struct {
		name   string
		body   []byte
		header []string
		code   int
		msg    string
	}{
		{"not snappy", raw([]byte("cpu,host=a value=1")), nil, 400, "not snappy-compressed"},
		{"not protobuf", notProto, nil, 400, "not a remote write 1.0 message"},
		{"no __name__", withGood(series(labels("host", "b"), 0, 1)), nil, 400, "no __name__ label"},
		{"empty __name__", withGood(series(labels("__name__", "", "host", "b"), 0, 1)), nil, 400, "no __name__ label"},
		{"empty label name", withGood(series(labels("__name__", "good", "", "b"), 0, 1)), nil, 400, "empty name"},
		{"label twice", withGood(series(labels("__name__", "good", "host", "b", "host", "c"), 0, 1)), nil, 400, "label host is given twice"},
		{"label twice unsorted", withGood(series(labels("host", "b", "__name__", "good", "host", "c"), 0, 1)), nil, 400, "given twice"},
		{"bad utf8 value", withGood(series(labels("__name__", "good", "host", "\xff"), 0, 1)), nil, 400, "not valid UTF-8"},
		{"bad utf8 name", withGood(series(labels("__name__", "good", "h\xff", "x"), 0, 1)), nil, 400, "not valid UTF-8"},
		{"label value", withGood(series(labels("__name__", "good", "value", "x"), 0, 1)), nil, 400, "label value is reserved"},
		{"label timestamp", withGood(series(labels("__name__", "good", "timestamp", "x"), 0, 1)), nil, 400, "label timestamp is reserved"},
		{"label tsid", withGood(series(labels("__name__", "good", "tsid", "x"), 0, 1)), nil, 400, "label tsid is reserved"},
		{"label field", withGood(series(labels("__name__", "good", LabelField, "x"), 0, 1)), nil, 400, "__horaedb_field__ is reserved"},
		{"names the series", withGood(series(labels("__name__", "good", "host", "b"), 0, 1), series(labels("__name__", "x", "", "y"), 0, 1)),
			nil, 400, `series 2 {__name__="x", ""="y"}`},
		{"value into a string column", withGood(series(labels("__name__", "clash", "host", "b"), 0, 1)), nil, 400, "clash"},
		{"remote write 2.0", withGood(), []string{"Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request"},
			415, "only remote write 1.0"},
		{"gzip", withGood(), []string{"Content-Encoding", "gzip"}, 415, "snappy"},
		{"too large", raw(make([]byte, 65<<10)), nil, 413, "server.http_max_body_size"},
		{"too large decompressed", withGood(series(labels("__name__", "good", "host", bigLabel), 0, 1)), nil, 413, "decompressed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := v.post("/prom/v1/write", tc.body, append(append([]string{}, remoteWriteHeaders...), tc.header...)...)
			var e struct {
				Code    int
				Message string
			}
			if err := json.Unmarshal(r.body, &e); err != nil || r.code != tc.code || e.Code != tc.code ||
				!strings.Contains(e.Message, tc.msg) || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("got %d %s; want %d naming %q", r.code, r.body, tc.code, tc.msg)
			}
			if strings.Contains(e.Message, "bad request:") {
				t.Errorf("the message repeats the sentinel: %s", e.Message)
			}
			if got := v.rows("public", "SHOW TABLES"); strings.Contains(got, "good\n") {
				if n := v.rows("public", "SELECT count(1) FROM good"); n != "0\n" {
					t.Fatalf("a bad request wrote %s rows", n)
				}
			}
		})
	}
	if got := testutil.ToFloat64(v.h.metrics.requests.WithLabelValues(apiWrite, "400")); got < 10 {
		t.Errorf("400 answers counted: %g", got)
	}
	if got := testutil.ToFloat64(v.h.metrics.samplesWritten); got != 0 {
		t.Errorf("samples written: %g", got)
	}
	// A 2.0 message without its Content-Type decodes as an empty 1.0 one
	// with unknown fields: refused too, not taken as "nothing to write".
	v2 := []byte{0x22, 0x03, 'f', 'o', 'o'} // field 4 (symbols) = "foo"
	if r := v.post("/prom/v1/write", snappy.Encode(nil, v2)); r.code != 415 || !bytes.Contains(r.body, []byte("remote write 2.0")) {
		t.Errorf("unlabelled 2.0: %d %s", r.code, r.body)
	}
}

// TestWriteIgnored checks that exemplars, native histograms and metadata
// are ignored: the samples are written, the rest counted.
func TestWriteIgnored(t *testing.T) {
	v := newEnv(t, nil)
	ts := series(labels("__name__", "h", "a", "1"), 0, 1)
	ts.Exemplars = []prompb.Exemplar{{Labels: labels("trace_id", "x"), Value: 1, Timestamp: nowMs}}
	v.write(&prompb.WriteRequest{
		Timeseries: []prompb.TimeSeries{ts,
			{Labels: labels("__name__", "hist"), Histograms: []prompb.Histogram{{Timestamp: nowMs, Count: &prompb.Histogram_CountInt{CountInt: 1}}}}},
		Metadata: []prompb.MetricMetadata{{MetricFamilyName: "h", Type: prompb.MetricMetadata_GAUGE, Help: "help"}},
	})
	if got := v.rows("public", "SELECT a, value FROM h"); got != "1,1\n" {
		t.Errorf("h: %s", got)
	}
	if _, err := v.x.TableSchema("public", "hist"); err == nil {
		t.Errorf("a histogram-only series created a table")
	}
	for kind, want := range map[string]float64{"exemplar": 1, "histogram": 1, "metadata": 1} {
		if got := testutil.ToFloat64(v.h.metrics.dropped.WithLabelValues(kind)); got != want {
			t.Errorf("%s ignored: %g, want %g", kind, got, want)
		}
	}
	// Metadata alone is a valid request that writes nothing.
	v.write(&prompb.WriteRequest{Metadata: []prompb.MetricMetadata{{MetricFamilyName: "h"}}})
	v.write(&prompb.WriteRequest{})
}

// TestReadBadRequests checks the answers to bad remote-read requests.
func TestReadBadRequests(t *testing.T) {
	v := newEnv(t, func(o *Options) { o.MaxBodySize = 1 << 10 })
	v.write(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{series(labels("__name__", "m", "h", "a"), 0, 1)}})
	noName := &prompb.ReadRequest{Queries: []*prompb.Query{readQuery("m", 0, 0), {Matchers: []*prompb.LabelMatcher{eq("h", "a")}}}}
	for _, tc := range []struct {
		name string
		body []byte
		code int
		msg  string
	}{
		{"not snappy", []byte("\xff\xff\xff\xff\xff\xff"), 400, "not snappy-compressed"},
		{"not protobuf", snappy.Encode(nil, []byte{0xff, 0xff}), 400, "not a remote read message"},
		{"no __name__", encode(t, noName), 400, "query 1: no __name__ matcher"},
		{"bad regex", encode(t, &prompb.ReadRequest{Queries: []*prompb.Query{readQuery("m", 0, 0, matcher(prompb.LabelMatcher_RE, "h", "("))}}), 400, "query 0: label h"},
		{"unknown field", encode(t, &prompb.ReadRequest{Queries: []*prompb.Query{readQuery("m", 0, 0, eq(LabelField, "nope"))}}), 400, "nope"},
		{"too large", make([]byte, 2<<10), 413, "server.http_max_body_size"},
		{"too large decompressed", snappy.Encode(nil, make([]byte, 2<<10)), 413, "decompressed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := v.post("/prom/v1/read", tc.body)
			if r.code != tc.code || !bytes.Contains(r.body, []byte(tc.msg)) {
				t.Errorf("got %d %s; want %d naming %q", r.code, r.body, tc.code, tc.msg)
			}
		})
	}
	if got := testutil.ToFloat64(v.h.metrics.requests.WithLabelValues(apiRead, "400")); got != 5 {
		t.Errorf("400 answers counted: %g", got)
	}
}

// TestWriteTables checks the conversion of a request, without a server.
func TestWriteTables(t *testing.T) {
	req := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(labels("__name__", "b", "y", "1", "x", "2"), 0, 1, 1, 2),
		series(labels("__name__", "a"), 0, 3),
		series(labels("__name__", "b", "w", "3", "y", ""), 5, 4),
	}}
	tables, st, err := writeTables(req, "timestamp")
	if err != nil || st.samples != 4 || len(tables) != 2 {
		t.Fatalf("%v %+v %d tables", err, st, len(tables))
	}
	var b strings.Builder
	for _, wt := range tables {
		fmt.Fprintf(&b, "%s tags=%v fields=%v\n", wt.Table, wt.Tags, wt.Fields)
		for _, r := range wt.Rows {
			fmt.Fprintf(&b, "  %d", r.Timestamp-nowMs)
			for _, c := range r.Tags {
				fmt.Fprintf(&b, " %s=%s", wt.Tags[c.Index], c.Value.S)
			}
			for _, c := range r.Fields {
				if c.Value.Kind != schema.Double {
					t.Errorf("field of kind %s", c.Value.Kind)
				}
				fmt.Fprintf(&b, " %s=%g", wt.Fields[c.Index], c.Value.F)
			}
			b.WriteString("\n")
		}
	}
	want := `b tags=[w x y] fields=[value]
  0 y=1 x=2 value=1
  1 y=1 x=2 value=2
  5 w=3 value=4
a tags=[] fields=[value]
  0 value=3
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestCheckWriteEncoding(t *testing.T) {
	for _, tc := range []struct {
		ct, ce string
		ok     bool
	}{
		{"", "", true},
		{"application/x-protobuf", "snappy", true},
		{"application/x-protobuf;proto=prometheus.WriteRequest", "snappy", true},
		{"application/x-protobuf; proto=io.prometheus.write.v2.Request", "snappy", false},
		{"application/x-protobuf", "zstd", false},
		{"text/plain", "SNAPPY", true},
	} {
		h := http.Header{}
		if tc.ct != "" {
			h.Set("Content-Type", tc.ct)
		}
		if tc.ce != "" {
			h.Set("Content-Encoding", tc.ce)
		}
		if err := checkWriteEncoding(h); (err == nil) != tc.ok {
			t.Errorf("%q %q: %v", tc.ct, tc.ce, err)
		}
	}
}
