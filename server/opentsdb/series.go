package opentsdb

import (
	"math"
	"slices"
	"strconv"
)

// What SQL leaves to us, on few points (buckets, or the raw points of the
// matching series): fill policies, rates, and OpenTSDB's aggregation
// across the series of a group, which interpolates.
//
// Aggregation across series, as OpenTSDB's AggregationIterator: the
// group's timestamps are the union of its series' timestamps; at each, a
// series with a point there gives its value; a series whose first point
// is later or whose last point is earlier gives nothing; a series in
// between gives, for sum, avg, min, max and dev, the linear interpolation
// of its neighbours (LERP), for zimsum and count a zero (ZIM), and for
// mimmin and mimmax nothing. NaN values (the nan and null fill policies)
// are skipped; a timestamp where nothing is left is NaN (null for the
// null fill policy). With a downsample the series share the bucket grid,
// so interpolation only fills buckets a series lacks inside its span.

// point is one value of a series; NaN marks a bucket filled with nan or
// null.
type point struct {
	ts int64
	v  float64
}

// series is one time series: its tag values (by the table's tag columns;
// ok false where the series has no such tag) and its points.
type series struct {
	vals []string
	has  []bool
	pts  []point
}

// group is one output of a sub-query.
type group struct {
	metric  string
	tags    [][2]string // common to every series of the group, sorted by key
	aggTags []string    // present but not common, sorted
	pts     []point
	fill    FillPolicy
	key     string // the group-by tag values: the order of the answer
}

// maxFilledPoints bounds the points fill policies may create for one
// sub-query.
const maxFilledPoints = 10_000_000

// fillSeries gives every series a value in every bucket of [start, end].
func fillSeries(ss []*series, ds *Downsample, start, end int64) error {
	if ds == nil || ds.Fill == FillNone || ds.Interval == 0 {
		return nil
	}
	first := floorDiv(start, ds.Interval) * ds.Interval
	n := (end-first)/ds.Interval + 1
	if end-first < 0 || n > maxFilledPoints || n*int64(len(ss)) > maxFilledPoints { // end-first < 0: it overflowed
		return badf("downsample %d ms with a fill policy over this range makes %d points per series for %d series; narrow the range or widen the interval",
			ds.Interval, n, len(ss))
	}
	fv := math.NaN()
	if ds.Fill == FillZero {
		fv = 0
	}
	for _, s := range ss {
		out := make([]point, 0, n)
		i := 0
		for k := int64(0); k < n; k++ {
			b := first + k*ds.Interval
			for i < len(s.pts) && s.pts[i].ts < b {
				i++
			}
			if i < len(s.pts) && s.pts[i].ts == b {
				out = append(out, s.pts[i])
				i++
			} else {
				out = append(out, point{b, fv})
			}
		}
		s.pts = out
	}
	return nil
}

// rate turns a series into its rate of change per second, the first point
// dropped, as OpenTSDB's RateSpan: a counter that went down wrapped at
// CounterMax (or reset: dropped with DropResets; 0 when the rate is above
// ResetValue).
func rate(pts []point, o RateOptions) []point {
	out := pts[:0]
	for i := 1; i < len(pts); i++ {
		prev, cur := pts[i-1], pts[i]
		dt := float64(cur.ts-prev.ts) / 1000
		var r float64
		if o.Counter && cur.v < prev.v {
			if o.DropResets {
				continue
			}
			r = (o.CounterMax - prev.v + cur.v) / dt
			if o.ResetValue > 0 && r > o.ResetValue {
				r = 0
			}
		} else {
			r = (cur.v - prev.v) / dt
		}
		out = append(out, point{cur.ts, r})
	}
	return out
}

// interpolation is how a series without a point at a timestamp inside its
// span takes part in an aggregation.
type interpolation int

const (
	lerp interpolation = iota
	zim
	skip
)

func interpolationOf(agg Aggregator) interpolation {
	switch agg {
	case "zimsum", "count":
		return zim
	case "mimmin", "mimmax":
		return skip
	}
	return lerp
}

// aggregate combines vals (NaN-free) with an aggregator; NaN when empty.
func aggregate(agg Aggregator, vals []float64) float64 {
	if len(vals) == 0 {
		return math.NaN()
	}
	switch agg {
	case "count":
		return float64(len(vals))
	case "min", "mimmin":
		return slices.Min(vals)
	case "max", "mimmax":
		return slices.Max(vals)
	case "avg":
		return sum(vals) / float64(len(vals))
	case "dev": // population standard deviation, as OpenTSDB's
		mean := sum(vals) / float64(len(vals))
		var sq float64
		for _, v := range vals {
			sq += (v - mean) * (v - mean)
		}
		return math.Sqrt(sq / float64(len(vals)))
	}
	return sum(vals)
}

func sum(vals []float64) float64 {
	var s float64
	for _, v := range vals {
		s += v
	}
	return s
}

// aggregateSeries merges the series of a group into one.
func aggregateSeries(agg Aggregator, ss []*series) []point {
	if len(ss) == 1 && agg != "count" && agg != "dev" {
		return slices.Clone(ss[0].pts) // one series: its own values
	}
	var ts []int64
	for _, s := range ss {
		for _, p := range s.pts {
			ts = append(ts, p.ts)
		}
	}
	slices.Sort(ts)
	ts = slices.Compact(ts)
	how := interpolationOf(agg)
	pos := make([]int, len(ss)) // per series: the first point at or after the current timestamp
	vals := make([]float64, 0, len(ss))
	out := make([]point, 0, len(ts))
	for _, t := range ts {
		vals = vals[:0]
		for i, s := range ss {
			for pos[i] < len(s.pts) && s.pts[pos[i]].ts < t {
				pos[i]++
			}
			j := pos[i]
			var v float64
			switch {
			case j < len(s.pts) && s.pts[j].ts == t:
				v = s.pts[j].v
			case j == 0 || j == len(s.pts): // outside the series' span
				continue
			case how == zim:
				v = 0
			case how == skip:
				continue
			default:
				a, b := s.pts[j-1], s.pts[j]
				v = a.v + (b.v-a.v)*float64(t-a.ts)/float64(b.ts-a.ts)
			}
			if !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		out = append(out, point{t, aggregate(agg, vals)})
	}
	return out
}

// describe sets a group's tags (the tags every series has with the same
// value) and aggregated tags (the others some series have).
func describe(g *group, tagNames []string, ss []*series) {
	for c, name := range tagNames {
		common, present := true, false
		for _, s := range ss {
			if s.has[c] {
				present = true
			}
			if !s.has[c] || s.vals[c] != ss[0].vals[c] {
				common = false
			}
		}
		switch {
		case common:
			g.tags = append(g.tags, [2]string{name, ss[0].vals[c]})
		case present:
			g.aggTags = append(g.aggTags, name)
		}
	}
}

// seriesKey identifies a set of tag values.
func seriesKey(vals []string, has []bool) string {
	var b []byte
	for i, v := range vals {
		if has[i] {
			b = strconv.AppendInt(b, int64(len(v)), 10)
			b = append(b, ':')
			b = append(b, v...)
		}
		b = append(b, ',')
	}
	return string(b)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
