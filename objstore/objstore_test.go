package objstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/objstore/objstoretest"
)

func TestMemory(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) objstore.Bucket { return objstore.NewMemory() })
}

func TestLocal(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) objstore.Bucket {
		b, err := objstore.OpenLocal(filepath.Join(t.TempDir(), "store"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

// TestLocalLayout checks that objects are plain files at dir/key, that no
// metadata side files are written, and that a leftover temp file from an
// interrupted write is not listed.
func TestLocalLayout(t *testing.T) {
	dir := t.TempDir()
	b, err := objstore.OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if err := b.Put(ctx, "tables/1/x.sst", []byte("abc")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "tables", "1", "x.sst"))
	if err != nil || string(got) != "abc" {
		t.Fatalf("file = %q, %v", got, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "tables", "1"))
	if len(entries) != 1 {
		t.Fatalf("dir holds %d entries, want 1", len(entries))
	}
	if err := os.WriteFile(filepath.Join(dir, "tables", "1", "y.sst.17f3a.tmp"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := b.List(ctx, "tables/")
	if err != nil || len(l) != 1 || l[0].Key != "tables/1/x.sst" {
		t.Fatalf("List = %v, %v", l, err)
	}
}
