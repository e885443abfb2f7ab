package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/server/config"
)

// sstKeys are the objects the caches may hold: SSTs are written once and
// never changed. Manifests are rewritten, by another node too once a shard
// moves, so they always come from the store.
const sstKeys = "tables/*/sst/*.parquet"

// storeKey is the config table named in the object store's errors.
const storeKey = "analytic.storage.object_store"

// openStore opens [analytic.storage]: the object store, then, from the
// inside out, request metrics, retries with backoff and timeouts, the disk
// cache and the memory cache. Metrics sit below the retries so that they
// count the requests the store really served; the caches sit above them
// so that a miss that meets a transient failure is retried and then
// cached. Closing the result closes the chain.
func openStore(ctx context.Context, st config.StorageConfig, storeDir string, log *slog.Logger, reg prometheus.Registerer) (objstore.Bucket, string, error) {
	o := st.ObjectStore
	var (
		b        objstore.Bucket
		where    string
		retries  int
		timeouts config.ObjectStoreTimeoutConfig
		err      error
	)
	switch {
	case o.Type == config.ObjectStoreS3 && o.S3 != nil:
		c := o.S3
		where = fmt.Sprintf("s3 bucket %s (endpoint %q, prefix %q)", c.Bucket, c.Endpoint, c.Prefix)
		retries, timeouts = c.MaxRetries, c.Timeout
		b, err = objstore.OpenS3(ctx, objstore.S3Options{Region: c.Region, KeyID: c.KeyID, KeySecret: c.KeySecret,
			Endpoint: c.Endpoint, Bucket: c.Bucket, Prefix: c.Prefix, HTTP: httpOptions(c.HTTP), ConfigKey: storeKey})
	case o.Type == config.ObjectStoreAliyun && o.Aliyun != nil:
		c := o.Aliyun
		where = fmt.Sprintf("OSS bucket %s (endpoint %q, prefix %q)", c.Bucket, c.Endpoint, c.Prefix)
		retries, timeouts = c.MaxRetries, c.Timeout
		b, err = objstore.OpenAliyun(ctx, objstore.AliyunOptions{KeyID: c.KeyID, KeySecret: c.KeySecret,
			Endpoint: c.Endpoint, Bucket: c.Bucket, Prefix: c.Prefix, HTTP: httpOptions(c.HTTP), ConfigKey: storeKey})
	case o.Type == config.ObjectStoreLocal && o.Local != nil:
		where = storeDir
		retries, timeouts = o.Local.MaxRetries, o.Local.Timeout
		b, err = objstore.OpenLocal(storeDir)
	default:
		return nil, "", fmt.Errorf("server: %s.type = %q has no settings", storeKey, o.Type)
	}
	if err != nil {
		return nil, "", fmt.Errorf("server: open the object store, %s: %w", where, err)
	}
	wrap := func(next objstore.Bucket, err error) error {
		if err != nil {
			return errors.Join(err, b.Close())
		}
		b = next
		return nil
	}
	if err := wrap(objstore.WithMetrics(b, objstore.MetricsOptions{Registerer: reg, Layer: "store"})); err != nil {
		return nil, "", err
	}
	if err := wrap(objstore.WithRetry(b, objstore.RetryOptions{MaxRetries: retries, Timeout: timeouts.Timeout.D(),
		IOTimeout: timeouts.IOTimeout.D(), Logger: log, Registerer: reg})); err != nil {
		return nil, "", err
	}
	if st.DiskCacheCapacity > 0 {
		if err := wrap(objstore.WithDiskCache(b, objstore.DiskCacheOptions{Dir: st.DiskCacheDir,
			Capacity: int64(st.DiskCacheCapacity), PageSize: int64(st.DiskCachePageSize),
			PartitionBits: st.DiskCachePartitionBits, Cacheable: objstore.KeyMatch(sstKeys),
			Logger: log, Registerer: reg})); err != nil {
			return nil, "", fmt.Errorf("server: analytic.storage.disk_cache_*: %w", err)
		}
		where += ", disk cache " + filepath.Clean(st.DiskCacheDir)
	}
	if st.MemCacheCapacity > 0 {
		if err := wrap(objstore.WithMemCache(b, objstore.MemCacheOptions{Capacity: int64(st.MemCacheCapacity),
			PartitionBits: st.MemCachePartitionBits, Cacheable: objstore.KeyMatch(sstKeys), Registerer: reg})); err != nil {
			return nil, "", fmt.Errorf("server: analytic.storage.mem_cache_*: %w", err)
		}
	}
	return b, where, nil
}

func httpOptions(h config.ObjectStoreHTTPConfig) objstore.HTTPOptions {
	return objstore.HTTPOptions{MaxIdleConnsPerHost: h.PoolMaxIdlePerHost, Timeout: h.Timeout.D(),
		KeepAliveInterval: h.KeepAliveInterval.D(), KeepAliveTimeout: h.KeepAliveTimeout.D()}
}
