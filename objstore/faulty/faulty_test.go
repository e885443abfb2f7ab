package faulty_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/objstore/faulty"
	"github.com/horaego/horaedb/objstore/objstoretest"
)

func TestConformance(t *testing.T) {
	// With rules that never fire, the wrapper is transparent.
	objstoretest.Run(t, func(t *testing.T) objstore.Bucket {
		fb := faulty.Wrap(objstore.NewMemory(), 1)
		fb.Add(faulty.Rule{Prefix: "never/"})
		fb.Add(faulty.Rule{Ops: faulty.OpPut, Nth: 1 << 30})
		return fb
	})
}

func TestFailedPutStoresNothing(t *testing.T) {
	ctx := context.Background()
	fb := faulty.Wrap(objstore.NewMemory(), 1)
	fb.Add(faulty.Rule{Ops: faulty.OpPut, Pattern: "tables/*/sst/*.parquet", Nth: 2})
	for i, key := range []string{"tables/1/sst/1.parquet", "tables/1/manifest/x", "tables/1/sst/2.parquet", "tables/1/sst/3.parquet"} {
		err := fb.Put(ctx, key, []byte("v"))
		_, gerr := fb.Get(ctx, key)
		if i == 2 {
			if !errors.Is(err, faulty.ErrInjected) || !objstore.IsTransient(err) || !errors.Is(gerr, objstore.ErrNotFound) {
				t.Fatalf("second SST Put = %v, then Get = %v", err, gerr)
			}
			continue
		}
		if err != nil || gerr != nil {
			t.Fatalf("Put %s = %v, Get = %v", key, err, gerr)
		}
	}
	if fb.Injected() != 1 {
		t.Fatalf("Injected = %d", fb.Injected())
	}
}

func TestStoredPutLosesTheResponse(t *testing.T) {
	ctx := context.Background()
	fb := faulty.Wrap(objstore.NewMemory(), 1)
	myErr := errors.New("connection reset after upload")
	fb.Add(faulty.Rule{Ops: faulty.OpPut, Stored: true, Err: myErr})
	if err := fb.Put(ctx, "k", []byte("v")); !errors.Is(err, myErr) {
		t.Fatalf("Put = %v", err)
	}
	if got, err := fb.Get(ctx, "k"); err != nil || string(got) != "v" {
		t.Fatalf("Get = %q, %v: a Stored put must store", got, err)
	}
}

func TestTimesPrefixRemove(t *testing.T) {
	ctx := context.Background()
	fb := faulty.Wrap(objstore.NewMemory(), 1)
	fb.Put(ctx, "a/1", nil)
	fb.Put(ctx, "b/1", nil)
	remove := fb.Add(faulty.Rule{Ops: faulty.OpRead, Prefix: "a/", Times: 2})
	fails := 0
	for i := 0; i < 5; i++ {
		if _, err := fb.Size(ctx, "a/1"); err != nil {
			fails++
		}
		if _, err := fb.Size(ctx, "b/1"); err != nil {
			t.Fatalf("b/1 failed: %v", err)
		}
	}
	if fails != 2 {
		t.Fatalf("%d failures, want 2", fails)
	}
	fb.Add(faulty.Rule{Ops: faulty.OpList})
	if _, err := fb.List(ctx, ""); err == nil {
		t.Fatal("List did not fail")
	}
	remove()
	fb.Clear()
	if _, err := fb.List(ctx, ""); err != nil {
		t.Fatalf("List after Clear: %v", err)
	}
	if fb.Calls(faulty.OpSize) != 10 || fb.Calls(faulty.OpList) != 2 || fb.Calls(faulty.OpAll) != 14 {
		t.Fatalf("calls: size %d list %d all %d", fb.Calls(faulty.OpSize), fb.Calls(faulty.OpList), fb.Calls(faulty.OpAll))
	}
}

func TestProbabilityIsSeeded(t *testing.T) {
	run := func(seed uint64) (pattern []bool) {
		fb := faulty.Wrap(objstore.NewMemory(), seed)
		fb.Add(faulty.Rule{Probability: 0.3})
		for i := 0; i < 200; i++ {
			_, err := fb.List(context.Background(), "")
			pattern = append(pattern, err != nil)
		}
		return pattern
	}
	a, b := run(7), run(7)
	n := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("the same seed gave different failures")
		}
		if a[i] {
			n++
		}
	}
	if n < 30 || n > 90 {
		t.Fatalf("%d of 200 failed at p=0.3", n)
	}
}

func TestDelay(t *testing.T) {
	fb := faulty.Wrap(objstore.NewMemory(), 1)
	fb.Put(context.Background(), "k", []byte("v"))
	fb.Add(faulty.Rule{Ops: faulty.OpGet, Delay: 30 * time.Millisecond})
	start := time.Now()
	if got, err := fb.Get(context.Background(), "k"); err != nil || string(got) != "v" || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("slow Get = %q, %v after %s", got, err, time.Since(start))
	}
	fb.Clear()
	fb.Add(faulty.Rule{Ops: faulty.OpPut, Delay: time.Hour, Stored: true, Err: faulty.ErrInjected})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := fb.Put(ctx, "k2", []byte("v")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hanging Put = %v", err)
	}
	if _, err := fb.Get(context.Background(), "k2"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("a Put cut short by its ctx stored something: %v", err)
	}
}
