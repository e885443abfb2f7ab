// Package faulty wraps an objstore.Bucket to fail or delay chosen
// operations on chosen keys, so that tests can simulate a failed SST
// upload, a lost response, a slow store or a dying one.
//
//	fb := faulty.Wrap(objstore.NewMemory(), 1)
//	fb.Add(faulty.Rule{Ops: faulty.OpPut, Pattern: "tables/*/sst/*.parquet", Nth: 1})
//	// the first SST upload fails with faulty.ErrInjected and stores nothing
//
// Other recipes: a dying store is fb.Add(faulty.Rule{}) (every call fails,
// transiently); a flaky one adds Probability; a hanging one sets Delay to an
// hour and lets the caller's deadline (or WithRetry's attempt timeout) cut
// it; a lost upload response is Rule{Ops: OpPut, Stored: true}.
//
// Rules are checked in the order they were added; the first one that fires
// decides. With no rules the wrapper is transparent (it passes
// objstoretest.Run).
package faulty

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/horaego/horaedb/objstore"
)

// ErrInjected is the default injected error. It is transient, so WithRetry
// retries it.
var ErrInjected = fmt.Errorf("faulty: injected failure: %w", objstore.ErrTransient)

// Op is a set of bucket operations.
type Op uint8

// The operations.
const (
	OpGet Op = 1 << iota
	OpGetRange
	OpSize
	OpPut
	OpDelete
	OpList

	OpRead  = OpGet | OpGetRange | OpSize | OpList
	OpWrite = OpPut | OpDelete
	OpAll   = OpRead | OpWrite
)

func (o Op) String() string {
	var names []string
	for i, n := range []string{"get", "get_range", "size", "put", "delete", "list"} {
		if o&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, "|")
}

// Rule says which calls to disturb and how.
type Rule struct {
	// Ops are the operations the rule applies to. Default 0: all.
	Ops Op
	// Prefix, when set, limits the rule to keys (List: prefixes) that
	// start with it.
	Prefix string
	// Pattern, when set, limits the rule to keys matching this path.Match
	// pattern.
	Pattern string
	// Nth, when positive, fires only on the Nth matching call (1-based).
	// Default 0: every matching call.
	Nth int
	// Times, when positive, caps how often the rule fires.
	Times int
	// Probability, when in (0, 1), fires on that fraction of the matching
	// calls, drawn from the wrapper's seeded source. Default 0: always.
	Probability float64
	// Delay is waited before the call proceeds or fails (the caller's ctx
	// cuts it short, returning ctx's error).
	Delay time.Duration
	// Err is returned when the rule fires. Default nil: ErrInjected, or,
	// when Delay is set, no error (the call is only slowed down).
	Err error
	// Stored, for Put, stores the object before returning Err: an upload
	// whose response was lost. Default false: a failed Put stores nothing.
	Stored bool
}

type rule struct {
	Rule
	id      int
	matched int
	fired   int
}

// Bucket is the fault-injecting wrapper.
type Bucket struct {
	b  objstore.Bucket
	mu struct {
		sync.Mutex
		rules    []*rule
		nextID   int
		rng      *rand.Rand
		calls    map[Op]int
		injected int
	}
}

// Wrap returns b with no rules; seed drives Probability.
func Wrap(b objstore.Bucket, seed uint64) *Bucket {
	f := &Bucket{b: b}
	f.mu.rng = rand.New(rand.NewPCG(seed, seed+1))
	f.mu.calls = map[Op]int{}
	return f
}

// Add installs a rule and returns the function that removes it.
func (f *Bucket) Add(r Rule) (remove func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.nextID++
	id := f.mu.nextID
	f.mu.rules = append(f.mu.rules, &rule{Rule: r, id: id})
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, r := range f.mu.rules {
			if r.id == id {
				f.mu.rules = append(f.mu.rules[:i], f.mu.rules[i+1:]...)
				return
			}
		}
	}
}

// Clear removes every rule.
func (f *Bucket) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.rules = nil
}

// Calls returns how many calls of the operations in op were made.
func (f *Bucket) Calls(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for o, c := range f.mu.calls {
		if o&op != 0 {
			n += c
		}
	}
	return n
}

// Injected returns how often a rule fired.
func (f *Bucket) Injected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.injected
}

// decide returns the rule that fires for this call, if any.
func (f *Bucket) decide(op Op, key string) (Rule, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.calls[op]++
	for _, r := range f.mu.rules {
		if r.Ops != 0 && r.Ops&op == 0 || !strings.HasPrefix(key, r.Prefix) {
			continue
		}
		if r.Pattern != "" {
			if ok, _ := path.Match(r.Pattern, key); !ok {
				continue
			}
		}
		r.matched++
		if r.Nth > 0 && r.matched != r.Nth || r.Times > 0 && r.fired >= r.Times {
			continue
		}
		if r.Probability > 0 && r.Probability < 1 && f.mu.rng.Float64() >= r.Probability {
			continue
		}
		r.fired++
		f.mu.injected++
		return r.Rule, true
	}
	return Rule{}, false
}

// inject decides for this call and waits out a delay. It returns whether
// a rule fired, the rule, and the error to return (nil: make the call).
func (f *Bucket) inject(ctx context.Context, op Op, key string) (fired bool, r Rule, err error) {
	r, fired = f.decide(op, key)
	if !fired {
		return false, r, nil
	}
	if r.Delay > 0 {
		t := time.NewTimer(r.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return true, r, ctx.Err()
		case <-t.C:
		}
	}
	switch {
	case r.Err != nil:
		err = r.Err
	case r.Delay == 0:
		err = ErrInjected
	}
	if err != nil {
		err = fmt.Errorf("faulty: %s %s: %w", op, key, err)
	}
	return true, r, err
}

func (f *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	if _, _, err := f.inject(ctx, OpGet, key); err != nil {
		return nil, err
	}
	return f.b.Get(ctx, key)
}

func (f *Bucket) GetRange(ctx context.Context, key string, off, length int64) ([]byte, error) {
	if _, _, err := f.inject(ctx, OpGetRange, key); err != nil {
		return nil, err
	}
	return f.b.GetRange(ctx, key, off, length)
}

func (f *Bucket) Size(ctx context.Context, key string) (int64, error) {
	if _, _, err := f.inject(ctx, OpSize, key); err != nil {
		return 0, err
	}
	return f.b.Size(ctx, key)
}

func (f *Bucket) Put(ctx context.Context, key string, data []byte) error {
	fired, r, err := f.inject(ctx, OpPut, key)
	if err == nil {
		return f.b.Put(ctx, key, data)
	}
	if fired && r.Stored && ctx.Err() == nil {
		if perr := f.b.Put(ctx, key, data); perr != nil {
			return perr
		}
	}
	return err
}

func (f *Bucket) Delete(ctx context.Context, key string) error {
	if _, _, err := f.inject(ctx, OpDelete, key); err != nil {
		return err
	}
	return f.b.Delete(ctx, key)
}

func (f *Bucket) List(ctx context.Context, prefix string) ([]objstore.ObjectInfo, error) {
	if _, _, err := f.inject(ctx, OpList, prefix); err != nil {
		return nil, err
	}
	return f.b.List(ctx, prefix)
}

// Close closes the inner bucket; rules do not apply to it.
func (f *Bucket) Close() error { return f.b.Close() }
