package parser

// parseQuery parses
//
//	[WITH [RECURSIVE] cte, ...] body [ORDER BY ...] [LIMIT n [OFFSET m] | LIMIT m, n] [OFFSET m]
//
// where body is SELECT blocks and parenthesised queries joined by UNION,
// EXCEPT and INTERSECT.
func (p *parser) parseQuery() (*Query, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	q := &Query{}
	if p.acceptKw("WITH") {
		w, err := p.parseWith()
		if err != nil {
			return nil, err
		}
		q.With = w
	}
	body, err := p.parseSetExpr(0)
	if err != nil {
		return nil, err
	}
	q.Body = body
	if p.acceptKws("ORDER", "BY") {
		if q.OrderBy, err = p.parseOrderItems(); err != nil {
			return nil, err
		}
	}
	if err := p.parseLimitOffset(q); err != nil {
		return nil, err
	}
	return q, nil
}

func (p *parser) parseWith() (*With, error) {
	w := &With{Recursive: p.acceptKw("RECURSIVE")}
	for {
		var c CTE
		var err error
		if c.Name, err = p.parseIdent(); err != nil {
			return nil, err
		}
		if p.peek().kind == tokLParen {
			if c.Columns, err = p.parseParenIdentList(); err != nil {
				return nil, err
			}
		}
		if err := p.expectKw("AS"); err != nil {
			return nil, err
		}
		if _, err := p.expect(tokLParen); err != nil {
			return nil, err
		}
		if c.Query, err = p.parseQuery(); err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		w.CTEs = append(w.CTEs, c)
		if !p.accept(tokComma) {
			return w, nil
		}
	}
}

// nextSetOp returns the set operation at the current token and its
// precedence, or 0.
func (p *parser) nextSetOp() (SetOpKind, int) {
	t := p.peek()
	switch {
	case isWord(t, "UNION"):
		return Union, setOpPrec(Union)
	case isWord(t, "EXCEPT"):
		return Except, setOpPrec(Except)
	case isWord(t, "INTERSECT"):
		return Intersect, setOpPrec(Intersect)
	}
	return 0, 0
}

func (p *parser) parseSetExpr(minPrec int) (SetExpr, error) {
	left, err := p.parseSetOperand()
	if err != nil {
		return nil, err
	}
	for {
		op, prec := p.nextSetOp()
		if prec <= minPrec {
			return left, nil
		}
		p.next()
		all := p.acceptKw("ALL")
		if !all {
			p.acceptKw("DISTINCT")
		}
		right, err := p.parseSetExpr(prec)
		if err != nil {
			return nil, err
		}
		left = &SetOp{Op: op, All: all, Left: left, Right: right}
	}
}

// parseSetOperand parses a SELECT block or a parenthesised query.
func (p *parser) parseSetOperand() (SetExpr, error) {
	switch t := p.peek(); {
	case isWord(t, "SELECT"):
		return p.parseSelect()
	case t.kind == tokLParen:
		p.next()
		q, err := p.parseQuery()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return q, nil
	}
	return nil, p.expected("SELECT or '('")
}

// parseSelect parses SELECT [ALL|DISTINCT] items [FROM ...] [WHERE ...]
// [GROUP BY ...] [HAVING ...].
func (p *parser) parseSelect() (*Select, error) {
	p.next() // SELECT
	s := &Select{}
	if p.acceptKw("DISTINCT") {
		s.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	for {
		it, err := p.parseSelectItem()
		if err != nil {
			return nil, err
		}
		s.Items = append(s.Items, it)
		if !p.accept(tokComma) {
			break
		}
	}
	var err error
	if p.acceptKw("FROM") {
		for {
			ref, err := p.parseTableRef()
			if err != nil {
				return nil, err
			}
			s.From = append(s.From, ref)
			if !p.accept(tokComma) {
				break
			}
		}
	}
	if p.acceptKw("WHERE") {
		if s.Where, err = p.parseExpr(); err != nil {
			return nil, err
		}
	}
	if p.acceptKws("GROUP", "BY") {
		if s.GroupBy, err = p.parseExprList(); err != nil {
			return nil, err
		}
	}
	if p.acceptKw("HAVING") {
		if s.Having, err = p.parseExpr(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *parser) parseSelectItem() (SelectItem, error) {
	if w, ok := p.parseWildcard(); ok {
		return SelectItem{Expr: w}, nil
	}
	e, err := p.parseExpr()
	if err != nil {
		return SelectItem{}, err
	}
	alias, err := p.parseOptionalAlias()
	if err != nil {
		return SelectItem{}, err
	}
	return SelectItem{Expr: e, Alias: alias}, nil
}

// parseWildcard parses * or name.name.* if one starts at the current token;
// ok is false (and nothing is consumed) otherwise.
func (p *parser) parseWildcard() (w *Wildcard, ok bool) {
	if p.accept(tokStar) {
		return &Wildcard{}, true
	}
	// Look for ident (. ident)* . *
	t := p.peek()
	if t.kind != tokQuotedIdent && (t.kind != tokWord || t.reserved) {
		return nil, false
	}
	var name ObjectName
	for j := p.i; ; j += 2 {
		t := &p.toks[j]
		if t.kind != tokWord && t.kind != tokQuotedIdent || p.toks[j+1].kind != tokDot {
			return nil, false
		}
		name = append(name, Ident{Name: t.text, Quoted: t.kind == tokQuotedIdent})
		if p.toks[j+2].kind == tokStar {
			p.i = j + 3
			return &Wildcard{Table: name}, true
		}
	}
}

// parseOptionalAlias parses [AS] alias. After AS any word is accepted, and
// a string too ('x' and "x" name the column in MySQL); without AS the alias
// must be an identifier.
func (p *parser) parseOptionalAlias() (Ident, error) {
	if !p.acceptKw("AS") {
		if t := p.peek(); t.kind == tokQuotedIdent || t.kind == tokWord && !t.reserved {
			return p.parseIdent()
		}
		return Ident{}, nil
	}
	t := p.peek()
	switch t.kind {
	case tokWord:
		p.next()
		return Ident{Name: t.text}, nil
	case tokQuotedIdent, tokString:
		if t.text == "" {
			return Ident{}, p.errorf(t, "empty alias")
		}
		p.next()
		return Ident{Name: t.text, Quoted: true}, nil
	}
	return Ident{}, p.expected("an alias after AS")
}

// parseTableRef parses a table factor followed by any number of joins.
func (p *parser) parseTableRef() (TableRef, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	left, err := p.parseTableFactor()
	if err != nil {
		return nil, err
	}
	for {
		kind, ok := p.parseJoinKind()
		if !ok {
			return left, nil
		}
		right, err := p.parseTableFactor()
		if err != nil {
			return nil, err
		}
		j := &Join{Kind: kind, Left: left, Right: right}
		switch {
		case kind == CrossJoin:
		case p.acceptKw("ON"):
			if j.On, err = p.parseExpr(); err != nil {
				return nil, err
			}
		case p.acceptKw("USING"):
			if j.Using, err = p.parseParenIdentList(); err != nil {
				return nil, err
			}
		case kind != InnerJoin: // MySQL allows a plain JOIN without a condition
			return nil, p.expected("ON or USING")
		}
		left = j
	}
}

// parseJoinKind consumes the keywords of a join, if one is next.
func (p *parser) parseJoinKind() (JoinKind, bool) {
	var kind JoinKind
	switch {
	case p.acceptKw("JOIN"), p.acceptKws("INNER", "JOIN"):
		return InnerJoin, true
	case p.acceptKws("CROSS", "JOIN"):
		return CrossJoin, true
	case p.isKw("LEFT"):
		kind = LeftJoin
	case p.isKw("RIGHT"):
		kind = RightJoin
	case p.isKw("FULL"):
		kind = FullJoin
	default:
		return 0, false
	}
	if isWord(p.peekAt(1), "JOIN") {
		p.i += 2
		return kind, true
	}
	if isWord(p.peekAt(1), "OUTER") && isWord(p.peekAt(2), "JOIN") {
		p.i += 3
		return kind, true
	}
	return 0, false
}

// parseTableFactor parses name [[AS] alias], (query) [[AS] alias] or a
// parenthesised join.
func (p *parser) parseTableFactor() (TableRef, error) {
	if p.peek().kind == tokLParen {
		if !p.queryAhead() {
			return p.parseNestedJoin()
		}
		// "((SELECT ...) AS a JOIN b ON ...)" also starts like a query:
		// if it does not parse as one, try a nested join, and report the
		// error that got further.
		start, depth := p.i, p.depth
		ref, err := p.parseDerivedTable()
		if err == nil {
			return ref, nil
		}
		derivedEnd := p.i
		p.i, p.depth = start, depth
		ref, joinErr := p.parseNestedJoin()
		if joinErr == nil {
			return ref, nil
		}
		if p.i > derivedEnd {
			return nil, joinErr
		}
		return nil, err
	}
	name, err := p.parseObjectName()
	if err != nil {
		return nil, p.expected("a table name")
	}
	alias, err := p.parseOptionalAlias()
	if err != nil {
		return nil, err
	}
	return &TableName{Name: name, Alias: alias}, nil
}

// parseDerivedTable parses (query) [[AS] alias].
func (p *parser) parseDerivedTable() (TableRef, error) {
	p.next() // (
	q, err := p.parseQuery()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	alias, err := p.parseOptionalAlias()
	if err != nil {
		return nil, err
	}
	return &DerivedTable{Query: q, Alias: alias}, nil
}

// parseNestedJoin parses ( table_ref ), typically a parenthesised join.
func (p *parser) parseNestedJoin() (TableRef, error) {
	p.next() // (
	ref, err := p.parseTableRef()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	return ref, nil
}

func (p *parser) parseOrderItems() ([]OrderItem, error) {
	var items []OrderItem
	for {
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		it := OrderItem{Expr: e}
		if p.acceptKw("DESC") {
			it.Desc = true
		} else {
			p.acceptKw("ASC")
		}
		switch {
		case p.acceptKws("NULLS", "FIRST"):
			it.Nulls = NullsFirst
		case p.acceptKws("NULLS", "LAST"):
			it.Nulls = NullsLast
		}
		items = append(items, it)
		if !p.accept(tokComma) {
			return items, nil
		}
	}
}

// parseLimitOffset parses LIMIT n, LIMIT n OFFSET m, MySQL's LIMIT m, n,
// OFFSET m and OFFSET m LIMIT n.
func (p *parser) parseLimitOffset(q *Query) error {
	var err error
	if p.acceptKw("LIMIT") {
		if q.Limit, err = p.parseExpr(); err != nil {
			return err
		}
		if p.accept(tokComma) {
			q.Offset = q.Limit
			if q.Limit, err = p.parseExpr(); err != nil {
				return err
			}
			return nil
		}
		if p.acceptKw("OFFSET") {
			q.Offset, err = p.parseExpr()
		}
		return err
	}
	if p.acceptKw("OFFSET") {
		if q.Offset, err = p.parseExpr(); err != nil {
			return err
		}
		if p.acceptKw("LIMIT") {
			q.Limit, err = p.parseExpr()
		}
	}
	return err
}
