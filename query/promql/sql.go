package promql

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/horaego/horaedb/engine/schema"
)

// Labels with a meaning of their own in a selector.
const (
	// LabelMetricName names the table.
	LabelMetricName = model.MetricNameLabel
	// LabelField picks the field column the samples come from (an
	// equality matcher); default DefaultField. It is not a label of the
	// series read.
	LabelField = "__horaedb_field__"
	// DefaultField is the field column read without a LabelField matcher,
	// the one Prometheus remote write fills.
	DefaultField = "value"
)

// ErrInvalid wraps selectors that cannot be answered as written: a
// LabelField matcher that is not an equality, a field that is missing or
// not a number. The client's fault.
var ErrInvalid = errors.New("promql: invalid selector")

// table is what a selector needs of a table's schema.
type table struct {
	name      string
	timestamp string
	tsid      bool
	field     string
	tags      []tagColumn // sorted by name
}

type tagColumn struct {
	name string
	kind schema.Kind
}

// tableOf picks what reading field needs out of a table's schema; an
// error (ErrInvalid) when the table has no numeric column of that name.
func tableOf(name string, sch *schema.Schema, field string) (table, error) {
	t := table{name: name, timestamp: sch.Timestamp().Name, field: field}
	i := sch.Index(field)
	if i < 0 || sch.Columns[i].IsTag {
		return table{}, fmt.Errorf("%w: table %s has no field column %q (pick one with a %s matcher)",
			ErrInvalid, name, field, LabelField)
	}
	if !numeric(sch.Columns[i].Kind) {
		return table{}, fmt.Errorf("%w: field %s of table %s is of type %s, which is not a number",
			ErrInvalid, field, name, sch.Columns[i].Kind)
	}
	if j := sch.Index(schema.TsidColumn); j >= 0 && sch.IsKey(j) {
		t.tsid = true
	}
	for _, c := range sch.Columns {
		if c.IsTag && c.Name != LabelMetricName && c.Name != field {
			t.tags = append(t.tags, tagColumn{c.Name, c.Kind})
		}
	}
	sort.Slice(t.tags, func(i, j int) bool { return t.tags[i].name < t.tags[j].name })
	return t, nil
}

func numeric(k schema.Kind) bool {
	return k.IsFloat() || k.IsSigned() || k.IsUnsigned() || k == schema.Boolean
}

func (t *table) tag(name string) (tagColumn, bool) {
	i := sort.Search(len(t.tags), func(i int) bool { return t.tags[i].name >= name })
	if i < len(t.tags) && t.tags[i].name == name {
		return t.tags[i], true
	}
	return tagColumn{}, false
}

// selector is a set of matchers taken apart: the ones that pick tables
// (__name__), the field, and those on the other labels.
type selector struct {
	names []*labels.Matcher // on __name__
	field string
	tags  []*labels.Matcher // on every other label
}

// parseSelector splits matchers; an error (ErrInvalid) for a LabelField
// matcher that is not an equality with a value.
func parseSelector(ms []*labels.Matcher) (selector, error) {
	s := selector{field: DefaultField}
	for _, m := range ms {
		switch {
		case m == nil:
		case m.Name == LabelMetricName:
			s.names = append(s.names, m)
		case m.Name == LabelField:
			if m.Type != labels.MatchEqual || m.Value == "" {
				return selector{}, fmt.Errorf("%w: the %s matcher must be an equality with a value, not %s",
					ErrInvalid, LabelField, m)
			}
			s.field = m.Value
		default:
			s.tags = append(s.tags, m)
		}
	}
	return s, nil
}

// exactTable is the table an equality matcher on __name__ names, "" if
// there is none.
func (s *selector) exactTable() string {
	for _, m := range s.names {
		if m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// matchesTable tells whether the __name__ matchers accept a table name.
func (s *selector) matchesTable(name string) bool {
	for _, m := range s.names {
		if !m.Matches(name) {
			return false
		}
	}
	return true
}

// timeRange is an inclusive range of milliseconds.
type timeRange struct{ start, end int64 }

// where is the WHERE clause of a read of t: the time range and the
// matchers on string tags (a NULL tag is the empty value, as an absent
// label in Prometheus). Matchers on tags of other types are left to the
// caller, which checks every matcher on the labels it builds anyway. ok
// is false when no row can match: a matcher on a label t has no tag for
// that rejects "".
func (s *selector) where(t *table, r timeRange) (string, bool) {
	var b strings.Builder
	ts := quoteIdent(t.timestamp)
	b.WriteString(" WHERE ")
	b.WriteString(ts + " >= " + strconv.FormatInt(r.start, 10))
	b.WriteString(" AND " + ts + " <= " + strconv.FormatInt(r.end, 10))
	for _, m := range s.tags {
		c, found := t.tag(m.Name)
		switch {
		case !found:
			if !m.Matches("") {
				return "", false
			}
		case c.kind == schema.String:
			cond, ok := condition(m)
			if !ok {
				return "", false
			}
			if cond != "" {
				b.WriteString(" AND " + cond)
			}
		}
	}
	return b.String(), true
}

// condition is the SQL test of a matcher on a string tag, "" when it
// accepts every value; ok is false when it accepts none. NULL stands for
// the empty value.
func condition(m *labels.Matcher) (cond string, ok bool) {
	col := quoteIdent(m.Name)
	var test string
	switch m.Type {
	case labels.MatchEqual:
		if m.Value == "" {
			return "(" + col + " IS NULL OR " + col + " = '')", true
		}
		test = col + " = " + quoteString(m.Value)
	case labels.MatchNotEqual:
		test = col + " <> " + quoteString(m.Value)
	case labels.MatchRegexp, labels.MatchNotRegexp:
		re := m.GetRegexString()
		if re == ".*" {
			return "", m.Type == labels.MatchRegexp
		}
		if set := m.SetMatches(); len(set) > 0 {
			test = col + " IN (" + quoteList(set) + ")"
			if m.Type == labels.MatchNotRegexp {
				test = col + " NOT IN (" + quoteList(set) + ")"
			}
			break
		}
		pattern := "^(?s:" + re + ")$"
		if _, err := regexp.Compile(pattern); err != nil {
			// Prometheus took it as a literal (say, of invalid UTF-8)
			// that Go's regexp does not: leave it to the labels check.
			return "", true
		}
		test = "regexp_like(" + col + ", " + quoteString(pattern) + ")"
		if m.Type == labels.MatchNotRegexp {
			test = "NOT " + test
		}
	default:
		return "", true // checked on the labels
	}
	if m.Matches("") {
		return "(" + col + " IS NULL OR " + test + ")", true
	}
	return test, true // NULL fails it too
}

func quoteList(vs []string) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteString(v))
	}
	return b.String()
}

// samplesSQL is the statement that reads the samples of s from t in r:
// tsid (if t has it), the timestamp, the field and, withTags, every tag,
// in that order.
func (s *selector) samplesSQL(t *table, r timeRange, withTags bool) (string, bool) {
	where, ok := s.where(t, r)
	if !ok {
		return "", false
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	if t.tsid {
		b.WriteString(quoteIdent(schema.TsidColumn) + ", ")
	}
	b.WriteString(quoteIdent(t.timestamp) + ", " + quoteIdent(t.field))
	if withTags {
		for _, c := range t.tags {
			b.WriteString(", " + quoteIdent(c.name))
		}
	}
	b.WriteString(" FROM " + quoteIdent(t.name) + where)
	return b.String(), true
}

// tagsSQL is the statement that reads the tags of tsids of t (which have
// rows in r): tsid, then every tag.
func tagsSQL(t *table, r timeRange, tsids []uint64) string {
	var b strings.Builder
	b.WriteString("SELECT DISTINCT " + quoteIdent(schema.TsidColumn))
	for _, c := range t.tags {
		b.WriteString(", " + quoteIdent(c.name))
	}
	ts := quoteIdent(t.timestamp)
	fmt.Fprintf(&b, " FROM %s WHERE %s >= %d AND %s <= %d AND %s IN (", quoteIdent(t.name),
		ts, r.start, ts, r.end, quoteIdent(schema.TsidColumn))
	for i, id := range tsids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatUint(id, 10))
	}
	b.WriteString(")")
	return b.String()
}

// seriesSQL is the statement that finds the series of s in t with a
// sample in r: the distinct combinations of the tags (cols, or every tag
// of t when cols is nil), or one row when t has no tags.
func (s *selector) seriesSQL(t *table, r timeRange, cols []string) (string, bool) {
	where, ok := s.where(t, r)
	if !ok {
		return "", false
	}
	if cols == nil {
		for _, c := range t.tags {
			cols = append(cols, c.name)
		}
	}
	where += " AND " + quoteIdent(t.field) + " IS NOT NULL"
	if len(cols) == 0 {
		return "SELECT " + quoteIdent(t.timestamp) + " FROM " + quoteIdent(t.name) + where + " LIMIT 1", true
	}
	var b strings.Builder
	b.WriteString("SELECT DISTINCT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c))
	}
	b.WriteString(" FROM " + quoteIdent(t.name) + where)
	return b.String(), true
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
