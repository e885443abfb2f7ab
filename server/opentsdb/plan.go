package opentsdb

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/horaego/horaedb/engine/schema"
)

// A sub-query runs as one SQL statement on its metric's table: the time
// range and the tag filters go into WHERE, so the scan prunes by them.
//
//   - With a downsample, SQL downsamples every series: GROUP BY the
//     bucket (date_bin) and every tag column, the downsample function
//     as the aggregate. The cross-series aggregation (with OpenTSDB's
//     interpolation), fill policies and rates are done here on the
//     buckets, which are few.
//   - Where the cross-series aggregation needs no interpolation (zimsum
//     over sum or count buckets, mimmax over max, mimmin over min, no
//     rate, no fill), SQL does it too: GROUP BY the bucket and the
//     group-by tags only, with min/max/count of the other tags to tell
//     which are common to the group and which are aggregated.
//   - Without a downsample, SQL returns the raw points of the matching
//     series.

// table is what a sub-query needs of its metric's table.
type table struct {
	name  string
	ts    string
	value string
	tags  []string // the tag columns, sorted by name
}

// tableOf describes a table for queries; the client's error when it has
// no numeric value column.
func tableOf(name string, sch *schema.Schema) (*table, error) {
	t := &table{name: name, ts: sch.Timestamp().Name, value: ValueColumn}
	i := sch.Index(ValueColumn)
	if i < 0 || sch.Columns[i].IsTag {
		return nil, badf("metric %s has no field column %q", name, ValueColumn)
	}
	if k := sch.Columns[i].Kind; !k.IsFloat() && !k.IsSigned() && !k.IsUnsigned() {
		return nil, badf("the %q column of metric %s is of type %s, not a number", ValueColumn, name, k)
	}
	for _, c := range sch.Columns {
		if c.IsTag && c.Name != schema.TsidColumn {
			t.tags = append(t.tags, c.Name)
		}
	}
	slices.Sort(t.tags)
	return t, nil
}

func (t *table) hasTag(name string) bool {
	_, ok := slices.BinarySearch(t.tags, name)
	return ok
}

// plan is the SQL of a sub-query and how to read its rows.
type plan struct {
	sql string
	// empty: a filter names a tag the table does not have, so no series
	// can match; nothing to run.
	empty bool
	// groupBy are the tags series are grouped by, sorted.
	groupBy []string
	// fast: SQL aggregates across series; its rows are
	// (__b, groupBy..., __v, then min, max, count per other tag, __n).
	// Otherwise the rows are (__b or timestamp, tags..., __v[, __n]).
	fast bool
	// others are the tags that are not grouped by (fast path).
	others []string
	// bucketed: the first column is a bucket (a downsample); with a
	// downsample of the whole range there is no such column.
	bucketed bool
	// counted: the last column is count(*) (a downsample).
	counted bool
}

// fastAgg is the SQL aggregate that does a cross-series aggregator over a
// downsample function in one step, when one exists.
func fastAgg(agg Aggregator, ds *Downsample) string {
	switch {
	case agg == "zimsum" && (ds.Fn == "sum" || ds.Fn == "zimsum"):
		return "sum"
	case agg == "zimsum" && ds.Fn == "count":
		return "count"
	case agg == "mimmax" && (ds.Fn == "max" || ds.Fn == "mimmax"):
		return "max"
	case agg == "mimmin" && (ds.Fn == "min" || ds.Fn == "mimmin"):
		return "min"
	}
	return ""
}

// planSub writes the SQL of a sub-query over t for [start, end].
func planSub(s *Sub, t *table, start, end int64) (*plan, error) {
	p := &plan{}
	where := []string{
		fmt.Sprintf("%s >= %d", ident(t.ts), start),
		fmt.Sprintf("%s <= %d", ident(t.ts), end),
		ident(t.value) + " IS NOT NULL",
	}
	filtered := map[string]bool{}
	for _, f := range s.Filters {
		if !t.hasTag(f.Tagk) {
			p.empty = true
			return p, nil
		}
		filtered[f.Tagk] = true
		cond, err := f.sql()
		if err != nil {
			return nil, err
		}
		where = append(where, cond)
		if f.GroupBy && s.Agg != "none" && !slices.Contains(p.groupBy, f.Tagk) {
			p.groupBy = append(p.groupBy, f.Tagk)
		}
	}
	slices.Sort(p.groupBy)
	if s.ExplicitTags {
		for _, tag := range t.tags {
			if !filtered[tag] {
				where = append(where, ident(tag)+" IS NULL")
			}
		}
	}
	whereSQL := " WHERE " + strings.Join(where, " AND ")
	from := " FROM " + ident(t.name)
	var cols, group []string
	ds := s.Downsample
	if ds == nil {
		cols = append(cols, ident(t.ts))
		for _, tag := range t.tags {
			cols = append(cols, ident(tag))
		}
		cols = append(cols, "CAST("+ident(t.value)+" AS DOUBLE) AS `__v`")
		p.sql = "SELECT " + strings.Join(cols, ", ") + from + whereSQL
		p.bucketed = true
		return p, nil
	}
	if ds.Interval > 0 {
		cols = append(cols, fmt.Sprintf("date_bin(INTERVAL '%d milliseconds', %s, to_timestamp_millis(0)) AS `__b`",
			ds.Interval, ident(t.ts)))
		group = append(group, "`__b`")
		p.bucketed = true
	}
	fn := downsampleFns[ds.Fn]
	if f := fastAgg(s.Agg, ds); f != "" && !s.Rate && ds.Fill == FillNone {
		p.fast = true
		fn = f
		for _, tag := range p.groupBy {
			cols = append(cols, ident(tag))
			group = append(group, ident(tag))
		}
		cols = append(cols, fmt.Sprintf("CAST(%s(%s) AS DOUBLE) AS `__v`", fn, ident(t.value)))
		for _, tag := range t.tags {
			if !slices.Contains(p.groupBy, tag) {
				p.others = append(p.others, tag)
				c := ident(tag)
				cols = append(cols, "min("+c+")", "max("+c+")", "count("+c+")")
			}
		}
	} else {
		for _, tag := range t.tags {
			cols = append(cols, ident(tag))
			group = append(group, ident(tag))
		}
		cols = append(cols, fmt.Sprintf("CAST(%s(%s) AS DOUBLE) AS `__v`", fn, ident(t.value)))
	}
	cols = append(cols, "count(*) AS `__n`")
	p.counted = true
	p.sql = "SELECT " + strings.Join(cols, ", ") + from + whereSQL
	if len(group) > 0 {
		p.sql += " GROUP BY " + strings.Join(group, ", ")
	}
	return p, nil
}

// sql is the filter's WHERE condition. Every filter needs its tag to be
// present: OpenTSDB only matches series that have the filtered tag keys.
func (f *Filter) sql() (string, error) {
	c := ident(f.Tagk)
	switch f.Type {
	case "literal_or":
		return c + " IN (" + literalList(strings.Split(f.Expr, "|")) + ")", nil
	case "not_literal_or":
		return "(" + c + " IS NOT NULL AND " + c + " NOT IN (" + literalList(strings.Split(f.Expr, "|")) + "))", nil
	case "iliteral_or":
		return "regexp_like(" + c + ", " + literal(orPattern(f.Expr)) + ")", nil
	case "not_iliteral_or":
		return "(" + c + " IS NOT NULL AND NOT regexp_like(" + c + ", " + literal(orPattern(f.Expr)) + "))", nil
	case "wildcard", "iwildcard":
		if strings.Trim(f.Expr, "*") == "" {
			return c + " IS NOT NULL", nil
		}
		return "regexp_like(" + c + ", " + literal(wildcardPattern(f.Expr, f.Type == "iwildcard")) + ")", nil
	case "regexp":
		if _, err := regexp.Compile(f.Expr); err != nil {
			return "", badf("tag %q: bad regular expression: %v", f.Tagk, err)
		}
		return "regexp_like(" + c + ", " + literal(f.Expr) + ")", nil
	}
	return "", badf("no such filter type %q", f.Type)
}

// orPattern matches any of "a|b|c", ignoring case.
func orPattern(expr string) string {
	alts := strings.Split(expr, "|")
	for i, a := range alts {
		alts[i] = regexp.QuoteMeta(a)
	}
	return "(?i)^(?:" + strings.Join(alts, "|") + ")$"
}

// wildcardPattern matches a wildcard filter: * is any run of characters,
// everything else itself, the whole value.
func wildcardPattern(expr string, fold bool) string {
	parts := strings.Split(expr, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re := "^" + strings.Join(parts, ".*") + "$"
	if fold {
		re = "(?i)" + re
	}
	return "(?s)" + re
}

func literalList(vals []string) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = literal(v)
	}
	return strings.Join(out, ", ")
}

// ident quotes an identifier for our SQL.
func ident(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

// literal quotes a string for our SQL (a backslash escapes, MySQL style).
func literal(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
}
