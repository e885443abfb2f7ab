package schema

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Kind is the data type of a column (upstream's DatumKind).
type Kind uint8

// The kinds, as in reference §1.9.
const (
	Null Kind = iota
	Timestamp
	Double
	Float
	String
	Varbinary
	UInt64
	UInt32
	UInt16
	UInt8
	Int64
	Int32
	Int16
	Int8
	Boolean
	Date
	Time
	numKinds
)

var kindNames = [numKinds]string{
	Null: "null", Timestamp: "timestamp", Double: "double", Float: "float",
	String: "string", Varbinary: "varbinary", UInt64: "uint64", UInt32: "uint32",
	UInt16: "uint16", UInt8: "uint8", Int64: "bigint", Int32: "int", Int16: "smallint",
	Int8: "tinyint", Boolean: "boolean", Date: "date", Time: "time",
}

// String returns the name DESCRIBE and SHOW CREATE TABLE print.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

var kindBySQLName = map[string]Kind{
	"timestamp": Timestamp, "double": Double, "float": Float, "real": Float,
	"string": String, "varbinary": Varbinary,
	"uint64": UInt64, "uint32": UInt32, "uint16": UInt16, "uint8": UInt8,
	"bigint": Int64, "int64": Int64, "int": Int32, "int32": Int32, "integer": Int32,
	"smallint": Int16, "int16": Int16, "tinyint": Int8, "int8": Int8,
	"boolean": Boolean, "bool": Boolean, "date": Date, "time": Time, "null": Null,
}

// ParseKind maps an SQL type name (case-insensitive) to its kind.
func ParseKind(name string) (Kind, error) {
	if k, ok := kindBySQLName[strings.ToLower(name)]; ok {
		return k, nil
	}
	return Null, fmt.Errorf("%w: unsupported data type: %s", ErrInvalid, name)
}

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool { return k < numKinds }

// Unsigned returns the unsigned counterpart of a signed integer kind (for
// the UNSIGN column option); other kinds are returned unchanged.
func (k Kind) Unsigned() Kind {
	switch k {
	case Int64:
		return UInt64
	case Int32:
		return UInt32
	case Int16:
		return UInt16
	case Int8:
		return UInt8
	}
	return k
}

// KeyEligible reports whether a column of this kind may be part of the
// primary key (everything but double, float and null).
func (k Kind) KeyEligible() bool { return k != Double && k != Float && k != Null }

// IsSigned, IsUnsigned and IsFloat classify numeric kinds.
func (k Kind) IsSigned() bool   { return k >= Int64 && k <= Int8 }
func (k Kind) IsUnsigned() bool { return k >= UInt64 && k <= UInt8 }
func (k Kind) IsFloat() bool    { return k == Double || k == Float }

// TimestampType is the Arrow type of timestamp columns: milliseconds, no zone.
var TimestampType = &arrow.TimestampType{Unit: arrow.Millisecond}

// ArrowType returns the Arrow type used for values of this kind.
func (k Kind) ArrowType() arrow.DataType {
	switch k {
	case Timestamp:
		return TimestampType
	case Double:
		return arrow.PrimitiveTypes.Float64
	case Float:
		return arrow.PrimitiveTypes.Float32
	case String:
		return arrow.BinaryTypes.String
	case Varbinary:
		return arrow.BinaryTypes.Binary
	case UInt64:
		return arrow.PrimitiveTypes.Uint64
	case UInt32:
		return arrow.PrimitiveTypes.Uint32
	case UInt16:
		return arrow.PrimitiveTypes.Uint16
	case UInt8:
		return arrow.PrimitiveTypes.Uint8
	case Int64:
		return arrow.PrimitiveTypes.Int64
	case Int32:
		return arrow.PrimitiveTypes.Int32
	case Int16:
		return arrow.PrimitiveTypes.Int16
	case Int8:
		return arrow.PrimitiveTypes.Int8
	case Boolean:
		return arrow.FixedWidthTypes.Boolean
	case Date:
		return arrow.FixedWidthTypes.Date32
	case Time:
		return arrow.FixedWidthTypes.Time64ns
	}
	return arrow.Null
}

// KindOf maps an Arrow type back to a kind; ok is false for types the
// engine does not store.
func KindOf(t arrow.DataType) (Kind, bool) {
	switch t.ID() {
	case arrow.TIMESTAMP:
		return Timestamp, true
	case arrow.FLOAT64:
		return Double, true
	case arrow.FLOAT32:
		return Float, true
	case arrow.STRING:
		return String, true
	case arrow.BINARY:
		return Varbinary, true
	case arrow.UINT64:
		return UInt64, true
	case arrow.UINT32:
		return UInt32, true
	case arrow.UINT16:
		return UInt16, true
	case arrow.UINT8:
		return UInt8, true
	case arrow.INT64:
		return Int64, true
	case arrow.INT32:
		return Int32, true
	case arrow.INT16:
		return Int16, true
	case arrow.INT8:
		return Int8, true
	case arrow.BOOL:
		return Boolean, true
	case arrow.DATE32:
		return Date, true
	case arrow.TIME64:
		return Time, true
	case arrow.NULL:
		return Null, true
	}
	return Null, false
}
