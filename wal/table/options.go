package table

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
	// DefaultNamespace is the default of Options.Namespace.
	DefaultNamespace = "wal"
	// DefaultBuckets is the default of Options.Buckets.
	DefaultBuckets = 64
	// DefaultMaxOpenConns is the default of Options.MaxOpenConns.
	DefaultMaxOpenConns = 16
	// DefaultMaxEntrySize is the default of Options.MaxEntrySize; the
	// database's max_allowed_packet may lower it.
	DefaultMaxEntrySize = 64 << 20
	// DefaultAppendTimeout is the default of Options.AppendTimeout.
	DefaultAppendTimeout = 10 * time.Second

	// maxAppendBytes bounds the payload bytes of one Append.
	maxAppendBytes = 1 << 30
)

var namespace = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,31}$`)

// Options configures a table-store WAL. Every field but DSN has a default,
// applied by EnsureDefaults.
type Options struct {
	// DSN is the go-sql-driver/mysql data source name of the database,
	// e.g. "horaedb:secret@tcp(127.0.0.1:3306)/horaedb". The database is
	// created if it does not exist and the user may. Required.
	DSN string

	// Namespace prefixes the WAL's table names: <ns>_meta, <ns>_shards,
	// <ns>_marks and the buckets <ns>_data_<k>. WALs that share a database
	// need different namespaces. Letters, digits and underscores, at most
	// 32. Default "wal".
	Namespace string

	// Buckets is the number of data tables; shard s keeps its rows in
	// bucket s mod Buckets. It is fixed when the namespace is first used
	// (stored in <ns>_meta); a different value later is ignored with a
	// warning. Default 64.
	Buckets int

	// MaxOpenConns caps the connections to the database. Default 16.
	MaxOpenConns int

	// Logger receives the WAL's logs. Default: a logger that discards
	// everything.
	Logger *slog.Logger

	// Registerer registers the WAL's metrics (horaedb_wal_table_*); Close
	// unregisters them. Default nil: no metrics are registered.
	Registerer prometheus.Registerer

	// MaxEntrySize is the largest payload of one entry, in bytes; Append
	// rejects a larger one with wal.ErrInvalid. It is lowered to what the
	// database's max_allowed_packet can carry. Default 64 MiB.
	MaxEntrySize int

	// AppendTimeout bounds the transaction of a group commit. Default 10s.
	AppendTimeout time.Duration

	// OpenTimeout bounds the queries of OpenLog (upstream's
	// init_scan_timeout). Default 10s.
	OpenTimeout time.Duration

	// CreateTableRetries is how often creating a table is retried, and
	// CreateTableRetryInterval the wait in between (upstream's
	// max_create_table_retries and create_table_retry_interval). Defaults
	// 2 and 5s.
	CreateTableRetries       int
	CreateTableRetryInterval time.Duration

	// CleanPeriod is how often each shard log deletes the rows below its
	// tables' truncation marks (data_namespace.clean_period). Default 1h.
	CleanPeriod time.Duration

	// TTL, if positive, also deletes rows older than TTL, truncated or not
	// (upstream Obkv's data_namespace.ttl): a bound on the WAL's size at
	// the price of losing unflushed writes that old. Default 0: rows are
	// only deleted once their tables are truncated.
	TTL time.Duration

	// CheckBatchResultNum checks that every insert of a group commit
	// affected as many rows as it carried (upstream's
	// check_batch_result_num). Default false here; the server sets it from
	// the config.
	CheckBatchResultNum bool

	// Dial, if set, opens the connections to the database (tests use it
	// to cut them). Default nil: the driver's dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// EnsureDefaults fills unset fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Buckets == 0 {
		o.Buckets = DefaultBuckets
	}
	if o.MaxOpenConns == 0 {
		o.MaxOpenConns = DefaultMaxOpenConns
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxEntrySize == 0 {
		o.MaxEntrySize = DefaultMaxEntrySize
	}
	if o.AppendTimeout == 0 {
		o.AppendTimeout = DefaultAppendTimeout
	}
	if o.OpenTimeout == 0 {
		o.OpenTimeout = 10 * time.Second
	}
	if o.CreateTableRetryInterval == 0 {
		o.CreateTableRetryInterval = 5 * time.Second
	}
	if o.CleanPeriod == 0 {
		o.CleanPeriod = time.Hour
	}
}

// Validate reports whether the options are usable. It expects defaults to
// have been filled in.
func (o *Options) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("wal/table: options: "+format+": %w", append(args, wal.ErrInvalid)...)
	}
	switch {
	case o.DSN == "":
		return bad("no DSN")
	case !namespace.MatchString(o.Namespace):
		return bad("namespace %q is not 1 to 32 letters, digits and underscores", o.Namespace)
	case o.Buckets < 1 || o.Buckets > 4096:
		return bad("buckets %d not in [1, 4096]", o.Buckets)
	case o.MaxOpenConns < 1:
		return bad("max open conns %d", o.MaxOpenConns)
	case o.Logger == nil:
		return bad("no logger")
	case o.MaxEntrySize <= 0 || o.MaxEntrySize > maxAppendBytes:
		return bad("max entry size %d not in [1, %d]", o.MaxEntrySize, maxAppendBytes)
	case o.AppendTimeout <= 0 || o.OpenTimeout <= 0 || o.CreateTableRetryInterval < 0:
		return bad("timeouts must be positive")
	case o.CreateTableRetries < 0:
		return bad("create table retries %d", o.CreateTableRetries)
	case o.CleanPeriod <= 0 || o.TTL < 0:
		return bad("clean period %s, ttl %s", o.CleanPeriod, o.TTL)
	}
	return nil
}
