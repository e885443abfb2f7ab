package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/horaego/horaedb/internal/miniotest"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/server/config"
)

func s3Config(m *miniotest.Server, bucket string) config.Config {
	cfg := config.Default()
	cfg.Analytic.Storage.ObjectStore = config.DefaultObjectStore(config.ObjectStoreS3)
	c := cfg.Analytic.Storage.ObjectStore.S3
	c.Region, c.KeyID, c.KeySecret = miniotest.Region, miniotest.AccessKey, miniotest.SecretKey
	c.Endpoint, c.Bucket, c.Prefix = m.Endpoint, bucket, "cluster-a"
	return cfg
}

// TestServerOnS3 runs a node whose SSTs and manifests live in MinIO, with
// a disk cache: rows survive a restart, the objects are in the bucket under
// the prefix, and SST reads are served by the caches.
func TestServerOnS3(t *testing.T) {
	m := miniotest.Start(t)
	m.CreateBucket(t, "horaedb")
	cfg := s3Config(m, "horaedb")
	cfg.Analytic.Storage.DiskCacheCapacity = 64 << 20
	cfg.Analytic.Storage.DiskCachePageSize = 1 << 20
	cfg.Analytic.Storage.DiskCachePartitionBits = 2
	dir := t.TempDir()
	cfg.Analytic.Storage.DiskCacheDir = dir + "/cache"

	s, url := startServerWith(t, cfg, dir)
	now := time.Now().UnixMilli()
	for _, stmt := range []string{
		`CREATE TABLE c (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t))`,
		fmt.Sprintf(`INSERT INTO c (host, v, t) VALUES ('a', 1, %d), ('b', 2.5, %d)`, now-2000, now-1000),
	} {
		if code, body := post(t, url+"/sql", stmt); code != 200 {
			t.Fatalf("%s: %d %s", stmt, code, body)
		}
	}
	if code, body := post(t, url+"/debug/flush_memtable", ""); code != 200 || !strings.Contains(body, `"success":["c"]`) {
		t.Fatalf("flush: %d %s", code, body)
	}
	const want = `{"rows":[{"host":"a","v":1.0},{"host":"b","v":2.5}]}`
	for i := 0; i < 2; i++ { // the second read is served by the caches
		if code, body := post(t, url+"/sql", `SELECT host, v FROM c ORDER BY host`); code != 200 || body != want {
			t.Fatalf("read %d: %d %s", i, code, body)
		}
	}
	_, metrics := get(t, url+"/metrics")
	if !strings.Contains(metrics, `horaedb_objstore_operations_total{layer="store",op="put"}`) ||
		!regexp.MustCompile(`horaedb_objstore_cache_requests_total\{cache="memory",result="hit"\} [1-9]`).MatchString(metrics) {
		var lines []string
		for _, l := range strings.Split(metrics, "\n") {
			if strings.HasPrefix(l, "horaedb_objstore") {
				lines = append(lines, l)
			}
		}
		t.Errorf("object store and cache metrics missing or no cache hit:\n%s", strings.Join(lines, "\n"))
	}

	out, err := m.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("horaedb"), Prefix: aws.String("cluster-a/tables/")})
	if err != nil {
		t.Fatal(err)
	}
	var ssts int
	for _, o := range out.Contents {
		if strings.HasSuffix(*o.Key, ".parquet") {
			ssts++
		}
	}
	if ssts == 0 {
		t.Fatalf("no SST under cluster-a/tables/ in the bucket: %d objects", len(out.Contents))
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, url = startServerWith(t, cfg, dir)
	if code, body := post(t, url+"/sql", `SELECT host, v FROM c ORDER BY host`); code != 200 || body != want {
		t.Fatalf("after a restart: %d %s", code, body)
	}
}

// TestServerS3StartupErrors checks that a wrong secret and a missing bucket
// stop the start with an error naming the key to fix.
func TestServerS3StartupErrors(t *testing.T) {
	m := miniotest.Start(t)
	m.CreateBucket(t, "horaedb")
	for _, tc := range []struct {
		name   string
		mutate func(*config.S3ObjectStoreConfig)
		is     error
		key    string
	}{
		{"wrong secret", func(c *config.S3ObjectStoreConfig) { c.KeySecret = "wrong" }, objstore.ErrPermissionDenied, "key_secret"},
		{"missing bucket", func(c *config.S3ObjectStoreConfig) { c.Bucket = "nope" }, objstore.ErrBucketNotFound, "bucket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := s3Config(m, "horaedb")
			tc.mutate(cfg.Analytic.Storage.ObjectStore.S3)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(cfg, Options{DataDir: t.TempDir(), Listener: ln, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Start(context.Background())
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), "analytic.storage.object_store."+tc.key) {
				t.Fatalf("Start: %v; want %v naming analytic.storage.object_store.%s", err, tc.is, tc.key)
			}
			if strings.Contains(err.Error(), miniotest.SecretKey) {
				t.Fatalf("the error shows the secret: %v", err)
			}
		})
	}
}
