package parser

import (
	"slices"
	"strings"
)

// columnTypes maps every column type spelling HoraeDB accepts (lower case)
// to the name DESCRIBE and SHOW CREATE TABLE print for it.
var columnTypes = map[string]string{
	"timestamp": "timestamp",
	"double":    "double",
	"float":     "float",
	"real":      "float",
	"string":    "string",
	"varbinary": "varbinary",
	"uint64":    "uint64",
	"uint32":    "uint32",
	"uint16":    "uint16",
	"uint8":     "uint8",
	"bigint":    "bigint",
	"int64":     "bigint",
	"int":       "int",
	"int32":     "int",
	"smallint":  "smallint",
	"int16":     "smallint",
	"tinyint":   "tinyint",
	"int8":      "tinyint",
	"boolean":   "boolean",
	"date":      "date",
	"time":      "time",
	"null":      "null",
}

// CanonicalTypeName maps a column type spelling (any case) to the name
// HoraeDB prints for it: "INT64" and "bigint" give "bigint", "real" gives
// "float". ok is false for a type columns cannot have, such as DECIMAL or
// VARCHAR.
func CanonicalTypeName(name string) (canonical string, ok bool) {
	canonical, ok = columnTypes[strings.ToLower(name)]
	return canonical, ok
}

// ColumnTypeNames returns, sorted, every column type spelling that
// CanonicalTypeName accepts.
func ColumnTypeNames() []string {
	names := make([]string, 0, len(columnTypes))
	for n := range columnTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
