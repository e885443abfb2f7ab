// Package grpcapi serves storage.StorageService, the client-facing gRPC API
// of a data node that Apache HoraeDB's official SDKs speak (proto/storagepb,
// wire facts in reference/storage-api.md): SQL with Arrow IPC results,
// writes that create tables and add columns, table routes, and Prometheus
// remote-read queries.
//
// The service runs on interfaces it declares (SQLExecutor, Writer, Router),
// which *query.Executor and, later, a cluster's router implement. Errors from
// below are mapped here to the HTTP-like codes of the response header: the
// gRPC status stays OK and the SDKs read the header. Malformed or oversized
// messages are refused by gRPC itself (InvalidArgument-like codes,
// ResourceExhausted) before any handler runs, so nothing of them is applied.
//
// Register the service on a *grpc.Server built with ServerOptions: they
// carry the receive limit and the interceptors that check credentials,
// apply server.timeout and count requests. The interceptors only act on
// StorageService methods, so other services (the meta event service) can
// share the server and port.
package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/auth"
)

// SQLExecutor runs one SQL statement and tells the schema of a table (for
// PromRemoteQuery: promremote.Read plans by columns); *query.Executor
// implements it. For a
// query the Result yields its batches as they are produced (Result.Next);
// the caller releases the Result.
type SQLExecutor interface {
	ExecuteStream(ctx context.Context, sess query.Session, sql string) (*query.Result, error)
	// TableSchema returns engine.ErrTableNotFound for a missing table.
	TableSchema(database, table string) (*schema.Schema, error)
}

// Writer writes rows, creating missing tables and columns, all or nothing
// per request when a value is bad; *query.Executor implements it.
type Writer interface {
	Write(ctx context.Context, sess query.Session, tables []query.WriteTable, o query.WriteOptions) (int64, error)
}

// Defaults of Options.
const (
	// DefaultRespCompressMinLength is the default of
	// Options.RespCompressMinLength (server.resp_compress_min_length).
	DefaultRespCompressMinLength = 4 << 20
	// DefaultMaxRecvMsgSize is the default of Options.MaxRecvMsgSize, the
	// default of server.http_max_body_size.
	DefaultMaxRecvMsgSize = 64 << 20
	// DefaultTimestampColumn is the default of Options.TimestampColumn.
	DefaultTimestampColumn = "timestamp"
)

// Options configure a Service.
type Options struct {
	// SQL runs SqlQuery, StreamSqlQuery and PromRemoteQuery. Required.
	SQL SQLExecutor
	// Writer runs Write and StreamWrite. Required.
	Writer Writer
	// Endpoint is this node's advertised gRPC address (node.addr and the
	// gRPC port), the answer of the default Router. Required unless Router
	// is set.
	Endpoint Endpoint
	// Router answers Route. Default: every table is served at Endpoint (a
	// standalone node). A cluster plugs in its table → node lookup here.
	Router Router
	// Forwarder, in a cluster, sends requests for tables served elsewhere
	// to their owner (forward.go). Default nil: every table is served
	// here.
	Forwarder Forwarder
	// Users are checked against the "authorization" metadata of every
	// StorageService call (Basic). Default nil: auth is off.
	Users *auth.Users
	// TimestampColumn names the timestamp column of tables a write creates
	// (server.default_schema_config.default_timestamp_column_name). Default
	// "timestamp".
	TimestampColumn string
	// RespCompressMinLength: an Arrow payload of at least this many bytes is
	// sent zstd-compressed (server.resp_compress_min_length). Default 4 MiB;
	// negative: never compress.
	RespCompressMinLength int64
	// MaxRecvMsgSize is the largest request message accepted, in bytes;
	// larger ones fail with ResourceExhausted before anything runs. Default
	// 64 MiB.
	MaxRecvMsgSize int
	// Timeout bounds each call (server.timeout); a call that runs longer
	// is cancelled and answers 504. Default 0: no limit.
	Timeout time.Duration
	// SlowQueryThreshold: statements that take longer are logged at info
	// level. Default 1s.
	SlowQueryThreshold time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Registerer receives the service's metrics. Default: a private
	// registry (the metrics are kept but not exported).
	Registerer prometheus.Registerer
}

// Service implements storagepb.StorageServiceServer. Create it with New.
type Service struct {
	storagepb.UnimplementedStorageServiceServer

	o       Options
	log     *slog.Logger
	metrics *metrics
	zstd    *zstd.Encoder // EncodeAll is safe for concurrent use

	// testHookNext, when set by a test, is called before StreamSqlQuery
	// asks the executor for a batch, with the number of times it asked
	// before.
	testHookNext func(calls int)
}

var _ storagepb.StorageServiceServer = (*Service)(nil)

// New checks o, fills in defaults and registers the metrics. It starts
// nothing.
func New(o Options) (*Service, error) {
	if o.SQL == nil || o.Writer == nil {
		return nil, errors.New("grpcapi: Options.SQL and Options.Writer are required")
	}
	if o.Router == nil {
		if o.Endpoint.Host == "" || o.Endpoint.Port == 0 {
			return nil, fmt.Errorf("grpcapi: Options.Endpoint %q is incomplete and no Router is set", o.Endpoint)
		}
		o.Router = StaticRouter(o.Endpoint)
	}
	if o.TimestampColumn == "" {
		o.TimestampColumn = DefaultTimestampColumn
	}
	if o.RespCompressMinLength == 0 {
		o.RespCompressMinLength = DefaultRespCompressMinLength
	}
	if o.MaxRecvMsgSize <= 0 {
		o.MaxRecvMsgSize = DefaultMaxRecvMsgSize
	}
	if o.SlowQueryThreshold <= 0 {
		o.SlowQueryThreshold = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("grpcapi: zstd: %w", err)
	}
	return &Service{o: o, log: o.Logger, metrics: m, zstd: enc}, nil
}

// ServerOptions are the options a *grpc.Server serving this service needs:
// the receive limit and the interceptors (metrics, timeout, auth), which act
// on StorageService methods only. Append options of other services after
// them; grpc chains interceptors given in several options.
func (s *Service) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(s.o.MaxRecvMsgSize),
		grpc.ChainUnaryInterceptor(s.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(s.StreamInterceptor()),
	}
}

// Register registers the service on r (a *grpc.Server).
func (s *Service) Register(r grpc.ServiceRegistrar) {
	storagepb.RegisterStorageServiceServer(r, s)
}

// session is the query session of a request context.
func session(c *storagepb.RequestContext) query.Session {
	db := c.GetDatabase()
	if db == "" {
		db = query.DefaultDatabase
	}
	return query.Session{Database: db}
}
