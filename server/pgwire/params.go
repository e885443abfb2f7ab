package pgwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/horaego/horaedb/server/mysqlwire/sqltext"
)

// Parameters are bound by rendering them as literals of the dialect
// (package sqltext), by type and format:
//
//	type (OID)                  text format             binary format
//	bool                        t/true/yes/on/1, f/...  1 byte
//	int2, int4, int8, oid       decimal                 big endian
//	float4, float8              decimal, NaN, Infinity  IEEE big endian
//	numeric                     decimal                 base-10000 digits
//	bytea                       \x hex, or escapes      the bytes → x'..'
//	date                        YYYY-MM-DD              days since 2000-01-01
//	time                        HH:MM:SS[.f]            µs since midnight
//	timestamp, timestamptz      PostgreSQL's formats    µs since 2000-01-01
//	                            → RFC 3339 (UTC when     → RFC 3339 UTC
//	                            no offset is given)
//	text, varchar, name, json,  the text → '...'        the text → '...'
//	unspecified (0), others
//
// A parameter of unspecified type is a string literal, which the executor
// converts where the context needs another type (a comparison with a
// column, an INSERT), as PostgreSQL does with a literal of unknown type.

// errParam is a parameter that does not decode.
var errParam = errors.New("invalid parameter")

func paramError(i int, err error) *pgError {
	code := codeInvalidText
	switch {
	case errors.Is(err, errBinary):
		code = codeInvalidBinary
	case errors.Is(err, errEncoding):
		code = codeCharacterNotInRepr
	case errors.Is(err, errUnsupportedBinary):
		code = codeFeatureNotSupported
	}
	return newError(code, "parameter $%d: %v", i+1, err)
}

var (
	errBinary            = fmt.Errorf("%w: insufficient data left in message", errParam)
	errEncoding          = fmt.Errorf("%w: invalid byte sequence for encoding \"UTF8\"", errParam)
	errUnsupportedBinary = fmt.Errorf("%w: binary format not supported for this type", errParam)
)

// decodeParam returns the literal of a parameter of type oid in format
// (0 text, 1 binary).
func decodeParam(oid uint32, format int16, v []byte) ([]byte, error) {
	if format == 1 {
		return decodeBinary(oid, v)
	}
	if !utf8.Valid(v) {
		return nil, errEncoding
	}
	s := string(v)
	switch oid {
	case oidBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "t", "true", "y", "yes", "on", "1":
			return sqltext.AppendBool(nil, true), nil
		case "f", "false", "n", "no", "off", "0":
			return sqltext.AppendBool(nil, false), nil
		}
		return nil, fmt.Errorf("%w: invalid input syntax for type boolean: %q", errParam, s)
	case oidInt2, oidInt4, oidInt8, oidOID:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: invalid input syntax for type integer: %q", errParam, s)
		}
		return sqltext.AppendInt(nil, n), nil
	case oidFloat4, oidFloat8:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("%w: invalid input syntax for type double precision: %q", errParam, s)
		}
		bits := 64
		if oid == oidFloat4 {
			bits = 32
		}
		return sqltext.AppendFloat(nil, f, bits), nil
	case oidNumeric:
		lit, err := sqltext.AppendDecimal(nil, strings.TrimSpace(s))
		if err != nil {
			if f, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64); ferr == nil && math.IsNaN(f) {
				return sqltext.AppendFloat(nil, f, 64), nil
			}
			return nil, fmt.Errorf("%w: invalid input syntax for type numeric: %q", errParam, s)
		}
		return lit, nil
	case oidBytea:
		b, err := decodeByteaText(s)
		if err != nil {
			return nil, err
		}
		return sqltext.AppendBytes(nil, b), nil
	case oidTimestamp, oidTimestamptz:
		if t, ok := parseTimestamp(s); ok {
			return sqltext.AppendTimestamp(nil, t), nil
		}
		return sqltext.AppendString(nil, s), nil // the executor reads or rejects it
	}
	return sqltext.AppendString(nil, s), nil
}

// decodeBinary returns the literal of a binary parameter.
func decodeBinary(oid uint32, v []byte) ([]byte, error) {
	need := func(n int) error {
		if len(v) != n {
			return fmt.Errorf("%w: %d bytes for a value of %d", errBinary, len(v), n)
		}
		return nil
	}
	switch oid {
	case oidBool:
		if err := need(1); err != nil {
			return nil, err
		}
		return sqltext.AppendBool(nil, v[0] != 0), nil
	case oidInt2:
		if err := need(2); err != nil {
			return nil, err
		}
		return sqltext.AppendInt(nil, int64(int16(binary.BigEndian.Uint16(v)))), nil
	case oidInt4:
		if err := need(4); err != nil {
			return nil, err
		}
		return sqltext.AppendInt(nil, int64(int32(binary.BigEndian.Uint32(v)))), nil
	case oidOID:
		if err := need(4); err != nil {
			return nil, err
		}
		return sqltext.AppendUint(nil, uint64(binary.BigEndian.Uint32(v))), nil
	case oidInt8:
		if err := need(8); err != nil {
			return nil, err
		}
		return sqltext.AppendInt(nil, int64(binary.BigEndian.Uint64(v))), nil
	case oidFloat4:
		if err := need(4); err != nil {
			return nil, err
		}
		return sqltext.AppendFloat(nil, float64(math.Float32frombits(binary.BigEndian.Uint32(v))), 32), nil
	case oidFloat8:
		if err := need(8); err != nil {
			return nil, err
		}
		return sqltext.AppendFloat(nil, math.Float64frombits(binary.BigEndian.Uint64(v)), 64), nil
	case oidNumeric:
		s, err := decodeNumeric(v)
		if err != nil {
			return nil, err
		}
		if s == "NaN" {
			return sqltext.AppendFloat(nil, math.NaN(), 64), nil
		}
		return sqltext.AppendDecimal(nil, s)
	case oidBytea:
		return sqltext.AppendBytes(nil, v), nil
	case oidText, oidVarchar, oidName, oidBPChar, oidChar, oidJSON, oidUnknown, oidUnspecified:
		if !utf8.Valid(v) {
			return nil, errEncoding
		}
		return sqltext.AppendString(nil, string(v)), nil
	case oidJSONB:
		if len(v) < 1 || v[0] != 1 || !utf8.Valid(v[1:]) {
			return nil, fmt.Errorf("%w: unsupported jsonb version", errParam)
		}
		return sqltext.AppendString(nil, string(v[1:])), nil
	case oidDate:
		if err := need(4); err != nil {
			return nil, err
		}
		days := int64(int32(binary.BigEndian.Uint32(v)))
		if days == math.MaxInt32 || days == math.MinInt32 {
			return nil, fmt.Errorf("%w: infinite dates are not supported", errParam)
		}
		t := time.Unix((days+pgEpochDays)*86400, 0).UTC()
		return sqltext.AppendString(nil, t.Format(time.DateOnly)), nil
	case oidTime:
		if err := need(8); err != nil {
			return nil, err
		}
		micros := int64(binary.BigEndian.Uint64(v))
		if micros < 0 || micros > 86400e6 {
			return nil, fmt.Errorf("%w: time out of range", errParam)
		}
		return sqltext.AppendString(nil, string(appendClock(nil, micros*1000))), nil
	case oidTimestamp, oidTimestamptz:
		if err := need(8); err != nil {
			return nil, err
		}
		micros := int64(binary.BigEndian.Uint64(v))
		if micros == math.MaxInt64 || micros == math.MinInt64 {
			return nil, fmt.Errorf("%w: infinite timestamps are not supported", errParam)
		}
		sec, frac := floorDiv(micros, 1e6), micros-floorDiv(micros, 1e6)*1e6
		t := time.Unix(sec+pgEpochMicros/1e6, frac*1000).UTC()
		return sqltext.AppendTimestamp(nil, t), nil
	case oidUUID:
		if err := need(16); err != nil {
			return nil, err
		}
		x := fmt.Sprintf("%x", v)
		return sqltext.AppendString(nil, x[:8]+"-"+x[8:12]+"-"+x[12:16]+"-"+x[16:20]+"-"+x[20:]), nil
	}
	return nil, fmt.Errorf("%w (type OID %d)", errUnsupportedBinary, oid)
}

// decodeNumeric decodes a binary numeric to its decimal text: ndigits,
// weight, sign, dscale (int16 each), then base-10000 digits.
func decodeNumeric(v []byte) (string, error) {
	if len(v) < 8 {
		return "", errBinary
	}
	ndigits := int(binary.BigEndian.Uint16(v))
	weight := int(int16(binary.BigEndian.Uint16(v[2:])))
	sign := binary.BigEndian.Uint16(v[4:])
	dscale := int(binary.BigEndian.Uint16(v[6:]))
	if len(v) != 8+2*ndigits || dscale > 1000 || weight > 1000 || weight < -1000 {
		return "", errBinary
	}
	switch sign {
	case 0xC000:
		return "NaN", nil
	case 0x0000, 0x4000:
	default:
		return "", fmt.Errorf("%w: invalid numeric sign 0x%04x", errParam, sign)
	}
	digits := make([]int, ndigits)
	for i := range digits {
		digits[i] = int(binary.BigEndian.Uint16(v[8+2*i:]))
		if digits[i] > 9999 {
			return "", fmt.Errorf("%w: invalid numeric digit %d", errParam, digits[i])
		}
	}
	// Digit k stands for digits[k] × 10000^(weight-k).
	var b strings.Builder
	if sign == 0x4000 {
		b.WriteByte('-')
	}
	if weight < 0 {
		b.WriteByte('0')
	}
	for k := 0; k <= weight; k++ {
		d := 0
		if k < ndigits {
			d = digits[k]
		}
		if k == 0 {
			b.WriteString(strconv.Itoa(d))
		} else {
			fmt.Fprintf(&b, "%04d", d)
		}
	}
	if dscale > 0 {
		var frac strings.Builder
		for k := weight + 1; frac.Len() < dscale; k++ {
			d := 0
			if k >= 0 && k < ndigits {
				d = digits[k]
			}
			fmt.Fprintf(&frac, "%04d", d)
		}
		b.WriteByte('.')
		b.WriteString(frac.String()[:dscale])
	}
	return b.String(), nil
}

// decodeByteaText decodes bytea's text forms: \x followed by hex digits,
// or the escape form (\\ and \ooo octal escapes, other bytes as is).
func decodeByteaText(s string) ([]byte, error) {
	if strings.HasPrefix(s, `\x`) {
		h := s[2:]
		out := make([]byte, 0, len(h)/2)
		for i := 0; i < len(h); {
			if isSpace(h[i]) {
				i++
				continue
			}
			if i+1 >= len(h) || !isHex(h[i]) || !isHex(h[i+1]) {
				return nil, fmt.Errorf("%w: invalid hexadecimal data in bytea", errParam)
			}
			v, _ := strconv.ParseUint(h[i:i+2], 16, 8)
			out = append(out, byte(v))
			i += 2
		}
		return out, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]):
			v, _ := strconv.ParseUint(s[i+1:i+4], 8, 16)
			if v > 255 {
				return nil, fmt.Errorf("%w: invalid input syntax for type bytea", errParam)
			}
			out = append(out, byte(v))
			i += 3
		default:
			return nil, fmt.Errorf("%w: invalid input syntax for type bytea", errParam)
		}
	}
	return out, nil
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// timestampLayouts are the text forms of timestamps clients send: what
// PostgreSQL prints (the offset as +HH, +HH:MM or +HH:MM:SS), ISO 8601
// with T, and without an offset (read as UTC, the session's time zone).
var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07:00:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999Z07:00:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

// parseTimestamp reads a timestamp in one of timestampLayouts.
func parseTimestamp(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// castName is the dialect's type of a parameter type, for CAST(NULL AS
// ...) when a statement is described.
func castName(oid uint32) string {
	switch oid {
	case oidBool:
		return "boolean"
	case oidBytea:
		return "varbinary"
	case oidInt2:
		return "smallint"
	case oidInt4:
		return "int"
	case oidInt8, oidOID:
		return "bigint"
	case oidFloat4:
		return "float"
	case oidFloat8:
		return "double"
	case oidNumeric:
		return "uint64"
	case oidDate:
		return "date"
	case oidTime:
		return "time"
	case oidTimestamp, oidTimestamptz:
		return "timestamp"
	}
	return "string"
}
