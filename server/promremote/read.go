package promremote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/prometheus/prometheus/prompb"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/promql"
)

// Labels with a meaning of their own in a Prometheus remote-read query.
const (
	// LabelMetricName selects the table (an equality matcher, required);
	// in a remote write it names the table the series goes to.
	LabelMetricName = "__name__"
	// LabelField selects the field column the samples come from (an
	// equality matcher); default DefaultField. A remote write refuses a
	// series with this label.
	LabelField = "__horaedb_field__"
	// DefaultField is the field column read when LabelField is absent,
	// the column remote write fills.
	DefaultField = "value"
)

// Querier runs one SQL statement and tells the schema of a table (Read
// plans by columns); *query.Executor implements it. For a query the
// Result yields its batches as they are produced (Result.Next); the caller
// releases the Result.
type Querier interface {
	ExecuteStream(ctx context.Context, sess query.Session, sql string) (*query.Result, error)
	// TableSchema returns engine.ErrTableNotFound for a missing table.
	TableSchema(database, table string) (*schema.Schema, error)
}

// Read answers a Prometheus remote-read query (upstream's
// query_frontend promql/remote.rs) with one SQL statement run by x, so the
// engine prunes by time range and tags. The HTTP endpoints (Handler.Read)
// and the gRPC storage API's PromRemoteQuery (server/grpcapi) share it.
//
//   - The equality matcher on __name__ names the table; __horaedb_field__
//     the field column (default "value"). Other matchers are on TAG
//     columns: Eq, Neq, Re and Nre, regular expressions anchored as
//     ^(?:re)$ (RE2 syntax, as Prometheus's). As in Prometheus, a null tag,
//     or a label the table has no tag column for, has the value "".
//   - The time range is [start, end] in ms, which is upstream's
//     [start, end+1).
//   - Each series (a tsid) carries __name__ and every tag of the table,
//     null tags as "", sorted by name; series come ordered by tsid and
//     samples by timestamp. A table without tsid (an explicit primary key)
//     forms series by tag values, ordered by their labels.
//   - A missing table answers no series, as Prometheus expects of an
//     unknown metric. Rows whose field is null are left out.
//
// Errors wrap ErrBadRequest for queries that cannot be answered as asked.
func Read(ctx context.Context, x Querier, sess query.Session, q *prompb.Query) (*prompb.QueryResult, error) {
	pq, err := parsePromQuery(q)
	if err != nil {
		return nil, err
	}
	if sess.Database == "" {
		sess.Database = query.DefaultDatabase
	}
	sch, err := x.TableSchema(sess.Database, pq.table)
	if errors.Is(err, engine.ErrTableNotFound) {
		return &prompb.QueryResult{}, nil
	}
	if err != nil {
		return nil, err
	}
	t := promTableOf(sch)
	sql, ok := pq.sql(t)
	if !ok {
		return &prompb.QueryResult{}, nil
	}
	res, err := x.ExecuteStream(ctx, sess, sql)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	b := newSeriesBuilder(pq, t)
	for {
		rec, err := res.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		err = b.add(rec)
		rec.Release()
		if err != nil {
			return nil, err
		}
	}
	return b.result(), nil
}

// promQuery is a remote-read query taken apart.
type promQuery struct {
	table, field string
	start, end   int64 // ms, inclusive
	matchers     []promMatcher
}

type promMatcher struct {
	name, value string
	typ         prompb.LabelMatcher_Type
	re          *regexp.Regexp // Re, Nre
	inGo        bool           // applied to the rows, not in SQL
}

func (m *promMatcher) matches(v string) bool {
	switch m.typ {
	case prompb.LabelMatcher_EQ:
		return v == m.value
	case prompb.LabelMatcher_NEQ:
		return v != m.value
	case prompb.LabelMatcher_RE:
		return m.re.MatchString(v)
	default: // NRE
		return !m.re.MatchString(v)
	}
}

// parsePromQuery checks the matchers and picks out the table and field.
func parsePromQuery(q *prompb.Query) (promQuery, error) {
	pq := promQuery{field: DefaultField, start: q.StartTimestampMs, end: q.EndTimestampMs}
	bad := func(format string, args ...any) (promQuery, error) {
		return promQuery{}, fmt.Errorf("%w: "+format, append([]any{ErrBadRequest}, args...)...)
	}
	for _, m := range q.Matchers {
		if m == nil {
			continue
		}
		switch m.Name {
		case LabelMetricName, LabelField:
			if m.Type != prompb.LabelMatcher_EQ || m.Value == "" {
				return bad("the %s matcher must be an equality with a value (%s)", m.Name, m.Type)
			}
			if m.Name == LabelMetricName {
				pq.table = m.Value
			} else {
				pq.field = m.Value
			}
			continue
		}
		pm := promMatcher{name: m.Name, value: m.Value, typ: m.Type}
		switch m.Type {
		case prompb.LabelMatcher_EQ, prompb.LabelMatcher_NEQ:
		case prompb.LabelMatcher_RE, prompb.LabelMatcher_NRE:
			re, err := regexp.Compile("^(?:" + m.Value + ")$")
			if err != nil {
				return bad("label %s: %v", m.Name, err)
			}
			pm.re = re
		default:
			return bad("label %s: unknown matcher type %d", m.Name, m.Type)
		}
		pq.matchers = append(pq.matchers, pm)
	}
	if pq.table == "" {
		return bad("no %s matcher: it names the table", LabelMetricName)
	}
	return pq, nil
}

// promTable is what a query needs of a table's schema.
type promTable struct {
	tsid      bool
	timestamp string
	tags      []promColumn // sorted by name
}

type promColumn struct {
	name string
	kind schema.Kind
}

// promTableOf picks what a query needs out of a table's schema.
func promTableOf(sch *schema.Schema) promTable {
	t := promTable{timestamp: sch.Timestamp().Name}
	if i := sch.Index(schema.TsidColumn); i >= 0 && sch.IsKey(i) {
		t.tsid = true
	}
	for _, c := range sch.Columns {
		if c.IsTag {
			t.tags = append(t.tags, promColumn{c.Name, c.Kind})
		}
	}
	sort.Slice(t.tags, func(i, j int) bool { return t.tags[i].name < t.tags[j].name })
	return t
}

// sql is the statement that reads the samples of pq from t: the rows in
// the time range that pass the matchers on string tags, a NULL tag
// matching as "". Matchers on tags of other types are marked to be
// applied to the rows (inGo). ok is false when no row can match: a matcher
// on a label t has no tag for rejects "".
func (pq *promQuery) sql(t promTable) (sql string, ok bool) {
	var b strings.Builder
	b.WriteString("SELECT ")
	if t.tsid {
		b.WriteString(quoteIdent(schema.TsidColumn) + ", ")
	}
	b.WriteString(quoteIdent(t.timestamp) + ", " + quoteIdent(pq.field))
	for _, c := range t.tags {
		b.WriteString(", " + quoteIdent(c.name))
	}
	fmt.Fprintf(&b, " FROM %s WHERE %s >= %d AND %s <= %d", quoteIdent(pq.table),
		quoteIdent(t.timestamp), pq.start, quoteIdent(t.timestamp), pq.end)
	for i := range pq.matchers {
		m := &pq.matchers[i]
		c, found := t.tag(m.name)
		switch {
		case !found:
			if !m.matches("") {
				return "", false
			}
		case c.kind != schema.String:
			m.inGo = true
		default:
			b.WriteString(" AND " + m.condition())
		}
	}
	b.WriteString(" ORDER BY ")
	if t.tsid {
		b.WriteString(quoteIdent(schema.TsidColumn) + ", ")
	}
	b.WriteString(quoteIdent(t.timestamp))
	return b.String(), true
}

// condition is the SQL of a matcher on a string tag: its test of the
// value, and of NULL as "".
func (m *promMatcher) condition() string {
	col := quoteIdent(m.name)
	var test string
	switch m.typ {
	case prompb.LabelMatcher_EQ:
		test = col + " = " + quoteString(m.value)
	case prompb.LabelMatcher_NEQ:
		test = col + " <> " + quoteString(m.value)
	case prompb.LabelMatcher_RE:
		test = "regexp_like(" + col + ", " + quoteString(m.re.String()) + ")"
	default: // NRE
		test = "NOT regexp_like(" + col + ", " + quoteString(m.re.String()) + ")"
	}
	if m.matches("") {
		return "(" + col + " IS NULL OR " + test + ")"
	}
	return test // false for NULL too
}

func (t *promTable) tag(name string) (promColumn, bool) {
	for _, c := range t.tags {
		if c.name == name {
			return c, true
		}
	}
	return promColumn{}, false
}

// seriesBuilder gathers the rows of the statement of promQuery.sql into
// series.
type seriesBuilder struct {
	pq       promQuery
	t        promTable
	matchers [][]*promMatcher // per tag of t, the matchers on it applied here
	series   []*prompb.TimeSeries
	byKey    map[string]*prompb.TimeSeries
	last     *prompb.TimeSeries
	lastTsid uint64
	values   []string // scratch: the tag values of a row
}

func newSeriesBuilder(pq promQuery, t promTable) *seriesBuilder {
	b := &seriesBuilder{pq: pq, t: t, matchers: make([][]*promMatcher, len(t.tags)),
		byKey: map[string]*prompb.TimeSeries{}, values: make([]string, len(t.tags))}
	for i := range pq.matchers {
		m := &pq.matchers[i]
		for j, c := range t.tags {
			if c.name == m.name && m.inGo {
				b.matchers[j] = append(b.matchers[j], m)
			}
		}
	}
	return b
}

// add takes the rows of one batch.
func (b *seriesBuilder) add(rec arrow.RecordBatch) error {
	col := 0
	var tsid *array.Uint64
	if b.t.tsid {
		var ok bool
		if tsid, ok = rec.Column(0).(*array.Uint64); !ok {
			return fmt.Errorf("promremote: tsid is %s", rec.Column(0).DataType())
		}
		col++
	}
	ts, ok := rec.Column(col).(*array.Timestamp)
	if !ok {
		return fmt.Errorf("promremote: timestamp column is %s", rec.Column(col).DataType())
	}
	value, err := sampleValues(rec.Column(col+1), b.pq.field)
	if err != nil {
		return err
	}
	tags := rec.Columns()[col+2:]
rows:
	for i := range int(rec.NumRows()) {
		v, ok := value(i)
		if !ok {
			continue
		}
		for j, c := range tags {
			s := ""
			if c.IsValid(i) {
				if str, ok := c.(*array.String); ok {
					s = str.Value(i)
				} else {
					s = c.ValueStr(i)
				}
			}
			for _, m := range b.matchers[j] {
				if !m.matches(s) {
					continue rows
				}
			}
			b.values[j] = s
		}
		s := b.seriesOf(tsid, i)
		s.Samples = append(s.Samples, prompb.Sample{Value: v, Timestamp: int64(ts.Value(i))})
	}
	return nil
}

// seriesOf returns the series of row i, whose tag values are in b.values.
func (b *seriesBuilder) seriesOf(tsid *array.Uint64, i int) *prompb.TimeSeries {
	var key string
	if tsid != nil {
		// Rows come ordered by tsid: a series is contiguous.
		id := tsid.Value(i)
		if b.last != nil && id == b.lastTsid {
			return b.last
		}
		b.lastTsid = id
	} else {
		var k []byte
		for _, v := range b.values {
			k = strconv.AppendInt(k, int64(len(v)), 10)
			k = append(append(k, ':'), v...)
		}
		key = string(k)
		if s, ok := b.byKey[key]; ok {
			return s
		}
	}
	labels := make([]prompb.Label, 0, len(b.values)+1)
	labels = append(labels, prompb.Label{Name: LabelMetricName, Value: b.pq.table})
	for j, c := range b.t.tags {
		labels = append(labels, prompb.Label{Name: c.name, Value: b.values[j]})
	}
	sort.Slice(labels, func(i, j int) bool { return labels[i].Name < labels[j].Name })
	s := &prompb.TimeSeries{Labels: labels}
	b.series = append(b.series, s)
	b.last = s
	if tsid == nil {
		b.byKey[key] = s
	}
	return s
}

func (b *seriesBuilder) result() *prompb.QueryResult {
	if !b.t.tsid {
		sort.SliceStable(b.series, func(i, j int) bool {
			return labelsLess(b.series[i].Labels, b.series[j].Labels)
		})
	}
	return &prompb.QueryResult{Timeseries: b.series}
}

func labelsLess(a, b []prompb.Label) bool {
	for i := range min(len(a), len(b)) {
		if a[i].Value != b[i].Value {
			return a[i].Value < b[i].Value
		}
	}
	return len(a) < len(b)
}

// sampleValues returns the values of a field column as float64; ok is
// false for a null.
func sampleValues(c arrow.Array, field string) (func(int) (float64, bool), error) {
	get, ok := promql.Floats(c)
	if !ok {
		return nil, fmt.Errorf("%w: field %s is of type %s, which is not a number", ErrBadRequest, field, c.DataType())
	}
	return get, nil
}

// quoteIdent quotes an identifier for our SQL dialect: `name`, with `
// doubled.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// quoteString quotes a string literal: '...', with ' doubled and
// backslashes escaped (the dialect takes MySQL's backslash escapes).
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}
