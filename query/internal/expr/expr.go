// Package expr holds bound, typed expressions and evaluates them a record
// batch at a time over Arrow arrays: column references, literals,
// arithmetic, comparisons, boolean logic, IN, IS NULL, casts and scalar
// functions, with SQL's NULL semantics.
package expr

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/internal/units"
)

// ErrEval is wrapped by errors raised while evaluating (division by zero,
// a value that does not convert).
var ErrEval = errors.New("expr: evaluation error")

// Ctx is what evaluation needs besides the input.
type Ctx struct {
	Mem      memory.Allocator
	Now      time.Time      // fixed for one statement
	TimeZone *time.Location // server default zone
	// Budget bounds the memory one statement holds; nil is unbounded.
	Budget *Budget
}

// ErrMemoryLimit is returned when a statement needs more memory than its
// budget.
var ErrMemoryLimit = errors.New("expr: memory limit exceeded")

// Budget counts the bytes a statement holds (rows buffered by sorts,
// aggregation groups, join build sides, results) against a limit.
type Budget struct {
	Limit int64
	used  atomic.Int64
}

// Used returns the bytes charged so far.
func (b *Budget) Used() int64 { return b.used.Load() }

// Reserve charges n bytes to the statement's budget; it fails once the
// statement holds more than the limit.
func (c *Ctx) Reserve(n int64) error {
	b := c.Budget
	if b == nil || b.Limit <= 0 {
		return nil
	}
	if used := b.used.Add(n); used > b.Limit {
		return fmt.Errorf("%w: the statement needs more than %s (query_engine.memory_limit); narrow its time range, filter more, or aggregate",
			ErrMemoryLimit, units.Size(b.Limit))
	}
	return nil
}

// Release gives back n bytes charged with Reserve.
func (c *Ctx) Release(n int64) {
	if c.Budget != nil {
		c.Budget.used.Add(-n)
	}
}

// RecordBytes estimates the memory of rec's rows: for a slice, only the
// part of the buffers it covers.
func RecordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += ArrayBytes(c)
	}
	return n
}

// ArrayBytes estimates the memory of an array's values and validity.
func ArrayBytes(a arrow.Array) int64 {
	n := int64(a.Len())
	if n == 0 {
		return 0
	}
	bytes := (n + 7) / 8 // validity
	switch x := a.(type) {
	case *array.String:
		offs := x.ValueOffsets()
		return bytes + 4*(n+1) + int64(offs[len(offs)-1]-offs[0])
	case *array.Binary:
		offs := x.ValueOffsets()
		return bytes + 4*(n+1) + int64(offs[len(offs)-1]-offs[0])
	}
	if fw, ok := a.DataType().(arrow.FixedWidthDataType); ok {
		return bytes + (n*int64(fw.BitWidth())+7)/8
	}
	var total int64
	for _, b := range a.Data().Buffers() {
		if b != nil {
			total += int64(b.Len())
		}
	}
	return total
}

// Expr is a bound expression.
type Expr interface {
	// Type is the Arrow type of the result.
	Type() arrow.DataType
	// Eval evaluates the expression for every row of rec; the result has
	// rec.NumRows() rows and must be released by the caller.
	Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error)
	// String is the display name (DataFusion style, e.g. "demo.value +
	// Int64(1)").
	String() string
}

// Column reads a column of the input by position.
type Column struct {
	Index     int
	Name      string
	Qualifier string // table name or alias, for display
	Typ       arrow.DataType
}

// Type implements Expr.
func (e *Column) Type() arrow.DataType { return e.Typ }

// Eval implements Expr.
func (e *Column) Eval(_ *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	a := rec.Column(e.Index)
	a.Retain()
	return a, nil
}

func (e *Column) String() string {
	if e.Qualifier != "" {
		return e.Qualifier + "." + e.Name
	}
	return e.Name
}

// Literal is a constant.
type Literal struct{ Val Scalar }

// Type implements Expr.
func (e *Literal) Type() arrow.DataType { return e.Val.Type }

// Eval implements Expr.
func (e *Literal) Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	return e.Val.Repeat(c.Mem, int(rec.NumRows()))
}

func (e *Literal) String() string { return e.Val.Display() }

// Alias renames an expression's output.
type Alias struct {
	X    Expr
	Name string
}

// Type implements Expr.
func (e *Alias) Type() arrow.DataType { return e.X.Type() }

// Eval implements Expr.
func (e *Alias) Eval(c *Ctx, rec arrow.RecordBatch) (arrow.Array, error) { return e.X.Eval(c, rec) }

func (e *Alias) String() string { return e.Name }

// evalArgs evaluates several expressions; on error it releases what it
// produced.
func evalArgs(c *Ctx, rec arrow.RecordBatch, xs ...Expr) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(xs))
	for i, x := range xs {
		a, err := x.Eval(c, rec)
		if err != nil {
			release(out[:i]...)
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

func release(as ...arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}

// validAnd returns the validity of rows where every input is valid, as
// AppendValues wants it (nil when all are).
func validAnd(n int, as ...arrow.Array) []bool {
	any := false
	for _, a := range as {
		if a.NullN() > 0 {
			any = true
		}
	}
	if !any {
		return nil
	}
	v := make([]bool, n)
	for i := range v {
		v[i] = true
		for _, a := range as {
			if IsNullAt(a, i) {
				v[i] = false
				break
			}
		}
	}
	return v
}

// Errorf builds an evaluation error.
func Errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrEval, fmt.Sprintf(format, args...))
}

// NewBool builds a boolean array.
func NewBool(mem memory.Allocator, vals []bool, valid []bool) arrow.Array {
	b := array.NewBooleanBuilder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

// IsNullAt reports whether row i of a is NULL. Unlike a.IsNull it knows
// that every row of an array of the NULL type is NULL (such arrays carry no
// validity bitmap).
func IsNullAt(a arrow.Array, i int) bool {
	return a.DataType().ID() == arrow.NULL || a.IsNull(i)
}
