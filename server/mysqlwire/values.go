package mysqlwire

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Result columns by Arrow type (the types the executor produces; see
// server/encode.go for the same set rendered as JSON):
//
//	Arrow              MySQL type           text protocol value
//	int8/16/32/64      TINY/SHORT/LONG/LONGLONG
//	uint8/16/32/64     the same, UNSIGNED
//	float32, float64   FLOAT, DOUBLE        shortest digits that read back
//	                                        (NaN, +Inf, -Inf as Go prints them)
//	bool               TINY(1)              1 / 0
//	utf8 (all kinds)   VAR_STRING utf8mb4
//	binary (all kinds) LONG_BLOB binary
//	timestamp          DATETIME(3)          YYYY-MM-DD HH:MM:SS.mmm in the
//	                                        session's time zone; or, with
//	                                        Options.TimestampAsMillis,
//	                                        LONGLONG milliseconds (upstream)
//	date32, date64     DATE                 YYYY-MM-DD
//	time32, time64     TIME(6)              [-]HH:MM:SS.ffffff
//	null               NULL                 NULL
//	dictionary         the type of its values
//	anything else      VAR_STRING           Arrow's text of the value

// colEncoder knows the MySQL column of one Arrow type and how to encode
// the values of an array of that type.
type colEncoder struct {
	col column
	// text appends the text-protocol value (without its length) of row i
	// of arr; binary appends the binary-protocol value (with its length
	// where the type has one). Neither is called for null slots.
	text   func(dst []byte, arr arrow.Array, i int) []byte
	binary func(dst []byte, arr arrow.Array, i int) []byte
}

// encoderFor returns the encoder of a result column of type dt.
func encoderFor(name string, dt arrow.DataType, loc *time.Location, tsMillis bool) colEncoder {
	num := func(typ byte, length uint32, unsigned bool) column {
		c := column{name: name, typ: typ, length: length, charset: charsetBinary, flags: flagNum | flagBinary}
		if unsigned {
			c.flags |= flagUnsigned
		}
		return c
	}
	switch dt.ID() {
	case arrow.BOOL:
		return colEncoder{col: num(typeTiny, 1, false),
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return append(dst, '0'+b2i(a.(*array.Boolean).Value(i)))
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				return append(dst, b2i(a.(*array.Boolean).Value(i)))
			}}
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		typ, length, size := intType(dt.ID())
		return colEncoder{col: num(typ, length, false),
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return strconv.AppendInt(dst, intValue(a, i), 10)
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				return appendFixed(dst, uint64(intValue(a, i)), size)
			}}
	case arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		typ, length, size := intType(dt.ID())
		return colEncoder{col: num(typ, length, true),
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return strconv.AppendUint(dst, uintValue(a, i), 10)
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				return appendFixed(dst, uintValue(a, i), size)
			}}
	case arrow.FLOAT16, arrow.FLOAT32:
		c := num(typeFloat, 12, false)
		c.decimals = 31 // not fixed
		return colEncoder{col: c,
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return appendFloat(dst, floatValue(a, i), 32)
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(floatValue(a, i))))
			}}
	case arrow.FLOAT64:
		c := num(typeDouble, 22, false)
		c.decimals = 31
		return colEncoder{col: c,
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return appendFloat(dst, a.(*array.Float64).Value(i), 64)
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				return binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.(*array.Float64).Value(i)))
			}}
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return colEncoder{col: column{name: name, typ: typeVarString, length: 262140, charset: charsetUTF8MB4General},
			text: func(dst []byte, a arrow.Array, i int) []byte { return append(dst, stringValue(a, i)...) },
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				return appendLenEncString(dst, stringValue(a, i))
			}}
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return colEncoder{col: column{name: name, typ: typeLongBlob, length: math.MaxUint32, charset: charsetBinary, flags: flagBlob | flagBinary},
			text:   func(dst []byte, a arrow.Array, i int) []byte { return append(dst, bytesValue(a, i)...) },
			binary: func(dst []byte, a arrow.Array, i int) []byte { return appendLenEncBytes(dst, bytesValue(a, i)) }}
	case arrow.TIMESTAMP:
		toMillis := timestampToMillis(dt.(*arrow.TimestampType).Unit)
		if tsMillis {
			return colEncoder{col: num(typeLongLong, 20, false),
				text: func(dst []byte, a arrow.Array, i int) []byte {
					return strconv.AppendInt(dst, toMillis(int64(a.(*array.Timestamp).Value(i))), 10)
				},
				binary: func(dst []byte, a arrow.Array, i int) []byte {
					return appendFixed(dst, uint64(toMillis(int64(a.(*array.Timestamp).Value(i)))), 8)
				}}
		}
		return colEncoder{col: column{name: name, typ: typeDatetime, length: 23, decimals: 3, charset: charsetBinary, flags: flagBinary},
			text: func(dst []byte, a arrow.Array, i int) []byte {
				t := time.UnixMilli(toMillis(int64(a.(*array.Timestamp).Value(i)))).In(loc)
				return t.AppendFormat(dst, "2006-01-02 15:04:05.000")
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				t := time.UnixMilli(toMillis(int64(a.(*array.Timestamp).Value(i)))).In(loc)
				return appendBinaryDatetime(dst, t)
			}}
	case arrow.DATE32, arrow.DATE64:
		return colEncoder{col: column{name: name, typ: typeDate, length: 10, charset: charsetBinary, flags: flagBinary},
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return dateValue(a, i).AppendFormat(dst, time.DateOnly)
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				t := dateValue(a, i)
				dst = append(dst, 4)
				dst = binary.LittleEndian.AppendUint16(dst, uint16(t.Year()))
				return append(dst, byte(t.Month()), byte(t.Day()))
			}}
	case arrow.TIME32, arrow.TIME64:
		return colEncoder{col: column{name: name, typ: typeTime, length: 17, decimals: 6, charset: charsetBinary, flags: flagBinary},
			text: func(dst []byte, a arrow.Array, i int) []byte {
				return appendClock(dst, clockValue(a, i))
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				return appendBinaryTime(dst, clockValue(a, i))
			}}
	case arrow.NULL:
		return colEncoder{col: column{name: name, typ: typeNull, charset: charsetBinary, flags: flagBinary}}
	case arrow.DICTIONARY:
		inner := encoderFor(name, dt.(*arrow.DictionaryType).ValueType, loc, tsMillis)
		return colEncoder{col: inner.col,
			text: func(dst []byte, a arrow.Array, i int) []byte {
				d := a.(*array.Dictionary)
				return inner.text(dst, d.Dictionary(), d.GetValueIndex(i))
			},
			binary: func(dst []byte, a arrow.Array, i int) []byte {
				d := a.(*array.Dictionary)
				return inner.binary(dst, d.Dictionary(), d.GetValueIndex(i))
			}}
	}
	return colEncoder{col: column{name: name, typ: typeVarString, length: 262140, charset: charsetUTF8MB4General},
		text:   func(dst []byte, a arrow.Array, i int) []byte { return append(dst, a.ValueStr(i)...) },
		binary: func(dst []byte, a arrow.Array, i int) []byte { return appendLenEncString(dst, a.ValueStr(i)) }}
}

func b2i(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// intType returns the MySQL type, display length and binary size of an
// integer type.
func intType(id arrow.Type) (typ byte, length uint32, size int) {
	switch id {
	case arrow.INT8, arrow.UINT8:
		return typeTiny, 4, 1
	case arrow.INT16, arrow.UINT16:
		return typeShort, 6, 2
	case arrow.INT32, arrow.UINT32:
		return typeLong, 11, 4
	}
	return typeLongLong, 20, 8
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
	}
	return 0
}

func uintValue(a arrow.Array, i int) uint64 {
	switch a := a.(type) {
	case *array.Uint8:
		return uint64(a.Value(i))
	case *array.Uint16:
		return uint64(a.Value(i))
	case *array.Uint32:
		return uint64(a.Value(i))
	case *array.Uint64:
		return a.Value(i)
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

func dateValue(a arrow.Array, i int) time.Time {
	switch a := a.(type) {
	case *array.Date32:
		return time.Unix(int64(a.Value(i))*86400, 0).UTC()
	case *array.Date64:
		return time.UnixMilli(int64(a.Value(i))).UTC()
	}
	return time.Time{}
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

// appendFixed appends the low size bytes of v, little endian.
func appendFixed(dst []byte, v uint64, size int) []byte {
	for k := 0; k < size; k++ {
		dst = append(dst, byte(v>>(8*k)))
	}
	return dst
}

// appendFloat appends f with the shortest digits that read back as f:
// plain notation for moderate magnitudes, an exponent otherwise, as MySQL
// prints them.
func appendFloat(dst []byte, f float64, bitSize int) []byte {
	if a := math.Abs(f); a == 0 || a >= 1e-5 && a < 1e15 {
		return strconv.AppendFloat(dst, f, 'f', -1, bitSize)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bitSize)
}

// appendClock appends a time of day in nanoseconds as MySQL prints a
// TIME(6): [-]HH:MM:SS.ffffff (hours may exceed 23).
func appendClock(dst []byte, nanos int64) []byte {
	u := uint64(nanos)
	if nanos < 0 {
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
	dst = append(dst, '.')
	return appendPadded(dst, frac, 6)
}

func appendPadded(dst []byte, v uint64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendUint(buf[:0], v, 10)
	for n := len(s); n < width; n++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendBinaryDatetime appends a DATETIME in the binary protocol: length
// 11, then year, month, day, hour, minute, second, microseconds.
func appendBinaryDatetime(dst []byte, t time.Time) []byte {
	dst = append(dst, 11)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(t.Year()))
	dst = append(dst, byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second()))
	return binary.LittleEndian.AppendUint32(dst, uint32(t.Nanosecond()/1000))
}

// appendBinaryTime appends a TIME in the binary protocol: length 12, then
// the sign, days, hours, minutes, seconds and microseconds.
func appendBinaryTime(dst []byte, nanos int64) []byte {
	neg := byte(0)
	u := uint64(nanos)
	if nanos < 0 {
		neg = 1
		u = uint64(-(nanos + 1)) + 1
	}
	micros := u / 1000
	secs := micros / 1e6
	dst = append(dst, 12, neg)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(secs/86400))
	dst = append(dst, byte(secs/3600%24), byte(secs/60%60), byte(secs%60))
	return binary.LittleEndian.AppendUint32(dst, uint32(micros%1e6))
}
