package opentsdb

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/internal/jsonenc"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/internal/ingest"
)

// Query is POST /opentsdb/api/query: OpenTSDB's query JSON in, its
// answer out:
//
//	[{"metric":"sys.cpu","tags":{"host":"a"},"aggregateTags":["dc"],
//	  "aggregatedTags":["dc"],"dps":{"1700000000":1.5}}]
//
// dps keys are seconds, or milliseconds with "msResolution". The
// aggregated tags are under OpenTSDB's key and upstream HoraeDB's.
// An unknown metric is 400 "No such name for 'metrics': '<name>'", as
// OpenTSDB answers.
func (h *Handler) Query(w http.ResponseWriter, r *http.Request) {
	body, err := ingest.ReadBody(w, r, h.o.MaxBodySize)
	if err != nil {
		h.fail(w, err)
		return
	}
	q, err := ParseQuery(body, h.o.Now())
	if err != nil {
		h.fail(w, err)
		return
	}
	db := h.o.Database(r)
	var out []byte
	out = append(out, '[')
	first := true
	for i := range q.Subs {
		groups, err := h.runSub(r.Context(), db, q, &q.Subs[i])
		if err != nil {
			h.fail(w, err)
			return
		}
		for _, g := range groups {
			if !first {
				out = append(out, ',')
			}
			first = false
			out = appendGroup(out, g, q.MsResolution)
		}
	}
	out = append(out, "]\n"...)
	writeJSON(w, http.StatusOK, out)
}

// runSub answers one sub-query.
func (h *Handler) runSub(ctx context.Context, db string, q *Query, s *Sub) ([]*group, error) {
	sch, err := h.o.Executor.TableSchema(db, s.Metric)
	if errors.Is(err, engine.ErrTableNotFound) {
		return nil, badf("No such name for 'metrics': '%s'", s.Metric)
	}
	if err != nil {
		return nil, err
	}
	t, err := tableOf(s.Metric, sch)
	if err != nil {
		return nil, err
	}
	p, err := planSub(s, t, q.Start, q.End)
	if err != nil {
		return nil, err
	}
	if p.empty {
		return nil, nil
	}
	res, err := h.o.Executor.Execute(ctx, query.Session{Database: db}, p.sql)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	if p.fast {
		return readFast(ctx, res, s, t, p, q.Start)
	}
	ss, err := readSeries(ctx, res, t, p, q.Start)
	if err != nil {
		return nil, err
	}
	return process(s, t, p, ss, q.Start, q.End)
}

// readSeries reads per-series rows: (timestamp or bucket, tags..., value
// [, count]).
func readSeries(ctx context.Context, res *query.Result, t *table, p *plan, start int64) ([]*series, error) {
	byKey := map[string]*series{}
	var order []*series
	nt := len(t.tags)
	vals, has := make([]string, nt), make([]bool, nt)
	err := eachBatch(ctx, res, func(rec arrow.RecordBatch) {
		c0 := 0
		if p.bucketed {
			c0 = 1
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			if p.counted { // a group without rows (no GROUP BY): no point
				if cnt, _ := number(rec.Column(int(rec.NumCols())-1), r); cnt == 0 {
					continue
				}
			}
			v, ok := number(rec.Column(c0+nt), r)
			if !ok {
				continue
			}
			ts := start
			if p.bucketed {
				ts, _ = timestamp(rec.Column(0), r)
			}
			for c := 0; c < nt; c++ {
				vals[c], has[c] = str(rec.Column(c0+c), r)
			}
			key := seriesKey(vals, has)
			s := byKey[key]
			if s == nil {
				s = &series{vals: slices.Clone(vals), has: slices.Clone(has)}
				byKey[key] = s
				order = append(order, s)
			}
			s.pts = append(s.pts, point{ts, v})
		}
	})
	for _, s := range order {
		slices.SortFunc(s.pts, func(a, b point) int { return cmpInt(a.ts, b.ts) })
	}
	return order, err
}

// process fills, rates, groups and aggregates series.
func process(s *Sub, t *table, p *plan, ss []*series, start, end int64) ([]*group, error) {
	if err := fillSeries(ss, s.Downsample, start, end); err != nil {
		return nil, err
	}
	if s.Rate {
		for _, x := range ss {
			x.pts = rate(x.pts, s.RateOptions)
		}
	}
	fill := FillNone
	if s.Downsample != nil {
		fill = s.Downsample.Fill
	}
	// Series by group: the values of the group-by tags, or each its own
	// with the none aggregator.
	gidx := make([]int, len(p.groupBy))
	for i, name := range p.groupBy {
		gidx[i], _ = slices.BinarySearch(t.tags, name)
	}
	members := map[string][]*series{}
	var keys []string
	for _, x := range ss {
		var key string
		if s.Agg == "none" {
			key = seriesKey(x.vals, x.has)
		} else {
			gv, gh := make([]string, len(gidx)), make([]bool, len(gidx))
			for i, c := range gidx {
				gv[i], gh[i] = x.vals[c], x.has[c]
			}
			key = seriesKey(gv, gh)
		}
		if _, ok := members[key]; !ok {
			keys = append(keys, key)
		}
		members[key] = append(members[key], x)
	}
	out := make([]*group, 0, len(keys))
	for _, key := range keys {
		m := members[key]
		g := &group{metric: s.Metric, fill: fill, key: sortKey(m[0], gidx, s.Agg == "none")}
		describe(g, t.tags, m)
		if s.Agg == "none" {
			g.pts = m[0].pts
		} else {
			g.pts = aggregateSeries(s.Agg, m)
		}
		if len(g.pts) == 0 {
			continue
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *group) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// readFast reads rows SQL aggregated across series: (bucket, group-by
// tags..., value, min/max/count per other tag, count(*)).
func readFast(ctx context.Context, res *query.Result, s *Sub, t *table, p *plan, start int64) ([]*group, error) {
	type acc struct {
		gvals    []string
		pts      []point
		min, max []string
		cnt      []int64
		n        int64
	}
	byKey := map[string]*acc{}
	var order []*acc
	ng, no := len(p.groupBy), len(p.others)
	gv, gh := make([]string, ng), make([]bool, ng)
	err := eachBatch(ctx, res, func(rec arrow.RecordBatch) {
		c0 := 0
		if p.bucketed {
			c0 = 1
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			n, _ := number(rec.Column(int(rec.NumCols())-1), r)
			if n == 0 {
				continue
			}
			for i := 0; i < ng; i++ {
				gv[i], gh[i] = str(rec.Column(c0+i), r)
			}
			key := seriesKey(gv, gh)
			a := byKey[key]
			if a == nil {
				a = &acc{gvals: slices.Clone(gv), min: make([]string, no), max: make([]string, no), cnt: make([]int64, no)}
				byKey[key] = a
				order = append(order, a)
			}
			a.n += int64(n)
			ts := start
			if p.bucketed {
				ts, _ = timestamp(rec.Column(0), r)
			}
			v, ok := number(rec.Column(c0+ng), r)
			if ok {
				a.pts = append(a.pts, point{ts, v})
			}
			for i := 0; i < no; i++ {
				base := c0 + ng + 1 + 3*i
				c, _ := number(rec.Column(base+2), r)
				if c == 0 {
					continue
				}
				lo, _ := str(rec.Column(base), r)
				hi, _ := str(rec.Column(base+1), r)
				if a.cnt[i] == 0 || lo < a.min[i] {
					a.min[i] = lo
				}
				if a.cnt[i] == 0 || hi > a.max[i] {
					a.max[i] = hi
				}
				a.cnt[i] += int64(c)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]*group, 0, len(order))
	for _, a := range order {
		if len(a.pts) == 0 {
			continue
		}
		g := &group{metric: s.Metric, pts: a.pts, key: strings.Join(a.gvals, "\x00")}
		for i, name := range p.groupBy {
			g.tags = append(g.tags, [2]string{name, a.gvals[i]})
		}
		for i, name := range p.others {
			switch {
			case a.cnt[i] == a.n && a.min[i] == a.max[i]:
				g.tags = append(g.tags, [2]string{name, a.min[i]})
			case a.cnt[i] > 0:
				g.aggTags = append(g.aggTags, name)
			}
		}
		slices.SortFunc(g.tags, func(x, y [2]string) int { return strings.Compare(x[0], y[0]) })
		slices.SortFunc(g.pts, func(x, y point) int { return cmpInt(x.ts, y.ts) })
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *group) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// sortKey orders groups by their group-by tag values (all tag values with
// the none aggregator).
func sortKey(x *series, gidx []int, all bool) string {
	var b strings.Builder
	for i := range x.vals {
		if all || slices.Contains(gidx, i) {
			b.WriteString(x.vals[i])
			b.WriteByte(0)
		}
	}
	return b.String()
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// eachBatch calls fn on every batch of a result.
func eachBatch(ctx context.Context, res *query.Result, fn func(arrow.RecordBatch)) error {
	for {
		rec, err := res.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		fn(rec)
		rec.Release()
	}
}

// number reads a numeric cell; false when null.
func number(a arrow.Array, i int) (float64, bool) {
	if a.IsNull(i) {
		return 0, false
	}
	switch a := a.(type) {
	case *array.Float64:
		return a.Value(i), true
	case *array.Float32:
		return float64(a.Value(i)), true
	case *array.Int64:
		return float64(a.Value(i)), true
	case *array.Uint64:
		return float64(a.Value(i)), true
	case *array.Int32:
		return float64(a.Value(i)), true
	case *array.Uint32:
		return float64(a.Value(i)), true
	}
	v, err := strconv.ParseFloat(a.ValueStr(i), 64)
	return v, err == nil
}

// timestamp reads a timestamp cell in milliseconds.
func timestamp(a arrow.Array, i int) (int64, bool) {
	ts, ok := a.(*array.Timestamp)
	if !ok || ts.IsNull(i) {
		return 0, false
	}
	v := int64(ts.Value(i))
	switch ts.DataType().(*arrow.TimestampType).Unit {
	case arrow.Second:
		v *= 1000
	case arrow.Microsecond:
		v = floorDiv(v, 1000)
	case arrow.Nanosecond:
		v = floorDiv(v, 1_000_000)
	}
	return v, true
}

// str reads a tag cell; false when null.
func str(a arrow.Array, i int) (string, bool) {
	if a.IsNull(i) {
		return "", false
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i), true
	case *array.LargeString:
		return a.Value(i), true
	case *array.Binary:
		return string(a.Value(i)), true
	case *array.Dictionary:
		return str(a.Dictionary(), a.GetValueIndex(i))
	}
	return a.ValueStr(i), true
}

// appendGroup appends one result object.
func appendGroup(dst []byte, g *group, ms bool) []byte {
	dst = append(dst, `{"metric":`...)
	dst = jsonenc.String(dst, g.metric)
	dst = append(dst, `,"tags":{`...)
	for i, t := range g.tags {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonenc.String(dst, t[0])
		dst = append(dst, ':')
		dst = jsonenc.String(dst, t[1])
	}
	dst = append(dst, '}')
	for _, key := range []string{`,"aggregateTags":[`, `,"aggregatedTags":[`} {
		dst = append(dst, key...)
		for i, t := range g.aggTags {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonenc.String(dst, t)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"dps":{`...)
	n := 0
	for i, p := range g.pts {
		key := p.ts
		if !ms {
			key = floorDiv(p.ts, 1000)
			// Seconds: the last point of a second stands for it.
			if i+1 < len(g.pts) && floorDiv(g.pts[i+1].ts, 1000) == key {
				continue
			}
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, key, 10)
		dst = append(dst, `":`...)
		switch {
		case math.IsNaN(p.v) && g.fill == FillNull:
			dst = append(dst, "null"...)
		case math.IsNaN(p.v):
			dst = append(dst, `"NaN"`...)
		default:
			dst = jsonenc.Float(dst, p.v, 64)
		}
	}
	return append(dst, "}}"...)
}
