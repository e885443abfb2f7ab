package objstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/horaego/horaedb/internal/miniotest"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/objstore/objstoretest"
)

// BenchmarkGetRange reads 64 KiB at random-ish offsets of an 8 MiB SST:
// from the backends, and as hits of each cache.
func BenchmarkGetRange(b *testing.B) {
	ctx := context.Background()
	const key, size, n = "tables/1/sst/1.parquet", 8 << 20, 64 << 10
	data := objstoretest.Data(1, size)
	run := func(b *testing.B, bk objstore.Bucket) {
		if err := bk.Put(ctx, key, data); err != nil {
			b.Fatal(err)
		}
		offs := []int64{0, 3 << 20, 5<<20 + 4321, 7 << 20, size - n}
		for _, off := range offs { // warm the caches
			if _, err := bk.GetRange(ctx, key, off, n); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(n)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if _, err := bk.GetRange(ctx, key, offs[i%len(offs)], n); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("memory", func(b *testing.B) { run(b, objstore.NewMemory()) })
	b.Run("local", func(b *testing.B) {
		bk, err := objstore.OpenLocal(filepath.Join(b.TempDir(), "store"))
		if err != nil {
			b.Fatal(err)
		}
		run(b, bk)
	})
	b.Run("memcache-hit", func(b *testing.B) {
		bk, err := objstore.WithMemCache(objstore.NewMemory(), objstore.MemCacheOptions{Capacity: 64 << 20, PartitionBits: 6})
		if err != nil {
			b.Fatal(err)
		}
		run(b, bk)
	})
	b.Run("diskcache-hit", func(b *testing.B) {
		bk, err := objstore.WithDiskCache(objstore.NewMemory(), objstore.DiskCacheOptions{
			Dir: b.TempDir(), Capacity: 64 << 20, PageSize: 2 << 20, PartitionBits: 4,
		})
		if err != nil {
			b.Fatal(err)
		}
		run(b, bk)
	})
	b.Run("minio", func(b *testing.B) {
		srv := miniotest.Start(b)
		srv.CreateBucket(b, "bench")
		bk, err := objstore.OpenS3(ctx, objstore.S3Options{
			Endpoint: srv.Endpoint, Bucket: "bench", KeyID: miniotest.AccessKey, KeySecret: miniotest.SecretKey,
		})
		if err != nil {
			b.Fatal(err)
		}
		run(b, bk)
	})
}
