package parser

// parseDescribe parses DESCRIBE|DESC [TABLE] name.
func (p *parser) parseDescribe() (Statement, error) {
	p.next()
	p.acceptKw("TABLE")
	name, err := p.parseObjectName()
	if err != nil {
		return nil, err
	}
	return &DescribeTable{Name: name}, nil
}

// parseExistsTable parses EXISTS [TABLE] name.
func (p *parser) parseExistsTable() (Statement, error) {
	p.next()
	p.acceptKw("TABLE")
	name, err := p.parseObjectName()
	if err != nil {
		return nil, err
	}
	return &ExistsTable{Name: name}, nil
}

// parseShow parses SHOW TABLES [LIKE 'pat'], SHOW DATABASES and SHOW CREATE
// TABLE name.
func (p *parser) parseShow() (Statement, error) {
	p.next() // SHOW
	t := p.peek()
	switch {
	case p.acceptKw("TABLES"):
		s := &ShowTables{}
		if p.acceptKw("LIKE") {
			pat := p.peek()
			if pat.kind != tokString {
				return nil, p.expected("a string pattern after LIKE")
			}
			p.next()
			like := pat.text // not &pat.text: tokens are recycled
			s.Like = &like
		}
		return s, nil
	case p.acceptKw("DATABASES"):
		return &ShowDatabases{}, nil
	case p.acceptKw("CREATE"):
		if err := p.expectKw("TABLE"); err != nil {
			return nil, err
		}
		name, err := p.parseObjectName()
		if err != nil {
			return nil, err
		}
		return &ShowCreateTable{Name: name}, nil
	case t.kind == tokEOF || t.kind == tokSemicolon:
		return nil, p.expected("TABLES, DATABASES or CREATE TABLE")
	}
	return nil, p.unsupported(t, "Unsupported SQL statement: SHOW %s", t.text)
}

// parseExplain parses EXPLAIN [ANALYZE] [VERBOSE] query.
func (p *parser) parseExplain() (Statement, error) {
	p.next() // EXPLAIN
	s := &Explain{Analyze: p.acceptKw("ANALYZE")}
	s.Verbose = p.acceptKw("VERBOSE")
	if !p.queryAhead() {
		return nil, p.expected("a query after EXPLAIN")
	}
	q, err := p.parseQuery()
	if err != nil {
		return nil, err
	}
	s.Query = q
	return s, nil
}
