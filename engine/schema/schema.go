// Package schema describes tables: column kinds, the schema rules of
// HoraeDB's CREATE TABLE (timestamp key, tags, the hidden tsid column and
// the default primary key), and the tsid hash of a row's tags.
package schema

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// ErrInvalid is wrapped by every schema validation error.
var ErrInvalid = errors.New("schema: invalid")

// TsidColumn is the name of the hidden series id column.
const TsidColumn = "tsid"

// SeqColumn is the name of the internal sequence column the engine keeps
// next to the user's columns in memtables and SSTs. Users never see it.
const SeqColumn = "__seq"

// Column is one column of a table.
type Column struct {
	ID           uint32 `json:"id"`
	Name         string `json:"name"`
	Kind         Kind   `json:"kind"`
	IsTag        bool   `json:"tag,omitempty"`
	IsDictionary bool   `json:"dictionary,omitempty"`
	Nullable     bool   `json:"nullable,omitempty"`
	// Default is the SQL text of the DEFAULT expression, "" for none.
	Default string `json:"default,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// Schema is the ordered column list of a table. The primary key is the first
// NumKeys columns; the timestamp key is one of them.
type Schema struct {
	Columns        []Column `json:"columns"`
	NumKeys        int      `json:"num_keys"`
	TimestampIndex int      `json:"timestamp_index"`
	// TsidIndex is the index of the tsid column, or -1.
	TsidIndex int `json:"tsid_index"`
	// Version grows with every change of the column list.
	Version uint32 `json:"version"`

	byName map[string]int
}

// Index returns the position of a column by exact name, or -1.
func (s *Schema) Index(name string) int {
	if s.byName == nil {
		s.reindex()
	}
	if i, ok := s.byName[name]; ok {
		return i
	}
	return -1
}

func (s *Schema) reindex() {
	m := make(map[string]int, len(s.Columns))
	for i, c := range s.Columns {
		m[c.Name] = i
	}
	s.byName = m
}

// Init rebuilds derived state after the schema was decoded.
func (s *Schema) Init() { s.reindex() }

// Timestamp returns the timestamp key column.
func (s *Schema) Timestamp() Column { return s.Columns[s.TimestampIndex] }

// IsKey reports whether column i is part of the primary key.
func (s *Schema) IsKey(i int) bool { return i < s.NumKeys }

// HasTags reports whether any column is a tag.
func (s *Schema) HasTags() bool {
	for _, c := range s.Columns {
		if c.IsTag {
			return true
		}
	}
	return false
}

// ArrowSchema returns the Arrow schema of the user-visible columns.
func (s *Schema) ArrowSchema() *arrow.Schema {
	return arrow.NewSchema(s.fields(false), nil)
}

// InternalArrowSchema returns the Arrow schema of stored rows: the user's
// columns followed by the sequence column.
func (s *Schema) InternalArrowSchema() *arrow.Schema {
	return arrow.NewSchema(s.fields(true), nil)
}

func (s *Schema) fields(withSeq bool) []arrow.Field {
	fs := make([]arrow.Field, 0, len(s.Columns)+1)
	for _, c := range s.Columns {
		fs = append(fs, arrow.Field{Name: c.Name, Type: c.Kind.ArrowType(), Nullable: c.Nullable})
	}
	if withSeq {
		fs = append(fs, arrow.Field{Name: SeqColumn, Type: arrow.PrimitiveTypes.Uint64})
	}
	return fs
}

// AddColumns returns a copy of s with cols appended (ALTER TABLE ADD
// COLUMN); the new columns get the next ids and must be nullable or have a
// default.
func (s *Schema) AddColumns(cols []Column) (*Schema, error) {
	out := *s
	out.Columns = append(append([]Column(nil), s.Columns...), cols...)
	var maxID uint32
	for _, c := range s.Columns {
		maxID = max(maxID, c.ID)
	}
	for i := range cols {
		c := &out.Columns[len(s.Columns)+i]
		if c.Name == TsidColumn {
			return nil, fmt.Errorf("%w: column name %s is reserved", ErrInvalid, TsidColumn)
		}
		if s.Index(c.Name) >= 0 {
			return nil, fmt.Errorf("%w: column %s already exists", ErrInvalid, c.Name)
		}
		if !c.Nullable && c.Default == "" {
			return nil, fmt.Errorf("%w: added column %s must be nullable or have a default", ErrInvalid, c.Name)
		}
		maxID++
		c.ID = maxID
	}
	out.Version++
	out.byName = nil
	out.reindex()
	if len(out.byName) != len(out.Columns) {
		return nil, fmt.Errorf("%w: duplicate column name", ErrInvalid)
	}
	return &out, nil
}

// String prints the schema compactly, for logs and tests.
func (s *Schema) String() string {
	var b strings.Builder
	for i, c := range s.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", c.Name, c.Kind)
		if c.IsTag {
			b.WriteString(" tag")
		}
		if i < s.NumKeys {
			b.WriteString(" key")
		}
	}
	return b.String()
}
