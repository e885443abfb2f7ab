package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/engine/schema"
)

// ErrNoLatest means a table cannot answer LatestRows: it has no tsid
// column, or more series than the cache holds. Callers scan instead.
var ErrNoLatest = errors.New("engine: no per-series latest rows for this table")

// MaxLatestSeries bounds the series one table's latest-row cache holds;
// a table with more answers ErrNoLatest.
const MaxLatestSeries = 1 << 20

// latestCache holds, per series (tsid), the row with the greatest
// timestamp, so that "the last point of every series" (InfluxDB's
// lastpoint) is answered without reading history. It is built by one scan
// on first use and then kept current by every write.
type latestCache struct {
	mu    sync.Mutex
	state latestState
	rows  map[uint64]*latestRow
	ready chan struct{} // closed when the first build ends (built or failed)
	err   error         // of the build
}

type latestState uint8

const (
	latestOff latestState = iota // nobody asked yet: writes skip it
	latestBuilding
	latestReady
	latestDisabled // too many series
)

// latestRow is one row's values by column index (the schema may have
// grown since: missing trailing columns are null).
type latestRow struct {
	ts   int64
	vals []any
}

// observe records the rows of rec (the table's columns in order) that are
// newer than what the cache holds. Called by writes under writeMu.
func (c *latestCache) observe(s *schema.Schema, rec arrow.RecordBatch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != latestBuilding && c.state != latestReady {
		return
	}
	c.observeLocked(s, rec, true)
}

// observeLocked records rows newer than the cache's. A row with the same
// timestamp as the cached one replaces it only when it comes from a write
// (replaceEqual): a write overwrites an equal key, while the build's scan
// may still return the row that write replaced.
func (c *latestCache) observeLocked(s *schema.Schema, rec arrow.RecordBatch, replaceEqual bool) {
	tsids := rec.Column(s.TsidIndex).(*array.Uint64).Uint64Values()
	ts := rec.Column(s.TimestampIndex).(*array.Timestamp).TimestampValues()
	n := len(tsids)
	for i := 0; i < n; i++ {
		// Rows sorted by (tsid, ts): the last of a run of one tsid is its
		// newest; in other orders every row is a candidate.
		if i+1 < n && tsids[i+1] == tsids[i] && ts[i+1] >= ts[i] {
			continue
		}
		cur, ok := c.rows[tsids[i]]
		if ok && (cur.ts > int64(ts[i]) || cur.ts == int64(ts[i]) && !replaceEqual) {
			continue
		}
		if !ok {
			if len(c.rows) >= MaxLatestSeries {
				c.state, c.rows = latestDisabled, nil
				return
			}
			cur = &latestRow{}
			c.rows[tsids[i]] = cur
		}
		cur.ts = int64(ts[i])
		cur.vals = rowValues(rec, i, cur.vals[:0])
	}
}

// rowValues copies row i of rec as Go values.
func rowValues(rec arrow.RecordBatch, i int, dst []any) []any {
	for _, col := range rec.Columns() {
		if col.IsNull(i) {
			dst = append(dst, nil)
			continue
		}
		var v any
		switch a := col.(type) {
		case *array.String:
			v = strings.Clone(a.Value(i)) // Value aliases the array's buffer
		case *array.Binary:
			v = append([]byte(nil), a.Value(i)...)
		case *array.Timestamp:
			v = int64(a.Value(i))
		case *array.Float64:
			v = a.Value(i)
		case *array.Float32:
			v = a.Value(i)
		case *array.Int64:
			v = a.Value(i)
		case *array.Int32:
			v = a.Value(i)
		case *array.Int16:
			v = a.Value(i)
		case *array.Int8:
			v = a.Value(i)
		case *array.Uint64:
			v = a.Value(i)
		case *array.Uint32:
			v = a.Value(i)
		case *array.Uint16:
			v = a.Value(i)
		case *array.Uint8:
			v = a.Value(i)
		case *array.Boolean:
			v = a.Value(i)
		case *array.Date32:
			v = a.Value(i)
		case *array.Time64:
			v = a.Value(i)
		}
		dst = append(dst, v)
	}
	return dst
}

// LatestRows returns the newest row of every series of the table (rows
// within the TTL only), one row per series, with the table's columns. The
// first call scans the table; later ones read the cache writes keep. It
// returns ErrNoLatest for a table without tsid or with too many series.
func (t *Table) LatestRows(ctx context.Context) (arrow.RecordBatch, error) {
	s := t.Schema()
	if s.TsidIndex < 0 {
		return nil, ErrNoLatest
	}
	c := &t.latest
	c.mu.Lock()
	switch c.state {
	case latestOff:
		c.state, c.rows, c.ready = latestBuilding, map[uint64]*latestRow{}, make(chan struct{})
		c.mu.Unlock()
		err := t.buildLatest(ctx)
		c.mu.Lock()
		c.err = err
		if err != nil {
			c.state, c.rows = latestOff, nil
		} else if c.state == latestBuilding {
			c.state = latestReady
		}
		close(c.ready)
	case latestBuilding:
		ready := c.ready
		c.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return t.LatestRows(ctx)
	}
	defer c.mu.Unlock()
	if c.state == latestDisabled {
		return nil, ErrNoLatest
	}
	if c.state != latestReady {
		return nil, fmt.Errorf("engine: latest rows of %s: %w", t.Name(), c.err)
	}
	return t.latestRecord(s)
}

// buildLatest scans the table once into the cache; writes meanwhile add
// theirs (the newer row wins whatever the order).
func (t *Table) buildLatest(ctx context.Context) error {
	st, _, err := t.Scan(ctx, ScanRequest{})
	if err != nil {
		return err
	}
	defer st.Close()
	for {
		rec, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		t.latest.mu.Lock()
		if t.latest.state == latestBuilding {
			t.latest.observeLocked(t.Schema(), rec, false)
		}
		done := t.latest.state == latestDisabled
		t.latest.mu.Unlock()
		rec.Release()
		if done {
			return nil
		}
	}
}

// latestRecord builds the answer from the cache; the caller holds mu.
func (t *Table) latestRecord(s *schema.Schema) (arrow.RecordBatch, error) {
	var cutoff int64 = -1 << 63
	if o := t.Options(); o.EnableTTL && o.TTL > 0 {
		cutoff = t.e.o.Now().Add(-o.TTL).UnixMilli()
	}
	b := array.NewRecordBuilder(t.e.o.Mem, s.ArrowSchema())
	defer b.Release()
	for _, r := range t.latest.rows {
		if r.ts < cutoff {
			continue
		}
		for i := range s.Columns {
			fb := b.Field(i)
			if i >= len(r.vals) || r.vals[i] == nil {
				fb.AppendNull()
				continue
			}
			if err := appendAny(fb, r.vals[i]); err != nil {
				return nil, fmt.Errorf("engine: latest rows of %s, column %s: %w", t.Name(), s.Columns[i].Name, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}

// appendAny appends a value rowValues produced.
func appendAny(b array.Builder, v any) error {
	var ok bool
	switch fb := b.(type) {
	case *array.StringBuilder:
		var s string
		s, ok = v.(string)
		fb.Append(s)
	case *array.BinaryBuilder:
		var x []byte
		x, ok = v.([]byte)
		fb.Append(x)
	case *array.TimestampBuilder:
		var x int64
		x, ok = v.(int64)
		fb.Append(arrow.Timestamp(x))
	case *array.Float64Builder:
		var x float64
		x, ok = v.(float64)
		fb.Append(x)
	case *array.Float32Builder:
		var x float32
		x, ok = v.(float32)
		fb.Append(x)
	case *array.Int64Builder:
		var x int64
		x, ok = v.(int64)
		fb.Append(x)
	case *array.Int32Builder:
		var x int32
		x, ok = v.(int32)
		fb.Append(x)
	case *array.Int16Builder:
		var x int16
		x, ok = v.(int16)
		fb.Append(x)
	case *array.Int8Builder:
		var x int8
		x, ok = v.(int8)
		fb.Append(x)
	case *array.Uint64Builder:
		var x uint64
		x, ok = v.(uint64)
		fb.Append(x)
	case *array.Uint32Builder:
		var x uint32
		x, ok = v.(uint32)
		fb.Append(x)
	case *array.Uint16Builder:
		var x uint16
		x, ok = v.(uint16)
		fb.Append(x)
	case *array.Uint8Builder:
		var x uint8
		x, ok = v.(uint8)
		fb.Append(x)
	case *array.BooleanBuilder:
		var x bool
		x, ok = v.(bool)
		fb.Append(x)
	case *array.Date32Builder:
		var x arrow.Date32
		x, ok = v.(arrow.Date32)
		fb.Append(x)
	case *array.Time64Builder:
		var x arrow.Time64
		x, ok = v.(arrow.Time64)
		fb.Append(x)
	default:
		return fmt.Errorf("unsupported column type %s", b.Type())
	}
	if !ok {
		return fmt.Errorf("cached value %v (%T) does not fit %s", v, v, b.Type())
	}
	return nil
}
