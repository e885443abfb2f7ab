// Package pgwire serves HoraeDB's SQL over the PostgreSQL frontend/backend
// protocol version 3 (port 5433 by default), so that PostgreSQL tooling
// connects: psql, pgx, lib/pq, JDBC, Grafana's PostgreSQL data source.
//
// It speaks the startup phase (SSLRequest and GSSENCRequest are answered
// 'N', CancelRequest cancels the statement a connection is running),
// cleartext or md5 password authentication, the simple query protocol
// (several statements per message) and the extended protocol (Parse, Bind,
// Describe, Execute, Close, Sync, Flush; text and binary parameters and
// results). Statements go to a query executor after their PostgreSQL
// lexical conventions are translated to HoraeDB's dialect (dialect.go);
// what psql and drivers send on their own (SET, SHOW, version(), catalog
// queries) gets answers of its own (compat.go).
//
// The wire formats are documented next to the code: framing in
// messages.go, startup and authentication in startup.go, the query
// protocols in simple.go and extended.go, values in types.go and
// params.go. Decisions (type mapping, error codes, what is answered) are in
// docs/compatibility.md.
package pgwire

import (
	"context"
	"crypto/rand"
	"encoding/binary"
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

// AuthMethod is how a password is asked for.
type AuthMethod string

// Authentication methods.
const (
	// AuthMD5 asks for md5(md5(password + user) + salt): the password does
	// not cross the wire.
	AuthMD5 AuthMethod = "md5"
	// AuthPassword asks for the password in clear text.
	AuthPassword AuthMethod = "password"
)

// DefaultMaxMessageSize is the default of Options.MaxMessageSize.
const DefaultMaxMessageSize = 64 << 20

// Options configure a Server.
type Options struct {
	// Executor runs the statements. Required.
	Executor Executor
	// Users are the accounts allowed in. Nil: auth is off, everyone gets
	// AuthenticationOk without a password.
	Users *auth.Users
	// AuthMethod is how passwords are asked for when Users is set.
	// Default: AuthMD5.
	AuthMethod AuthMethod
	// Logger receives the server's logs. Default: slog.Default().
	Logger *slog.Logger
	// Registerer registers the metrics (horaedb_postgresql_*); they are
	// unregistered by Close. Default: nil, no metrics.
	Registerer prometheus.Registerer
	// Version is HoraeDB's version, shown by version(). Default: "unknown".
	Version string
	// MaxMessageSize bounds the body of a message a client may send, in
	// bytes; a larger one is refused and the connection closed. Default:
	// DefaultMaxMessageSize (64 MiB).
	MaxMessageSize int
	// MaxConnections bounds the open connections; one more is refused
	// with 53300 too_many_connections. Default: 0, no bound.
	MaxConnections int
	// Timeout bounds one statement (server.timeout); over it the
	// statement is cancelled with 57014 "canceling statement due to
	// statement timeout". Default: 0, no bound.
	Timeout time.Duration
}

// Validate reports an unusable option.
func (o *Options) Validate() error {
	if o.Executor == nil {
		return errors.New("pgwire: Options.Executor is required")
	}
	switch o.AuthMethod {
	case "", AuthMD5, AuthPassword:
	default:
		return fmt.Errorf("pgwire: Options.AuthMethod %q is not md5 or password", o.AuthMethod)
	}
	if o.MaxMessageSize < 0 || o.MaxConnections < 0 {
		return errors.New("pgwire: Options.MaxMessageSize and MaxConnections must not be negative")
	}
	return nil
}

// EnsureDefaults fills the unset options.
func (o *Options) EnsureDefaults() {
	if o.AuthMethod == "" {
		o.AuthMethod = AuthMD5
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Version == "" {
		o.Version = "unknown"
	}
	if o.MaxMessageSize == 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
}

// Server is a PostgreSQL protocol server. Serve accepts connections; Close
// stops everything.
type Server struct {
	o   Options
	log *slog.Logger
	m   *metrics

	// ctx is cancelled by Close: it stops every running statement.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // one per connection handler
	nextID atomic.Uint32

	mu struct {
		sync.Mutex
		closed    bool
		listeners map[net.Listener]struct{}
		conns     map[uint32]*conn // by process id, for CancelRequest
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
	s := &Server{o: o, log: o.Logger, m: m}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.listeners = map[net.Listener]struct{}{}
	s.mu.conns = map[uint32]*conn{}
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
				s.log.Warn("postgresql: accept failed; retrying", "err", err, "in", backoff)
				select {
				case <-time.After(backoff):
				case <-s.ctx.Done():
					return nil
				}
				continue
			}
			return fmt.Errorf("pgwire: accept: %w", err)
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
			s.mu.conns[c.pid] = c
		}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			if full {
				c.refuse(fatal(codeTooManyConnections, "sorry, too many clients already"))
				return
			}
			s.m.connections.Inc()
			defer s.m.connections.Dec()
			c.serve(s.ctx)
			s.mu.Lock()
			delete(s.mu.conns, c.pid)
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
	for _, c := range s.mu.conns {
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

// cancelRequest cancels the running statement of the connection with
// process id pid if secret is its key, as a CancelRequest asks.
func (s *Server) cancelRequest(pid, secret uint32) {
	s.mu.Lock()
	c := s.mu.conns[pid]
	s.mu.Unlock()
	if c == nil || c.secret != secret {
		s.log.Debug("postgresql: cancel request for an unknown process", "pid", pid)
		return
	}
	c.cancelRunning()
}

// newSecret returns a random cancel key.
func newSecret() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return binary.BigEndian.Uint32(b[:])
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
			Name: "horaedb_postgresql_connections",
			Help: "Open PostgreSQL protocol connections.",
		}),
		statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "horaedb_postgresql_statements_total",
			Help: "Statements run over the PostgreSQL protocol by result: ok, client_error (the client's mistake) or server_error.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "horaedb_postgresql_statement_duration_seconds",
			Help:    "Time to run a statement over the PostgreSQL protocol.",
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
			return nil, fmt.Errorf("pgwire: metrics: %w", err)
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
