package query

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/query/internal/exec"
	"github.com/horaego/horaedb/query/internal/expr"
	"github.com/horaego/horaedb/query/parser"
)

// relation is a planned row source with the columns it offers to
// expressions above it.
type relation struct {
	op    exec.Operator
	scope *scope
}

// cteEnv holds the common table expressions visible to a query.
type cteEnv struct {
	parent *cteEnv
	ctes   map[string]*parser.CTE
}

func (e *cteEnv) lookup(name string) *parser.CTE {
	for ; e != nil; e = e.parent {
		if c, ok := e.ctes[name]; ok {
			return c
		}
	}
	return nil
}

// maxQueryDepth bounds how deeply queries may nest (subqueries, CTEs that
// refer to each other).
const maxQueryDepth = 64

// planQuery plans a query: its WITH list, its body, ORDER BY and LIMIT.
func (sc *stmtCtx) planQuery(q *parser.Query, env *cteEnv, depth int) (*relation, error) {
	if depth > maxQueryDepth {
		return nil, fmt.Errorf("%w: queries nested more than %d deep", ErrInvalid, maxQueryDepth)
	}
	if q.With != nil {
		if q.With.Recursive {
			return nil, fmt.Errorf("%w: WITH RECURSIVE", ErrUnsupported)
		}
		inner := &cteEnv{parent: env, ctes: map[string]*parser.CTE{}}
		for i := range q.With.CTEs {
			c := &q.With.CTEs[i]
			if _, dup := inner.ctes[c.Name.Name]; dup {
				return nil, fmt.Errorf("%w: WITH query name %s specified more than once", ErrInvalid, c.Name.Name)
			}
			inner.ctes[c.Name.Name] = c
		}
		env = inner
	}
	if sel, ok := q.Body.(*parser.Select); ok {
		p := &selectPlan{sc: sc, sel: sel, orderBy: q.OrderBy, limit: q.Limit, offset: q.Offset, env: env, depth: depth}
		return p.plan()
	}
	rel, err := sc.planSetExpr(q.Body, env, depth)
	if err != nil {
		return nil, err
	}
	return sc.orderAndLimit(rel, q)
}

func (sc *stmtCtx) planSetExpr(body parser.SetExpr, env *cteEnv, depth int) (*relation, error) {
	switch b := body.(type) {
	case *parser.Select:
		p := &selectPlan{sc: sc, sel: b, env: env, depth: depth}
		return p.plan()
	case *parser.Query:
		return sc.planQuery(b, env, depth+1)
	case *parser.SetOp:
		if b.Op != parser.Union {
			return nil, fmt.Errorf("%w: %s", ErrUnsupported, b.Op)
		}
		left, err := sc.planSetExpr(b.Left, env, depth)
		if err != nil {
			return nil, err
		}
		right, err := sc.planSetExpr(b.Right, env, depth)
		if err != nil {
			left.op.Close()
			return nil, err
		}
		rel, err := sc.union(left, right)
		if err != nil {
			left.op.Close()
			right.op.Close()
			return nil, err
		}
		if !b.All {
			rel.op = distinct(rel.op, rel.scope, sc.ec)
		}
		return rel, nil
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupported, body)
}

// union appends right's rows to left's. Column counts must match; columns
// of different numeric types are cast to a common one.
func (sc *stmtCtx) union(left, right *relation) (*relation, error) {
	ln, rn := len(left.scope.cols), len(right.scope.cols)
	if ln != rn {
		return nil, fmt.Errorf("%w: UNION queries have %d and %d columns", ErrInvalid, ln, rn)
	}
	lcast, rcast := make([]expr.Expr, ln), make([]expr.Expr, ln)
	needCast := false
	out := &scope{}
	fields := make([]arrow.Field, ln)
	for i := 0; i < ln; i++ {
		lt, rt := left.scope.cols[i].Type, right.scope.cols[i].Type
		t, err := commonType(lt, rt)
		if err != nil {
			return nil, fmt.Errorf("%w: UNION column %d: %v", ErrInvalid, i+1, err)
		}
		lcast[i], rcast[i] = castTo(left.scope.column(i), t), castTo(right.scope.column(i), t)
		needCast = needCast || !arrow.TypeEqual(lt, t) || !arrow.TypeEqual(rt, t)
		out.cols = append(out.cols, scopeCol{Name: left.scope.cols[i].Name, Type: t})
		fields[i] = arrow.Field{Name: left.scope.cols[i].Name, Type: t, Nullable: true}
	}
	lop, rop := left.op, right.op
	if needCast {
		names := make([]string, ln)
		for i := range names {
			names[i] = fields[i].Name
		}
		lop = exec.NewProject(lop, lcast, names, sc.ec)
		rop = exec.NewProject(rop, rcast, names, sc.ec)
	}
	return &relation{op: exec.NewUnion([]exec.Operator{lop, rop}, arrow.NewSchema(fields, nil)), scope: out}, nil
}

func castTo(x expr.Expr, t arrow.DataType) expr.Expr {
	if arrow.TypeEqual(x.Type(), t) {
		return x
	}
	return &expr.Cast{X: x, To: t}
}

func commonType(a, b arrow.DataType) (arrow.DataType, error) { return expr.CommonType(a, b) }

// distinct keeps one of each distinct row.
func distinct(in exec.Operator, s *scope, c *expr.Ctx) exec.Operator {
	cols := make([]expr.Expr, len(s.cols))
	names := make([]string, len(s.cols))
	for i := range s.cols {
		cols[i] = s.column(i)
		names[i] = s.cols[i].Name
	}
	return exec.NewAggregate(in, cols, nil, names, c)
}

// orderAndLimit applies a query's ORDER BY (over its output columns, by
// name or position) and LIMIT/OFFSET to a set operation's result.
func (sc *stmtCtx) orderAndLimit(rel *relation, q *parser.Query) (*relation, error) {
	if len(q.OrderBy) > 0 {
		b := &binder{sc: sc, scope: rel.scope}
		var keys []exec.SortKey
		for _, o := range q.OrderBy {
			var x expr.Expr
			if lit, ok := o.Expr.(*parser.IntLit); ok {
				if lit.Value < 1 || lit.Value > uint64(len(rel.scope.cols)) {
					return nil, fmt.Errorf("%w: ORDER BY position %d is not in the select list", ErrInvalid, lit.Value)
				}
				x = rel.scope.column(int(lit.Value) - 1)
			} else {
				var err error
				if x, err = b.bind(o.Expr); err != nil {
					return nil, err
				}
			}
			keys = append(keys, sortKey(o, x))
		}
		rel.op = &exec.Sort{Input: rel.op, Keys: keys, C: sc.ec}
	}
	op, err := sc.limit(rel.op, q.Limit, q.Offset)
	if err != nil {
		return nil, err
	}
	rel.op = op
	return rel, nil
}

func sortKey(o parser.OrderItem, x expr.Expr) exec.SortKey {
	nullsFirst := o.Desc
	switch o.Nulls {
	case parser.NullsFirst:
		nullsFirst = true
	case parser.NullsLast:
		nullsFirst = false
	}
	return exec.SortKey{Expr: x, Desc: o.Desc, NullsFirst: nullsFirst}
}

// limit applies LIMIT and OFFSET; a Sort right below keeps only the rows
// the limit can return (top-k).
func (sc *stmtCtx) limit(op exec.Operator, limit, offset parser.Expr) (exec.Operator, error) {
	if limit == nil && offset == nil {
		return op, nil
	}
	lim := &exec.Limit{Input: op, Count: -1}
	var err error
	if limit != nil {
		if lim.Count, err = sc.nonNegative(limit, "LIMIT"); err != nil {
			return nil, err
		}
	}
	if offset != nil {
		if lim.Offset, err = sc.nonNegative(offset, "OFFSET"); err != nil {
			return nil, err
		}
	}
	if s, ok := op.(*exec.Sort); ok && lim.Count >= 0 {
		s.Limit = max(lim.Count+lim.Offset, 1)
	}
	return lim, nil
}

// planFrom plans a FROM list: one relation, or the cross join of several.
func (p *selectPlan) planFrom(refs []parser.TableRef) (*relation, error) {
	if len(refs) == 0 {
		return &relation{op: &exec.Values{Rows: 1}, scope: &scope{}}, nil
	}
	rel, err := p.planTableRef(refs[0])
	if err != nil {
		return nil, err
	}
	for _, ref := range refs[1:] {
		right, err := p.planTableRef(ref)
		if err != nil {
			rel.op.Close()
			return nil, err
		}
		rel = p.sc.joinRelations(rel, right, nil, nil, nil, exec.InnerJoin)
	}
	return rel, nil
}

func (p *selectPlan) planTableRef(ref parser.TableRef) (*relation, error) {
	switch r := ref.(type) {
	case *parser.TableName:
		alias := r.Alias.Name
		if len(r.Name) == 1 {
			if cte := p.env.lookup(r.Name.Table().Name); cte != nil {
				if alias == "" {
					alias = cte.Name.Name
				}
				rel, err := p.sc.planQuery(cte.Query, p.env, p.depth+1)
				if err != nil {
					return nil, err
				}
				return requalify(rel, alias, cte.Columns)
			}
		}
		t, err := p.sc.table(r.Name)
		if err != nil {
			return nil, err
		}
		if alias == "" {
			alias = t.Name()
		}
		// Joined or listed with others, a table is read whole; the WHERE
		// clause filters after.
		if err := p.sc.x.checkRead(t.Name(), engine.AllTime, p.sel.Where != nil); err != nil {
			return nil, err
		}
		return p.scanTable(t, alias, engine.ScanRequest{Columns: p.neededColumns(t, alias), TimeRange: engine.AllTime})
	case *parser.DerivedTable:
		rel, err := p.sc.planQuery(r.Query, p.env, p.depth+1)
		if err != nil {
			return nil, err
		}
		return requalify(rel, r.Alias.Name, nil)
	case *parser.Join:
		return p.planJoin(r)
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, ref)
}

// scanTable reads a table.
func (p *selectPlan) scanTable(t *engine.Table, alias string, req engine.ScanRequest) (*relation, error) {
	s := t.Schema()
	sc := &scope{}
	for _, name := range req.Columns {
		sc.cols = append(sc.cols, scopeCol{Name: name, Qualifier: alias, Type: s.Columns[s.Index(name)].Kind.ArrowType(),
			TimeKey: name == s.Timestamp().Name})
	}
	op, err := exec.NewScan(t, req)
	if err != nil {
		return nil, err
	}
	return &relation{op: op, scope: sc}, nil
}

// requalify names a subquery's columns after its alias (and the alias's
// column list, if any).
func requalify(rel *relation, alias string, cols []parser.Ident) (*relation, error) {
	if len(cols) > 0 && len(cols) != len(rel.scope.cols) {
		rel.op.Close()
		return nil, fmt.Errorf("%w: %s has %d columns but %d names", ErrInvalid, alias, len(rel.scope.cols), len(cols))
	}
	out := &scope{}
	for i, c := range rel.scope.cols {
		c.Qualifier = alias
		if len(cols) > 0 {
			c.Name = cols[i].Name
		}
		out.cols = append(out.cols, c)
	}
	return &relation{op: rel.op, scope: out}, nil
}

func (p *selectPlan) planJoin(j *parser.Join) (*relation, error) {
	var kind exec.JoinKind
	switch j.Kind {
	case parser.InnerJoin, parser.CrossJoin:
		kind = exec.InnerJoin
	case parser.LeftJoin:
		kind = exec.LeftJoin
	default:
		return nil, fmt.Errorf("%w: %s (inner, left and cross joins are supported)", ErrUnsupported, j.Kind)
	}
	if len(j.Using) > 0 {
		return nil, fmt.Errorf("%w: JOIN ... USING; write ON", ErrUnsupported)
	}
	left, err := p.planTableRef(j.Left)
	if err != nil {
		return nil, err
	}
	right, err := p.planTableRef(j.Right)
	if err != nil {
		left.op.Close()
		return nil, err
	}
	combined := &scope{cols: append(append([]scopeCol(nil), left.scope.cols...), right.scope.cols...)}
	var lk, rk []expr.Expr
	var residual expr.Expr
	for _, cond := range conjuncts(j.On) {
		if l, r, ok := p.equiKeys(cond, left.scope, right.scope); ok {
			lk, rk = append(lk, l), append(rk, r)
			continue
		}
		b := &binder{sc: p.sc, scope: combined}
		x, err := b.bind(cond)
		if err != nil {
			left.op.Close()
			right.op.Close()
			return nil, err
		}
		if !isBool(x.Type()) {
			left.op.Close()
			right.op.Close()
			return nil, fmt.Errorf("%w: JOIN condition %s is not boolean", ErrInvalid, cond)
		}
		if residual == nil {
			residual = x
		} else {
			residual, _ = expr.NewBinary(expr.OpAnd, residual, x)
		}
	}
	return p.sc.joinRelations(left, right, lk, rk, residual, kind), nil
}

// equiKeys recognises `l = r` where each side refers to one input only;
// the keys are cast to a common type.
func (p *selectPlan) equiKeys(cond parser.Expr, ls, rs *scope) (expr.Expr, expr.Expr, bool) {
	eq, ok := cond.(*parser.BinaryExpr)
	if !ok || eq.Op != parser.OpEq {
		return nil, nil, false
	}
	try := func(a, b parser.Expr) (expr.Expr, expr.Expr, bool) {
		l, err := (&binder{sc: p.sc, scope: ls}).bind(a)
		if err != nil || !expr.HasColumns(l) {
			return nil, nil, false
		}
		r, err := (&binder{sc: p.sc, scope: rs}).bind(b)
		if err != nil || !expr.HasColumns(r) {
			return nil, nil, false
		}
		t, err := commonType(l.Type(), r.Type())
		if err != nil {
			return nil, nil, false
		}
		return castTo(l, t), castTo(r, t), true
	}
	if l, r, ok := try(eq.Left, eq.Right); ok {
		return l, r, true
	}
	if l, r, ok := try(eq.Right, eq.Left); ok {
		return l, r, true
	}
	return nil, nil, false
}

func (sc *stmtCtx) joinRelations(left, right *relation, lk, rk []expr.Expr, residual expr.Expr, kind exec.JoinKind) *relation {
	j := exec.NewHashJoin(left.op, right.op, lk, rk, residual, kind, sc.ec)
	j.MaxPairs = maxJoinPairs
	return &relation{op: j, scope: &scope{cols: append(append([]scopeCol(nil), left.scope.cols...), right.scope.cols...)}}
}

// maxJoinPairs bounds the rows a join may produce from one input batch, so
// an accidental cross join fails clearly instead of exhausting memory.
const maxJoinPairs = 10_000_000

// conjuncts splits an expression on AND.
func conjuncts(e parser.Expr) []parser.Expr {
	if e == nil {
		return nil
	}
	if b, ok := e.(*parser.BinaryExpr); ok && b.Op == parser.OpAnd {
		return append(conjuncts(b.Left), conjuncts(b.Right)...)
	}
	return []parser.Expr{e}
}
