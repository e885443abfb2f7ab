package router

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

type fakeResolver struct {
	owners map[string]string
	calls  int
	err    error
}

func (f *fakeResolver) Route(_ context.Context, _, table string) (string, error) {
	f.calls++
	if f.err != nil {
		return "", f.err
	}
	if ep, ok := f.owners[table]; ok {
		return ep, nil
	}
	return "self:1", nil
}

func TestOwner(t *testing.T) {
	res := &fakeResolver{owners: map[string]string{"far": "other:1", "mine": "self:1"}}
	r, err := New(Options{Self: "self:1", Resolver: res, TTL: time.Minute,
		Local: func(_, table string) bool { return table == "open" }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	ctx := context.Background()
	for _, tc := range []struct {
		table, want string
		calls       int
	}{
		{"open", "", 0}, // served here: no lookup
		{"far", "other:1", 1},
		{"far", "other:1", 1}, // cached
		{"mine", "", 2},       // the cluster says here
		{"new", "", 3},        // not created yet: here
	} {
		got, err := r.Owner(ctx, "public", tc.table)
		if err != nil || got != tc.want || res.calls != tc.calls {
			t.Errorf("Owner(%s) = %q, %v after %d lookups; want %q after %d", tc.table, got, err, res.calls, tc.want, tc.calls)
		}
	}
	r.Forget("public", "far")
	if _, _ = r.Owner(ctx, "public", "far"); res.calls != 4 {
		t.Errorf("Forget did not drop the cached owner: %d lookups", res.calls)
	}
	now = now.Add(2 * time.Minute)
	if _, _ = r.Owner(ctx, "public", "far"); res.calls != 5 {
		t.Errorf("an expired owner was not looked up again: %d lookups", res.calls)
	}
	res.err = errors.New("meta down")
	r.Forget("public", "far")
	if _, err := r.Owner(ctx, "public", "far"); err == nil {
		t.Error("a failed lookup gave no error")
	}
	if _, err := r.Client("other:1"); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Client("other:1"); !errors.Is(err, ErrClosed) {
		t.Errorf("Client after Close: %v", err)
	}
}

// TestOwnerCacheBounded: looking up many names that expire does not grow
// the cache for ever; an uncached router keeps nothing.
func TestOwnerCacheBounded(t *testing.T) {
	res := &fakeResolver{owners: map[string]string{}}
	r, err := New(Options{Self: "self:1", Resolver: res, TTL: time.Second, Local: func(_, _ string) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	for i := range 10 * minSweep {
		if i%minSweep == 0 {
			now = now.Add(2 * time.Second) // what came before has expired
		}
		if _, err := r.Owner(context.Background(), "public", fmt.Sprintf("t%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	r.mu.Lock()
	n := len(r.mu.owners)
	r.mu.Unlock()
	if n > 2*minSweep {
		t.Errorf("%d owners cached after 10 rounds of %d names that expire", n, minSweep)
	}

	u, err := New(Options{Self: "self:1", Resolver: res, Uncached: true, Local: func(_, _ string) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	calls := res.calls
	for range 3 {
		if _, err := u.Owner(context.Background(), "public", "far"); err != nil {
			t.Fatal(err)
		}
	}
	if res.calls != calls+3 || len(u.mu.owners) != 0 {
		t.Errorf("uncached: %d lookups for 3 calls, %d cached", res.calls-calls, len(u.mu.owners))
	}
}
