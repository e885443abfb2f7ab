package query

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query/internal/expr"
	"github.com/horaego/horaedb/query/parser"
)

// scopeCol is a column an expression may refer to.
type scopeCol struct {
	Name      string
	Qualifier string // table name or alias
	Type      arrow.DataType
	TimeKey   bool // the timestamp key of a table
}

type scope struct{ cols []scopeCol }

// resolve finds the column a reference names: an exact name match first,
// then a case-insensitive one if it is unique.
func (s *scope) resolve(ref *parser.ColumnRef) (int, error) {
	name := ref.Column.Name
	qual := ""
	if len(ref.Table) > 0 {
		qual = ref.Table.Table().Name
	}
	match := func(fold bool) []int {
		var out []int
		for i, c := range s.cols {
			if qual != "" && c.Qualifier != qual {
				continue
			}
			if c.Name == name || (fold && strings.EqualFold(c.Name, name)) {
				out = append(out, i)
			}
		}
		return out
	}
	found := match(false)
	if len(found) == 0 {
		found = match(true)
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return -1, fmt.Errorf("%w: column %s not found", ErrInvalid, ref)
	}
	return -1, fmt.Errorf("%w: column reference %s is ambiguous", ErrInvalid, ref)
}

func (s *scope) column(i int) *expr.Column {
	c := s.cols[i]
	return &expr.Column{Index: i, Name: c.Name, Qualifier: c.Qualifier, Typ: c.Type}
}

// postAgg maps expressions of an aggregate query to the columns of the
// aggregation's output.
type postAgg struct {
	out  *scope
	keys map[string]int // key expression (AST text) -> output column
	aggs map[string]int // aggregate call (AST text) -> output column
	// keyCols maps input columns that are group keys by themselves to
	// their output column.
	keyCols map[int]int
	input   *scope
	// aliases are the select list's aliases, which HAVING may use.
	aliases map[string]parser.Expr
}

// binder turns AST expressions into bound expressions over a scope.
type binder struct {
	sc    *stmtCtx
	scope *scope
	post  *postAgg // set when binding above an aggregation
}

func (b *binder) bind(e parser.Expr) (expr.Expr, error) {
	if b.post != nil {
		if i, ok := b.post.keys[e.String()]; ok {
			return b.post.out.column(i), nil
		}
		if fc, ok := e.(*parser.FuncCall); ok && expr.IsAggregate(strings.ToLower(fc.Name)) {
			if i, ok := b.post.aggs[e.String()]; ok {
				return b.post.out.column(i), nil
			}
		}
		if ref, ok := e.(*parser.ColumnRef); ok {
			in, err := b.post.input.resolve(ref)
			if err != nil {
				if alias, ok := b.post.aliases[ref.Column.Name]; ok && len(ref.Table) == 0 {
					return b.bind(alias)
				}
				return nil, err
			}
			if i, ok := b.post.keyCols[in]; ok {
				return b.post.out.column(i), nil
			}
			return nil, fmt.Errorf("%w: column %s must appear in the GROUP BY clause or be used in an aggregate function", ErrInvalid, ref)
		}
	}
	switch e := e.(type) {
	case *parser.ColumnRef:
		i, err := b.scope.resolve(e)
		if err != nil {
			return nil, err
		}
		return b.scope.column(i), nil
	case *parser.IntLit:
		if v, ok := e.Int64(); ok {
			return &expr.Literal{Val: expr.Int64(v)}, nil
		}
		return &expr.Literal{Val: expr.UInt64(e.Value)}, nil
	case *parser.FloatLit:
		return &expr.Literal{Val: expr.Float64(e.Value)}, nil
	case *parser.StringLit:
		return &expr.Literal{Val: expr.String(e.Value)}, nil
	case *parser.HexLit:
		return &expr.Literal{Val: expr.Bytes(e.Value)}, nil
	case *parser.BoolLit:
		return &expr.Literal{Val: expr.Bool(e.Value)}, nil
	case *parser.NullLit:
		return &expr.Literal{Val: expr.Null()}, nil
	case *parser.TypedLit:
		return b.typedLiteral(e)
	case *parser.UnaryExpr:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case parser.OpNeg:
			if l, ok := x.(*expr.Literal); ok {
				return negateLiteral(l)
			}
			n, err := expr.NewNeg(x)
			return n, invalid(err)
		case parser.OpNot:
			if !isBool(x.Type()) {
				return nil, fmt.Errorf("%w: NOT needs a boolean, got %s", ErrInvalid, e.X)
			}
			return &expr.Not{X: x}, nil
		}
		return x, nil
	case *parser.BinaryExpr:
		return b.binary(e)
	case *parser.IsExpr:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		switch e.Test {
		case parser.IsNull:
			return &expr.IsNull{X: x, Not: e.Not}, nil
		case parser.IsTrue, parser.IsFalse:
			if !isBool(x.Type()) {
				return nil, fmt.Errorf("%w: IS TRUE/FALSE needs a boolean", ErrInvalid)
			}
			cmp, err := expr.NewBinary(expr.OpEq, x, &expr.Literal{Val: expr.Bool(e.Test == parser.IsTrue)})
			if err != nil {
				return nil, invalid(err)
			}
			notNull := &expr.IsNull{X: x, Not: true}
			res, _ := expr.NewBinary(expr.OpAnd, notNull, cmp)
			if e.Not {
				return &expr.Not{X: res}, nil
			}
			return res, nil
		}
	case *parser.InListExpr:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		list := make([]expr.Scalar, len(e.List))
		for i, item := range e.List {
			if list[i], err = b.sc.constant(item); err != nil {
				return nil, err
			}
		}
		in, err := expr.NewInList(x, list, e.Not, b.sc.ec)
		return in, invalid(err)
	case *parser.BetweenExpr:
		ge := &parser.BinaryExpr{Op: parser.OpGtEq, Left: e.X, Right: e.Low}
		le := &parser.BinaryExpr{Op: parser.OpLtEq, Left: e.X, Right: e.High}
		res, err := b.bind(&parser.BinaryExpr{Op: parser.OpAnd, Left: ge, Right: le})
		if err != nil || !e.Not {
			return res, err
		}
		return &expr.Not{X: res}, nil
	case *parser.CastExpr:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		kind, err := schema.ParseKind(e.Type.Name)
		if err != nil {
			return nil, err
		}
		return &expr.Cast{X: x, To: kind.ArrowType()}, nil
	case *parser.LikeExpr:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		pat, err := b.bind(e.Pattern)
		if err != nil {
			return nil, err
		}
		escape := '\\'
		if e.Escape != nil {
			v, err := b.sc.constant(e.Escape)
			if err != nil || v.Type.ID() != arrow.STRING || len([]rune(v.S)) != 1 {
				return nil, fmt.Errorf("%w: ESCAPE must be one character", ErrInvalid)
			}
			escape = []rune(v.S)[0]
		}
		l, err := expr.NewLike(x, pat, e.Not, e.CaseInsensitive, escape)
		return l, invalid(err)
	case *parser.CaseExpr:
		var operand, els expr.Expr
		var err error
		if e.Operand != nil {
			if operand, err = b.bind(e.Operand); err != nil {
				return nil, err
			}
		}
		var whens, thens []expr.Expr
		for _, w := range e.Whens {
			c, err := b.bind(w.Cond)
			if err != nil {
				return nil, err
			}
			if operand != nil {
				_, c, err = b.coerce(operand, c)
				if err != nil {
					return nil, err
				}
			}
			r, err := b.bind(w.Result)
			if err != nil {
				return nil, err
			}
			whens, thens = append(whens, c), append(thens, r)
		}
		if e.Else != nil {
			if els, err = b.bind(e.Else); err != nil {
				return nil, err
			}
		}
		c, err := expr.NewCase(operand, whens, thens, els, b.sc.ec)
		return c, invalid(err)
	case *parser.IntervalExpr:
		v, err := b.sc.constant(e.Value)
		if err != nil {
			return nil, err
		}
		s, err := v.Cast(arrow.BinaryTypes.String, b.sc.ec.TimeZone)
		if err != nil {
			return nil, invalid(err)
		}
		ms, err := expr.ParseInterval(s.S, e.Unit)
		if err != nil {
			return nil, invalid(err)
		}
		return &expr.Literal{Val: expr.Interval(ms)}, nil
	case *parser.ExtractExpr:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		f, err := expr.NewDatePart(strings.ToLower(e.Field), x, b.sc.ec)
		return f, invalid(err)
	case *parser.SubqueryExpr, *parser.InSubqueryExpr, *parser.ExistsExpr:
		return nil, fmt.Errorf("%w: subqueries in expressions (only in FROM)", ErrUnsupported)
	case *parser.FuncCall:
		name := strings.ToLower(e.Name)
		if expr.IsAggregate(name) {
			return nil, fmt.Errorf("%w: aggregate function %s is not allowed here", ErrInvalid, name)
		}
		if e.Over != nil || e.Filter != nil || e.Distinct {
			return nil, fmt.Errorf("%w: %s", ErrUnsupported, e)
		}
		args := make([]expr.Expr, len(e.Args))
		for i, a := range e.Args {
			x, err := b.bind(a)
			if err != nil {
				return nil, err
			}
			args[i] = x
		}
		f, err := expr.NewFunc(name, args, b.sc.ec)
		if errors.Is(err, expr.ErrUnknownFunction) {
			return nil, fmt.Errorf("%w: unknown function %s", ErrInvalid, e.Name)
		}
		return f, invalid(err)
	}
	return nil, fmt.Errorf("%w: expression %s is not supported yet", ErrUnsupported, e)
}

// invalid marks a type error from the expr package as the client's.
func invalid(err error) error {
	if err == nil || errors.Is(err, ErrInvalid) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrInvalid, err)
}

func isBool(t arrow.DataType) bool { return t.ID() == arrow.BOOL || t.ID() == arrow.NULL }

func negateLiteral(l *expr.Literal) (expr.Expr, error) {
	v := l.Val
	switch {
	case v.Null:
		return l, nil
	case v.Type.ID() == arrow.INT64:
		return &expr.Literal{Val: expr.Int64(-v.I)}, nil
	case v.Type.ID() == arrow.UINT64 && v.U == 1<<63:
		return &expr.Literal{Val: expr.Int64(-1 << 63)}, nil
	case v.Type.ID() == arrow.FLOAT64:
		return &expr.Literal{Val: expr.Float64(-v.F)}, nil
	}
	return nil, fmt.Errorf("%w: cannot negate %s", ErrInvalid, v.Display())
}

func (b *binder) typedLiteral(e *parser.TypedLit) (expr.Expr, error) {
	var to arrow.DataType
	switch strings.ToUpper(e.Type) {
	case "TIMESTAMP":
		to = expr.TimestampType
	case "DATE":
		to = arrow.FixedWidthTypes.Date32
	case "TIME":
		to = arrow.FixedWidthTypes.Time64ns
	default:
		return nil, fmt.Errorf("%w: %s literals", ErrUnsupported, e.Type)
	}
	v, err := expr.String(e.Value).Cast(to, b.sc.ec.TimeZone)
	if err != nil {
		return nil, invalid(err)
	}
	return &expr.Literal{Val: v}, nil
}

var binaryOps = map[parser.BinaryOp]expr.Op{
	parser.OpAdd: expr.OpAdd, parser.OpSub: expr.OpSub, parser.OpMul: expr.OpMul, parser.OpDiv: expr.OpDiv,
	parser.OpMod: expr.OpMod, parser.OpEq: expr.OpEq, parser.OpNotEq: expr.OpNotEq, parser.OpLt: expr.OpLt,
	parser.OpLtEq: expr.OpLtEq, parser.OpGt: expr.OpGt, parser.OpGtEq: expr.OpGtEq, parser.OpAnd: expr.OpAnd,
	parser.OpOr: expr.OpOr, parser.OpConcat: expr.OpConcat,
}

func (b *binder) binary(e *parser.BinaryExpr) (expr.Expr, error) {
	switch e.Op {
	case parser.OpIsDistinctFrom, parser.OpIsNotDistinctFrom:
		l, err := b.bind(e.Left)
		if err != nil {
			return nil, err
		}
		r, err := b.bind(e.Right)
		if err != nil {
			return nil, err
		}
		if l, r, err = b.coerce(l, r); err != nil {
			return nil, err
		}
		d, err := expr.NewDistinct(l, r, e.Op == parser.OpIsNotDistinctFrom)
		return d, invalid(err)
	case parser.OpXor:
		xor := &parser.BinaryExpr{Op: parser.OpNotEq, Left: e.Left, Right: e.Right}
		return b.bind(xor)
	case parser.OpIntDiv:
		q, err := b.binary(&parser.BinaryExpr{Op: parser.OpDiv, Left: e.Left, Right: e.Right})
		if err != nil {
			return nil, err
		}
		if q.Type().ID() == arrow.FLOAT64 {
			t, err := expr.NewFunc("trunc", []expr.Expr{q}, b.sc.ec)
			if err != nil {
				return nil, invalid(err)
			}
			return &expr.Cast{X: t, To: arrow.PrimitiveTypes.Int64}, nil
		}
		return q, nil
	}
	op, ok := binaryOps[e.Op]
	if !ok {
		return nil, fmt.Errorf("%w: operator %s", ErrUnsupported, e.Op)
	}
	l, err := b.bind(e.Left)
	if err != nil {
		return nil, err
	}
	r, err := b.bind(e.Right)
	if err != nil {
		return nil, err
	}
	if op.IsComparison() {
		if l, r, err = b.coerce(l, r); err != nil {
			return nil, err
		}
	}
	out, err := expr.NewBinary(op, l, r)
	return out, invalid(err)
}

// coerce casts a literal compared with a non-literal to the other side's
// type where their kinds differ: a string compared with a timestamp is
// parsed as one, a number compared with a string becomes a string, an
// integer compared with an unsigned column becomes unsigned.
func (b *binder) coerce(l, r expr.Expr) (expr.Expr, expr.Expr, error) {
	cast := func(lit *expr.Literal, to arrow.DataType) (expr.Expr, error) {
		v, err := lit.Val.Cast(to, b.sc.ec.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("%w: cannot compare %s with %s: %v", ErrInvalid, lit, typeName(to), err)
		}
		return &expr.Literal{Val: v}, nil
	}
	needs := func(lit *expr.Literal, other arrow.DataType) bool {
		lt := lit.Val.Type
		if lit.Val.Null || arrow.TypeEqual(lt, other) || other.ID() == arrow.NULL {
			return false
		}
		if expr.IsNumeric(lt) && expr.IsNumeric(other) {
			// Integers against unsigned columns: compare exactly.
			return lt.ID() == arrow.INT64 && isUnsigned(other)
		}
		return true
	}
	var err error
	if lit, ok := r.(*expr.Literal); ok {
		if _, lok := l.(*expr.Literal); !lok && needs(lit, l.Type()) {
			r, err = cast(lit, l.Type())
		}
	} else if lit, ok := l.(*expr.Literal); ok && needs(lit, r.Type()) {
		l, err = cast(lit, r.Type())
	}
	return l, r, err
}

func isUnsigned(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

func typeName(t arrow.DataType) string {
	if k, ok := schema.KindOf(t); ok {
		return k.String()
	}
	return t.String()
}

// constant evaluates an expression without columns.
func (sc *stmtCtx) constant(e parser.Expr) (expr.Scalar, error) {
	b := &binder{sc: sc, scope: &scope{}}
	x, err := b.bind(e)
	if err != nil {
		if errors.Is(err, ErrInvalid) && strings.Contains(err.Error(), "not found") {
			return expr.Scalar{}, fmt.Errorf("%w: %s is not a constant", ErrInvalid, e)
		}
		return expr.Scalar{}, err
	}
	rec := array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1)
	arr, err := x.Eval(sc.ec, rec)
	if err != nil {
		return expr.Scalar{}, invalid(err)
	}
	defer arr.Release()
	return expr.ScalarAt(arr, 0), nil
}
