package influxql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/influxql"

	"github.com/horaego/horaedb/engine/schema"
)

// timeRange splits a WHERE clause into its time range (milliseconds,
// inclusive; 0 and math.MaxInt64 stand for no bound) and the rest.
func timeRange(cond influxql.Expr, now time.Time) (influxql.Expr, int64, int64, error) {
	if cond == nil {
		return nil, math.MinInt64, math.MaxInt64, nil
	}
	rest, tr, err := influxql.ConditionExpr(cond, &influxql.NowValuer{Now: now})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !tr.Min.IsZero() {
		ns := tr.Min.UnixNano()
		lo = ns / 1e6
		if ns%1e6 > 0 { // round up to the first whole millisecond in range
			lo++
		}
	}
	if !tr.Max.IsZero() {
		ns := tr.Max.UnixNano()
		hi = ns / 1e6
		if ns%1e6 < 0 {
			hi--
		}
	}
	return rest, lo, hi, nil
}

// whereSQL translates the non-time part of a condition. Tags follow
// InfluxDB's rules: a series without the tag has it equal to "", so
// tag = ” and tag != 'x' match it; so do tags the table does not have.
func (t *table) whereSQL(e influxql.Expr) (string, error) {
	switch e := e.(type) {
	case nil:
		return "", nil
	case *influxql.ParenExpr:
		s, err := t.whereSQL(e.Expr)
		return "(" + s + ")", err
	case *influxql.BooleanLiteral:
		return strconv.FormatBool(e.Val), nil
	case *influxql.BinaryExpr:
		switch e.Op {
		case influxql.AND, influxql.OR:
			l, err := t.whereSQL(e.LHS)
			if err != nil {
				return "", err
			}
			r, err := t.whereSQL(e.RHS)
			if err != nil {
				return "", err
			}
			return "(" + l + ") " + e.Op.String() + " (" + r + ")", nil
		case influxql.EQ, influxql.NEQ, influxql.LT, influxql.LTE, influxql.GT, influxql.GTE,
			influxql.EQREGEX, influxql.NEQREGEX:
			return t.comparison(e)
		}
		return "", fmt.Errorf("%w: operator %s is not supported in WHERE", ErrInvalid, e.Op)
	}
	return "", fmt.Errorf("%w: %s is not a condition", ErrInvalid, e)
}

// comparison translates one comparison.
func (t *table) comparison(e *influxql.BinaryExpr) (string, error) {
	lhs, rhs, op := e.LHS, e.RHS, e.Op
	if _, ok := lhs.(*influxql.VarRef); !ok { // literal op column: flip it
		if _, ok := rhs.(*influxql.VarRef); ok {
			lhs, rhs = rhs, lhs
			switch op {
			case influxql.LT:
				op = influxql.GT
			case influxql.LTE:
				op = influxql.GTE
			case influxql.GT:
				op = influxql.LT
			case influxql.GTE:
				op = influxql.LTE
			}
		}
	}
	ref, ok := lhs.(*influxql.VarRef)
	if !ok {
		return "", fmt.Errorf("%w: a comparison needs a tag or field: %s", ErrInvalid, e)
	}
	col, exists := t.column(ref.Val)
	tagLike := !exists || col.IsTag // a missing column behaves as an absent tag
	colSQL := "NULL"
	if exists {
		colSQL = ident(ref.Val)
	}
	if re, ok := rhs.(*influxql.RegexLiteral); ok {
		if op != influxql.EQREGEX && op != influxql.NEQREGEX {
			return "", fmt.Errorf("%w: a regular expression needs =~ or !~: %s", ErrInvalid, e)
		}
		if exists && col.Kind != schema.String {
			return "false", nil
		}
		match := "regexp_like(" + colSQL + ", " + literal(re.Val.String()) + ")"
		matchesEmpty := re.Val.MatchString("")
		if op == influxql.EQREGEX {
			if tagLike && matchesEmpty {
				return "(" + colSQL + " IS NULL OR " + match + ")", nil
			}
			return match, nil
		}
		if tagLike && !matchesEmpty {
			return "(" + colSQL + " IS NULL OR NOT " + match + ")", nil
		}
		return "NOT " + match, nil
	}
	if op == influxql.EQREGEX || op == influxql.NEQREGEX {
		return "", fmt.Errorf("%w: =~ and !~ need a regular expression: %s", ErrInvalid, e)
	}
	val, isString, err := literalSQL(rhs)
	if err != nil {
		return "", err
	}
	sqlOp := op.String()
	if op == influxql.NEQ {
		sqlOp = "!="
	}
	if tagLike {
		if !isString { // tags are strings: a number never equals one
			if op == influxql.NEQ {
				return "true", nil
			}
			return "false", nil
		}
		s := rhs.(*influxql.StringLiteral).Val
		switch {
		case op == influxql.EQ && s == "":
			return "(" + colSQL + " IS NULL OR " + colSQL + " = '')", nil
		case op == influxql.NEQ && s != "":
			return "(" + colSQL + " IS NULL OR " + colSQL + " != " + val + ")", nil
		case op == influxql.NEQ:
			return "(" + colSQL + " IS NOT NULL AND " + colSQL + " != '')", nil
		}
	}
	return colSQL + " " + sqlOp + " " + val, nil
}

// literalSQL renders a literal; isString tells strings from numbers.
func literalSQL(e influxql.Expr) (sql string, isString bool, err error) {
	switch l := e.(type) {
	case *influxql.StringLiteral:
		return literal(l.Val), true, nil
	case *influxql.IntegerLiteral:
		return strconv.FormatInt(l.Val, 10), false, nil
	case *influxql.UnsignedLiteral:
		return strconv.FormatUint(l.Val, 10), false, nil
	case *influxql.NumberLiteral:
		s := strconv.FormatFloat(l.Val, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEIN") {
			s += ".0"
		}
		return s, false, nil
	case *influxql.BooleanLiteral:
		return strconv.FormatBool(l.Val), false, nil
	}
	return "", false, fmt.Errorf("%w: %s is not a literal", ErrInvalid, e)
}
