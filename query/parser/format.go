package parser

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Operator precedence, loosest first. The parser and the printer share this
// table, which is what makes String() output parse back to the same tree.
// It is MySQL's order, with || as concatenation at the level of * (as
// sqlparser, and so DataFusion, reads it).
const (
	precLowest  = iota
	precOr      // OR
	precXor     // XOR
	precAnd     // AND
	precNot     // prefix NOT
	precIs      // IS [NOT] NULL|TRUE|..., IS [NOT] DISTINCT FROM
	precCmp     // = <> < <= > >=, [NOT] LIKE|ILIKE|IN|BETWEEN
	precAdd     // + -
	precMul     // * / % DIV ||
	precUnary   // prefix - +
	precCast    // ::
	precPrimary // literals, names, calls, (...), CASE, CAST, ...
)

var binaryPrec = [...]int{
	OpOr:                precOr,
	OpXor:               precXor,
	OpAnd:               precAnd,
	OpEq:                precCmp,
	OpNotEq:             precCmp,
	OpLt:                precCmp,
	OpLtEq:              precCmp,
	OpGt:                precCmp,
	OpGtEq:              precCmp,
	OpIsDistinctFrom:    precIs,
	OpIsNotDistinctFrom: precIs,
	OpAdd:               precAdd,
	OpSub:               precAdd,
	OpMul:               precMul,
	OpDiv:               precMul,
	OpMod:               precMul,
	OpIntDiv:            precMul,
	OpConcat:            precMul,
}

// precedence returns how tightly e binds when printed without parentheses.
func precedence(e Expr) int {
	switch e := e.(type) {
	case *BinaryExpr:
		if int(e.Op) < len(binaryPrec) {
			return binaryPrec[e.Op]
		}
		return precLowest
	case *UnaryExpr:
		if e.Op == OpNot {
			return precNot
		}
		return precUnary
	case *IsExpr:
		return precIs
	case *LikeExpr, *InListExpr, *InSubqueryExpr, *BetweenExpr:
		return precCmp
	}
	return precPrimary
}

// writeExprPrec prints e, in parentheses if it binds looser than min.
func writeExprPrec(b *strings.Builder, e Expr, min int) {
	if e == nil {
		b.WriteString("NULL")
		return
	}
	if precedence(e) < min {
		b.WriteByte('(')
		e.format(b)
		b.WriteByte(')')
		return
	}
	e.format(b)
}

// writeExpr prints a complete expression where no parentheses are needed
// (a select item, a function argument, a clause).
func writeExpr(b *strings.Builder, e Expr) { writeExprPrec(b, e, precLowest) }

func writeExprList(b *strings.Builder, list []Expr) {
	for i, e := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		writeExpr(b, e)
	}
}

func writeIdentList(b *strings.Builder, ids []Ident) {
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		id.format(b)
	}
}

func writeUint(b *strings.Builder, v uint64) {
	var buf [20]byte
	b.Write(strconv.AppendUint(buf[:0], v, 10))
}

// isPlainIdent reports whether name can be written without backquotes: it
// lexes as one word and is not reserved.
func isPlainIdent(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		if r == utf8.RuneError {
			return false
		}
		if i == 0 && !isIdentStart(r) || i > 0 && !isIdentPart(r) {
			return false
		}
	}
	return !isReserved(name)
}

// writeIdent prints an identifier, backquoted when quoted is set or when it
// would not read back as the same identifier otherwise.
func writeIdent(b *strings.Builder, name string, quoted bool) {
	if !quoted && isPlainIdent(name) {
		b.WriteString(name)
		return
	}
	b.WriteByte('`')
	for i := 0; i < len(name); i++ {
		if name[i] == '`' {
			b.WriteByte('`')
		}
		b.WriteByte(name[i])
	}
	b.WriteByte('`')
}

// writeString prints s as a single-quoted string literal. Quotes are
// doubled; backslashes and control characters are escaped MySQL-style.
func writeString(b *strings.Builder, s string) {
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		case 0:
			b.WriteString(`\0`)
		case '\b':
			b.WriteString(`\b`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0x1A:
			b.WriteString(`\Z`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
}

// funcNameNeedsQuotes reports whether a function name must be backquoted to
// be read back as a plain call: names that are not plain words, reserved
// words other than the few that are also functions (LEFT, IF, ...), and
// EXTRACT, whose call syntax is special.
func funcNameNeedsQuotes(name string) bool {
	if name == "" {
		return true
	}
	for i, r := range name {
		if r == utf8.RuneError || i == 0 && !isIdentStart(r) || i > 0 && !isIdentPart(r) {
			return true
		}
	}
	if isReserved(name) {
		return !inWordSet(reservedFuncs, name)
	}
	return eqFold(name, "EXTRACT")
}
