// Package opentsdb serves OpenTSDB's HTTP API on the node's HTTP port:
// POST /opentsdb/api/put writes data points (a metric is a table, its tags
// TAG columns, the value the double field "value"), POST
// /opentsdb/api/query answers OpenTSDB queries (aggregators, downsampling
// with fill policies, rates, tag filters and grouping) by planning them
// onto SQL, and GET /opentsdb/api/suggest completes metric and tag names.
// What OpenTSDB does and what we do differently is in
// docs/compatibility.md, "OpenTSDB".
package opentsdb

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/internal/jsonenc"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/internal/ingest"
	"github.com/horaego/horaedb/server/status"
)

// ValueColumn is the field column that holds a metric's values.
const ValueColumn = "value"

// Executor writes rows, runs SQL and describes tables; *query.Executor.
type Executor interface {
	Write(ctx context.Context, sess query.Session, tables []query.WriteTable, o query.WriteOptions) (int64, error)
	Execute(ctx context.Context, sess query.Session, sql string) (*query.Result, error)
	TableSchema(database, table string) (*schema.Schema, error)
	TableNames(database string) []string
}

// Options configure a Handler.
type Options struct {
	Executor Executor
	// TimestampColumn names the timestamp column of the tables puts create
	// (server.default_schema_config.default_timestamp_column_name);
	// default "timestamp".
	TimestampColumn string
	// MaxBodySize bounds a request body, after gzip decompression too
	// (server.http_max_body_size); default 64 MiB.
	MaxBodySize int64
	// Database picks the schema of a request (the x-horaedb-schema
	// header); default "public".
	Database func(r *http.Request) string
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Now is the clock for relative query times ("1h-ago") and a missing
	// end; default time.Now.
	Now func() time.Time
}

// Handler serves the OpenTSDB routes.
type Handler struct {
	o Options
}

// New returns a Handler.
func New(o Options) *Handler {
	if o.TimestampColumn == "" {
		o.TimestampColumn = "timestamp"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Database == nil {
		o.Database = func(*http.Request) string { return query.DefaultDatabase }
	}
	return &Handler{o: o}
}

// ErrBadRequest wraps every problem with a request: the client's. 400.
var ErrBadRequest = errors.New("opentsdb: bad request")

// fail answers an error with the status its owner decides. The body is
// upstream HoraeDB's {"code":N,"message":"..."} with OpenTSDB's
// {"error":{"code":N,"message":"..."}} alongside, so that clients of
// either (Grafana's OpenTSDB datasource reads error.message) show it.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	code, msg := status.Code(err), status.Message(err)
	switch {
	case errors.Is(err, ingest.ErrTooLarge):
		code, msg = http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, ingest.ErrBadBody):
		code, msg = http.StatusBadRequest, strings.TrimPrefix(err.Error(), ingest.ErrBadBody.Error()+": ")
	case errors.Is(err, ErrBadRequest):
		code, msg = http.StatusBadRequest, strings.TrimPrefix(err.Error(), ErrBadRequest.Error()+": ")
	}
	if code >= 500 {
		h.o.Logger.Warn("opentsdb request failed", "status", code, "err", err)
	}
	writeError(w, code, msg)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	buf := make([]byte, 0, 2*len(msg)+64)
	buf = append(buf, `{"code":`...)
	buf = jsonenc.Int(buf, int64(code))
	buf = append(buf, `,"message":`...)
	buf = jsonenc.String(buf, msg)
	buf = append(buf, `,"error":{"code":`...)
	buf = jsonenc.Int(buf, int64(code))
	buf = append(buf, `,"message":`...)
	buf = jsonenc.String(buf, msg)
	buf = append(buf, "}}\n"...)
	writeJSON(w, code, buf)
}

func writeJSON(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// flag reports whether a query-string flag is set: present without a
// value (?summary) or with one that is not false.
func flag(r *http.Request, name string) bool {
	v, ok := r.URL.Query()[name]
	if !ok {
		return false
	}
	return len(v) == 0 || (v[0] != "false" && v[0] != "0")
}
