package parser

// parseInsert parses
//
//	INSERT [INTO] [TABLE] name [(cols)] {VALUES | VALUE} (expr, ...) [, (...)]
//	INSERT [INTO] [TABLE] name [(cols)] query
func (p *parser) parseInsert() (Statement, error) {
	p.next() // INSERT
	p.acceptKw("INTO")
	p.acceptKw("TABLE")
	name, err := p.parseObjectName()
	if err != nil {
		return nil, err
	}
	s := &Insert{Table: name}
	if p.peek().kind == tokLParen && !p.queryAhead() {
		p.next()
		s.Columns = []Ident{} // "()" is an explicit, empty column list
		if !p.accept(tokRParen) {
			for {
				id, err := p.parseIdent()
				if err != nil {
					return nil, err
				}
				s.Columns = append(s.Columns, id)
				if !p.accept(tokComma) {
					break
				}
			}
			if _, err := p.expect(tokRParen); err != nil {
				return nil, err
			}
		}
	}
	switch {
	case p.acceptKw("VALUES"), p.acceptKw("VALUE"):
		if s.Rows, err = p.parseValuesRows(); err != nil {
			return nil, err
		}
	case p.queryAhead():
		if s.Query, err = p.parseQuery(); err != nil {
			return nil, err
		}
	default:
		return nil, p.expected("VALUES or a query")
	}
	return s, nil
}

// parseValuesRows parses (expr, ...) [, (expr, ...) ...]. A row may be empty,
// as MySQL allows.
func (p *parser) parseValuesRows() ([][]Expr, error) {
	var rows [][]Expr
	width := 0
	for {
		if _, err := p.expect(tokLParen); err != nil {
			return nil, err
		}
		var row []Expr
		if !p.accept(tokRParen) {
			row = make([]Expr, 0, width)
			for {
				e, err := p.parseExpr()
				if err != nil {
					return nil, err
				}
				row = append(row, e)
				if !p.accept(tokComma) {
					break
				}
			}
			if _, err := p.expect(tokRParen); err != nil {
				return nil, err
			}
		}
		width = len(row)
		rows = append(rows, row)
		if !p.accept(tokComma) {
			return rows, nil
		}
	}
}

// queryAhead reports whether a query starts at the current token: SELECT or
// WITH, possibly after opening parentheses.
func (p *parser) queryAhead() bool {
	for j := p.i; j < len(p.toks); j++ {
		t := &p.toks[j]
		if t.kind != tokLParen {
			return isWord(t, "SELECT") || isWord(t, "WITH")
		}
	}
	return false
}
