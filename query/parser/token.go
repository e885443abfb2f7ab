package parser

import "unicode"

// tokenKind is the lexical class of a token.
type tokenKind uint8

const (
	tokEOF         tokenKind = iota
	tokWord                  // bare identifier or keyword, text as written
	tokQuotedIdent           // `backquoted` identifier, text unescaped
	tokString                // '...' or "..." string, text unescaped
	tokNumber                // integer or decimal literal, text as written
	tokHex                   // x'0aff' or 0x0aff, text holds the decoded bytes
	tokLParen                // (
	tokRParen                // )
	tokComma                 // ,
	tokDot                   // .
	tokSemicolon             // ;
	tokEq                    // =
	tokNotEq                 // != or <>
	tokLt                    // <
	tokLtEq                  // <=
	tokGt                    // >
	tokGtEq                  // >=
	tokPlus                  // +
	tokMinus                 // -
	tokStar                  // *
	tokSlash                 // /
	tokPercent               // %
	tokConcat                // ||
	tokDoubleColon           // ::
)

// punctText is how a punctuation or operator kind is named in error messages.
var punctText = [...]string{
	tokLParen:      "(",
	tokRParen:      ")",
	tokComma:       ",",
	tokDot:         ".",
	tokSemicolon:   ";",
	tokEq:          "=",
	tokNotEq:       "!=",
	tokLt:          "<",
	tokLtEq:        "<=",
	tokGt:          ">",
	tokGtEq:        ">=",
	tokPlus:        "+",
	tokMinus:       "-",
	tokStar:        "*",
	tokSlash:       "/",
	tokPercent:     "%",
	tokConcat:      "||",
	tokDoubleColon: "::",
}

// position is a place in the SQL text. Line and Column are 1-based; Column
// counts characters (runes), not bytes. Offset is the 0-based byte offset.
type position struct {
	Offset int
	Line   int
	Column int
}

// token is one lexical token. The lexer produces the whole slice up front, so
// the parser can look ahead freely.
type token struct {
	kind tokenKind
	// text is the word as written (tokWord), the unescaped value (tokString,
	// tokQuotedIdent), the digits as written (tokNumber), the decoded bytes
	// (tokHex) or the operator as written.
	text string
	pos  position
	// end is the byte offset just past the token in the source.
	end int
	// reserved is set on a tokWord that is a reserved word (see reserved).
	reserved bool
}

// reserved lists the words that cannot be used as bare identifiers: they
// start or separate clauses, or begin special expressions. Any other word,
// keyword-like or not (TIMESTAMP, KEY, TAG, VALUE, ENGINE, ...), is also an
// identifier where the grammar expects one, which is what lets HoraeDB users
// name columns `timestamp`, `value` or `tag` without quotes. Printing quotes
// exactly these words, so that String() output parses back to the same tree.
var reserved = map[string]struct{}{
	"ALL": {}, "ALTER": {}, "AND": {}, "AS": {}, "ASC": {}, "BETWEEN": {}, "BY": {},
	"CASE": {}, "CAST": {}, "CHECK": {}, "COLLATE": {}, "CONSTRAINT": {}, "CREATE": {},
	"CROSS": {}, "CURRENT_DATE": {}, "CURRENT_TIME": {}, "CURRENT_TIMESTAMP": {},
	"DEFAULT": {}, "DELETE": {}, "DESC": {}, "DESCRIBE": {}, "DISTINCT": {}, "DIV": {},
	"DROP": {}, "ELSE": {}, "END": {}, "EXCEPT": {}, "EXISTS": {}, "EXPLAIN": {},
	"FALSE": {}, "FOREIGN": {}, "FROM": {}, "FULL": {}, "GROUP": {}, "HAVING": {},
	"IF": {}, "ILIKE": {}, "IN": {}, "INNER": {}, "INSERT": {}, "INTERSECT": {},
	"INTERVAL": {}, "INTO": {}, "IS": {}, "JOIN": {}, "LEFT": {}, "LIKE": {},
	"LIMIT": {}, "NATURAL": {}, "NOT": {}, "NULL": {}, "OFFSET": {}, "ON": {}, "OR": {},
	"ORDER": {}, "OUTER": {}, "PARTITION": {}, "PRIMARY": {}, "RIGHT": {}, "SELECT": {},
	"SHOW": {}, "TABLE": {}, "THEN": {}, "TRUE": {}, "UNION": {}, "UNIQUE": {},
	"UPDATE": {}, "USING": {}, "VALUES": {}, "WHEN": {}, "WHERE": {}, "WITH": {},
	"XOR": {},
}

// reservedFuncs are reserved words that are still function names when a '('
// follows them: LEFT(s, n), IF(c, a, b), CURRENT_DATE().
var reservedFuncs = map[string]struct{}{
	"LEFT": {}, "RIGHT": {}, "IF": {},
	"CURRENT_DATE": {}, "CURRENT_TIME": {}, "CURRENT_TIMESTAMP": {},
}

// maxReservedLen is the length of the longest reserved word.
const maxReservedLen = len("CURRENT_TIMESTAMP")

// upperASCII writes the ASCII upper case of s into buf and reports whether s
// was short and pure ASCII. It lets keyword lookups avoid allocating.
func upperASCII(buf []byte, s string) ([]byte, bool) {
	if len(s) > cap(buf) {
		return nil, false
	}
	buf = buf[:len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return nil, false
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return buf, true
}

func inWordSet(set map[string]struct{}, s string) bool {
	var arr [maxReservedLen]byte
	up, ok := upperASCII(arr[:0], s)
	if !ok {
		return false
	}
	_, found := set[string(up)]
	return found
}

// isReserved reports whether the word s (any case) is reserved.
func isReserved(s string) bool { return inWordSet(reserved, s) }

// eqFold compares s with an upper-case ASCII keyword, ignoring ASCII case
// only. (strings.EqualFold would also fold 'ſ' to 's' and 'K' to 'k', which
// the reserved-word check does not, and the two must agree.)
func eqFold(s, kw string) bool {
	if len(s) != len(kw) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != kw[i] {
			return false
		}
	}
	return true
}

// isIdentStart reports whether r may begin a bare identifier: an ASCII
// letter, '_', or any Unicode letter (Chinese identifiers are common).
func isIdentStart(r rune) bool {
	if r < 0x80 {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_'
	}
	return unicode.IsLetter(r)
}

// isIdentPart reports whether r may continue a bare identifier.
func isIdentPart(r rune) bool {
	if r < 0x80 {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_' ||
			'0' <= r && r <= '9' || r == '$'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}
