package promremote

import (
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/prometheus/prompb"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
)

// writeV1Proto is the proto parameter of a remote write 1.0 Content-Type;
// 1.0 senders may also leave it out.
const writeV1Proto = "prometheus.WriteRequest"

// checkWriteEncoding refuses, with errMediaType, a remote write 2.0
// request (Content-Type application/x-protobuf with another proto
// parameter) and a body compressed other than with snappy. A request
// without those headers is taken as 1.0 and snappy, as upstream does.
func checkWriteEncoding(h http.Header) error {
	if ct := h.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err == nil && mt == "application/x-protobuf" {
			if p := params["proto"]; p != "" && p != writeV1Proto {
				return fmt.Errorf("%w: Content-Type %q: only remote write 1.0 (proto=%s) is supported; "+
					"set protobuf_message: %s in the sender's remote_write config", errMediaType, ct, writeV1Proto, writeV1Proto)
			}
		}
	}
	if ce := strings.TrimSpace(h.Get("Content-Encoding")); ce != "" && !strings.EqualFold(ce, "snappy") {
		return fmt.Errorf("%w: Content-Encoding %q: the body must be snappy-compressed", errMediaType, ce)
	}
	return nil
}

// writeStats counts what a remote-write request holds.
type writeStats struct {
	samples    int // float samples, each a row
	histograms int // native histogram samples: ignored
	exemplars  int // ignored
	metadata   int // ignored
}

func (s writeStats) ignored() bool { return s.histograms+s.exemplars+s.metadata > 0 }

// decodeWrite decodes a decompressed remote-write body and converts it
// (writeTables).
func decodeWrite(body []byte, timestampColumn string) ([]query.WriteTable, writeStats, error) {
	var req prompb.WriteRequest
	if err := req.Unmarshal(body); err != nil {
		return nil, writeStats{}, fmt.Errorf("%w: the body is not a remote write 1.0 message (prometheus.WriteRequest): %v",
			ErrBadRequest, err)
	}
	if len(req.Timeseries) == 0 && len(req.Metadata) == 0 && len(req.XXX_unrecognized) > 0 {
		// A 2.0 message (symbols and series in other fields) decodes as an
		// empty 1.0 one: say so rather than write nothing silently.
		return nil, writeStats{}, fmt.Errorf("%w: the message has no series but fields that remote write 1.0 does not have; "+
			"remote write 2.0 is not supported: set protobuf_message: %s in the sender's remote_write config",
			errMediaType, writeV1Proto)
	}
	return writeTables(&req, timestampColumn)
}

// writeTables converts a remote-write request into one write table per
// metric name, in order of first appearance: the labels other than
// __name__ as string tags (sorted by name, so a table is created with its
// tag columns in name order, as upstream; a label with an empty value is
// absent, as in Prometheus), one row per float sample with its value in
// the double field "value". Every series is checked first: one without a
// metric name, with an empty, repeated or reserved label name, or with
// text that is not UTF-8 (Prometheus' own rules) fails the request, so
// nothing of it is written.
func writeTables(req *prompb.WriteRequest, timestampColumn string) ([]query.WriteTable, writeStats, error) {
	type table struct {
		wt     query.WriteTable
		tagIdx map[string]uint32
		rows   int
	}
	st := writeStats{metadata: len(req.Metadata)}
	tables := map[string]*table{}
	var order []*table
	of := make([]*table, len(req.Timeseries)) // the table of each series with samples
	for i := range req.Timeseries {
		ts := &req.Timeseries[i]
		st.histograms += len(ts.Histograms)
		st.exemplars += len(ts.Exemplars)
		name, err := checkLabels(ts.Labels, timestampColumn)
		if err != nil {
			return nil, st, fmt.Errorf("%w: series %d %s: %v", ErrBadRequest, i, describe(ts.Labels), err)
		}
		if len(ts.Samples) == 0 {
			continue
		}
		t, ok := tables[name]
		if !ok {
			t = &table{wt: query.WriteTable{Table: name, Fields: []string{DefaultField}}, tagIdx: map[string]uint32{}}
			tables[name] = t
			order = append(order, t)
		}
		for _, l := range ts.Labels {
			if l.Name == LabelMetricName || l.Value == "" {
				continue
			}
			if _, ok := t.tagIdx[l.Name]; !ok {
				t.tagIdx[l.Name] = 0 // numbered once all are known
				t.wt.Tags = append(t.wt.Tags, l.Name)
			}
		}
		t.rows += len(ts.Samples)
		st.samples += len(ts.Samples)
		of[i] = t
	}
	for _, t := range order {
		sort.Strings(t.wt.Tags)
		for j, name := range t.wt.Tags {
			t.tagIdx[name] = uint32(j)
		}
		t.wt.Rows = make([]query.WriteRow, 0, t.rows)
	}
	values := make([]query.Cell, st.samples) // every row's one field cell
	k := 0
	for i, t := range of {
		if t == nil {
			continue
		}
		ts := &req.Timeseries[i]
		tags := make([]query.Cell, 0, len(ts.Labels)) // shared by the series' rows
		for _, l := range ts.Labels {
			if l.Name == LabelMetricName || l.Value == "" {
				continue
			}
			tags = append(tags, query.Cell{Index: t.tagIdx[l.Name], Value: query.Value{Kind: schema.String, S: l.Value}})
		}
		for _, s := range ts.Samples {
			values[k] = query.Cell{Value: query.Value{Kind: schema.Double, F: s.Value}}
			t.wt.Rows = append(t.wt.Rows, query.WriteRow{Timestamp: s.Timestamp, Tags: tags, Fields: values[k : k+1 : k+1]})
			k++
		}
	}
	out := make([]query.WriteTable, len(order))
	for i, t := range order {
		out[i] = t.wt
	}
	return out, st, nil
}

// checkLabels checks the labels of a series and returns its metric name.
// Label names must be non-empty UTF-8 (Prometheus 3's rule; the legacy
// [a-zA-Z_][a-zA-Z0-9_]* is a subset) and unique, values UTF-8, and no
// label may take the name of a column that is not a tag: tsid, the
// timestamp column, the value field, or __horaedb_field__, which remote
// read takes to pick a field.
func checkLabels(labels []prompb.Label, timestampColumn string) (string, error) {
	name := ""
	sorted := true
	for j, l := range labels {
		switch {
		case l.Name == "":
			return "", fmt.Errorf("label %d has an empty name", j)
		case !utf8.ValidString(l.Name):
			return "", fmt.Errorf("label name %q is not valid UTF-8", l.Name)
		case !utf8.ValidString(l.Value):
			return "", fmt.Errorf("the value of label %s is not valid UTF-8", l.Name)
		case l.Name == LabelMetricName:
			name = l.Value
		case l.Name == LabelField:
			return "", fmt.Errorf("label %s is reserved: remote read takes it to pick the field column", l.Name)
		case l.Name == DefaultField, l.Name == timestampColumn, l.Name == schema.TsidColumn:
			return "", fmt.Errorf("label %s is reserved: the table has a column of that name that is not a tag", l.Name)
		}
		if j > 0 {
			switch prev := labels[j-1].Name; {
			case prev == l.Name:
				return "", fmt.Errorf("label %s is given twice", l.Name)
			case prev > l.Name:
				sorted = false
			}
		}
	}
	if !sorted {
		seen := make(map[string]struct{}, len(labels))
		for _, l := range labels {
			if _, dup := seen[l.Name]; dup {
				return "", fmt.Errorf("label %s is given twice", l.Name)
			}
			seen[l.Name] = struct{}{}
		}
	}
	if name == "" {
		return "", fmt.Errorf("no %s label: the metric name names the table", LabelMetricName)
	}
	return name, nil
}

// describe renders labels for an error message, Prometheus-style
// ({__name__="up", job="x"}), cut at about 200 bytes.
func describe(labels []prompb.Label) string {
	const limit = 200
	var b strings.Builder
	b.WriteByte('{')
	for j, l := range labels {
		if b.Len() > limit {
			b.WriteString(", ...")
			break
		}
		if j > 0 {
			b.WriteString(", ")
		}
		if utf8.ValidString(l.Name) && l.Name != "" && !strings.ContainsAny(l.Name, "\"{}=, ") {
			b.WriteString(l.Name)
		} else {
			b.WriteString(strconv.Quote(l.Name))
		}
		b.WriteByte('=')
		v := l.Value
		if len(v) > limit {
			v = v[:limit] + "..."
		}
		b.WriteString(strconv.Quote(v))
	}
	b.WriteByte('}')
	return b.String()
}
