package expr

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Agg is an aggregate function call.
type Agg struct {
	Name     string // canonical lowercase name
	Args     []Expr // none for count(*)
	Distinct bool
	typ      arrow.DataType
	param    float64 // approx_percentile_cont's percentile
	display  string
}

// aggregate names and their canonical names.
var aggregates = map[string]string{
	"count": "count", "sum": "sum", "avg": "avg", "mean": "avg", "min": "min", "max": "max",
	"first": "first", "first_value": "first", "last": "last", "last_value": "last",
	"stddev": "stddev", "stddev_samp": "stddev", "stddev_pop": "stddev_pop",
	"variance": "variance", "var": "variance", "var_samp": "variance", "var_pop": "var_pop",
	"approx_distinct": "approx_distinct", "thetasketch_distinct": "thetasketch_distinct",
	"approx_percentile_cont": "approx_percentile_cont", "median": "median",
}

// IsAggregate reports whether name (lowercase) is an aggregate function.
func IsAggregate(name string) bool {
	_, ok := aggregates[name]
	return ok
}

// NewAgg type-checks an aggregate call; args is empty for count(*). first
// and last take the value and the expression that orders the rows (the
// planner passes the timestamp key when the query gives none).
func NewAgg(name string, args []Expr, distinct bool, c *Ctx) (*Agg, error) {
	canon, ok := aggregates[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownFunction, name)
	}
	a := &Agg{Name: canon, Args: args, Distinct: distinct}
	want := 1
	switch canon {
	case "count":
		if len(args) == 0 {
			want = 0
		}
	case "first", "last", "approx_percentile_cont":
		want = 2
	}
	if len(args) != want {
		return nil, fmt.Errorf("%s takes %d argument(s), got %d", name, want, len(args))
	}
	if distinct && want != 1 {
		return nil, fmt.Errorf("%s(DISTINCT ...) is not supported", name)
	}
	numeric := func() error {
		if t := args[0].Type(); !IsNumeric(t) && t.ID() != arrow.NULL {
			return fmt.Errorf("%s of %s is not supported", name, typeDisplayName(t))
		}
		return nil
	}
	switch canon {
	case "count":
		a.typ = arrow.PrimitiveTypes.Int64
	case "sum":
		if err := numeric(); err != nil {
			return nil, err
		}
		switch classOf(args[0].Type()) {
		case classFloat:
			a.typ = arrow.PrimitiveTypes.Float64
		case classUint:
			a.typ = arrow.PrimitiveTypes.Uint64
		default:
			a.typ = arrow.PrimitiveTypes.Int64
		}
	case "avg", "stddev", "stddev_pop", "variance", "var_pop", "median":
		if err := numeric(); err != nil {
			return nil, err
		}
		a.typ = arrow.PrimitiveTypes.Float64
	case "approx_percentile_cont":
		if err := numeric(); err != nil {
			return nil, err
		}
		p, err := constFloat(args[1], c)
		if err != nil || p < 0 || p > 1 {
			return nil, fmt.Errorf("approx_percentile_cont: the percentile must be a constant between 0 and 1")
		}
		a.param, a.Args = p, args[:1]
		a.typ = arrow.PrimitiveTypes.Float64
	case "min", "max", "first", "last":
		if classOf(args[0].Type()) == classNull && args[0].Type().ID() != arrow.NULL {
			return nil, fmt.Errorf("%s of %s is not supported", name, typeDisplayName(args[0].Type()))
		}
		a.typ = args[0].Type()
	case "approx_distinct", "thetasketch_distinct":
		a.typ = arrow.PrimitiveTypes.Uint64
	}
	a.display = a.format(name)
	return a, nil
}

func constFloat(e Expr, c *Ctx) (float64, error) {
	l, ok := e.(*Literal)
	if !ok {
		return 0, fmt.Errorf("not a constant")
	}
	v, err := l.Val.Cast(arrow.PrimitiveTypes.Float64, c.TimeZone)
	return v.F, err
}

func (a *Agg) format(name string) string {
	var parts []string
	for _, x := range a.Args {
		parts = append(parts, x.String())
	}
	if a.Name == "first" || a.Name == "last" {
		parts = parts[:1] // the ordering column is implied
	}
	arg := strings.Join(parts, ",")
	if len(a.Args) == 0 {
		arg = "*"
	}
	if a.Name == "approx_percentile_cont" {
		arg += "," + Float64(a.param).Display()
	}
	if a.Distinct {
		arg = "DISTINCT " + arg
	}
	return strings.ToUpper(name) + "(" + arg + ")"
}

// Type is the result type.
func (a *Agg) Type() arrow.DataType { return a.typ }

// Buffers reports whether the aggregate keeps every value it sees (exact
// percentiles, DISTINCT), so its memory grows with the input.
func (a *Agg) Buffers() bool {
	return a.Distinct || a.Name == "approx_percentile_cont" || a.Name == "median"
}

func (a *Agg) String() string { return a.display }

// Accumulator folds rows into per-group states.
type Accumulator interface {
	// Update adds row i of args to group groups[i]; numGroups is the number
	// of groups so far. args is empty for count(*), with n rows.
	Update(groups []uint32, args []arrow.Array, n, numGroups int)
	// Result returns one value per group.
	Result(c *Ctx) arrow.Array
	// Merge folds group sg of src, an accumulator of the same aggregate
	// (a partial result), into group dg; numGroups as in Update.
	Merge(dg uint32, src Accumulator, sg uint32, numGroups int)
}

// NewAccumulator returns an empty accumulator.
func (a *Agg) NewAccumulator() Accumulator {
	if a.Distinct && a.Name != "approx_distinct" && a.Name != "thetasketch_distinct" {
		inner := *a
		inner.Distinct = false
		return &distinctAcc{inner: inner.NewAccumulator(), typ: a.Args[0].Type()}
	}
	switch a.Name {
	case "count":
		return &countAcc{}
	case "sum", "avg":
		return &sumAcc{avg: a.Name == "avg", cls: classOf(a.Args[0].Type())}
	case "min", "max":
		return &minMaxAcc{max: a.Name == "max", typ: a.typ}
	case "first", "last":
		return &firstLastAcc{last: a.Name == "last", typ: a.typ}
	case "stddev", "stddev_pop", "variance", "var_pop":
		return &varianceAcc{pop: strings.HasSuffix(a.Name, "_pop"), sqrt: strings.HasPrefix(a.Name, "stddev")}
	case "approx_distinct", "thetasketch_distinct":
		return &hllAcc{}
	default: // approx_percentile_cont, median
		p := a.param
		if a.Name == "median" {
			p = 0.5
		}
		return &percentileAcc{p: p}
	}
}

func grow[T any](s []T, n int) []T {
	for len(s) < n {
		var zero T
		s = append(s, zero)
	}
	return s
}

type countAcc struct{ counts []int64 }

func (a *countAcc) Update(groups []uint32, args []arrow.Array, n, numGroups int) {
	a.counts = grow(a.counts, numGroups)
	for i := 0; i < n; i++ {
		if len(args) == 0 || !IsNullAt(args[0], i) {
			a.counts[groups[i]]++
		}
	}
}

func (a *countAcc) Result(c *Ctx) arrow.Array { return newInt64(c, a.counts, nil) }

type sumAcc struct {
	avg   bool
	cls   class
	i     []int64
	u     []uint64
	f     []float64
	count []int64
}

func (a *sumAcc) Update(groups []uint32, args []arrow.Array, n, numGroups int) {
	a.count = grow(a.count, numGroups)
	a.i, a.u, a.f = grow(a.i, numGroups), grow(a.u, numGroups), grow(a.f, numGroups)
	if n == 0 || args[0].DataType().ID() == arrow.NULL {
		return
	}
	arg := args[0]
	hasNulls := arg.NullN() > 0
	switch {
	case a.avg || a.cls == classFloat:
		for i, v := range floats(arg) {
			if !hasNulls || !IsNullAt(arg, i) {
				a.f[groups[i]] += v
				a.count[groups[i]]++
			}
		}
	case a.cls == classUint:
		for i, v := range uints(arg) {
			if !hasNulls || !IsNullAt(arg, i) {
				a.u[groups[i]] += v
				a.count[groups[i]]++
			}
		}
	default:
		for i, v := range ints(arg) {
			if !hasNulls || !IsNullAt(arg, i) {
				a.i[groups[i]] += v
				a.count[groups[i]]++
			}
		}
	}
}

func (a *sumAcc) Result(c *Ctx) arrow.Array {
	n := len(a.count)
	valid := make([]bool, n)
	for g, cnt := range a.count {
		valid[g] = cnt > 0
	}
	switch {
	case a.avg:
		out := make([]float64, n)
		for g := range out {
			if a.count[g] > 0 {
				out[g] = a.f[g] / float64(a.count[g])
			}
		}
		return newFloat64(c, out, valid)
	case a.cls == classFloat:
		return newFloat64(c, a.f, valid)
	case a.cls == classUint:
		return newUint64(c, a.u, valid)
	}
	return newInt64(c, a.i, valid)
}

// better reports whether v should replace cur for min (max false) or max.
func better(v, cur Scalar, max bool) bool {
	c := compareScalars(v, cur)
	if max {
		return c > 0
	}
	return c < 0
}

func compareScalars(a, b Scalar) int {
	switch classOf(a.Type) {
	case classInt:
		return cmpOrdered(a.I, b.I)
	case classUint:
		return cmpOrdered(a.U, b.U)
	case classFloat:
		return cmpOrdered(a.F, b.F)
	case classBool:
		return cmpOrdered(b2i(a.Bool), b2i(b.Bool))
	}
	return strings.Compare(a.S, b.S)
}

func cmpOrdered[T int64 | uint64 | float64 | int](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type minMaxAcc struct {
	max  bool
	typ  arrow.DataType
	vals []Scalar
	set  []bool
}

func (a *minMaxAcc) Update(groups []uint32, args []arrow.Array, n, numGroups int) {
	a.vals, a.set = grow(a.vals, numGroups), grow(a.set, numGroups)
	if n == 0 {
		return
	}
	arg := args[0]
	switch classOf(arg.DataType()) {
	case classFloat:
		for i, v := range floats(arg) {
			if g := groups[i]; !IsNullAt(arg, i) && (!a.set[g] || (a.max && v > a.vals[g].F) || (!a.max && v < a.vals[g].F)) {
				a.vals[g], a.set[g] = Scalar{Type: a.typ, F: v}, true
			}
		}
	case classInt:
		for i, v := range ints(arg) {
			if g := groups[i]; !IsNullAt(arg, i) && (!a.set[g] || (a.max && v > a.vals[g].I) || (!a.max && v < a.vals[g].I)) {
				a.vals[g], a.set[g] = Scalar{Type: a.typ, I: v}, true
			}
		}
	case classUint:
		for i, v := range uints(arg) {
			if g := groups[i]; !IsNullAt(arg, i) && (!a.set[g] || (a.max && v > a.vals[g].U) || (!a.max && v < a.vals[g].U)) {
				a.vals[g], a.set[g] = Scalar{Type: a.typ, U: v}, true
			}
		}
	default:
		for i := 0; i < n; i++ {
			if IsNullAt(arg, i) {
				continue
			}
			v, g := ScalarAt(arg, i), groups[i]
			if !a.set[g] || better(v, a.vals[g], a.max) {
				a.vals[g], a.set[g] = v, true
			}
		}
	}
}

func (a *minMaxAcc) Result(c *Ctx) arrow.Array { return scalarsArray(c, a.typ, a.vals, a.set) }

func scalarsArray(c *Ctx, t arrow.DataType, vals []Scalar, set []bool) arrow.Array {
	b := array.NewBuilder(c.Mem, t)
	defer b.Release()
	for g, v := range vals {
		if !set[g] {
			b.AppendNull()
			continue
		}
		v.Append(b)
	}
	return b.NewArray()
}

// firstLastAcc keeps the value at the smallest (first) or largest (last)
// ordering key; NULL values are skipped.
type firstLastAcc struct {
	last bool
	typ  arrow.DataType
	vals []Scalar
	keys []Scalar
	set  []bool
}

func (a *firstLastAcc) Update(groups []uint32, args []arrow.Array, n, numGroups int) {
	a.vals, a.keys, a.set = grow(a.vals, numGroups), grow(a.keys, numGroups), grow(a.set, numGroups)
	for i := 0; i < n; i++ {
		if IsNullAt(args[0], i) || IsNullAt(args[1], i) {
			continue
		}
		k, g := ScalarAt(args[1], i), groups[i]
		if !a.set[g] || better(k, a.keys[g], a.last) {
			a.vals[g], a.keys[g], a.set[g] = ScalarAt(args[0], i), k, true
		}
	}
}

func (a *firstLastAcc) Result(c *Ctx) arrow.Array { return scalarsArray(c, a.typ, a.vals, a.set) }

// varianceAcc computes the sample or population variance (or standard
// deviation) with Welford's method.
type varianceAcc struct {
	pop, sqrt bool
	n         []float64
	mean, m2  []float64
}

func (a *varianceAcc) Update(groups []uint32, args []arrow.Array, n, numGroups int) {
	a.n, a.mean, a.m2 = grow(a.n, numGroups), grow(a.mean, numGroups), grow(a.m2, numGroups)
	if n == 0 || args[0].DataType().ID() == arrow.NULL {
		return
	}
	for i, x := range floats(args[0]) {
		if IsNullAt(args[0], i) {
			continue
		}
		g := groups[i]
		a.n[g]++
		d := x - a.mean[g]
		a.mean[g] += d / a.n[g]
		a.m2[g] += d * (x - a.mean[g])
	}
}

func (a *varianceAcc) Result(c *Ctx) arrow.Array {
	out := make([]float64, len(a.n))
	valid := make([]bool, len(a.n))
	for g, cnt := range a.n {
		d := cnt - 1
		if a.pop {
			d = cnt
		}
		if d <= 0 {
			continue
		}
		v := a.m2[g] / d
		if a.sqrt {
			v = math.Sqrt(v)
		}
		out[g], valid[g] = v, true
	}
	return newFloat64(c, out, valid)
}

// percentileAcc keeps the values and interpolates linearly between the two
// closest ranks (PERCENTILE_CONT). It is exact; "approx" in the name is
// upstream's.
type percentileAcc struct {
	p    float64
	vals [][]float64
}

func (a *percentileAcc) Update(groups []uint32, args []arrow.Array, n, numGroups int) {
	a.vals = grow(a.vals, numGroups)
	if n == 0 || args[0].DataType().ID() == arrow.NULL {
		return
	}
	for i, x := range floats(args[0]) {
		if !IsNullAt(args[0], i) {
			a.vals[groups[i]] = append(a.vals[groups[i]], x)
		}
	}
}

func (a *percentileAcc) Result(c *Ctx) arrow.Array {
	out := make([]float64, len(a.vals))
	valid := make([]bool, len(a.vals))
	for g, vs := range a.vals {
		if len(vs) == 0 {
			continue
		}
		slices.Sort(vs)
		rank := a.p * float64(len(vs)-1)
		lo := int(math.Floor(rank))
		hi := min(lo+1, len(vs)-1)
		out[g] = vs[lo] + (vs[hi]-vs[lo])*(rank-float64(lo))
		valid[g] = true
	}
	return newFloat64(c, out, valid)
}

// distinctAcc feeds each group's distinct values once to an inner
// accumulator.
type distinctAcc struct {
	inner Accumulator
	typ   arrow.DataType // of the argument
	seen  []map[Scalar]bool
}

func (a *distinctAcc) Update(groups []uint32, args []arrow.Array, n, numGroups int) {
	a.seen = grow(a.seen, numGroups)
	if n == 0 {
		a.inner.Update(nil, nil, 0, numGroups)
		return
	}
	arg := args[0]
	var keep []int
	for i := 0; i < n; i++ {
		if IsNullAt(arg, i) {
			continue
		}
		g := groups[i]
		if a.seen[g] == nil {
			a.seen[g] = map[Scalar]bool{}
		}
		v := ScalarAt(arg, i)
		v.Type = nil
		if !a.seen[g][v] {
			a.seen[g][v] = true
			keep = append(keep, i)
		}
	}
	sub := make([]uint32, len(keep))
	subArgs := make([]arrow.Array, len(args))
	for k, col := range args {
		b := array.NewBuilder(defaultMem, col.DataType())
		for j, i := range keep {
			sub[j] = groups[i]
			ScalarAt(col, i).Append(b)
		}
		subArgs[k] = b.NewArray()
		b.Release()
	}
	defer release(subArgs...)
	a.inner.Update(sub, subArgs, len(keep), numGroups)
}

func (a *distinctAcc) Result(c *Ctx) arrow.Array { return a.inner.Result(c) }

func (a *countAcc) Merge(dg uint32, src Accumulator, sg uint32, numGroups int) {
	a.counts = grow(a.counts, numGroups)
	a.counts[dg] += src.(*countAcc).counts[sg]
}

func (a *sumAcc) Merge(dg uint32, src Accumulator, sg uint32, numGroups int) {
	a.Update(nil, nil, 0, numGroups)
	s := src.(*sumAcc)
	a.i[dg] += s.i[sg]
	a.u[dg] += s.u[sg]
	a.f[dg] += s.f[sg]
	a.count[dg] += s.count[sg]
}

func (a *minMaxAcc) Merge(dg uint32, src Accumulator, sg uint32, numGroups int) {
	a.Update(nil, nil, 0, numGroups)
	s := src.(*minMaxAcc)
	if s.set[sg] && (!a.set[dg] || better(s.vals[sg], a.vals[dg], a.max)) {
		a.vals[dg], a.set[dg] = s.vals[sg], true
	}
}

func (a *firstLastAcc) Merge(dg uint32, src Accumulator, sg uint32, numGroups int) {
	a.Update(nil, nil, 0, numGroups)
	s := src.(*firstLastAcc)
	if s.set[sg] && (!a.set[dg] || better(s.keys[sg], a.keys[dg], a.last)) {
		a.vals[dg], a.keys[dg], a.set[dg] = s.vals[sg], s.keys[sg], true
	}
}

// Merge combines two partial variances (Chan et al.).
func (a *varianceAcc) Merge(dg uint32, src Accumulator, sg uint32, numGroups int) {
	a.Update(nil, nil, 0, numGroups)
	s := src.(*varianceAcc)
	nb := s.n[sg]
	if nb == 0 {
		return
	}
	na := a.n[dg]
	n := na + nb
	d := s.mean[sg] - a.mean[dg]
	a.mean[dg] += d * nb / n
	a.m2[dg] += s.m2[sg] + d*d*na*nb/n
	a.n[dg] = n
}

func (a *percentileAcc) Merge(dg uint32, src Accumulator, sg uint32, numGroups int) {
	a.Update(nil, nil, 0, numGroups)
	a.vals[dg] = append(a.vals[dg], src.(*percentileAcc).vals[sg]...)
}

func (a *hllAcc) Merge(dg uint32, src Accumulator, sg uint32, numGroups int) {
	a.Update(nil, nil, 0, numGroups)
	s := src.(*hllAcc).regs[sg]
	if s == nil {
		return
	}
	if a.regs[dg] == nil {
		a.regs[dg] = make([]uint8, len(s))
	}
	for i, r := range s {
		a.regs[dg][i] = max(a.regs[dg][i], r)
	}
}

// Merge feeds the values src saw in group sg, and dg has not, to the
// inner accumulator.
func (a *distinctAcc) Merge(dg uint32, src Accumulator, sg uint32, numGroups int) {
	a.Update(nil, nil, 0, numGroups)
	s := src.(*distinctAcc)
	if int(sg) >= len(s.seen) || s.seen[sg] == nil {
		return
	}
	if a.seen[dg] == nil {
		a.seen[dg] = map[Scalar]bool{}
	}
	var fresh []Scalar
	for v := range s.seen[sg] {
		if !a.seen[dg][v] {
			a.seen[dg][v] = true
			fresh = append(fresh, v)
		}
	}
	if len(fresh) == 0 {
		return
	}
	b := array.NewBuilder(defaultMem, s.typ)
	defer b.Release()
	for _, v := range fresh {
		v.Type = s.typ
		v.Append(b)
	}
	arr := b.NewArray()
	defer arr.Release()
	groups := make([]uint32, len(fresh))
	for i := range groups {
		groups[i] = dg
	}
	a.inner.Update(groups, []arrow.Array{arr}, len(fresh), numGroups)
}
