// Package influx serves InfluxDB 1.x's HTTP API: writes in line protocol
// (/influxdb/v1/write, /write), InfluxQL queries (/influxdb/v1/query,
// /query) and /ping, so that InfluxDB clients, Telegraf, Grafana's InfluxDB
// datasource and TSBS's loader and query runner work against us.
package influx

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/internal/ingest"
)

// ErrBadRequest wraps every problem with a write or query request.
var ErrBadRequest = errors.New("bad request")

// precisionMillis maps the precision parameter to the number of
// timestamp units per millisecond (as a divisor, negative) or of
// milliseconds per unit (positive). InfluxDB's default is nanoseconds.
func precisionScale(p string) (div, mul int64, err error) {
	switch p {
	case "", "ns", "n":
		return 1_000_000, 1, nil
	case "u", "us", "µ":
		return 1_000, 1, nil
	case "ms":
		return 1, 1, nil
	case "s":
		return 1, 1_000, nil
	case "m":
		return 1, 60_000, nil
	case "h":
		return 1, 3_600_000, nil
	}
	return 0, 0, fmt.Errorf("%w: precision %q: want ns, u, ms, s, m or h", ErrBadRequest, p)
}

// ParseLines decodes a line protocol body into one write table per
// measurement: tags as strings, fields as bigint, uint64, double, string
// or boolean, timestamps in the given precision converted to
// milliseconds (a point without one gets now). It returns the number of
// points. An error names the line and column.
func ParseLines(body []byte, precision string, now time.Time) ([]query.WriteTable, int, error) {
	div, mul, err := precisionScale(precision)
	if err != nil {
		return nil, 0, err
	}
	nowMs := now.UnixMilli()
	dec := lineprotocol.NewDecoderWithBytes(body)
	tables := map[string]*ingest.Table{}
	var order []*ingest.Table
	strs := map[string]string{} // interned tag values: series repeat them on every line
	intern := func(b []byte) string {
		if s, ok := strs[string(b)]; ok {
			return s
		}
		s := string(b)
		strs[s] = s
		return s
	}
	var cells []query.Cell // backing store of every row's cells
	type span struct {
		tb                 *ingest.Table
		row                int
		start, fields, end int // the row's tags are cells[start:fields], its fields cells[fields:end]
	}
	var spans []span
	points := 0
	for dec.Next() {
		m, err := dec.Measurement()
		if err != nil {
			return nil, 0, lineError(err)
		}
		tb, ok := tables[string(m)]
		if !ok {
			tb = ingest.NewTable(string(m))
			tables[tb.Name] = tb
			order = append(order, tb)
		}
		start := len(cells)
		for {
			k, v, err := dec.NextTag()
			if err != nil {
				return nil, 0, lineError(err)
			}
			if k == nil {
				break
			}
			cells = append(cells, query.Cell{Index: tb.Tag(k),
				Value: query.Value{Kind: schema.String, S: intern(v)}})
		}
		nTags := len(cells) - start
		for {
			k, v, err := dec.NextField()
			if err != nil {
				return nil, 0, lineError(err)
			}
			if k == nil {
				break
			}
			val := query.Value{}
			switch v.Kind() {
			case lineprotocol.Int:
				val = query.Value{Kind: schema.Int64, I: v.IntV()}
			case lineprotocol.Uint:
				val = query.Value{Kind: schema.UInt64, U: v.UintV()}
			case lineprotocol.Float:
				val = query.Value{Kind: schema.Double, F: v.FloatV()}
			case lineprotocol.String:
				val = query.Value{Kind: schema.String, S: v.StringV()}
			case lineprotocol.Bool:
				val = query.Value{Kind: schema.Boolean, B: v.BoolV()}
			}
			cells = append(cells, query.Cell{Index: tb.Field(k), Value: val})
		}
		tsb, err := dec.TimeBytes()
		if err != nil {
			return nil, 0, lineError(err)
		}
		ts := nowMs
		if tsb != nil {
			raw, err := strconv.ParseInt(string(tsb), 10, 64)
			if err != nil {
				return nil, 0, fmt.Errorf("%w: point %d (measurement %s): invalid timestamp %q", ErrBadRequest, points+1, m, tsb)
			}
			ts, err = toMillis(raw, div, mul)
			if err != nil {
				return nil, 0, fmt.Errorf("%w: point %d (measurement %s): %v", ErrBadRequest, points+1, m, err)
			}
		}
		// The row's cells are sliced out of cells at the end: it may move
		// while it grows.
		tb.Rows = append(tb.Rows, query.WriteRow{Timestamp: ts})
		spans = append(spans, span{tb, len(tb.Rows) - 1, start, start + nTags, len(cells)})
		points++
	}
	if err := dec.Err(); err != nil {
		return nil, 0, lineError(err)
	}
	for _, s := range spans {
		row := &s.tb.Rows[s.row]
		row.Tags = cells[s.start:s.fields:s.fields]
		row.Fields = cells[s.fields:s.end:s.end]
	}
	out := make([]query.WriteTable, 0, len(order))
	for _, tb := range order {
		out = append(out, tb.WriteTable())
	}
	return out, points, nil
}

// toMillis converts a timestamp of the request's precision.
func toMillis(raw, div, mul int64) (int64, error) {
	if div > 1 {
		return floorDiv(raw, div), nil
	}
	if raw > math.MaxInt64/mul || raw < math.MinInt64/mul {
		return 0, fmt.Errorf("timestamp %d out of range", raw)
	}
	return raw * mul, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) {
		q--
	}
	return q
}

func lineError(err error) error {
	return fmt.Errorf("%w: line protocol: %v", ErrBadRequest, err)
}
