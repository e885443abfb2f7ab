package config

import (
	"github.com/horaego/horaedb/internal/units"
)

// Object store types, the values of analytic.storage.object_store.type.
const (
	ObjectStoreLocal  = "Local"
	ObjectStoreAliyun = "Aliyun"
	ObjectStoreS3     = "S3"
)

var objectStoreTypes = []string{ObjectStoreLocal, ObjectStoreAliyun, ObjectStoreS3}

// StorageConfig is [analytic.storage]: where SSTs and manifests are stored,
// and the caches in front of it.
type StorageConfig struct {
	// MemCacheCapacity is the size of the in-memory cache of object store
	// reads; 0 disables it. Default 512MB.
	MemCacheCapacity units.Size `toml:"mem_cache_capacity"`
	// MemCachePartitionBits splits the memory cache into 2^bits partitions.
	// Default 6.
	MemCachePartitionBits int `toml:"mem_cache_partition_bits"`
	// DiskCacheCapacity is the size of the on-disk cache of object store
	// reads; 0 disables it. It must be a multiple of
	// disk_cache_page_size * 2^disk_cache_partition_bits. Default 0.
	DiskCacheCapacity units.Size `toml:"disk_cache_capacity"`
	// DiskCachePageSize is the unit the disk cache stores. Default 2MB.
	DiskCachePageSize units.Size `toml:"disk_cache_page_size"`
	// DiskCachePartitionBits splits the disk cache into 2^bits partitions.
	// Default 4.
	DiskCachePartitionBits int `toml:"disk_cache_partition_bits"`
	// DiskCacheDir holds the disk cache. Default "data/disk_cache"
	// (upstream: $TMPDIR/horaedb).
	DiskCacheDir string `toml:"disk_cache_dir"`
	// ObjectStore is the store itself.
	ObjectStore ObjectStoreConfig `toml:"object_store"`
}

// maxPartitionBits bounds the cache partition bits (2^20 partitions is far
// more than any cache needs, and keeps page_size << bits from overflowing).
const maxPartitionBits = 20

func defaultStorage() StorageConfig {
	return StorageConfig{
		MemCacheCapacity:       512 << 20,
		MemCachePartitionBits:  6,
		DiskCachePageSize:      2 << 20,
		DiskCachePartitionBits: 4,
		DiskCacheDir:           "data/disk_cache",
		ObjectStore:            DefaultObjectStore(ObjectStoreLocal),
	}
}

func (s *StorageConfig) check(v *validator, key string) {
	partitionBits(v, key+".mem_cache_partition_bits", s.MemCachePartitionBits)
	if s.MemCacheCapacity > 0 && s.MemCachePartitionBits >= 0 && uint64(s.MemCacheCapacity)>>s.MemCachePartitionBits == 0 {
		v.add(key+".mem_cache_capacity", "%s is smaller than one byte per partition (2^%d partitions)",
			s.MemCacheCapacity, s.MemCachePartitionBits)
	}
	partitionBits(v, key+".disk_cache_partition_bits", s.DiskCachePartitionBits)
	if s.DiskCacheCapacity > 0 {
		v.required(key+".disk_cache_dir", s.DiskCacheDir)
		if s.DiskCachePageSize == 0 {
			v.add(key+".disk_cache_page_size", "must be positive when the disk cache is enabled")
		} else if s.DiskCachePartitionBits >= 0 && s.DiskCachePartitionBits <= maxPartitionBits {
			unit := uint64(s.DiskCachePageSize) << s.DiskCachePartitionBits
			if uint64(s.DiskCacheCapacity)%unit != 0 {
				v.add(key+".disk_cache_capacity", "%s is not a multiple of disk_cache_page_size * 2^disk_cache_partition_bits = %s",
					s.DiskCacheCapacity, units.Size(unit))
			}
		}
	}
	s.ObjectStore.check(v, key+".object_store")
}

func partitionBits(v *validator, key string, bits int) {
	if bits < 0 || bits > maxPartitionBits {
		v.add(key, "must be in 0..%d, got %d", maxPartitionBits, bits)
	}
}

// ObjectStoreConfig is [analytic.storage.object_store], tagged by type. Parse
// sets only the pointer named by Type; the others are ignored.
type ObjectStoreConfig struct {
	// Type is Local, Aliyun or S3. Default "Local".
	Type string `toml:"type"`
	// Local is set for type Local: files under a directory.
	Local *LocalObjectStoreConfig `toml:"-"`
	// Aliyun is set for type Aliyun: an Alibaba Cloud OSS bucket.
	Aliyun *AliyunObjectStoreConfig `toml:"-"`
	// S3 is set for type S3: an S3 (or S3-compatible) bucket.
	S3 *S3ObjectStoreConfig `toml:"-"`
}

// LocalObjectStoreConfig is object store type Local.
type LocalObjectStoreConfig struct {
	// DataDir is the root directory. Default "data" (upstream:
	// $TMPDIR/horaedb).
	DataDir string `toml:"data_dir"`
	// MaxRetries is how often a failed operation is retried. Default 3.
	MaxRetries int `toml:"max_retries"`
	// Timeout bounds operations.
	Timeout ObjectStoreTimeoutConfig `toml:"timeout"`
}

// AliyunObjectStoreConfig is object store type Aliyun (OSS).
type AliyunObjectStoreConfig struct {
	// KeyID is the access key id. Required.
	KeyID string `toml:"key_id"`
	// KeySecret is the access key secret. Required.
	KeySecret string `toml:"key_secret"`
	// Endpoint is the OSS endpoint, e.g. "oss-cn-hangzhou.aliyuncs.com".
	// Required.
	Endpoint string `toml:"endpoint"`
	// Bucket is the bucket name. Required.
	Bucket string `toml:"bucket"`
	// Prefix is prepended to every object key. Default "".
	Prefix string `toml:"prefix"`
	// MaxRetries is how often a failed operation is retried. Default 3.
	MaxRetries int `toml:"max_retries"`
	// HTTP configures the HTTP client.
	HTTP ObjectStoreHTTPConfig `toml:"http"`
	// Timeout bounds operations.
	Timeout ObjectStoreTimeoutConfig `toml:"timeout"`
}

// S3ObjectStoreConfig is object store type S3.
type S3ObjectStoreConfig struct {
	// Region is the bucket's region. Required.
	Region string `toml:"region"`
	// KeyID is the access key id. Default "": credentials come from the
	// environment (AWS_ACCESS_KEY_ID ...).
	KeyID string `toml:"key_id"`
	// KeySecret is the secret access key; set together with KeyID.
	KeySecret string `toml:"key_secret"`
	// Endpoint is the S3 endpoint URL; set it for MinIO and other
	// S3-compatible stores. Default "": AWS.
	Endpoint string `toml:"endpoint"`
	// Bucket is the bucket name. Required.
	Bucket string `toml:"bucket"`
	// Prefix is prepended to every object key. Default "".
	Prefix string `toml:"prefix"`
	// MaxRetries is how often a failed operation is retried. Default 3.
	MaxRetries int `toml:"max_retries"`
	// HTTP configures the HTTP client.
	HTTP ObjectStoreHTTPConfig `toml:"http"`
	// Timeout bounds operations.
	Timeout ObjectStoreTimeoutConfig `toml:"timeout"`
}

// ObjectStoreTimeoutConfig is the timeout table of an object store.
type ObjectStoreTimeoutConfig struct {
	// Timeout bounds a whole operation. Default 10s.
	Timeout units.Duration `toml:"timeout"`
	// IOTimeout bounds one read or write of an operation. Default 10s.
	IOTimeout units.Duration `toml:"io_timeout"`
}

// ObjectStoreHTTPConfig is the http table of a remote object store.
type ObjectStoreHTTPConfig struct {
	// PoolMaxIdlePerHost caps idle connections per host. Default 1024.
	PoolMaxIdlePerHost int `toml:"pool_max_idle_per_host"`
	// Timeout bounds one HTTP request. Default 60s.
	Timeout units.Duration `toml:"timeout"`
	// KeepAliveTimeout is how long a keep-alive ping may stay unanswered.
	// Default 60s.
	KeepAliveTimeout units.Duration `toml:"keep_alive_timeout"`
	// KeepAliveInterval is the keep-alive interval. Default 2s.
	KeepAliveInterval units.Duration `toml:"keep_alive_interval"`
}

func defaultObjectStoreTimeout() ObjectStoreTimeoutConfig {
	return ObjectStoreTimeoutConfig{Timeout: seconds(10), IOTimeout: seconds(10)}
}

func defaultObjectStoreHTTP() ObjectStoreHTTPConfig {
	return ObjectStoreHTTPConfig{
		PoolMaxIdlePerHost: 1024,
		Timeout:            seconds(60),
		KeepAliveTimeout:   seconds(60),
		KeepAliveInterval:  seconds(2),
	}
}

func defaultLocalObjectStore() *LocalObjectStoreConfig {
	return &LocalObjectStoreConfig{DataDir: "data", MaxRetries: 3, Timeout: defaultObjectStoreTimeout()}
}

func defaultAliyunObjectStore() *AliyunObjectStoreConfig {
	return &AliyunObjectStoreConfig{MaxRetries: 3, HTTP: defaultObjectStoreHTTP(), Timeout: defaultObjectStoreTimeout()}
}

func defaultS3ObjectStore() *S3ObjectStoreConfig {
	return &S3ObjectStoreConfig{MaxRetries: 3, HTTP: defaultObjectStoreHTTP(), Timeout: defaultObjectStoreTimeout()}
}

// DefaultObjectStore returns the defaults of object store type t, or a
// config with only Type set if t is unknown.
func DefaultObjectStore(t string) ObjectStoreConfig {
	o := ObjectStoreConfig{Type: t}
	switch t {
	case ObjectStoreLocal:
		o.Local = defaultLocalObjectStore()
	case ObjectStoreAliyun:
		o.Aliyun = defaultAliyunObjectStore()
	case ObjectStoreS3:
		o.S3 = defaultS3ObjectStore()
	}
	return o
}

func (o *ObjectStoreConfig) check(v *validator, key string) {
	switch o.Type {
	case ObjectStoreLocal:
		if o.Local == nil {
			v.add(key, "type %s has no settings", o.Type)
			return
		}
		v.required(key+".data_dir", o.Local.DataDir)
		v.nonNegative(key+".max_retries", o.Local.MaxRetries)
		o.Local.Timeout.check(v, key+".timeout")
	case ObjectStoreAliyun:
		a := o.Aliyun
		if a == nil {
			v.add(key, "type %s has no settings", o.Type)
			return
		}
		v.required(key+".key_id", a.KeyID)
		v.required(key+".key_secret", a.KeySecret)
		v.required(key+".endpoint", a.Endpoint)
		v.required(key+".bucket", a.Bucket)
		v.nonNegative(key+".max_retries", a.MaxRetries)
		a.HTTP.check(v, key+".http")
		a.Timeout.check(v, key+".timeout")
	case ObjectStoreS3:
		s := o.S3
		if s == nil {
			v.add(key, "type %s has no settings", o.Type)
			return
		}
		v.required(key+".region", s.Region)
		v.required(key+".bucket", s.Bucket)
		if (s.KeyID == "") != (s.KeySecret == "") {
			v.add(key+".key_secret", "key_id and key_secret must be set together")
		}
		v.nonNegative(key+".max_retries", s.MaxRetries)
		s.HTTP.check(v, key+".http")
		s.Timeout.check(v, key+".timeout")
	default:
		v.oneOf(key+".type", "type", o.Type, objectStoreTypes...)
	}
}

func (t *ObjectStoreTimeoutConfig) check(v *validator, key string) {
	durPositive(v, key+".timeout", t.Timeout)
	durPositive(v, key+".io_timeout", t.IOTimeout)
}

func (h *ObjectStoreHTTPConfig) check(v *validator, key string) {
	v.nonNegative(key+".pool_max_idle_per_host", h.PoolMaxIdlePerHost)
	durPositive(v, key+".timeout", h.Timeout)
	durPositive(v, key+".keep_alive_timeout", h.KeepAliveTimeout)
	durPositive(v, key+".keep_alive_interval", h.KeepAliveInterval)
}
