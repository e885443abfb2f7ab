package parser

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// lexer turns SQL text into tokens, tracking line and column as it goes.
//
// The dialect is MySQL's, as sqlparser's MySqlDialect reads it: '...' and
// "..." are both strings (with backslash escapes and doubled-quote escapes),
// `...` quotes identifiers, x'..' and 0x.. are binary literals, "--" starts a
// line comment (no space needed) and /* */ a block comment.
type lexer struct {
	src  string
	off  int // byte offset of the next unread byte
	line int
	col  int // column of src[off]
}

// tokenize lexes the whole input, appending to toks. The result always ends
// with one tokEOF token.
func tokenize(toks []token, src string) ([]token, error) {
	l := &lexer{src: src, line: 1, col: 1}
	for {
		tok, err := l.next()
		if err != nil {
			return toks, err
		}
		toks = append(toks, tok)
		if tok.kind == tokEOF {
			return toks, nil
		}
	}
}

func (l *lexer) pos() position { return position{Offset: l.off, Line: l.line, Column: l.col} }

// advance consumes n bytes, keeping line and column up to date.
func (l *lexer) advance(n int) {
	for end := l.off + n; l.off < end; l.off++ {
		c := l.src[l.off]
		switch {
		case c == '\n':
			l.line++
			l.col = 1
		case c&0xC0 != 0x80: // not a UTF-8 continuation byte: a new character
			l.col++
		}
	}
}

// peekByte returns the byte i positions ahead, or 0 past the end.
func (l *lexer) peekByte(i int) byte {
	if l.off+i < len(l.src) {
		return l.src[l.off+i]
	}
	return 0
}

func (l *lexer) errorf(at position, format string, args ...any) error {
	return newError(ErrSyntax, at, format, args...)
}

// skipSpaceAndComments skips whitespace and comments.
func (l *lexer) skipSpaceAndComments() error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.advance(1)
		case c == '-' && l.peekByte(1) == '-':
			i := strings.IndexByte(l.src[l.off:], '\n')
			if i < 0 {
				i = len(l.src) - l.off
			}
			l.advance(i)
		case c == '/' && l.peekByte(1) == '*':
			start := l.pos()
			i := strings.Index(l.src[l.off+2:], "*/")
			if i < 0 {
				return l.errorf(start, "unterminated block comment")
			}
			l.advance(i + 4)
		case c >= 0x80:
			// Unicode spaces (a full-width space pasted from a Chinese
			// editor, a no-break space) separate tokens too.
			r, size := utf8.DecodeRuneInString(l.src[l.off:])
			if !unicode.IsSpace(r) {
				return nil
			}
			l.advance(size)
		default:
			return nil
		}
	}
	return nil
}

func (l *lexer) next() (token, error) {
	if err := l.skipSpaceAndComments(); err != nil {
		return token{}, err
	}
	start := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: start, end: l.off}, nil
	}
	c := l.src[l.off]
	switch {
	case (c == 'x' || c == 'X') && l.peekByte(1) == '\'':
		return l.lexHexString(start)
	case c == '0' && (l.peekByte(1) == 'x' || l.peekByte(1) == 'X') && isHexDigit(l.peekByte(2)):
		if tok, ok := l.lexHexNumber(start); ok {
			return tok, nil
		}
		return l.lexNumber(start)
	case '0' <= c && c <= '9' || c == '.' && isDigit(l.peekByte(1)):
		return l.lexNumber(start)
	case c == '\'' || c == '"':
		text, err := l.lexQuoted(start, c, "string literal")
		return token{kind: tokString, text: text, pos: start, end: l.off}, err
	case c == '`':
		text, err := l.lexQuoted(start, c, "quoted identifier")
		if err == nil && text == "" {
			err = l.errorf(start, "empty quoted identifier")
		}
		return token{kind: tokQuotedIdent, text: text, pos: start, end: l.off}, err
	}
	if r, size := utf8.DecodeRuneInString(l.src[l.off:]); isIdentStart(r) {
		end := l.off + size
		for end < len(l.src) {
			r, size := utf8.DecodeRuneInString(l.src[end:])
			if !isIdentPart(r) {
				break
			}
			end += size
		}
		text := l.src[l.off:end]
		l.advance(end - l.off)
		return token{kind: tokWord, text: text, pos: start, end: l.off, reserved: isReserved(text)}, nil
	}
	return l.lexOperator(start)
}

func (l *lexer) lexOperator(start position) (token, error) {
	c, c1 := l.src[l.off], l.peekByte(1)
	kind, n := tokEOF, 1
	switch c {
	case '(':
		kind = tokLParen
	case ')':
		kind = tokRParen
	case ',':
		kind = tokComma
	case '.':
		kind = tokDot
	case ';':
		kind = tokSemicolon
	case '=':
		kind = tokEq
	case '+':
		kind = tokPlus
	case '-':
		kind = tokMinus
	case '*':
		kind = tokStar
	case '/':
		kind = tokSlash
	case '%':
		kind = tokPercent
	case '!':
		if c1 == '=' {
			kind, n = tokNotEq, 2
		}
	case '<':
		switch c1 {
		case '=':
			kind, n = tokLtEq, 2
		case '>':
			kind, n = tokNotEq, 2
		default:
			kind = tokLt
		}
	case '>':
		if c1 == '=' {
			kind, n = tokGtEq, 2
		} else {
			kind = tokGt
		}
	case '|':
		if c1 == '|' {
			kind, n = tokConcat, 2
		}
	case ':':
		if c1 == ':' {
			kind, n = tokDoubleColon, 2
		}
	}
	if kind == tokEOF {
		r, _ := utf8.DecodeRuneInString(l.src[l.off:])
		if r == utf8.RuneError {
			return token{}, l.errorf(start, "invalid UTF-8 byte 0x%02x", l.src[l.off])
		}
		return token{}, l.errorf(start, "unexpected character %q", r)
	}
	text := l.src[l.off : l.off+n]
	l.advance(n)
	return token{kind: kind, text: text, pos: start, end: l.off}, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// lexNumber reads digits [. digits] [e [+-] digits], or . digits [exponent].
func (l *lexer) lexNumber(start position) (token, error) {
	s, i := l.src, l.off
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	text := s[l.off:i]
	l.advance(i - l.off)
	return token{kind: tokNumber, text: text, pos: start, end: l.off}, nil
}

// lexHexNumber reads a MySQL 0x0aff literal. Like MySQL, 0x followed by
// something that continues a word (0x1g) is not a hex literal; ok is false
// then and nothing is consumed.
func (l *lexer) lexHexNumber(start position) (tok token, ok bool) {
	s, i := l.src, l.off+2
	for i < len(s) && isHexDigit(s[i]) {
		i++
	}
	if r, _ := utf8.DecodeRuneInString(s[i:]); i < len(s) && isIdentPart(r) {
		return token{}, false
	}
	digits := s[l.off+2 : i]
	if len(digits)%2 == 1 {
		digits = "0" + digits // MySQL pads 0xabc to 0x0abc
	}
	l.advance(i - l.off)
	return token{kind: tokHex, text: decodeHex(digits), pos: start, end: l.off}, true
}

// lexHexString reads x'0aFF'. The digits must come in pairs.
func (l *lexer) lexHexString(start position) (token, error) {
	s := l.src
	body := l.off + 2
	i := body
	for i < len(s) && s[i] != '\'' {
		i++
	}
	if i >= len(s) {
		return token{}, l.errorf(start, "unterminated hex literal")
	}
	digits := s[body:i]
	for j := 0; j < len(digits); j++ {
		if !isHexDigit(digits[j]) {
			l.advance(body + j - l.off)
			return token{}, l.errorf(l.pos(), "invalid hex digit %q in hex literal", rune(digits[j]))
		}
	}
	if len(digits)%2 == 1 {
		return token{}, l.errorf(start, "hex literal must have an even number of digits")
	}
	l.advance(i + 1 - l.off)
	return token{kind: tokHex, text: decodeHex(digits), pos: start, end: l.off}, nil
}

func decodeHex(digits string) string {
	b := make([]byte, len(digits)/2)
	for i := range b {
		b[i] = unhex(digits[2*i])<<4 | unhex(digits[2*i+1])
	}
	return string(b)
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// lexQuoted reads a string or quoted identifier delimited by q. A doubled
// delimiter stands for itself. In strings (not in `identifiers`), a
// backslash escapes the next character the way MySQL does.
func (l *lexer) lexQuoted(start position, q byte, what string) (string, error) {
	s := l.src
	body := l.off + 1
	backslash := q != '`'
	// Fast path: no escapes, so the value is a substring of the input.
	i := body
	for i < len(s) && s[i] != q && !(backslash && s[i] == '\\') {
		i++
	}
	if i < len(s) && s[i] == q && (i+1 >= len(s) || s[i+1] != q) {
		l.advance(i + 1 - l.off)
		return s[body:i], nil
	}
	var b strings.Builder
	b.WriteString(s[body:i])
	for {
		if i >= len(s) {
			return "", l.errorf(start, "unterminated %s", what)
		}
		c := s[i]
		switch {
		case c == q:
			if i+1 < len(s) && s[i+1] == q {
				b.WriteByte(q)
				i += 2
				continue
			}
			l.advance(i + 1 - l.off)
			return b.String(), nil
		case backslash && c == '\\':
			if i+1 >= len(s) {
				return "", l.errorf(start, "unterminated %s", what)
			}
			i++
			switch e := s[i]; e {
			case '0':
				b.WriteByte(0)
			case 'b':
				b.WriteByte('\b')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'Z':
				b.WriteByte(0x1A)
			case '%', '_':
				// MySQL keeps the backslash so LIKE still sees an escape.
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				b.WriteByte(e)
			}
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
}
