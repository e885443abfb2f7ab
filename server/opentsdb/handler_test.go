package opentsdb_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/opentsdb"
	"github.com/horaego/horaedb/wal/local"
)

// now is the test clock: 2023-11-14T22:13:20Z, 1700000000 s.
var now = time.Unix(1_700_000_000, 0).UTC()

// env is a handler over a real executor and engine, served by httptest.
type env struct {
	url string
	x   *query.Executor
}

func newEnv(t testing.TB, maxBody int64) *env {
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
	// No TTL: puts may carry any timestamp from 1970 on, and the fuzz
	// targets count what they wrote.
	td := options.Default()
	td.EnableTTL = false
	x := query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 1}, TableDefaults: &td,
		Now: func() time.Time { return now }})
	h := opentsdb.New(opentsdb.Options{Executor: x, TimestampColumn: "timestamp", MaxBodySize: maxBody,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		Database: func(r *http.Request) string {
			if db := r.Header.Get("x-horaedb-schema"); db != "" {
				return db
			}
			return query.DefaultDatabase
		}})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /opentsdb/api/put", h.Put)
	mux.HandleFunc("POST /opentsdb/api/query", h.Query)
	mux.HandleFunc("GET /opentsdb/api/suggest", h.Suggest)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { ts.Close(); e.Close(); w.Close(); b.Close() })
	return &env{url: ts.URL, x: x}
}

func (e *env) post(t testing.TB, path, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return doReq(t, req)
}

// client bounds every request: a handler that hangs fails the test.
var client = &http.Client{Timeout: 5 * time.Second}

func doReq(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func gzipped(s string) string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.String()
}

// put writes points and fails the test unless they are accepted.
func (e *env) put(t testing.TB, body string) {
	t.Helper()
	if code, out := e.post(t, "/opentsdb/api/put", body); code != 204 {
		t.Fatalf("put: %d %s", code, out)
	}
}

// sql runs a statement and returns its rows as JSON-ish text.
func (e *env) sql(t testing.TB, db, stmt string) [][]any {
	t.Helper()
	res, err := e.x.Execute(context.Background(), query.Session{Database: db}, stmt)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	defer res.Release()
	var rows [][]any
	for _, rec := range res.Records {
		js, err := rec.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var objs []map[string]any
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.UseNumber()
		if err := dec.Decode(&objs); err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			var row []any
			for i := 0; i < int(rec.NumCols()); i++ {
				row = append(row, o[rec.ColumnName(i)])
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// result is one series of a query answer.
type result struct {
	Metric         string            `json:"metric"`
	Tags           map[string]string `json:"tags"`
	AggregateTags  []string          `json:"aggregateTags"`
	AggregatedTags []string          `json:"aggregatedTags"`
	DPS            map[string]any    `json:"dps"`
}

// query runs a query, expecting 200, and decodes the answer.
func (e *env) query(t testing.TB, body string) []result {
	t.Helper()
	code, out := e.post(t, "/opentsdb/api/query", body)
	if code != 200 {
		t.Fatalf("query %s: %d %s", body, code, out)
	}
	var rs []result
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("query answer %s: %v", out, err)
	}
	return rs
}

func (e *env) get(t testing.TB, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return doReq(t, req)
}

func querySession() query.Session { return query.Session{Database: query.DefaultDatabase} }
