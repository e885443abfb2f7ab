package influx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/horaego/horaedb/internal/jsonenc"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/internal/ingest"
	"github.com/horaego/horaedb/server/status"
)

// Version is what X-Influxdb-Version announces: the 1.x API we speak.
const Version = "1.8.10"

// Writer writes rows, creating tables and columns; *query.Executor.
type Writer interface {
	Write(ctx context.Context, sess query.Session, tables []query.WriteTable, o query.WriteOptions) (int64, error)
}

// Options configure a Handler.
type Options struct {
	Writer  Writer
	Querier Querier
	// TimestampColumn names the timestamp column of the tables writes
	// create (server.default_schema_config.default_timestamp_column_name).
	TimestampColumn string
	// MaxBodySize bounds a write body, after gzip decompression too
	// (server.http_max_body_size).
	MaxBodySize int64
	// Database picks the schema of a request (the x-horaedb-schema
	// header; InfluxDB's db parameter does not, as upstream).
	Database func(r *http.Request) string
	Logger   *slog.Logger
	// Now is the clock for points without a timestamp; default time.Now.
	Now func() time.Time
}

// Handler serves the InfluxDB routes.
type Handler struct {
	o Options
}

// New returns a Handler.
func New(o Options) *Handler {
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

// Ping answers /ping: 204 with the version header, as InfluxDB does.
func (h *Handler) Ping(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("X-Influxdb-Version", Version)
	w.Header().Set("X-Influxdb-Build", "OSS")
	w.WriteHeader(http.StatusNoContent)
}

// Write is POST /influxdb/v1/write (and /write): line protocol in the
// body, plain or gzip, precision from the query string (default ns, as
// InfluxDB). 204 on success; 400 naming the line of a bad point, with
// nothing of the request written; 413 over the size limit.
func (h *Handler) Write(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Influxdb-Version", Version)
	body, err := h.readBody(w, r)
	if err != nil {
		h.fail(w, err)
		return
	}
	tables, points, err := ParseLines(body, r.URL.Query().Get("precision"), h.o.Now())
	if err != nil {
		h.fail(w, err)
		return
	}
	if points == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	_, err = h.o.Writer.Write(r.Context(), query.Session{Database: h.o.Database(r)}, tables,
		query.WriteOptions{TimestampColumn: h.o.TimestampColumn})
	if err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// readBody reads a request body within the size limit, decompressing gzip.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return ingest.ReadBody(w, r, h.o.MaxBodySize)
}

// fail answers InfluxDB's error shape, {"error":"..."}, with the status
// the fault's owner decides.
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
		h.o.Logger.Warn("influxdb request failed", "status", code, "err", err)
	}
	writeJSONError(w, code, msg)
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Influxdb-Error", strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, msg))
	w.WriteHeader(code)
	buf := jsonenc.String([]byte(`{"error":`), msg)
	_, _ = w.Write(append(buf, "}\n"...))
}
