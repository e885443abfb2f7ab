// Package jsonenc writes Arrow values as JSON the way upstream HoraeDB's
// HTTP API does (serde_json), for every front end that answers JSON:
//
//	null (any type)                 null
//	timestamp (any unit)            integer milliseconds
//	int8..int64, uint8..uint64      integer (uint64 exactly)
//	float16/32/64                   number as serde_json prints it ("1.0",
//	                                "0.1", "1e21"); NaN and ±Inf are null
//	utf8, large_utf8, string_view   string
//	binary (all kinds)              array of byte values, e.g. [1,255]
//	bool                            true / false
//	date32, date64                  "YYYY-MM-DD"
//	time32, time64                  "HH:MM:SS[.fff|.ffffff|.fffffffff]"
//	dictionary                      the value its index points at
//	anything else                   Arrow's own JSON of the value
package jsonenc

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Appender appends the JSON of the value at row i of one array.
type Appender func(dst []byte, i int) []byte

// Value returns the Appender of arr, writing null for null slots.
func Value(arr arrow.Array) Appender {
	f := valueAppender(arr)
	if arr.NullN() == 0 {
		return f
	}
	return func(dst []byte, i int) []byte {
		if arr.IsNull(i) {
			return append(dst, "null"...)
		}
		return f(dst, i)
	}
}

// valueAppender returns the Appender of arr's non-null values.
func valueAppender(arr arrow.Array) Appender {
	switch a := arr.(type) {
	case *array.Null:
		return func(dst []byte, _ int) []byte { return append(dst, "null"...) }
	case *array.Boolean:
		return func(dst []byte, i int) []byte { return strconv.AppendBool(dst, a.Value(i)) }
	case *array.Int8:
		return func(dst []byte, i int) []byte { return Int(dst, int64(a.Value(i))) }
	case *array.Int16:
		return func(dst []byte, i int) []byte { return Int(dst, int64(a.Value(i))) }
	case *array.Int32:
		return func(dst []byte, i int) []byte { return Int(dst, int64(a.Value(i))) }
	case *array.Int64:
		return func(dst []byte, i int) []byte { return Int(dst, a.Value(i)) }
	case *array.Uint8:
		return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint16:
		return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint32:
		return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint64:
		return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, a.Value(i), 10) }
	case *array.Float16:
		return func(dst []byte, i int) []byte { return Float(dst, float64(a.Value(i).Float32()), 32) }
	case *array.Float32:
		return func(dst []byte, i int) []byte { return Float(dst, float64(a.Value(i)), 32) }
	case *array.Float64:
		return func(dst []byte, i int) []byte { return Float(dst, a.Value(i), 64) }
	case *array.String:
		return func(dst []byte, i int) []byte { return String(dst, a.Value(i)) }
	case *array.LargeString:
		return func(dst []byte, i int) []byte { return String(dst, a.Value(i)) }
	case *array.StringView:
		return func(dst []byte, i int) []byte { return String(dst, a.Value(i)) }
	case *array.Binary:
		return func(dst []byte, i int) []byte { return appendByteArray(dst, a.Value(i)) }
	case *array.LargeBinary:
		return func(dst []byte, i int) []byte { return appendByteArray(dst, a.Value(i)) }
	case *array.BinaryView:
		return func(dst []byte, i int) []byte { return appendByteArray(dst, a.Value(i)) }
	case *array.FixedSizeBinary:
		return func(dst []byte, i int) []byte { return appendByteArray(dst, a.Value(i)) }
	case *array.Timestamp:
		toMillis := timestampToMillis(a.DataType().(*arrow.TimestampType).Unit)
		return func(dst []byte, i int) []byte { return Int(dst, toMillis(int64(a.Value(i)))) }
	case *array.Date32:
		return func(dst []byte, i int) []byte { return appendDate(dst, int64(a.Value(i))*86400) }
	case *array.Date64:
		return func(dst []byte, i int) []byte { return appendDate(dst, floorDiv(int64(a.Value(i)), 1000)) }
	case *array.Time32:
		scale := int64(time.Second)
		if a.DataType().(*arrow.Time32Type).Unit == arrow.Millisecond {
			scale = int64(time.Millisecond)
		}
		return func(dst []byte, i int) []byte { return appendClock(dst, int64(a.Value(i))*scale) }
	case *array.Time64:
		scale := int64(1)
		if a.DataType().(*arrow.Time64Type).Unit == arrow.Microsecond {
			scale = int64(time.Microsecond)
		}
		return func(dst []byte, i int) []byte { return appendClock(dst, int64(a.Value(i))*scale) }
	case *array.Dictionary:
		values := Value(a.Dictionary())
		return func(dst []byte, i int) []byte { return values(dst, a.GetValueIndex(i)) }
	}
	return func(dst []byte, i int) []byte {
		b, err := json.Marshal(arr.GetOneForMarshal(i))
		if err != nil {
			return String(dst, arr.ValueStr(i))
		}
		return append(dst, b...)
	}
}

// timestampToMillis converts a timestamp of unit u to milliseconds,
// rounding toward negative infinity.
func timestampToMillis(u arrow.TimeUnit) func(int64) int64 {
	switch u {
	case arrow.Second:
		return func(v int64) int64 { return v * 1000 }
	case arrow.Microsecond:
		return func(v int64) int64 { return floorDiv(v, 1000) }
	case arrow.Nanosecond:
		return func(v int64) int64 { return floorDiv(v, 1000_000) }
	}
	return func(v int64) int64 { return v }
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Int appends v in decimal.
func Int(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// appendByteArray appends b as a JSON array of numbers, as serde writes a
// Vec<u8>.
func appendByteArray(dst []byte, b []byte) []byte {
	dst = append(dst, '[')
	for i, c := range b {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendUint(dst, uint64(c), 10)
	}
	return append(dst, ']')
}

// appendDate appends the UTC date of a Unix time in seconds as
// "YYYY-MM-DD".
func appendDate(dst []byte, unixSeconds int64) []byte {
	dst = append(dst, '"')
	dst = time.Unix(unixSeconds, 0).UTC().AppendFormat(dst, time.DateOnly)
	return append(dst, '"')
}

// appendClock appends a time of day given in nanoseconds the way chrono
// prints a NaiveTime: "HH:MM:SS" and a fraction of 3, 6 or 9 digits when it
// is not zero. Out-of-day values are not wrapped: hours may exceed 23, and a
// negative value gets a leading '-'.
func appendClock(dst []byte, nanos int64) []byte {
	dst = append(dst, '"')
	u := uint64(nanos)
	if nanos < 0 {
		dst = append(dst, '-')
		u = uint64(-(nanos + 1)) + 1 // also right for math.MinInt64
	}
	secs, frac := u/1e9, u%1e9
	dst = appendPadded(dst, secs/3600, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs/60%60, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs%60, 2)
	switch {
	case frac == 0:
	case frac%1e6 == 0:
		dst = append(dst, '.')
		dst = appendPadded(dst, frac/1e6, 3)
	case frac%1e3 == 0:
		dst = append(dst, '.')
		dst = appendPadded(dst, frac/1e3, 6)
	default:
		dst = append(dst, '.')
		dst = appendPadded(dst, frac, 9)
	}
	return append(dst, '"')
}

// appendPadded appends v in decimal, zero-padded to at least width digits.
func appendPadded(dst []byte, v uint64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendUint(buf[:0], v, 10)
	for n := len(s); n < width; n++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// Float appends f the way serde_json (ryu) prints an f64 (bitSize
// 64) or f32 (bitSize 32): the shortest digits that read back as f, with
// ".0" on whole numbers, plain notation for moderate exponents and
// "<d>[.<ddd>]e<exp>" otherwise. NaN and infinities are null, as serde_json
// writes them.
func Float(dst []byte, f float64, bitSize int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	// Shortest round-trip digits and exponent: "-d.ddde±xx".
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, bitSize)
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	mant, exp := e, 0
	for k, c := range e {
		if c == 'e' {
			mant = e[:k]
			exp, _ = strconv.Atoi(string(e[k+1:]))
			break
		}
	}
	var digits [24]byte
	nd := 0
	for _, c := range mant {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	d := digits[:nd]
	// The value is 0.d × 10^kk, i.e. d × 10^(kk-len(d)).
	kk := exp + 1
	maxPlain, minPlain := 16, -5 // ryu's format64
	if bitSize == 32 {
		maxPlain, minPlain = 13, -6 // ryu's format32
	}
	switch {
	case kk >= len(d) && kk <= maxPlain: // 1234e7 → 12340000000.0
		dst = append(dst, d...)
		for range kk - len(d) {
			dst = append(dst, '0')
		}
		return append(dst, ".0"...)
	case kk > 0 && kk <= maxPlain: // 1234e-2 → 12.34
		dst = append(dst, d[:kk]...)
		dst = append(dst, '.')
		return append(dst, d[kk:]...)
	case kk > minPlain && kk <= 0: // 1234e-6 → 0.001234
		dst = append(dst, "0."...)
		for range -kk {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	}
	dst = append(dst, d[0]) // 1234e30 → 1.234e33, 1e30 → 1e30
	if len(d) > 1 {
		dst = append(dst, '.')
		dst = append(dst, d[1:]...)
	}
	dst = append(dst, 'e')
	return strconv.AppendInt(dst, int64(kk-1), 10)
}

// String appends s as a JSON string, escaping what JSON requires
// (quote, backslash, control characters) and nothing else, as serde_json
// does; invalid UTF-8 becomes U+FFFD.
func String(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
