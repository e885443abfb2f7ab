package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/parser"
	"github.com/horaego/horaedb/server/auth"
	"github.com/horaego/horaedb/server/grpcapi"
	"github.com/horaego/horaedb/wal"
)

// fakeExec records the statements it is given and answers with result or
// err.
type fakeExec struct {
	mu     sync.Mutex
	calls  []fakeCall
	result func() *query.Result
	err    error
}

type fakeCall struct {
	db, sql string
}

func (f *fakeExec) Execute(_ context.Context, sess query.Session, sql string) (*query.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fakeCall{sess.Database, sql})
	if f.err != nil {
		return nil, f.err
	}
	if f.result != nil {
		return f.result(), nil
	}
	return &query.Result{AffectedRows: 3}, nil
}

func (f *fakeExec) last(t *testing.T) fakeCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("the executor was not called")
	}
	return f.calls[len(f.calls)-1]
}

type fakeStorage struct{ flushed, compacted, failed []string }

func (f fakeStorage) FlushAll(context.Context) ([]string, []string)   { return f.flushed, f.failed }
func (f fakeStorage) CompactAll(context.Context) ([]string, []string) { return f.compacted, f.failed }

// newTestAPI returns an API over fakes, served by httptest.
func newTestAPI(t *testing.T, exec executor, maxBody int64) (*httptest.Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := newHTTPMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	a := &api{
		exec:     exec,
		storage:  fakeStorage{flushed: []string{"t1", `q"t`}, compacted: []string{"c1"}, failed: []string{"f1"}},
		config:   []byte("[server]\nhttp_port = 5440\n"),
		registry: reg,
		log:      slog.New(slog.DiscardHandler),
		maxBody:  maxBody,
		slow:     time.Second,
		metrics:  m,
		router:   grpcapi.StaticRouter{Host: "10.0.0.1", Port: 8831},
	}
	ts := httptest.NewServer(a.handler())
	t.Cleanup(ts.Close)
	return ts, reg
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url, contentType string, body io.Reader, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func TestSQLBody(t *testing.T) {
	exec := &fakeExec{}
	ts, _ := newTestAPI(t, exec, 1<<20)
	cases := []struct {
		name, body, contentType string
		header                  []string
		wantSQL, wantDB         string
	}{
		{"json", `{"query":"SELECT 1"}`, "application/json", nil, "SELECT 1", "public"},
		{"json with spaces and extra keys", "  \n{\"query\": \"show tables\", \"other\": 1}", "", nil, "show tables", "public"},
		{"raw", "SELECT * FROM t WHERE a = 'x'", "text/plain", nil, "SELECT * FROM t WHERE a = 'x'", "public"},
		{"raw without content type", "DROP TABLE t", "", nil, "DROP TABLE t", "public"},
		{"raw json string is sql", `"select 1"`, "application/json", nil, `"select 1"`, "public"},
		{"schema header", `{"query":"SELECT 1"}`, "", []string{HeaderSchema, "db1"}, "SELECT 1", "db1"},
		{"empty schema header", "SELECT 1", "", []string{HeaderSchema, ""}, "SELECT 1", "public"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, "POST", ts.URL+"/sql", c.contentType, strings.NewReader(c.body), c.header...)
			if r.status != 200 || r.body != `{"affected_rows":3}` {
				t.Fatalf("got %d %s", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if got := exec.last(t); got.sql != c.wantSQL || got.db != c.wantDB {
				t.Errorf("executed %+v, want sql %q in %q", got, c.wantSQL, c.wantDB)
			}
		})
	}
}

func TestSQLBadRequests(t *testing.T) {
	exec := &fakeExec{}
	ts, _ := newTestAPI(t, exec, 64)
	cases := []struct {
		name, body string
		status     int
		msg        string // contained in the message
	}{
		{"malformed json", `{"query": "SELECT 1"`, 400, "malformed JSON body"},
		{"query not a string", `{"query": 1}`, 400, "malformed JSON body"},
		{"no query", `{"sql": "SELECT 1"}`, 400, `no \"query\"`},
		{"empty body", ``, 400, "empty query"},
		{"blank query", `{"query": "  \n"}`, 400, "empty query"},
		{"blank raw", " \t\n", 400, "empty query"},
		{"too large", strings.Repeat("x", 65), 413, "server.http_max_body_size = 64B"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, "POST", ts.URL+"/sql", "", strings.NewReader(c.body))
			checkError(t, r, c.status, c.msg)
		})
	}
	exec.mu.Lock()
	defer exec.mu.Unlock()
	if len(exec.calls) != 0 {
		t.Errorf("bad requests reached the executor: %+v", exec.calls)
	}
}

// TestSQLBodyLimitChunked checks the limit without a Content-Length: the body
// is cut off while it is read.
func TestSQLBodyLimitChunked(t *testing.T) {
	ts, _ := newTestAPI(t, &fakeExec{}, 1024)
	body := io.MultiReader(strings.NewReader("SELECT '"), strings.NewReader(strings.Repeat("x", 4096)))
	r := do(t, "POST", ts.URL+"/sql", "text/plain", struct{ io.Reader }{body}) // hide the length
	checkError(t, r, 413, "server.http_max_body_size = 1KB")

	r = do(t, "POST", ts.URL+"/sql", "text/plain", struct{ io.Reader }{strings.NewReader(strings.Repeat(" ", 1000) + "SELECT 1")})
	if r.status != 200 {
		t.Errorf("a body under the limit: %d %s", r.status, r.body)
	}
}

func checkError(t *testing.T, r response, status int, msgPart string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (body %s)", r.status, status, r.body)
	}
	want := fmt.Sprintf(`{"code":%d,"message":"`, status)
	if !strings.HasPrefix(r.body, want) || !strings.HasSuffix(r.body, `"}`) {
		t.Fatalf("body %s, want %s...\"}", r.body, want)
	}
	if !strings.Contains(r.body, msgPart) {
		t.Errorf("message %s does not contain %q", r.body, msgPart)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestSQLErrorStatus(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{"invalid statement", fmt.Errorf("%w: unknown column x", query.ErrInvalid), 400, "unknown column x"},
		{"unsupported", fmt.Errorf("%w: DELETE", query.ErrUnsupported), 400, "DELETE"},
		{"syntax", fmt.Errorf("at 1:5: %w", parser.ErrSyntax), 400, "syntax"},
		{"table not found", fmt.Errorf("%w: Table not found, table:t", engine.ErrTableNotFound), 400, "Table not found, table:t"},
		{"table exists", engine.ErrTableExists, 400, "exists"},
		{"invalid write", fmt.Errorf("%w: null in a NOT NULL column", engine.ErrInvalidWrite), 400, "NOT NULL"},
		{"bad option", fmt.Errorf("%w: ttl", options.ErrInvalid), 400, "ttl"},
		{"wal unavailable", fmt.Errorf("engine: write t: %w: disk full", wal.ErrUnavailable), 503, "the write was not applied"},
		{"server busy", fmt.Errorf("%w: memtables hold 4096.0 MiB", engine.ErrServerBusy), 503, "server busy"},
		{"wal closed", fmt.Errorf("append: %w", wal.ErrClosed), 503, "shutting down"},
		{"engine closed", engine.ErrClosed, 503, "shutting down"},
		{"internal", errors.New("engine: flush: disk on fire"), 500, "disk on fire"},
		{"canceled", context.Canceled, 500, "context canceled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := statusOf(c.err); got != c.status {
				t.Errorf("statusOf(%v) = %d, want %d", c.err, got, c.status)
			}
			ts, _ := newTestAPI(t, &fakeExec{err: c.err}, 1<<20)
			r := do(t, "POST", ts.URL+"/sql", "", strings.NewReader("SELECT 1"))
			checkError(t, r, c.status, c.msg)
			if c.status == 503 && !strings.Contains(r.body, "retry") {
				t.Errorf("a 503 should say to retry: %s", r.body)
			}
		})
	}
}

func TestSQLRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "t", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
		{Name: "host", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	exec := &fakeExec{result: func() *query.Result {
		rb := array.NewRecordBuilder(mem, schema)
		defer rb.Release()
		rb.Field(0).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1, 2}, nil)
		rb.Field(1).(*array.StringBuilder).AppendValues([]string{"a", ""}, []bool{true, false})
		rb.Field(2).(*array.Float64Builder).AppendValues([]float64{1, 2.5}, nil)
		return &query.Result{Schema: schema, Records: []arrow.RecordBatch{rb.NewRecordBatch()}}
	}}
	ts, _ := newTestAPI(t, exec, 1<<20)
	r := do(t, "POST", ts.URL+"/sql", "", strings.NewReader("SELECT * FROM t"))
	want := `{"rows":[{"t":1,"host":"a","v":1.0},{"t":2,"host":null,"v":2.5}]}`
	if r.status != 200 || r.body != want {
		t.Errorf("got %d %s\nwant %s", r.status, r.body, want)
	}

	exec.result = func() *query.Result { return &query.Result{Schema: schema} }
	r = do(t, "POST", ts.URL+"/sql", "", strings.NewReader("SELECT * FROM t WHERE false"))
	if r.status != 200 || r.body != `{"rows":[]}` {
		t.Errorf("empty result: got %d %s", r.status, r.body)
	}
}

func TestRoutes(t *testing.T) {
	ts, reg := newTestAPI(t, &fakeExec{}, 1<<20)
	t.Run("health", func(t *testing.T) {
		r := do(t, "GET", ts.URL+"/", "", nil)
		if r.status != 200 || r.body != `{"status":"ok"}` {
			t.Errorf("got %d %s", r.status, r.body)
		}
	})
	t.Run("unknown route", func(t *testing.T) {
		for _, path := range []string{"/nope", "/sql/x", "/debug", "/influxdb/v1/write"} {
			checkError(t, do(t, "GET", ts.URL+path, "", nil), 404, path)
		}
	})
	t.Run("wrong method", func(t *testing.T) {
		r := do(t, "GET", ts.URL+"/sql", "", nil)
		checkError(t, r, 405, "GET")
		if allow := r.header.Get("Allow"); allow != "POST" {
			t.Errorf("Allow %q, want POST", allow)
		}
		checkError(t, do(t, "POST", ts.URL+"/", "", nil), 405, "POST")
		checkError(t, do(t, "GET", ts.URL+"/debug/flush_memtable", "", nil), 405, "allowed: POST")
		checkError(t, do(t, "DELETE", ts.URL+"/metrics", "", nil), 405, "DELETE")
	})
	t.Run("route", func(t *testing.T) {
		r := do(t, "GET", ts.URL+"/route/cpu", "", nil)
		if want := `{"routes":[{"table":"cpu","endpoint":{"addr":"10.0.0.1","port":8831}}]}`; r.status != 200 || r.body != want {
			t.Errorf("got %d %s, want %s", r.status, r.body, want)
		}
	})
	t.Run("flush_memtable", func(t *testing.T) {
		r := do(t, "POST", ts.URL+"/debug/flush_memtable", "", nil)
		if want := `{"success":["t1","q\"t"],"failed":["f1"]}`; r.status != 200 || r.body != want {
			t.Errorf("got %d %s, want %s", r.status, r.body, want)
		}
	})
	t.Run("compact_table", func(t *testing.T) {
		r := do(t, "POST", ts.URL+"/debug/compact_table", "", nil)
		if want := `{"success":["c1"],"failed":["f1"]}`; r.status != 200 || r.body != want {
			t.Errorf("got %d %s, want %s", r.status, r.body, want)
		}
	})
	t.Run("debug config", func(t *testing.T) {
		r := do(t, "GET", ts.URL+"/debug/config", "", nil)
		if r.status != 200 || r.body != "[server]\nhttp_port = 5440\n" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("got %d %q %v", r.status, r.body, r.header)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		r := do(t, "GET", ts.URL+"/metrics", "", nil)
		if r.status != 200 || !strings.Contains(r.body, `horaedb_http_requests_total{code="200",route="GET /{$}"} 1`) ||
			!strings.Contains(r.body, `route="unmatched"`) {
			t.Errorf("got %d %s", r.status, r.body)
		}
		if _, err := reg.Gather(); err != nil {
			t.Error(err)
		}
	})
}

// TestSlowQueryLog checks that a statement over the threshold is logged at
// info level with its text, truncated, and a fast one is not.
func TestSlowQueryLog(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	h := slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelInfo})
	a := &api{exec: &fakeExec{}, log: slog.New(h), maxBody: 1 << 20, slow: time.Nanosecond}
	ts := httptest.NewServer(a.handler())
	defer ts.Close()
	long := "SELECT '" + strings.Repeat("y", 2*maxLoggedSQL) + "'"
	if r := do(t, "POST", ts.URL+"/sql", "", strings.NewReader(long)); r.status != 200 {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "slow query") || !strings.Contains(out, "SELECT 'yyy") || strings.Contains(out, long) {
		t.Errorf("slow query log: %s", out)
	}

	mu.Lock()
	logs.Reset()
	mu.Unlock()
	fast := httptest.NewServer((&api{exec: &fakeExec{}, log: slog.New(h), maxBody: 1 << 20, slow: time.Hour}).handler())
	defer fast.Close()
	if r := do(t, "POST", fast.URL+"/sql", "", strings.NewReader("SELECT 1")); r.status != 200 {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), "slow query") {
		t.Errorf("a fast statement was logged as slow: %s", logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func TestTruncate(t *testing.T) {
	if got := truncate("short", 10); got != "short" {
		t.Errorf("got %q", got)
	}
	got := truncate("ab世界", 4) // cut inside 世
	if got != "ab…(8 bytes)" {
		t.Errorf("got %q", got)
	}
}

func FuzzParseSQLBody(f *testing.F) {
	for _, s := range []string{`{"query":"SELECT 1"}`, "SELECT 1", "", "{", `{"query":null}`, " {\"query\":\"\\u0000\"}", "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sql, err := parseSQLBody(body)
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("error %v is not a bad request", err)
			}
			return
		}
		if strings.TrimSpace(sql) == "" {
			t.Fatalf("accepted an empty query from %q", body)
		}
	})
}

func TestHTTPAuth(t *testing.T) {
	users, err := auth.Parse([]byte("root,secret\n"))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := newHTTPMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	a := &api{exec: &fakeExec{result: func() *query.Result { return &query.Result{AffectedRows: 1} }}, storage: fakeStorage{}, registry: reg,
		log: slog.New(slog.DiscardHandler), maxBody: 1 << 20, slow: time.Second, metrics: m, users: users}
	ts := httptest.NewServer(a.handler())
	defer ts.Close()
	sql := func(user, pass string) int {
		req, _ := http.NewRequest("POST", ts.URL+"/sql", strings.NewReader("INSERT INTO t VALUES (1)"))
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Error("a 401 without a challenge")
		}
		return resp.StatusCode
	}
	if got := sql("", ""); got != 401 {
		t.Errorf("no credentials: %d", got)
	}
	if got := sql("root", "wrong"); got != 401 {
		t.Errorf("wrong password: %d", got)
	}
	if got := sql("root", "secret"); got != 200 {
		t.Errorf("right password: %d", got)
	}
	if r := do(t, "GET", ts.URL+"/", "", nil); r.status != 200 {
		t.Errorf("the health check must not need credentials: %d", r.status)
	}
}
