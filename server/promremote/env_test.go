package promremote

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/wal/local"
)

// nowMs is the clock of the test engines; samples are written around it.
var nowMs = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// newExecutor returns an executor over a real engine (local WAL, memory
// object store) with two shards. TTL is off, so samples at any time count.
func newExecutor(t testing.TB) *query.Executor {
	t.Helper()
	w, err := local.Open(filepath.Join(t.TempDir(), "wal"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := objstore.NewMemory()
	clock := func() time.Time { return time.UnixMilli(nowMs) }
	e, err := engine.Open(engine.Options{Now: clock, WAL: w, Store: b, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); w.Close(); b.Close() })
	for s := uint32(0); s < 2; s++ {
		if err := e.OpenShard(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	defaults := options.Default()
	defaults.EnableTTL = false
	return query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 2}, Now: clock,
		TableDefaults: &defaults})
}

// env is a Handler over a real executor, served by an httptest server at
// /prom/v1/{write,read}, the database taken from the x-horaedb-schema
// header.
type env struct {
	t   testing.TB
	x   *query.Executor
	h   *Handler
	reg *prometheus.Registry
	url string
}

func newEnv(t testing.TB, mutate func(*Options)) *env {
	t.Helper()
	x := newExecutor(t)
	reg := prometheus.NewRegistry()
	o := Options{Writer: x, Querier: x, Registerer: reg,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		Database: func(r *http.Request) string {
			if db := r.Header.Get("x-horaedb-schema"); db != "" {
				return db
			}
			return query.DefaultDatabase
		}}
	if mutate != nil {
		mutate(&o)
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /prom/v1/write", h.Write)
	mux.HandleFunc("POST /prom/v1/read", h.Read)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &env{t: t, x: x, h: h, reg: reg, url: ts.URL}
}

// response is what a request answered.
type response struct {
	code   int
	body   []byte
	header http.Header
}

// post sends body to path with the headers given as name, value pairs.
func (v *env) post(path string, body []byte, header ...string) response {
	v.t.Helper()
	req, err := http.NewRequest("POST", v.url+path, bytes.NewReader(body))
	if err != nil {
		v.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	return response{resp.StatusCode, b, resp.Header}
}

// remoteWriteHeaders are those Prometheus sends with a 1.0 write.
var remoteWriteHeaders = []string{"Content-Type", "application/x-protobuf", "Content-Encoding", "snappy",
	"X-Prometheus-Remote-Write-Version", "0.1.0"}

// encode marshals and snappy-compresses a message, as a sender does.
func encode(t testing.TB, m interface{ Marshal() ([]byte, error) }) []byte {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, b)
}

// write posts a remote-write request and expects 204.
func (v *env) write(req *prompb.WriteRequest, header ...string) {
	v.t.Helper()
	r := v.post("/prom/v1/write", encode(v.t, req), append(remoteWriteHeaders, header...)...)
	if r.code != http.StatusNoContent || len(r.body) != 0 {
		v.t.Fatalf("write: %d %s", r.code, r.body)
	}
}

// read posts a remote-read request and decodes the answer, expecting 200.
func (v *env) read(req *prompb.ReadRequest, header ...string) *prompb.ReadResponse {
	v.t.Helper()
	r := v.post("/prom/v1/read", encode(v.t, req), append([]string{"Content-Type", "application/x-protobuf",
		"Content-Encoding", "snappy", "X-Prometheus-Remote-Read-Version", "0.1.0"}, header...)...)
	if r.code != http.StatusOK {
		v.t.Fatalf("read: %d %s", r.code, r.body)
	}
	if ct, ce := r.header.Get("Content-Type"), r.header.Get("Content-Encoding"); ct != "application/x-protobuf" || ce != "snappy" {
		v.t.Fatalf("read answered Content-Type %q, Content-Encoding %q", ct, ce)
	}
	raw, err := snappy.Decode(nil, r.body)
	if err != nil {
		v.t.Fatalf("read: the answer is not snappy: %v", err)
	}
	var resp prompb.ReadResponse
	if err := resp.Unmarshal(raw); err != nil {
		v.t.Fatalf("read: the answer is not a ReadResponse: %v", err)
	}
	if len(resp.Results) != len(req.Queries) {
		v.t.Fatalf("read: %d results for %d queries", len(resp.Results), len(req.Queries))
	}
	return &resp
}

// rows runs a query in db and renders its rows, one line each, values
// comma-separated: timestamps as ms, floats with %g, null as "null".
func (v *env) rows(db, sql string) string {
	v.t.Helper()
	s, err := rowsOf(v.x, db, sql)
	if err != nil {
		v.t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func rowsOf(x *query.Executor, db, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := x.Execute(ctx, query.Session{Database: db}, sql)
	if err != nil {
		return "", err
	}
	defer res.Release()
	var b strings.Builder
	for _, rec := range res.Records {
		for i := range int(rec.NumRows()) {
			for j, c := range rec.Columns() {
				if j > 0 {
					b.WriteString(",")
				}
				b.WriteString(cellString(c, i))
			}
			b.WriteString("\n")
		}
	}
	return b.String(), nil
}

func cellString(c arrow.Array, i int) string {
	if c.IsNull(i) {
		return "null"
	}
	switch a := c.(type) {
	case *array.Timestamp:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	}
	return c.ValueStr(i)
}

// labels builds labels from name, value pairs.
func labels(nv ...string) []prompb.Label {
	ls := make([]prompb.Label, 0, len(nv)/2)
	for i := 0; i+1 < len(nv); i += 2 {
		ls = append(ls, prompb.Label{Name: nv[i], Value: nv[i+1]})
	}
	return ls
}

// series is a time series with samples at nowMs+offset, values v.
func series(ls []prompb.Label, offsetValue ...float64) prompb.TimeSeries {
	ts := prompb.TimeSeries{Labels: ls}
	for i := 0; i+1 < len(offsetValue); i += 2 {
		ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: nowMs + int64(offsetValue[i]), Value: offsetValue[i+1]})
	}
	return ts
}

// renderResult renders series as "labels: offset=value ...", one per line,
// in the order given; a stale marker shows as StaleNaN, other NaNs as NaN.
func renderResult(res *prompb.QueryResult) string {
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
			v := strconv.FormatFloat(p.Value, 'g', -1, 64)
			if value.IsStaleNaN(p.Value) {
				v = "StaleNaN"
			}
			fmt.Fprintf(&b, " %d=%s", p.Timestamp-nowMs, v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// sortedResult renders series sorted by their labels (the answer is in
// tsid order, which a test cannot foresee).
func sortedResult(res *prompb.QueryResult) string {
	lines := strings.SplitAfter(renderResult(res), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "")
}

// readQuery is a remote-read query of metric over [start, end] (offsets from
// nowMs) with more matchers.
func readQuery(metric string, start, end int64, ms ...*prompb.LabelMatcher) *prompb.Query {
	return &prompb.Query{StartTimestampMs: nowMs + start, EndTimestampMs: nowMs + end,
		Matchers: append([]*prompb.LabelMatcher{eq(LabelMetricName, metric)}, ms...)}
}
