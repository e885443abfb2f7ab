package promql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/prometheus/prometheus/model/labels"
	pql "github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
)

// queryable is the storage.Queryable of one database.
type queryable struct {
	x     Executor
	db    string
	cache *labelCache // nil: none
}

// Querier implements storage.Queryable.
func (q queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{x: q.x, sess: query.Session{Database: q.db}, r: timeRange{mint, maxt}, cache: q.cache}, nil
}

// querier reads series of one database within a time range.
type querier struct {
	x     Executor
	sess  query.Session
	r     timeRange
	cache *labelCache // nil: none
}

// Close implements storage.Querier.
func (q *querier) Close() error { return nil }

// Select implements storage.Querier: the series of the tables the
// matchers name (every table with the field column when no equality
// matcher on __name__ names one) that pass the matchers, with their
// samples in the hinted time range. Series are always sorted.
func (q *querier) Select(ctx context.Context, _ bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	r := q.r
	metadata := false
	if hints != nil {
		r = timeRange{hints.Start, hints.End}
		metadata = hints.Func == "series"
	}
	sel, err := parseSelector(ms)
	if err != nil {
		return storage.ErrSeriesSet(err)
	}
	tables, err := q.tables(&sel)
	if err != nil {
		return storage.ErrSeriesSet(err)
	}
	var out []storage.Series
	for i := range tables {
		if metadata {
			sets, err := q.seriesLabels(ctx, &sel, &tables[i], r)
			if err != nil {
				return storage.ErrSeriesSet(err)
			}
			for _, lset := range sets {
				out = append(out, labelsOnly{lset})
			}
			continue
		}
		ss, err := q.samples(ctx, &sel, &tables[i], r)
		if err != nil {
			return storage.ErrSeriesSet(err)
		}
		for _, s := range ss {
			if len(s.samples) > 0 {
				out = append(out, s)
			}
		}
	}
	return newSeriesSet(out)
}

// tables returns the tables a selector reads: the one an equality on
// __name__ names (none if it does not exist; an error if it lacks the
// field), or every table whose name passes the __name__ matchers and that
// has the field.
func (q *querier) tables(sel *selector) ([]table, error) {
	if name := sel.exactTable(); name != "" {
		if !sel.matchesTable(name) {
			return nil, nil
		}
		sch, err := q.x.TableSchema(q.sess.Database, name)
		if errors.Is(err, engine.ErrTableNotFound) {
			return nil, nil // an unknown metric has no series
		}
		if err != nil {
			return nil, storageError(err)
		}
		t, err := tableOf(name, sch, sel.field)
		if err != nil {
			return nil, err
		}
		return []table{t}, nil
	}
	var out []table
	for _, name := range q.x.TableNames(q.sess.Database) {
		if !sel.matchesTable(name) {
			continue
		}
		sch, err := q.x.TableSchema(q.sess.Database, name)
		if errors.Is(err, engine.ErrTableNotFound) {
			continue // dropped meanwhile
		}
		if err != nil {
			return nil, storageError(err)
		}
		if t, err := tableOf(name, sch, sel.field); err == nil {
			out = append(out, t)
		}
	}
	return out, nil
}

// maxTsidLookup is the most new tsids a query asks the tags of by tsid;
// with more, it reads the samples again with their tags.
const maxTsidLookup = 1000

// samples reads the series of sel in t with their samples in r. A table
// whose series the label cache knows is read without its tags (see
// labelCache).
func (q *querier) samples(ctx context.Context, sel *selector, t *table, r timeRange) ([]*series, error) {
	if !t.tsid || q.cache == nil {
		return q.samplesWithTags(ctx, sel, t, r, nil)
	}
	key := keyOf(q.sess.Database, t)
	if !q.cache.known(key) {
		return q.samplesWithTags(ctx, sel, t, r, &key)
	}
	sql, ok := sel.samplesSQL(t, r, false)
	if !ok {
		return nil, nil
	}
	b := newBuilder(sel, t)
	byTsid := map[uint64]*series{}
	if err := q.stream(ctx, sql, func(rec arrow.RecordBatch) error { return b.addByTsid(rec, byTsid) }); err != nil {
		return nil, err
	}
	tsids := make([]uint64, 0, len(byTsid))
	for id := range byTsid {
		tsids = append(tsids, id)
	}
	known, missing := q.cache.lookup(key, tsids)
	if len(missing) > maxTsidLookup {
		return q.samplesWithTags(ctx, sel, t, r, &key)
	}
	if len(missing) > 0 {
		found := map[uint64]labels.Labels{}
		err := q.stream(ctx, tagsSQL(t, r, missing), func(rec arrow.RecordBatch) error {
			ids, ok := rec.Column(0).(*array.Uint64)
			if !ok {
				return fmt.Errorf("promql: tsid is %s", rec.Column(0).DataType())
			}
			tags := rec.Columns()[1:]
			for i := range int(rec.NumRows()) {
				for j, c := range tags {
					b.values[j] = tagValue(c, i)
				}
				found[ids.Value(i)] = b.labels(b.values)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		q.cache.add(key, found)
		maps.Copy(known, found)
	}
	for id, s := range byTsid {
		lset, ok := known[id]
		if !ok {
			continue // its rows are gone (TTL, a dropped table) since
		}
		if dst := b.seriesWith(lset); dst != nil {
			if len(dst.samples) == 0 {
				dst.samples = s.samples
			} else {
				dst.samples = append(dst.samples, s.samples...)
			}
		}
	}
	return b.result(), nil
}

// samplesWithTags reads the series of sel in t with their samples in r,
// reading the tags of every row; with a key, it tells the label cache
// the labels of the tsids it read.
func (q *querier) samplesWithTags(ctx context.Context, sel *selector, t *table, r timeRange, key *cacheKey) ([]*series, error) {
	sql, ok := sel.samplesSQL(t, r, true)
	if !ok {
		return nil, nil
	}
	b := newBuilder(sel, t)
	if err := q.stream(ctx, sql, b.add); err != nil {
		return nil, err
	}
	if key != nil {
		q.cache.add(*key, b.seen)
	}
	return b.result(), nil
}

// seriesLabels reads the label sets of the series of sel in t with a
// sample in r, unordered.
func (q *querier) seriesLabels(ctx context.Context, sel *selector, t *table, r timeRange) ([]labels.Labels, error) {
	sql, ok := sel.seriesSQL(t, r, nil)
	if !ok {
		return nil, nil
	}
	b := newBuilder(sel, t)
	var out []labels.Labels
	seen := map[string]bool{}
	err := q.stream(ctx, sql, func(rec arrow.RecordBatch) error {
		tags := rec.Columns()
		if len(t.tags) == 0 {
			tags = nil // the statement read the timestamp
		}
		for i := range int(rec.NumRows()) {
			for j, c := range tags {
				b.values[j] = tagValue(c, i)
			}
			lset := b.labels(b.values)
			if !matchAll(sel.tags, lset) {
				continue
			}
			key := string(lset.Bytes(nil))
			if !seen[key] {
				seen[key] = true
				out = append(out, lset)
			}
		}
		return nil
	})
	return out, err
}

// stream runs a statement and hands each batch of its rows to fn.
func (q *querier) stream(ctx context.Context, sql string, fn func(arrow.RecordBatch) error) error {
	res, err := q.x.ExecuteStream(ctx, q.sess, sql)
	if err != nil {
		return storageError(err)
	}
	defer res.Release()
	for {
		rec, err := res.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return storageError(err)
		}
		err = fn(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
}

// storageError classifies an executor's error for the PromQL engine and
// the HTTP API: a canceled or timed out context as the engine's own
// errors, a client's error as it is (422 "execution"), anything else as
// promql.ErrStorage (500 "internal").
func storageError(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return pql.ErrQueryCanceled(fmt.Sprintf("reading series: %v", err))
	case errors.Is(err, context.DeadlineExceeded):
		return pql.ErrQueryTimeout(fmt.Sprintf("reading series: %v", err))
	case query.IsClientError(err):
		return err
	}
	return pql.ErrStorage{Err: err}
}

// LabelNames implements storage.Querier: without matchers, the tag
// columns of every table the selector {} could read, and __name__; with
// matchers, the labels of the series they select in the querier's time
// range.
func (q *querier) LabelNames(ctx context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	sel, err := parseSelector(ms)
	if err != nil {
		return nil, nil, err
	}
	tables, err := q.tables(&sel)
	if err != nil {
		return nil, nil, err
	}
	names := map[string]bool{}
	for i := range tables {
		t := &tables[i]
		if len(ms) == 0 {
			names[LabelMetricName] = true
			for _, c := range t.tags {
				names[c.name] = true
			}
			continue
		}
		sets, err := q.seriesLabels(ctx, &sel, t, q.r)
		if err != nil {
			return nil, nil, err
		}
		for _, lset := range sets {
			lset.Range(func(l labels.Label) { names[l.Name] = true })
		}
	}
	return sortedKeys(names), nil, nil
}

// LabelValues implements storage.Querier: the values of a label among the
// series the matchers select in the querier's time range. For __name__
// without other matchers, the tables the selector could read.
func (q *querier) LabelValues(ctx context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	sel, err := parseSelector(ms)
	if err != nil {
		return nil, nil, err
	}
	if name == LabelField {
		return nil, nil, nil
	}
	tables, err := q.tables(&sel)
	if err != nil {
		return nil, nil, err
	}
	values := map[string]bool{}
	for i := range tables {
		t := &tables[i]
		if name == LabelMetricName {
			if len(sel.tags) == 0 {
				values[t.name] = true
				continue
			}
			sets, err := q.seriesLabels(ctx, &sel, t, q.r)
			if err != nil {
				return nil, nil, err
			}
			if len(sets) > 0 {
				values[t.name] = true
			}
			continue
		}
		if _, ok := t.tag(name); !ok {
			continue
		}
		if err := q.tagValues(ctx, &sel, t, name, values); err != nil {
			return nil, nil, err
		}
	}
	return sortedKeys(values), nil, nil
}

// tagValues adds the values of tag name among the series of sel in t.
func (q *querier) tagValues(ctx context.Context, sel *selector, t *table, name string, values map[string]bool) error {
	// Matchers the SQL does not apply (on tags that are not strings) are
	// checked here, on the tags they name.
	cols := []string{name}
	var inGo []*labels.Matcher
	for _, m := range sel.tags {
		if c, ok := t.tag(m.Name); ok && c.kind != schema.String {
			inGo = append(inGo, m)
			if !slices.Contains(cols, m.Name) {
				cols = append(cols, m.Name)
			}
		}
	}
	sql, ok := sel.seriesSQL(t, q.r, cols)
	if !ok {
		return nil
	}
	return q.stream(ctx, sql, func(rec arrow.RecordBatch) error {
	rows:
		for i := range int(rec.NumRows()) {
			for _, m := range inGo {
				if !m.Matches(tagValue(rec.Column(slices.Index(cols, m.Name)), i)) {
					continue rows
				}
			}
			if v := tagValue(rec.Column(0), i); v != "" {
				values[v] = true
			}
		}
		return nil
	})
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
