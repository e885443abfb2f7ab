package query

import "github.com/horaego/horaedb/query/parser"

// walkExpr calls fn for e and every expression inside it (not descending
// into subqueries).
func walkExpr(e parser.Expr, fn func(parser.Expr)) {
	walkExprPrune(e, func(x parser.Expr) bool { fn(x); return true })
}

// walkExprPrune is walkExpr where fn returning false skips the children.
func walkExprPrune(e parser.Expr, fn func(parser.Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	var kids []parser.Expr
	switch e := e.(type) {
	case *parser.UnaryExpr:
		kids = []parser.Expr{e.X}
	case *parser.BinaryExpr:
		kids = []parser.Expr{e.Left, e.Right}
	case *parser.IsExpr:
		kids = []parser.Expr{e.X}
	case *parser.LikeExpr:
		kids = []parser.Expr{e.X, e.Pattern, e.Escape}
	case *parser.InListExpr:
		kids = append([]parser.Expr{e.X}, e.List...)
	case *parser.InSubqueryExpr:
		kids = []parser.Expr{e.X}
	case *parser.BetweenExpr:
		kids = []parser.Expr{e.X, e.Low, e.High}
	case *parser.CaseExpr:
		kids = []parser.Expr{e.Operand, e.Else}
		for _, w := range e.Whens {
			kids = append(kids, w.Cond, w.Result)
		}
	case *parser.CastExpr:
		kids = []parser.Expr{e.X}
	case *parser.ExtractExpr:
		kids = []parser.Expr{e.X}
	case *parser.IntervalExpr:
		kids = []parser.Expr{e.Value}
	case *parser.FuncCall:
		kids = append(kids, e.Args...)
		kids = append(kids, e.Filter)
		if e.Over != nil {
			kids = append(kids, e.Over.PartitionBy...)
			for _, o := range e.Over.OrderBy {
				kids = append(kids, o.Expr)
			}
		}
	}
	for _, k := range kids {
		if k != nil {
			walkExprPrune(k, fn)
		}
	}
}
