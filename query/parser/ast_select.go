package parser

// Query is a full query: [WITH ...] body [ORDER BY ...] [LIMIT ...]
// [OFFSET ...]. It is a Statement on its own, the operand of INSERT ...
// SELECT, EXPLAIN and subqueries, and, in parentheses, a SetExpr.
type Query struct {
	With    *With // nil without WITH
	Body    SetExpr
	OrderBy []OrderItem
	// Limit and Offset are nil when absent. MySQL's LIMIT m, n sets
	// Offset = m and Limit = n.
	Limit  Expr
	Offset Expr
}

// With is the WITH clause: common table expressions.
type With struct {
	Recursive bool
	CTEs      []CTE
}

// CTE is name [(cols)] AS (query).
type CTE struct {
	Name    Ident
	Columns []Ident
	Query   *Query
}

// SetExpr is the body of a query: *Select, *SetOp, or a parenthesised
// *Query.
type SetExpr interface {
	Node
	setExprNode()
}

// SetOpKind is a set operation.
type SetOpKind uint8

const (
	Union SetOpKind = iota + 1
	Except
	Intersect
)

func (k SetOpKind) String() string {
	switch k {
	case Union:
		return "UNION"
	case Except:
		return "EXCEPT"
	case Intersect:
		return "INTERSECT"
	}
	return "?"
}

// SetOp is left UNION|EXCEPT|INTERSECT [ALL] right. INTERSECT binds tighter
// than UNION and EXCEPT; all are left-associative.
type SetOp struct {
	Op    SetOpKind
	All   bool
	Left  SetExpr
	Right SetExpr
}

// Select is one SELECT block.
type Select struct {
	Distinct bool
	Items    []SelectItem
	// From holds the comma-separated table references; nil for a
	// table-less SELECT such as SELECT 1.
	From    []TableRef
	Where   Expr // nil when absent
	GroupBy []Expr
	Having  Expr // nil when absent
}

// SelectItem is one entry of the select list: an expression with an
// optional alias, or a *Wildcard (* or t.*), which never has an alias.
type SelectItem struct {
	Expr  Expr
	Alias Ident // zero when there is none
}

// OrderItem is expr [ASC|DESC] [NULLS FIRST|LAST].
type OrderItem struct {
	Expr  Expr
	Desc  bool
	Nulls NullsOrder
}

// NullsOrder is the NULLS FIRST / NULLS LAST choice of an ORDER BY item.
type NullsOrder uint8

const (
	NullsDefault NullsOrder = iota // not written
	NullsFirst
	NullsLast
)

// TableRef is an entry of FROM: *TableName, *DerivedTable or *Join.
type TableRef interface {
	Node
	tableRefNode()
}

// TableName is a table reference by name: name [[AS] alias].
type TableName struct {
	Name  ObjectName
	Alias Ident // zero when there is none
}

// DerivedTable is (query) [[AS] alias].
type DerivedTable struct {
	Query *Query
	Alias Ident // zero when there is none
}

// JoinKind is the kind of a JOIN.
type JoinKind uint8

const (
	InnerJoin JoinKind = iota + 1 // JOIN, INNER JOIN
	LeftJoin                      // LEFT [OUTER] JOIN
	RightJoin                     // RIGHT [OUTER] JOIN
	FullJoin                      // FULL [OUTER] JOIN
	CrossJoin                     // CROSS JOIN
)

func (k JoinKind) String() string {
	switch k {
	case InnerJoin:
		return "JOIN"
	case LeftJoin:
		return "LEFT JOIN"
	case RightJoin:
		return "RIGHT JOIN"
	case FullJoin:
		return "FULL JOIN"
	case CrossJoin:
		return "CROSS JOIN"
	}
	return "?"
}

// Join is left <kind> JOIN right [ON expr | USING (cols)]. Joins are
// left-deep: a JOIN b JOIN c is Join{Left: Join{a, b}, Right: c}.
type Join struct {
	Kind  JoinKind
	Left  TableRef
	Right TableRef
	On    Expr    // nil without ON
	Using []Ident // nil without USING
}

func (*Select) setExprNode() {}
func (*SetOp) setExprNode()  {}
func (*Query) setExprNode()  {}

func (*TableName) tableRefNode()    {}
func (*DerivedTable) tableRefNode() {}
func (*Join) tableRefNode()         {}

func (q *Query) String() string        { return nodeString(q) }
func (s *Select) String() string       { return nodeString(s) }
func (s *SetOp) String() string        { return nodeString(s) }
func (t *TableName) String() string    { return nodeString(t) }
func (t *DerivedTable) String() string { return nodeString(t) }
func (j *Join) String() string         { return nodeString(j) }
func (w *With) String() string         { return nodeString(w) }
func (c CTE) String() string           { return nodeString(c) }
func (i SelectItem) String() string    { return nodeString(i) }
func (o OrderItem) String() string     { return nodeString(o) }
