package pgwire

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Type OIDs (pg_type.oid) of the types this server sends or reads.
const (
	oidUnspecified = 0
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidUnknown     = 705
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
)

// Result columns by Arrow type. Every value has a text form and a binary
// form (the client picks per column in Bind; the simple protocol is always
// text):
//
//	Arrow              PostgreSQL type   text form
//	bool               bool              t / f
//	int8, int16        int2              decimal
//	int32              int4
//	int64              int8
//	uint8              int2              (widened so that every value fits:
//	uint16             int4               uint16 does not fit int2, ...)
//	uint32             int8
//	uint64             numeric           decimal (tsid hashes exceed int8)
//	float32            float4            shortest digits; NaN, Infinity
//	float64            float8
//	utf8 (all kinds)   text
//	binary (all kinds) bytea             \x and hex digits
//	timestamp          timestamptz       YYYY-MM-DD HH:MM:SS[.fff]+00 (UTC)
//	date32, date64     date              YYYY-MM-DD
//	time32, time64     time              HH:MM:SS[.ffffff]
//	null               text              always NULL
//	dictionary         its values' type
//	anything else      text              Arrow's text of the value
//
// Binary forms are PostgreSQL's: big-endian integers and IEEE floats;
// timestamptz int64 microseconds since 2000-01-01 UTC; date int32 days
// since 2000-01-01; time int64 microseconds since midnight; numeric as
// base-10000 digits.

// pgType describes a PostgreSQL type in a RowDescription.
type pgType struct {
	oid  uint32
	size int16 // pg_type.typlen; -1 for variable length
}

// colEncoder encodes the values of one Arrow type.
type colEncoder struct {
	typ pgType
	// text and binary append the value of row i of arr; they are not called
	// for null slots. nil for a type whose values are all NULL.
	text, binary func(dst []byte, arr arrow.Array, i int) []byte
}

// pgEpochMicros is 2000-01-01 00:00:00 UTC in microseconds since the Unix
// epoch; pgEpochDays the same in days.
const (
	pgEpochMicros = 946684800_000_000
	pgEpochDays   = 10957
)

// encoderFor returns the encoder of a result column of type dt.
func encoderFor(dt arrow.DataType) colEncoder {
	switch dt.ID() {
	case arrow.BOOL:
		return colEncoder{typ: pgType{oidBool, 1},
			text: func(dst []byte, a arrow.Array, i int) []byte {
				if a.(*array.Boolean).Value(i) {
					return append(dst, 't')
				}
				return append(dst, 'f')
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				if a.(*array.Boolean).Value(i) {
					return append(dst, 1)
				}
				return append(dst, 0)
			}}
	case arrow.INT8, arrow.INT16, arrow.UINT8:
		return intEncoder(pgType{oidInt2, 2})
	case arrow.INT32, arrow.UINT16:
		return intEncoder(pgType{oidInt4, 4})
	case arrow.INT64, arrow.UINT32:
		return intEncoder(pgType{oidInt8, 8})
	case arrow.UINT64:
		return colEncoder{typ: pgType{oidNumeric, -1},
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return strconv.AppendUint(dst, a.(*array.Uint64).Value(i), 10)
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				return appendNumericUint(dst, a.(*array.Uint64).Value(i))
			}}
	case arrow.FLOAT16, arrow.FLOAT32:
		return colEncoder{typ: pgType{oidFloat4, 4},
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return appendFloatText(dst, floatValue(a, i), 32)
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(floatValue(a, i))))
			}}
	case arrow.FLOAT64:
		return colEncoder{typ: pgType{oidFloat8, 8},
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return appendFloatText(dst, a.(*array.Float64).Value(i), 64)
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				return binary.BigEndian.AppendUint64(dst, math.Float64bits(a.(*array.Float64).Value(i)))
			}}
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		f := func(dst []byte, a arrow.Array, i int) []byte { return append(dst, stringValue(a, i)...) }
		return colEncoder{typ: pgType{oidText, -1}, text: f, binary: f}
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return colEncoder{typ: pgType{oidBytea, -1},
			text: func(dst []byte, a arrow.Array, i int) []byte {
				const hex = "0123456789abcdef"
				dst = append(dst, '\\', 'x')
				for _, c := range bytesValue(a, i) {
					dst = append(dst, hex[c>>4], hex[c&0xf])
				}
				return dst
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte { return append(dst, bytesValue(a, i)...) }}
	case arrow.TIMESTAMP:
		toMillis := timestampToMillis(dt.(*arrow.TimestampType).Unit)
		return colEncoder{typ: pgType{oidTimestamptz, 8},
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return appendTimestamptz(dst, toMillis(int64(a.(*array.Timestamp).Value(i))))
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				ms := toMillis(int64(a.(*array.Timestamp).Value(i)))
				return binary.BigEndian.AppendUint64(dst, uint64(ms*1000-pgEpochMicros))
			}}
	case arrow.DATE32, arrow.DATE64:
		return colEncoder{typ: pgType{oidDate, 4},
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return time.Unix(dateDays(a, i)*86400, 0).UTC().AppendFormat(dst, time.DateOnly)
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				return binary.BigEndian.AppendUint32(dst, uint32(int32(dateDays(a, i)-pgEpochDays)))
			}}
	case arrow.TIME32, arrow.TIME64:
		return colEncoder{typ: pgType{oidTime, 8},
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return appendClock(dst, clockValue(a, i))
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				return binary.BigEndian.AppendUint64(dst, uint64(clockValue(a, i)/1000))
			}}
	case arrow.NULL:
		return colEncoder{typ: pgType{oidText, -1}}
	case arrow.DICTIONARY:
		inner := encoderFor(dt.(*arrow.DictionaryType).ValueType)
		wrap := func(f func([]byte, arrow.Array, int) []byte) func([]byte, arrow.Array, int) []byte {
			if f == nil {
				return nil
			}
			return func(dst []byte, a arrow.Array, i int) []byte {
				d := a.(*array.Dictionary)
				return f(dst, d.Dictionary(), d.GetValueIndex(i))
			}
		}
		return colEncoder{typ: inner.typ, text: wrap(inner.text), binary: wrap(inner.binary)}
	}
	f := func(dst []byte, a arrow.Array, i int) []byte { return append(dst, a.ValueStr(i)...) }
	return colEncoder{typ: pgType{oidText, -1}, text: f, binary: f}
}

// intEncoder encodes any Arrow integer array as the PostgreSQL integer
// type t (int2, int4 or int8), which is wide enough for every value.
func intEncoder(t pgType) colEncoder {
	return colEncoder{typ: t,
		text: func(dst []byte, a arrow.Array, i int) []byte {
			return strconv.AppendInt(dst, intValue(a, i), 10)
		},
		binary: func(dst []byte, a arrow.Array, i int) []byte {
			v := intValue(a, i)
			switch t.size {
			case 2:
				return binary.BigEndian.AppendUint16(dst, uint16(v))
			case 4:
				return binary.BigEndian.AppendUint32(dst, uint32(v))
			}
			return binary.BigEndian.AppendUint64(dst, uint64(v))
		}}
}

func intValue(a arrow.Array, i int) int64 {
	switch a := a.(type) {
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Uint8:
		return int64(a.Value(i))
	case *array.Uint16:
		return int64(a.Value(i))
	case *array.Uint32:
		return int64(a.Value(i))
	}
	return 0
}

func floatValue(a arrow.Array, i int) float64 {
	switch a := a.(type) {
	case *array.Float16:
		return float64(a.Value(i).Float32())
	case *array.Float32:
		return float64(a.Value(i))
	}
	return 0
}

func stringValue(a arrow.Array, i int) string {
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.StringView:
		return a.Value(i)
	}
	return ""
}

func bytesValue(a arrow.Array, i int) []byte {
	switch a := a.(type) {
	case *array.Binary:
		return a.Value(i)
	case *array.LargeBinary:
		return a.Value(i)
	case *array.BinaryView:
		return a.Value(i)
	case *array.FixedSizeBinary:
		return a.Value(i)
	}
	return nil
}

// dateDays returns a date as days since the Unix epoch.
func dateDays(a arrow.Array, i int) int64 {
	switch a := a.(type) {
	case *array.Date32:
		return int64(a.Value(i))
	case *array.Date64:
		return floorDiv(int64(a.Value(i)), 86400_000)
	}
	return 0
}

// clockValue returns a time of day in nanoseconds.
func clockValue(a arrow.Array, i int) int64 {
	switch a := a.(type) {
	case *array.Time32:
		scale := int64(time.Second)
		if a.DataType().(*arrow.Time32Type).Unit == arrow.Millisecond {
			scale = int64(time.Millisecond)
		}
		return int64(a.Value(i)) * scale
	case *array.Time64:
		scale := int64(1)
		if a.DataType().(*arrow.Time64Type).Unit == arrow.Microsecond {
			scale = int64(time.Microsecond)
		}
		return int64(a.Value(i)) * scale
	}
	return 0
}

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

// appendFloatText appends f as PostgreSQL prints a float: the shortest
// digits that read back, an exponent outside [1e-4, 1e15), and NaN,
// Infinity, -Infinity.
func appendFloatText(dst []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	if a := math.Abs(f); a == 0 || a >= 1e-4 && a < 1e15 {
		return strconv.AppendFloat(dst, f, 'f', -1, bitSize)
	}
	return strconv.AppendFloat(dst, f, 'e', -1, bitSize)
}

// appendTimestamptz appends a timestamp in milliseconds as PostgreSQL
// prints a timestamptz in the UTC zone: "2006-01-02 15:04:05.123+00", the
// fraction without trailing zeros and absent when zero.
func appendTimestamptz(dst []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	dst = t.AppendFormat(dst, "2006-01-02 15:04:05")
	if frac := t.Nanosecond() / 1e6; frac != 0 {
		dst = append(dst, '.')
		dst = append(dst, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
		for dst[len(dst)-1] == '0' {
			dst = dst[:len(dst)-1]
		}
	}
	return append(dst, "+00"...)
}

// appendClock appends a time of day in nanoseconds as
// HH:MM:SS[.ffffff] (microseconds, trailing zeros dropped).
func appendClock(dst []byte, nanos int64) []byte {
	neg := nanos < 0
	u := uint64(nanos)
	if neg {
		dst = append(dst, '-')
		u = uint64(-(nanos + 1)) + 1
	}
	micros := u / 1000
	secs, frac := micros/1e6, micros%1e6
	dst = appendPadded(dst, secs/3600, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs/60%60, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs%60, 2)
	if frac != 0 {
		dst = append(dst, '.')
		dst = appendPadded(dst, frac, 6)
		for dst[len(dst)-1] == '0' {
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

func appendPadded(dst []byte, v uint64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendUint(buf[:0], v, 10)
	for n := len(s); n < width; n++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendNumericUint appends v in numeric's binary form: ndigits, weight,
// sign, dscale (int16 each), then base-10000 digits, most significant
// first, without trailing zero digits.
func appendNumericUint(dst []byte, v uint64) []byte {
	var digits [5]uint16
	n := 0
	for x := v; x > 0; x /= 10000 {
		digits[n] = uint16(x % 10000)
		n++
	}
	weight := n - 1
	// Drop trailing (least significant) zero digits.
	low := 0
	for low < n && digits[low] == 0 {
		low++
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(n-low))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(max(weight, 0))))
	dst = binary.BigEndian.AppendUint16(dst, 0) // positive
	dst = binary.BigEndian.AppendUint16(dst, 0) // no fraction digits
	for k := n - 1; k >= low; k-- {
		dst = binary.BigEndian.AppendUint16(dst, digits[k])
	}
	return dst
}
