package query

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/internal/units"
)

// ErrBlocked is wrapped by the error of a statement or write that the
// limits refuse (upstream's limiter: [limiter] and POST /admin/block).
var ErrBlocked = errors.New("query: blocked")

// Limits are the requests a node refuses, upstream's [limiter]: tables
// that may not be written or read, and rules that block whole kinds of
// requests. They apply to SQL from every front end, to the writes of the
// storage API and the ingestion protocols, and to the reads the InfluxQL,
// PromQL and OpenTSDB front ends make. The zero value blocks nothing.
type Limits struct {
	// WriteBlock: tables no statement or write may write.
	WriteBlock []string
	// ReadBlock: tables no query may read.
	ReadBlock []string
	// NoQueryWithoutPredicate refuses a query that reads a table with no
	// WHERE clause (rule QueryWithoutPredicate).
	NoQueryWithoutPredicate bool
	// NoQuery refuses every query that reads a table (rule AnyQuery).
	NoQuery bool
	// NoInsert refuses every write (rule AnyInsert).
	NoInsert bool
	// MaxQueryRange, when positive, refuses a query that reads a table
	// over a longer time range than this, or over an unbounded one (rule
	// QueryRange).
	MaxQueryRange time.Duration
}

// SetLimits replaces the limits; it applies to statements planned after
// it returns.
func (x *Executor) SetLimits(l Limits) {
	l.WriteBlock = slices.Clone(l.WriteBlock)
	l.ReadBlock = slices.Clone(l.ReadBlock)
	x.limits.Store(&l)
}

// Limits returns the current limits.
func (x *Executor) Limits() Limits {
	if l := x.limits.Load(); l != nil {
		return *l
	}
	return Limits{}
}

// checkWrite refuses a write to table.
func (x *Executor) checkWrite(table string) error {
	l := x.limits.Load()
	switch {
	case l == nil:
		return nil
	case l.NoInsert:
		return fmt.Errorf("%w: writes are blocked on this node (limiter rule AnyInsert); table %s", ErrBlocked, table)
	case slices.Contains(l.WriteBlock, table):
		return fmt.Errorf("%w: table %s is in the write block list of this node", ErrBlocked, table)
	}
	return nil
}

// checkRead refuses a read of table over tr; predicate says whether the
// query restricts the rows it reads (a WHERE clause).
func (x *Executor) checkRead(table string, tr engine.TimeRange, predicate bool) error {
	l := x.limits.Load()
	switch {
	case l == nil:
		return nil
	case l.NoQuery:
		return fmt.Errorf("%w: queries are blocked on this node (limiter rule AnyQuery); table %s", ErrBlocked, table)
	case slices.Contains(l.ReadBlock, table):
		return fmt.Errorf("%w: table %s is in the read block list of this node", ErrBlocked, table)
	case l.NoQueryWithoutPredicate && !predicate:
		return fmt.Errorf("%w: a query of table %s needs a WHERE clause on this node (limiter rule QueryWithoutPredicate)",
			ErrBlocked, table)
	case l.MaxQueryRange > 0 && rangeLonger(tr, l.MaxQueryRange):
		what := "an unbounded time range"
		if tr.Start != math.MinInt64 && tr.End != math.MaxInt64 {
			what = "a time range of " + units.FormatDuration(time.Duration(min(uint64(tr.End)-uint64(tr.Start), math.MaxInt64/uint64(time.Millisecond)))*time.Millisecond)
		}
		return fmt.Errorf("%w: the query of table %s covers %s; this node allows at most %s (limiter rule QueryRange)",
			ErrBlocked, table, what, units.FormatDuration(l.MaxQueryRange))
	}
	return nil
}

// rangeLonger reports whether tr (milliseconds, end exclusive) is longer
// than d.
func rangeLonger(tr engine.TimeRange, d time.Duration) bool {
	if tr.Start == math.MinInt64 || tr.End == math.MaxInt64 {
		return true
	}
	// Unsigned: the difference of far-apart bounds overflows int64.
	return tr.End > tr.Start && uint64(tr.End)-uint64(tr.Start) > uint64(d.Milliseconds())
}
