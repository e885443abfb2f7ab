package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/wal"
)

// Defaults of Options.
const (
	// DefaultTopicPrefix is the default of Options.TopicPrefix.
	DefaultTopicPrefix = "horaedb_wal"
	// DefaultMaxMessageBytes is the default of Options.MaxMessageBytes:
	// Kafka's default max.message.bytes, so that the WAL works with a
	// broker's defaults.
	DefaultMaxMessageBytes = 1_000_012
	// DefaultMaxEntrySize is the default of Options.MaxEntrySize.
	DefaultMaxEntrySize = 64 << 20
	// DefaultAppendTimeout is the default of Options.AppendTimeout.
	DefaultAppendTimeout = 5 * time.Second
	// DefaultFetchMaxBytes is the default of Options.FetchMaxBytes.
	DefaultFetchMaxBytes = 16 << 20

	// minMaxMessageBytes is the smallest MaxMessageBytes: room for a
	// record batch header and a useful part.
	minMaxMessageBytes = 16 << 10
	// batchOverhead is what we leave, out of MaxMessageBytes, for the record
	// batch and record framing around a record value.
	batchOverhead = 4 << 10
	// maxAppendBytes bounds the encoded size of one Append.
	maxAppendBytes = 1 << 30
)

var topicPrefix = regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`)

// Options configures a Kafka WAL. Every field but Brokers has a default,
// applied by EnsureDefaults.
type Options struct {
	// Brokers are the "host:port" addresses to bootstrap from
	// (analytic.wal.kafka.client.boost_brokers). Required.
	Brokers []string

	// TopicPrefix names the topics: shard s has its data in topic
	// "<prefix>_<s>" and its truncation marks in "<prefix>_meta_<s>". WALs
	// that share a Kafka cluster need different prefixes. Default
	// "horaedb_wal".
	TopicPrefix string

	// Logger receives the WAL's logs and the Kafka client's warnings and
	// errors. Default: a logger that discards everything.
	Logger *slog.Logger

	// Registerer registers the WAL's metrics (horaedb_wal_kafka_*); Close
	// unregisters them. Default nil: no metrics are registered.
	Registerer prometheus.Registerer

	// ReplicationFactor of the topics the WAL creates
	// (topic_management.create_replication_factor). Default 1.
	ReplicationFactor int
	// CreateTimeout bounds the broker's work on a CreateTopics request
	// (topic_management.create_max_wait_ms). Default 5s.
	CreateTimeout time.Duration
	// DeleteTimeout bounds the broker's work on a DeleteRecords request
	// (topic_management.delete_max_wait_ms). Default 5s.
	DeleteTimeout time.Duration

	// FetchMaxWait is how long a fetch may wait for FetchMinBytes
	// (consumer.max_wait_ms). Default 0: reads return what there is.
	FetchMaxWait time.Duration
	// FetchMinBytes is the least a fetch waits for, up to FetchMaxWait
	// (consumer.min_batch_size). Default 1.
	FetchMinBytes int32
	// FetchMaxBytes is the most a fetch returns, in bytes
	// (consumer.max_batch_size); a larger record is still returned whole.
	// Default 16 MiB.
	FetchMaxBytes int32

	// MaxMessageBytes bounds a produced record batch (client.
	// max_message_size); the WAL creates its topics with this
	// max.message.bytes. Appends larger than one record are split over
	// several records and read back only when complete. Default 1000012,
	// Kafka's default; at least 16 KiB.
	MaxMessageBytes int
	// MaxEntrySize is the largest payload of one entry, in bytes; Append
	// rejects a larger one with wal.ErrInvalid. Default 64 MiB, at most
	// 1 GiB.
	MaxEntrySize int

	// AppendTimeout bounds the wait for Kafka's acknowledgement of an
	// Append. When it expires the Append fails with wal.ErrUnavailable and
	// later Appends fail at once, except for one probe at a time, until
	// Kafka acknowledges again. Default 5s.
	AppendTimeout time.Duration

	// InitRetryInterval, RetryIntervalFactor and MaxRetryInterval shape the
	// backoff between retries of a failed request: the first waits
	// InitRetryInterval, each later one RetryIntervalFactor times longer,
	// up to MaxRetryInterval. MaxRetry bounds the retries of a request
	// other than a produce. Defaults 1s, 2.0, 10s and 10 (upstream's
	// init_retry_interval, retry_interval_factor, max_retry_interval,
	// max_retry).
	InitRetryInterval   time.Duration
	RetryIntervalFactor float64
	MaxRetryInterval    time.Duration
	MaxRetry            int

	// CleanPeriod is how often each shard log deletes, with DeleteRecords,
	// the records below its tables' truncation marks
	// (data_namespace.clean_period). Default 1h.
	CleanPeriod time.Duration
	// MetaCleanPeriod is how often each shard log rewrites its marks as one
	// snapshot and deletes the older mark records
	// (meta_namespace.clean_period). Default 1h.
	MetaCleanPeriod time.Duration

	// Socks5Proxy, if set, is the "host:port" of a SOCKS5 proxy (no
	// authentication) every broker connection goes through
	// (client.socks5_proxy). Default "": direct connections.
	Socks5Proxy string

	// Dial, if set, opens the connections to the brokers (tests use it to
	// cut them). Default nil: net.Dialer, or the SOCKS5 proxy.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// EnsureDefaults fills unset fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.TopicPrefix == "" {
		o.TopicPrefix = DefaultTopicPrefix
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ReplicationFactor == 0 {
		o.ReplicationFactor = 1
	}
	if o.CreateTimeout == 0 {
		o.CreateTimeout = 5 * time.Second
	}
	if o.DeleteTimeout == 0 {
		o.DeleteTimeout = 5 * time.Second
	}
	if o.FetchMinBytes == 0 {
		o.FetchMinBytes = 1
	}
	if o.FetchMaxBytes == 0 {
		o.FetchMaxBytes = DefaultFetchMaxBytes
	}
	if o.MaxMessageBytes == 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.MaxEntrySize == 0 {
		o.MaxEntrySize = DefaultMaxEntrySize
	}
	if o.AppendTimeout == 0 {
		o.AppendTimeout = DefaultAppendTimeout
	}
	if o.InitRetryInterval == 0 {
		o.InitRetryInterval = time.Second
	}
	if o.RetryIntervalFactor == 0 {
		o.RetryIntervalFactor = 2
	}
	if o.MaxRetryInterval == 0 {
		o.MaxRetryInterval = 10 * time.Second
	}
	if o.MaxRetry == 0 {
		o.MaxRetry = 10
	}
	if o.CleanPeriod == 0 {
		o.CleanPeriod = time.Hour
	}
	if o.MetaCleanPeriod == 0 {
		o.MetaCleanPeriod = time.Hour
	}
}

// Validate reports whether the options are usable. It expects defaults to
// have been filled in.
func (o *Options) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("wal/kafka: options: "+format+": %w", append(args, wal.ErrInvalid)...)
	}
	switch {
	case len(o.Brokers) == 0:
		return bad("no brokers")
	case !topicPrefix.MatchString(o.TopicPrefix):
		return bad("topic prefix %q is not 1 to 200 of [A-Za-z0-9._-]", o.TopicPrefix)
	case o.Logger == nil:
		return bad("no logger")
	case o.ReplicationFactor < 1 || o.ReplicationFactor > 32767:
		return bad("replication factor %d not in [1, 32767]", o.ReplicationFactor)
	case o.CreateTimeout < 0 || o.DeleteTimeout < 0 || o.FetchMaxWait < 0:
		return bad("negative timeout")
	case o.FetchMinBytes < 0 || o.FetchMaxBytes < 1:
		return bad("fetch bytes min %d max %d", o.FetchMinBytes, o.FetchMaxBytes)
	case o.MaxMessageBytes < minMaxMessageBytes || o.MaxMessageBytes > 1<<30:
		return bad("max message bytes %d not in [%d, %d]", o.MaxMessageBytes, minMaxMessageBytes, 1<<30)
	case o.MaxEntrySize <= 0 || o.MaxEntrySize > maxAppendBytes:
		return bad("max entry size %d not in [1, %d]", o.MaxEntrySize, maxAppendBytes)
	case o.AppendTimeout < 0:
		return bad("negative append timeout")
	case o.InitRetryInterval <= 0 || o.MaxRetryInterval < o.InitRetryInterval:
		return bad("retry intervals %s to %s", o.InitRetryInterval, o.MaxRetryInterval)
	case o.RetryIntervalFactor < 1:
		return bad("retry interval factor %v below 1", o.RetryIntervalFactor)
	case o.MaxRetry < 0:
		return bad("max retry %d", o.MaxRetry)
	case o.CleanPeriod <= 0 || o.MetaCleanPeriod <= 0:
		return bad("clean periods must be positive")
	}
	return nil
}

// backoff returns the wait before retry number try (1 for the first).
func (o *Options) backoff(try int) time.Duration {
	d := float64(o.InitRetryInterval)
	for i := 1; i < try && d < float64(o.MaxRetryInterval); i++ {
		d *= o.RetryIntervalFactor
	}
	return min(time.Duration(d), o.MaxRetryInterval)
}

// partSize is the largest record value of a data record part.
func (o *Options) partSize() int { return o.MaxMessageBytes - batchOverhead }

func (o *Options) dataTopic(shard uint32) string {
	return fmt.Sprintf("%s_%d", o.TopicPrefix, shard)
}

func (o *Options) metaTopic(shard uint32) string {
	return fmt.Sprintf("%s_meta_%d", o.TopicPrefix, shard)
}
