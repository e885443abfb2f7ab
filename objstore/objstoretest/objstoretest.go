// Package objstoretest is the conformance suite every objstore.Bucket
// implementation (and every wrapper or fake) must pass.
package objstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/horaego/horaedb/objstore"
)

// Run runs the suite; open must return a new, empty bucket for each call.
func Run(t *testing.T, open func(t *testing.T) objstore.Bucket) {
	ctx := context.Background()
	t.Run("PutGet", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		data := []byte("hello world")
		if err := b.Put(ctx, "a/b/c.sst", data); err != nil {
			t.Fatal(err)
		}
		got, err := b.Get(ctx, "a/b/c.sst")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get = %q, %v", got, err)
		}
		n, err := b.Size(ctx, "a/b/c.sst")
		if err != nil || n != int64(len(data)) {
			t.Fatalf("Size = %d, %v", n, err)
		}
	})
	t.Run("Overwrite", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		for _, v := range []string{"first", "second, longer"} {
			if err := b.Put(ctx, "k", []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := b.Get(ctx, "k")
		if err != nil || string(got) != "second, longer" {
			t.Fatalf("Get = %q, %v", got, err)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		if err := b.Put(ctx, "empty", nil); err != nil {
			t.Fatal(err)
		}
		got, err := b.Get(ctx, "empty")
		if err != nil || len(got) != 0 {
			t.Fatalf("Get = %q, %v", got, err)
		}
	})
	t.Run("GetRange", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		data := []byte("0123456789")
		if err := b.Put(ctx, "r", data); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			off, n int64
			want   string
		}{{0, 3, "012"}, {5, 5, "56789"}, {8, 10, "89"}, {9, 1, "9"}, {3, 0, ""}, {0, 100, "0123456789"},
			{10, 5, ""}, {10, 0, ""}, {12, 3, ""}} {
			got, err := b.GetRange(ctx, "r", tc.off, tc.n)
			if err != nil || string(got) != tc.want {
				t.Errorf("GetRange(%d,%d) = %q, %v; want %q", tc.off, tc.n, got, err, tc.want)
			}
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		if _, err := b.Get(ctx, "missing"); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("Get missing: %v", err)
		}
		if _, err := b.GetRange(ctx, "missing", 0, 1); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("GetRange missing: %v", err)
		}
		if _, err := b.Size(ctx, "missing"); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("Size missing: %v", err)
		}
		if err := b.Delete(ctx, "missing"); err != nil {
			t.Errorf("Delete missing: %v", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		if err := b.Put(ctx, "d/x", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(ctx, "d/x"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, "d/x"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("Get after delete: %v", err)
		}
		if l, err := b.List(ctx, "d/"); err != nil || len(l) != 0 {
			t.Fatalf("List after delete = %v, %v", l, err)
		}
	})
	t.Run("List", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		keys := []string{"t/2/b", "t/1/a", "t/10/c", "u/1", "t/1/b"}
		for _, k := range keys {
			if err := b.Put(ctx, k, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := b.List(ctx, "t/1/")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != "[{t/1/a 5} {t/1/b 5}]" {
			t.Fatalf("List(t/1/) = %v", got)
		}
		got, err = b.List(ctx, "t/")
		if err != nil || len(got) != 4 || got[0].Key != "t/1/a" || got[3].Key != "t/2/b" {
			t.Fatalf("List(t/) = %v, %v", got, err)
		}
		all, err := b.List(ctx, "")
		if err != nil || len(all) != 5 {
			t.Fatalf("List() = %v, %v", all, err)
		}
	})
	t.Run("InvalidKeys", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		for _, k := range []string{"", "/abs", "a//b", "../x", "a/./b", "end/", "x.tmp", "sp ace", "ü"} {
			if err := b.Put(ctx, k, []byte("x")); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Put(%q) = %v, want ErrInvalidKey", k, err)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				key := fmt.Sprintf("c/%02d", i)
				val := bytes.Repeat([]byte{byte(i)}, 1000+i)
				if err := b.Put(ctx, key, val); err != nil {
					errs <- err
					return
				}
				got, err := b.Get(ctx, key)
				if err != nil || !bytes.Equal(got, val) {
					errs <- fmt.Errorf("get %s: %v", key, err)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		l, err := b.List(ctx, "c/")
		if err != nil || len(l) != 16 {
			t.Fatalf("List = %d, %v", len(l), err)
		}
	})
	runMore(t, ctx, open)
	t.Run("Close", func(t *testing.T) {
		b := open(t)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := b.Put(ctx, "k", nil); !errors.Is(err, objstore.ErrClosed) {
			t.Fatalf("Put after Close: %v", err)
		}
	})
}
