package promapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/promql"
	"github.com/horaego/horaedb/server/promapi"
	"github.com/horaego/horaedb/wal/local"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// t0 is the first sample: a minute of samples every 15 s follows.
var t0 = now.Add(-10 * time.Minute)

// newServer serves the API over a real engine holding
//
//	up{job="api",instance="a"}  1 1 1 1 1
//	up{job="api",instance="b"}  0 0 0 0 0
//	http_requests_total{job="api",code="200"} 0 10 20 30 40
//	http_requests_total{job="api",code="500"} 0 1 2 3 4
//	cpu (an InfluxDB-style table: fields user and system, no value)
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	w, err := local.Open(filepath.Join(t.TempDir(), "wal"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := objstore.NewMemory()
	clock := func() time.Time { return now }
	e, err := engine.Open(engine.Options{WAL: w, Store: b, Logger: slog.New(slog.DiscardHandler), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.OpenShard(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	x := query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 1}, Now: clock})
	str := func(i uint32, s string) query.Cell {
		return query.Cell{Index: i, Value: query.Value{Kind: schema.String, S: s}}
	}
	f64 := func(v float64) []query.Cell {
		return []query.Cell{{Index: 0, Value: query.Value{Kind: schema.Double, F: v}}}
	}
	up := query.WriteTable{Table: "up", Tags: []string{"instance", "job"}, Fields: []string{"value"}}
	reqs := query.WriteTable{Table: "http_requests_total", Tags: []string{"code", "job"}, Fields: []string{"value"}}
	cpu := query.WriteTable{Table: "cpu", Tags: []string{"host"}, Fields: []string{"user", "system"}}
	for i := range 5 {
		ts := t0.Add(time.Duration(i) * 15 * time.Second).UnixMilli()
		up.Rows = append(up.Rows,
			query.WriteRow{Timestamp: ts, Tags: []query.Cell{str(0, "a"), str(1, "api")}, Fields: f64(1)},
			query.WriteRow{Timestamp: ts, Tags: []query.Cell{str(0, "b"), str(1, "api")}, Fields: f64(0)})
		reqs.Rows = append(reqs.Rows,
			query.WriteRow{Timestamp: ts, Tags: []query.Cell{str(0, "200"), str(1, "api")}, Fields: f64(float64(10 * i))},
			query.WriteRow{Timestamp: ts, Tags: []query.Cell{str(0, "500"), str(1, "api")}, Fields: f64(float64(i))})
		cpu.Rows = append(cpu.Rows, query.WriteRow{Timestamp: ts, Tags: []query.Cell{str(0, "h1")},
			Fields: []query.Cell{{Index: 0, Value: query.Value{Kind: schema.Double, F: 0.5}},
				{Index: 1, Value: query.Value{Kind: schema.Double, F: 0.25}}}})
	}
	if _, err := x.Write(context.Background(), query.Session{}, []query.WriteTable{up, reqs, cpu}, query.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	h := promapi.New(promapi.Options{Engine: promql.New(x, promql.Options{MaxSamples: 100}), Revision: "test",
		Logger: slog.New(slog.DiscardHandler), Now: clock})
	mux := http.NewServeMux()
	for _, r := range h.Routes() {
		mux.HandleFunc(r.Pattern, r.Handler)
	}
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { ts.Close(); e.Close(); w.Close(); b.Close() })
	return ts
}

type response struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
}

func (r response) String() string {
	data := string(r.Data)
	if len(data) > 300 {
		data = data[:300] + "..."
	}
	return fmt.Sprintf("{status %s, errorType %s, error %q, warnings %q, data %s}", r.Status, r.ErrorType, r.Error, r.Warnings, data)
}

func get(t *testing.T, ts *httptest.Server, path string, params url.Values) (int, response) {
	t.Helper()
	resp, err := http.Get(ts.URL + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func post(t *testing.T, ts *httptest.Server, path string, params url.Values) (int, response) {
	t.Helper()
	resp, err := http.PostForm(ts.URL+path, params)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) (int, response) {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q: %s", ct, body)
	}
	var r response
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return resp.StatusCode, r
}

func unix(t time.Time) string { return fmt.Sprint(float64(t.UnixMilli()) / 1000) }

// jsonEqual compares JSON texts by value.
func jsonEqual(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestQuery(t *testing.T) {
	ts := newServer(t)
	at := t0.Add(time.Minute)
	sec := at.Unix()
	for _, tc := range []struct {
		name, query string
		want        string
	}{
		{"vector", `up`, fmt.Sprintf(`{"resultType":"vector","result":[
			{"metric":{"__name__":"up","instance":"a","job":"api"},"value":[%d,"1"]},
			{"metric":{"__name__":"up","instance":"b","job":"api"},"value":[%d,"0"]}]}`, sec, sec)},
		{"aggregation", `sum by (job) (rate(http_requests_total[1m]))`, fmt.Sprintf(`{"resultType":"vector","result":[
			{"metric":{"job":"api"},"value":[%d,"0.7333333333333333"]}]}`, sec)},
		{"scalar", `1 + 1`, fmt.Sprintf(`{"resultType":"scalar","result":[%d,"2"]}`, sec)},
		{"string", `"hi"`, fmt.Sprintf(`{"resultType":"string","result":[%d,"hi"]}`, sec)},
		{"special floats", `up / 0`, fmt.Sprintf(`{"resultType":"vector","result":[
			{"metric":{"instance":"a","job":"api"},"value":[%d,"+Inf"]},
			{"metric":{"instance":"b","job":"api"},"value":[%d,"NaN"]}]}`, sec, sec)},
		{"unknown metric", `nothing_here`, `{"resultType":"vector","result":[]}`},
		{"field", `cpu{__horaedb_field__="system"}`, fmt.Sprintf(`{"resultType":"vector","result":[
			{"metric":{"__name__":"cpu","host":"h1"},"value":[%d,"0.25"]}]}`, sec)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, do := range []func(*testing.T, *httptest.Server, string, url.Values) (int, response){get, post} {
				code, r := do(t, ts, "/api/v1/query", url.Values{"query": {tc.query}, "time": {unix(at)}})
				if code != http.StatusOK || r.Status != "success" {
					t.Fatalf("%d %v", code, r)
				}
				jsonEqual(t, r.Data, tc.want)
			}
		})
	}
	// Without time: now, which is beyond the lookback of the samples.
	code, r := get(t, ts, "/api/v1/query", url.Values{"query": {"up"}})
	if code != http.StatusOK {
		t.Fatalf("%d %v", code, r)
	}
	jsonEqual(t, r.Data, `{"resultType":"vector","result":[]}`)
	// RFC 3339 time, a millisecond fraction, limit with a warning.
	at = at.Add(1500 * time.Millisecond)
	code, r = get(t, ts, "/api/v1/query", url.Values{"query": {"up"}, "time": {at.Format(time.RFC3339Nano)}, "limit": {"1"}})
	if code != http.StatusOK || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "truncated") {
		t.Fatalf("%d %v", code, r)
	}
	jsonEqual(t, r.Data, fmt.Sprintf(`{"resultType":"vector","result":[
		{"metric":{"__name__":"up","instance":"a","job":"api"},"value":[%d.5,"1"]}]}`, sec+1))
}

func TestQueryRange(t *testing.T) {
	ts := newServer(t)
	start, end := t0, t0.Add(30*time.Second)
	code, r := get(t, ts, "/api/v1/query_range", url.Values{"query": {`up{instance="a"}`},
		"start": {unix(start)}, "end": {end.Format(time.RFC3339)}, "step": {"15s"}})
	if code != http.StatusOK || r.Status != "success" {
		t.Fatalf("%d %v", code, r)
	}
	s := start.Unix()
	jsonEqual(t, r.Data, fmt.Sprintf(`{"resultType":"matrix","result":[
		{"metric":{"__name__":"up","instance":"a","job":"api"},"values":[[%d,"1"],[%d,"1"],[%d,"1"]]}]}`, s, s+15, s+30))
	// Step in seconds, POST, a selector of several tables.
	code, r = post(t, ts, "/api/v1/query_range", url.Values{"query": {`count by (__name__) ({job="api"})`},
		"start": {unix(start)}, "end": {unix(end)}, "step": {"30"}})
	if code != http.StatusOK {
		t.Fatalf("%d %v", code, r)
	}
	jsonEqual(t, r.Data, fmt.Sprintf(`{"resultType":"matrix","result":[
		{"metric":{"__name__":"http_requests_total"},"values":[[%d,"2"],[%d,"2"]]},
		{"metric":{"__name__":"up"},"values":[[%d,"2"],[%d,"2"]]}]}`, s, s+30, s, s+30))
}

func TestErrors(t *testing.T) {
	ts := newServer(t)
	at := unix(t0.Add(time.Minute))
	for _, tc := range []struct {
		name, path string
		params     url.Values
		code       int
		typ, msg   string
	}{
		{"bad expression", "/api/v1/query", url.Values{"query": {"sum(up"}}, 400, "bad_data", `invalid parameter "query"`},
		{"empty expression", "/api/v1/query", url.Values{}, 400, "bad_data", `invalid parameter "query"`},
		{"bad time", "/api/v1/query", url.Values{"query": {"up"}, "time": {"yesterday"}}, 400, "bad_data", `invalid parameter "time"`},
		{"bad timeout", "/api/v1/query", url.Values{"query": {"up"}, "timeout": {"soon"}}, 400, "bad_data", `invalid parameter "timeout"`},
		{"bad limit", "/api/v1/query", url.Values{"query": {"up"}, "limit": {"-1"}}, 400, "bad_data", `invalid parameter "limit"`},
		{"bad lookback", "/api/v1/query", url.Values{"query": {"up"}, "lookback_delta": {"x"}}, 400, "bad_data", "lookback delta"},
		{"range without start", "/api/v1/query_range", url.Values{"query": {"up"}, "end": {at}, "step": {"15"}}, 400, "bad_data", `invalid parameter "start"`},
		{"range end before start", "/api/v1/query_range", url.Values{"query": {"up"}, "start": {at}, "end": {"0"}, "step": {"15"}}, 400, "bad_data", "must not be before"},
		{"range zero step", "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {at}, "step": {"0"}}, 400, "bad_data", "zero or negative"},
		{"range too many points", "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {at}, "step": {"1"}}, 400, "bad_data", "11,000"},
		{"range bad expression", "/api/v1/query_range", url.Values{"query": {"rate(up)"}, "start": {at}, "end": {at}, "step": {"15"}}, 400, "bad_data", "range vector"},
		{"too many samples", "/api/v1/query_range", url.Values{"query": {"up"}, "start": {unix(t0)}, "end": {unix(t0.Add(time.Hour))}, "step": {"1"}}, 422, "execution", "too many samples"},
		{"field not a field", "/api/v1/query", url.Values{"query": {`cpu`}, "time": {at}}, 422, "execution", "__horaedb_field__"},
		{"field regexp", "/api/v1/query", url.Values{"query": {`up{__horaedb_field__=~"v.*"}`}, "time": {at}}, 422, "execution", "equality"},
		{"timeout", "/api/v1/query", url.Values{"query": {"up"}, "time": {at}, "timeout": {"0"}}, 503, "timeout", ""},
		{"series without match", "/api/v1/series", url.Values{}, 400, "bad_data", "no match[]"},
		{"series bad match", "/api/v1/series", url.Values{"match[]": {"up{"}}, 400, "bad_data", `invalid parameter "match[]"`},
		{"series empty match", "/api/v1/series", url.Values{"match[]": {`{job=~".*"}`}}, 400, "bad_data", "non-empty matcher"},
		{"series bad start", "/api/v1/series", url.Values{"match[]": {"up"}, "start": {"x"}}, 400, "bad_data", `invalid parameter "start"`},
		{"labels bad end", "/api/v1/labels", url.Values{"end": {"x"}}, 400, "bad_data", `invalid parameter "end"`},
		{"label values bad name", "/api/v1/label/%FF/values", nil, 400, "bad_data", "invalid label name"},
		{"exemplars bad query", "/api/v1/query_exemplars", url.Values{"query": {"up{"}}, 400, "bad_data", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, r := get(t, ts, tc.path, tc.params)
			if code != tc.code || r.Status != "error" || r.ErrorType != tc.typ || !strings.Contains(r.Error, tc.msg) {
				t.Fatalf("got %d %v, want %d %s %q", code, r, tc.code, tc.typ, tc.msg)
			}
		})
	}
}

func TestSeries(t *testing.T) {
	ts := newServer(t)
	code, r := get(t, ts, "/api/v1/series", url.Values{"match[]": {`up`, `http_requests_total{code="500"}`}})
	if code != http.StatusOK {
		t.Fatalf("%d %v", code, r)
	}
	jsonEqual(t, r.Data, `[
		{"__name__":"http_requests_total","code":"500","job":"api"},
		{"__name__":"up","instance":"a","job":"api"},
		{"__name__":"up","instance":"b","job":"api"}]`)
	// A time range without samples: none.
	code, r = post(t, ts, "/api/v1/series", url.Values{"match[]": {`up`}, "start": {"0"}, "end": {"1000"}})
	if code != http.StatusOK {
		t.Fatalf("%d %v", code, r)
	}
	jsonEqual(t, r.Data, `[]`)
	// Regexp on __name__, limit.
	code, r = get(t, ts, "/api/v1/series", url.Values{"match[]": {`{__name__=~"u.*|http.*", job="api"}`}, "limit": {"2"}})
	if code != http.StatusOK || len(r.Warnings) != 1 {
		t.Fatalf("%d %v", code, r)
	}
	jsonEqual(t, r.Data, `[
		{"__name__":"http_requests_total","code":"200","job":"api"},
		{"__name__":"http_requests_total","code":"500","job":"api"}]`)
}

func TestLabels(t *testing.T) {
	ts := newServer(t)
	for _, tc := range []struct {
		name, path string
		params     url.Values
		want       string
	}{
		{"names", "/api/v1/labels", nil, `["__name__","code","instance","job"]`},
		{"names of a selector", "/api/v1/labels", url.Values{"match[]": {"up"}}, `["__name__","instance","job"]`},
		{"names of a field", "/api/v1/labels", url.Values{"match[]": {`{__name__="cpu",__horaedb_field__="user"}`}}, `["__name__","host"]`},
		{"metric names", "/api/v1/label/__name__/values", nil, `["http_requests_total","up"]`},
		{"metric names of a selector", "/api/v1/label/__name__/values", url.Values{"match[]": {`{code="500"}`}}, `["http_requests_total"]`},
		{"values", "/api/v1/label/instance/values", nil, `["a","b"]`},
		{"values of a selector", "/api/v1/label/job/values", url.Values{"match[]": {`up{instance="b"}`}}, `["api"]`},
		{"values of two selectors", "/api/v1/label/code/values", url.Values{"match[]": {`http_requests_total{code="200"}`, `http_requests_total{code=~"5.."}`}}, `["200","500"]`},
		{"values outside the range", "/api/v1/label/instance/values", url.Values{"start": {"0"}, "end": {"1"}}, `[]`},
		{"unknown label", "/api/v1/label/nope/values", nil, `[]`},
		{"values limit", "/api/v1/label/instance/values", url.Values{"limit": {"1"}}, `["a"]`},
		{"escaped name", "/api/v1/label/U__instance/values", nil, `["a","b"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, r := get(t, ts, tc.path, tc.params)
			if code != http.StatusOK || r.Status != "success" {
				t.Fatalf("%d %v", code, r)
			}
			jsonEqual(t, r.Data, tc.want)
		})
	}
}

func TestProbes(t *testing.T) {
	ts := newServer(t)
	code, r := get(t, ts, "/api/v1/status/buildinfo", nil)
	var info map[string]string
	if code != http.StatusOK || json.Unmarshal(r.Data, &info) != nil || info["version"] != promapi.PrometheusVersion || info["revision"] != "test" {
		t.Fatalf("buildinfo: %d %s", code, r.Data)
	}
	code, r = get(t, ts, "/api/v1/metadata", nil)
	if code != http.StatusOK {
		t.Fatalf("metadata: %d", code)
	}
	jsonEqual(t, r.Data, `{}`)
	code, r = get(t, ts, "/api/v1/query_exemplars", url.Values{"query": {"up"}})
	if code != http.StatusOK {
		t.Fatalf("exemplars: %d", code)
	}
	jsonEqual(t, r.Data, `[]`)
	code, r = get(t, ts, "/api/v1/format_query", url.Values{"query": {"sum(up)by(job)"}})
	if code != http.StatusOK {
		t.Fatalf("format_query: %d", code)
	}
	jsonEqual(t, r.Data, `"sum by (job) (up)"`)
}
