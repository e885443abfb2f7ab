package objstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/horaego/horaedb/objstore"
)

// Data returns n deterministic pseudo-random bytes (no two pages alike, so
// a cache that serves the wrong page is caught).
func Data(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// checkRange compares GetRange(off, n) with the expected slice of want.
func checkRange(t *testing.T, ctx context.Context, b objstore.Bucket, key string, want []byte, off, n int64) {
	t.Helper()
	got, err := b.GetRange(ctx, key, off, n)
	if err != nil {
		t.Fatalf("GetRange(%s, %d, %d): %v", key, off, n, err)
	}
	lo, hi := min(off, int64(len(want))), min(off+n, int64(len(want)))
	if !bytes.Equal(got, want[lo:hi]) {
		t.Fatalf("GetRange(%s, %d, %d): %d bytes, not the expected %d bytes [%d:%d]", key, off, n, len(got), hi-lo, lo, hi)
	}
}

func runMore(t *testing.T, ctx context.Context, open func(t *testing.T) objstore.Bucket) {
	t.Run("Large", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		const size = 16 << 20
		data := Data(1, size)
		if err := b.Put(ctx, "big/object", data); err != nil {
			t.Fatal(err)
		}
		got, err := b.Get(ctx, "big/object")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get: %d bytes, %v", len(got), err)
		}
		if n, err := b.Size(ctx, "big/object"); err != nil || n != size {
			t.Fatalf("Size = %d, %v", n, err)
		}
		for _, r := range [][2]int64{
			{0, 1}, {3<<20 - 7, 5 << 20}, {size - 100, 100}, {size - 100, 1000}, {size - 1, 1},
			{size / 2, size}, {0, size}, {size, 10}, {1, size - 2},
		} {
			checkRange(t, ctx, b, "big/object", data, r[0], r[1])
		}
		// Read again: caches must give the same answers.
		got, err = b.Get(ctx, "big/object")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("second Get: %d bytes, %v", len(got), err)
		}
		checkRange(t, ctx, b, "big/object", data, size-100, 1000)
	})
	t.Run("RangesAtEnd", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		for _, size := range []int{1, 4095, 4096, 4097, 100000} {
			key := fmt.Sprintf("end/%d", size)
			data := Data(uint64(size), size)
			if err := b.Put(ctx, key, data); err != nil {
				t.Fatal(err)
			}
			s := int64(size)
			for _, r := range [][2]int64{
				{s - 1, 1}, {s - 1, 10}, {0, s + 1}, {s / 2, s}, {s, 1}, {s + 10, 1}, {0, s}, {s - 1, 1},
			} {
				checkRange(t, ctx, b, key, data, r[0], r[1])
			}
		}
	})
	t.Run("ConcurrentReadersOneKey", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		const size = 1<<20 + 12345
		data := Data(7, size)
		if err := b.Put(ctx, "hot/key", data); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for g := 0; g < 16; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(g), 1))
				for i := 0; i < 20; i++ {
					off := r.Int64N(size)
					n := r.Int64N(256<<10) + 1
					if i%7 == 0 {
						off, n = 0, size
					}
					got, err := b.GetRange(ctx, "hot/key", off, n)
					hi := min(off+n, size)
					if err != nil || !bytes.Equal(got, data[off:hi]) {
						errs <- fmt.Errorf("reader %d: GetRange(%d, %d): %d bytes, %v", g, off, n, len(got), err)
						return
					}
				}
				got, err := b.Get(ctx, "hot/key")
				if err != nil || !bytes.Equal(got, data) {
					errs <- fmt.Errorf("reader %d: Get: %d bytes, %v", g, len(got), err)
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
	t.Run("ReadAfterOverwrite", func(t *testing.T) {
		// Warm every read path (a cache would now hold v1), then overwrite
		// and delete: every read must see the latest write.
		b := open(t)
		defer b.Close()
		const key = "tables/1/sst/1.parquet"
		warm := func(v []byte) {
			t.Helper()
			for i := 0; i < 2; i++ {
				got, err := b.Get(ctx, key)
				if err != nil || !bytes.Equal(got, v) {
					t.Fatalf("Get: %d bytes, %v; want %d bytes", len(got), err, len(v))
				}
				if n, err := b.Size(ctx, key); err != nil || n != int64(len(v)) {
					t.Fatalf("Size = %d, %v; want %d", n, err, len(v))
				}
				for _, r := range [][2]int64{{0, 100}, {max(int64(len(v))-50, 0), 100}, {4000, 5000}, {0, 1 << 20}} {
					checkRange(t, ctx, b, key, v, r[0], r[1])
				}
			}
		}
		versions := [][]byte{Data(11, 30000), Data(12, 50000), Data(13, 10), Data(14, 9000)}
		for i, v := range versions {
			if err := b.Put(ctx, key, v); err != nil {
				t.Fatal(err)
			}
			warm(v)
			if i == 1 {
				if err := b.Delete(ctx, key); err != nil {
					t.Fatal(err)
				}
				if _, err := b.Get(ctx, key); !errors.Is(err, objstore.ErrNotFound) {
					t.Fatalf("Get after Delete: %v", err)
				}
				if _, err := b.GetRange(ctx, key, 0, 100); !errors.Is(err, objstore.ErrNotFound) {
					t.Fatalf("GetRange after Delete: %v", err)
				}
				if _, err := b.Size(ctx, key); !errors.Is(err, objstore.ErrNotFound) {
					t.Fatalf("Size after Delete: %v", err)
				}
			}
		}
	})
	t.Run("CallerOwnsBytes", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		data := Data(21, 10000)
		if err := b.Put(ctx, "own/k", data); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			got, err := b.Get(ctx, "own/k")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("Get: %v", err)
			}
			clear(got)
			r, err := b.GetRange(ctx, "own/k", 100, 200)
			if err != nil || !bytes.Equal(r, data[100:300]) {
				t.Fatalf("GetRange: %v", err)
			}
			clear(r)
		}
		data[0] ^= 0xff // the bucket must not have kept the caller's slice
		got, err := b.Get(ctx, "own/k")
		if err != nil || got[0] == data[0] {
			t.Fatalf("Put kept a reference to the caller's slice (or Get failed: %v)", err)
		}
	})
}
