// Package parser owns HoraeDB's SQL dialect: it turns the text of one
// statement into a syntax tree, and prints trees back as SQL.
//
// The dialect is upstream HoraeDB's: sqlparser's MySQL dialect (backquoted
// identifiers, '...' and "..." both strings, x'..' binary literals) plus
// HoraeDB's own statements and clauses (TAG, DICTIONARY, TIMESTAMP KEY,
// PARTITION BY, ENGINE, WITH options, ALTER TABLE ... MODIFY SETTING,
// SHOW CREATE TABLE, EXISTS TABLE), and the SELECT that DataFusion accepts.
//
// Parse is a hand-written recursive-descent parser with precedence climbing
// for expressions. It never panics, bounds its recursion depth, and reports
// errors as *Error with the line and column of the offending token. Mapping
// names to tables and types to Arrow is the planner's job, not this
// package's; the tree keeps identifiers as written (with their quoting) and
// type names as written (lowercased).
//
// Dialect choices: "||" concatenates strings, as in DataFusion (the engine
// upstream ran), not OR as in MySQL. The words in the reserved set
// (token.go) must be backquoted to be used as names; every other word,
// including TIMESTAMP, VALUE, KEY and TAG, is a name wherever the grammar
// expects one. Integer literals are unsigned (-1 is a negation of 1) and
// exact up to the uint64 range.
package parser

import (
	"fmt"
	"sync"
)

// maxDepth bounds the nesting of expressions, subqueries and joins, so that
// hostile input cannot exhaust the stack.
const maxDepth = 1000

// Parse parses exactly one SQL statement, optionally followed by ';'.
func Parse(sql string) (Statement, error) {
	buf := tokenPool.Get().(*[]token)
	defer func() {
		// The tree holds no reference to the tokens (strings are shared,
		// token structs are not), so the buffer can be reused. Huge ones
		// are left to the GC rather than kept alive by the pool.
		if cap(*buf) <= maxPooledTokens {
			clear(*buf) // drop the references to this input's strings
			*buf = (*buf)[:0]
			tokenPool.Put(buf)
		}
	}()
	toks, err := tokenize((*buf)[:0], sql)
	*buf = toks
	if err != nil {
		return nil, err
	}
	p := &parser{src: sql, toks: toks}
	return p.parseSingle()
}

// tokenPool recycles token buffers: for an INSERT of many rows the tokens
// are most of the memory Parse allocates (BenchmarkParse).
var tokenPool = sync.Pool{New: func() any { return new([]token) }}

const maxPooledTokens = 1 << 16

type parser struct {
	src   string
	toks  []token // ends with tokEOF
	i     int     // index of the current token
	depth int
}

// parseSingle parses every statement in the input, as upstream does before
// it counts them, and insists that there is exactly one.
func (p *parser) parseSingle() (Statement, error) {
	var (
		first  Statement
		second position
		n      int
	)
	for {
		for p.accept(tokSemicolon) {
		}
		if p.peek().kind == tokEOF {
			break
		}
		if n > 0 && p.toks[p.i-1].kind != tokSemicolon {
			return nil, p.expected("end of statement")
		}
		start := p.peek().pos
		stmt, err := p.parseStatement()
		if err != nil {
			return nil, err
		}
		n++
		if n == 1 {
			first = stmt
		} else if n == 2 {
			second = start
		}
	}
	switch n {
	case 0:
		return nil, p.expected("a statement")
	case 1:
		return first, nil
	}
	return nil, newError(ErrSyntax, second, "Only support execute one statement now, current num:%d", n)
}

// parseStatement dispatches on the leading keyword, like upstream's
// Parser::parse_statement.
func (p *parser) parseStatement() (Statement, error) {
	tok := p.peek()
	if tok.kind == tokLParen {
		return p.parseQuery()
	}
	if tok.kind != tokWord {
		return nil, p.expected("a statement")
	}
	var buf [16]byte
	up, _ := upperASCII(buf[:0], tok.text)
	switch word := string(up); word {
	case "SELECT", "WITH":
		return p.parseQuery()
	case "INSERT":
		return p.parseInsert()
	case "CREATE":
		return p.parseCreateTable()
	case "DROP":
		return p.parseDropTable()
	case "ALTER":
		return p.parseAlterTable()
	case "DESCRIBE", "DESC":
		return p.parseDescribe()
	case "SHOW":
		return p.parseShow()
	case "EXISTS":
		return p.parseExistsTable()
	case "EXPLAIN":
		return p.parseExplain()
	case "DELETE", "UPDATE", "REPLACE", "TRUNCATE", "MERGE", "SET", "USE", "BEGIN", "START",
		"COMMIT", "ROLLBACK", "SAVEPOINT", "GRANT", "REVOKE", "CALL", "LOCK", "UNLOCK", "KILL",
		"ANALYZE", "OPTIMIZE", "RENAME", "LOAD", "COPY", "PREPARE", "EXECUTE", "DEALLOCATE":
		return nil, p.unsupported(tok, "Unsupported SQL statement: %s", word)
	}
	return nil, p.expected("a statement")
}

// --- token access ---

func (p *parser) peek() *token { return &p.toks[p.i] }

// peekAt returns the token n positions ahead (the EOF token past the end).
func (p *parser) peekAt(n int) *token {
	if p.i+n < len(p.toks) {
		return &p.toks[p.i+n]
	}
	return &p.toks[len(p.toks)-1]
}

// next consumes and returns the current token. It never moves past EOF.
func (p *parser) next() *token {
	t := &p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) accept(k tokenKind) bool {
	if p.peek().kind == k {
		p.next()
		return true
	}
	return false
}

func (p *parser) expect(k tokenKind) (*token, error) {
	if t := p.peek(); t.kind == k {
		return p.next(), nil
	}
	return nil, p.expected("'" + punctText[k] + "'")
}

// isWord reports whether t is the bare (unquoted) word kw, any case. kw is
// upper case.
func isWord(t *token, kw string) bool { return t.kind == tokWord && eqFold(t.text, kw) }

// isKw reports whether the current token is the keyword kw.
func (p *parser) isKw(kw string) bool { return isWord(p.peek(), kw) }

// acceptKw consumes the keyword kw if it is next.
func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.next()
		return true
	}
	return false
}

// acceptKws consumes the keyword sequence kws if all of it is next.
func (p *parser) acceptKws(kws ...string) bool {
	for i, kw := range kws {
		if !isWord(p.peekAt(i), kw) {
			return false
		}
	}
	p.i += len(kws)
	return true
}

func (p *parser) expectKw(kw string) error {
	if p.acceptKw(kw) {
		return nil
	}
	return p.expected(kw)
}

func (p *parser) expectKws(kws ...string) error {
	for _, kw := range kws {
		if err := p.expectKw(kw); err != nil {
			return err
		}
	}
	return nil
}

// --- recursion bound ---

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf(p.peek(), "statement is nested too deeply (more than %d levels)", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// --- names ---

// parseIdent parses an identifier: a backquoted name or a word that is not
// reserved.
func (p *parser) parseIdent() (Ident, error) {
	t := p.peek()
	switch {
	case t.kind == tokQuotedIdent:
		p.next()
		return Ident{Name: t.text, Quoted: true}, nil
	case t.kind == tokWord && !t.reserved:
		p.next()
		return Ident{Name: t.text}, nil
	}
	return Ident{}, p.expected("an identifier")
}

// parseObjectName parses ident [. ident ...]. Parts after a dot may be
// reserved words (t.order), as in MySQL.
func (p *parser) parseObjectName() (ObjectName, error) {
	first, err := p.parseIdent()
	if err != nil {
		return nil, err
	}
	name := ObjectName{first}
	for p.accept(tokDot) {
		t := p.peek()
		if t.kind != tokWord && t.kind != tokQuotedIdent {
			return nil, p.expected("an identifier after '.'")
		}
		p.next()
		name = append(name, Ident{Name: t.text, Quoted: t.kind == tokQuotedIdent})
	}
	return name, nil
}

// parseParenIdentList parses ( ident [, ident ...] ).
func (p *parser) parseParenIdentList() ([]Ident, error) {
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	var ids []Ident
	for {
		id, err := p.parseIdent()
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
		if !p.accept(tokComma) {
			break
		}
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	return ids, nil
}

// lowerASCII lowercases the ASCII letters of s. Other characters are kept,
// so that printing and parsing the result again gives the same text.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// --- errors ---

func (p *parser) errorf(t *token, format string, args ...any) *Error {
	return newError(ErrSyntax, t.pos, format, args...)
}

func (p *parser) unsupported(t *token, format string, args ...any) *Error {
	return newError(ErrUnsupported, t.pos, format, args...)
}

// expected reports that what was expected at the current token.
func (p *parser) expected(what string) *Error {
	t := p.peek()
	return p.errorf(t, "expected %s but found %s", what, describe(t))
}

// describe names a token for an error message, as written in the source.
func describe(t *token) string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + quoteForMessage(t.text)
	case tokQuotedIdent:
		return "identifier " + quoteForMessage(t.text)
	case tokHex:
		return "hex literal"
	}
	return quoteForMessage(t.text)
}

// quoteForMessage quotes s for an error message, shortening long text.
func quoteForMessage(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "..."
	}
	return fmt.Sprintf("'%s'", s)
}
