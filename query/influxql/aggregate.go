package influxql

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/influxql"

	"github.com/horaego/horaedb/engine/schema"
)

// aggregate answers a SELECT of aggregates: one row per series and time
// bucket (or one per series without GROUP BY time), empty buckets filled
// as fill() says.
func (e *Engine) aggregate(ctx context.Context, db string, p *plan, now time.Time) ([]Series, error) {
	taken := map[string]int{"time": 1}
	for _, f := range p.s.Fields {
		if ref, ok := f.Expr.(*influxql.VarRef); ok && ref.Val == "time" {
			continue
		}
		if call, ok := f.Expr.(*influxql.Call); ok && len(call.Args) > 0 {
			if w, ok := call.Args[0].(*influxql.Wildcard); ok { // max(*): one column per field
				for _, c := range p.t.fields() {
					if w.Type == influxql.TAG || !aggregatable(call.Name, c.Kind) {
						continue
					}
					sql, err := p.callSQL(call, ident(c.Name))
					if err != nil {
						return nil, err
					}
					p.columns = append(p.columns, uniqueName(taken, call.Name+"_"+c.Name))
					p.exprs = append(p.exprs, sql)
					p.counts = append(p.counts, call.Name == "count")
				}
				continue
			}
		}
		var isCount bool
		sql, err := p.arithmetic(f.Expr, &isCount)
		if err != nil {
			return nil, err
		}
		p.columns = append(p.columns, uniqueName(taken, f.Name()))
		p.exprs = append(p.exprs, sql)
		p.counts = append(p.counts, isCount)
	}
	if len(p.exprs) == 0 {
		return nil, fmt.Errorf("%w: at least 1 non-time field must be queried", ErrInvalid)
	}

	hi := p.hi
	if p.interval > 0 && hi == math.MaxInt64 {
		hi = now.UnixMilli() // InfluxDB's end of a GROUP BY time range without one
	}
	lo := p.lo
	descending := !p.s.TimeAscending()
	fill := p.s.Fill
	// ORDER BY time DESC LIMIT n with buckets filled: the answer is the last
	// n buckets before hi, so read only those.
	if p.interval > 0 && descending && p.s.Limit > 0 && (fill == influxql.NullFill || fill == influxql.NumberFill) {
		last := p.bucket(hi)
		first := last - int64(p.s.Limit+p.s.Offset-1)*p.interval
		if first > lo {
			lo = first
		}
	}

	var sb strings.Builder
	sb.WriteString("SELECT ")
	var group []string
	if p.interval > 0 {
		origin := fmt.Sprintf("to_timestamp_millis(%d)", p.offset)
		b := fmt.Sprintf("date_bin(INTERVAL '%d milliseconds', %s, %s)", p.interval, ident(p.t.ts), origin)
		sb.WriteString(b + " AS `__bucket`, ")
		group = append(group, "`__bucket`")
	}
	for _, t := range p.tags {
		sb.WriteString(p.tagSQL(t) + ", ")
		if p.tagSQL(t) != "NULL" {
			group = append(group, p.tagSQL(t))
		}
	}
	sb.WriteString(strings.Join(p.exprs, ", "))
	sb.WriteString(", count(*) AS `__points`") // a group without points is no series
	sb.WriteString(" FROM " + ident(p.t.name) + p.timeWhere(lo, hi))
	if len(group) > 0 {
		sb.WriteString(" GROUP BY " + strings.Join(group, ", "))
	}
	rows, err := e.rows(ctx, db, sb.String())
	if err != nil {
		return nil, err
	}

	// Series by tag set, each a map of bucket → values.
	type series struct {
		tags    []Tag
		buckets map[int64][]any
	}
	bySet := map[string]*series{}
	var order []*series
	nb := 0
	if p.interval > 0 {
		nb = 1
	}
	nt := len(p.tags)
	minBucket := int64(math.MaxInt64)
	for _, r := range rows {
		if n, _ := r[len(r)-1].(int64); n == 0 {
			continue
		}
		r = r[:len(r)-1]
		tags := tagSet(p.tags, r[nb:nb+nt])
		key := tagKey(tags)
		s := bySet[key]
		if s == nil {
			s = &series{tags: tags, buckets: map[int64][]any{}}
			bySet[key] = s
			order = append(order, s)
		}
		var b int64
		if p.interval > 0 {
			t, _ := r[0].(Time)
			b = int64(t)
			minBucket = min(minBucket, b)
		} else if lo != math.MinInt64 {
			b = lo
		}
		s.buckets[b] = r[nb+nt:]
	}
	sort.Slice(order, func(i, j int) bool { return tagKey(order[i].tags) < tagKey(order[j].tags) })

	// The buckets every series shows.
	var buckets []int64
	if p.interval > 0 {
		start := minBucket
		if lo != math.MinInt64 {
			start = p.bucket(lo)
		}
		if fill != influxql.NoFill && start != math.MaxInt64 { // else only the buckets with data, per series
			end := p.bucket(hi)
			if (end-start)/p.interval > maxBuckets {
				return nil, fmt.Errorf("%w: GROUP BY time(%s) over this range makes more than %d buckets; narrow the time range or widen the interval",
					ErrInvalid, time.Duration(p.interval)*time.Millisecond, maxBuckets)
			}
			for b := start; b <= end; b += p.interval {
				buckets = append(buckets, b)
			}
		}
	}

	out := make([]Series, 0, len(order))
	for _, s := range order {
		bs := buckets
		if p.interval == 0 || bs == nil {
			bs = make([]int64, 0, len(s.buckets))
			for b := range s.buckets {
				bs = append(bs, b)
			}
			sort.Slice(bs, func(i, j int) bool { return bs[i] < bs[j] })
		}
		values := make([][]any, len(bs))
		for i, b := range bs {
			vals, ok := s.buckets[b]
			row := make([]any, 1+len(p.exprs))
			row[0] = Time(b)
			if ok {
				copy(row[1:], vals)
			} else {
				for c := range p.exprs {
					if p.counts[c] {
						row[1+c] = int64(0)
					} else if fill == influxql.NumberFill {
						row[1+c] = p.s.FillValue
					}
				}
			}
			values[i] = row
		}
		switch fill {
		case influxql.PreviousFill:
			fillPrevious(values, s.buckets, bs)
		case influxql.LinearFill:
			fillLinear(values, s.buckets, bs)
		}
		if descending {
			for i, j := 0, len(values)-1; i < j; i, j = i+1, j-1 {
				values[i], values[j] = values[j], values[i]
			}
		}
		out = append(out, Series{Name: p.t.name, Tags: s.tags, Columns: append([]string{"time"}, p.columns...),
			Values: page(values, p.s.Offset, p.s.Limit)})
	}
	return seriesPage(out, p.s.SOffset, p.s.SLimit), nil
}

// maxBuckets bounds the rows one series may be filled to.
const maxBuckets = 1_000_000

// bucket is the start of the bucket holding ms.
func (p *plan) bucket(ms int64) int64 {
	d := ms - p.offset
	q := d / p.interval
	if d%p.interval < 0 {
		q--
	}
	return q*p.interval + p.offset
}

func tagKey(tags []Tag) string {
	var b strings.Builder
	for _, t := range tags {
		b.WriteString(t.Key)
		b.WriteByte(0)
		b.WriteString(t.Value)
		b.WriteByte(0)
	}
	return b.String()
}

// fillPrevious fills each empty bucket's values with the previous
// bucket's.
func fillPrevious(values [][]any, have map[int64][]any, bs []int64) {
	for i := 1; i < len(values); i++ {
		if _, ok := have[bs[i]]; ok {
			continue
		}
		for c := 1; c < len(values[i]); c++ {
			if values[i][c] == nil {
				values[i][c] = values[i-1][c]
			}
		}
	}
}

// fillLinear fills empty buckets between two with data on the line
// between them, per column; leading and trailing ones stay null.
func fillLinear(values [][]any, have map[int64][]any, bs []int64) {
	if len(values) == 0 {
		return
	}
	for c := 1; c < len(values[0]); c++ {
		prev := -1
		for i := range values {
			if _, ok := have[bs[i]]; !ok || values[i][c] == nil {
				continue
			}
			if prev >= 0 && i-prev > 1 {
				a, okA := number(values[prev][c])
				b, okB := number(values[i][c])
				if okA && okB {
					for k := prev + 1; k < i; k++ {
						v := a + (b-a)*float64(k-prev)/float64(i-prev)
						if _, isInt := values[i][c].(int64); isInt {
							values[k][c] = int64(v)
						} else {
							values[k][c] = v
						}
					}
				}
			}
			prev = i
		}
	}
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// aggregatable reports whether a function applies to a column kind.
func aggregatable(fn string, k schema.Kind) bool {
	switch fn {
	case "count", "first", "last":
		return true
	case "min", "max":
		return k != schema.Boolean && k != schema.Varbinary
	}
	return k != schema.String && k != schema.Boolean && k != schema.Varbinary
}

// arithmetic translates a field expression: calls, columns, numbers and
// + - * / % between them. isCount, when not nil, tells whether the
// expression is a bare count().
func (p *plan) arithmetic(e influxql.Expr, isCount *bool) (string, error) {
	switch x := e.(type) {
	case *influxql.ParenExpr:
		s, err := p.arithmetic(x.Expr, nil)
		return "(" + s + ")", err
	case *influxql.Call:
		if isCount != nil {
			*isCount = x.Name == "count"
		}
		return p.callSQL(x, "")
	case *influxql.VarRef:
		if _, ok := p.t.column(x.Val); !ok {
			return "NULL", nil
		}
		return ident(x.Val), nil
	case *influxql.IntegerLiteral, *influxql.NumberLiteral, *influxql.UnsignedLiteral, *influxql.StringLiteral, *influxql.BooleanLiteral:
		s, _, err := literalSQL(x)
		return s, err
	case *influxql.BinaryExpr:
		switch x.Op {
		case influxql.ADD, influxql.SUB, influxql.MUL, influxql.DIV, influxql.MOD:
		default:
			return "", fmt.Errorf("%w: operator %s in a field expression", ErrInvalid, x.Op)
		}
		l, err := p.arithmetic(x.LHS, nil)
		if err != nil {
			return "", err
		}
		r, err := p.arithmetic(x.RHS, nil)
		if err != nil {
			return "", err
		}
		if x.Op == influxql.DIV { // InfluxQL divides as floats
			l = "CAST(" + l + " AS double)"
		}
		return "(" + l + " " + x.Op.String() + " " + r + ")", nil
	}
	return "", fmt.Errorf("%w: %s is not supported in a field expression", ErrInvalid, e)
}

// callSQL translates an InfluxQL function call; arg, when set, replaces
// the call's first argument (max(*) expanded).
func (p *plan) callSQL(c *influxql.Call, arg string) (string, error) {
	if arg == "" {
		if len(c.Args) == 0 {
			return "", fmt.Errorf("%w: %s() needs an argument", ErrInvalid, c.Name)
		}
		switch a := c.Args[0].(type) {
		case *influxql.VarRef:
			if _, ok := p.t.column(a.Val); !ok {
				arg = "NULL"
			} else {
				arg = ident(a.Val)
			}
		case *influxql.Call:
			if c.Name == "count" && a.Name == "distinct" && len(a.Args) == 1 {
				inner, ok := a.Args[0].(*influxql.VarRef)
				if !ok {
					return "", fmt.Errorf("%w: %s", ErrInvalid, c)
				}
				return "count(DISTINCT " + ident(inner.Val) + ")", nil
			}
			return "", fmt.Errorf("%w: nested function %s is not supported", ErrInvalid, c)
		default:
			return "", fmt.Errorf("%w: %s() needs a field", ErrInvalid, c.Name)
		}
	}
	switch c.Name {
	case "count", "sum", "min", "max", "first", "last", "median":
		return c.Name + "(" + arg + ")", nil
	case "mean":
		return "avg(" + arg + ")", nil
	case "stddev":
		return "stddev(" + arg + ")", nil
	case "spread":
		return "(max(" + arg + ") - min(" + arg + "))", nil
	case "percentile":
		if len(c.Args) != 2 {
			return "", fmt.Errorf("%w: percentile(field, N) takes two arguments", ErrInvalid)
		}
		var n float64
		switch l := c.Args[1].(type) {
		case *influxql.IntegerLiteral:
			n = float64(l.Val)
		case *influxql.NumberLiteral:
			n = l.Val
		default:
			return "", fmt.Errorf("%w: percentile: N must be a number", ErrInvalid)
		}
		if n < 0 || n > 100 {
			return "", fmt.Errorf("%w: percentile: N must be between 0 and 100", ErrInvalid)
		}
		return "approx_percentile_cont(" + arg + ", " + strconv.FormatFloat(n/100, 'g', -1, 64) + ")", nil
	}
	return "", fmt.Errorf("%w: function %s() is not supported", ErrInvalid, c.Name)
}
