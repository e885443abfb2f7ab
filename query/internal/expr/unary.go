package expr

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Not negates a boolean; NULL stays NULL.
type Not struct{ X Expr }

// Type implements Expr.
func (e *Not) Type() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

func (e *Not) String() string { return "NOT " + paren(e.X) }

// Eval implements Expr.
func (e *Not) Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := e.X.Eval(c, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	n := a.Len()
	if a.DataType().ID() == arrow.NULL {
		return NullOf(e.Type()).Repeat(c.Mem, n)
	}
	b := a.(*array.Boolean)
	out := make([]bool, n)
	for i := range out {
		out[i] = !b.Value(i)
	}
	return NewBool(c.Mem, out, validAnd(n, a)), nil
}

// Neg negates a number.
type Neg struct{ X Expr }

// NewNeg type-checks a negation.
func NewNeg(x Expr) (Expr, error) {
	if !IsNumeric(x.Type()) && x.Type().ID() != arrow.NULL {
		return nil, fmt.Errorf("cannot negate %s", typeDisplayName(x.Type()))
	}
	return &Neg{X: x}, nil
}

// Type implements Expr.
func (e *Neg) Type() arrow.DataType {
	switch classOf(e.X.Type()) {
	case classFloat:
		return arrow.PrimitiveTypes.Float64
	case classNull:
		return arrow.Null
	}
	return arrow.PrimitiveTypes.Int64
}

func (e *Neg) String() string { return "(- " + e.X.String() + ")" }

// Eval implements Expr.
func (e *Neg) Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := e.X.Eval(c, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	n := a.Len()
	valid := validAnd(n, a)
	switch classOf(e.X.Type()) {
	case classFloat:
		in := floats(a)
		out := make([]float64, n)
		for i, v := range in {
			out[i] = -v
		}
		return newFloat64(c, out, valid), nil
	case classNull:
		return array.NewNull(n), nil
	}
	in := ints(a)
	out := make([]int64, n)
	for i, v := range in {
		out[i] = -v
	}
	return newInt64(c, out, valid), nil
}

// IsNull tests for NULL (or, with Not, for non-NULL).
type IsNull struct {
	X   Expr
	Not bool
}

// Type implements Expr.
func (e *IsNull) Type() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

func (e *IsNull) String() string {
	if e.Not {
		return e.X.String() + " IS NOT NULL"
	}
	return e.X.String() + " IS NULL"
}

// Eval implements Expr.
func (e *IsNull) Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := e.X.Eval(c, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	out := make([]bool, a.Len())
	for i := range out {
		out[i] = IsNullAt(a, i) != e.Not
	}
	return NewBool(c.Mem, out, nil), nil
}

// InList tests membership in a list of constants.
type InList struct {
	X    Expr
	List []Scalar // already cast to X's type
	Not  bool
	set  map[Scalar]bool
	null bool // the list holds a NULL
}

// NewInList builds X [NOT] IN (list); list values are cast to X's type.
func NewInList(x Expr, list []Scalar, not bool, c *Ctx) (Expr, error) {
	e := &InList{X: x, Not: not, set: map[Scalar]bool{}}
	for _, v := range list {
		if v.Null {
			e.null = true
			continue
		}
		cv, err := v.Cast(x.Type(), c.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("IN list value %s does not match %s: %v", v.Display(), typeDisplayName(x.Type()), err)
		}
		cv.Type = nil // the set keys on the value only
		e.set[cv] = true
		cv.Type = x.Type()
		e.List = append(e.List, cv)
	}
	return e, nil
}

// Type implements Expr.
func (e *InList) Type() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

func (e *InList) String() string {
	parts := make([]string, len(e.List))
	for i, v := range e.List {
		parts[i] = v.Display()
	}
	if e.null {
		parts = append(parts, "NULL")
	}
	not := ""
	if e.Not {
		not = "NOT "
	}
	return fmt.Sprintf("%s %sIN ([%s])", e.X, not, strings.Join(parts, ", "))
}

// Eval implements Expr.
func (e *InList) Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := e.X.Eval(c, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	n := a.Len()
	out := make([]bool, n)
	valid := make([]bool, n)
	for i := 0; i < n; i++ {
		if IsNullAt(a, i) {
			continue
		}
		v := ScalarAt(a, i)
		v.Type = nil
		found := e.set[v]
		switch {
		case found:
			out[i], valid[i] = !e.Not, true
		case e.null: // x IN (.., NULL) is NULL when not found
		default:
			out[i], valid[i] = e.Not, true
		}
	}
	return NewBool(c.Mem, out, valid), nil
}

// Cast converts values to another type.
type Cast struct {
	X  Expr
	To arrow.DataType
}

// Type implements Expr.
func (e *Cast) Type() arrow.DataType { return e.To }

func (e *Cast) String() string { return fmt.Sprintf("CAST(%s AS %s)", e.X, dfTypeName(e.To)) }

// dfTypeName is the name DataFusion prints for a type in CAST.
func dfTypeName(t arrow.DataType) string {
	switch t.ID() {
	case arrow.TIMESTAMP:
		return "Timestamp(Millisecond, None)"
	case arrow.TIME64:
		return "Time64(Nanosecond)"
	}
	return typeDisplayName(t)
}

// Distinct is a IS [NOT] DISTINCT FROM b: equality where NULL equals NULL.
type Distinct struct {
	Eq  *Binary // a = b
	Not bool    // IS NOT DISTINCT FROM
}

// NewDistinct type-checks a IS [NOT] DISTINCT FROM b.
func NewDistinct(a, b Expr, not bool) (Expr, error) {
	eq, err := NewBinary(OpEq, a, b)
	if err != nil {
		return nil, err
	}
	return &Distinct{Eq: eq.(*Binary), Not: not}, nil
}

// Type implements Expr.
func (e *Distinct) Type() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

func (e *Distinct) String() string {
	op := "IS DISTINCT FROM"
	if e.Not {
		op = "IS NOT DISTINCT FROM"
	}
	return fmt.Sprintf("%s %s %s", e.Eq.L, op, e.Eq.R)
}

// Eval implements Expr.
func (e *Distinct) Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	args, err := evalArgs(c, rec, e.Eq.L, e.Eq.R, e.Eq)
	if err != nil {
		return nil, err
	}
	defer release(args...)
	l, r, eq := args[0], args[1], args[2]
	out := make([]bool, l.Len())
	for i := range out {
		ln, rn := IsNullAt(l, i), IsNullAt(r, i)
		distinct := ln != rn || (!ln && !rn && !eq.(*array.Boolean).Value(i))
		out[i] = distinct != e.Not
	}
	return NewBool(c.Mem, out, nil), nil
}

// Eval implements Expr.
func (e *Cast) Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := e.X.Eval(c, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	if arrow.TypeEqual(a.DataType(), e.To) {
		a.Retain()
		return a, nil
	}
	b := array.NewBuilder(c.Mem, e.To)
	defer b.Release()
	b.Reserve(a.Len())
	for i := 0; i < a.Len(); i++ {
		v, err := ScalarAt(a, i).Cast(e.To, c.TimeZone)
		if err != nil {
			return nil, err
		}
		v.Append(b)
	}
	return b.NewArray(), nil
}
