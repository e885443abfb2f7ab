package query

import (
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/query/internal/exec"
	"github.com/horaego/horaedb/query/internal/expr"
	"github.com/horaego/horaedb/query/parser"
)

// selectPlan plans one SELECT with the ORDER BY and LIMIT of its query.
type selectPlan struct {
	sc            *stmtCtx
	sel           *parser.Select
	orderBy       []parser.OrderItem
	limit, offset parser.Expr
	env           *cteEnv
	depth         int

	items []parser.SelectItem // wildcards expanded
}

func (p *selectPlan) plan() (*relation, error) {
	rel, err := p.input()
	if err != nil {
		return nil, err
	}
	if err := p.expandItems(rel.scope); err != nil {
		rel.op.Close()
		return nil, err
	}
	out, err := p.shape(rel)
	if err != nil {
		rel.op.Close()
		return nil, err
	}
	return out, nil
}

// input plans FROM and WHERE. A single table gets the WHERE clause's time
// range pushed into its scan.
func (p *selectPlan) input() (*relation, error) {
	sel := p.sel
	if len(sel.From) == 1 {
		if tn, ok := sel.From[0].(*parser.TableName); ok && (len(tn.Name) > 1 || p.env.lookup(tn.Name.Table().Name) == nil) {
			t, err := p.sc.table(tn.Name)
			if err != nil {
				return nil, err
			}
			alias := t.Name()
			if !tn.Alias.IsZero() {
				alias = tn.Alias.Name
			}
			req := engine.ScanRequest{Columns: p.neededColumns(t, alias), TimeRange: engine.AllTime}
			rel, err := p.scanTable(t, alias, req) // to get the scope for WHERE
			if err != nil {
				return nil, err
			}
			rel.op.Close()
			if sel.Where == nil {
				if err := p.sc.x.checkRead(t.Name(), req.TimeRange, false); err != nil {
					return nil, err
				}
				return p.parallelScan(t, rel.scope, req, nil)
			}
			w, err := p.where(rel.scope)
			if err != nil {
				return nil, err
			}
			tsIdx := -1
			for i, c := range rel.scope.cols {
				if c.Name == t.Schema().Timestamp().Name {
					tsIdx = i
				}
			}
			req.TimeRange = timeRange(w, tsIdx)
			req.Filters = pushdownFilters(w, rel.scope, t)
			if err := p.sc.x.checkRead(t.Name(), req.TimeRange, true); err != nil {
				return nil, err
			}
			return p.parallelScan(t, rel.scope, req, w)
		}
	}
	rel, err := p.planFrom(sel.From)
	if err != nil {
		return nil, err
	}
	if sel.Where != nil {
		w, err := p.where(rel.scope)
		if err != nil {
			rel.op.Close()
			return nil, err
		}
		rel.op = &exec.Filter{Input: rel.op, Pred: w, C: p.sc.ec}
	}
	return rel, nil
}

func (p *selectPlan) where(s *scope) (expr.Expr, error) {
	b := &binder{sc: p.sc, scope: s}
	w, err := b.bind(p.sel.Where)
	if err != nil {
		return nil, err
	}
	if !isBool(w.Type()) {
		return nil, fmt.Errorf("%w: WHERE needs a boolean condition, got %s", ErrInvalid, p.sel.Where)
	}
	return w, nil
}

// shape plans what follows FROM and WHERE: aggregation, HAVING, the select
// list, DISTINCT, ORDER BY and LIMIT.
func (p *selectPlan) shape(rel *relation) (*relation, error) {
	sel := p.sel
	input, inScope := rel.op, rel.scope
	b := &binder{sc: p.sc, scope: inScope}
	aggCalls := p.aggregateCalls()
	if len(aggCalls) > 0 || len(sel.GroupBy) > 0 {
		agg, post, err := p.aggregate(input, inScope, aggCalls)
		if err != nil {
			return nil, err
		}
		input = agg
		b = &binder{sc: p.sc, scope: post.out, post: post}
		for _, it := range p.items {
			if !it.Alias.IsZero() {
				post.aliases[it.Alias.Name] = it.Expr
			}
		}
		if sel.Having != nil {
			h, err := b.bind(sel.Having)
			if err != nil {
				return nil, err
			}
			input = &exec.Filter{Input: input, Pred: h, C: p.sc.ec}
		}
	} else if sel.Having != nil {
		return nil, fmt.Errorf("%w: HAVING needs GROUP BY or an aggregate", ErrInvalid)
	}

	// Projection, with hidden columns for ORDER BY expressions not selected.
	var exprs []expr.Expr
	var names []string
	for _, it := range p.items {
		x, err := b.bind(it.Expr)
		if err != nil {
			return nil, err
		}
		exprs = append(exprs, x)
		names = append(names, displayName(it, x))
	}
	for i := range exprs {
		for j := 0; j < i; j++ {
			if names[i] == names[j] && exprs[i].String() == exprs[j].String() {
				return nil, fmt.Errorf("%w: Projections require unique expression names but the expression %q at position %d and %q at position %d have the same name. Consider aliasing (\"AS\") one of them",
					ErrInvalid, exprs[j].String(), j, exprs[i].String(), i)
			}
		}
	}
	visible := len(exprs)
	var keys []exec.SortKey
	for _, o := range p.orderBy {
		idx, err := p.orderColumn(o.Expr, b, &exprs, &names, visible)
		if err != nil {
			return nil, err
		}
		keys = append(keys, sortKey(o, &expr.Column{Index: idx, Name: names[idx], Typ: exprs[idx].Type()}))
	}
	if sel.Distinct && len(exprs) > visible {
		return nil, fmt.Errorf("%w: for SELECT DISTINCT, ORDER BY expressions must appear in the select list", ErrInvalid)
	}
	var out exec.Operator = exec.NewProject(input, exprs, names, p.sc.ec)
	outScope := &scope{}
	for i := 0; i < visible; i++ {
		outScope.cols = append(outScope.cols, scopeCol{Name: names[i], Type: exprs[i].Type()})
	}
	if sel.Distinct {
		out = distinct(out, outScope, p.sc.ec)
	}
	if len(keys) > 0 {
		out = &exec.Sort{Input: out, Keys: keys, C: p.sc.ec}
	}
	out, err := p.sc.limit(out, p.limit, p.offset)
	if err != nil {
		return nil, err
	}
	if len(exprs) > visible {
		cols := make([]expr.Expr, visible)
		for i := range cols {
			cols[i] = &expr.Column{Index: i, Name: names[i], Typ: exprs[i].Type()}
		}
		out = exec.NewProject(out, cols, names[:visible], p.sc.ec)
	}
	return &relation{op: out, scope: outScope}, nil
}

// expandItems replaces * and t.* with the input's columns.
func (p *selectPlan) expandItems(s *scope) error {
	for _, it := range p.sel.Items {
		w, ok := it.Expr.(*parser.Wildcard)
		if !ok {
			p.items = append(p.items, it)
			continue
		}
		qual := ""
		if len(w.Table) > 0 {
			qual = w.Table.Table().Name
		}
		n := 0
		for _, c := range s.cols {
			if qual != "" && c.Qualifier != qual {
				continue
			}
			ref := &parser.ColumnRef{Column: parser.Ident{Name: c.Name}}
			if c.Qualifier != "" {
				ref.Table = parser.ObjectName{{Name: c.Qualifier}}
			}
			p.items = append(p.items, parser.SelectItem{Expr: ref})
			n++
		}
		if n == 0 {
			if qual != "" {
				return fmt.Errorf("%w: %s does not name a table of the query", ErrInvalid, w)
			}
			return fmt.Errorf("%w: SELECT * with no table", ErrInvalid)
		}
	}
	return nil
}

// neededColumns lists the columns of table t (known as alias) that this
// SELECT may refer to, in schema order; at least the timestamp, so that
// counting rows works.
func (p *selectPlan) neededColumns(t *engine.Table, alias string) []string {
	s := t.Schema()
	used := make([]bool, len(s.Columns))
	all := false
	visit := func(e parser.Expr) {
		walkExpr(e, func(x parser.Expr) {
			switch x := x.(type) {
			case *parser.ColumnRef:
				if len(x.Table) > 0 && x.Table.Table().Name != alias {
					return
				}
				for i, c := range s.Columns {
					if c.Name == x.Column.Name || strings.EqualFold(c.Name, x.Column.Name) {
						used[i] = true
					}
				}
			case *parser.FuncCall:
				// first(x) and last(x) order by the timestamp key.
				switch strings.ToLower(x.Name) {
				case "first", "last", "first_value", "last_value":
					if len(x.Args) == 1 {
						used[s.TimestampIndex] = true
					}
				}
			}
		})
	}
	for _, it := range p.sel.Items {
		// Only a select-list * reads every column; count(*) reads none.
		if w, ok := it.Expr.(*parser.Wildcard); ok && (len(w.Table) == 0 || w.Table.Table().Name == alias) {
			all = true
		}
		visit(it.Expr)
	}
	for _, e := range []parser.Expr{p.sel.Where, p.sel.Having} {
		visit(e)
	}
	for _, g := range p.sel.GroupBy {
		visit(g)
	}
	for _, o := range p.orderBy {
		visit(o.Expr)
	}
	for _, ref := range p.sel.From {
		walkJoins(ref, visit)
	}
	var cols []string
	for i, u := range used {
		if u || all {
			cols = append(cols, s.Columns[i].Name)
		}
	}
	if len(cols) == 0 {
		cols = []string{s.Timestamp().Name}
	}
	return cols
}

// walkJoins visits the ON conditions of the joins in a FROM item.
func walkJoins(ref parser.TableRef, visit func(parser.Expr)) {
	if j, ok := ref.(*parser.Join); ok {
		visit(j.On)
		walkJoins(j.Left, visit)
		walkJoins(j.Right, visit)
	}
}

// aggregateCalls collects the distinct aggregate calls of the select list,
// HAVING and ORDER BY.
func (p *selectPlan) aggregateCalls() []*parser.FuncCall {
	var out []*parser.FuncCall
	seen := map[string]bool{}
	visit := func(e parser.Expr) {
		walkExprPrune(e, func(x parser.Expr) bool {
			if fc, ok := x.(*parser.FuncCall); ok && expr.IsAggregate(strings.ToLower(fc.Name)) && fc.Over == nil {
				if !seen[fc.String()] {
					seen[fc.String()] = true
					out = append(out, fc)
				}
				return false // do not look inside
			}
			return true
		})
	}
	for _, it := range p.items {
		visit(it.Expr)
	}
	if p.sel.Having != nil {
		visit(p.sel.Having)
	}
	for _, o := range p.orderBy {
		visit(o.Expr)
	}
	return out
}

// aggregate plans GROUP BY and the aggregate calls.
func (p *selectPlan) aggregate(input exec.Operator, inScope *scope, calls []*parser.FuncCall) (exec.Operator, *postAgg, error) {
	b := &binder{sc: p.sc, scope: inScope}
	post := &postAgg{keys: map[string]int{}, aggs: map[string]int{}, keyCols: map[int]int{}, input: inScope, out: &scope{},
		aliases: map[string]parser.Expr{}}
	var keys []expr.Expr
	var names []string
	for _, g := range p.sel.GroupBy {
		g = p.resolveAlias(g, inScope)
		k, err := b.bind(g)
		if err != nil {
			return nil, nil, err
		}
		if _, dup := post.keys[g.String()]; dup {
			continue
		}
		post.keys[g.String()] = len(keys)
		if c, ok := k.(*expr.Column); ok {
			post.keyCols[c.Index] = len(keys)
		}
		keys = append(keys, k)
		names = append(names, displayName(parser.SelectItem{Expr: g}, k))
	}
	var aggs []*expr.Agg
	for _, fc := range calls {
		a, err := p.bindAggregate(b, fc)
		if err != nil {
			return nil, nil, err
		}
		post.aggs[fc.String()] = len(keys) + len(aggs)
		aggs = append(aggs, a)
		names = append(names, a.String())
	}
	for i, k := range keys {
		post.out.cols = append(post.out.cols, scopeCol{Name: names[i], Type: k.Type()})
	}
	for i, a := range aggs {
		post.out.cols = append(post.out.cols, scopeCol{Name: names[len(keys)+i], Type: a.Type()})
	}
	return exec.NewAggregate(input, keys, aggs, names, p.sc.ec), post, nil
}

func (p *selectPlan) bindAggregate(b *binder, fc *parser.FuncCall) (*expr.Agg, error) {
	name := strings.ToLower(fc.Name)
	if fc.Filter != nil {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, fc)
	}
	var args []expr.Expr
	for _, a := range fc.Args {
		if isStar(a) {
			if name != "count" || len(fc.Args) != 1 {
				return nil, fmt.Errorf("%w: %s(*) is not allowed", ErrInvalid, name)
			}
			continue
		}
		x, err := b.bind(a)
		if err != nil {
			return nil, err
		}
		args = append(args, x)
	}
	if first := strings.HasPrefix(name, "first") || strings.HasPrefix(name, "last"); first && len(args) == 1 {
		// Order by the timestamp key unless told otherwise.
		ts := -1
		for i, c := range b.scope.cols {
			if c.TimeKey {
				if ts >= 0 {
					ts = -2 // several tables: ambiguous
					break
				}
				ts = i
			}
		}
		if ts < 0 {
			return nil, fmt.Errorf("%w: %s needs the column that orders the rows: %s(x, t)", ErrInvalid, name, name)
		}
		args = append(args, b.scope.column(ts))
	}
	a, err := expr.NewAgg(name, args, fc.Distinct, p.sc.ec)
	return a, invalid(err)
}

func isStar(e parser.Expr) bool {
	w, ok := e.(*parser.Wildcard)
	return ok && len(w.Table) == 0
}

// resolveAlias turns a GROUP BY position or select-list alias into the
// expression it stands for.
func (p *selectPlan) resolveAlias(g parser.Expr, in *scope) parser.Expr {
	if lit, ok := g.(*parser.IntLit); ok && lit.Value >= 1 && lit.Value <= uint64(len(p.items)) {
		return p.items[lit.Value-1].Expr
	}
	if ref, ok := g.(*parser.ColumnRef); ok && len(ref.Table) == 0 {
		if _, err := in.resolve(ref); err != nil {
			for _, it := range p.items {
				if !it.Alias.IsZero() && it.Alias.Name == ref.Column.Name {
					return it.Expr
				}
			}
		}
	}
	return g
}

// orderColumn returns the projection column an ORDER BY item sorts by,
// adding a hidden one when the expression is not selected.
func (p *selectPlan) orderColumn(e parser.Expr, b *binder, exprs *[]expr.Expr, names *[]string, visible int) (int, error) {
	if lit, ok := e.(*parser.IntLit); ok {
		if lit.Value < 1 || lit.Value > uint64(visible) {
			return 0, fmt.Errorf("%w: ORDER BY position %d is not in the select list", ErrInvalid, lit.Value)
		}
		return int(lit.Value) - 1, nil
	}
	if ref, ok := e.(*parser.ColumnRef); ok && len(ref.Table) == 0 {
		for i, it := range p.items {
			if !it.Alias.IsZero() && it.Alias.Name == ref.Column.Name {
				return i, nil
			}
		}
	}
	x, err := b.bind(e)
	if err != nil {
		return 0, err
	}
	for i, s := range *exprs {
		if s.String() == x.String() {
			return i, nil
		}
	}
	*exprs = append(*exprs, x)
	*names = append(*names, fmt.Sprintf("__order_%d", len(*exprs)))
	return len(*exprs) - 1, nil
}

func (sc *stmtCtx) nonNegative(e parser.Expr, what string) (int64, error) {
	v, err := sc.constant(e)
	if err != nil {
		return 0, err
	}
	switch {
	case v.Type.ID() == arrow.INT64 && v.I >= 0:
		return v.I, nil
	case v.Type.ID() == arrow.UINT64 && v.U <= math.MaxInt64:
		return int64(v.U), nil
	}
	return 0, fmt.Errorf("%w: %s must be a non-negative integer, got %s", ErrInvalid, what, e)
}

// displayName is the output column name of a select item: its alias, a
// column's name, or the expression's display text.
func displayName(it parser.SelectItem, x expr.Expr) string {
	if !it.Alias.IsZero() {
		return it.Alias.Name
	}
	if c, ok := x.(*expr.Column); ok {
		if _, isRef := it.Expr.(*parser.ColumnRef); isRef {
			return c.Name
		}
	}
	return x.String()
}

// timeRange derives the range of the timestamp column (input column tsIdx)
// that a predicate allows, from its top-level AND terms comparing the
// column with a constant. The predicate is still applied in full.
func timeRange(pred expr.Expr, tsIdx int) engine.TimeRange {
	r := engine.AllTime
	if tsIdx < 0 {
		return r
	}
	var visit func(e expr.Expr)
	visit = func(e expr.Expr) {
		b, ok := e.(*expr.Binary)
		if !ok {
			return
		}
		if b.Op == expr.OpAnd {
			visit(b.L)
			visit(b.R)
			return
		}
		col, lok := b.L.(*expr.Column)
		lit, rok := b.R.(*expr.Literal)
		op := b.Op
		if !lok || !rok {
			col, lok = b.R.(*expr.Column)
			lit, rok = b.L.(*expr.Literal)
			op = flip(op)
		}
		if !lok || !rok || col.Index != tsIdx || lit.Val.Null || lit.Val.Type.ID() != arrow.TIMESTAMP {
			return
		}
		v := lit.Val.I
		next := v + 1
		if v == math.MaxInt64 {
			next = v
		}
		switch op {
		case expr.OpEq:
			r.Start, r.End = max(r.Start, v), min(r.End, next)
		case expr.OpGt:
			r.Start = max(r.Start, next)
		case expr.OpGtEq:
			r.Start = max(r.Start, v)
		case expr.OpLt:
			r.End = min(r.End, v)
		case expr.OpLtEq:
			r.End = min(r.End, next)
		}
	}
	visit(pred)
	if r.End < r.Start {
		r.End = r.Start
	}
	return r
}

func flip(op expr.Op) expr.Op {
	switch op {
	case expr.OpLt:
		return expr.OpGt
	case expr.OpLtEq:
		return expr.OpGtEq
	case expr.OpGt:
		return expr.OpLt
	case expr.OpGtEq:
		return expr.OpLtEq
	}
	return op
}

// parallelScan reads a table in partitions, each with its own goroutine
// applying the filter; the aggregation above, if any, runs partially per
// partition (see exec.Gather).
func (p *selectPlan) parallelScan(t *engine.Table, s *scope, req engine.ScanRequest, where expr.Expr) (*relation, error) {
	n := max(p.sc.x.o.ReadParallelism, 1)
	scans, err := exec.NewScanPartitions(t, req, n)
	if err != nil {
		return nil, err
	}
	ins := make([]exec.Operator, n)
	for i, sc := range scans {
		ins[i] = sc
		if where != nil {
			ins[i] = &exec.Filter{Input: sc, Pred: where, C: p.sc.ec}
		}
	}
	if n == 1 {
		return &relation{op: ins[0], scope: s}, nil
	}
	return &relation{op: &exec.Gather{Ins: ins}, scope: s}, nil
}

// pushdownFilters picks the WHERE terms that may prune SST row groups: a
// column compared with a constant, IN a list of constants, or an OR of
// equalities on one column (InfluxQL's `host = 'a' OR host = 'b'`), on columns
// the table allows (tags and keys of OVERWRITE tables, anything of APPEND
// ones) and types whose statistics order is plain (signed integers,
// timestamps, doubles, strings).
func pushdownFilters(pred expr.Expr, s *scope, t *engine.Table) []engine.Filter {
	var out []engine.Filter
	var visit func(e expr.Expr)
	visit = func(e expr.Expr) {
		switch x := e.(type) {
		case *expr.Binary:
			if x.Op == expr.OpAnd {
				visit(x.L)
				visit(x.R)
				return
			}
			if x.Op == expr.OpOr {
				if col, vals, ok := equalities(x); ok && !s.cols[col.Index].TimeKey && t.PushdownSafe(s.cols[col.Index].Name) {
					out = append(out, engine.Filter{Column: s.cols[col.Index].Name, Op: engine.FilterIn, Values: vals})
				}
				return
			}
			col, lok := x.L.(*expr.Column)
			lit, rok := x.R.(*expr.Literal)
			op := x.Op
			if !lok || !rok {
				col, lok = x.R.(*expr.Column)
				lit, rok = x.L.(*expr.Literal)
				op = flip(op)
			}
			fop, ok := map[expr.Op]engine.FilterOp{expr.OpEq: engine.FilterEq, expr.OpLt: engine.FilterLt,
				expr.OpLtEq: engine.FilterLtEq, expr.OpGt: engine.FilterGt, expr.OpGtEq: engine.FilterGtEq}[op]
			if !lok || !rok || !ok {
				return
			}
			if s.cols[col.Index].TimeKey {
				return // the scan's time range covers it
			}
			if v, ok := filterValue(lit.Val, col.Type()); ok && t.PushdownSafe(s.cols[col.Index].Name) {
				out = append(out, engine.Filter{Column: s.cols[col.Index].Name, Op: fop, Values: []any{v}})
			}
		case *expr.InList:
			col, ok := x.X.(*expr.Column)
			if !ok || x.Not || !t.PushdownSafe(s.cols[col.Index].Name) {
				return
			}
			var vals []any
			for _, v := range x.List {
				fv, ok := filterValue(v, col.Type())
				if !ok {
					return
				}
				vals = append(vals, fv)
			}
			if len(vals) > 0 {
				out = append(out, engine.Filter{Column: s.cols[col.Index].Name, Op: engine.FilterIn, Values: vals})
			}
		}
	}
	visit(pred)
	return out
}

// equalities returns the column and the constants of an OR tree whose
// every leaf is `column = constant` or `column IN (constants)` on one and
// the same column; ok is false for any other shape.
func equalities(e expr.Expr) (col *expr.Column, vals []any, ok bool) {
	switch x := e.(type) {
	case *expr.Binary:
		if x.Op == expr.OpOr {
			lc, lv, lok := equalities(x.L)
			rc, rv, rok := equalities(x.R)
			if !lok || !rok || lc.Index != rc.Index {
				return nil, nil, false
			}
			return lc, append(lv, rv...), true
		}
		if x.Op != expr.OpEq {
			return nil, nil, false
		}
		c, cok := x.L.(*expr.Column)
		lit, lok := x.R.(*expr.Literal)
		if !cok || !lok {
			c, cok = x.R.(*expr.Column)
			lit, lok = x.L.(*expr.Literal)
		}
		if !cok || !lok {
			return nil, nil, false
		}
		v, ok := filterValue(lit.Val, c.Type())
		if !ok {
			return nil, nil, false
		}
		return c, []any{v}, true
	case *expr.InList:
		c, cok := x.X.(*expr.Column)
		if !cok || x.Not || len(x.List) == 0 {
			return nil, nil, false
		}
		for _, l := range x.List {
			v, ok := filterValue(l, c.Type())
			if !ok {
				return nil, nil, false
			}
			vals = append(vals, v)
		}
		return c, vals, true
	}
	return nil, nil, false
}

// filterValue converts a constant for a pruning filter on a column of type
// t.
func filterValue(v expr.Scalar, t arrow.DataType) (any, bool) {
	if v.Null || !arrow.TypeEqual(v.Type, t) {
		return nil, false
	}
	switch t.ID() {
	case arrow.STRING:
		return v.S, true
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.TIMESTAMP:
		return v.I, true
	case arrow.FLOAT64:
		return v.F, true
	}
	return nil, false
}
