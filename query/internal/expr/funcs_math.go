package expr

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
)

// The math functions follow DataFusion: they take numbers and return
// Float64, except abs, which keeps its argument's kind.

func numericArgs(name string, args []Expr) error {
	for _, a := range args {
		if t := a.Type(); !IsNumeric(t) && t.ID() != arrow.NULL {
			return fmt.Errorf("%s needs numbers, got %s", name, typeDisplayName(t))
		}
	}
	return nil
}

func unaryMath(f func(float64) float64) funcDef {
	return funcDef{1, 1, func(name string, args []Expr, c *Ctx) (Expr, error) {
		if err := numericArgs(name, args); err != nil {
			return nil, err
		}
		return &Func{Name: name, Args: args, typ: arrow.PrimitiveTypes.Float64, eval: func(c *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			if a[0].DataType().ID() == arrow.NULL {
				return NullOf(arrow.PrimitiveTypes.Float64).Repeat(c.Mem, n)
			}
			in := floats(a[0])
			out := make([]float64, n)
			for i, v := range in {
				out[i] = f(v)
			}
			return newFloat64(c, out, validAnd(n, a[0])), nil
		}}, nil
	}}
}

func binaryMath(f func(x, y float64) float64) funcDef {
	return funcDef{2, 2, func(name string, args []Expr, c *Ctx) (Expr, error) {
		if err := numericArgs(name, args); err != nil {
			return nil, err
		}
		return rowFunc(name, args, arrow.PrimitiveTypes.Float64, true, func(_ *Ctx, v []Scalar) (Scalar, error) {
			x, _ := v[0].Cast(arrow.PrimitiveTypes.Float64, nil)
			y, _ := v[1].Cast(arrow.PrimitiveTypes.Float64, nil)
			return Float64(f(x.F, y.F)), nil
		}), nil
	}}
}

func roundTo(x float64, digits int64) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func init() {
	register(funcDef{1, 1, func(name string, args []Expr, c *Ctx) (Expr, error) {
		if err := numericArgs(name, args); err != nil {
			return nil, err
		}
		t := args[0].Type()
		if t.ID() == arrow.NULL {
			t = arrow.PrimitiveTypes.Float64
		}
		return rowFunc(name, args, t, true, func(_ *Ctx, v []Scalar) (Scalar, error) {
			s := v[0]
			if s.I < 0 {
				if s.I == math.MinInt64 {
					return Scalar{}, Errorf("abs(%d) overflows", s.I)
				}
				s.I = -s.I
			}
			s.F = math.Abs(s.F)
			return s, nil
		}), nil
	}}, "abs")
	register(unaryMath(math.Ceil), "ceil", "ceiling")
	register(unaryMath(math.Floor), "floor")
	register(unaryMath(math.Trunc), "trunc")
	register(unaryMath(math.Sqrt), "sqrt")
	register(unaryMath(math.Cbrt), "cbrt")
	register(unaryMath(math.Exp), "exp")
	register(unaryMath(math.Log), "ln")
	register(unaryMath(math.Log10), "log10")
	register(unaryMath(math.Log2), "log2")
	register(unaryMath(math.Sin), "sin")
	register(unaryMath(math.Cos), "cos")
	register(unaryMath(math.Tan), "tan")
	register(unaryMath(math.Asin), "asin")
	register(unaryMath(math.Acos), "acos")
	register(unaryMath(math.Atan), "atan")
	register(unaryMath(sign), "sign", "signum")
	register(unaryMath(func(x float64) float64 { return x * 180 / math.Pi }), "degrees")
	register(unaryMath(func(x float64) float64 { return x * math.Pi / 180 }), "radians")
	register(binaryMath(math.Pow), "power", "pow")
	register(binaryMath(math.Atan2), "atan2")
	register(funcDef{1, 2, func(name string, args []Expr, c *Ctx) (Expr, error) {
		if len(args) == 1 {
			return unaryMath(math.Log10).bind(name, args, c)
		}
		return binaryMath(func(base, x float64) float64 { return math.Log(x) / math.Log(base) }).bind(name, args, c)
	}}, "log")
	register(funcDef{1, 2, func(name string, args []Expr, c *Ctx) (Expr, error) {
		if err := numericArgs(name, args); err != nil {
			return nil, err
		}
		return rowFunc(name, args, arrow.PrimitiveTypes.Float64, true, func(_ *Ctx, v []Scalar) (Scalar, error) {
			x, _ := v[0].Cast(arrow.PrimitiveTypes.Float64, nil)
			digits := int64(0)
			if len(v) == 2 {
				d, err := v[1].Cast(arrow.PrimitiveTypes.Int64, nil)
				if err != nil {
					return Scalar{}, Errorf("round: digits must be an integer")
				}
				digits = d.I
			}
			return Float64(roundTo(x.F, digits)), nil
		}), nil
	}}, "round")
	register(funcDef{0, 0, func(name string, args []Expr, c *Ctx) (Expr, error) {
		return &Literal{Val: Float64(math.Pi)}, nil
	}}, "pi")
	register(funcDef{1, 1, func(name string, args []Expr, c *Ctx) (Expr, error) {
		if err := numericArgs(name, args); err != nil {
			return nil, err
		}
		return rowFunc(name, args, arrow.FixedWidthTypes.Boolean, true, func(_ *Ctx, v []Scalar) (Scalar, error) {
			f, _ := v[0].Cast(arrow.PrimitiveTypes.Float64, nil)
			return Bool(math.IsNaN(f.F)), nil
		}), nil
	}}, "isnan")
}
