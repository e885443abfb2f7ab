package expr

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Op is a binary operator.
type Op uint8

// Binary operators.
const (
	OpAdd Op = iota + 1
	OpSub
	OpMul
	OpDiv
	OpMod
	OpEq
	OpNotEq
	OpLt
	OpLtEq
	OpGt
	OpGtEq
	OpAnd
	OpOr
	OpConcat
)

var opText = map[Op]string{OpAdd: "+", OpSub: "-", OpMul: "*", OpDiv: "/", OpMod: "%",
	OpEq: "=", OpNotEq: "!=", OpLt: "<", OpLtEq: "<=", OpGt: ">", OpGtEq: ">=",
	OpAnd: "AND", OpOr: "OR", OpConcat: "||"}

func (op Op) String() string { return opText[op] }

// IsComparison reports whether op compares.
func (op Op) IsComparison() bool { return op >= OpEq && op <= OpGtEq }

// Binary applies an operator to two expressions.
type Binary struct {
	Op   Op
	L, R Expr
	typ  arrow.DataType
	cls  class // the class both sides are computed in
}

// NewBinary type-checks and builds a binary expression.
func NewBinary(op Op, l, r Expr) (Expr, error) {
	lt, rt := l.Type(), r.Type()
	e := &Binary{Op: op, L: l, R: r}
	lc, rc := classOf(lt), classOf(rt)
	bad := func() (Expr, error) {
		return nil, fmt.Errorf("cannot apply %s to %s and %s", op, typeDisplayName(lt), typeDisplayName(rt))
	}
	nullSide := lt.ID() == arrow.NULL || rt.ID() == arrow.NULL
	switch {
	case op == OpAnd || op == OpOr:
		if (lc != classBool && lt.ID() != arrow.NULL) || (rc != classBool && rt.ID() != arrow.NULL) {
			return bad()
		}
		e.typ = arrow.FixedWidthTypes.Boolean
	case op == OpConcat:
		e.typ, e.cls = arrow.BinaryTypes.String, classString
	case op.IsComparison():
		e.typ = arrow.FixedWidthTypes.Boolean
		switch {
		case nullSide:
			e.cls = classNull
		case numericLike(lt) && numericLike(rt):
			e.cls = numericClass(lt, rt)
		case lc == rc && (lc == classString || lc == classBinary || lc == classBool):
			e.cls = lc
		default:
			return bad()
		}
	default: // arithmetic
		switch {
		case nullSide:
			e.typ, e.cls = arrow.Null, classNull
			if lt.ID() != arrow.NULL {
				e.typ = lt
			} else if rt.ID() != arrow.NULL {
				e.typ = rt
			}
		case lt.ID() == arrow.TIMESTAMP && rt.ID() == arrow.TIMESTAMP && op == OpSub:
			e.typ, e.cls = arrow.PrimitiveTypes.Int64, classInt
		case lt.ID() == arrow.TIMESTAMP && rt.ID() == arrow.DURATION && (op == OpAdd || op == OpSub),
			rt.ID() == arrow.TIMESTAMP && lt.ID() == arrow.DURATION && op == OpAdd:
			e.typ, e.cls = TimestampType, classInt
		case lt.ID() == arrow.DURATION && rt.ID() == arrow.DURATION && (op == OpAdd || op == OpSub):
			e.typ, e.cls = DurationType, classInt
		case lt.ID() == arrow.TIMESTAMP && IsNumeric(rt) && classOf(rt) != classFloat && (op == OpAdd || op == OpSub):
			e.typ, e.cls = TimestampType, classInt
		case IsNumeric(lt) && IsNumeric(rt):
			e.cls = numericClass(lt, rt)
			switch e.cls {
			case classFloat:
				e.typ = arrow.PrimitiveTypes.Float64
			case classUint:
				e.typ = arrow.PrimitiveTypes.Uint64
			default:
				e.typ = arrow.PrimitiveTypes.Int64
			}
		default:
			return bad()
		}
	}
	return e, nil
}

func numericLike(t arrow.DataType) bool { return IsNumeric(t) || IsTemporal(t) }

// numericClass is the class two numeric types are computed in.
func numericClass(a, b arrow.DataType) class {
	ac, bc := classOf(a), classOf(b)
	switch {
	case ac == classFloat || bc == classFloat:
		return classFloat
	case ac == classUint && bc == classUint:
		return classUint
	}
	return classInt
}

// Type implements Expr.
func (e *Binary) Type() arrow.DataType { return e.typ }

func (e *Binary) String() string {
	return fmt.Sprintf("%s %s %s", paren(e.L), e.Op, paren(e.R))
}

func paren(x Expr) string {
	if b, ok := x.(*Binary); ok && (b.Op == OpAnd || b.Op == OpOr) {
		return "(" + x.String() + ")"
	}
	return x.String()
}

// Eval implements Expr.
func (e *Binary) Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	if e.Op.IsComparison() && e.cls != classNull {
		// column <op> constant: compare with the scalar, no constant array.
		if lit, ok := e.R.(*Literal); ok && !lit.Val.Null {
			if out, ok, err := e.compareConst(c, rec, e.L, lit.Val, e.Op); ok {
				return out, err
			}
		} else if lit, ok := e.L.(*Literal); ok && !lit.Val.Null {
			if out, ok, err := e.compareConst(c, rec, e.R, lit.Val, flipOp(e.Op)); ok {
				return out, err
			}
		}
	}
	args, err := evalArgs(c, rec, e.L, e.R)
	if err != nil {
		return nil, err
	}
	defer release(args...)
	l, r := args[0], args[1]
	n := int(rec.NumRows())
	switch {
	case e.Op == OpAnd || e.Op == OpOr:
		return logic(c, e.Op, l, r, n), nil
	case e.cls == classNull:
		return NullOf(e.typ).Repeat(c.Mem, n)
	case e.Op == OpConcat:
		return concat(c, l, r, n), nil
	case e.Op.IsComparison():
		return compareArrays(c, e.Op, e.cls, l, r, n), nil
	}
	valid := validAnd(n, l, r)
	switch e.cls {
	case classFloat:
		out := make([]float64, n)
		if err := arith(e.Op, floats(l), floats(r), out, valid); err != nil {
			return nil, err
		}
		return newFloat64(c, out, valid), nil
	case classUint:
		out := make([]uint64, n)
		if err := arith(e.Op, uints(l), uints(r), out, valid); err != nil {
			return nil, err
		}
		return newUint64(c, out, valid), nil
	default:
		out := make([]int64, n)
		if err := arith(e.Op, ints(l), ints(r), out, valid); err != nil {
			return nil, err
		}
		switch e.typ.ID() {
		case arrow.TIMESTAMP:
			return newTimestamp(c, out, valid), nil
		case arrow.DURATION:
			b := array.NewDurationBuilder(c.Mem, DurationType)
			defer b.Release()
			b.AppendValues(arrow.DurationTraits.CastFromBytes(arrow.Int64Traits.CastToBytes(out)), valid)
			return b.NewArray(), nil
		}
		return newInt64(c, out, valid), nil
	}
}

func arith[T int64 | uint64 | float64](op Op, a, b, out []T, valid []bool) error {
	switch op {
	case OpAdd:
		for i := range out {
			out[i] = a[i] + b[i]
		}
	case OpSub:
		for i := range out {
			out[i] = a[i] - b[i]
		}
	case OpMul:
		for i := range out {
			out[i] = a[i] * b[i]
		}
	case OpDiv, OpMod:
		var zero T
		for i := range out {
			if valid != nil && !valid[i] {
				continue
			}
			if b[i] == zero {
				if _, isFloat := any(zero).(float64); isFloat && op == OpDiv {
					out[i] = a[i] / b[i] // IEEE: ±Inf or NaN
					continue
				}
				return Errorf("Divide by zero error")
			}
			if op == OpDiv {
				out[i] = a[i] / b[i]
			} else {
				out[i] = mod(a[i], b[i])
			}
		}
	}
	return nil
}

func mod[T int64 | uint64 | float64](a, b T) T {
	switch x := any(a).(type) {
	case int64:
		return T(x % int64(b))
	case uint64:
		return T(x % uint64(b))
	case float64:
		y := float64(b)
		return T(x - y*float64(int64(x/y)))
	}
	return a
}

func cmpResult(op Op, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNotEq:
		return c != 0
	case OpLt:
		return c < 0
	case OpLtEq:
		return c <= 0
	case OpGt:
		return c > 0
	case OpGtEq:
		return c >= 0
	}
	return false
}

func compareSlices[T cmp.Ordered](op Op, a, b []T, out []bool) {
	for i := range out {
		out[i] = cmpResult(op, cmp.Compare(a[i], b[i]))
	}
}

func compareArrays(c *Ctx, op Op, cls class, l, r arrow.Array, n int) arrow.Array {
	out := make([]bool, n)
	valid := validAnd(n, l, r)
	switch cls {
	case classFloat:
		compareSlices(op, floats(l), floats(r), out)
	case classUint:
		compareSlices(op, uints(l), uints(r), out)
	case classInt:
		lu, ru := classOf(l.DataType()) == classUint, classOf(r.DataType()) == classUint
		if !lu && !ru {
			compareSlices(op, ints(l), ints(r), out)
			break
		}
		// A signed and an unsigned side: compare exactly.
		for i := range out {
			out[i] = cmpResult(op, cmpMixed(l, r, i, lu, ru))
		}
	case classString:
		ls, rs := l.(*array.String), r.(*array.String)
		for i := range out {
			out[i] = cmpResult(op, strings.Compare(ls.Value(i), rs.Value(i)))
		}
	case classBinary:
		lb, rb := l.(*array.Binary), r.(*array.Binary)
		for i := range out {
			out[i] = cmpResult(op, strings.Compare(string(lb.Value(i)), string(rb.Value(i))))
		}
	case classBool:
		lb, rb := l.(*array.Boolean), r.(*array.Boolean)
		for i := range out {
			out[i] = cmpResult(op, cmp.Compare(b2i(lb.Value(i)), b2i(rb.Value(i))))
		}
	}
	return NewBool(c.Mem, out, valid)
}

func cmpMixed(l, r arrow.Array, i int, lu, ru bool) int {
	ls, rs := ScalarAt(l, i), ScalarAt(r, i)
	switch {
	case lu && !ru:
		if rs.I < 0 {
			return 1
		}
		return cmp.Compare(ls.U, uint64(rs.I))
	case !lu && ru:
		if ls.I < 0 {
			return -1
		}
		return cmp.Compare(uint64(ls.I), rs.U)
	}
	return 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// logic implements AND and OR with SQL's three-valued logic.
func logic(c *Ctx, op Op, l, r arrow.Array, n int) arrow.Array {
	out := make([]bool, n)
	valid := make([]bool, n)
	lb, _ := l.(*array.Boolean)
	rb, _ := r.(*array.Boolean)
	get := func(a *array.Boolean, arr arrow.Array, i int) (v, ok bool) {
		if IsNullAt(arr, i) {
			return false, false
		}
		return a.Value(i), true
	}
	for i := 0; i < n; i++ {
		lv, lok := get(lb, l, i)
		rv, rok := get(rb, r, i)
		if op == OpAnd {
			switch {
			case (lok && !lv) || (rok && !rv):
				out[i], valid[i] = false, true
			case lok && rok:
				out[i], valid[i] = true, true
			}
		} else {
			switch {
			case (lok && lv) || (rok && rv):
				out[i], valid[i] = true, true
			case lok && rok:
				out[i], valid[i] = false, true
			}
		}
	}
	return NewBool(c.Mem, out, valid)
}

func concat(c *Ctx, l, r arrow.Array, n int) arrow.Array {
	b := array.NewStringBuilder(c.Mem)
	defer b.Release()
	for i := 0; i < n; i++ {
		if IsNullAt(l, i) || IsNullAt(r, i) {
			b.AppendNull()
			continue
		}
		b.Append(stringOf(l, i) + stringOf(r, i))
	}
	return b.NewArray()
}

func stringOf(a arrow.Array, i int) string {
	s := ScalarAt(a, i)
	if str, err := s.Cast(arrow.BinaryTypes.String, nil); err == nil {
		return str.S
	}
	return ""
}

func flipOp(op Op) Op {
	switch op {
	case OpLt:
		return OpGt
	case OpLtEq:
		return OpGtEq
	case OpGt:
		return OpLt
	case OpGtEq:
		return OpLtEq
	}
	return op
}

// compareConst compares x with a constant; ok is false when the pair has
// no fast path.
func (e *Binary) compareConst(c *Ctx, rec arrow.RecordBatch, x Expr, v Scalar, op Op) (arrow.Array, bool, error) {
	xt := x.Type()
	switch {
	case e.cls == classFloat:
	case e.cls == classInt && classOf(xt) == classInt && classOf(v.Type) == classInt:
	case e.cls == classUint && classOf(xt) == classUint && classOf(v.Type) == classUint:
	case e.cls == classString:
	default:
		return nil, false, nil
	}
	a, err := x.Eval(c, rec)
	if err != nil {
		return nil, true, err
	}
	defer a.Release()
	n := a.Len()
	out := make([]bool, n)
	switch e.cls {
	case classFloat:
		f, _ := v.Cast(arrow.PrimitiveTypes.Float64, nil)
		for i, x := range floats(a) {
			out[i] = cmpResult(op, cmp.Compare(x, f.F))
		}
	case classInt:
		for i, x := range ints(a) {
			out[i] = cmpResult(op, cmp.Compare(x, v.I))
		}
	case classUint:
		for i, x := range uints(a) {
			out[i] = cmpResult(op, cmp.Compare(x, v.U))
		}
	case classString:
		s := a.(*array.String)
		for i := range out {
			out[i] = cmpResult(op, strings.Compare(s.Value(i), v.S))
		}
	}
	return NewBool(c.Mem, out, validAnd(n, a)), true, nil
}
