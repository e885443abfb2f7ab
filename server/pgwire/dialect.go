package pgwire

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/horaego/horaedb/server/mysqlwire/sqltext"
)

// PostgreSQL clients write SQL with PostgreSQL's lexical rules, which
// differ from those of HoraeDB's (MySQL's) dialect in ways that would
// change what a statement means, or let a value escape its string:
//
//	PostgreSQL                     HoraeDB's dialect        translation
//	'it''s \ x' (no escapes:       '...' reads \ as an       re-quoted: 'it''s \\ x'
//	  standard_conforming_strings)   escape
//	E'a\nb', $$x$$, $tag$x$tag$    (none)                   re-quoted as '...'
//	"Name" is an identifier        "Name" is a string       `Name`
//	/* nested /* */ comments */    not nested               dropped
//	x::int8, ::int4, ::float8,     int8 is tinyint, ...     x::bigint, ::int,
//	  ::text, ::bytea, ...                                    ::double, ::string, ...
//
// translate rewrites a statement so; everything else (words, numbers,
// operators, $n placeholders, -- comments) is copied. pgx's and psql's
// client-side quoting are PostgreSQL's, so this is what keeps their
// values inside their literals.

// castTypes maps PostgreSQL type names after :: to the dialect's.
var castTypes = map[string]string{
	"int8": "bigint", "int4": "int", "integer": "int", "int2": "smallint",
	"float8": "double", "float4": "float", "real": "float", "numeric": "double", "decimal": "double",
	"text": "string", "varchar": "string", "name": "string", "bpchar": "string", "char": "string",
	"character": "string", "citext": "string", "uuid": "string", "json": "string", "jsonb": "string",
	"bytea": "varbinary", "bool": "boolean", "timestamptz": "timestamp",
}

// multiWordTypes maps the PostgreSQL type names of several words.
var multiWordTypes = []struct{ words, to string }{
	{"double precision", "double"},
	{"character varying", "string"},
	{"timestamp with time zone", "timestamp"},
	{"timestamp without time zone", "timestamp"},
	{"time without time zone", "time"},
}

// translate rewrites PostgreSQL SQL text into HoraeDB's dialect (see
// above).
func translate(sql string) string {
	var out []byte
	i := 0
	prevIdent := false // the last byte written continues a word
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			out = append(out, sql[i:i+j]...)
			i += j
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			i = skipBlockComment(sql, i)
			out = append(out, ' ')
		case c == '\'':
			var s string
			s, i = standardString(sql, i)
			out = sqltext.AppendString(out, s)
		case (c == 'e' || c == 'E') && !prevIdent && i+1 < len(sql) && sql[i+1] == '\'':
			var s string
			s, i = escapeString(sql, i+1)
			out = sqltext.AppendString(out, s)
		case (c == 'x' || c == 'X' || c == 'b' || c == 'B') && !prevIdent && i+1 < len(sql) && sql[i+1] == '\'':
			// A bit string: copied to its closing quote (no escapes).
			j := strings.IndexByte(sql[i+2:], '\'')
			end := len(sql)
			if j >= 0 {
				end = i + 2 + j + 1
			}
			out = append(out, sql[i:end]...)
			i = end
		case c == '"':
			var s string
			s, i = quotedIdent(sql, i)
			out = appendBackquoted(out, s)
		case c == '$' && !prevIdent && i+1 < len(sql) && !isDigit(sql[i+1]):
			if tag, ok := dollarTag(sql, i); ok {
				var s string
				s, i = dollarString(sql, i, tag)
				out = sqltext.AppendString(out, s)
			} else {
				out = append(out, c)
				i++
			}
		case c == ':' && i+1 < len(sql) && sql[i+1] == ':':
			out = append(out, "::"...)
			i += 2
			for i < len(sql) && isSpace(sql[i]) {
				out = append(out, sql[i])
				i++
			}
			i, out = castType(sql, i, out)
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(sql[i:])
			out = append(out, sql[i:i+size]...)
			i += size
			prevIdent = unicode.IsLetter(r) || unicode.IsDigit(r)
			continue
		default:
			out = append(out, c)
			i++
		}
		prevIdent = len(out) > 0 && isIdentByte(out[len(out)-1])
	}
	return string(out)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func isIdentByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '$' || c >= utf8.RuneSelf
}

// skipBlockComment returns the offset after the (possibly nested) block
// comment at i; an unterminated one runs to the end.
func skipBlockComment(sql string, i int) int {
	depth := 0
	for i < len(sql) {
		switch {
		case sql[i] == '/' && i+1 < len(sql) && sql[i+1] == '*':
			depth++
			i += 2
		case sql[i] == '*' && i+1 < len(sql) && sql[i+1] == '/':
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

// standardString reads the standard-conforming string at i: ” is a
// quote, nothing else is special. An unterminated string runs to the end.
func standardString(sql string, i int) (string, int) {
	var b strings.Builder
	for i++; i < len(sql); i++ {
		if sql[i] == '\'' {
			if i+1 < len(sql) && sql[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), i + 1
		}
		b.WriteByte(sql[i])
	}
	return b.String(), i
}

// escapeString reads the escape string whose quote is at i (after the E).
func escapeString(sql string, i int) (string, int) {
	var b strings.Builder
	for i++; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'':
			if i+1 < len(sql) && sql[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), i + 1
		case c == '\\' && i+1 < len(sql):
			i++
			switch e := sql[i]; e {
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'x':
				j := i + 1
				for j < len(sql) && j < i+3 && isHex(sql[j]) {
					j++
				}
				if j == i+1 {
					b.WriteByte('x')
					continue
				}
				v, _ := strconv.ParseUint(sql[i+1:j], 16, 8)
				b.WriteByte(byte(v))
				i = j - 1
			case 'u', 'U':
				n := 4
				if e == 'U' {
					n = 8
				}
				if i+n < len(sql) {
					if v, err := strconv.ParseUint(sql[i+1:i+1+n], 16, 32); err == nil && utf8.ValidRune(rune(v)) {
						b.WriteRune(rune(v))
						i += n
						continue
					}
				}
				b.WriteByte(e)
			default:
				if '0' <= e && e <= '7' {
					j := i
					for j < len(sql) && j < i+3 && '0' <= sql[j] && sql[j] <= '7' {
						j++
					}
					v, _ := strconv.ParseUint(sql[i:j], 8, 16)
					b.WriteByte(byte(v))
					i = j - 1
					continue
				}
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), i
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// quotedIdent reads the "identifier" at i ("" is a quote).
func quotedIdent(sql string, i int) (string, int) {
	var b strings.Builder
	for i++; i < len(sql); i++ {
		if sql[i] == '"' {
			if i+1 < len(sql) && sql[i+1] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			return b.String(), i + 1
		}
		b.WriteByte(sql[i])
	}
	return b.String(), i
}

// appendBackquoted appends name as a `quoted identifier`. An empty name
// stays empty quotes, which the parser rejects.
func appendBackquoted(dst []byte, name string) []byte {
	dst = append(dst, '`')
	dst = append(dst, strings.ReplaceAll(name, "`", "``")...)
	return append(dst, '`')
}

// dollarTag returns the $tag$ that starts at i, if one does: $$ or $name$
// where name is a word that does not start with a digit.
func dollarTag(sql string, i int) (string, bool) {
	j := i + 1
	for j < len(sql) && sql[j] != '$' {
		c := sql[j]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf || j > i+1 && isDigit(c)) {
			return "", false
		}
		j++
	}
	if j >= len(sql) {
		return "", false
	}
	return sql[i : j+1], true
}

// dollarString reads the dollar-quoted string with tag at i.
func dollarString(sql string, i int, tag string) (string, int) {
	body := i + len(tag)
	end := strings.Index(sql[body:], tag)
	if end < 0 {
		return sql[body:], len(sql)
	}
	return sql[body : body+end], body + end + len(tag)
}

// castType copies the type name at i, after ::, translating PostgreSQL's
// names.
func castType(sql string, i int, out []byte) (int, []byte) {
	rest := strings.ToLower(sql[i:])
	for _, m := range multiWordTypes {
		if strings.HasPrefix(rest, m.words) && (len(rest) == len(m.words) || !isIdentByte(rest[len(m.words)])) {
			return i + len(m.words), append(out, m.to...)
		}
	}
	j := i
	for j < len(sql) && isIdentByte(sql[j]) && sql[j] < utf8.RuneSelf {
		j++
	}
	if to, ok := castTypes[strings.ToLower(sql[i:j])]; ok {
		return j, append(out, to...)
	}
	return j, append(out, sql[i:j]...)
}
