package parser

import "strings"

// Node is any syntax tree node. String prints it back as SQL in canonical
// form: keywords upper case, identifiers backquoted when they must be,
// strings single-quoted, and only the parentheses the tree needs. Parsing
// that text gives the same tree back, so it can be shown to users (error
// messages, SHOW CREATE TABLE defaults) and fed to the parser again.
type Node interface {
	String() string
	format(b *strings.Builder)
}

// Statement is one parsed SQL statement: *CreateTable, *DropTable,
// *DescribeTable, *ShowTables, *ShowDatabases, *ShowCreateTable,
// *ExistsTable, *AlterTableAddColumn, *AlterTableModifySetting, *Insert,
// *Query or *Explain.
type Statement interface {
	Node
	stmtNode()
}

func nodeString(n Node) string {
	var b strings.Builder
	n.format(&b)
	return b.String()
}

// Ident is an identifier: a table, column, alias, constraint or engine name.
type Ident struct {
	// Name is the identifier as written, without quotes. Table names are
	// case-sensitive in HoraeDB, so the case is kept.
	Name string
	// Quoted is set when the identifier was written `backquoted` (or, for
	// an alias, as a string).
	Quoted bool
}

// IsZero reports whether the identifier is absent (an optional alias,
// engine or constraint name that was not given).
func (id Ident) IsZero() bool { return id.Name == "" }

func (id Ident) String() string { return nodeString(id) }

func (id Ident) format(b *strings.Builder) { writeIdent(b, id.Name, id.Quoted) }

// ObjectName is a possibly qualified name: `t`, `public.t` or
// `horaedb.public.t`. HoraeDB resolves every table in the default catalog and
// schema, so planners usually only look at Table().
type ObjectName []Ident

// Table returns the last part of the name, the object itself.
func (n ObjectName) Table() Ident {
	if len(n) == 0 {
		return Ident{}
	}
	return n[len(n)-1]
}

func (n ObjectName) String() string { return nodeString(n) }

func (n ObjectName) format(b *strings.Builder) {
	for i, id := range n {
		if i > 0 {
			b.WriteByte('.')
		}
		id.format(b)
	}
}

// DataType is a type name as written in a column definition or a CAST.
// The parser keeps the name and leaves the mapping to the planner; see
// CanonicalTypeName for the column types HoraeDB supports.
type DataType struct {
	// Name is the lowercased type name: "bigint", "string", "int64". In a
	// CAST it may have two words: "double precision", "int unsigned".
	Name string
	// Params are the numbers in parentheses after the name, if any:
	// varchar(10) gives [10], decimal(10, 2) gives [10 2].
	Params []uint64
}

func (t DataType) String() string { return nodeString(t) }

func (t DataType) format(b *strings.Builder) {
	b.WriteString(t.Name)
	if len(t.Params) == 0 {
		return
	}
	b.WriteByte('(')
	for i, p := range t.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		writeUint(b, p)
	}
	b.WriteByte(')')
}

// CreateTable is CREATE TABLE [IF NOT EXISTS] name (...) [PARTITION BY ...]
// [ENGINE = e] [WITH (...)].
type CreateTable struct {
	IfNotExists bool
	Name        ObjectName
	// Columns are in definition order.
	Columns []*ColumnDef
	// Constraints are the table-level PRIMARY KEY and TIMESTAMP KEY
	// clauses, in order. Column-level ones are flags on the ColumnDef.
	Constraints []TableConstraint
	// PartitionBy is nil for a table that is not partitioned.
	PartitionBy *PartitionBy
	// Engine is the ENGINE name as written; zero when not given (the
	// planner defaults it to Analytic).
	Engine Ident
	// Options are the WITH (key = value, ...) pairs in order.
	Options []TableOption
}

// ColumnDef is one column of CREATE TABLE or ALTER TABLE ADD COLUMN.
type ColumnDef struct {
	Name Ident
	// Type is the type as written; the parser only checks that its name is
	// one of the supported column types.
	Type DataType
	// NotNull is set by NOT NULL. Columns are nullable otherwise.
	NotNull bool
	// Default is the DEFAULT expression, nil when there is none. DEFAULT
	// NULL is a *NullLit.
	Default      Expr
	PrimaryKey   bool // inline PRIMARY KEY
	TimestampKey bool // inline TIMESTAMP KEY
	Tag          bool // TAG
	Dictionary   bool // DICTIONARY (string columns only)
	Unsigned     bool // UNSIGN or UNSIGNED: an int type becomes the uint one
	// Comment is the COMMENT string; empty when there is none.
	Comment string
	// Collation is the COLLATE name; it is accepted and ignored by HoraeDB.
	Collation Ident
}

// ConstraintKind says what a table constraint declares.
type ConstraintKind uint8

const (
	// PrimaryKeyConstraint is PRIMARY KEY (cols).
	PrimaryKeyConstraint ConstraintKind = iota + 1
	// TimestampKeyConstraint is TIMESTAMP KEY (col).
	TimestampKeyConstraint
)

// TableConstraint is [CONSTRAINT name] PRIMARY KEY (cols) or
// [CONSTRAINT name] TIMESTAMP KEY (col).
type TableConstraint struct {
	Name    Ident // zero when no CONSTRAINT name was given
	Kind    ConstraintKind
	Columns []Ident // exactly one for TimestampKeyConstraint
}

func (c TableConstraint) String() string { return nodeString(c) }

// PartitionKind is the partitioning method of PARTITION BY.
type PartitionKind uint8

const (
	// PartitionRandom is PARTITION BY RANDOM.
	PartitionRandom PartitionKind = iota + 1
	// PartitionKey is PARTITION BY [LINEAR] KEY (cols).
	PartitionKey
	// PartitionHash is PARTITION BY [LINEAR] HASH (expr).
	PartitionHash
)

// PartitionBy is the PARTITION BY clause of CREATE TABLE.
type PartitionBy struct {
	Kind    PartitionKind
	Linear  bool    // LINEAR KEY / LINEAR HASH
	Columns []Ident // the KEY columns
	Expr    Expr    // the HASH expression
	// Partitions is the PARTITIONS count; 0 when not given (the planner
	// defaults it to 1). The parser rejects an explicit 0.
	Partitions uint64
}

func (p *PartitionBy) String() string { return nodeString(p) }

// OptionKind says how a WITH / MODIFY SETTING value was written.
type OptionKind uint8

const (
	// OptionString is a quoted string, 'x' or "x".
	OptionString OptionKind = iota + 1
	// OptionNumber is a number, possibly signed: 8192, -1, 0.5.
	OptionNumber
	// OptionIdent is a bare word such as OVERWRITE or size_tiered.
	OptionIdent
	// OptionBool is TRUE or FALSE written without quotes.
	OptionBool
	// OptionNull is NULL. Upstream ignores such options.
	OptionNull
)

// OptionValue is the value of a table option, kept as written.
type OptionValue struct {
	Kind OptionKind
	// Text is the value: the unescaped string, the number as written, the
	// word as written, "true"/"false", or "" for NULL.
	Text string
}

func (v OptionValue) String() string { return nodeString(v) }

// TableOption is one key = value pair of WITH (...) or MODIFY SETTING.
type TableOption struct {
	Key   string // as written
	Value OptionValue
}

func (o TableOption) String() string { return nodeString(o) }

// DropTable is DROP TABLE [IF EXISTS] name [ENGINE = e].
type DropTable struct {
	IfExists bool
	Name     ObjectName
	Engine   Ident // zero when not given
}

// DescribeTable is DESCRIBE name, DESC name or DESC TABLE name.
type DescribeTable struct {
	Name ObjectName
}

// ShowTables is SHOW TABLES [LIKE 'pattern'].
type ShowTables struct {
	// Like is the pattern; nil without LIKE.
	Like *string
}

// ShowDatabases is SHOW DATABASES.
type ShowDatabases struct{}

// ShowCreateTable is SHOW CREATE TABLE name.
type ShowCreateTable struct {
	Name ObjectName
}

// ExistsTable is EXISTS [TABLE] name.
type ExistsTable struct {
	Name ObjectName
}

// AlterTableAddColumn is ALTER TABLE name ADD COLUMN def or
// ALTER TABLE name ADD COLUMN (def, ...).
type AlterTableAddColumn struct {
	Table   ObjectName
	Columns []*ColumnDef
}

// AlterTableModifySetting is ALTER TABLE name MODIFY SETTING k = v, ....
type AlterTableModifySetting struct {
	Table   ObjectName
	Options []TableOption
}

// Insert is INSERT [INTO] [TABLE] name [(cols)] VALUES (...), ... or
// INSERT INTO name [(cols)] <query>. Exactly one of Rows and Query is set.
type Insert struct {
	Table ObjectName
	// Columns is nil when no column list was given.
	Columns []Ident
	// Rows are the VALUES rows; each value is an expression (usually a
	// literal, a unary minus on a literal, or NULL).
	Rows  [][]Expr
	Query *Query
}

// Explain is EXPLAIN [ANALYZE] [VERBOSE] query.
type Explain struct {
	Analyze bool
	Verbose bool
	Query   *Query
}

func (*CreateTable) stmtNode()             {}
func (*DropTable) stmtNode()               {}
func (*DescribeTable) stmtNode()           {}
func (*ShowTables) stmtNode()              {}
func (*ShowDatabases) stmtNode()           {}
func (*ShowCreateTable) stmtNode()         {}
func (*ExistsTable) stmtNode()             {}
func (*AlterTableAddColumn) stmtNode()     {}
func (*AlterTableModifySetting) stmtNode() {}
func (*Insert) stmtNode()                  {}
func (*Explain) stmtNode()                 {}
func (*Query) stmtNode()                   {}

func (s *CreateTable) String() string             { return nodeString(s) }
func (c *ColumnDef) String() string               { return nodeString(c) }
func (s *DropTable) String() string               { return nodeString(s) }
func (s *DescribeTable) String() string           { return nodeString(s) }
func (s *ShowTables) String() string              { return nodeString(s) }
func (s *ShowDatabases) String() string           { return nodeString(s) }
func (s *ShowCreateTable) String() string         { return nodeString(s) }
func (s *ExistsTable) String() string             { return nodeString(s) }
func (s *AlterTableAddColumn) String() string     { return nodeString(s) }
func (s *AlterTableModifySetting) String() string { return nodeString(s) }
func (s *Insert) String() string                  { return nodeString(s) }
func (s *Explain) String() string                 { return nodeString(s) }
