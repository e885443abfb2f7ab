package expr

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

func stringArgs(name string, args []Expr, which ...int) error {
	for _, i := range which {
		if i >= len(args) {
			continue
		}
		if t := args[i].Type(); t.ID() != arrow.STRING && t.ID() != arrow.NULL {
			return fmt.Errorf("%s needs a string as argument %d, got %s", name, i+1, typeDisplayName(t))
		}
	}
	return nil
}

func intArgs(name string, args []Expr, which ...int) error {
	for _, i := range which {
		if i >= len(args) {
			continue
		}
		if t := args[i].Type(); classOf(t) != classInt && classOf(t) != classUint && t.ID() != arrow.NULL {
			return fmt.Errorf("%s needs an integer as argument %d, got %s", name, i+1, typeDisplayName(t))
		}
	}
	return nil
}

// strFunc is a function of strings (and integers) returning typ.
func strFunc(min, max int, typ arrow.DataType, strs []int, ints []int, f func(v []Scalar) (Scalar, error)) funcDef {
	return funcDef{min, max, func(name string, args []Expr, c *Ctx) (Expr, error) {
		if err := stringArgs(name, args, strs...); err != nil {
			return nil, err
		}
		if err := intArgs(name, args, ints...); err != nil {
			return nil, err
		}
		return rowFunc(name, args, typ, true, func(_ *Ctx, v []Scalar) (Scalar, error) { return f(v) }), nil
	}}
}

var utf8Type = arrow.BinaryTypes.String

func str(s string) (Scalar, error) { return String(s), nil }

// substr is 1-based like SQL; a start before 1 eats into the length.
func substr(s string, start, length int64, hasLength bool) string {
	r := []rune(s)
	from := start - 1
	to := int64(len(r))
	if hasLength {
		if length < 0 {
			return ""
		}
		to = from + length
	}
	from = max(from, 0)
	to = min(to, int64(len(r)))
	if from >= to {
		return ""
	}
	return string(r[from:to])
}

// maxStringResult bounds the strings functions build (16 Mi characters).
const maxStringResult = 1 << 24

func pad(s string, n int64, fill string, left bool) (string, error) {
	if n > maxStringResult {
		return "", Errorf("padding to %d characters is more than the limit of %d", n, maxStringResult)
	}
	return padTo(s, n, fill, left), nil
}

func padTo(s string, n int64, fill string, left bool) string {
	r := []rune(s)
	if n <= int64(len(r)) {
		return string(r[:max(n, 0)])
	}
	if fill == "" {
		return s
	}
	need := int(n) - len(r)
	var p []rune
	for f := []rune(fill); len(p) < need; {
		p = append(p, f...)
	}
	p = p[:need]
	if left {
		return string(p) + s
	}
	return s + string(p)
}

func init() {
	register(strFunc(1, 1, utf8Type, []int{0}, nil, func(v []Scalar) (Scalar, error) { return str(strings.ToLower(v[0].S)) }), "lower")
	register(strFunc(1, 1, utf8Type, []int{0}, nil, func(v []Scalar) (Scalar, error) { return str(strings.ToUpper(v[0].S)) }), "upper")
	register(strFunc(1, 1, arrow.PrimitiveTypes.Int64, []int{0}, nil, func(v []Scalar) (Scalar, error) {
		return Int64(int64(utf8.RuneCountInString(v[0].S))), nil
	}), "length", "char_length", "character_length")
	register(strFunc(1, 1, arrow.PrimitiveTypes.Int64, []int{0}, nil, func(v []Scalar) (Scalar, error) {
		return Int64(int64(len(v[0].S))), nil
	}), "octet_length")
	register(strFunc(1, 1, utf8Type, []int{0}, nil, func(v []Scalar) (Scalar, error) {
		r := []rune(v[0].S)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return str(string(r))
	}), "reverse")
	register(strFunc(2, 3, utf8Type, []int{0}, []int{1, 2}, func(v []Scalar) (Scalar, error) {
		if len(v) == 3 {
			return str(substr(v[0].S, v[1].I, v[2].I, true))
		}
		return str(substr(v[0].S, v[1].I, 0, false))
	}), "substr", "substring")
	register(strFunc(2, 2, utf8Type, []int{0}, []int{1}, func(v []Scalar) (Scalar, error) {
		n := v[1].I
		r := []rune(v[0].S)
		if n < 0 {
			n = max(int64(len(r))+n, 0)
		}
		return str(string(r[:min(n, int64(len(r)))]))
	}), "left")
	register(strFunc(2, 2, utf8Type, []int{0}, []int{1}, func(v []Scalar) (Scalar, error) {
		n := v[1].I
		r := []rune(v[0].S)
		if n < 0 {
			n = max(int64(len(r))+n, 0)
		}
		return str(string(r[int64(len(r))-min(n, int64(len(r))):]))
	}), "right")
	register(strFunc(2, 3, utf8Type, []int{0, 2}, []int{1}, func(v []Scalar) (Scalar, error) {
		fill := " "
		if len(v) == 3 {
			fill = v[2].S
		}
		p, err := pad(v[0].S, v[1].I, fill, true)
		if err != nil {
			return Scalar{}, err
		}
		return str(p)
	}), "lpad")
	register(strFunc(2, 3, utf8Type, []int{0, 2}, []int{1}, func(v []Scalar) (Scalar, error) {
		fill := " "
		if len(v) == 3 {
			fill = v[2].S
		}
		p, err := pad(v[0].S, v[1].I, fill, false)
		if err != nil {
			return Scalar{}, err
		}
		return str(p)
	}), "rpad")
	trim := func(f func(s, cut string) string) funcDef {
		return strFunc(1, 2, utf8Type, []int{0, 1}, nil, func(v []Scalar) (Scalar, error) {
			cut := " "
			if len(v) == 2 {
				cut = v[1].S
			}
			return str(f(v[0].S, cut))
		})
	}
	register(trim(strings.Trim), "trim", "btrim")
	register(trim(strings.TrimLeft), "ltrim")
	register(trim(strings.TrimRight), "rtrim")
	register(strFunc(3, 3, utf8Type, []int{0, 1, 2}, nil, func(v []Scalar) (Scalar, error) {
		return str(strings.ReplaceAll(v[0].S, v[1].S, v[2].S))
	}), "replace")
	register(strFunc(2, 2, utf8Type, []int{0}, []int{1}, func(v []Scalar) (Scalar, error) {
		if v[1].I < 0 || v[1].I > maxStringResult || v[1].I*int64(len(v[0].S)) > maxStringResult {
			return Scalar{}, Errorf("repeat: count %d out of range", v[1].I)
		}
		return str(strings.Repeat(v[0].S, int(v[1].I)))
	}), "repeat")
	register(strFunc(3, 3, utf8Type, []int{0, 1}, []int{2}, func(v []Scalar) (Scalar, error) {
		parts := strings.Split(v[0].S, v[1].S)
		i := v[2].I
		if i < 1 || i > int64(len(parts)) {
			return str("")
		}
		return str(parts[i-1])
	}), "split_part")
	register(strFunc(2, 2, arrow.FixedWidthTypes.Boolean, []int{0, 1}, nil, func(v []Scalar) (Scalar, error) {
		return Bool(strings.HasPrefix(v[0].S, v[1].S)), nil
	}), "starts_with")
	register(strFunc(2, 2, arrow.FixedWidthTypes.Boolean, []int{0, 1}, nil, func(v []Scalar) (Scalar, error) {
		return Bool(strings.HasSuffix(v[0].S, v[1].S)), nil
	}), "ends_with")
	register(strFunc(2, 2, arrow.PrimitiveTypes.Int64, []int{0, 1}, nil, func(v []Scalar) (Scalar, error) {
		i := strings.Index(v[0].S, v[1].S)
		if i < 0 {
			return Int64(0), nil
		}
		return Int64(int64(utf8.RuneCountInString(v[0].S[:i])) + 1), nil
	}), "strpos", "instr")
	register(strFunc(1, 1, utf8Type, []int{0}, nil, func(v []Scalar) (Scalar, error) {
		prev := ' '
		out := []rune(v[0].S)
		for i, r := range out {
			if unicode.IsLetter(prev) || unicode.IsDigit(prev) {
				out[i] = unicode.ToLower(r)
			} else {
				out[i] = unicode.ToUpper(r)
			}
			prev = r
		}
		return str(string(out))
	}), "initcap")
	register(strFunc(1, 1, arrow.PrimitiveTypes.Int32, []int{0}, nil, func(v []Scalar) (Scalar, error) {
		r, _ := utf8.DecodeRuneInString(v[0].S)
		if v[0].S == "" {
			r = 0
		}
		return Scalar{Type: arrow.PrimitiveTypes.Int32, I: int64(r)}, nil
	}), "ascii")
	register(strFunc(1, 1, utf8Type, nil, []int{0}, func(v []Scalar) (Scalar, error) {
		if v[0].I < 0 || v[0].I > unicode.MaxRune {
			return Scalar{}, Errorf("chr(%d): not a character", v[0].I)
		}
		return str(string(rune(v[0].I)))
	}), "chr")
	register(strFunc(1, 1, utf8Type, nil, []int{0}, func(v []Scalar) (Scalar, error) {
		if v[0].Type.ID() == arrow.UINT64 {
			return str(fmt.Sprintf("%x", v[0].U))
		}
		return str(fmt.Sprintf("%x", uint64(v[0].I)))
	}), "to_hex")
	// concat skips NULLs, as DataFusion's does; concat_ws joins with a separator.
	register(funcDef{1, -1, func(name string, args []Expr, c *Ctx) (Expr, error) {
		return rowFunc(name, args, utf8Type, false, func(_ *Ctx, v []Scalar) (Scalar, error) {
			var b strings.Builder
			for _, s := range v {
				if !s.Null {
					x, _ := s.Cast(utf8Type, nil)
					b.WriteString(x.S)
				}
			}
			return str(b.String())
		}), nil
	}}, "concat")
	register(funcDef{2, -1, func(name string, args []Expr, c *Ctx) (Expr, error) {
		if err := stringArgs(name, args, 0); err != nil {
			return nil, err
		}
		return rowFunc(name, args, utf8Type, false, func(_ *Ctx, v []Scalar) (Scalar, error) {
			if v[0].Null {
				return NullOf(utf8Type), nil
			}
			var parts []string
			for _, s := range v[1:] {
				if !s.Null {
					x, _ := s.Cast(utf8Type, nil)
					parts = append(parts, x.S)
				}
			}
			return str(strings.Join(parts, v[0].S))
		}), nil
	}}, "concat_ws")
}
