package expr

// Walk calls fn for x and every expression inside it.
func Walk(x Expr, fn func(Expr)) {
	if x == nil {
		return
	}
	fn(x)
	for _, c := range children(x) {
		Walk(c, fn)
	}
}

func children(x Expr) []Expr {
	switch e := x.(type) {
	case *Alias:
		return []Expr{e.X}
	case *Binary:
		return []Expr{e.L, e.R}
	case *Not:
		return []Expr{e.X}
	case *Neg:
		return []Expr{e.X}
	case *IsNull:
		return []Expr{e.X}
	case *InList:
		return []Expr{e.X}
	case *Cast:
		return []Expr{e.X}
	case *Distinct:
		return []Expr{e.Eq.L, e.Eq.R}
	case *Like:
		return []Expr{e.X, e.Pattern}
	case *Case:
		out := append([]Expr{}, e.Whens...)
		out = append(out, e.Thens...)
		if e.Operand != nil {
			out = append(out, e.Operand)
		}
		if e.Else != nil {
			out = append(out, e.Else)
		}
		return out
	case *Func:
		return e.Args
	}
	return nil
}

// HasColumns reports whether x reads any input column.
func HasColumns(x Expr) bool {
	found := false
	Walk(x, func(e Expr) {
		if _, ok := e.(*Column); ok {
			found = true
		}
	})
	return found
}
