package promremote

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
)

// FuzzRemoteWriteDecode runs the decode path of a remote write (snappy,
// protobuf, conversion to rows) on arbitrary bytes, taken both as the
// protobuf message (compressed here) and as the compressed body itself,
// and writes what it accepts to a real executor, each input in a database
// of its own. It must never panic; a request is converted whole (one row
// per float sample) or refused; and a write that fails leaves no row.
func FuzzRemoteWriteDecode(f *testing.F) {
	seed := func(m *prompb.WriteRequest) []byte {
		b, err := m.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(seed(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(labels("__name__", "cpu", "host", "a", "region", ""), 0, 1, 1000, math.NaN()),
		series(labels("zone", "z", "__name__", "cpu"), 0, math.Inf(-1)),
		series(labels("__name__", "mem"), 5, 2),
	}}))
	f.Add(seed(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(labels("__name__", "cpu", "host", "a"), 0, 1),
		series(labels("__name__", "cpu", "host", "a", "host", "b"), 0, 1), // refused: label twice
	}}))
	f.Add(seed(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(labels("__name__", "t", "h", "x"), 0, 1),
		series(labels("__name__", "t", "value", "x"), 0, 1), // refused: reserved label
	}}))
	f.Add(seed(&prompb.WriteRequest{Metadata: []prompb.MetricMetadata{{MetricFamilyName: "m"}}}))
	f.Add([]byte{})
	f.Add([]byte{0x22, 0x03, 'f', 'o', 'o'})
	x := newExecutor(f)
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, body := range [][]byte{snappy.Encode(nil, data), data} {
			n++
			checkDecodeAndWrite(t, x, fmt.Sprintf("fuzz%d", n), body)
		}
	})
}

func checkDecodeAndWrite(t *testing.T, x *query.Executor, db string, body []byte) {
	const limit = 1 << 20
	raw, err := decompress(body, limit)
	if err != nil {
		return
	}
	tables, st, err := decodeWrite(raw, "timestamp")
	if err != nil {
		if tables != nil {
			t.Fatalf("an error (%v) with tables", err)
		}
		return
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		t.Fatalf("decodeWrite accepted what does not decode: %v", err)
	}
	samples := 0
	for _, ts := range req.Timeseries {
		samples += len(ts.Samples)
	}
	rows := 0
	for _, wt := range tables {
		if len(wt.Fields) != 1 || wt.Fields[0] != DefaultField {
			t.Fatalf("table %q: fields %q", wt.Table, wt.Fields)
		}
		for i, tag := range wt.Tags {
			if tag == "" || tag == LabelMetricName || (i > 0 && wt.Tags[i-1] >= tag) {
				t.Fatalf("table %q: tags %q", wt.Table, wt.Tags)
			}
		}
		for _, r := range wt.Rows {
			if len(r.Fields) != 1 || r.Fields[0].Index != 0 || r.Fields[0].Value.Kind != schema.Double {
				t.Fatalf("table %q: row fields %+v", wt.Table, r.Fields)
			}
			for _, c := range r.Tags {
				if int(c.Index) >= len(wt.Tags) || c.Value.Kind != schema.String || c.Value.S == "" {
					t.Fatalf("table %q: tag cell %+v of %d tags", wt.Table, c, len(wt.Tags))
				}
			}
		}
		rows += len(wt.Rows)
	}
	if rows != samples || st.samples != samples {
		t.Fatalf("%d rows, %d counted, of %d samples", rows, st.samples, samples)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, werr := x.Write(ctx, query.Session{Database: db}, tables, query.WriteOptions{TimestampColumn: "timestamp"})
	stored := 0
	for _, wt := range tables {
		if _, err := x.TableSchema(db, wt.Table); err != nil {
			continue // not created
		}
		out, err := rowsOf(x, db, "SELECT count(1) FROM "+quoteIdent(wt.Table))
		if err != nil {
			t.Fatalf("count %q: %v", wt.Table, err)
		}
		c, err := strconv.Atoi(strings.TrimSpace(out))
		if err != nil {
			t.Fatalf("count %q: %q", wt.Table, out)
		}
		stored += c
	}
	switch {
	case werr != nil && stored != 0:
		t.Fatalf("a failed write (%v) left %d rows", werr, stored)
	case werr == nil && (stored > samples || (samples > 0) != (stored > 0)):
		// Rows of one series at one timestamp collapse (OVERWRITE).
		t.Fatalf("%d rows stored of %d samples", stored, samples)
	}
}
