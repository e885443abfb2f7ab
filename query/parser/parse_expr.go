package parser

import (
	"strconv"
	"strings"
)

// parseExpr parses a complete expression.
func (p *parser) parseExpr() (Expr, error) { return p.parseSubexpr(precLowest) }

func (p *parser) parseExprList() ([]Expr, error) {
	var list []Expr
	for {
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if !p.accept(tokComma) {
			return list, nil
		}
	}
}

// parseSubexpr parses an expression made of operators that bind tighter
// than minPrec (precedence climbing).
func (p *parser) parseSubexpr(minPrec int) (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	left, err := p.parsePrefix()
	if err != nil {
		return nil, err
	}
	for {
		prec := p.infixPrecedence()
		if prec <= minPrec {
			return left, nil
		}
		if left, err = p.parseInfix(left, prec); err != nil {
			return nil, err
		}
	}
}

// binaryOps maps operator tokens to binary operators.
var binaryOps = [...]BinaryOp{
	tokEq:      OpEq,
	tokNotEq:   OpNotEq,
	tokLt:      OpLt,
	tokLtEq:    OpLtEq,
	tokGt:      OpGt,
	tokGtEq:    OpGtEq,
	tokPlus:    OpAdd,
	tokMinus:   OpSub,
	tokStar:    OpMul,
	tokSlash:   OpDiv,
	tokPercent: OpMod,
	tokConcat:  OpConcat,
}

// infixPrecedence returns the precedence of the infix operator at the
// current token, or precLowest if there is none.
func (p *parser) infixPrecedence() int {
	t := p.peek()
	switch t.kind {
	case tokDoubleColon:
		return precCast
	case tokWord:
		switch {
		case isWord(t, "OR"):
			return precOr
		case isWord(t, "XOR"):
			return precXor
		case isWord(t, "AND"):
			return precAnd
		case isWord(t, "IS"):
			return precIs
		case isWord(t, "LIKE"), isWord(t, "ILIKE"), isWord(t, "IN"), isWord(t, "BETWEEN"):
			return precCmp
		case isWord(t, "NOT"):
			// Infix only in NOT LIKE / NOT IN / NOT BETWEEN; otherwise
			// the expression ends here (as in "DEFAULT 0 NOT NULL").
			n := p.peekAt(1)
			if isWord(n, "LIKE") || isWord(n, "ILIKE") || isWord(n, "IN") || isWord(n, "BETWEEN") {
				return precCmp
			}
		case isWord(t, "DIV"):
			return precMul
		}
	default:
		if int(t.kind) < len(binaryOps) && binaryOps[t.kind] != 0 {
			return binaryPrec[binaryOps[t.kind]]
		}
	}
	return precLowest
}

func (p *parser) parseInfix(left Expr, prec int) (Expr, error) {
	t := p.next()
	switch t.kind {
	case tokDoubleColon:
		typ, _, err := p.parseDataType(true)
		if err != nil {
			return nil, err
		}
		return &CastExpr{X: left, Type: typ}, nil
	case tokWord:
		return p.parseKeywordInfix(left, t, prec)
	}
	right, err := p.parseSubexpr(prec)
	if err != nil {
		return nil, err
	}
	return &BinaryExpr{Op: binaryOps[t.kind], Left: left, Right: right}, nil
}

// parseKeywordInfix parses what follows an infix keyword t (already
// consumed): AND, OR, XOR, DIV, IS ..., [NOT] LIKE|ILIKE|IN|BETWEEN.
func (p *parser) parseKeywordInfix(left Expr, t *token, prec int) (Expr, error) {
	var op BinaryOp
	switch {
	case isWord(t, "OR"):
		op = OpOr
	case isWord(t, "XOR"):
		op = OpXor
	case isWord(t, "AND"):
		op = OpAnd
	case isWord(t, "DIV"):
		op = OpIntDiv
	case isWord(t, "IS"):
		return p.parseIs(left)
	default:
		not := isWord(t, "NOT")
		if not {
			t = p.next()
		}
		switch {
		case isWord(t, "LIKE"), isWord(t, "ILIKE"):
			return p.parseLike(left, not, isWord(t, "ILIKE"))
		case isWord(t, "IN"):
			return p.parseIn(left, not)
		default: // BETWEEN
			return p.parseBetween(left, not)
		}
	}
	right, err := p.parseSubexpr(prec)
	if err != nil {
		return nil, err
	}
	return &BinaryExpr{Op: op, Left: left, Right: right}, nil
}

// parseIs parses what follows IS: [NOT] NULL|TRUE|FALSE|UNKNOWN or
// [NOT] DISTINCT FROM expr.
func (p *parser) parseIs(left Expr) (Expr, error) {
	not := p.acceptKw("NOT")
	switch {
	case p.acceptKw("NULL"):
		return &IsExpr{X: left, Not: not, Test: IsNull}, nil
	case p.acceptKw("TRUE"):
		return &IsExpr{X: left, Not: not, Test: IsTrue}, nil
	case p.acceptKw("FALSE"):
		return &IsExpr{X: left, Not: not, Test: IsFalse}, nil
	case p.acceptKw("UNKNOWN"):
		return &IsExpr{X: left, Not: not, Test: IsUnknown}, nil
	case p.acceptKws("DISTINCT", "FROM"):
		right, err := p.parseSubexpr(precIs)
		if err != nil {
			return nil, err
		}
		op := OpIsDistinctFrom
		if not {
			op = OpIsNotDistinctFrom
		}
		return &BinaryExpr{Op: op, Left: left, Right: right}, nil
	}
	return nil, p.expected("NULL, TRUE, FALSE, UNKNOWN or DISTINCT FROM after IS")
}

func (p *parser) parseLike(left Expr, not, ilike bool) (Expr, error) {
	pattern, err := p.parseSubexpr(precCmp)
	if err != nil {
		return nil, err
	}
	e := &LikeExpr{X: left, Not: not, CaseInsensitive: ilike, Pattern: pattern}
	if p.acceptKw("ESCAPE") {
		if e.Escape, err = p.parseSubexpr(precCmp); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (p *parser) parseIn(left Expr, not bool) (Expr, error) {
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	if p.isKw("SELECT") || p.isKw("WITH") {
		q, err := p.parseQuery()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return &InSubqueryExpr{X: left, Not: not, Query: q}, nil
	}
	list, err := p.parseExprList()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	return &InListExpr{X: left, Not: not, List: list}, nil
}

func (p *parser) parseBetween(left Expr, not bool) (Expr, error) {
	low, err := p.parseSubexpr(precCmp)
	if err != nil {
		return nil, err
	}
	if err := p.expectKw("AND"); err != nil {
		return nil, err
	}
	high, err := p.parseSubexpr(precCmp)
	if err != nil {
		return nil, err
	}
	return &BetweenExpr{X: left, Not: not, Low: low, High: high}, nil
}

// parsePrefix parses a primary expression or a prefix operator.
func (p *parser) parsePrefix() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tokNumber:
		p.next()
		return numberLit(t.text), nil
	case tokString:
		p.next()
		return &StringLit{Value: t.text}, nil
	case tokHex:
		p.next()
		return &HexLit{Value: []byte(t.text)}, nil
	case tokMinus, tokPlus:
		p.next()
		x, err := p.parseSubexpr(precUnary)
		if err != nil {
			return nil, err
		}
		op := OpNeg
		if t.kind == tokPlus {
			op = OpPlus
		}
		return &UnaryExpr{Op: op, X: x}, nil
	case tokLParen:
		p.next()
		if p.isKw("SELECT") || p.isKw("WITH") {
			q, err := p.parseQuery()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tokRParen); err != nil {
				return nil, err
			}
			return &SubqueryExpr{Query: q}, nil
		}
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return e, nil
	case tokQuotedIdent:
		return p.parseNameOrCall()
	case tokWord:
		return p.parseWordPrefix(t)
	}
	return nil, p.expected("an expression")
}

// numberLit builds the literal for a number token: an IntLit when it is an
// integer that fits in a uint64, a FloatLit otherwise.
func numberLit(text string) Expr {
	if !strings.ContainsAny(text, ".eE") {
		if v, err := strconv.ParseUint(text, 10, 64); err == nil {
			return &IntLit{Value: v}
		}
	}
	return newFloatLit(text)
}

// parseWordPrefix parses an expression that starts with a bare word:
// keywords with their own syntax, function calls and column references.
func (p *parser) parseWordPrefix(t *token) (Expr, error) {
	next := p.peekAt(1)
	switch {
	case isWord(t, "NULL"):
		p.next()
		return &NullLit{}, nil
	case isWord(t, "TRUE"), isWord(t, "FALSE"):
		p.next()
		return &BoolLit{Value: isWord(t, "TRUE")}, nil
	case isWord(t, "NOT"):
		p.next()
		x, err := p.parseSubexpr(precNot)
		if err != nil {
			return nil, err
		}
		return &UnaryExpr{Op: OpNot, X: x}, nil
	case isWord(t, "CASE"):
		return p.parseCase()
	case isWord(t, "CAST"):
		return p.parseCast()
	case isWord(t, "EXISTS"):
		p.next()
		if _, err := p.expect(tokLParen); err != nil {
			return nil, err
		}
		q, err := p.parseQuery()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return &ExistsExpr{Query: q}, nil
	case isWord(t, "INTERVAL"):
		return p.parseInterval()
	case (isWord(t, "TIMESTAMP") || isWord(t, "DATE") || isWord(t, "TIME")) && next.kind == tokString:
		p.i += 2
		return &TypedLit{Type: upperWord(t.text), Value: next.text}, nil
	case isWord(t, "EXTRACT") && next.kind == tokLParen:
		return p.parseExtract()
	case isWord(t, "CURRENT_TIMESTAMP") || isWord(t, "CURRENT_DATE") || isWord(t, "CURRENT_TIME"):
		if next.kind == tokLParen {
			return p.parseNameOrCall()
		}
		p.next()
		return &FuncCall{Name: lowerASCII(t.text)}, nil
	case t.reserved && !(next.kind == tokLParen && inWordSet(reservedFuncs, t.text)):
		return nil, p.expected("an expression")
	}
	return p.parseNameOrCall()
}

// upperWord upper-cases the ASCII letters of a keyword-like word.
func upperWord(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// parseNameOrCall parses a column reference (c, t.c, `db`.t.c) or a
// function call name(...).
func (p *parser) parseNameOrCall() (Expr, error) {
	t := p.next()
	if p.peek().kind == tokLParen {
		return p.parseCall(lowerASCII(t.text))
	}
	name := ObjectName{{Name: t.text, Quoted: t.kind == tokQuotedIdent}}
	for p.peek().kind == tokDot {
		n := p.peekAt(1)
		if n.kind != tokWord && n.kind != tokQuotedIdent {
			p.next()
			return nil, p.expected("an identifier after '.'")
		}
		p.i += 2
		name = append(name, Ident{Name: n.text, Quoted: n.kind == tokQuotedIdent})
	}
	if p.peek().kind == tokLParen && len(name) > 1 {
		return nil, p.errorf(p.peek(), "qualified function names are not supported: %s", name)
	}
	last := len(name) - 1
	ref := &ColumnRef{Column: name[last]}
	if last > 0 {
		ref.Table = name[:last:last]
	}
	return ref, nil
}

// parseCall parses the argument list and the FILTER and OVER clauses of a
// call to name; the current token is '('.
func (p *parser) parseCall(name string) (Expr, error) {
	p.next() // (
	f := &FuncCall{Name: name}
	if p.acceptKw("DISTINCT") {
		f.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	if f.Distinct || !p.accept(tokRParen) {
		for {
			if w, ok := p.parseWildcard(); ok {
				f.Args = append(f.Args, w)
			} else {
				e, err := p.parseExpr()
				if err != nil {
					return nil, err
				}
				f.Args = append(f.Args, e)
			}
			if !p.accept(tokComma) {
				break
			}
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
	}
	if p.isKw("FILTER") && p.peekAt(1).kind == tokLParen {
		p.i += 2
		if err := p.expectKw("WHERE"); err != nil {
			return nil, err
		}
		var err error
		if f.Filter, err = p.parseExpr(); err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
	}
	if p.isKw("OVER") && p.peekAt(1).kind == tokLParen {
		p.next()
		w, err := p.parseWindowSpec()
		if err != nil {
			return nil, err
		}
		f.Over = w
	}
	return f, nil
}

// parseWindowSpec parses ( [PARTITION BY ...] [ORDER BY ...] [frame] ).
func (p *parser) parseWindowSpec() (*WindowSpec, error) {
	p.next() // (
	w := &WindowSpec{}
	var err error
	if p.acceptKws("PARTITION", "BY") {
		if w.PartitionBy, err = p.parseExprList(); err != nil {
			return nil, err
		}
	}
	if p.acceptKws("ORDER", "BY") {
		if w.OrderBy, err = p.parseOrderItems(); err != nil {
			return nil, err
		}
	}
	var units FrameUnits
	switch {
	case p.acceptKw("ROWS"):
		units = FrameRows
	case p.acceptKw("RANGE"):
		units = FrameRange
	case p.acceptKw("GROUPS"):
		units = FrameGroups
	}
	if units != 0 {
		f := &WindowFrame{Units: units}
		between := p.acceptKw("BETWEEN")
		if f.Start, err = p.parseFrameBound(); err != nil {
			return nil, err
		}
		if between {
			if err := p.expectKw("AND"); err != nil {
				return nil, err
			}
			end, err := p.parseFrameBound()
			if err != nil {
				return nil, err
			}
			f.End = &end
		}
		w.Frame = f
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	return w, nil
}

// parseFrameBound parses UNBOUNDED PRECEDING|FOLLOWING, CURRENT ROW or
// expr PRECEDING|FOLLOWING.
func (p *parser) parseFrameBound() (FrameBound, error) {
	if p.acceptKws("CURRENT", "ROW") {
		return FrameBound{Kind: BoundCurrentRow}, nil
	}
	var b FrameBound
	if !p.acceptKw("UNBOUNDED") {
		// Parsed above AND, which separates the bounds of BETWEEN.
		e, err := p.parseSubexpr(precAnd)
		if err != nil {
			return b, err
		}
		b.Offset = e
	}
	switch {
	case p.acceptKw("PRECEDING"):
		b.Kind = BoundPreceding
	case p.acceptKw("FOLLOWING"):
		b.Kind = BoundFollowing
	default:
		return b, p.expected("PRECEDING or FOLLOWING")
	}
	return b, nil
}

// parseCase parses CASE [operand] WHEN cond THEN result ... [ELSE e] END.
func (p *parser) parseCase() (Expr, error) {
	p.next() // CASE
	c := &CaseExpr{}
	var err error
	if !p.isKw("WHEN") && !p.isKw("END") {
		if c.Operand, err = p.parseExpr(); err != nil {
			return nil, err
		}
	}
	for p.acceptKw("WHEN") {
		var w WhenClause
		if w.Cond, err = p.parseExpr(); err != nil {
			return nil, err
		}
		if err := p.expectKw("THEN"); err != nil {
			return nil, err
		}
		if w.Result, err = p.parseExpr(); err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		return nil, p.expected("WHEN")
	}
	if p.acceptKw("ELSE") {
		if c.Else, err = p.parseExpr(); err != nil {
			return nil, err
		}
	}
	if err := p.expectKw("END"); err != nil {
		return nil, err
	}
	return c, nil
}

// parseCast parses CAST(expr AS type).
func (p *parser) parseCast() (Expr, error) {
	p.next() // CAST
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	x, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if err := p.expectKw("AS"); err != nil {
		return nil, err
	}
	typ, _, err := p.parseDataType(true)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	return &CastExpr{X: x, Type: typ}, nil
}

// parseExtract parses EXTRACT(field FROM expr).
func (p *parser) parseExtract() (Expr, error) {
	p.i += 2 // EXTRACT (
	f := p.peek()
	if f.kind != tokWord {
		return nil, p.expected("a date part such as YEAR")
	}
	p.next()
	if err := p.expectKw("FROM"); err != nil {
		return nil, err
	}
	x, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	return &ExtractExpr{Field: upperWord(f.text), X: x}, nil
}

// intervalUnits are the units INTERVAL accepts after its value.
var intervalUnits = [...]string{
	"YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND",
	"MILLISECOND", "MICROSECOND", "NANOSECOND",
}

// parseInterval parses INTERVAL value [unit].
func (p *parser) parseInterval() (Expr, error) {
	p.next() // INTERVAL
	// The value is a prefix expression, so that "INTERVAL 1 DAY" is not
	// read as an alias and "INTERVAL '1' DAY + x" adds x to the interval.
	v, err := p.parseSubexpr(precCast)
	if err != nil {
		return nil, err
	}
	e := &IntervalExpr{Value: v}
	for _, u := range intervalUnits {
		if p.acceptKw(u) {
			e.Unit = u
			break
		}
	}
	return e, nil
}
