package promql

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// series is one series read from a table: its labels and its samples,
// ordered by timestamp once finish has run. It is the storage.Samples of
// its iterator.
type series struct {
	lset    labels.Labels
	samples []fsample
}

// Labels implements storage.Series.
func (s *series) Labels() labels.Labels { return s.lset }

// Iterator implements storage.Series.
func (s *series) Iterator(chunkenc.Iterator) chunkenc.Iterator {
	return storage.NewListSeriesIterator(s)
}

// Get implements storage.Samples.
func (s *series) Get(i int) chunks.Sample { return &s.samples[i] }

// Len implements storage.Samples.
func (s *series) Len() int { return len(s.samples) }

// finish orders the samples by timestamp and keeps the last of samples
// with equal timestamps (an APPEND table may hold several).
func (s *series) finish() {
	// The samples come as a few ascending runs (one per scan partition).
	var runs []int // the start of every run but the first
	for i := 1; i < len(s.samples); i++ {
		if s.samples[i].t <= s.samples[i-1].t {
			runs = append(runs, i)
		}
	}
	if len(runs) == 0 {
		return
	}
	if len(runs) <= 16 {
		s.samples = mergeRuns(s.samples, runs)
	} else {
		slices.SortStableFunc(s.samples, func(a, b fsample) int { return cmp.Compare(a.t, b.t) })
	}
	out := s.samples[:0]
	for _, x := range s.samples {
		if n := len(out); n > 0 && out[n-1].t == x.t {
			out[n-1] = x
			continue
		}
		out = append(out, x)
	}
	s.samples = out
}

// mergeRuns sorts samples made of ascending runs starting at 0 and at
// starts, merging runs pairwise; of equal timestamps the earlier run's
// sample comes first.
func mergeRuns(samples []fsample, starts []int) []fsample {
	bounds := append(append([]int{0}, starts...), len(samples))
	buf := make([]fsample, len(samples))
	for len(bounds) > 2 {
		next := bounds[:1:1]
		for i := 0; i+1 < len(bounds); i += 2 {
			lo, mid := bounds[i], bounds[i+1]
			if i+2 >= len(bounds) { // an odd run out: copied as it is
				copy(buf[lo:mid], samples[lo:mid])
				next = append(next, mid)
				continue
			}
			hi := bounds[i+2]
			a, b, k := lo, mid, lo
			for a < mid && b < hi {
				if samples[b].t < samples[a].t {
					buf[k] = samples[b]
					b++
				} else {
					buf[k] = samples[a]
					a++
				}
				k++
			}
			k += copy(buf[k:], samples[a:mid])
			copy(buf[k:], samples[b:hi])
			next = append(next, hi)
		}
		bounds = next
		samples, buf = buf, samples
	}
	return samples
}

// fsample is a float sample; *fsample is a chunks.Sample.
type fsample struct {
	t int64
	f float64
}

func (s *fsample) T() int64                      { return s.t }
func (s *fsample) ST() int64                     { return 0 }
func (s *fsample) F() float64                    { return s.f }
func (s *fsample) H() *histogram.Histogram       { return nil }
func (s *fsample) FH() *histogram.FloatHistogram { return nil }
func (s *fsample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s *fsample) Copy() chunks.Sample           { c := *s; return &c }

// seriesSet is a storage.SeriesSet over series gathered in memory.
type seriesSet struct {
	series []storage.Series
	i      int
}

func newSeriesSet(ss []storage.Series) *seriesSet {
	slices.SortFunc(ss, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	return &seriesSet{series: ss, i: -1}
}

func (s *seriesSet) Next() bool {
	if s.i < len(s.series) {
		s.i++
	}
	return s.i < len(s.series)
}

func (s *seriesSet) At() storage.Series                { return s.series[s.i] }
func (s *seriesSet) Err() error                        { return nil }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }

// labelsOnly is a series of a metadata query (/api/v1/series): labels,
// no samples.
type labelsOnly struct{ lset labels.Labels }

func (s labelsOnly) Labels() labels.Labels { return s.lset }

func (s labelsOnly) Iterator(chunkenc.Iterator) chunkenc.Iterator { return chunkenc.NewNopIterator() }

// builder gathers the rows of selector.samplesSQL into series. A series
// is a label set: rows of tsids whose labels come out equal (a NULL tag
// and an empty one) form one series.
type builder struct {
	sel      *selector
	t        *table
	byTsid   map[uint64]*series       // nil entry: the tsid's labels fail a matcher
	byKey    map[string]*series       // tables without tsid: by tag values
	byLabels map[string]*series       // by labels.Labels.Bytes
	seen     map[uint64]labels.Labels // the labels of every tsid read
	out      []*series
	lb       labels.ScratchBuilder
	values   []string // scratch: a row's tag values
	buf      []byte   // scratch: a row's key
	lbuf     []byte   // scratch: a label set's key
}

func newBuilder(sel *selector, t *table) *builder {
	return &builder{sel: sel, t: t, byTsid: map[uint64]*series{}, byKey: map[string]*series{},
		byLabels: map[string]*series{}, seen: map[uint64]labels.Labels{}, lb: labels.NewScratchBuilder(len(t.tags) + 1),
		values: make([]string, len(t.tags))}
}

// add takes the rows of one batch.
func (b *builder) add(rec arrow.RecordBatch) error {
	col := 0
	var tsid *array.Uint64
	if b.t.tsid {
		var ok bool
		if tsid, ok = rec.Column(0).(*array.Uint64); !ok {
			return fmt.Errorf("promql: tsid is %s", rec.Column(0).DataType())
		}
		col++
	}
	ts, ok := rec.Column(col).(*array.Timestamp)
	if !ok {
		return fmt.Errorf("promql: timestamp column is %s", rec.Column(col).DataType())
	}
	value, err := floats(rec.Column(col+1), b.t.field)
	if err != nil {
		return err
	}
	tags := rec.Columns()[col+2:]
	var last *series
	var lastTsid uint64
	for i := range int(rec.NumRows()) {
		v, ok := value(i)
		if !ok {
			continue
		}
		var s *series
		if tsid != nil {
			id := tsid.Value(i)
			if last != nil && id == lastTsid {
				s = last
			} else if s, ok = b.byTsid[id]; !ok {
				var lset labels.Labels
				s, lset = b.seriesOf(tags, i)
				b.byTsid[id] = s
				b.seen[id] = lset
			}
			last, lastTsid = s, id
		} else {
			b.readTags(tags, i)
			b.buf = b.buf[:0]
			for _, v := range b.values {
				b.buf = strconv.AppendInt(b.buf, int64(len(v)), 10)
				b.buf = append(append(b.buf, ':'), v...)
			}
			if s, ok = b.byKey[string(b.buf)]; !ok {
				key := string(b.buf)
				s, _ = b.seriesOf(tags, i)
				b.byKey[key] = s
			}
		}
		if s == nil {
			continue
		}
		s.samples = append(s.samples, fsample{int64(ts.Value(i)), v})
	}
	return nil
}

// addByTsid takes the rows of one batch of selector.samplesSQL without
// tags (tsid, timestamp, field): samples gather by tsid until labelled.
func (b *builder) addByTsid(rec arrow.RecordBatch, byTsid map[uint64]*series) error {
	tsid, ok := rec.Column(0).(*array.Uint64)
	if !ok {
		return fmt.Errorf("promql: tsid is %s", rec.Column(0).DataType())
	}
	ts, ok := rec.Column(1).(*array.Timestamp)
	if !ok {
		return fmt.Errorf("promql: timestamp column is %s", rec.Column(1).DataType())
	}
	value, err := floats(rec.Column(2), b.t.field)
	if err != nil {
		return err
	}
	var last *series
	var lastTsid uint64
	for i := range int(rec.NumRows()) {
		v, ok := value(i)
		if !ok {
			continue
		}
		if id := tsid.Value(i); last == nil || id != lastTsid {
			if last = byTsid[id]; last == nil {
				last = &series{}
				byTsid[id] = last
			}
			lastTsid = id
		}
		last.samples = append(last.samples, fsample{int64(ts.Value(i)), v})
	}
	return nil
}

func (b *builder) readTags(tags []arrow.Array, i int) {
	for j, c := range tags {
		b.values[j] = tagValue(c, i)
	}
}

// seriesOf returns the labels of row i and their series, nil when the
// labels fail a matcher.
func (b *builder) seriesOf(tags []arrow.Array, i int) (*series, labels.Labels) {
	b.readTags(tags, i)
	lset := b.labels(b.values)
	return b.seriesWith(lset), lset
}

// seriesWith returns the series of a label set, nil when it fails a
// matcher.
func (b *builder) seriesWith(lset labels.Labels) *series {
	if !matchAll(b.sel.tags, lset) {
		return nil
	}
	b.lbuf = lset.Bytes(b.lbuf[:0])
	key := string(b.lbuf)
	if s, ok := b.byLabels[key]; ok {
		return s
	}
	s := &series{lset: lset}
	b.byLabels[key] = s
	b.out = append(b.out, s)
	return s
}

// labels builds the label set of tag values (in t.tags order): __name__
// and the tags with a value.
func (b *builder) labels(values []string) labels.Labels {
	b.lb.Reset()
	b.lb.Add(LabelMetricName, b.t.name)
	for j, c := range b.t.tags {
		if values[j] != "" {
			b.lb.Add(c.name, values[j])
		}
	}
	b.lb.Sort()
	return b.lb.Labels()
}

// result returns the series, each with its samples in order.
func (b *builder) result() []*series {
	for _, s := range b.out {
		s.finish()
	}
	return b.out
}

// matchAll tells whether a label set passes every matcher (an absent label
// has the value "").
func matchAll(ms []*labels.Matcher, lset labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// tagValue is the value of a tag in row i as a label value: "" for NULL.
func tagValue(c arrow.Array, i int) string {
	if c.IsNull(i) {
		return ""
	}
	if s, ok := c.(*array.String); ok {
		return s.Value(i)
	}
	return c.ValueStr(i)
}

// floats returns the values of a field column as float64; ok is false for
// a null.
func floats(c arrow.Array, field string) (func(int) (float64, bool), error) {
	get, ok := Floats(c)
	if !ok {
		return nil, fmt.Errorf("%w: field %s is of type %s, which is not a number", ErrInvalid, field, c.DataType())
	}
	return get, nil
}

// Floats returns a numeric column's values as float64 (booleans as 0 and
// 1); the second result of the function is false for a null. ok is false
// when the column is not numeric. Prometheus remote read shares it.
func Floats(c arrow.Array) (get func(int) (float64, bool), ok bool) {
	num := func(get func(int) float64) func(int) (float64, bool) {
		if c.NullN() == 0 {
			return func(i int) (float64, bool) { return get(i), true }
		}
		return func(i int) (float64, bool) {
			if c.IsNull(i) {
				return 0, false
			}
			return get(i), true
		}
	}
	switch a := c.(type) {
	case *array.Float64:
		return num(a.Value), true
	case *array.Float32:
		return num(func(i int) float64 { return float64(a.Value(i)) }), true
	case *array.Int64:
		return num(func(i int) float64 { return float64(a.Value(i)) }), true
	case *array.Int32:
		return num(func(i int) float64 { return float64(a.Value(i)) }), true
	case *array.Int16:
		return num(func(i int) float64 { return float64(a.Value(i)) }), true
	case *array.Int8:
		return num(func(i int) float64 { return float64(a.Value(i)) }), true
	case *array.Uint64:
		return num(func(i int) float64 { return float64(a.Value(i)) }), true
	case *array.Uint32:
		return num(func(i int) float64 { return float64(a.Value(i)) }), true
	case *array.Uint16:
		return num(func(i int) float64 { return float64(a.Value(i)) }), true
	case *array.Uint8:
		return num(func(i int) float64 { return float64(a.Value(i)) }), true
	case *array.Boolean:
		return num(func(i int) float64 {
			if a.Value(i) {
				return 1
			}
			return 0
		}), true
	}
	return nil, false
}
