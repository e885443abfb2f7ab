package parser

import "strconv"

// Expr is an expression node. Parentheses are not kept: the tree shape says
// how the expression groups, and String() adds the parentheses it needs.
type Expr interface {
	Node
	exprNode()
}

// ColumnRef is a column reference: c, t.c or db.t.c.
type ColumnRef struct {
	// Table is the qualifier; nil for an unqualified column.
	Table  ObjectName
	Column Ident
}

// Wildcard is * or t.*. It appears only as a select item and as a function
// argument (count(*)).
type Wildcard struct {
	Table ObjectName // nil for a bare *
}

// IntLit is an integer literal. Literals carry no sign (-1 is a UnaryExpr
// on IntLit 1), so every integer that fits in a uint64 is kept exactly;
// larger ones become a FloatLit, as DataFusion does.
type IntLit struct {
	Value uint64
}

// FloatLit is a number written with a fraction or an exponent (1.5, .5,
// 1e-3), or an integer too large for uint64.
type FloatLit struct {
	// Text is the literal as written; a planner that needs a float32 or a
	// decimal should parse it rather than round Value.
	Text string
	// Value is Text parsed as a float64 (±Inf if it overflows).
	Value float64
}

// StringLit is a string literal, written '...' or "..." (MySQL dialect: a
// double-quoted text is a string, not an identifier).
type StringLit struct {
	Value string // unescaped
}

// HexLit is a binary literal written x'0aff', X'0AFF' or 0x0aff.
type HexLit struct {
	Value []byte
}

// BoolLit is TRUE or FALSE.
type BoolLit struct {
	Value bool
}

// NullLit is NULL.
type NullLit struct{}

// TypedLit is a typed string literal: TIMESTAMP '...', DATE '...' or
// TIME '...'.
type TypedLit struct {
	Type  string // "TIMESTAMP", "DATE" or "TIME"
	Value string
}

// IntervalExpr is INTERVAL value [unit]: INTERVAL '30' SECOND,
// INTERVAL 1 DAY or INTERVAL '1 hour'.
type IntervalExpr struct {
	Value Expr
	// Unit is the upper-case unit (YEAR, MONTH, WEEK, DAY, HOUR, MINUTE,
	// SECOND, ...), or "" when the value carries it ('1 hour').
	Unit string
}

// UnaryOp is a prefix operator.
type UnaryOp uint8

const (
	OpNeg  UnaryOp = iota + 1 // -x
	OpPlus                    // +x
	OpNot                     // NOT x
)

func (op UnaryOp) String() string {
	switch op {
	case OpNeg:
		return "-"
	case OpPlus:
		return "+"
	case OpNot:
		return "NOT"
	}
	return "?"
}

// UnaryExpr is -x, +x or NOT x.
type UnaryExpr struct {
	Op UnaryOp
	X  Expr
}

// BinaryOp is an infix operator.
type BinaryOp uint8

const (
	OpOr BinaryOp = iota + 1
	OpXor
	OpAnd
	OpEq
	OpNotEq
	OpLt
	OpLtEq
	OpGt
	OpGtEq
	OpIsDistinctFrom    // a IS DISTINCT FROM b
	OpIsNotDistinctFrom // a IS NOT DISTINCT FROM b
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpMod
	OpIntDiv // MySQL DIV
	// OpConcat is ||. It concatenates strings, as in DataFusion, the engine
	// upstream ran (MySQL itself reads || as OR).
	OpConcat
)

var binaryOpText = [...]string{
	OpOr:                "OR",
	OpXor:               "XOR",
	OpAnd:               "AND",
	OpEq:                "=",
	OpNotEq:             "<>",
	OpLt:                "<",
	OpLtEq:              "<=",
	OpGt:                ">",
	OpGtEq:              ">=",
	OpIsDistinctFrom:    "IS DISTINCT FROM",
	OpIsNotDistinctFrom: "IS NOT DISTINCT FROM",
	OpAdd:               "+",
	OpSub:               "-",
	OpMul:               "*",
	OpDiv:               "/",
	OpMod:               "%",
	OpIntDiv:            "DIV",
	OpConcat:            "||",
}

func (op BinaryOp) String() string {
	if int(op) < len(binaryOpText) && binaryOpText[op] != "" {
		return binaryOpText[op]
	}
	return "?"
}

// BinaryExpr is Left Op Right.
type BinaryExpr struct {
	Op    BinaryOp
	Left  Expr
	Right Expr
}

// IsTest is what an IS expression tests for.
type IsTest uint8

const (
	IsNull IsTest = iota + 1
	IsTrue
	IsFalse
	IsUnknown
)

// IsExpr is X IS [NOT] NULL|TRUE|FALSE|UNKNOWN.
type IsExpr struct {
	X    Expr
	Not  bool
	Test IsTest
}

// LikeExpr is X [NOT] LIKE|ILIKE Pattern [ESCAPE Escape].
type LikeExpr struct {
	X               Expr
	Not             bool
	CaseInsensitive bool // ILIKE
	Pattern         Expr
	Escape          Expr // nil without ESCAPE
}

// InListExpr is X [NOT] IN (List...).
type InListExpr struct {
	X    Expr
	Not  bool
	List []Expr
}

// InSubqueryExpr is X [NOT] IN (query).
type InSubqueryExpr struct {
	X     Expr
	Not   bool
	Query *Query
}

// BetweenExpr is X [NOT] BETWEEN Low AND High.
type BetweenExpr struct {
	X    Expr
	Not  bool
	Low  Expr
	High Expr
}

// CaseExpr is CASE [Operand] WHEN ... THEN ... [ELSE Else] END.
type CaseExpr struct {
	Operand Expr // nil for a searched CASE
	Whens   []WhenClause
	Else    Expr // nil without ELSE
}

// WhenClause is WHEN Cond THEN Result.
type WhenClause struct {
	Cond   Expr
	Result Expr
}

// CastExpr is CAST(X AS Type), also written X::Type.
type CastExpr struct {
	X    Expr
	Type DataType
}

// ExtractExpr is EXTRACT(Field FROM X).
type ExtractExpr struct {
	Field string // upper case: YEAR, MONTH, DAY, HOUR, EPOCH, ...
	X     Expr
}

// FuncCall is a function call: name([DISTINCT] args) [FILTER (WHERE ...)]
// [OVER (...)]. count(*) has a single *Wildcard argument.
type FuncCall struct {
	// Name is lowercased: functions are case-insensitive in HoraeDB.
	Name     string
	Distinct bool
	Args     []Expr
	Filter   Expr        // FILTER (WHERE Filter); nil when absent
	Over     *WindowSpec // nil for a plain call
}

// WindowSpec is the OVER (...) of a window function call.
type WindowSpec struct {
	PartitionBy []Expr
	OrderBy     []OrderItem
	Frame       *WindowFrame // nil without a frame clause
}

// FrameUnits is ROWS, RANGE or GROUPS.
type FrameUnits uint8

const (
	FrameRows FrameUnits = iota + 1
	FrameRange
	FrameGroups
)

// WindowFrame is units start, or units BETWEEN start AND end.
type WindowFrame struct {
	Units FrameUnits
	Start FrameBound
	End   *FrameBound // nil without BETWEEN
}

// BoundKind is where a frame bound lies.
type BoundKind uint8

const (
	BoundPreceding BoundKind = iota + 1
	BoundCurrentRow
	BoundFollowing
)

// FrameBound is UNBOUNDED PRECEDING|FOLLOWING, CURRENT ROW or
// offset PRECEDING|FOLLOWING.
type FrameBound struct {
	Kind   BoundKind
	Offset Expr // nil for UNBOUNDED and CURRENT ROW
}

// SubqueryExpr is a scalar subquery: (query).
type SubqueryExpr struct {
	Query *Query
}

// ExistsExpr is EXISTS (query). NOT EXISTS is a UnaryExpr around it.
type ExistsExpr struct {
	Query *Query
}

// Int64 returns the literal as an int64 if it fits.
func (e *IntLit) Int64() (int64, bool) {
	if e.Value > 1<<63-1 {
		return 0, false
	}
	return int64(e.Value), true
}

func newFloatLit(text string) *FloatLit {
	v, _ := strconv.ParseFloat(text, 64) // a range error still sets ±Inf
	return &FloatLit{Text: text, Value: v}
}

func (*ColumnRef) exprNode()      {}
func (*Wildcard) exprNode()       {}
func (*IntLit) exprNode()         {}
func (*FloatLit) exprNode()       {}
func (*StringLit) exprNode()      {}
func (*HexLit) exprNode()         {}
func (*BoolLit) exprNode()        {}
func (*NullLit) exprNode()        {}
func (*TypedLit) exprNode()       {}
func (*IntervalExpr) exprNode()   {}
func (*UnaryExpr) exprNode()      {}
func (*BinaryExpr) exprNode()     {}
func (*IsExpr) exprNode()         {}
func (*LikeExpr) exprNode()       {}
func (*InListExpr) exprNode()     {}
func (*InSubqueryExpr) exprNode() {}
func (*BetweenExpr) exprNode()    {}
func (*CaseExpr) exprNode()       {}
func (*CastExpr) exprNode()       {}
func (*ExtractExpr) exprNode()    {}
func (*FuncCall) exprNode()       {}
func (*SubqueryExpr) exprNode()   {}
func (*ExistsExpr) exprNode()     {}

func (e *ColumnRef) String() string      { return nodeString(e) }
func (e *Wildcard) String() string       { return nodeString(e) }
func (e *IntLit) String() string         { return nodeString(e) }
func (e *FloatLit) String() string       { return nodeString(e) }
func (e *StringLit) String() string      { return nodeString(e) }
func (e *HexLit) String() string         { return nodeString(e) }
func (e *BoolLit) String() string        { return nodeString(e) }
func (e *NullLit) String() string        { return nodeString(e) }
func (e *TypedLit) String() string       { return nodeString(e) }
func (e *IntervalExpr) String() string   { return nodeString(e) }
func (e *UnaryExpr) String() string      { return nodeString(e) }
func (e *BinaryExpr) String() string     { return nodeString(e) }
func (e *IsExpr) String() string         { return nodeString(e) }
func (e *LikeExpr) String() string       { return nodeString(e) }
func (e *InListExpr) String() string     { return nodeString(e) }
func (e *InSubqueryExpr) String() string { return nodeString(e) }
func (e *BetweenExpr) String() string    { return nodeString(e) }
func (e *CaseExpr) String() string       { return nodeString(e) }
func (e *CastExpr) String() string       { return nodeString(e) }
func (e *ExtractExpr) String() string    { return nodeString(e) }
func (e *FuncCall) String() string       { return nodeString(e) }
func (e *SubqueryExpr) String() string   { return nodeString(e) }
func (e *ExistsExpr) String() string     { return nodeString(e) }
func (w *WindowSpec) String() string     { return nodeString(w) }
func (f *WindowFrame) String() string    { return nodeString(f) }
func (fb FrameBound) String() string     { return nodeString(fb) }
func (w WhenClause) String() string      { return nodeString(w) }
