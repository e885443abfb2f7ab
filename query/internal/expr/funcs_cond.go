package expr

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

func init() {
	// coalesce returns its first non-NULL argument.
	register(funcDef{1, -1, func(name string, args []Expr, c *Ctx) (Expr, error) {
		t := arrow.DataType(arrow.Null)
		for _, a := range args {
			ct, err := CommonType(t, a.Type())
			if err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
			t = ct
		}
		return rowFunc(name, args, t, false, func(_ *Ctx, v []Scalar) (Scalar, error) {
			for _, s := range v {
				if !s.Null {
					return s, nil
				}
			}
			return NullOf(t), nil
		}), nil
	}}, "coalesce", "ifnull", "nvl")
	// nullif(a, b) is NULL when a = b, else a.
	register(funcDef{2, 2, func(name string, args []Expr, c *Ctx) (Expr, error) {
		eq, err := NewBinary(OpEq, args[0], args[1])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		eqBin := eq.(*Binary)
		return rowFunc(name, args, args[0].Type(), false, func(_ *Ctx, v []Scalar) (Scalar, error) {
			if v[0].Null || v[1].Null {
				return v[0], nil
			}
			if compareScalarsAs(eqBin.cls, v[0], v[1]) == 0 {
				return NullOf(args[0].Type()), nil
			}
			return v[0], nil
		}), nil
	}}, "nullif")
	// arrow_typeof names the Arrow type of its argument.
	register(funcDef{1, 1, func(name string, args []Expr, c *Ctx) (Expr, error) {
		return &Literal{Val: String(args[0].Type().String())}, nil
	}}, "arrow_typeof")
}

// compareScalarsAs compares two values in a comparison class.
func compareScalarsAs(cls class, a, b Scalar) int {
	switch cls {
	case classFloat:
		x, _ := a.Cast(arrow.PrimitiveTypes.Float64, nil)
		y, _ := b.Cast(arrow.PrimitiveTypes.Float64, nil)
		return cmpOrdered(x.F, y.F)
	case classUint:
		return cmpOrdered(a.U, b.U)
	}
	return compareScalars(a, b)
}
