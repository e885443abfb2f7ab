// Package promremote serves Prometheus remote write and remote read (the
// 1.0 protocol: snappy-compressed protobuf, prompb) over HTTP, at
// upstream's /prom/v1/write and /prom/v1/read and at /api/v1/write and
// /api/v1/read, and translates remote-read queries into SQL (Read), which
// the gRPC storage API's PromRemoteQuery shares.
//
// Wire format (reference/horaedb.md §2.2):
//
//   - Write: POST, body = snappy block format of a prompb.WriteRequest.
//     Each series goes to the table named by its __name__ label; its other
//     labels are string TAG columns (a label with an empty value is absent,
//     as in Prometheus), each sample a row: its value in the double field
//     "value" (NaN and stale markers kept as they are), its timestamp (ms)
//     in the timestamp column. Tables and columns are created as needed.
//     The request is converted whole before anything is written: a bad
//     series fails it with 400 and writes nothing. 204 on success.
//     Exemplars, native histograms and metadata are ignored (counted and
//     logged at debug level). Remote write 2.0 is refused with 415.
//   - Read: POST, body = snappy of a prompb.ReadRequest; the answer is a
//     snappy prompb.ReadResponse with one QueryResult per query, in order
//     (Content-Type application/x-protobuf, Content-Encoding snappy). Only
//     sampled responses are produced, whatever accepted_response_types
//     asks: Prometheus' client reads them when it asked for streamed
//     chunks too, as from any server that does not stream.
//
// Bodies are limited to MaxBodySize bytes before and after decompression
// (413). Errors are upstream's JSON body {"code":N,"message":"..."}.
package promremote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"

	"github.com/horaego/horaedb/internal/jsonenc"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/internal/ingest"
	"github.com/horaego/horaedb/server/status"
)

// Errors of a request itself, mapped to its status by statusOf.
var (
	// ErrBadRequest wraps every problem with a request that is the
	// client's: an undecodable body, a series without a metric name, a
	// query without one. 400.
	ErrBadRequest = errors.New("bad request")
	// errMediaType is a body in a format we do not speak. 415.
	errMediaType = errors.New("unsupported media type")
)

// Writer writes rows, creating missing tables and columns, all or nothing
// when a value is bad; *query.Executor implements it.
type Writer interface {
	Write(ctx context.Context, sess query.Session, tables []query.WriteTable, o query.WriteOptions) (int64, error)
}

// Options configure a Handler.
type Options struct {
	// Writer runs remote writes. Required.
	Writer Writer
	// Querier runs remote reads. Required.
	Querier Querier
	// TimestampColumn names the timestamp column of the tables writes
	// create (server.default_schema_config.default_timestamp_column_name).
	// Default "timestamp".
	TimestampColumn string
	// MaxBodySize bounds a request body in bytes, compressed and
	// decompressed (server.http_max_body_size). Default 64 MiB.
	MaxBodySize int64
	// Database picks the database (schema) of a request; default: always
	// query.DefaultDatabase. The server passes the x-horaedb-schema header.
	Database func(r *http.Request) string
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Registerer receives the handler's metrics. Default: a private
	// registry (the metrics are kept but not exported).
	Registerer prometheus.Registerer
}

// Handler serves the remote write and read endpoints. Create it with New.
type Handler struct {
	o       Options
	log     *slog.Logger
	metrics *metrics
}

// New returns a Handler; it fails when the metrics cannot be registered.
func New(o Options) (*Handler, error) {
	if o.Writer == nil || o.Querier == nil {
		return nil, errors.New("promremote: Options.Writer and Options.Querier are required")
	}
	if o.TimestampColumn == "" {
		o.TimestampColumn = "timestamp"
	}
	if o.MaxBodySize <= 0 {
		o.MaxBodySize = ingest.DefaultMaxBodySize
	}
	if o.Database == nil {
		o.Database = func(*http.Request) string { return query.DefaultDatabase }
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	return &Handler{o: o, log: o.Logger, metrics: m}, nil
}

// Write is POST /prom/v1/write and /api/v1/write: 204 when every sample
// is written; 400 naming the problem, with nothing written, for a bad
// request; 413 over the size limit; 415 for remote write 2.0 or a body not
// compressed with snappy; 503 when nothing was written and retrying is
// safe; 500 otherwise.
func (h *Handler) Write(w http.ResponseWriter, r *http.Request) {
	if err := checkWriteEncoding(r.Header); err != nil {
		h.fail(w, apiWrite, err)
		return
	}
	body, err := h.readBody(w, r)
	if err != nil {
		h.fail(w, apiWrite, err)
		return
	}
	tables, st, err := decodeWrite(body, h.o.TimestampColumn)
	if err != nil {
		h.fail(w, apiWrite, err)
		return
	}
	if st.ignored() {
		h.metrics.ignored(st)
		h.log.Debug("remote write: ignored what is not a float sample",
			"histograms", st.histograms, "exemplars", st.exemplars, "metadata", st.metadata)
	}
	if st.samples > 0 {
		_, err = h.o.Writer.Write(r.Context(), query.Session{Database: h.o.Database(r)}, tables,
			query.WriteOptions{TimestampColumn: h.o.TimestampColumn})
		if err != nil {
			h.fail(w, apiWrite, err)
			return
		}
		h.metrics.samplesWritten.Add(float64(st.samples))
	}
	h.metrics.request(apiWrite, http.StatusNoContent)
	w.WriteHeader(http.StatusNoContent)
}

// Read is POST /prom/v1/read and /api/v1/read: 200 with one QueryResult
// per query of the request (Read); 400 for a bad request or query, naming
// the query by its index; 413 over the size limit.
func (h *Handler) Read(w http.ResponseWriter, r *http.Request) {
	body, err := h.readBody(w, r)
	if err != nil {
		h.fail(w, apiRead, err)
		return
	}
	out, samples, err := h.read(r.Context(), query.Session{Database: h.o.Database(r)}, body)
	if err != nil {
		h.fail(w, apiRead, err)
		return
	}
	h.metrics.samplesRead.Add(float64(samples))
	h.metrics.request(apiRead, http.StatusOK)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Header().Set("Content-Encoding", "snappy")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// read answers a decompressed remote-read request: the encoded, snappy
// compressed ReadResponse, and the number of samples in it.
func (h *Handler) read(ctx context.Context, sess query.Session, body []byte) ([]byte, int, error) {
	var req prompb.ReadRequest
	if err := req.Unmarshal(body); err != nil {
		return nil, 0, fmt.Errorf("%w: the body is not a remote read message (prometheus.ReadRequest): %v", ErrBadRequest, err)
	}
	// Only samples are answered: a client that accepts streamed chunks
	// only gets them too (see the package comment).
	resp := prompb.ReadResponse{Results: make([]*prompb.QueryResult, len(req.Queries))}
	samples := 0
	for i, q := range req.Queries {
		if q == nil {
			q = &prompb.Query{}
		}
		res, err := Read(ctx, h.o.Querier, sess, q)
		if err != nil {
			return nil, 0, fmt.Errorf("query %d: %w", i, err)
		}
		for _, s := range res.Timeseries {
			samples += len(s.Samples)
		}
		resp.Results[i] = res
	}
	b, err := resp.Marshal()
	if err != nil {
		return nil, 0, fmt.Errorf("promremote: encode the response: %w", err)
	}
	return snappy.Encode(nil, b), samples, nil
}

// readBody reads a snappy-compressed request body (ingest.ReadBody) and
// decompresses it, within MaxBodySize both ways.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	raw, err := ingest.ReadBody(w, r, h.o.MaxBodySize)
	if err != nil {
		return nil, err
	}
	return decompress(raw, h.o.MaxBodySize)
}

// decompress decodes a snappy block, refusing one that decodes to more
// than limit bytes before decoding it.
func decompress(raw []byte, limit int64) ([]byte, error) {
	n, err := snappy.DecodedLen(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: the body is not snappy-compressed (block format): %v", ErrBadRequest, err)
	}
	if int64(n) > limit {
		return nil, fmt.Errorf("%w: decompressed, the body is %d bytes, over server.http_max_body_size (%d bytes)",
			ingest.ErrTooLarge, n, limit)
	}
	out, err := snappy.Decode(nil, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: the body is not snappy-compressed (block format): %v", ErrBadRequest, err)
	}
	return out, nil
}

// statusOf maps an error to the status of the response.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ingest.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrBadRequest), errors.Is(err, ingest.ErrBadBody):
		return http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return status.Code(err)
}

// fail answers {"code":N,"message":"..."}, upstream's error body; the
// sentinels' text is left out of the message.
func (h *Handler) fail(w http.ResponseWriter, api string, err error) {
	code := statusOf(err)
	var msg string
	switch {
	case errors.Is(err, ingest.ErrTooLarge), errors.Is(err, ingest.ErrBadBody), errors.Is(err, errMediaType),
		errors.Is(err, ErrBadRequest):
		msg = stripSentinels(err.Error())
	default:
		msg = status.Message(err)
	}
	if code >= 500 {
		h.log.Warn("prometheus remote "+api+" failed", "status", code, "err", err)
	} else {
		h.log.Debug("prometheus remote "+api+" refused", "status", code, "err", err)
	}
	h.metrics.request(api, code)
	buf := make([]byte, 0, len(msg)+32)
	buf = append(buf, `{"code":`...)
	buf = jsonenc.Int(buf, int64(code))
	buf = append(buf, `,"message":`...)
	buf = jsonenc.String(buf, msg)
	buf = append(buf, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(buf)
}

// stripSentinels removes the text of this package's sentinels (and
// query's, for a bad query) from a message.
func stripSentinels(msg string) string {
	for _, e := range []error{ErrBadRequest, ingest.ErrBadBody, errMediaType} {
		msg = strings.ReplaceAll(msg, e.Error()+": ", "")
	}
	return query.UserMessage(errors.New(msg))
}
