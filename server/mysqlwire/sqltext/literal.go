package sqltext

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// The literals of HoraeDB's dialect a parameter is rendered as. Each is one
// token or a parenthesised expression, so that no neighbour can change what
// it means:
//
//	NULL                   NULL
//	booleans               TRUE, FALSE
//	integers               42; negative ones in parentheses, (-42), so
//	                       that "5 -?" cannot become the comment "5 --42"
//	floats                 1.5, 2.0, 1e+21, (-0.5); NaN and infinities,
//	                       which have no literal, as CAST('NaN' AS double)
//	decimals               their digits, checked to be a number
//	strings                '...' with ' doubled and \ doubled (the lexer
//	                       reads backslash escapes); every other byte as is
//	bytes                  x'00ff'
//	timestamps             '2024-01-02T03:04:05.123Z' (RFC 3339, with the
//	                       offset, so no time zone setting can change it)

// AppendNull appends NULL.
func AppendNull(dst []byte) []byte { return append(dst, "NULL"...) }

// AppendBool appends TRUE or FALSE.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, "TRUE"...)
	}
	return append(dst, "FALSE"...)
}

// AppendInt appends v; a negative v in parentheses.
func AppendInt(dst []byte, v int64) []byte {
	if v >= 0 {
		return strconv.AppendInt(dst, v, 10)
	}
	dst = append(dst, '(')
	dst = strconv.AppendInt(dst, v, 10)
	return append(dst, ')')
}

// AppendUint appends v.
func AppendUint(dst []byte, v uint64) []byte { return strconv.AppendUint(dst, v, 10) }

// AppendFloat appends f, a float64 (bitSize 64) or float32 (bitSize 32),
// with the shortest digits that read back as f and always a fraction or an
// exponent, so that it stays a floating-point literal.
func AppendFloat(dst []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "CAST('NaN' AS double)"...)
	case math.IsInf(f, 1):
		return append(dst, "CAST('Infinity' AS double)"...)
	case math.IsInf(f, -1):
		return append(dst, "CAST('-Infinity' AS double)"...)
	}
	neg := math.Signbit(f)
	if neg {
		dst = append(dst, "(-"...)
		f = -f
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'g', -1, bitSize)
	plain := true
	for _, c := range dst[start:] {
		if c == '.' || c == 'e' {
			plain = false
		}
	}
	if plain {
		dst = append(dst, ".0"...)
	}
	if neg {
		dst = append(dst, ')')
	}
	return dst
}

// ErrNotNumber is a decimal parameter whose text is not a number.
var ErrNotNumber = errors.New("sqltext: not a number")

// AppendDecimal appends the decimal number written in text (an optional
// sign, digits, an optional fraction and exponent), which it checks.
func AppendDecimal(dst []byte, text string) ([]byte, error) {
	s := text
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || skipNumber(s, 0) != len(s) || s[0] == 'e' || s[0] == 'E' || s == "." {
		return dst, ErrNotNumber
	}
	if s[0] == '.' && len(s) > 1 && !isDigit(s[1]) {
		return dst, ErrNotNumber
	}
	if neg {
		dst = append(dst, "(-"...)
		dst = append(dst, s...)
		return append(dst, ')'), nil
	}
	return append(dst, s...), nil
}

// AppendString appends s as a string literal.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '\'')
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '\\':
			dst = append(dst, s[start:i]...)
			dst = append(dst, c, c)
			start = i + 1
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '\'')
}

// AppendBytes appends b as a binary literal, x'...'.
func AppendBytes(dst []byte, b []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, "x'"...)
	for _, c := range b {
		dst = append(dst, hex[c>>4], hex[c&0xF])
	}
	return append(dst, '\'')
}

// AppendTimestamp appends t as an RFC 3339 string literal with its offset
// and every non-zero fraction digit.
func AppendTimestamp(dst []byte, t time.Time) []byte {
	dst = append(dst, '\'')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '\'')
}
