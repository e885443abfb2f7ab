package expr

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Func is a call of a scalar function.
type Func struct {
	Name string
	Args []Expr
	typ  arrow.DataType
	eval func(c *Ctx, args []arrow.Array, n int) (arrow.Array, error)
}

// Type implements Expr.
func (e *Func) Type() arrow.DataType { return e.typ }

func (e *Func) String() string {
	parts := make([]string, len(e.Args))
	for i, a := range e.Args {
		parts[i] = a.String()
	}
	return e.Name + "(" + strings.Join(parts, ",") + ")"
}

// Eval implements Expr.
func (e *Func) Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	args, err := evalArgs(c, rec, e.Args...)
	if err != nil {
		return nil, err
	}
	defer release(args...)
	return e.eval(c, args, int(rec.NumRows()))
}

// ErrUnknownFunction is returned for a function we do not have.
var ErrUnknownFunction = fmt.Errorf("unknown function")

// funcDef describes a scalar function: its arity and how to bind it.
type funcDef struct {
	minArgs, maxArgs int // maxArgs < 0: any number
	bind             func(name string, args []Expr, c *Ctx) (Expr, error)
}

// functions is the registry of scalar functions, by lowercase name. It is
// filled by the files funcs_*.go.
var functions = map[string]funcDef{}

func register(def funcDef, names ...string) {
	for _, n := range names {
		functions[n] = def
	}
}

// NewFunc binds a scalar function call; name is lowercase.
func NewFunc(name string, args []Expr, c *Ctx) (Expr, error) {
	def, ok := functions[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownFunction, name)
	}
	if len(args) < def.minArgs || (def.maxArgs >= 0 && len(args) > def.maxArgs) {
		switch {
		case def.minArgs == def.maxArgs:
			return nil, fmt.Errorf("%s takes %d argument(s), got %d", name, def.minArgs, len(args))
		case def.maxArgs < 0:
			return nil, fmt.Errorf("%s takes at least %d argument(s), got %d", name, def.minArgs, len(args))
		}
		return nil, fmt.Errorf("%s takes %d to %d arguments, got %d", name, def.minArgs, def.maxArgs, len(args))
	}
	return def.bind(name, args, c)
}

// rowFunc builds a function evaluated row by row on scalars: f gets the
// row's argument values and returns the result (Null for NULL). With
// strict, a NULL argument gives NULL without calling f.
func rowFunc(name string, args []Expr, typ arrow.DataType, strict bool, f func(c *Ctx, vals []Scalar) (Scalar, error)) *Func {
	return &Func{Name: name, Args: args, typ: typ, eval: func(c *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		b := array.NewBuilder(c.Mem, typ)
		defer b.Release()
		b.Reserve(n)
		vals := make([]Scalar, len(a))
		for r := 0; r < n; r++ {
			null := false
			for i, col := range a {
				vals[i] = ScalarAt(col, r)
				null = null || vals[i].Null
			}
			if strict && null {
				b.AppendNull()
				continue
			}
			v, err := f(c, vals)
			if err != nil {
				return nil, err
			}
			if v.Null || typ.ID() == arrow.NULL {
				b.AppendNull()
				continue
			}
			if !arrow.TypeEqual(v.Type, typ) {
				if v, err = v.Cast(typ, c.TimeZone); err != nil {
					return nil, err
				}
			}
			v.Append(b)
		}
		return b.NewArray(), nil
	}}
}

func init() {
	register(funcDef{0, 0, func(name string, args []Expr, c *Ctx) (Expr, error) {
		ms := c.Now.UnixMilli()
		return &Func{Name: name, typ: TimestampType, eval: func(c *Ctx, _ []arrow.Array, n int) (arrow.Array, error) {
			return Timestamp(ms).Repeat(c.Mem, n)
		}}, nil
	}}, "now", "current_timestamp")
	register(funcDef{2, 5, func(_ string, args []Expr, c *Ctx) (Expr, error) { return newTimeBucket(args, c) }}, "time_bucket")
}

// constString returns the value of a constant string argument.
func constString(e Expr) (string, bool) {
	if l, ok := e.(*Literal); ok && !l.Val.Null && classOf(l.Val.Type) == classString {
		return l.Val.S, true
	}
	return "", false
}

// bucketer maps a millisecond timestamp to the start of its bucket.
type bucketer func(ms int64) int64

// newTimeBucket binds time_bucket(ts, period [, input_format [, timezone
// [, output_format]]]). Period is ISO 8601: PT<n>S, PT<n>M, PT<n>H, P<n>D,
// P<n>W, P<n>M, P<n>Y. Day and longer buckets start at midnight in the
// given zone, or the server's default zone (upstream fixed them to UTC+8).
func newTimeBucket(args []Expr, c *Ctx) (Expr, error) {
	if len(args) < 2 || len(args) > 5 {
		return nil, fmt.Errorf("time_bucket takes 2 to 5 arguments, got %d", len(args))
	}
	if args[0].Type().ID() != arrow.TIMESTAMP {
		return nil, fmt.Errorf("time_bucket: first argument must be a timestamp, got %s", typeDisplayName(args[0].Type()))
	}
	period, ok := constString(args[1])
	if !ok {
		return nil, fmt.Errorf("time_bucket: period must be a constant string such as 'PT1M'")
	}
	loc := c.TimeZone
	if len(args) >= 4 {
		tz, ok := constString(args[3])
		if !ok {
			return nil, fmt.Errorf("time_bucket: time zone must be a constant string such as 'UTC' or '+08:00'")
		}
		l, err := LoadZone(tz)
		if err != nil {
			return nil, fmt.Errorf("time_bucket: %v", err)
		}
		loc = l
	}
	b, err := parseBucket(period, loc)
	if err != nil {
		return nil, fmt.Errorf("time_bucket: %v", err)
	}
	return &Func{Name: "time_bucket", Args: args, typ: TimestampType, eval: func(c *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		in := ints(a[0])
		out := make([]int64, n)
		for i, v := range in {
			out[i] = b(v)
		}
		return newTimestamp(c, out, validAnd(n, a[0])), nil
	}}, nil
}

// LoadZone resolves "UTC", an IANA name or a fixed offset like "+08:00".
func LoadZone(tz string) (*time.Location, error) {
	if len(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && tz[3] == ':' {
		h, err1 := strconv.Atoi(tz[1:3])
		m, err2 := strconv.Atoi(tz[4:6])
		if err1 == nil && err2 == nil && h <= 14 && m < 60 {
			off := h*3600 + m*60
			if tz[0] == '-' {
				off = -off
			}
			return time.FixedZone(tz, off), nil
		}
	}
	l, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", tz)
	}
	return l, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func parseBucket(period string, loc *time.Location) (bucketer, error) {
	p := strings.ToUpper(period)
	bad := fmt.Errorf("invalid period %q (want PT<n>S, PT<n>M, PT<n>H, P<n>D, P<n>W, P<n>M or P<n>Y)", period)
	if len(p) < 3 || p[0] != 'P' {
		return nil, bad
	}
	timePart := p[1] == 'T'
	body := p[1:]
	if timePart {
		body = p[2:]
	}
	if len(body) < 2 {
		return nil, bad
	}
	n, err := strconv.ParseUint(body[:len(body)-1], 10, 16)
	if err != nil || n == 0 {
		return nil, bad
	}
	unit := body[len(body)-1]
	if timePart {
		var ms int64
		switch unit {
		case 'S':
			ms = 1000
		case 'M':
			ms = 60_000
		case 'H':
			ms = 3_600_000
		default:
			return nil, bad
		}
		step := ms * int64(n)
		return func(v int64) int64 { return floorDiv(v, step) * step }, nil
	}
	switch unit {
	case 'D':
		return func(v int64) int64 {
			t := time.UnixMilli(v).In(loc)
			_, off := t.Zone()
			days := floorDiv(v+int64(off)*1000, 86_400_000)
			days -= ((days % int64(n)) + int64(n)) % int64(n)
			y, m, d := time.UnixMilli(days * 86_400_000).UTC().Date()
			return time.Date(y, m, d, 0, 0, 0, 0, loc).UnixMilli()
		}, nil
	case 'W':
		if n != 1 {
			return nil, fmt.Errorf("invalid period %q: weeks only support P1W", period)
		}
		return func(v int64) int64 {
			t := time.UnixMilli(v).In(loc)
			wd := (int(t.Weekday()) + 6) % 7 // days since Monday
			y, m, d := t.AddDate(0, 0, -wd).Date()
			return time.Date(y, m, d, 0, 0, 0, 0, loc).UnixMilli()
		}, nil
	case 'M':
		return func(v int64) int64 {
			t := time.UnixMilli(v).In(loc)
			months := int64(t.Year())*12 + int64(t.Month()-1)
			months -= ((months % int64(n)) + int64(n)) % int64(n)
			return time.Date(int(months/12), time.Month(months%12+1), 1, 0, 0, 0, 0, loc).UnixMilli()
		}, nil
	case 'Y':
		return func(v int64) int64 {
			y := int64(time.UnixMilli(v).In(loc).Year())
			y -= ((y % int64(n)) + int64(n)) % int64(n)
			return time.Date(int(y), 1, 1, 0, 0, 0, 0, loc).UnixMilli()
		}, nil
	}
	return nil, bad
}
