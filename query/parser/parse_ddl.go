package parser

import (
	"strconv"
	"strings"
)

// parseCreateTable parses
//
//	CREATE TABLE [IF NOT EXISTS] name ( col_def | constraint [, ...] [,] )
//	    [PARTITION BY ...] [ENGINE [=] ident] [WITH ( key = value [, ...] )]
func (p *parser) parseCreateTable() (Statement, error) {
	p.next() // CREATE
	if err := p.expectKw("TABLE"); err != nil {
		return nil, err
	}
	s := &CreateTable{}
	if p.acceptKw("IF") {
		if err := p.expectKws("NOT", "EXISTS"); err != nil {
			return nil, err
		}
		s.IfNotExists = true
	}
	var err error
	if s.Name, err = p.parseObjectName(); err != nil {
		return nil, err
	}
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	if !p.accept(tokRParen) {
		for {
			if err := p.parseTableElement(s); err != nil {
				return nil, err
			}
			comma := p.accept(tokComma)
			if p.accept(tokRParen) { // a trailing comma is allowed
				break
			}
			if !comma {
				return nil, p.expected("',' or ')'")
			}
		}
	}
	if p.acceptKws("PARTITION", "BY") {
		if s.PartitionBy, err = p.parsePartitionBy(); err != nil {
			return nil, err
		}
	}
	if p.acceptKw("ENGINE") {
		p.accept(tokEq)
		if s.Engine, err = p.parseIdent(); err != nil {
			return nil, err
		}
	}
	if p.acceptKw("WITH") {
		if s.Options, err = p.parseWithOptions(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// parseTableElement parses one column definition or table constraint.
func (p *parser) parseTableElement(s *CreateTable) error {
	t := p.peek()
	switch {
	case isWord(t, "CONSTRAINT"), isWord(t, "PRIMARY"), isWord(t, "TIMESTAMP") && isWord(p.peekAt(1), "KEY"):
		c, err := p.parseTableConstraint()
		if err != nil {
			return err
		}
		s.Constraints = append(s.Constraints, c)
	case isWord(t, "UNIQUE"), isWord(t, "FOREIGN"), isWord(t, "CHECK"):
		return p.unsupported(t, "unsupported table constraint %s: only PRIMARY KEY and TIMESTAMP KEY are supported", upperWord(t.text))
	default:
		c, err := p.parseColumnDef()
		if err != nil {
			return err
		}
		s.Columns = append(s.Columns, c)
	}
	return nil
}

// parseTableConstraint parses [CONSTRAINT name] PRIMARY KEY (cols) or
// [CONSTRAINT name] TIMESTAMP KEY (col).
func (p *parser) parseTableConstraint() (TableConstraint, error) {
	var c TableConstraint
	if p.acceptKw("CONSTRAINT") {
		var err error
		if c.Name, err = p.parseIdent(); err != nil {
			return c, err
		}
	}
	switch {
	case p.acceptKws("PRIMARY", "KEY"):
		c.Kind = PrimaryKeyConstraint
	case p.acceptKws("TIMESTAMP", "KEY"):
		c.Kind = TimestampKeyConstraint
	default:
		return c, p.expected("PRIMARY KEY or TIMESTAMP KEY")
	}
	open := p.peek()
	cols, err := p.parseParenIdentList()
	if err != nil {
		return c, err
	}
	if c.Kind == TimestampKeyConstraint && len(cols) != 1 {
		return c, p.errorf(open, "TIMESTAMP KEY takes exactly one column, found %d", len(cols))
	}
	c.Columns = cols
	return c, nil
}

// parseColumnDef parses
//
//	name type { NOT NULL | NULL | DEFAULT expr | PRIMARY KEY | TIMESTAMP KEY
//	          | TAG | DICTIONARY | UNSIGN[ED] | COMMENT 'str' | COLLATE name
//	          | CONSTRAINT name <option> }*
func (p *parser) parseColumnDef() (*ColumnDef, error) {
	start := p.peek().pos.Offset
	name, err := p.parseIdent()
	if err != nil {
		return nil, err
	}
	typ, typTok, err := p.parseDataType(false)
	if err != nil {
		return nil, err
	}
	canonical, ok := CanonicalTypeName(typ.Name)
	if !ok {
		return nil, p.unsupported(typTok, "unsupported data type: %s", typTok.text)
	}
	c := &ColumnDef{Name: name, Type: typ}
	var (
		explicitNull bool
		dictTok      *token
	)
	dup := func(t *token) error {
		return p.errorf(t, "duplicate %s in the definition of column %s", upperWord(t.text), name)
	}
	for {
		t := p.peek()
		switch {
		case isWord(t, "NOT") && isWord(p.peekAt(1), "NULL"):
			if explicitNull || c.NotNull {
				return nil, p.errorf(t, "conflicting or repeated NULL / NOT NULL in the definition of column %s", name)
			}
			p.i += 2
			c.NotNull = true
		case isWord(t, "NULL"):
			if explicitNull || c.NotNull {
				return nil, p.errorf(t, "conflicting or repeated NULL / NOT NULL in the definition of column %s", name)
			}
			p.next()
			explicitNull = true
		case isWord(t, "DEFAULT"):
			if c.Default != nil {
				return nil, dup(t)
			}
			p.next()
			if c.Default, err = p.parseExpr(); err != nil {
				return nil, err
			}
		case isWord(t, "PRIMARY") && isWord(p.peekAt(1), "KEY"):
			if c.PrimaryKey {
				return nil, dup(t)
			}
			p.i += 2
			c.PrimaryKey = true
		case isWord(t, "TIMESTAMP") && isWord(p.peekAt(1), "KEY"):
			if c.TimestampKey {
				return nil, dup(t)
			}
			p.i += 2
			c.TimestampKey = true
		case isWord(t, "TAG"):
			if c.Tag {
				return nil, dup(t)
			}
			p.next()
			c.Tag = true
		case isWord(t, "DICTIONARY"):
			if c.Dictionary {
				return nil, dup(t)
			}
			p.next()
			c.Dictionary, dictTok = true, t
		case isWord(t, "UNSIGN"), isWord(t, "UNSIGNED"):
			if c.Unsigned {
				return nil, dup(t)
			}
			p.next()
			c.Unsigned = true
		case isWord(t, "COMMENT"):
			if c.Comment != "" {
				return nil, dup(t)
			}
			p.next()
			s := p.peek()
			if s.kind != tokString {
				return nil, p.expected("a string after COMMENT")
			}
			p.next()
			c.Comment = s.text
		case isWord(t, "COLLATE"):
			if !c.Collation.IsZero() {
				return nil, dup(t)
			}
			p.next()
			if c.Collation, err = p.parseIdent(); err != nil {
				return nil, err
			}
		case isWord(t, "CONSTRAINT"):
			// An inline constraint name; HoraeDB ignores it.
			p.next()
			if _, err := p.parseIdent(); err != nil {
				return nil, err
			}
			if !p.isColumnOption() {
				return nil, p.expected("a column option after CONSTRAINT name")
			}
		default:
			if dictTok != nil && canonical != "string" {
				def := strings.Join(strings.Fields(p.src[start:p.toks[p.i-1].end]), " ")
				return nil, p.errorf(dictTok, "Only string column can be dictionary encoded: %q", def)
			}
			return c, nil
		}
	}
}

// isColumnOption reports whether a column option starts at the current
// token.
func (p *parser) isColumnOption() bool {
	t, t1 := p.peek(), p.peekAt(1)
	for _, kw := range [...]string{"NULL", "DEFAULT", "TAG", "DICTIONARY", "UNSIGN", "UNSIGNED", "COMMENT", "COLLATE"} {
		if isWord(t, kw) {
			return true
		}
	}
	return isWord(t, "NOT") && isWord(t1, "NULL") ||
		(isWord(t, "PRIMARY") || isWord(t, "TIMESTAMP")) && isWord(t1, "KEY")
}

// parseDataType parses a type name with optional numeric parameters. In a
// CAST it also accepts DOUBLE PRECISION and MySQL's [UN]SIGNED forms. The
// returned token is the type name, for error messages.
func (p *parser) parseDataType(inCast bool) (DataType, *token, error) {
	t := p.peek()
	if t.kind != tokWord || t.reserved && !isWord(t, "NULL") {
		return DataType{}, nil, p.expected("a data type")
	}
	p.next()
	name := lowerASCII(t.text)
	if inCast {
		switch {
		case name == "double" && p.acceptKw("PRECISION"):
			name = "double precision"
		case name == "signed" || name == "unsigned":
			_ = p.acceptKw("INTEGER") || p.acceptKw("INT")
		case p.acceptKw("UNSIGNED"):
			name += " unsigned"
		case p.acceptKw("SIGNED"):
			name += " signed"
		}
	}
	typ := DataType{Name: name}
	if !p.accept(tokLParen) {
		return typ, t, nil
	}
	for {
		n := p.peek()
		v, err := strconv.ParseUint(n.text, 10, 64)
		if n.kind != tokNumber || err != nil {
			return DataType{}, nil, p.expected("an integer type parameter")
		}
		p.next()
		typ.Params = append(typ.Params, v)
		if !p.accept(tokComma) {
			break
		}
	}
	if _, err := p.expect(tokRParen); err != nil {
		return DataType{}, nil, err
	}
	return typ, t, nil
}

// parsePartitionBy parses what follows PARTITION BY:
//
//	RANDOM | [LINEAR] KEY (cols) | [LINEAR] HASH (expr)   [PARTITIONS n]
func (p *parser) parsePartitionBy() (*PartitionBy, error) {
	pb := &PartitionBy{Linear: p.acceptKw("LINEAR")}
	switch {
	case p.acceptKw("KEY"):
		pb.Kind = PartitionKey
		cols, err := p.parseParenIdentList()
		if err != nil {
			return nil, err
		}
		pb.Columns = cols
	case p.acceptKw("HASH"):
		pb.Kind = PartitionHash
		if _, err := p.expect(tokLParen); err != nil {
			return nil, err
		}
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		pb.Expr = e
	case !pb.Linear && p.acceptKw("RANDOM"):
		pb.Kind = PartitionRandom
	default:
		if pb.Linear {
			return nil, p.expected("KEY or HASH")
		}
		return nil, p.expected("KEY, HASH or RANDOM")
	}
	if p.acceptKw("PARTITIONS") {
		t := p.peek()
		n, err := strconv.ParseUint(t.text, 10, 64)
		if t.kind != tokNumber || err != nil {
			return nil, p.expected("a partition count")
		}
		if n == 0 {
			return nil, p.errorf(t, "PARTITIONS must be at least 1")
		}
		p.next()
		pb.Partitions = n
	}
	return pb, nil
}

// parseWithOptions parses ( key = value [, ...] ).
func (p *parser) parseWithOptions() ([]TableOption, error) {
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	opts, err := p.parseOptionList()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	return opts, nil
}

// parseOptionList parses key = value [, key = value ...].
func (p *parser) parseOptionList() ([]TableOption, error) {
	var opts []TableOption
	for {
		k := p.peek()
		if k.kind != tokWord && k.kind != tokQuotedIdent {
			return nil, p.expected("an option name")
		}
		p.next()
		if _, err := p.expect(tokEq); err != nil {
			return nil, err
		}
		v, err := p.parseOptionValue()
		if err != nil {
			return nil, err
		}
		opts = append(opts, TableOption{Key: k.text, Value: v})
		if !p.accept(tokComma) {
			return opts, nil
		}
	}
}

// parseOptionValue parses an option value: a number (optionally signed), a
// quoted string, TRUE/FALSE, NULL or a bare word. Hex literals are refused,
// as upstream does.
func (p *parser) parseOptionValue() (OptionValue, error) {
	t := p.peek()
	switch t.kind {
	case tokString:
		p.next()
		return OptionValue{Kind: OptionString, Text: t.text}, nil
	case tokNumber:
		p.next()
		return OptionValue{Kind: OptionNumber, Text: t.text}, nil
	case tokMinus, tokPlus:
		if n := p.peekAt(1); n.kind == tokNumber {
			p.i += 2
			if t.kind == tokMinus {
				return OptionValue{Kind: OptionNumber, Text: "-" + n.text}, nil
			}
			return OptionValue{Kind: OptionNumber, Text: n.text}, nil
		}
	case tokWord:
		p.next()
		switch {
		case isWord(t, "TRUE"):
			return OptionValue{Kind: OptionBool, Text: "true"}, nil
		case isWord(t, "FALSE"):
			return OptionValue{Kind: OptionBool, Text: "false"}, nil
		case isWord(t, "NULL"):
			return OptionValue{Kind: OptionNull}, nil
		}
		return OptionValue{Kind: OptionIdent, Text: t.text}, nil
	case tokQuotedIdent:
		p.next()
		return OptionValue{Kind: OptionIdent, Text: t.text}, nil
	case tokHex:
		return OptionValue{}, p.errorf(t, "a hex literal is not a valid option value")
	}
	return OptionValue{}, p.expected("an option value")
}

// parseDropTable parses DROP TABLE [IF EXISTS] name [ENGINE [=] ident].
func (p *parser) parseDropTable() (Statement, error) {
	p.next() // DROP
	if err := p.expectKw("TABLE"); err != nil {
		return nil, err
	}
	s := &DropTable{}
	if p.acceptKw("IF") {
		if err := p.expectKw("EXISTS"); err != nil {
			return nil, err
		}
		s.IfExists = true
	}
	var err error
	if s.Name, err = p.parseObjectName(); err != nil {
		return nil, err
	}
	if p.acceptKw("ENGINE") {
		p.accept(tokEq)
		if s.Engine, err = p.parseIdent(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// parseAlterTable parses ALTER TABLE name ADD [COLUMN] ... and ALTER TABLE
// name MODIFY SETTING .... Every other ALTER is refused as unsupported.
func (p *parser) parseAlterTable() (Statement, error) {
	p.next() // ALTER
	if t := p.peek(); !p.acceptKw("TABLE") {
		if t.kind == tokEOF {
			return nil, p.expected("TABLE")
		}
		return nil, p.unsupported(t, "Unsupported SQL statement: ALTER %s", t.text)
	}
	name, err := p.parseObjectName()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case p.acceptKws("MODIFY", "SETTING"):
		opts, err := p.parseOptionList()
		if err != nil {
			return nil, err
		}
		return &AlterTableModifySetting{Table: name, Options: opts}, nil
	case isWord(t, "ADD"):
		if next := p.peekAt(1); next.kind == tokWord && !isWord(next, "COLUMN") && isTableElementKeyword(next) {
			return nil, p.unsupported(next, "Unsupported SQL statement: ALTER TABLE ... ADD %s (only ADD COLUMN is supported)", upperWord(next.text))
		}
		p.next()
		p.acceptKw("COLUMN")
		s := &AlterTableAddColumn{Table: name}
		if !p.accept(tokLParen) {
			c, err := p.parseColumnDef()
			if err != nil {
				return nil, err
			}
			s.Columns = []*ColumnDef{c}
			return s, nil
		}
		for {
			c, err := p.parseColumnDef()
			if err != nil {
				return nil, err
			}
			s.Columns = append(s.Columns, c)
			if !p.accept(tokComma) {
				break
			}
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return s, nil
	case t.kind == tokEOF || t.kind == tokSemicolon:
		return nil, p.expected("ADD COLUMN or MODIFY SETTING")
	}
	return nil, p.unsupported(t, "Unsupported SQL statement: ALTER TABLE supports only ADD COLUMN and MODIFY SETTING, found %s", describe(t))
}

// isTableElementKeyword reports whether t starts something other than a
// column in MySQL's ALTER TABLE ... ADD (an index, a key, a constraint).
func isTableElementKeyword(t *token) bool {
	for _, kw := range [...]string{"CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "INDEX", "KEY", "PARTITION", "FULLTEXT", "SPATIAL"} {
		if isWord(t, kw) {
			return true
		}
	}
	return false
}
