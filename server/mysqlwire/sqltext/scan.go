// Package sqltext works on the text of statements in HoraeDB's SQL dialect
// for the wire-protocol front ends (MySQL and PostgreSQL): it splits a text
// into statements, tokenizes it for the canned answers of client
// compatibility queries, finds the placeholders of a prepared statement (?
// for MySQL, $n for PostgreSQL) and binds parameters by rendering them as
// literals of the dialect into the text.
//
// The lexical rules are those of query/parser (MySQL's): '...' and "..."
// are strings with backslash escapes and doubled-quote escapes, `...`
// quotes identifiers (a doubled backquote stands for itself), x'..' is a
// binary literal, "--" starts a line comment and /* */ a block comment. A
// placeholder is only recognised outside all of these, so a '?' inside a
// string stays a question mark.
//
// The package lives under mysqlwire because the dialect is MySQL's; the
// PostgreSQL front end uses it too.
package sqltext

import (
	"unicode"
	"unicode/utf8"
)

// Kind is the kind of a token.
type Kind uint8

// Token kinds.
const (
	// Word is a bare word: a keyword or an identifier.
	Word Kind = iota + 1
	// Number is a numeric literal (digits, fraction, exponent).
	Number
	// String is a '...' or "..." literal; Value holds it unescaped.
	String
	// QuotedIdent is a `...` identifier; Value holds it unquoted.
	QuotedIdent
	// Hex is an x'..' literal.
	Hex
	// Placeholder is ? or $n, depending on the Style the text is scanned
	// with.
	Placeholder
	// Punct is any other single character (operators, parentheses,
	// commas, ';', '@').
	Punct
)

// Token is a token of a statement. Whitespace and comments are not tokens.
type Token struct {
	Kind Kind
	// Text is the token as written.
	Text string
	// Value is the unescaped content of a String or QuotedIdent, and Text
	// otherwise.
	Value string
	// Start and End are the byte offsets of Text in the input.
	Start, End int
}

// Style is how placeholders are written.
type Style uint8

// Placeholder styles.
const (
	// NoPlaceholders scans a text in which neither ? nor $n is special.
	NoPlaceholders Style = iota
	// QuestionMark is MySQL's ?: parameters are numbered in order.
	QuestionMark
	// Dollar is PostgreSQL's $1, $2, ...: the number names the parameter.
	Dollar
)

// region is one lexical element the scanner found, tokens and the
// whitespace and comments between them alike.
type region struct {
	kind       Kind // 0 for whitespace and comments
	start, end int
}

// scanner splits a text into regions following query/parser's lexer.
type scanner struct {
	src   string
	off   int
	style Style
}

// next returns the next region; ok is false at the end of the input. An
// unterminated string or comment extends to the end of the input (the
// parser reports it).
func (s *scanner) next() (r region, ok bool) {
	src, i := s.src, s.off
	if i >= len(src) {
		return region{}, false
	}
	start := i
	c := src[i]
	peek := func(k int) byte {
		if i+k < len(src) {
			return src[i+k]
		}
		return 0
	}
	kind := Punct
	switch {
	case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		kind, i = 0, i+1
	case c == '-' && peek(1) == '-':
		kind = 0
		for i < len(src) && src[i] != '\n' {
			i++
		}
	case c == '/' && peek(1) == '*':
		kind = 0
		i += 2
		for i < len(src) && !(src[i] == '*' && i+1 < len(src) && src[i+1] == '/') {
			i++
		}
		i = min(i+2, len(src))
	case (c == 'x' || c == 'X') && peek(1) == '\'':
		kind = Hex
		i += 2
		for i < len(src) && src[i] != '\'' {
			i++
		}
		i = min(i+1, len(src))
	case c == '\'' || c == '"':
		kind, i = String, skipQuoted(src, i, c, true)
	case c == '`':
		kind, i = QuotedIdent, skipQuoted(src, i, c, false)
	case isDigit(c) || c == '.' && isDigit(peek(1)):
		kind, i = Number, skipNumber(src, i)
	case c == '?' && s.style == QuestionMark:
		kind, i = Placeholder, i+1
	case c == '$' && s.style == Dollar && isDigit(peek(1)):
		kind = Placeholder
		i++
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	case c >= utf8.RuneSelf:
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case unicode.IsSpace(r):
			kind = 0
		case isIdentStart(r):
			kind = Word
		}
		i += size
		if kind == Word {
			i = skipIdent(src, i)
		}
	case isIdentStart(rune(c)):
		kind, i = Word, skipIdent(src, i+1)
	default:
		i++
	}
	s.off = i
	return region{kind: kind, start: start, end: i}, true
}

// skipQuoted returns the offset after the quoted text starting at i with
// quote q. A doubled quote stands for itself; with backslash, a backslash
// escapes the next byte.
func skipQuoted(src string, i int, q byte, backslash bool) int {
	for i++; i < len(src); i++ {
		switch src[i] {
		case q:
			if i+1 < len(src) && src[i+1] == q {
				i++
				continue
			}
			return i + 1
		case '\\':
			if backslash {
				i++
			}
		}
	}
	return len(src)
}

// skipNumber returns the offset after the number starting at i: digits
// [. digits] [e [+-] digits], as query/parser reads it.
func skipNumber(src string, i int) int {
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	if i < len(src) && src[i] == '.' {
		i++
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			i = j
		}
	}
	return i
}

func skipIdent(src string, i int) int {
	for i < len(src) {
		r, size := utf8.DecodeRuneInString(src[i:])
		if !isIdentPart(r) {
			break
		}
		i += size
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isIdentStart and isIdentPart are query/parser's rules for bare words.
func isIdentStart(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_'
	}
	return unicode.IsLetter(r)
}

func isIdentPart(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_' || '0' <= r && r <= '9' || r == '$'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// Tokenize returns the tokens of sql, without whitespace and comments.
func Tokenize(sql string, style Style) []Token {
	var toks []Token
	s := scanner{src: sql, style: style}
	for {
		r, ok := s.next()
		if !ok {
			return toks
		}
		if r.kind == 0 {
			continue
		}
		text := sql[r.start:r.end]
		t := Token{Kind: r.kind, Text: text, Value: text, Start: r.start, End: r.end}
		switch r.kind {
		case String:
			t.Value = unquote(text, true)
		case QuotedIdent:
			t.Value = unquote(text, false)
		}
		toks = append(toks, t)
	}
}

// unquote returns the content of a quoted token, unescaped as query/parser
// does. An unterminated token gives what there is.
func unquote(text string, backslash bool) string {
	if len(text) < 2 {
		return ""
	}
	q := text[0]
	body := text[1:]
	if body[len(body)-1] == q {
		body = body[:len(body)-1]
	}
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == q && i+1 < len(body) && body[i+1] == q:
			out = append(out, q)
			i++
		case c == '\\' && backslash && i+1 < len(body):
			i++
			switch e := body[i]; e {
			case '0':
				out = append(out, 0)
			case 'b':
				out = append(out, '\b')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'Z':
				out = append(out, 0x1A)
			case '%', '_':
				out = append(out, '\\', e)
			default:
				out = append(out, e)
			}
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// Split returns the statements of a text that holds several separated by
// ';', each without the separator and the whitespace around it. Pieces that
// hold nothing but whitespace and comments are dropped, so "SELECT 1;"
// gives one statement and "" none.
func Split(sql string) []string {
	var (
		out   []string
		start = 0
		empty = true
	)
	s := scanner{src: sql}
	for {
		r, ok := s.next()
		if !ok {
			break
		}
		switch {
		case r.kind == Punct && sql[r.start] == ';':
			if !empty {
				out = append(out, trimSpace(sql[start:r.start]))
			}
			start, empty = r.end, true
		case r.kind != 0:
			empty = false
		}
	}
	if !empty {
		out = append(out, trimSpace(sql[start:]))
	}
	return out
}

func trimSpace(s string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' }
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
