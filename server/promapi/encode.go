package promapi

import (
	"math"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	pql "github.com/prometheus/prometheus/promql"

	"github.com/horaego/horaedb/internal/jsonenc"
)

// The JSON of Prometheus' HTTP API (web/api/v1), written by hand into a
// byte slice: a sample is [<unix seconds>, "<value>"], the timestamp with
// millisecond decimals, the value as Prometheus formats it ("NaN",
// "+Inf", exponents below 1e-6 and from 1e21).

// appendTime appends a timestamp in ms as seconds: 1435781451.781.
func appendTime(dst []byte, t int64) []byte {
	if t < 0 {
		dst = append(dst, '-')
		t = -t
	}
	dst = strconv.AppendInt(dst, t/1000, 10)
	if f := t % 1000; f != 0 {
		dst = append(dst, '.')
		if f < 100 {
			dst = append(dst, '0')
		}
		if f < 10 {
			dst = append(dst, '0')
		}
		dst = strconv.AppendInt(dst, f, 10)
	}
	return dst
}

// appendFloat appends a sample value as a JSON string.
func appendFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	dst = append(dst, '"')
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	return append(dst, '"')
}

// appendPoint appends [t, "v"].
func appendPoint(dst []byte, t int64, f float64) []byte {
	dst = append(dst, '[')
	dst = appendTime(dst, t)
	dst = append(dst, ',')
	dst = appendFloat(dst, f)
	return append(dst, ']')
}

// appendHistogram appends a native histogram point as the library
// marshals it; our tables hold none, but functions could make one.
func appendHistogram(dst []byte, p pql.HPoint) []byte {
	b, err := p.MarshalJSON()
	if err != nil {
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

// appendLabels appends a label set as a JSON object.
func appendLabels(dst []byte, lset labels.Labels) []byte {
	dst = append(dst, '{')
	first := true
	lset.Range(func(l labels.Label) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsonenc.String(dst, l.Name)
		dst = append(dst, ':')
		dst = jsonenc.String(dst, l.Value)
	})
	return append(dst, '}')
}

// appendValue appends the result of a query: {"resultType":...,"result":...}.
func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case pql.Matrix:
		dst = append(dst, `{"resultType":"matrix","result":[`...)
		for i, s := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"metric":`...)
			dst = appendLabels(dst, s.Metric)
			if len(s.Floats) > 0 {
				dst = append(dst, `,"values":[`...)
				for j, p := range s.Floats {
					if j > 0 {
						dst = append(dst, ',')
					}
					dst = appendPoint(dst, p.T, p.F)
				}
				dst = append(dst, ']')
			}
			if len(s.Histograms) > 0 {
				dst = append(dst, `,"histograms":[`...)
				for j, p := range s.Histograms {
					if j > 0 {
						dst = append(dst, ',')
					}
					dst = appendHistogram(dst, p)
				}
				dst = append(dst, ']')
			}
			dst = append(dst, '}')
		}
		return append(dst, "]}"...)
	case pql.Vector:
		dst = append(dst, `{"resultType":"vector","result":[`...)
		for i, s := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"metric":`...)
			dst = appendLabels(dst, s.Metric)
			if s.H == nil {
				dst = append(dst, `,"value":`...)
				dst = appendPoint(dst, s.T, s.F)
			} else {
				dst = append(dst, `,"histogram":`...)
				dst = appendHistogram(dst, pql.HPoint{T: s.T, H: s.H})
			}
			dst = append(dst, '}')
		}
		return append(dst, "]}"...)
	case pql.Scalar:
		dst = append(dst, `{"resultType":"scalar","result":`...)
		dst = appendPoint(dst, v.T, v.V)
		return append(dst, '}')
	case pql.String:
		dst = append(dst, `{"resultType":"string","result":[`...)
		dst = appendTime(dst, v.T)
		dst = append(dst, ',')
		dst = jsonenc.String(dst, v.V)
		return append(dst, "]}"...)
	}
	return append(dst, "null"...)
}

// appendStrings appends a JSON array of strings ([] when empty).
func appendStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonenc.String(dst, s)
	}
	return append(dst, ']')
}
