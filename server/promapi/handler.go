// Package promapi serves Prometheus' HTTP query API (/api/v1/query,
// /api/v1/query_range, /api/v1/series, /api/v1/labels,
// /api/v1/label/<name>/values and what Grafana's Prometheus datasource
// probes besides) over query/promql, in Prometheus' JSON:
//
//	{"status":"success","data":...,"warnings":[...],"infos":[...]}
//	{"status":"error","errorType":"bad_data","error":"..."}
//
// Parameters are those of Prometheus (query string or form body; times
// as RFC 3339 or Unix seconds, durations as seconds or 5m), as are error
// types and codes: bad_data 400 (a bad parameter or expression),
// execution 422 (an evaluation that failed on the client's terms, such
// as too many samples or a bad __horaedb_field__), canceled 499,
// timeout 503, internal 500 (our fault).
package promapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	pql "github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/horaego/horaedb/internal/jsonenc"
	"github.com/horaego/horaedb/query"
)

// PrometheusVersion is the Prometheus release whose PromQL engine we run,
// announced by /api/v1/status/buildinfo (Grafana picks features by it).
const PrometheusVersion = "3.15.0"

// Engine evaluates PromQL over a database; *promql.Engine.
type Engine interface {
	NewInstantQuery(ctx context.Context, db string, opts pql.QueryOpts, qs string, ts time.Time) (pql.Query, error)
	NewRangeQuery(ctx context.Context, db string, opts pql.QueryOpts, qs string, start, end time.Time, step time.Duration) (pql.Query, error)
	Queryable(db string) storage.Queryable
	Parser() parser.Parser
}

// Options configure a Handler.
type Options struct {
	// Engine evaluates queries. Required.
	Engine Engine
	// Database picks the database of a request (the x-horaedb-schema
	// header); default query.DefaultDatabase.
	Database func(r *http.Request) string
	// Revision is our version, reported as the build's revision.
	Revision string
	Logger   *slog.Logger
	// Now is the time of an instant query without one; default time.Now.
	Now func() time.Time
}

// Handler serves the Prometheus query API.
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

// Route is one route of the API: a http.ServeMux pattern and its handler.
type Route struct {
	Pattern string
	Handler http.HandlerFunc
}

// Routes lists the API's routes.
func (h *Handler) Routes() []Route {
	var rs []Route
	for _, m := range []string{"GET ", "POST "} {
		rs = append(rs,
			Route{m + "/api/v1/query", h.Query},
			Route{m + "/api/v1/query_range", h.QueryRange},
			Route{m + "/api/v1/series", h.Series},
			Route{m + "/api/v1/labels", h.Labels},
			Route{m + "/api/v1/query_exemplars", h.QueryExemplars},
			Route{m + "/api/v1/format_query", h.FormatQuery},
		)
	}
	return append(rs,
		Route{"GET /api/v1/label/{name}/values", h.LabelValues},
		Route{"GET /api/v1/metadata", h.Metadata},
		Route{"GET /api/v1/status/buildinfo", h.BuildInfo},
	)
}

// Error types of the API and their status codes, as Prometheus'.
const (
	errBadData  = "bad_data"
	errExec     = "execution"
	errCanceled = "canceled"
	errTimeout  = "timeout"
	errInternal = "internal"
)

// statusClientClosed is the code Prometheus answers a canceled query with.
const statusClientClosed = 499

// apiError is a failed request.
type apiError struct {
	typ string
	err error
}

func badData(err error) *apiError { return &apiError{errBadData, err} }

func badParam(name string, err error) *apiError {
	return badData(fmt.Errorf("invalid parameter %q: %w", name, err))
}

// evalError classifies an error of an evaluation or a storage call.
func evalError(err error) *apiError {
	var (
		canceled pql.ErrQueryCanceled
		timeout  pql.ErrQueryTimeout
		internal pql.ErrStorage
	)
	switch {
	case errors.As(err, &canceled), errors.Is(err, context.Canceled):
		return &apiError{errCanceled, err}
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return &apiError{errTimeout, err}
	case errors.As(err, &internal):
		return &apiError{errInternal, err}
	}
	return &apiError{errExec, err}
}

func (e *apiError) status() int {
	switch e.typ {
	case errBadData:
		return http.StatusBadRequest
	case errExec:
		return http.StatusUnprocessableEntity
	case errCanceled:
		return statusClientClosed
	case errTimeout:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// respond writes a success with data (already JSON) and the annotations.
func (h *Handler) respond(w http.ResponseWriter, data []byte, warnings annotations.Annotations, qs string) {
	warn, info := warnings.AsStrings(qs, 10, 10)
	buf := make([]byte, 0, len(data)+64)
	buf = append(buf, `{"status":"success","data":`...)
	buf = append(buf, data...)
	if len(warn) > 0 {
		buf = append(buf, `,"warnings":`...)
		buf = appendStrings(buf, warn)
	}
	if len(info) > 0 {
		buf = append(buf, `,"infos":`...)
		buf = appendStrings(buf, info)
	}
	buf = append(buf, '}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf)
}

// fail writes an error response.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	if e.typ == errInternal {
		h.o.Logger.Warn("prometheus query failed", "path", r.URL.Path, "err", e.err)
	} else {
		h.o.Logger.Debug("prometheus query refused", "path", r.URL.Path, "type", e.typ, "err", e.err)
	}
	buf := []byte(`{"status":"error","errorType":`)
	buf = jsonenc.String(buf, e.typ)
	buf = append(buf, `,"error":`...)
	buf = jsonenc.String(buf, e.err.Error())
	buf = append(buf, '}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status())
	_, _ = w.Write(buf)
}

// Query is /api/v1/query: an instant query at time (default now).
func (h *Handler) Query(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, badData(fmt.Errorf("error parsing form values: %w", err)))
		return
	}
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		h.fail(w, r, badParam("limit", err))
		return
	}
	ts, err := parseTimeParam(r, "time", h.o.Now())
	if err != nil {
		h.fail(w, r, badParam("time", err))
		return
	}
	ctx, cancel, err := withTimeout(r)
	if err != nil {
		h.fail(w, r, badParam("timeout", err))
		return
	}
	defer cancel()
	opts, err := queryOpts(r)
	if err != nil {
		h.fail(w, r, badData(err))
		return
	}
	qs := r.FormValue("query")
	q, err := h.o.Engine.NewInstantQuery(ctx, h.o.Database(r), opts, qs, ts)
	if err != nil {
		h.fail(w, r, badParam("query", err))
		return
	}
	defer q.Close()
	h.exec(ctx, w, r, q, qs, limit)
}

// QueryRange is /api/v1/query_range: a range query from start to end
// every step, at most 11,000 steps.
func (h *Handler) QueryRange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, badData(fmt.Errorf("error parsing form values: %w", err)))
		return
	}
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		h.fail(w, r, badParam("limit", err))
		return
	}
	start, err := parseTime(r.FormValue("start"))
	if err != nil {
		h.fail(w, r, badParam("start", err))
		return
	}
	end, err := parseTime(r.FormValue("end"))
	if err != nil {
		h.fail(w, r, badParam("end", err))
		return
	}
	if end.Before(start) {
		h.fail(w, r, badParam("end", errors.New("end timestamp must not be before start time")))
		return
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		h.fail(w, r, badParam("step", err))
		return
	}
	if step <= 0 {
		h.fail(w, r, badParam("step", errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer")))
		return
	}
	if end.Sub(start)/step > 11000 {
		h.fail(w, r, badData(errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")))
		return
	}
	ctx, cancel, err := withTimeout(r)
	if err != nil {
		h.fail(w, r, badParam("timeout", err))
		return
	}
	defer cancel()
	opts, err := queryOpts(r)
	if err != nil {
		h.fail(w, r, badData(err))
		return
	}
	qs := r.FormValue("query")
	q, err := h.o.Engine.NewRangeQuery(ctx, h.o.Database(r), opts, qs, start, end, step)
	if err != nil {
		h.fail(w, r, badParam("query", err))
		return
	}
	defer q.Close()
	h.exec(ctx, w, r, q, qs, limit)
}

// exec runs a prepared query and writes its result, at most limit series
// of it when limit > 0.
func (h *Handler) exec(ctx context.Context, w http.ResponseWriter, r *http.Request, q pql.Query, qs string, limit int) {
	res := q.Exec(ctx)
	if res.Err != nil {
		h.fail(w, r, evalError(res.Err))
		return
	}
	warnings := res.Warnings
	if limit > 0 {
		truncated := false
		switch v := res.Value.(type) {
		case pql.Matrix:
			if len(v) > limit {
				res.Value, truncated = v[:limit], true
			}
		case pql.Vector:
			if len(v) > limit {
				res.Value, truncated = v[:limit], true
			}
		}
		if truncated {
			warnings = warnings.Add(errors.New("results truncated due to limit"))
		}
	}
	h.respond(w, appendValue(nil, res.Value), warnings, qs)
}

// Series is /api/v1/series: the label sets of the series that match[]
// selects between start and end.
func (h *Handler) Series(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, badData(fmt.Errorf("error parsing form values: %w", err)))
		return
	}
	if len(r.Form["match[]"]) == 0 {
		h.fail(w, r, badData(errors.New("no match[] parameter provided")))
		return
	}
	mr, apiErr := h.metadataRequest(r)
	if apiErr != nil {
		h.fail(w, r, apiErr)
		return
	}
	q, err := h.o.Engine.Queryable(h.o.Database(r)).Querier(mr.start, mr.end)
	if err != nil {
		h.fail(w, r, evalError(err))
		return
	}
	defer q.Close()
	hints := &storage.SelectHints{Start: mr.start, End: mr.end, Func: "series"}
	var set storage.SeriesSet
	if len(mr.sets) > 1 {
		var sets []storage.SeriesSet
		for _, ms := range mr.sets {
			sets = append(sets, q.Select(r.Context(), true, hints, ms...))
		}
		set = storage.NewMergeSeriesSet(sets, 0, storage.ChainedSeriesMerge)
	} else {
		set = q.Select(r.Context(), false, hints, mr.sets[0]...)
	}
	warnings := set.Warnings()
	data := []byte{'['}
	n := 0
	for set.Next() {
		if mr.limit > 0 && n == mr.limit {
			warnings = warnings.Add(errors.New("results truncated due to limit"))
			break
		}
		if n > 0 {
			data = append(data, ',')
		}
		data = appendLabels(data, set.At().Labels())
		n++
	}
	if err := set.Err(); err != nil {
		h.fail(w, r, evalError(err))
		return
	}
	h.respond(w, append(data, ']'), warnings, "")
}

// Labels is /api/v1/labels: the label names, of the series match[]
// selects if given.
func (h *Handler) Labels(w http.ResponseWriter, r *http.Request) {
	h.labelQuery(w, r, func(ctx context.Context, q storage.Querier, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelNames(ctx, nil, ms...)
	})
}

// LabelValues is /api/v1/label/<name>/values: the values of a label, among
// the series match[] selects if given.
func (h *Handler) LabelValues(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		h.fail(w, r, badData(fmt.Errorf("invalid label name: %q", name)))
		return
	}
	h.labelQuery(w, r, func(ctx context.Context, q storage.Querier, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelValues(ctx, name, nil, ms...)
	})
}

// labelQuery answers a label names or values request: the union of what
// get returns for each match[] selector (or for none), sorted.
func (h *Handler) labelQuery(w http.ResponseWriter, r *http.Request,
	get func(context.Context, storage.Querier, []*labels.Matcher) ([]string, annotations.Annotations, error)) {
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, badData(fmt.Errorf("error parsing form values: %w", err)))
		return
	}
	mr, apiErr := h.metadataRequest(r)
	if apiErr != nil {
		h.fail(w, r, apiErr)
		return
	}
	q, err := h.o.Engine.Queryable(h.o.Database(r)).Querier(mr.start, mr.end)
	if err != nil {
		h.fail(w, r, evalError(err))
		return
	}
	defer q.Close()
	sets := mr.sets
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	var warnings annotations.Annotations
	var out []string
	for _, ms := range sets {
		vals, ws, err := get(r.Context(), q, ms)
		if err != nil {
			h.fail(w, r, evalError(err))
			return
		}
		warnings.Merge(ws)
		out = append(out, vals...)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if mr.limit > 0 && len(out) > mr.limit {
		out = out[:mr.limit]
		warnings = warnings.Add(errors.New("results truncated due to limit"))
	}
	h.respond(w, appendStrings(nil, out), warnings, "")
}

// metadataRequest is the parameters of /series, /labels and
// /label/<name>/values.
type metadataRequest struct {
	start, end int64 // ms
	sets       [][]*labels.Matcher
	limit      int
}

func (h *Handler) metadataRequest(r *http.Request) (metadataRequest, *apiError) {
	var mr metadataRequest
	var err error
	if mr.limit, err = parseLimit(r.FormValue("limit")); err != nil {
		return mr, badParam("limit", err)
	}
	start, err := parseTimeParam(r, "start", minTime)
	if err != nil {
		return mr, badParam("start", err)
	}
	end, err := parseTimeParam(r, "end", maxTime)
	if err != nil {
		return mr, badParam("end", err)
	}
	mr.start, mr.end = timestamp.FromTime(start), timestamp.FromTime(end)
	if ms := r.Form["match[]"]; len(ms) > 0 {
		if mr.sets, err = h.o.Engine.Parser().ParseMetricSelectors(ms); err != nil {
			return mr, badParam("match[]", err)
		}
	sets:
		for _, set := range mr.sets {
			for _, m := range set {
				if !m.Matches("") {
					continue sets
				}
			}
			return mr, badParam("match[]", errors.New("match[] must contain at least one non-empty matcher"))
		}
	}
	return mr, nil
}

// QueryExemplars is /api/v1/query_exemplars: we keep no exemplars, so the
// answer to a valid query is empty.
func (h *Handler) QueryExemplars(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, badData(fmt.Errorf("error parsing form values: %w", err)))
		return
	}
	if _, err := h.o.Engine.Parser().ParseExpr(r.FormValue("query")); err != nil {
		h.fail(w, r, badData(err))
		return
	}
	h.respond(w, []byte("[]"), nil, "")
}

// FormatQuery is /api/v1/format_query: the expression pretty-printed.
func (h *Handler) FormatQuery(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, badData(fmt.Errorf("error parsing form values: %w", err)))
		return
	}
	expr, err := h.o.Engine.Parser().ParseExpr(r.FormValue("query"))
	if err != nil {
		h.fail(w, r, badParam("query", err))
		return
	}
	h.respond(w, jsonenc.String(nil, expr.Pretty(0)), nil, "")
}

// Metadata is /api/v1/metadata: metric metadata (type, help, unit), of
// which we keep none.
func (h *Handler) Metadata(w http.ResponseWriter, _ *http.Request) {
	h.respond(w, []byte("{}"), nil, "")
}

// BuildInfo is /api/v1/status/buildinfo: the Prometheus version whose
// PromQL we speak, our version as the revision.
func (h *Handler) BuildInfo(w http.ResponseWriter, _ *http.Request) {
	data := []byte(`{"version":`)
	data = jsonenc.String(data, PrometheusVersion)
	data = append(data, `,"revision":`...)
	data = jsonenc.String(data, h.o.Revision)
	data = append(data, `,"branch":"","buildUser":"horaedb","buildDate":"","goVersion":`...)
	data = jsonenc.String(data, runtime.Version())
	data = append(data, '}')
	h.respond(w, data, nil, "")
}

// The default time range of metadata requests, Prometheus' MinTime and
// MaxTime.
var (
	minTime = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	maxTime = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()

	minTimeFormatted = minTime.Format(time.RFC3339Nano)
	maxTimeFormatted = maxTime.Format(time.RFC3339Nano)
)

func parseTimeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.FormValue(name)
	if v == "" {
		return def, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time value for '%s': %w", name, err)
	}
	return t, nil
}

// parseTime reads Unix seconds (with decimals) or RFC 3339.
func parseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		s, ns := math.Modf(t)
		ns = math.Round(ns*1000) / 1000
		return time.Unix(int64(s), int64(ns*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	switch s {
	case minTimeFormatted:
		return minTime, nil
	case maxTimeFormatted:
		return maxTime, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration reads seconds (with decimals) or a Prometheus duration.
func parseDuration(s string) (time.Duration, error) {
	if d, err := strconv.ParseFloat(s, 64); err == nil {
		ts := d * float64(time.Second)
		if ts > float64(math.MaxInt64) || ts < float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errors.New("limit must be non-negative")
	}
	return n, nil
}

// withTimeout applies the timeout parameter to the request's context.
func withTimeout(r *http.Request) (context.Context, context.CancelFunc, error) {
	if s := r.FormValue("timeout"); s != "" {
		d, err := parseDuration(s)
		if err != nil {
			return nil, nil, err
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		return ctx, cancel, nil
	}
	return r.Context(), func() {}, nil
}

// queryOpts reads lookback_delta.
func queryOpts(r *http.Request) (pql.QueryOpts, error) {
	var lookback time.Duration
	if s := r.FormValue("lookback_delta"); s != "" {
		d, err := parseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("error parsing lookback delta duration: %w", err)
		}
		lookback = d
	}
	return pql.NewPrometheusQueryOpts(false, lookback), nil
}
