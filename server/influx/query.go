package influx

import (
	"bufio"
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/horaego/horaedb/internal/jsonenc"
	"github.com/horaego/horaedb/query/influxql"
)

// Querier runs InfluxQL; *influxql.Engine.
type Querier interface {
	Run(ctx context.Context, db, q string, now time.Time) ([]influxql.Result, error)
}

// epochUnits are the epoch parameter's units, in milliseconds per unit
// (negative: units per millisecond).
var epochUnits = map[string]int64{"ns": -1_000_000, "n": -1_000_000, "u": -1_000, "µ": -1_000, "ms": 1,
	"s": 1_000, "m": 60_000, "h": 3_600_000}

// Query is GET or POST /influxdb/v1/query (and /query): q in the query
// string or a form body; epoch picks integer times in that unit (default
// RFC 3339 strings, as InfluxDB); pretty indents. A query that does not
// parse is 400; a statement that fails has its error in its result and
// the answer stays 200, as InfluxDB does.
func (h *Handler) Query(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Influxdb-Version", Version)
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, max(h.o.MaxBodySize, 1<<20))
	}
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, http.StatusBadRequest, "bad form: "+err.Error())
		return
	}
	q := r.Form.Get("q")
	if strings.TrimSpace(q) == "" {
		writeJSONError(w, http.StatusBadRequest, `missing required parameter "q"`)
		return
	}
	epoch := r.Form.Get("epoch")
	unit, ok := epochUnits[epoch]
	if epoch != "" && !ok {
		writeJSONError(w, http.StatusBadRequest, "epoch "+strconv.Quote(epoch)+": want ns, u, ms, s, m or h")
		return
	}
	results, err := h.o.Querier.Run(r.Context(), h.o.Database(r), q, h.o.Now())
	if err != nil {
		if errors.Is(err, influxql.ErrInvalid) {
			writeJSONError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), influxql.ErrInvalid.Error()+": "))
			return
		}
		h.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	enc := resultWriter{w: bw, unit: unit, pretty: r.Form.Get("pretty") == "true"}
	enc.results(results)
	if err := bw.Flush(); err != nil {
		h.o.Logger.Debug("influxdb query: writing the response failed", "err", err)
	}
}

// resultWriter writes InfluxDB 1.x's JSON result shape:
//
//	{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},
//	  "columns":["time","max"],"values":[["2026-01-01T00:00:00Z",1.5]]}]}]}
type resultWriter struct {
	w      *bufio.Writer
	buf    []byte
	unit   int64 // epoch unit (0: RFC 3339)
	pretty bool
	depth  int
}

func (e *resultWriter) flush() {
	_, _ = e.w.Write(e.buf)
	e.buf = e.buf[:0]
}

func (e *resultWriter) nl() {
	if e.pretty {
		e.buf = append(e.buf, '\n')
		for i := 0; i < e.depth; i++ {
			e.buf = append(e.buf, "    "...)
		}
	}
}

func (e *resultWriter) open(c byte)  { e.buf = append(e.buf, c); e.depth++; e.nl() }
func (e *resultWriter) close(c byte) { e.depth--; e.nl(); e.buf = append(e.buf, c) }
func (e *resultWriter) sep()         { e.buf = append(e.buf, ','); e.nl() }
func (e *resultWriter) key(k string) {
	e.buf = jsonenc.String(e.buf, k)
	e.buf = append(e.buf, ':')
	if e.pretty {
		e.buf = append(e.buf, ' ')
	}
}

func (e *resultWriter) results(rs []influxql.Result) {
	e.open('{')
	e.key("results")
	e.open('[')
	for i, r := range rs {
		if i > 0 {
			e.sep()
		}
		e.open('{')
		e.key("statement_id")
		e.buf = strconv.AppendInt(e.buf, int64(i), 10)
		switch {
		case r.Err != nil:
			e.sep()
			e.key("error")
			msg := strings.TrimPrefix(r.Err.Error(), influxql.ErrInvalid.Error()+": ")
			e.buf = jsonenc.String(e.buf, msg)
		case len(r.Series) > 0:
			e.sep()
			e.key("series")
			e.open('[')
			for j := range r.Series {
				if j > 0 {
					e.sep()
				}
				e.series(&r.Series[j])
			}
			e.close(']')
		}
		e.close('}')
	}
	e.close(']')
	e.close('}')
	e.buf = append(e.buf, '\n')
	e.flush()
}

func (e *resultWriter) series(s *influxql.Series) {
	e.open('{')
	if s.Name != "" {
		e.key("name")
		e.buf = jsonenc.String(e.buf, s.Name)
		e.sep()
	}
	if len(s.Tags) > 0 {
		e.key("tags")
		e.open('{')
		for i, t := range s.Tags {
			if i > 0 {
				e.sep()
			}
			e.key(t.Key)
			e.buf = jsonenc.String(e.buf, t.Value)
		}
		e.close('}')
		e.sep()
	}
	e.key("columns")
	e.buf = append(e.buf, '[')
	for i, c := range s.Columns {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = jsonenc.String(e.buf, c)
	}
	e.buf = append(e.buf, ']')
	e.sep()
	e.key("values")
	e.open('[')
	for i, row := range s.Values {
		if i > 0 {
			e.sep()
		}
		e.buf = append(e.buf, '[')
		for j, v := range row {
			if j > 0 {
				e.buf = append(e.buf, ',')
			}
			e.value(v)
		}
		e.buf = append(e.buf, ']')
		if len(e.buf) > 16<<10 {
			e.flush()
		}
	}
	e.close(']')
	e.close('}')
}

func (e *resultWriter) value(v any) {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case influxql.Time:
		switch {
		case e.unit == 0:
			e.buf = append(e.buf, '"')
			e.buf = time.UnixMilli(int64(x)).UTC().AppendFormat(e.buf, time.RFC3339Nano)
			e.buf = append(e.buf, '"')
		case e.unit < 0:
			e.buf = strconv.AppendInt(e.buf, int64(x)*-e.unit, 10)
		default:
			e.buf = strconv.AppendInt(e.buf, floorDiv(int64(x), e.unit), 10)
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			e.buf = append(e.buf, "null"...)
			return
		}
		format := byte('f') // as encoding/json prints floats
		if abs := math.Abs(x); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
			format = 'e'
		}
		e.buf = strconv.AppendFloat(e.buf, x, format, -1, 64)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, x, 10)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case string:
		e.buf = jsonenc.String(e.buf, x)
	default:
		e.buf = jsonenc.String(e.buf, "?")
	}
}
