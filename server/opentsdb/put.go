package opentsdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/internal/jsonenc"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/internal/ingest"
)

// The put body (OpenTSDB's /api/put) is one data point or an array of
// them:
//
//	{"metric":"sys.cpu.user","timestamp":1700000000,"value":42.5,"tags":{"host":"web01"}}
//
//   - metric: a non-empty string; it names the table.
//   - timestamp: an integer (or a string of one): seconds when in
//     [4294968, 4294967295], milliseconds when in [4294967296,
//     9999999999999], anything else is refused (upstream's rule).
//   - value: a number, or a string holding one ("12.5", "-3", "1e3"), as
//     OpenTSDB accepts; NaN and infinities are refused. It is stored as a
//     double in the field column "value".
//   - tags: an object with at least one tag; names and values non-empty
//     strings (a number as a value is taken as its text); a tag may not be
//     named "value", "tsid" or like the timestamp column. Tags become
//     string TAG columns.
//
// Other keys are ignored. Every point is checked before anything is
// written: one bad point fails the request and nothing of it is written.

// maxPointErrors bounds the errors a details answer lists.
const maxPointErrors = 100

// PointError is a point that cannot be written.
type PointError struct {
	Index int             // in the request's array (0 for a single point)
	Point json.RawMessage // the point as sent
	Err   string
}

// rawPoint is a point as decoded, before validation.
type rawPoint struct {
	Metric    json.RawMessage            `json:"metric"`
	Timestamp json.RawMessage            `json:"timestamp"`
	Value     json.RawMessage            `json:"value"`
	Tags      map[string]json.RawMessage `json:"tags"`
}

// DecodePut decodes a put body into one write table per metric, with the
// number of points. A body that is not JSON is an error wrapping
// ErrBadRequest; points that are not valid are listed in bad (at most
// maxPointErrors of them, with the total count in nbad), and then no
// tables are returned (points still counts every point of the body).
func DecodePut(body []byte, tsColumn string) (tables []query.WriteTable, points int, bad []PointError, nbad int, err error) {
	body = bytes.TrimSpace(body)
	var raws []json.RawMessage
	switch {
	case len(body) == 0:
		return nil, 0, nil, 0, fmt.Errorf("%w: empty body: want a data point or an array of them", ErrBadRequest)
	case body[0] == '[':
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, 0, nil, 0, fmt.Errorf("%w: the body is not a JSON array of data points: %v", ErrBadRequest, err)
		}
	case body[0] == '{':
		if !json.Valid(body) {
			var v any
			err := json.Unmarshal(body, &v)
			return nil, 0, nil, 0, fmt.Errorf("%w: the body is not a JSON data point: %v", ErrBadRequest, err)
		}
		raws = []json.RawMessage{body}
	default:
		return nil, 0, nil, 0, fmt.Errorf("%w: the body must be a JSON data point or an array of them", ErrBadRequest)
	}
	tsColumn = strings.ToLower(tsColumn)
	byMetric := map[string]*ingest.Table{}
	var order []*ingest.Table
	for i, raw := range raws {
		metric, tags, ts, v, msg := decodePoint(raw, tsColumn)
		if msg != "" {
			nbad++
			if len(bad) < maxPointErrors {
				bad = append(bad, PointError{Index: i, Point: raw, Err: msg})
			}
			continue
		}
		if nbad > 0 {
			continue // nothing will be written: only look for more errors
		}
		t := byMetric[metric]
		if t == nil {
			t = ingest.NewTable(metric)
			byMetric[metric] = t
			order = append(order, t)
		}
		cells := make([]query.Cell, len(tags)+1)
		for k, tag := range tags {
			cells[k] = query.Cell{Index: t.Tag([]byte(tag.k)), Value: query.Value{Kind: schema.String, S: tag.v}}
		}
		cells[len(tags)] = query.Cell{Index: t.Field([]byte(ValueColumn)), Value: query.Value{Kind: schema.Double, F: v}}
		t.Rows = append(t.Rows, query.WriteRow{Timestamp: ts, Tags: cells[:len(tags):len(tags)], Fields: cells[len(tags):]})
	}
	if nbad > 0 {
		return nil, len(raws), bad, nbad, nil
	}
	tables = make([]query.WriteTable, 0, len(order))
	for _, t := range order {
		tables = append(tables, t.WriteTable())
	}
	return tables, len(raws), nil, 0, nil
}

type tagKV struct{ k, v string }

// decodePoint validates one point; msg says what is wrong with it.
func decodePoint(raw json.RawMessage, tsColumn string) (metric string, tags []tagKV, ts int64, v float64, msg string) {
	var p rawPoint
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", nil, 0, 0, "not a data point object: " + err.Error()
	}
	if len(p.Metric) == 0 || string(p.Metric) == "null" {
		return "", nil, 0, 0, "missing metric"
	}
	if err := json.Unmarshal(p.Metric, &metric); err != nil {
		return "", nil, 0, 0, "the metric must be a string"
	}
	if metric == "" {
		return "", nil, 0, 0, "empty metric"
	}
	var err error
	if ts, err = decodeTimestamp(p.Timestamp); err != nil {
		return "", nil, 0, 0, err.Error()
	}
	if v, err = decodeValue(p.Value); err != nil {
		return "", nil, 0, 0, err.Error()
	}
	if len(p.Tags) == 0 {
		return "", nil, 0, 0, "at least one tag is required"
	}
	tags = make([]tagKV, 0, len(p.Tags))
	for k, rv := range p.Tags {
		switch lk := strings.ToLower(k); {
		case k == "":
			return "", nil, 0, 0, "empty tag name"
		case lk == ValueColumn || lk == schema.TsidColumn || lk == tsColumn:
			return "", nil, 0, 0, fmt.Sprintf("tag name %q is reserved (the value, tsid or timestamp column)", k)
		}
		var s string
		switch {
		case len(rv) > 0 && rv[0] == '"':
			if err := json.Unmarshal(rv, &s); err != nil {
				return "", nil, 0, 0, fmt.Sprintf("tag %q: %v", k, err)
			}
		case len(rv) > 0 && (rv[0] == '-' || rv[0] >= '0' && rv[0] <= '9'):
			s = string(rv) // a number: its text, as OpenTSDB's JSON reader coerces it
		default:
			return "", nil, 0, 0, fmt.Sprintf("tag %q: the value must be a string", k)
		}
		if s == "" {
			return "", nil, 0, 0, fmt.Sprintf("tag %q: empty value", k)
		}
		tags = append(tags, tagKV{k, s})
	}
	return metric, tags, ts, v, ""
}

// Timestamp bounds of a put (upstream's rule): seconds in
// [minSeconds, maxSeconds], milliseconds in (maxSeconds, maxMillis].
const (
	minSeconds = 4294968
	maxSeconds = 4294967295
	maxMillis  = 9999999999999
)

// decodeTimestamp reads a put timestamp, an integer or a string of one,
// and returns it in milliseconds.
func decodeTimestamp(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, fmt.Errorf("missing timestamp")
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, fmt.Errorf("timestamp: %v", err)
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid timestamp %s: want an integer of seconds or milliseconds", raw)
	}
	switch {
	case n >= minSeconds && n <= maxSeconds:
		return n * 1000, nil
	case n > maxSeconds && n <= maxMillis:
		return n, nil
	}
	return 0, fmt.Errorf("invalid timestamp %d: want seconds in [%d, %d] or milliseconds in [%d, %d]",
		n, minSeconds, maxSeconds, maxSeconds+1, maxMillis)
}

// decodeValue reads a value: a JSON number or a string holding one.
func decodeValue(raw json.RawMessage) (float64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, fmt.Errorf("missing value")
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, fmt.Errorf("value: %v", err)
		}
		text = strings.TrimSpace(text)
	} else if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, fmt.Errorf("invalid value %s: want a number or a numeric string", raw)
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil && !isRangeErr(err) {
		return 0, fmt.Errorf("invalid value %s: want a number or a numeric string", raw)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("invalid value %s: NaN and infinite values are not accepted", raw)
	}
	return v, nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// Put is POST /opentsdb/api/put. Without ?summary or ?details it answers
// 204; with them 200 and {"success":N,"failed":M} (details adds
// "errors"). A bad point fails the request whole: 400, naming the point's
// index and the problem (with ?summary/?details in OpenTSDB's body, its
// errors listed), and nothing of the request is written.
func (h *Handler) Put(w http.ResponseWriter, r *http.Request) {
	summary, details := flag(r, "summary"), flag(r, "details")
	body, err := ingest.ReadBody(w, r, h.o.MaxBodySize)
	if err != nil {
		h.fail(w, err)
		return
	}
	tables, points, bad, nbad, err := DecodePut(body, h.o.TimestampColumn)
	if err != nil {
		h.fail(w, err)
		return
	}
	if nbad > 0 {
		if summary || details {
			writeJSON(w, http.StatusBadRequest, appendSummary(nil, 0, points, bad, true))
			return
		}
		msg := fmt.Sprintf("point at index %d: %s", bad[0].Index, bad[0].Err)
		if nbad > 1 {
			msg += fmt.Sprintf(" (and %d more bad points; nothing was written)", nbad-1)
		} else {
			msg += " (nothing was written)"
		}
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	if points > 0 {
		_, err = h.o.Executor.Write(r.Context(), query.Session{Database: h.o.Database(r)}, tables,
			query.WriteOptions{TimestampColumn: h.o.TimestampColumn})
		if err != nil {
			h.fail(w, err)
			return
		}
	}
	if summary || details {
		writeJSON(w, http.StatusOK, appendSummary(nil, points, 0, nil, details))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// appendSummary appends OpenTSDB's put summary:
// {"success":N,"failed":M[,"errors":[{"datapoint":{..},"error":".."}]]}.
func appendSummary(dst []byte, success, failed int, bad []PointError, withErrors bool) []byte {
	dst = append(dst, `{"success":`...)
	dst = strconv.AppendInt(dst, int64(success), 10)
	dst = append(dst, `,"failed":`...)
	dst = strconv.AppendInt(dst, int64(failed), 10)
	if withErrors {
		dst = append(dst, `,"errors":[`...)
		for i, e := range bad {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"datapoint":`...)
			var buf bytes.Buffer
			if json.Compact(&buf, e.Point) == nil {
				dst = append(dst, buf.Bytes()...)
			} else {
				dst = jsonenc.String(dst, string(e.Point))
			}
			dst = append(dst, `,"index":`...)
			dst = strconv.AppendInt(dst, int64(e.Index), 10)
			dst = append(dst, `,"error":`...)
			dst = jsonenc.String(dst, e.Err)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, "}\n"...)
}
