package influxql

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/influxdata/influxql"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
)

// plan is a SELECT being translated.
type plan struct {
	t        *table
	s        *influxql.SelectStatement
	lo, hi   int64  // time range, inclusive, milliseconds
	where    string // the non-time condition, SQL
	interval int64  // GROUP BY time(interval): milliseconds, 0 if none
	offset   int64
	tags     []string // GROUP BY tags, sorted
	columns  []string // output columns after time
	exprs    []string // their SQL
	counts   []bool   // exprs that are counts: empty buckets fill with 0
	isField  []bool   // raw queries: columns that are fields (a row needs one non-null)
}

func (e *Engine) selectStatement(ctx context.Context, db string, s *influxql.SelectStatement, now time.Time) ([]Series, error) {
	if s.Target != nil {
		return nil, fmt.Errorf("%w: SELECT ... INTO is not supported", ErrInvalid)
	}
	if len(s.Sources) != 1 {
		return nil, fmt.Errorf("%w: a SELECT reads exactly one measurement", ErrInvalid)
	}
	m, ok := s.Sources[0].(*influxql.Measurement)
	if !ok || m.Regex != nil {
		return nil, fmt.Errorf("%w: subqueries and measurement regular expressions are not supported", ErrInvalid)
	}
	sch, err := e.x.TableSchema(db, m.Name)
	if errors.Is(err, engine.ErrTableNotFound) {
		return nil, nil // InfluxDB answers an unknown measurement with no series
	}
	if err != nil {
		return nil, err
	}
	p := &plan{t: &table{name: m.Name, schema: sch, ts: sch.Timestamp().Name}, s: s}
	cond, lo, hi, err := timeRange(s.Condition, now)
	if err != nil {
		return nil, err
	}
	p.lo, p.hi = lo, hi
	if p.where, err = p.t.whereSQL(cond); err != nil {
		return nil, err
	}
	if err := p.dimensions(); err != nil {
		return nil, err
	}
	if hasCall(s.Fields) {
		return e.aggregate(ctx, db, p, now)
	}
	return e.raw(ctx, db, p)
}

// dimensions reads GROUP BY: time(interval[, offset]) and tags.
func (p *plan) dimensions() error {
	seen := map[string]bool{}
	addTag := func(name string) {
		if !seen[name] {
			seen[name] = true
			p.tags = append(p.tags, name)
		}
	}
	for _, d := range p.s.Dimensions {
		switch x := d.Expr.(type) {
		case *influxql.Call:
			if x.Name != "time" || len(x.Args) == 0 || len(x.Args) > 2 {
				return fmt.Errorf("%w: GROUP BY %s: only time(interval[, offset]) and tags", ErrInvalid, x)
			}
			iv, ok := x.Args[0].(*influxql.DurationLiteral)
			if !ok || iv.Val < time.Millisecond {
				return fmt.Errorf("%w: GROUP BY time needs an interval of at least 1ms: %s", ErrInvalid, x)
			}
			p.interval = iv.Val.Milliseconds()
			if len(x.Args) == 2 {
				off, ok := x.Args[1].(*influxql.DurationLiteral)
				if !ok {
					return fmt.Errorf("%w: GROUP BY time: the offset must be a duration: %s", ErrInvalid, x)
				}
				p.offset = ((off.Val.Milliseconds() % p.interval) + p.interval) % p.interval
			}
		case *influxql.VarRef:
			addTag(x.Val)
		case *influxql.Wildcard:
			for _, c := range p.t.tags() {
				addTag(c.Name)
			}
		case *influxql.RegexLiteral:
			for _, c := range p.t.tags() {
				if x.Val.MatchString(c.Name) {
					addTag(c.Name)
				}
			}
		default:
			return fmt.Errorf("%w: GROUP BY %s is not supported", ErrInvalid, d)
		}
	}
	slices.Sort(p.tags)
	return nil
}

func hasCall(fields influxql.Fields) bool {
	found := false
	for _, f := range fields {
		influxql.WalkFunc(f.Expr, func(n influxql.Node) {
			if _, ok := n.(*influxql.Call); ok {
				found = true
			}
		})
	}
	return found
}

// tagSQL is the SQL of a GROUP BY tag: the column, or NULL when the table
// has no such tag.
func (p *plan) tagSQL(name string) string {
	if _, ok := p.t.column(name); ok {
		return ident(name)
	}
	return "NULL"
}

// timeWhere is the WHERE clause: the time range and the rest.
func (p *plan) timeWhere(lo, hi int64) string {
	var parts []string
	ts := ident(p.t.ts)
	if lo != math.MinInt64 {
		parts = append(parts, fmt.Sprintf("%s >= %d", ts, lo))
	}
	if hi != math.MaxInt64 {
		parts = append(parts, fmt.Sprintf("%s <= %d", ts, hi))
	}
	if p.where != "" {
		parts = append(parts, "("+p.where+")")
	}
	if len(parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(parts, " AND ")
}

// uniqueName returns name, or name_1, name_2... when it is taken, as
// InfluxDB names repeated columns.
func uniqueName(taken map[string]int, name string) string {
	n := taken[name]
	taken[name] = n + 1
	if n == 0 {
		return name
	}
	return name + "_" + strconv.Itoa(n)
}

// raw answers a SELECT without aggregates: the points themselves.
func (e *Engine) raw(ctx context.Context, db string, p *plan) ([]Series, error) {
	grouped := map[string]bool{}
	for _, t := range p.tags {
		grouped[t] = true
	}
	taken := map[string]int{"time": 1}
	// plain holds the column each expression reads ("" for NULL) while
	// every expression is a plain column: lastpoint needs that.
	plain := []string{}
	add := func(name, sql string, field bool) {
		p.columns = append(p.columns, uniqueName(taken, name))
		p.exprs = append(p.exprs, sql)
		p.isField = append(p.isField, field)
	}
	for _, f := range p.s.Fields {
		switch x := f.Expr.(type) {
		case *influxql.Wildcard:
			var cols []schema.Column
			for _, c := range append(p.t.fields(), p.t.tags()...) {
				if !grouped[c.Name] && (x.Type != influxql.FIELD || !c.IsTag) && (x.Type != influxql.TAG || c.IsTag) {
					cols = append(cols, c)
				}
			}
			sortColumns(cols)
			for _, c := range cols {
				add(c.Name, ident(c.Name), !c.IsTag)
				plain = append(plain, c.Name)
			}
		case *influxql.VarRef:
			if x.Val == "time" {
				continue
			}
			name := x.Val
			if f.Alias != "" {
				name = f.Alias
			}
			c, ok := p.t.column(x.Val)
			if !ok {
				add(name, "NULL", true)
				plain = append(plain, "")
				continue
			}
			add(name, ident(x.Val), !c.IsTag)
			plain = append(plain, x.Val)
		default:
			plain = nil
			sql, err := p.arithmetic(f.Expr, nil)
			if err != nil {
				return nil, err
			}
			add(f.Name(), sql, true)
		}
	}
	if !slices.Contains(p.isField, true) {
		return nil, fmt.Errorf("%w: at least 1 non-time field must be queried", ErrInvalid)
	}
	var sb strings.Builder
	sb.WriteString("SELECT " + ident(p.t.ts))
	nulls := 0
	item := func(x string) { // NULLs are named apart: names must be unique
		sb.WriteString(", " + x)
		if x == "NULL" {
			nulls++
			fmt.Fprintf(&sb, " AS %s", ident(fmt.Sprintf("null %d", nulls)))
		}
	}
	for _, t := range p.tags {
		item(p.tagSQL(t))
	}
	for _, x := range p.exprs {
		item(x)
	}
	where := p.timeWhere(p.lo, p.hi)
	pushLimit := len(p.tags) == 0 && p.s.Limit > 0
	if pushLimit { // rows without any field do not count: leave them out in SQL
		var some []string
		for i, x := range p.exprs {
			if p.isField[i] {
				some = append(some, x+" IS NOT NULL")
			}
		}
		cond := "(" + strings.Join(some, " OR ") + ")"
		if where == "" {
			where = " WHERE " + cond
		} else {
			where += " AND " + cond
		}
	}
	sb.WriteString(" FROM " + ident(p.t.name) + where + " ORDER BY ")
	for _, t := range p.tags {
		sb.WriteString(p.tagSQL(t) + ", ")
	}
	sb.WriteString(ident(p.t.ts))
	if !p.s.TimeAscending() {
		sb.WriteString(" DESC")
	}
	for _, c := range p.t.tags() { // points of several series at one time: by series key
		if !grouped[c.Name] {
			sb.WriteString(", " + ident(c.Name))
		}
	}
	if pushLimit {
		fmt.Fprintf(&sb, " LIMIT %d", p.s.Limit+p.s.Offset)
	}
	rows, ok, err := e.lastpoint(ctx, db, p, plain, grouped)
	if err != nil {
		return nil, err
	}
	if !ok {
		if rows, err = e.rows(ctx, db, sb.String()); err != nil {
			return nil, err
		}
	}
	// Split into series by the tags; keep rows where some field is set.
	var out []Series
	nt := len(p.tags)
	for _, r := range rows {
		skip := true
		for i, v := range r[1+nt:] {
			if p.isField[i] && v != nil {
				skip = false
				break
			}
		}
		if skip {
			continue
		}
		tags := tagSet(p.tags, r[1:1+nt])
		if len(out) == 0 || !sameTags(out[len(out)-1].Tags, tags) {
			out = append(out, Series{Name: p.t.name, Tags: tags, Columns: append([]string{"time"}, p.columns...)})
		}
		s := &out[len(out)-1]
		row := make([]any, 0, 1+len(p.columns))
		row = append(row, r[0])
		s.Values = append(s.Values, append(row, r[1+nt:]...))
	}
	for i := range out {
		out[i].Values = page(out[i].Values, p.s.Offset, p.s.Limit)
	}
	return seriesPage(out, p.s.SOffset, p.s.SLimit), nil
}

// lastpoint answers a raw "newest point of each series" query (ORDER BY
// time DESC LIMIT 1, plain columns, no condition but a lower time bound;
// TSBS's lastpoint) from the per-series latest rows the engine keeps
// instead of scanning history: the newest point of a group is the newest
// of one of its series. The rows have the shape of the SQL raw() runs,
// sorted as it sorts them. ok is false when the query or the table does
// not allow this (then the caller scans), also when a series' newest row
// has none of the queried fields set, since the answer is then an older
// row.
func (e *Engine) lastpoint(ctx context.Context, db string, p *plan, plain []string, grouped map[string]bool) (rows [][]any, ok bool, err error) {
	if len(plain) != len(p.exprs) || p.s.TimeAscending() || p.s.Limit != 1 || p.s.Offset != 0 ||
		p.where != "" || p.hi != math.MaxInt64 {
		return nil, false, nil
	}
	rec, err := e.x.LatestRows(ctx, db, p.t.name)
	if errors.Is(err, engine.ErrNoLatest) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer rec.Release()
	sch := p.t.schema
	col := func(name string) arrow.Array {
		if i := sch.Index(name); i >= 0 && name != "" {
			return rec.Column(i)
		}
		return nil
	}
	value := func(a arrow.Array, i int) any {
		if a == nil {
			return nil
		}
		return cellValue(a, i)
	}
	ts := col(p.t.ts)
	var tagCols, exprCols, restCols []arrow.Array
	for _, t := range p.tags {
		tagCols = append(tagCols, col(t))
	}
	for _, c := range plain {
		exprCols = append(exprCols, col(c))
	}
	for _, c := range p.t.tags() {
		if !grouped[c.Name] {
			restCols = append(restCols, col(c.Name))
		}
	}
	type keyed struct {
		row  []any
		rest []any // the other tags: ties at one time are ordered by them
	}
	all := make([]keyed, 0, rec.NumRows())
	for i := 0; i < int(rec.NumRows()); i++ {
		t := value(ts, i).(Time)
		if int64(t) < p.lo {
			continue // the series has no point in range
		}
		row := make([]any, 0, 1+len(tagCols)+len(exprCols))
		row = append(row, t)
		for _, a := range tagCols {
			row = append(row, value(a, i))
		}
		some := false
		for j, a := range exprCols {
			v := value(a, i)
			some = some || p.isField[j] && v != nil
			row = append(row, v)
		}
		if !some {
			return nil, false, nil
		}
		k := keyed{row: row}
		for _, a := range restCols {
			k.rest = append(k.rest, value(a, i))
		}
		all = append(all, k)
	}
	nt := len(p.tags)
	slices.SortFunc(all, func(a, b keyed) int {
		if c := compareValues(a.row[1:1+nt], b.row[1:1+nt]); c != 0 {
			return c
		}
		if c := cmp.Compare(b.row[0].(Time), a.row[0].(Time)); c != 0 {
			return c // newest first
		}
		return compareValues(a.rest, b.rest)
	})
	rows = make([][]any, len(all))
	for i, k := range all {
		rows[i] = k.row
	}
	return rows, true, nil
}

// compareValues orders tag values as the SQL raw() runs does: strings by
// bytes, nulls last.
func compareValues(a, b []any) int {
	for i := range a {
		x, xok := a[i].(string)
		y, yok := b[i].(string)
		switch {
		case !xok && !yok:
		case !xok:
			return 1
		case !yok:
			return -1
		default:
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
	}
	return 0
}

// page applies OFFSET and LIMIT (0: none) to rows.
func page[T any](rows []T, offset, limit int) []T {
	if offset >= len(rows) {
		return nil
	}
	rows = rows[offset:]
	if limit > 0 && limit < len(rows) {
		rows = rows[:limit]
	}
	return rows
}

// seriesPage applies SOFFSET and SLIMIT, and drops empty series.
func seriesPage(ss []Series, offset, limit int) []Series {
	ss = slices.DeleteFunc(ss, func(s Series) bool { return len(s.Values) == 0 })
	return page(ss, offset, limit)
}

func tagSet(keys []string, vals []any) []Tag {
	if len(keys) == 0 {
		return nil
	}
	tags := make([]Tag, len(keys))
	for i, k := range keys {
		v, _ := vals[i].(string)
		tags[i] = Tag{k, v}
	}
	return tags
}

func sameTags(a, b []Tag) bool { return slices.Equal(a, b) }

// rows runs SQL and returns its rows as Go values.
func (e *Engine) rows(ctx context.Context, db, sql string) ([][]any, error) {
	res, err := e.x.Execute(ctx, query.Session{Database: db}, sql)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	var out [][]any
	for {
		rec, err := res.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		n, nc := int(rec.NumRows()), int(rec.NumCols())
		vals := make([]any, n*nc) // one allocation for the batch's cells
		for c := 0; c < nc; c++ {
			col := rec.Column(c)
			for r := 0; r < n; r++ {
				vals[r*nc+c] = cellValue(col, r)
			}
		}
		for r := 0; r < n; r++ {
			out = append(out, vals[r*nc:(r+1)*nc:(r+1)*nc])
		}
		rec.Release()
	}
}

// cellValue converts one Arrow value.
func cellValue(a arrow.Array, i int) any {
	if a.IsNull(i) || a.DataType().ID() == arrow.NULL {
		return nil
	}
	switch a := a.(type) {
	case *array.Timestamp:
		return Time(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Uint64:
		return a.Value(i)
	case *array.Uint32:
		return uint64(a.Value(i))
	case *array.Uint16:
		return uint64(a.Value(i))
	case *array.Uint8:
		return uint64(a.Value(i))
	case *array.String:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Binary:
		return string(a.Value(i))
	}
	return a.ValueStr(i)
}
