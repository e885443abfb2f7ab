package influx_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/influxql"
	"github.com/horaego/horaedb/server/influx"
	"github.com/horaego/horaedb/wal/local"
)

var now = time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)

func newServer(t *testing.T, maxBody int64) *httptest.Server {
	t.Helper()
	w, err := local.Open(filepath.Join(t.TempDir(), "wal"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := objstore.NewMemory()
	e, err := engine.Open(engine.Options{WAL: w, Store: b, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.OpenShard(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	x := query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 1}, Now: func() time.Time { return now }})
	h := influx.New(influx.Options{Writer: x, Querier: influxql.New(x), TimestampColumn: "time", MaxBodySize: maxBody,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /write", h.Write)
	mux.HandleFunc("/query", h.Query)
	mux.HandleFunc("/ping", h.Ping)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { ts.Close(); e.Close(); w.Close(); b.Close() })
	return ts
}

func do(t *testing.T, req *http.Request) (int, string, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func write(t *testing.T, ts *httptest.Server, params, body string, gz bool) (int, string) {
	t.Helper()
	var rd io.Reader = strings.NewReader(body)
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(body))
		zw.Close()
		rd = &buf
	}
	req, _ := http.NewRequest("POST", ts.URL+"/write?"+params, rd)
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	code, out, _ := do(t, req)
	return code, out
}

func get(t *testing.T, ts *httptest.Server, params url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+"/query?"+params.Encode(), nil)
	code, out, _ := do(t, req)
	return code, out
}

func TestWriteAndQuery(t *testing.T) {
	ts := newServer(t, 1<<20)
	lines := "cpu,host=a usage=0.5,n=1i 1767225600000000000\ncpu,host=b usage=1.5 1767225610000000000\n"
	if code, body := write(t, ts, "db=benchmark", lines, false); code != 204 || body != "" {
		t.Fatalf("write: %d %q", code, body)
	}
	if code, body := write(t, ts, "precision=s", "cpu,host=c usage=2.5 1767225620\n", true); code != 204 {
		t.Fatalf("gzip write: %d %s", code, body)
	}
	code, body := get(t, ts, url.Values{"q": {"SELECT usage FROM cpu ORDER BY time"}, "db": {"benchmark"}})
	if code != 200 || body != `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage"],"values":[["2026-01-01T00:00:00Z",0.5],["2026-01-01T00:00:10Z",1.5],["2026-01-01T00:00:20Z",2.5]]}]}]}`+"\n" {
		t.Fatalf("query: %d %s", code, body)
	}
	code, body = get(t, ts, url.Values{"q": {"SELECT count(usage) FROM cpu GROUP BY host"}, "epoch": {"ms"}})
	if code != 200 || body != `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","count"],"values":[[0,1]]},{"name":"cpu","tags":{"host":"b"},"columns":["time","count"],"values":[[0,1]]},{"name":"cpu","tags":{"host":"c"},"columns":["time","count"],"values":[[0,1]]}]}]}`+"\n" {
		t.Fatalf("epoch query: %d %s", code, body)
	}
	// POST form, pretty, two statements, one failing.
	req, _ := http.NewRequest("POST", ts.URL+"/query", strings.NewReader(url.Values{"q": {"SHOW MEASUREMENTS; SELECT nope(usage) FROM cpu"}, "pretty": {"true"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, body, _ = do(t, req)
	var parsed struct {
		Results []struct {
			StatementID int `json:"statement_id"`
			Series      []struct {
				Name   string
				Values [][]any
			}
			Error string
		}
	}
	if err := json.Unmarshal([]byte(body), &parsed); err != nil || code != 200 || len(parsed.Results) != 2 ||
		parsed.Results[0].Series[0].Values[0][0] != "cpu" || !strings.Contains(parsed.Results[1].Error, "nope") ||
		!strings.Contains(body, "\n    ") {
		t.Fatalf("POST query: %d %s (%v)", code, body, err)
	}
}

func TestBadRequests(t *testing.T) {
	ts := newServer(t, 4096)
	// A bad third line: 400 naming it, and nothing of the body written.
	code, body := write(t, ts, "precision=s", "m,host=a v=1 1767225601\nm,host=b v=2 1767225602\nm,host=c v= 1767225603\n", false)
	if code != 400 || !strings.Contains(body, "line 3") {
		t.Fatalf("bad line: %d %s", code, body)
	}
	// A type conflict with the table: 400, nothing written.
	if code, body := write(t, ts, "precision=s", "m,host=a v=1 1767225601\n", false); code != 204 {
		t.Fatalf("%d %s", code, body)
	}
	code, body = write(t, ts, "precision=s", "m,host=z v=5 1767225609\nm,host=a v=\"text\" 1767225602\n", false)
	if code != 400 || !strings.Contains(body, "cannot hold a value of type string") {
		t.Fatalf("type conflict: %d %s", code, body)
	}
	if _, body := get(t, ts, url.Values{"q": {"SELECT count(v) FROM m"}, "epoch": {"ns"}}); !strings.Contains(body, `"values":[[0,1]]`) {
		t.Fatalf("after the rejected writes: %s", body)
	}
	if code, body := write(t, ts, "precision=days", "m v=1 1\n", false); code != 400 || !strings.Contains(body, "precision") {
		t.Fatalf("bad precision: %d %s", code, body)
	}
	if code, _ := write(t, ts, "", strings.Repeat("m v=1 1\n", 1000), false); code != 413 {
		t.Fatalf("oversized body: %d", code)
	}
	if code, _ := write(t, ts, "", strings.Repeat("m v=1 1\n", 1000), true); code != 413 {
		t.Fatalf("oversized after decompression: %d", code)
	}
	if code, body := write(t, ts, "", "not gzip", true); code != 400 || !strings.Contains(body, "gzip") {
		t.Fatalf("bad gzip: %d %s", code, body)
	}
	if code, body := get(t, ts, url.Values{"q": {"SELEC"}}); code != 400 || !strings.Contains(body, "error parsing query") {
		t.Fatalf("parse error: %d %s", code, body)
	}
	if code, body := get(t, ts, url.Values{}); code != 400 || !strings.Contains(body, `parameter \"q\"`) {
		t.Fatalf("no q: %d %s", code, body)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/ping", nil)
	if code, _, h := do(t, req); code != 204 || h.Get("X-Influxdb-Version") == "" {
		t.Fatalf("ping: %d %v", code, h)
	}
}
