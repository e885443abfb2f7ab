package parser

import (
	"strings"
)

func (e *ColumnRef) format(b *strings.Builder) {
	if len(e.Table) > 0 {
		e.Table.format(b)
		b.WriteByte('.')
	}
	e.Column.format(b)
}

func (e *Wildcard) format(b *strings.Builder) {
	if len(e.Table) > 0 {
		e.Table.format(b)
		b.WriteByte('.')
	}
	b.WriteByte('*')
}

func (e *IntLit) format(b *strings.Builder) { writeUint(b, e.Value) }

func (e *FloatLit) format(b *strings.Builder) { b.WriteString(e.Text) }

func (e *StringLit) format(b *strings.Builder) { writeString(b, e.Value) }

func (e *HexLit) format(b *strings.Builder) {
	const digits = "0123456789abcdef"
	b.WriteString("x'")
	for _, c := range e.Value {
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&0xF])
	}
	b.WriteByte('\'')
}

func (e *BoolLit) format(b *strings.Builder) {
	if e.Value {
		b.WriteString("TRUE")
	} else {
		b.WriteString("FALSE")
	}
}

func (e *NullLit) format(b *strings.Builder) { b.WriteString("NULL") }

func (e *TypedLit) format(b *strings.Builder) {
	b.WriteString(e.Type)
	b.WriteByte(' ')
	writeString(b, e.Value)
}

func (e *IntervalExpr) format(b *strings.Builder) {
	b.WriteString("INTERVAL ")
	if intervalValueNeedsParens(e.Value) {
		b.WriteByte('(')
		e.Value.format(b)
		b.WriteByte(')')
	} else {
		e.Value.format(b)
	}
	if e.Unit != "" {
		b.WriteByte(' ')
		b.WriteString(e.Unit)
	}
}

// intervalValueNeedsParens reports whether the value of an INTERVAL must be
// parenthesised. The parser reads the value as a prefix expression and
// gives a following unit to the innermost INTERVAL, so binary operators,
// NOT (which swallows what follows) and nested INTERVALs need parentheses.
func intervalValueNeedsParens(v Expr) bool {
	switch v := v.(type) {
	case *UnaryExpr:
		return v.Op == OpNot || intervalValueNeedsParens(v.X)
	case *IntervalExpr:
		return true
	}
	return precedence(v) < precPrimary
}

func (e *UnaryExpr) format(b *strings.Builder) {
	if e.Op == OpNot {
		b.WriteString("NOT ")
		writeExprPrec(b, e.X, precNot)
		return
	}
	b.WriteString(e.Op.String())
	if x, ok := e.X.(*UnaryExpr); ok && x.Op != OpNot {
		// "- -1", not "--1", which would start a comment.
		b.WriteByte(' ')
	}
	writeExprPrec(b, e.X, precUnary)
}

func (e *BinaryExpr) format(b *strings.Builder) {
	p := precedence(e)
	writeExprPrec(b, e.Left, p)
	b.WriteByte(' ')
	b.WriteString(e.Op.String())
	b.WriteByte(' ')
	// Operators are left-associative: a right operand at the same level
	// needs parentheses.
	writeExprPrec(b, e.Right, p+1)
}

func (e *IsExpr) format(b *strings.Builder) {
	writeExprPrec(b, e.X, precIs)
	b.WriteString(" IS ")
	if e.Not {
		b.WriteString("NOT ")
	}
	switch e.Test {
	case IsNull:
		b.WriteString("NULL")
	case IsTrue:
		b.WriteString("TRUE")
	case IsFalse:
		b.WriteString("FALSE")
	default:
		b.WriteString("UNKNOWN")
	}
}

func writeNot(b *strings.Builder, not bool) {
	if not {
		b.WriteString(" NOT")
	}
}

func (e *LikeExpr) format(b *strings.Builder) {
	writeExprPrec(b, e.X, precCmp)
	writeNot(b, e.Not)
	if e.CaseInsensitive {
		b.WriteString(" ILIKE ")
	} else {
		b.WriteString(" LIKE ")
	}
	writeExprPrec(b, e.Pattern, precCmp+1)
	if e.Escape != nil {
		b.WriteString(" ESCAPE ")
		writeExprPrec(b, e.Escape, precCmp+1)
	}
}

func (e *InListExpr) format(b *strings.Builder) {
	writeExprPrec(b, e.X, precCmp)
	writeNot(b, e.Not)
	b.WriteString(" IN (")
	writeExprList(b, e.List)
	b.WriteByte(')')
}

func (e *InSubqueryExpr) format(b *strings.Builder) {
	writeExprPrec(b, e.X, precCmp)
	writeNot(b, e.Not)
	b.WriteString(" IN (")
	e.Query.format(b)
	b.WriteByte(')')
}

func (e *BetweenExpr) format(b *strings.Builder) {
	writeExprPrec(b, e.X, precCmp)
	writeNot(b, e.Not)
	b.WriteString(" BETWEEN ")
	writeExprPrec(b, e.Low, precCmp+1)
	b.WriteString(" AND ")
	writeExprPrec(b, e.High, precCmp+1)
}

func (e *CaseExpr) format(b *strings.Builder) {
	b.WriteString("CASE")
	if e.Operand != nil {
		b.WriteByte(' ')
		writeExpr(b, e.Operand)
	}
	for _, w := range e.Whens {
		b.WriteByte(' ')
		w.format(b)
	}
	if e.Else != nil {
		b.WriteString(" ELSE ")
		writeExpr(b, e.Else)
	}
	b.WriteString(" END")
}

func (w WhenClause) format(b *strings.Builder) {
	b.WriteString("WHEN ")
	writeExpr(b, w.Cond)
	b.WriteString(" THEN ")
	writeExpr(b, w.Result)
}

func (e *CastExpr) format(b *strings.Builder) {
	b.WriteString("CAST(")
	writeExpr(b, e.X)
	b.WriteString(" AS ")
	e.Type.format(b)
	b.WriteByte(')')
}

func (e *ExtractExpr) format(b *strings.Builder) {
	b.WriteString("EXTRACT(")
	b.WriteString(e.Field)
	b.WriteString(" FROM ")
	writeExpr(b, e.X)
	b.WriteByte(')')
}

func (e *FuncCall) format(b *strings.Builder) {
	if funcNameNeedsQuotes(e.Name) {
		writeIdent(b, e.Name, true)
	} else {
		b.WriteString(e.Name)
	}
	b.WriteByte('(')
	if e.Distinct {
		b.WriteString("DISTINCT ")
	}
	writeExprList(b, e.Args)
	b.WriteByte(')')
	if e.Filter != nil {
		b.WriteString(" FILTER (WHERE ")
		writeExpr(b, e.Filter)
		b.WriteByte(')')
	}
	if e.Over != nil {
		b.WriteString(" OVER ")
		e.Over.format(b)
	}
}

func (w *WindowSpec) format(b *strings.Builder) {
	b.WriteByte('(')
	sep := ""
	if len(w.PartitionBy) > 0 {
		b.WriteString("PARTITION BY ")
		writeExprList(b, w.PartitionBy)
		sep = " "
	}
	if len(w.OrderBy) > 0 {
		b.WriteString(sep)
		writeOrderBy(b, w.OrderBy)
		sep = " "
	}
	if w.Frame != nil {
		b.WriteString(sep)
		w.Frame.format(b)
	}
	b.WriteByte(')')
}

func (f *WindowFrame) format(b *strings.Builder) {
	switch f.Units {
	case FrameRows:
		b.WriteString("ROWS ")
	case FrameRange:
		b.WriteString("RANGE ")
	default:
		b.WriteString("GROUPS ")
	}
	if f.End == nil {
		f.Start.format(b)
		return
	}
	b.WriteString("BETWEEN ")
	f.Start.format(b)
	b.WriteString(" AND ")
	f.End.format(b)
}

func (fb FrameBound) format(b *strings.Builder) {
	if fb.Kind == BoundCurrentRow {
		b.WriteString("CURRENT ROW")
		return
	}
	switch c, _ := fb.Offset.(*ColumnRef); {
	case fb.Offset == nil:
		b.WriteString("UNBOUNDED")
	case c != nil && c.Table == nil && !c.Column.Quoted && eqFold(c.Column.Name, "UNBOUNDED"):
		// A column named unbounded, not the keyword.
		b.WriteString("(")
		c.format(b)
		b.WriteString(")")
	default:
		// Bounds are parsed above AND, which separates them.
		writeExprPrec(b, fb.Offset, precAnd+1)
	}
	if fb.Kind == BoundPreceding {
		b.WriteString(" PRECEDING")
	} else {
		b.WriteString(" FOLLOWING")
	}
}

func (e *SubqueryExpr) format(b *strings.Builder) {
	b.WriteByte('(')
	e.Query.format(b)
	b.WriteByte(')')
}

func (e *ExistsExpr) format(b *strings.Builder) {
	b.WriteString("EXISTS (")
	e.Query.format(b)
	b.WriteByte(')')
}
