package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/horaego/horaedb/internal/jsonenc"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/auth"
	"github.com/horaego/horaedb/server/grpcapi"
	"github.com/horaego/horaedb/server/influx"
	"github.com/horaego/horaedb/server/opentsdb"
	"github.com/horaego/horaedb/server/promapi"
	"github.com/horaego/horaedb/server/promremote"
)

// executor runs one SQL statement; *query.Executor in production.
type executor interface {
	Execute(ctx context.Context, sess query.Session, sql string) (*query.Result, error)
}

// maintainer flushes and compacts every table; *engine.Engine in
// production.
type maintainer interface {
	FlushAll(ctx context.Context) (flushed, failed []string)
	CompactAll(ctx context.Context) (compacted, failed []string)
}

// walStatser describes the WAL; every WAL backend implements it.
type walStatser interface {
	Stats() string
}

// api is the HTTP API of a data node (reference §2.2). It holds only what
// its handlers need, so tests build it with fakes.
type api struct {
	// limiter holds the node's limits; limitsMu orders the changes of
	// POST /admin/block.
	limiter  limiter
	limitsMu sync.Mutex
	// level is the log level PUT /debug/log_level sets; nil: fixed.
	level *slog.LevelVar
	// shards answers GET /debug/shards in a cluster; nil: standalone.
	shards   func() []shardInfo
	exec     executor
	storage  maintainer
	wal      walStatser
	config   []byte // the effective config as TOML
	registry prometheus.Gatherer
	log      *slog.Logger
	maxBody  int64         // server.http_max_body_size
	slow     time.Duration // slow statement threshold
	metrics  *httpMetrics
	inflight *sync.WaitGroup // counts running handlers; may be nil
	users    *auth.Users     // [server.auth]; nil: no authentication
	// influx serves InfluxDB's API; nil: its routes are not served.
	influx *influx.Handler
	// prom serves Prometheus remote write and read; nil: not served.
	prom *promremote.Handler
	// opentsdb serves OpenTSDB's API; nil: its routes are not served.
	opentsdb *opentsdb.Handler
	// promql serves Prometheus' query API (/api/v1/query...); nil: not
	// served.
	promql *promapi.Handler
	// router answers GET /route/{table}: this node standalone, the owner
	// from HoraeMeta in a cluster.
	router grpcapi.Router
}

// handler returns the routes, wrapped in logging and metrics. Unknown paths
// get a JSON 404 and a known path with the wrong method a JSON 405.
func (a *api) handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, a.instrument(pattern, a.authenticate(h)))
	}
	open := func(pattern string, h http.HandlerFunc) { // no credentials needed: health checks
		mux.Handle(pattern, a.instrument(pattern, h))
	}
	open("GET /{$}", a.health)
	if h := a.influx; h != nil {
		for _, prefix := range []string{"", "/influxdb/v1"} {
			route("POST "+prefix+"/write", h.Write)
			route("GET "+prefix+"/query", h.Query)
			route("POST "+prefix+"/query", h.Query)
			open("GET "+prefix+"/ping", h.Ping)
			open("HEAD "+prefix+"/ping", h.Ping)
		}
	}
	if h := a.prom; h != nil {
		for _, prefix := range []string{"/prom/v1", "/api/v1"} {
			route("POST "+prefix+"/write", h.Write)
			route("POST "+prefix+"/read", h.Read)
		}
	}
	if h := a.promql; h != nil {
		for _, r := range h.Routes() {
			route(r.Pattern, r.Handler)
		}
	}
	if h := a.opentsdb; h != nil {
		route("POST /opentsdb/api/put", h.Put)
		route("POST /opentsdb/api/query", h.Query)
		route("GET /opentsdb/api/suggest", h.Suggest)
	}
	route("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}).ServeHTTP)
	route("POST /sql", a.sql)
	route("GET /route/{table}", a.route)
	route("POST /admin/block", a.adminBlock)
	route("PUT /debug/log_level/{level}", a.logLevel)
	route("GET /debug/shards", a.debugShards)
	route("GET /debug/profile/cpu/{secs}", a.cpuProfile)
	route("GET /debug/profile/heap/{secs}", a.heapProfile)
	pprofRoutes(route)
	route("POST /debug/flush_memtable", a.flushMemtable)
	route("POST /debug/compact_table", a.compactTable)
	route("GET /debug/config", a.debugConfig)
	route("GET /debug/wal_stats", a.walStats)
	unmatched := a.instrument("unmatched", func(w http.ResponseWriter, r *http.Request) { notMatched(w, r, mux) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			unmatched.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// notMatched answers a request no route of mux matches: 405 with an Allow
// header if the path exists for other methods, otherwise 404, as JSON
// errors. The mux's own answer (status and Allow) decides which.
func notMatched(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	probe := &probeWriter{header: http.Header{}, status: http.StatusNotFound}
	h, _ := mux.Handler(r)
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed for "+r.URL.Path+
			"; allowed: "+allow)
		return
	}
	writeError(w, http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path)
}

// probeWriter records what a handler would answer, discarding the body.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header         { return p.header }
func (p *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (p *probeWriter) WriteHeader(status int)      { p.status = status }

// instrument wraps a route's handler with the in-flight count, metrics and
// a debug log line per request.
func (a *api) instrument(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.inflight != nil {
			a.inflight.Add(1)
			defer a.inflight.Done()
		}
		began := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h(sw, r)
		took := time.Since(began)
		if a.metrics != nil {
			a.metrics.observe(route, sw.status, took)
		}
		a.log.Debug("http request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.bytes, "took", took, "remote", r.RemoteAddr)
	})
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (s *statusWriter) WriteHeader(status int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = status, true
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wroteHeader = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// authenticate checks the request's Basic credentials when [server.auth]
// is enabled: 401 with a WWW-Authenticate challenge when they are missing
// or wrong.
func (a *api) authenticate(h http.HandlerFunc) http.HandlerFunc {
	if !a.users.Enabled() {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if err := a.users.CheckBasic(r.Header.Get("Authorization")); err != nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="horaedb"`)
			writeError(w, http.StatusUnauthorized, err.Error())
			return
		}
		// A statement forwarded to another node is checked there too.
		h(w, r.WithContext(withForwardAuth(r.Context(), r.Header.Get("Authorization"))))
	}
}

// health is GET /: {"status":"ok"}, upstream's only health check.
func (a *api) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
}

// flushMemtable is POST /debug/flush_memtable: flush every table.
func (a *api) flushMemtable(w http.ResponseWriter, r *http.Request) {
	flushed, failed := a.storage.FlushAll(r.Context())
	writeOutcome(w, flushed, failed)
}

// compactTable is POST /debug/compact_table: compact every table until
// its compaction strategy finds nothing more to do.
func (a *api) compactTable(w http.ResponseWriter, r *http.Request) {
	compacted, failed := a.storage.CompactAll(r.Context())
	writeOutcome(w, compacted, failed)
}

// route is GET /route/{table}: the endpoint that serves the table, in
// upstream's shape {"routes":[{"table":"t","endpoint":{"addr":"h","port":8831}}]};
// the database is the x-horaedb-schema header's.
func (a *api) route(w http.ResponseWriter, r *http.Request) {
	table := r.PathValue("table")
	ep, err := a.router.Route(r.Context(), requestDatabase(r), table)
	if err != nil {
		writeErr(w, err)
		return
	}
	type endpoint struct {
		Addr string `json:"addr"`
		Port uint32 `json:"port"`
	}
	type route struct {
		Table    string   `json:"table"`
		Endpoint endpoint `json:"endpoint"`
	}
	body, err := json.Marshal(struct {
		Routes []route `json:"routes"`
	}{[]route{{table, endpoint{ep.Host, ep.Port}}}})
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// writeOutcome writes upstream's {"success":[tables],"failed":[tables]}.
func writeOutcome(w http.ResponseWriter, succeeded, failed []string) {
	buf := []byte(`{"success":`)
	buf = appendStringList(buf, succeeded)
	buf = append(buf, `,"failed":`...)
	buf = appendStringList(buf, failed)
	buf = append(buf, '}')
	writeJSON(w, http.StatusOK, buf)
}

// debugConfig is GET /debug/config: the effective config as TOML.
func (a *api) debugConfig(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(a.config)
}

// walStats is GET /debug/wal_stats: the WAL's state as text (upstream:
// "text stats of the data and manifest WAL"; our manifests are in the
// object store).
func (a *api) walStats(w http.ResponseWriter, _ *http.Request) {
	if a.wal == nil {
		writeError(w, http.StatusNotFound, "this node has no WAL")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(a.wal.Stats()))
}

// appendStringList appends a JSON array of strings ([] when empty).
func appendStringList(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonenc.String(dst, s)
	}
	return append(dst, ']')
}

// writeJSON writes a complete JSON body.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// truncate shortens s to at most n bytes (on a rune boundary) for logs.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
