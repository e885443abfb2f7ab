package expr

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Like matches strings against a SQL pattern: % is any run of characters,
// _ one character, the escape character (default \) makes the next one
// literal.
type Like struct {
	X, Pattern      Expr
	Not, IgnoreCase bool
	Escape          rune
	// Regexp makes Pattern a regular expression (RE2 syntax, matching
	// anywhere unless anchored): regexp_like(x, pattern).
	Regexp bool
	re     *regexp.Regexp // compiled once when the pattern is constant
}

// compile turns a pattern into the regexp that implements it.
func (e *Like) compile(p string) (*regexp.Regexp, error) {
	if e.Regexp {
		return regexp.Compile(p)
	}
	return likeRegexp(p, e.Escape, e.IgnoreCase)
}

// NewLike type-checks a LIKE.
func NewLike(x, pattern Expr, not, ignoreCase bool, escape rune) (Expr, error) {
	for _, e := range []Expr{x, pattern} {
		if t := e.Type(); t.ID() != arrow.STRING && t.ID() != arrow.NULL {
			return nil, fmt.Errorf("LIKE needs strings, got %s", typeDisplayName(t))
		}
	}
	l := &Like{X: x, Pattern: pattern, Not: not, IgnoreCase: ignoreCase, Escape: escape}
	return l, l.precompile()
}

func (e *Like) precompile() error {
	if p, ok := constString(e.Pattern); ok {
		re, err := e.compile(p)
		if err != nil {
			return err
		}
		e.re = re
	}
	return nil
}

func init() {
	// regexp_like(x, pattern): whether x matches the regular expression
	// (RE2 syntax, as MySQL 8's REGEXP_LIKE with Go's dialect).
	register(funcDef{2, 2, func(name string, args []Expr, c *Ctx) (Expr, error) {
		for _, e := range args {
			if t := e.Type(); t.ID() != arrow.STRING && t.ID() != arrow.NULL {
				return nil, fmt.Errorf("%s needs strings, got %s", name, typeDisplayName(t))
			}
		}
		l := &Like{X: args[0], Pattern: args[1], Regexp: true}
		if err := l.precompile(); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		return l, nil
	}}, "regexp_like")
}

func likeRegexp(p string, escape rune, ignoreCase bool) (*regexp.Regexp, error) {
	var b strings.Builder
	if ignoreCase {
		b.WriteString("(?i)")
	}
	b.WriteString("^(?s:")
	esc := false
	for _, r := range p {
		switch {
		case esc:
			b.WriteString(regexp.QuoteMeta(string(r)))
			esc = false
		case r == escape:
			esc = true
		case r == '%':
			b.WriteString(".*")
		case r == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if esc {
		return nil, fmt.Errorf("LIKE pattern %q ends with the escape character", p)
	}
	b.WriteString(")$")
	return regexp.Compile(b.String())
}

// Type implements Expr.
func (e *Like) Type() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

func (e *Like) String() string {
	if e.Regexp {
		return fmt.Sprintf("regexp_like(%s,%s)", e.X, e.Pattern)
	}
	op := "LIKE"
	if e.IgnoreCase {
		op = "ILIKE"
	}
	if e.Not {
		op = "NOT " + op
	}
	return fmt.Sprintf("%s %s %s", e.X, op, e.Pattern)
}

// Eval implements Expr.
func (e *Like) Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	args, err := evalArgs(c, rec, e.X, e.Pattern)
	if err != nil {
		return nil, err
	}
	defer release(args...)
	n := int(rec.NumRows())
	valid := validAnd(n, args...)
	out := make([]bool, n)
	if args[0].DataType().ID() == arrow.NULL || args[1].DataType().ID() == arrow.NULL {
		return NullOf(e.Type()).Repeat(c.Mem, n)
	}
	xs, ps := args[0].(*array.String), args[1].(*array.String)
	cache := map[string]*regexp.Regexp{}
	for i := 0; i < n; i++ {
		if valid != nil && !valid[i] {
			continue
		}
		re := e.re
		if re == nil {
			p := ps.Value(i)
			if re = cache[p]; re == nil {
				if re, err = e.compile(p); err != nil {
					return nil, Errorf("%v", err)
				}
				cache[p] = re
			}
		}
		out[i] = re.MatchString(xs.Value(i)) != e.Not
	}
	return NewBool(c.Mem, out, valid), nil
}

// Case is CASE [operand] WHEN ... THEN ... [ELSE ...] END. The branches are
// cast to one result type.
type Case struct {
	Operand Expr // nil for a searched CASE
	Whens   []Expr
	Thens   []Expr
	Else    Expr // nil: NULL
	typ     arrow.DataType
}

// NewCase type-checks a CASE; result types must combine.
func NewCase(operand Expr, whens, thens []Expr, els Expr, c *Ctx) (Expr, error) {
	e := &Case{Operand: operand, Whens: whens, Thens: thens, Else: els}
	t := arrow.DataType(arrow.Null)
	results := append([]Expr(nil), thens...)
	if els != nil {
		results = append(results, els)
	}
	for _, r := range results {
		ct, err := CommonType(t, r.Type())
		if err != nil {
			return nil, fmt.Errorf("CASE branches: %v", err)
		}
		t = ct
	}
	e.typ = t
	for i, w := range whens {
		if operand == nil && w.Type().ID() != arrow.BOOL && w.Type().ID() != arrow.NULL {
			return nil, fmt.Errorf("CASE WHEN needs a boolean condition, got %s", typeDisplayName(w.Type()))
		}
		if operand != nil {
			eq, err := NewBinary(OpEq, operand, w)
			if err != nil {
				return nil, fmt.Errorf("CASE: %v", err)
			}
			e.Whens[i] = eq
		}
	}
	return e, nil
}

// CommonType is the type two values combine into: equal types stay, NULL
// takes the other, numbers widen to Int64, UInt64 or Float64.
func CommonType(a, b arrow.DataType) (arrow.DataType, error) {
	switch {
	case arrow.TypeEqual(a, b):
		return a, nil
	case a.ID() == arrow.NULL:
		return b, nil
	case b.ID() == arrow.NULL:
		return a, nil
	case IsNumeric(a) && IsNumeric(b):
		switch numericClass(a, b) {
		case classFloat:
			return arrow.PrimitiveTypes.Float64, nil
		case classUint:
			return arrow.PrimitiveTypes.Uint64, nil
		}
		return arrow.PrimitiveTypes.Int64, nil
	}
	return nil, fmt.Errorf("%s and %s do not combine", typeDisplayName(a), typeDisplayName(b))
}

// Type implements Expr.
func (e *Case) Type() arrow.DataType { return e.typ }

func (e *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	if e.Operand != nil {
		b.WriteString(" " + e.Operand.String())
	}
	for i, w := range e.Whens {
		if bin, ok := w.(*Binary); ok && e.Operand != nil {
			w = bin.R
		}
		fmt.Fprintf(&b, " WHEN %s THEN %s", w, e.Thens[i])
	}
	if e.Else != nil {
		fmt.Fprintf(&b, " ELSE %s", e.Else)
	}
	b.WriteString(" END")
	return b.String()
}

// Eval implements Expr. Every branch is evaluated on the whole batch; a row
// takes the first branch whose condition is true.
func (e *Case) Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	n := int(rec.NumRows())
	chosen := make([]int, n) // branch index + 1; 0 = none yet
	for i, w := range e.Whens {
		cond, err := w.Eval(c, rec)
		if err != nil {
			return nil, err
		}
		if b, ok := cond.(*array.Boolean); ok {
			for r := 0; r < n; r++ {
				if chosen[r] == 0 && !IsNullAt(b, r) && b.Value(r) {
					chosen[r] = i + 1
				}
			}
		}
		cond.Release()
	}
	branches := append([]Expr(nil), e.Thens...)
	if e.Else != nil {
		branches = append(branches, e.Else)
	}
	vals := make([]arrow.Array, len(branches))
	for i, br := range branches {
		v, err := br.Eval(c, rec)
		if err != nil {
			release(vals[:i]...)
			return nil, err
		}
		vals[i] = v
	}
	defer release(vals...)
	b := array.NewBuilder(c.Mem, e.typ)
	defer b.Release()
	for r := 0; r < n; r++ {
		k := chosen[r] - 1
		if k < 0 {
			if e.Else == nil {
				b.AppendNull()
				continue
			}
			k = len(vals) - 1
		}
		v, err := ScalarAt(vals[k], r).Cast(e.typ, c.TimeZone)
		if err != nil {
			return nil, err
		}
		v.Append(b)
	}
	return b.NewArray(), nil
}
