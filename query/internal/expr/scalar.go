package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TimestampType is the type of timestamps: milliseconds, no zone.
var TimestampType = &arrow.TimestampType{Unit: arrow.Millisecond}

// Scalar is one typed value.
type Scalar struct {
	Type arrow.DataType // arrow.Null for an untyped NULL
	Null bool
	I    int64   // signed integers, timestamp ms, date32 days, time64 ns
	U    uint64  // unsigned integers
	F    float64 // floats
	S    string  // strings and binary
	Bool bool
}

// Constructors.
func Int64(v int64) Scalar           { return Scalar{Type: arrow.PrimitiveTypes.Int64, I: v} }
func UInt64(v uint64) Scalar         { return Scalar{Type: arrow.PrimitiveTypes.Uint64, U: v} }
func Float64(v float64) Scalar       { return Scalar{Type: arrow.PrimitiveTypes.Float64, F: v} }
func String(v string) Scalar         { return Scalar{Type: arrow.BinaryTypes.String, S: v} }
func Bytes(v []byte) Scalar          { return Scalar{Type: arrow.BinaryTypes.Binary, S: string(v)} }
func Bool(v bool) Scalar             { return Scalar{Type: arrow.FixedWidthTypes.Boolean, Bool: v} }
func Timestamp(ms int64) Scalar      { return Scalar{Type: TimestampType, I: ms} }
func Null() Scalar                   { return Scalar{Type: arrow.Null, Null: true} }
func NullOf(t arrow.DataType) Scalar { return Scalar{Type: t, Null: true} }

// class groups types by how their values are stored in a Scalar.
type class uint8

const (
	classNull class = iota
	classInt
	classUint
	classFloat
	classString
	classBinary
	classBool
)

func classOf(t arrow.DataType) class {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.TIMESTAMP, arrow.DATE32, arrow.TIME64, arrow.DURATION:
		return classInt
	case arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return classUint
	case arrow.FLOAT32, arrow.FLOAT64:
		return classFloat
	case arrow.STRING:
		return classString
	case arrow.BINARY:
		return classBinary
	case arrow.BOOL:
		return classBool
	}
	return classNull
}

// IsNumeric reports whether t is an integer or float type.
func IsNumeric(t arrow.DataType) bool {
	c := classOf(t)
	return (c == classInt || c == classUint || c == classFloat) && !IsTemporal(t)
}

// IsTemporal reports whether t is a timestamp, date, time or interval.
func IsTemporal(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.TIMESTAMP, arrow.DATE32, arrow.TIME64, arrow.DURATION:
		return true
	}
	return false
}

// ScalarAt returns row i of arr.
func ScalarAt(arr arrow.Array, i int) Scalar {
	t := arr.DataType()
	if IsNullAt(arr, i) {
		return NullOf(t)
	}
	s := Scalar{Type: t}
	switch a := arr.(type) {
	case *array.Int64:
		s.I = a.Value(i)
	case *array.Int32:
		s.I = int64(a.Value(i))
	case *array.Int16:
		s.I = int64(a.Value(i))
	case *array.Int8:
		s.I = int64(a.Value(i))
	case *array.Timestamp:
		s.I = int64(a.Value(i))
	case *array.Date32:
		s.I = int64(a.Value(i))
	case *array.Time64:
		s.I = int64(a.Value(i))
	case *array.Duration:
		s.I = int64(a.Value(i))
	case *array.Uint64:
		s.U = a.Value(i)
	case *array.Uint32:
		s.U = uint64(a.Value(i))
	case *array.Uint16:
		s.U = uint64(a.Value(i))
	case *array.Uint8:
		s.U = uint64(a.Value(i))
	case *array.Float64:
		s.F = a.Value(i)
	case *array.Float32:
		s.F = float64(a.Value(i))
	case *array.String:
		s.S = a.Value(i)
	case *array.Binary:
		s.S = string(a.Value(i))
	case *array.Boolean:
		s.Bool = a.Value(i)
	default:
		return NullOf(t)
	}
	return s
}

// Append appends s to a builder of s.Type.
func (s Scalar) Append(b array.Builder) {
	if s.Null {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int64Builder:
		b.Append(s.I)
	case *array.Int32Builder:
		b.Append(int32(s.I))
	case *array.Int16Builder:
		b.Append(int16(s.I))
	case *array.Int8Builder:
		b.Append(int8(s.I))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(s.I))
	case *array.Date32Builder:
		b.Append(arrow.Date32(s.I))
	case *array.Time64Builder:
		b.Append(arrow.Time64(s.I))
	case *array.DurationBuilder:
		b.Append(arrow.Duration(s.I))
	case *array.Uint64Builder:
		b.Append(s.U)
	case *array.Uint32Builder:
		b.Append(uint32(s.U))
	case *array.Uint16Builder:
		b.Append(uint16(s.U))
	case *array.Uint8Builder:
		b.Append(uint8(s.U))
	case *array.Float64Builder:
		b.Append(s.F)
	case *array.Float32Builder:
		b.Append(float32(s.F))
	case *array.StringBuilder:
		b.Append(s.S)
	case *array.BinaryBuilder:
		b.Append([]byte(s.S))
	case *array.BooleanBuilder:
		b.Append(s.Bool)
	default:
		b.AppendNull()
	}
}

// Repeat returns an array of n copies of s.
func (s Scalar) Repeat(mem memory.Allocator, n int) (arrow.Array, error) {
	if s.Type.ID() == arrow.NULL {
		return array.NewNull(n), nil
	}
	b := array.NewBuilder(mem, s.Type)
	defer b.Release()
	if s.Null {
		b.AppendNulls(n)
		return b.NewArray(), nil
	}
	switch b := b.(type) {
	case *array.Float64Builder:
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = s.F
		}
		b.AppendValues(vals, nil)
		return b.NewArray(), nil
	case *array.Int64Builder:
		vals := make([]int64, n)
		for i := range vals {
			vals[i] = s.I
		}
		b.AppendValues(vals, nil)
		return b.NewArray(), nil
	}
	b.Reserve(n)
	for i := 0; i < n; i++ {
		s.Append(b)
	}
	return b.NewArray(), nil
}

// Display prints s as DataFusion names literals: Int64(10), Utf8("a").
func (s Scalar) Display() string {
	if s.Type.ID() == arrow.NULL {
		return "NULL"
	}
	name := typeDisplayName(s.Type)
	if s.Null {
		return name + "(NULL)"
	}
	switch classOf(s.Type) {
	case classInt:
		switch s.Type.ID() {
		case arrow.TIMESTAMP:
			return fmt.Sprintf("TimestampMillisecond(%d, None)", s.I)
		case arrow.DURATION:
			return fmt.Sprintf("IntervalMonthDayNano(\"%d\")", s.I*1_000_000)
		}
		return fmt.Sprintf("%s(%d)", name, s.I)
	case classUint:
		return fmt.Sprintf("%s(%d)", name, s.U)
	case classFloat:
		return fmt.Sprintf("%s(%s)", name, formatFloat(s.F))
	case classString:
		return fmt.Sprintf("%s(%q)", name, s.S)
	case classBinary:
		return fmt.Sprintf("%s(%v)", name, []byte(s.S))
	case classBool:
		return fmt.Sprintf("%s(%t)", name, s.Bool)
	}
	return name
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// typeDisplayName is the DataFusion name of a type.
func typeDisplayName(t arrow.DataType) string {
	switch t.ID() {
	case arrow.INT64:
		return "Int64"
	case arrow.INT32:
		return "Int32"
	case arrow.INT16:
		return "Int16"
	case arrow.INT8:
		return "Int8"
	case arrow.UINT64:
		return "UInt64"
	case arrow.UINT32:
		return "UInt32"
	case arrow.UINT16:
		return "UInt16"
	case arrow.UINT8:
		return "UInt8"
	case arrow.FLOAT64:
		return "Float64"
	case arrow.FLOAT32:
		return "Float32"
	case arrow.STRING:
		return "Utf8"
	case arrow.BINARY:
		return "Binary"
	case arrow.BOOL:
		return "Boolean"
	case arrow.TIMESTAMP:
		return "TimestampMillisecond"
	case arrow.DATE32:
		return "Date32"
	case arrow.TIME64:
		return "Time64"
	case arrow.DURATION:
		return "Interval"
	}
	return t.String()
}

// ParseTimestamp parses a timestamp string: RFC 3339, or
// "YYYY-MM-DD[ T]HH:MM:SS[.fff]" / "YYYY-MM-DD" in loc. It returns
// milliseconds since the epoch.
func ParseTimestamp(s string, loc *time.Location) (int64, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixMilli(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, Errorf("cannot parse %q as a timestamp (want RFC 3339 or YYYY-MM-DD HH:MM:SS)", s)
}

// Cast converts s to type to, following SQL's rules: numbers convert
// between widths (with a range check), strings parse, timestamps accept
// integers (ms) and strings.
func (s Scalar) Cast(to arrow.DataType, loc *time.Location) (Scalar, error) {
	if arrow.TypeEqual(s.Type, to) {
		return s, nil
	}
	if s.Null {
		return NullOf(to), nil
	}
	out := Scalar{Type: to}
	from := classOf(s.Type)
	bad := func() (Scalar, error) {
		return Scalar{}, Errorf("cannot convert %s to %s", s.Display(), typeDisplayName(to))
	}
	switch classOf(to) {
	case classInt:
		switch from {
		case classInt:
			out.I = convertTemporal(s.Type, to, s.I)
		case classUint:
			if s.U > math.MaxInt64 {
				return bad()
			}
			out.I = int64(s.U)
		case classFloat:
			if s.F != math.Trunc(s.F) || math.IsNaN(s.F) || s.F < math.MinInt64 || s.F > math.MaxInt64 {
				return bad()
			}
			out.I = int64(s.F)
		case classString:
			switch to.ID() {
			case arrow.TIMESTAMP:
				ms, err := ParseTimestamp(s.S, loc)
				if err != nil {
					return Scalar{}, err
				}
				out.I = ms
				return out, nil
			case arrow.DATE32:
				t, err := time.Parse("2006-01-02", strings.TrimSpace(s.S))
				if err != nil {
					return Scalar{}, Errorf("cannot parse %q as a date (want YYYY-MM-DD)", s.S)
				}
				out.I = t.Unix() / 86400
				return out, nil
			case arrow.TIME64:
				ns, err := parseTimeOfDay(s.S)
				if err != nil {
					return Scalar{}, err
				}
				out.I = ns
				return out, nil
			}
			v, err := strconv.ParseInt(strings.TrimSpace(s.S), 10, 64)
			if err != nil {
				return bad()
			}
			out.I = v
		case classBool:
			if s.Bool {
				out.I = 1
			}
		default:
			return bad()
		}
		if !intFits(to, out.I) {
			return Scalar{}, Errorf("value %d is out of range for %s", out.I, typeDisplayName(to))
		}
	case classUint:
		switch from {
		case classInt:
			if s.I < 0 {
				return Scalar{}, Errorf("value %d is out of range for %s", s.I, typeDisplayName(to))
			}
			out.U = uint64(s.I)
		case classUint:
			out.U = s.U
		case classFloat:
			if s.F != math.Trunc(s.F) || s.F < 0 || s.F > math.MaxUint64 {
				return bad()
			}
			out.U = uint64(s.F)
		case classString:
			v, err := strconv.ParseUint(strings.TrimSpace(s.S), 10, 64)
			if err != nil {
				return bad()
			}
			out.U = v
		case classBool:
			if s.Bool {
				out.U = 1
			}
		default:
			return bad()
		}
		if !uintFits(to, out.U) {
			return Scalar{}, Errorf("value %d is out of range for %s", out.U, typeDisplayName(to))
		}
	case classFloat:
		switch from {
		case classInt:
			out.F = float64(s.I)
		case classUint:
			out.F = float64(s.U)
		case classFloat:
			out.F = s.F
		case classString:
			v, err := strconv.ParseFloat(strings.TrimSpace(s.S), 64)
			if err != nil {
				return bad()
			}
			out.F = v
		default:
			return bad()
		}
		if to.ID() == arrow.FLOAT32 && !math.IsInf(out.F, 0) && math.Abs(out.F) > math.MaxFloat32 {
			return Scalar{}, Errorf("value %g is out of range for Float32", out.F)
		}
	case classString:
		switch from {
		case classInt:
			out.S = formatInt(s)
		case classUint:
			out.S = strconv.FormatUint(s.U, 10)
		case classFloat:
			out.S = strconv.FormatFloat(s.F, 'g', -1, 64)
		case classString, classBinary:
			out.S = s.S
		case classBool:
			out.S = strconv.FormatBool(s.Bool)
		}
	case classBinary:
		if from != classString && from != classBinary {
			return bad()
		}
		out.S = s.S
	case classBool:
		switch from {
		case classBool:
			out.Bool = s.Bool
		case classInt:
			out.Bool = s.I != 0
		case classUint:
			out.Bool = s.U != 0
		case classString:
			switch strings.ToLower(strings.TrimSpace(s.S)) {
			case "true", "t", "1":
				out.Bool = true
			case "false", "f", "0":
			default:
				return bad()
			}
		default:
			return bad()
		}
	default:
		return bad()
	}
	return out, nil
}

func intFits(t arrow.DataType, v int64) bool {
	switch t.ID() {
	case arrow.INT32, arrow.DATE32:
		return v >= math.MinInt32 && v <= math.MaxInt32
	case arrow.INT16:
		return v >= math.MinInt16 && v <= math.MaxInt16
	case arrow.INT8:
		return v >= math.MinInt8 && v <= math.MaxInt8
	}
	return true
}

func uintFits(t arrow.DataType, v uint64) bool {
	switch t.ID() {
	case arrow.UINT32:
		return v <= math.MaxUint32
	case arrow.UINT16:
		return v <= math.MaxUint16
	case arrow.UINT8:
		return v <= math.MaxUint8
	}
	return true
}

// convertTemporal converts an integer between temporal representations:
// timestamp (ms) and date (days).
func convertTemporal(from, to arrow.DataType, v int64) int64 {
	switch {
	case from.ID() == arrow.TIMESTAMP && to.ID() == arrow.DATE32:
		return floorDivInt(v, 86_400_000)
	case from.ID() == arrow.DATE32 && to.ID() == arrow.TIMESTAMP:
		return v * 86_400_000
	}
	return v
}

func floorDivInt(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// formatInt prints an integer-class value: dates and times in their SQL
// form, timestamps as RFC 3339 in UTC, numbers as digits.
func formatInt(s Scalar) string {
	switch s.Type.ID() {
	case arrow.DATE32:
		return time.Unix(s.I*86400, 0).UTC().Format("2006-01-02")
	case arrow.TIME64:
		return FormatTimeOfDay(s.I)
	case arrow.TIMESTAMP:
		return time.UnixMilli(s.I).UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	return strconv.FormatInt(s.I, 10)
}

// parseTimeOfDay parses HH:MM[:SS[.fraction]] into nanoseconds.
func parseTimeOfDay(s string) (int64, error) {
	for _, layout := range []string{"15:04:05.999999999", "15:04"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return int64(t.Hour())*3600e9 + int64(t.Minute())*60e9 + int64(t.Second())*1e9 + int64(t.Nanosecond()), nil
		}
	}
	return 0, Errorf("cannot parse %q as a time (want HH:MM:SS)", s)
}

// FormatTimeOfDay prints nanoseconds since midnight as HH:MM:SS[.fraction].
func FormatTimeOfDay(ns int64) string {
	neg := ""
	if ns < 0 {
		neg, ns = "-", -ns
	}
	h, m, sec, frac := ns/3600e9, ns/60e9%60, ns/1e9%60, ns%1e9
	out := fmt.Sprintf("%s%02d:%02d:%02d", neg, h, m, sec)
	if frac != 0 {
		out += strings.TrimRight(fmt.Sprintf(".%09d", frac), "0")
	}
	return out
}

// DurationType is the type of intervals: a fixed length in milliseconds.
var DurationType = &arrow.DurationType{Unit: arrow.Millisecond}

// Interval returns an interval scalar of ms milliseconds.
func Interval(ms int64) Scalar { return Scalar{Type: DurationType, I: ms} }
