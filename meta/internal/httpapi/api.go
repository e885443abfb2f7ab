// Package httpapi serves HoraeMeta's admin HTTP API (/api/v1, upstream's
// /debug aliases, /debug/pprof, /metrics). The leader answers from its
// term; a follower forwards /api/v1 and /debug/{diagnose,clusters} calls
// to the leader's own HTTP address (so members may use different ports).
// Routes that are not implemented answer 501 with a message.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/http/pprof"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/coordinator"
	"github.com/horaego/horaedb/meta/internal/member"
	"github.com/horaego/horaedb/meta/internal/procedure"
	"github.com/horaego/horaedb/proto/metapb"
)

// ForwardedHeader marks a request a follower forwarded.
const ForwardedHeader = "X-Horaemeta-Forwarded-By"

// maxBody bounds request bodies.
const maxBody = 1 << 20

// Backend is what the API needs from the server.
type Backend interface {
	Term() *coordinator.Term
	Leader() *member.Leader
	Self() *metapb.Member
}

// Options configure the API.
type Options struct {
	// Gatherer is served at /metrics.
	Gatherer prometheus.Gatherer
	// Procedures are the procedure options (the transfer wait uses their
	// timeout).
	Procedures procedure.Options
}

// API is the admin HTTP handler.
type API struct {
	b      Backend
	logger *slog.Logger
	opts   Options
	mux    *http.ServeMux
}

// New returns the handler.
func New(b Backend, logger *slog.Logger, opts Options) *API {
	a := &API{b: b, logger: logger, opts: opts, mux: http.NewServeMux()}
	leader := func(pattern string, h func(w http.ResponseWriter, r *http.Request, t *coordinator.Term)) {
		a.mux.HandleFunc(pattern, a.onLeader(h))
	}
	a.mux.HandleFunc("GET /api/v1/health", a.health)
	a.mux.HandleFunc("GET /debug/leader", a.leader)
	a.mux.HandleFunc("GET /api/v1/leader", a.leader)

	leader("GET /api/v1/clusters", a.listClusters)
	leader("POST /api/v1/clusters", a.createCluster)
	leader("GET /api/v1/clusters/{cluster}", a.getCluster)
	leader("GET /api/v1/clusters/{cluster}/nodes", a.listNodes)
	leader("GET /api/v1/clusters/{cluster}/shards", a.listShards)
	leader("GET /api/v1/clusters/{cluster}/tables", a.listTables)
	leader("GET /api/v1/clusters/{cluster}/schemas", a.listSchemas)
	leader("GET /api/v1/clusters/{cluster}/procedures", a.listProcedures)
	leader("GET /api/v1/clusters/{cluster}/procedure", a.listProcedures) // upstream's path
	leader("GET /api/v1/clusters/{cluster}/diagnose", a.diagnose)
	leader("GET /debug/diagnose/{cluster}/shards", a.diagnose) // upstream's path
	leader("GET /api/v1/clusters/{cluster}/enableSchedule", a.getSchedule)
	leader("PUT /api/v1/clusters/{cluster}/enableSchedule", a.putSchedule)
	leader("GET /debug/clusters/{cluster}/enableSchedule", a.getSchedule) // upstream's path
	leader("PUT /debug/clusters/{cluster}/enableSchedule", a.putSchedule)
	leader("POST /api/v1/route", a.route)
	leader("POST /api/v1/transferLeader", a.transferLeader)
	leader("POST /api/v1/getShardTables", a.getShardTables)
	leader("POST /api/v1/getNodeShards", a.getNodeShards)
	leader("POST /api/v1/table/query", a.queryTable)

	for _, p := range []string{
		"PUT /api/v1/clusters/{cluster}",
		"POST /api/v1/split",
		"DELETE /api/v1/table",
		"DELETE /api/v1/nodeShards",
		"GET /api/v1/flowLimiter", "PUT /api/v1/flowLimiter",
		"GET /api/v1/clusters/{cluster}/shardAffinities", "POST /api/v1/clusters/{cluster}/shardAffinities",
		"DELETE /api/v1/clusters/{cluster}/shardAffinities",
		"POST /api/v1/etcd/promoteLearner", "GET /api/v1/etcd/member", "PUT /api/v1/etcd/member",
		"POST /api/v1/etcd/member", "DELETE /api/v1/etcd/member", "POST /api/v1/etcd/moveLeader",
	} {
		a.mux.HandleFunc(p, notImplemented)
	}

	a.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	a.mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	a.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	a.mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	a.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	if opts.Gatherer != nil {
		a.mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{}))
	}
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("no route %s %s (see docs/horaemeta.md)", r.Method, r.URL.Path))
	})
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// onLeader runs h on the leader, forwarding the request when this member
// does not lead.
func (a *API) onLeader(h func(http.ResponseWriter, *http.Request, *coordinator.Term)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if t := a.b.Term(); t != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			h(w, r, t)
			return
		}
		if r.Header.Get(ForwardedHeader) != "" {
			writeError(w, http.StatusServiceUnavailable, metapb.Reason_NOT_LEADER.String(), "forwarded request reached a member that does not lead")
			return
		}
		l := a.b.Leader()
		if l == nil || l.Member.GetName() == a.b.Self().GetName() || l.Member.HttpEndpoint == "" {
			writeError(w, http.StatusServiceUnavailable, metapb.Reason_NOT_LEADER.String(), "no meta leader yet; retry")
			return
		}
		target, err := url.Parse(l.Member.HttpEndpoint)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "INTERNAL", "leader's HTTP endpoint: "+err.Error())
			return
		}
		proxy := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.Out.Header.Set(ForwardedHeader, a.b.Self().GetName())
			},
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
				writeError(w, http.StatusBadGateway, metapb.Reason_NOT_LEADER.String(),
					fmt.Sprintf("cannot reach the meta leader %s at %s: %v", l.Member.Name, l.Member.HttpEndpoint, err))
			},
		}
		proxy.ServeHTTP(w, r)
	}
}

func (a *API) health(w http.ResponseWriter, _ *http.Request) {
	h := client.Health{Member: a.b.Self().GetName()}
	if t := a.b.Term(); t != nil {
		h.IsLeader, h.Epoch = true, t.Epoch()
	}
	l := a.b.Leader()
	if l != nil {
		h.Leader = l.Member.Name
		if !h.IsLeader {
			h.Epoch = l.Epoch
		}
	}
	if l == nil {
		writeJSONStatus(w, http.StatusServiceUnavailable, envelope{Status: "error", Error: metapb.Reason_NOT_LEADER.String(),
			Msg: "no meta leader yet", Data: h})
		return
	}
	writeData(w, h)
}

func (a *API) leader(w http.ResponseWriter, _ *http.Request) {
	l := a.b.Leader()
	if l == nil {
		writeError(w, http.StatusServiceUnavailable, metapb.Reason_NOT_LEADER.String(), "no meta leader yet")
		return
	}
	writeData(w, map[string]any{"name": l.Member.Name, "etcdID": l.Member.EtcdId, "grpcEndpoint": l.Member.GrpcEndpoint,
		"httpEndpoint": l.Member.HttpEndpoint, "epoch": l.Epoch})
}

func notImplemented(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotImplemented, metapb.Reason_UNIMPLEMENTED.String(),
		fmt.Sprintf("%s %s is not implemented by this HoraeMeta (see docs/horaemeta.md)", r.Method, r.URL.Path))
}

// envelope is every answer's shape.
type envelope struct {
	Status string `json:"status"`
	Data   any    `json:"data,omitempty"`
	Error  string `json:"error,omitempty"`
	Msg    string `json:"msg,omitempty"`
}

func writeJSONStatus(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeData(w http.ResponseWriter, data any) {
	writeJSONStatus(w, http.StatusOK, envelope{Status: "success", Data: data})
}

func writeError(w http.ResponseWriter, code int, reason, msg string) {
	writeJSONStatus(w, code, envelope{Status: "error", Error: reason, Msg: msg})
}

// writeErr maps err to a status: the client's mistakes are 4xx, the
// cluster's state 503, ours 500.
func writeErr(w http.ResponseWriter, err error) {
	var ce *client.Error
	if !errors.As(err, &ce) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, metapb.Reason_INVALID_ARGUMENT.String(), err.Error())
			return
		}
		writeError(w, http.StatusInternalServerError, "INTERNAL", err.Error())
		return
	}
	writeError(w, statusOf(ce.Reason()), ce.Reason().String(), err.Error())
}

func statusOf(r metapb.Reason) int {
	switch r {
	case metapb.Reason_INVALID_ARGUMENT:
		return http.StatusBadRequest
	case metapb.Reason_CLUSTER_NOT_FOUND, metapb.Reason_SCHEMA_NOT_FOUND, metapb.Reason_TABLE_NOT_FOUND,
		metapb.Reason_SHARD_NOT_FOUND, metapb.Reason_NODE_NOT_FOUND:
		return http.StatusNotFound
	case metapb.Reason_TABLE_EXISTS, metapb.Reason_CLUSTER_EXISTS, metapb.Reason_SHARD_VERSION_MISMATCH:
		return http.StatusConflict
	case metapb.Reason_CLUSTER_NOT_STABLE, metapb.Reason_NODE_DOWN, metapb.Reason_NOT_LEADER, metapb.Reason_STALE_EPOCH:
		return http.StatusServiceUnavailable
	case metapb.Reason_RATE_LIMITED:
		return http.StatusTooManyRequests
	case metapb.Reason_PROCEDURE_TIMEOUT:
		return http.StatusGatewayTimeout
	case metapb.Reason_UNIMPLEMENTED:
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

// decode reads a JSON body into v.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return client.Errorf(metapb.Reason_INVALID_ARGUMENT, "request body: %v", err)
	}
	return nil
}

func ms(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
