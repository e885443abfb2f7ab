// Package mysqlwire serves HoraeDB's SQL over the MySQL client/server
// protocol (port 3307 by default), so that MySQL tooling connects: the
// mysql and mariadb command-line clients, go-sql-driver/mysql, JDBC, and
// Grafana's MySQL data source.
//
// It speaks protocol 4.1: the v10 handshake with mysql_native_password
// (clients that open with caching_sha2_password are switched to it with an
// AuthSwitchRequest), the text protocol (COM_QUERY, with
// CLIENT_MULTI_STATEMENTS), prepared statements (COM_STMT_PREPARE,
// EXECUTE with binary parameters and binary result rows, SEND_LONG_DATA,
// RESET, CLOSE), COM_INIT_DB, COM_PING, COM_FIELD_LIST (empty), COM_QUIT,
// COM_SET_OPTION and COM_RESET_CONNECTION. Statements go to a query
// executor; the queries clients send on connect (SELECT @@..., SHOW
// VARIABLES, SET ...) get canned answers (compat.go). Parameters of
// prepared statements are bound by rendering them as literals of the SQL
// dialect into the statement (package sqltext).
//
// The wire formats are documented next to the code that reads or writes
// them: packets in packet.go, the handshake in handshake.go, result sets in
// result.go and values.go, prepared statements in stmt.go. Decisions (type
// mapping, error codes, what is answered) are in docs/compatibility.md.
package mysqlwire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/auth"
)

// Executor runs one SQL statement; *query.Executor implements it.
type Executor interface {
	Execute(ctx context.Context, sess query.Session, sql string) (*query.Result, error)
}

// Defaults of Options.
const (
	// DefaultMaxPacketSize is the default of Options.MaxPacketSize: MySQL
	// 8's max_allowed_packet.
	DefaultMaxPacketSize = 64 << 20
	// MinMaxPacketSize is the smallest Options.MaxPacketSize allowed.
	MinMaxPacketSize = 1 << 10
)

// Options configure a Server.
type Options struct {
	// Executor runs the statements. Required.
	Executor Executor
	// Users are the accounts allowed in, checked with
	// mysql_native_password. Nil: auth is off and any user and password is
	// accepted.
	Users *auth.Users
	// Logger receives the server's logs. Default: slog.Default().
	Logger *slog.Logger
	// Registerer registers the metrics (horaedb_mysql_*); they are
	// unregistered by Close. Default: nil, no metrics.
	Registerer prometheus.Registerer
	// Version is HoraeDB's version, shown in the server version the
	// handshake announces ("8.0.36-HoraeDB-<Version>"), in VERSION() and
	// in @@version_comment. Default: "unknown".
	Version string
	// MaxPacketSize is max_allowed_packet: the largest command a client
	// may send, in bytes. A larger one is answered with error 1153 and the
	// connection is closed. Default: DefaultMaxPacketSize (64 MiB).
	MaxPacketSize int
	// MaxConnections bounds the open connections; one more is refused with
	// error 1040. Default: 0, no bound.
	MaxConnections int
	// TimeZone is the time zone DATETIME values are shown in and DATETIME
	// parameters are read in, until a client sets its session's
	// (SET time_zone). Give it the executor's time zone, in which the
	// executor reads timestamp strings without an offset. Default: UTC.
	TimeZone *time.Location
	// TimestampAsMillis sends timestamp columns as BIGINT milliseconds
	// since the epoch, as upstream HoraeDB did, instead of DATETIME(3).
	// Default: false.
	TimestampAsMillis bool
	// Timeout bounds one statement (server.timeout); over it the
	// statement is cancelled with error 3024 (ER_QUERY_TIMEOUT). Default:
	// 0, no bound.
	Timeout time.Duration
}

// Validate reports an unusable option.
func (o *Options) Validate() error {
	if o.Executor == nil {
		return errors.New("mysqlwire: Options.Executor is required")
	}
	if o.MaxPacketSize != 0 && o.MaxPacketSize < MinMaxPacketSize {
		return fmt.Errorf("mysqlwire: Options.MaxPacketSize %d is below the minimum %d", o.MaxPacketSize, MinMaxPacketSize)
	}
	if o.MaxConnections < 0 {
		return fmt.Errorf("mysqlwire: Options.MaxConnections %d is negative", o.MaxConnections)
	}
	return nil
}

// EnsureDefaults fills the unset options.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Version == "" {
		o.Version = "unknown"
	}
	if o.MaxPacketSize == 0 {
		o.MaxPacketSize = DefaultMaxPacketSize
	}
	if o.TimeZone == nil {
		o.TimeZone = time.UTC
	}
}

// Server is a MySQL protocol server. Serve accepts connections; Close
// stops everything.
type Server struct {
	o       Options
	log     *slog.Logger
	m       *metrics
	version string // the server version announced

	// ctx is cancelled by Close: it stops every running statement.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // one per connection handler
	nextID atomic.Uint32

	mu struct {
		sync.Mutex
		closed    bool
		listeners map[net.Listener]struct{}
		conns     map[*conn]struct{}
	}
}

// New returns a server; it starts nothing.
func New(o Options) (*Server, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.EnsureDefaults()
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, log: o.Logger, m: m, version: "8.0.36-HoraeDB-" + o.Version}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.listeners = map[net.Listener]struct{}{}
	s.mu.conns = map[*conn]struct{}{}
	return s, nil
}

// Serve accepts connections on ln and serves each in its own goroutine
// until Close, when it returns nil. It closes ln when it returns.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.mu.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.mu.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("mysql: accept failed; retrying", "err", err, "in", backoff)
				select {
				case <-time.After(backoff):
				case <-s.ctx.Done():
					return nil
				}
				continue
			}
			return fmt.Errorf("mysqlwire: accept: %w", err)
		}
		backoff = 0
		c := s.newConn(nc)
		s.mu.Lock()
		if s.mu.closed {
			s.mu.Unlock()
			nc.Close()
			return nil
		}
		full := s.o.MaxConnections > 0 && len(s.mu.conns) >= s.o.MaxConnections
		if !full {
			s.mu.conns[c] = struct{}{}
		}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			if full {
				c.refuse(newError(erConCount, "08004", "Too many connections"))
				return
			}
			s.m.connections.Inc()
			defer s.m.connections.Dec()
			c.serve(s.ctx)
			s.mu.Lock()
			delete(s.mu.conns, c)
			s.mu.Unlock()
		}()
	}
}

func (s *Server) closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.closed
}

// Close stops accepting, cancels running statements, closes every
// connection and waits for their goroutines. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	first := !s.mu.closed
	s.mu.closed = true
	for ln := range s.mu.listeners {
		ln.Close()
	}
	for c := range s.mu.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if first {
		s.m.unregister()
	}
	return nil
}

// metrics are the server's Prometheus metrics.
type metrics struct {
	reg         prometheus.Registerer
	connections prometheus.Gauge
	statements  *prometheus.CounterVec
	duration    prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		reg: reg,
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "horaedb_mysql_connections",
			Help: "Open MySQL protocol connections.",
		}),
		statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "horaedb_mysql_statements_total",
			Help: "Statements run over the MySQL protocol by result: ok, client_error (the client's mistake) or server_error.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "horaedb_mysql_statement_duration_seconds",
			Help:    "Time to run a statement over the MySQL protocol and send its result.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}),
	}
	if reg == nil {
		return m, nil
	}
	var done []prometheus.Collector
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			return nil, fmt.Errorf("mysqlwire: metrics: %w", err)
		}
		done = append(done, c)
	}
	return m, nil
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.connections, m.statements, m.duration}
}

func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors() {
		m.reg.Unregister(c)
	}
}

// observe counts one statement.
func (m *metrics) observe(err error, took time.Duration) {
	result := "ok"
	switch {
	case err == nil:
	case isServerFault(err):
		result = "server_error"
	default:
		result = "client_error"
	}
	m.statements.WithLabelValues(result).Inc()
	m.duration.Observe(took.Seconds())
}
