// Package server wires a HoraeDB data node together and owns its lifecycle:
// it opens the object store, the WAL and the storage engine the config
// describes, opens the node's shards, builds the query executor, and serves
// the HTTP API (SQL, /metrics, /debug) and the gRPC storage API the official
// SDKs speak (server/grpcapi) in front of them. Errors from below are mapped
// to HTTP status codes and gRPC header codes here and nowhere else.
//
// New checks the config and starts nothing; Start (or Run) opens storage and
// starts serving; Close shuts down gracefully: it stops accepting, lets
// in-flight requests finish, flushes memtables, and closes the engine, the
// WAL and the object store, in that order.
//
// A node runs standalone (one node that owns every shard) or as a member
// of a cluster managed by HoraeMeta (mode WithMeta, server/cluster.go: the
// shards come from meta events), with its WAL on the local disk (Local,
// RocksDB), in Kafka (Kafka) or in tables of a MySQL-protocol database
// (Table, Obkv), and its SSTs on the local disk or in S3 or OSS (with
// memory and disk caches), or as a node of a static cluster (mode NoMeta
// with a topology, server/static.go: tables placed by rules).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"

	"github.com/horaego/horaedb/cluster"
	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/internal/units"
	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/proto/metapb"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/influxql"
	"github.com/horaego/horaedb/query/promql"
	"github.com/horaego/horaedb/router"
	"github.com/horaego/horaedb/server/auth"
	"github.com/horaego/horaedb/server/config"
	"github.com/horaego/horaedb/server/grpcapi"
	"github.com/horaego/horaedb/server/influx"
	"github.com/horaego/horaedb/server/mysqlwire"
	"github.com/horaego/horaedb/server/opentsdb"
	"github.com/horaego/horaedb/server/pgwire"
	"github.com/horaego/horaedb/server/promapi"
	"github.com/horaego/horaedb/server/promremote"
	"github.com/horaego/horaedb/wal"
	"github.com/horaego/horaedb/wal/kafka"
	"github.com/horaego/horaedb/wal/local"
	"github.com/horaego/horaedb/wal/table"
)

// NumShards is the number of shards of a standalone node, ids 0 to
// NumShards-1; the node opens all of them at start. Each table lives in one
// shard, picked by a hash of its database and name when it is created
// (query.LocalCatalog) and recorded with the table, so this number is part
// of the data directory's layout: it may grow, but a node started with a
// smaller number would not open the tables of the missing shards.
const NumShards = 8

// Defaults of Options.
const (
	// DefaultShutdownTimeout is the default of Options.ShutdownTimeout.
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultSlowQueryThreshold is the default of
	// Options.SlowQueryThreshold.
	DefaultSlowQueryThreshold = time.Second
)

// Errors of the server's lifecycle and configuration.
var (
	// ErrNotSupported means the config asks for something this version
	// cannot run yet (a cluster mode, authentication). The message names
	// the key.
	ErrNotSupported = errors.New("server: not supported yet")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("server: already started")
	// ErrClosed is returned by Start after Close.
	ErrClosed = errors.New("server: closed")
)

// Options are the parts of a server that do not come from the config file.
type Options struct {
	// Logger receives the server's logs and those of the components it
	// opens. Default: slog.Default().
	Logger *slog.Logger
	// LogLevel, when set, is the level of Logger's handler, which PUT
	// /debug/log_level/{level} changes; nil: the level is fixed.
	LogLevel *slog.LevelVar
	// DataDir, when set, replaces analytic.wal.data_dir and
	// analytic.storage.object_store.data_dir (the --data-dir flag): the WAL
	// lives in DataDir/wal and the object store in DataDir/store. Default
	// "": the config's directories.
	DataDir string
	// Registry collects the metrics served at GET /metrics; the server
	// adds the Go and process collectors (unless already registered) and
	// the metrics of the HTTP API, the WAL and the engine. A registry may
	// serve only one server. Default: a new registry owned by the server.
	Registry *prometheus.Registry
	// Listener, when set, is used for the HTTP API instead of listening on
	// server.bind_addr:server.http_port; Start takes ownership of it
	// (tests pass one on port 0). Default nil.
	Listener net.Listener
	// GRPCListener, when set, is used for the gRPC API instead of listening
	// on server.bind_addr:server.grpc_port; Start takes ownership of it.
	// Route answers advertise node.addr with this listener's port. Default
	// nil.
	GRPCListener net.Listener
	// MySQLListener and PostgreSQLListener, when set, are used for the
	// MySQL and PostgreSQL wire protocols instead of listening on
	// server.mysql_port and server.postgresql_port; Start takes ownership
	// of them. Default nil.
	MySQLListener      net.Listener
	PostgreSQLListener net.Listener
	// ShutdownTimeout bounds, separately, the wait for in-flight requests
	// and the final flush of memtables when the server closes. Default 30s.
	ShutdownTimeout time.Duration
	// SlowQueryThreshold: SQL statements that take longer are logged at
	// info level with their text. Default 1s.
	SlowQueryThreshold time.Duration
}

// Server is a data node. Create it with New.
type Server struct {
	cfg     config.Config // effective: validated, DataDir applied
	opts    Options
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *httpMetrics
	plan    plan
	users   *auth.Users // [server.auth]; nil: authentication is off

	serveErr chan error     // the first front end's failure, if any
	wg       sync.WaitGroup // the HTTP and gRPC serve goroutines
	inflight sync.WaitGroup // HTTP handlers running

	closeOnce sync.Once
	closeErr  error

	// testHookExec, when set by a test, wraps the query executor.
	testHookExec func(executor) executor

	mu struct {
		sync.Mutex
		state      state
		store      objstore.Bucket
		wal        walBackend
		engine     *engine.Engine
		http       *http.Server
		listener   net.Listener
		grpc       *grpc.Server
		grpcLn     net.Listener
		mysql      *mysqlwire.Server
		pg         *pgwire.Server
		wireLns    []net.Listener     // MySQL and PostgreSQL, until served
		wireAddrs  [2]net.Addr        // MySQL and PostgreSQL
		cancelBase context.CancelFunc // cancels the contexts of requests
		member     *cluster.Member    // mode WithMeta
		metaClient *client.Client     // mode WithMeta
		static     *router.Static     // mode NoMeta with a topology: placement by rules
		router     *router.Router     // a cluster (either mode): owners of tables, forwarding
	}
}

type state int

const (
	stateNew state = iota
	stateStarted
	stateClosed
)

// New checks cfg (Validate, then what this version supports) and returns a
// server that has started nothing. Errors name the config keys at fault.
func New(cfg config.Config, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.SlowQueryThreshold <= 0 {
		opts.SlowQueryThreshold = DefaultSlowQueryThreshold
	}
	if opts.DataDir != "" {
		applyDataDir(&cfg, opts.DataDir)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := makePlan(&cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Analytic.WAL.DisableData {
		opts.Logger.Warn("analytic.wal.disable_data is ignored: every write goes through the WAL")
	}
	var users *auth.Users
	if a := cfg.Server.Auth; a.Enable {
		if users, err = auth.Load(a.Source); err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return nil, fmt.Errorf("server: metrics: %w", err)
		}
	}
	m, err := newHTTPMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		opts:     opts,
		log:      opts.Logger,
		reg:      reg,
		metrics:  m,
		plan:     p,
		users:    users,
		serveErr: make(chan error, 1),
	}
	return s, nil
}

// Config returns the effective config: the one given to New with
// Options.DataDir applied. GET /debug/config serves it.
func (s *Server) Config() config.Config { return s.cfg }

// Start opens the object store, the WAL and the engine, opens the shards
// (replaying their WALs), and starts serving HTTP. When it returns nil the
// node is ready: the listener accepts and every shard is open. On error,
// whatever it opened is closed again. ctx bounds the startup only.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.mu.state {
	case stateStarted:
		return ErrStarted
	case stateClosed:
		return ErrClosed
	}
	if err := s.startLocked(ctx); err != nil {
		_ = s.releaseLocked() // the start error is the one to report
		s.mu.state = stateClosed
		for _, ln := range []net.Listener{s.opts.Listener, s.opts.GRPCListener, s.opts.MySQLListener, s.opts.PostgreSQLListener} {
			if ln != nil {
				_ = ln.Close()
			}
		}
		return err
	}
	s.mu.state = stateStarted
	return nil
}

// startLocked opens everything in order, recording each part in s.mu as
// soon as it is open so that releaseLocked can close it.
func (s *Server) startLocked(ctx context.Context) error {
	began := time.Now()
	store, storeDesc, err := openStore(ctx, s.plan.storage, s.plan.storeDir, s.log.With("component", "objstore"), s.reg)
	if err != nil {
		return err
	}
	s.mu.store = store

	w, err := s.openWAL(ctx)
	if err != nil {
		return err
	}
	s.mu.wal = w

	eo := s.plan.engine
	eo.WAL, eo.Store = w, store
	eo.Logger = s.log.With("component", "engine")
	eo.Registerer = s.reg
	e, err := engine.Open(eo)
	if err != nil {
		return fmt.Errorf("server: open engine: %w", err)
	}
	s.mu.engine = e
	var catalog query.Catalog = &query.LocalCatalog{Engine: e, NumShards: NumShards}
	if s.cfg.ClusterDeployment.Mode == config.ModeWithMeta {
		// HoraeMeta opens the shards (server/cluster.go).
		if catalog, err = s.openClusterLocked(e); err != nil {
			return err
		}
	} else {
		for id := uint32(0); id < NumShards; id++ {
			if err := e.OpenShard(ctx, id); err != nil {
				return fmt.Errorf("server: open shard %d: %w", id, err)
			}
		}
		if err := s.openStaticLocked(); err != nil {
			return err
		}
	}

	qx := query.NewExecutor(query.Options{
		Catalog:         catalog,
		Logger:          s.log.With("component", "query"),
		TimeZone:        time.UTC,
		TableDefaults:   s.plan.engine.DefaultTableOptions,
		ReadParallelism: s.cfg.QueryEngine.ReadParallelism,
		MemoryLimit:     memoryLimit(s.cfg.QueryEngine.MemoryLimit),
	})
	qx.SetLimits(limitsOf(s.cfg.Limiter))
	var exec executor = qx
	ingest := forwardingWriter{Executor: qx} // the writes of InfluxDB, OpenTSDB and Prometheus
	if rt := s.mu.router; rt != nil {
		exec = forwardingExecutor{executor: qx, f: rt, users: s.users}
		ingest.f = rt
	}
	if s.testHookExec != nil {
		exec = s.testHookExec(exec)
	}

	ln := s.opts.Listener
	if ln == nil {
		addr := net.JoinHostPort(s.cfg.Server.BindAddr, fmt.Sprint(s.cfg.Server.HTTPPort))
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("server: listen on server.bind_addr:server.http_port: %w", err)
		}
	}
	s.mu.listener = ln
	gln := s.opts.GRPCListener
	if s.mu.grpcLn != nil {
		gln = s.mu.grpcLn // listened on by openClusterLocked
	}
	if gln == nil {
		addr := net.JoinHostPort(s.cfg.Server.BindAddr, fmt.Sprint(s.cfg.Server.GRPCPort))
		if gln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("server: listen on server.bind_addr:server.grpc_port: %w", err)
		}
	}
	s.mu.grpcLn = gln
	gs, err := s.newGRPCServer(qx, gln.Addr())
	if err != nil {
		return err
	}
	s.mu.grpc = gs
	if err := s.newWireServers(exec); err != nil {
		return err
	}

	toml, err := s.cfg.MarshalTOML()
	if err != nil {
		return fmt.Errorf("server: render config: %w", err)
	}
	prom, err := promremote.New(promremote.Options{Writer: ingest, Querier: qx,
		TimestampColumn: s.cfg.Server.DefaultSchemaConfig.DefaultTimestampColumnName,
		MaxBodySize:     int64(s.cfg.Server.HTTPMaxBodySize), Database: requestDatabase,
		Logger: s.log.With("component", "prom-remote"), Registerer: s.reg})
	if err != nil {
		return fmt.Errorf("server: Prometheus remote write/read: %w", err)
	}
	a := &api{
		limiter:  qx,
		level:    s.opts.LogLevel,
		shards:   s.shardsLocked(e),
		exec:     exec,
		storage:  e,
		wal:      w,
		config:   toml,
		registry: s.reg,
		log:      s.log,
		maxBody:  int64(s.cfg.Server.HTTPMaxBodySize),
		slow:     s.opts.SlowQueryThreshold,
		metrics:  s.metrics,
		inflight: &s.inflight,
		users:    s.users,
		router:   s.routerLocked(gln.Addr()),
		influx: influx.New(influx.Options{Writer: ingest, Querier: influxql.New(qx),
			TimestampColumn: s.cfg.Server.DefaultSchemaConfig.DefaultTimestampColumnName,
			MaxBodySize:     int64(s.cfg.Server.HTTPMaxBodySize),
			Database:        requestDatabase, Logger: s.log.With("component", "influxdb")}),
		promql: promapi.New(promapi.Options{Engine: promql.New(qx, promql.Options{Timeout: s.cfg.Server.Timeout.D(),
			Registerer: s.reg, Logger: s.log.With("component", "promql")}),
			Database: requestDatabase, Revision: Version(), Logger: s.log.With("component", "promql")}),
		prom: prom,
		opentsdb: opentsdb.New(opentsdb.Options{Executor: ingest,
			TimestampColumn: s.cfg.Server.DefaultSchemaConfig.DefaultTimestampColumnName,
			MaxBodySize:     int64(s.cfg.Server.HTTPMaxBodySize),
			Database:        requestDatabase, Logger: s.log.With("component", "opentsdb")}),
	}
	base, cancel := context.WithCancel(context.Background())
	s.mu.cancelBase = cancel
	hs := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	s.mu.http = hs
	s.serve("HTTP", func() error {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	s.serve("gRPC", func() error {
		if err := gs.Serve(gln); !errors.Is(err, grpc.ErrServerStopped) {
			return err
		}
		return nil
	})
	mysqlLn, pgLn, ms, ps := s.mu.wireLns[0], s.mu.wireLns[1], s.mu.mysql, s.mu.pg
	s.mu.wireLns = nil // the servers own them from here
	s.serve("MySQL", func() error { return ms.Serve(mysqlLn) })
	s.serve("PostgreSQL", func() error { return ps.Serve(pgLn) })
	if m := s.mu.member; m != nil {
		if err := m.Start(); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
	s.log.Info("server started", "http", ln.Addr().String(), "grpc", gln.Addr().String(),
		"mysql", mysqlLn.Addr().String(), "postgresql", pgLn.Addr().String(), "shards", NumShards,
		"wal", s.plan.walKind, "wal_dir", s.plan.walDir, "store", storeDesc,
		"auth", s.users.Enabled(), "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// serve runs a front end's Serve in a goroutine of s.wg, reporting its
// failure to Run. Run takes the first failure only, so later ones are
// dropped rather than left blocking a goroutine Close waits for.
func (s *Server) serve(name string, serve func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := serve(); err != nil {
			select {
			case s.serveErr <- fmt.Errorf("server: serve %s: %w", name, err):
			default:
			}
		}
	}()
}

// newWireServers listens on the MySQL and PostgreSQL ports and builds
// their servers; Start serves them once everything else is ready.
func (s *Server) newWireServers(exec executor) error {
	for _, l := range []struct {
		ln   net.Listener
		port int
		key  string
	}{
		{s.opts.MySQLListener, s.cfg.Server.MySQLPort, "server.mysql_port"},
		{s.opts.PostgreSQLListener, s.cfg.Server.PostgreSQLPort, "server.postgresql_port"},
	} {
		ln := l.ln
		if ln == nil {
			var err error
			addr := net.JoinHostPort(s.cfg.Server.BindAddr, fmt.Sprint(l.port))
			if ln, err = net.Listen("tcp", addr); err != nil {
				return fmt.Errorf("server: listen on server.bind_addr:%s: %w", l.key, err)
			}
		}
		s.mu.wireAddrs[len(s.mu.wireLns)] = ln.Addr()
		s.mu.wireLns = append(s.mu.wireLns, ln)
	}
	ms, err := mysqlwire.New(mysqlwire.Options{
		Executor:   exec,
		Users:      s.users,
		Logger:     s.log.With("component", "mysql"),
		Registerer: s.reg,
		Version:    Version(),
		TimeZone:   time.UTC,
		Timeout:    s.cfg.Server.Timeout.D(),
	})
	if err != nil {
		return fmt.Errorf("server: MySQL: %w", err)
	}
	s.mu.mysql = ms
	ps, err := pgwire.New(pgwire.Options{
		Executor:   exec,
		Users:      s.users,
		Logger:     s.log.With("component", "postgresql"),
		Registerer: s.reg,
		Version:    Version(),
		Timeout:    s.cfg.Server.Timeout.D(),
	})
	if err != nil {
		return fmt.Errorf("server: PostgreSQL: %w", err)
	}
	s.mu.pg = ps
	return nil
}

// MySQLAddr and PostgreSQLAddr return the addresses of the wire protocols,
// or nil before Start.
func (s *Server) MySQLAddr() net.Addr { return s.wireAddr(0) }

// PostgreSQLAddr: see MySQLAddr.
func (s *Server) PostgreSQLAddr() net.Addr { return s.wireAddr(1) }

func (s *Server) wireAddr(i int) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.wireAddrs[i]
}

// newGRPCServer builds the gRPC server of the node, listening at addr: the
// storage API (server/grpcapi) for the SDKs. The services of a cluster node
// (meta events) register on the same server; grpcapi's interceptors act on
// its own service only.
func (s *Server) newGRPCServer(qx *query.Executor, addr net.Addr) (*grpc.Server, error) {
	o := s.plan.grpc
	o.Endpoint = s.endpoint(addr)
	o.SQL, o.Writer = qx, qx
	o.Router = s.routerLocked(addr)
	if s.mu.router != nil {
		o.Forwarder = s.mu.router
	}
	o.Users = s.users
	o.SlowQueryThreshold = s.opts.SlowQueryThreshold
	o.Logger, o.Registerer = s.log.With("component", "grpc"), s.reg
	svc, err := grpcapi.New(o)
	if err != nil {
		return nil, fmt.Errorf("server: gRPC: %w", err)
	}
	gs := grpc.NewServer(svc.ServerOptions()...)
	svc.Register(gs)
	if m := s.mu.member; m != nil {
		metapb.RegisterMetaEventServiceServer(gs, m)
	}
	return gs, nil
}

// endpoint is the address Route advertises for this node: node.addr and
// the port of the gRPC listener at addr.
func (s *Server) endpoint(addr net.Addr) grpcapi.Endpoint {
	ep := s.plan.grpc.Endpoint
	if a, ok := addr.(*net.TCPAddr); ok {
		ep.Port = uint32(a.Port)
	}
	return ep
}

// routerLocked answers which node serves a table, for gRPC Route and
// HTTP GET /route/{table}: HoraeMeta in mode WithMeta, the rules of a
// static cluster, else this node.
func (s *Server) routerLocked(grpcAddr net.Addr) grpcapi.Router {
	if m := s.mu.member; m != nil {
		return resolverRouter{m}
	}
	if st := s.mu.static; st != nil {
		return resolverRouter{st}
	}
	return grpcapi.StaticRouter(s.endpoint(grpcAddr))
}

// walBackend is a WAL that can describe itself for GET /debug/wal_stats.
type walBackend interface {
	wal.WAL
	Stats() string
}

// openWAL opens the WAL the plan names.
func (s *Server) openWAL(ctx context.Context) (walBackend, error) {
	log := s.log.With("component", "wal")
	switch s.plan.walKind {
	case walKafka:
		o := s.plan.kafkaWAL
		o.Logger, o.Registerer = log, s.reg
		w, err := kafka.Open(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("server: open the Kafka WAL (analytic.wal.kafka.client.boost_brokers %v): %w", o.Brokers, err)
		}
		return w, nil
	case walTable:
		o := s.plan.tableWAL
		o.Logger, o.Registerer = log, s.reg
		if ob := s.plan.obkv; ob != nil {
			dsn, err := table.ObkvDSN(ctx, nil, ob.FullUserName, ob.Password, ob.ParamURL)
			if err != nil {
				return nil, fmt.Errorf("server: open the Obkv WAL (analytic.wal.obkv.param_url %q): %w", ob.ParamURL, err)
			}
			o.DSN = dsn
		}
		w, err := table.Open(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("server: open the table WAL (analytic.wal.%s): %w", s.cfg.Analytic.WAL.Type, err)
		}
		return w, nil
	default:
		w, err := local.Open(s.plan.walDir, local.Options{Logger: log, Registerer: s.reg})
		if err != nil {
			return nil, fmt.Errorf("server: open WAL %s: %w", s.plan.walDir, err)
		}
		return w, nil
	}
}

// Run starts the server, serves until ctx is done or the HTTP or gRPC server
// fails, then closes it. It returns nil after a shutdown asked for by ctx.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	var err error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down", "cause", context.Cause(ctx))
	case err = <-s.serveErr:
		s.log.Error("serving failed, shutting down", "err", err)
	}
	return errors.Join(err, s.Close())
}

// HTTPAddr returns the address the HTTP API listens on, or nil before Start.
func (s *Server) HTTPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.listener == nil {
		return nil
	}
	return s.mu.listener.Addr()
}

// GRPCAddr returns the address the gRPC API listens on, or nil before
// Start.
func (s *Server) GRPCAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.grpcLn == nil {
		return nil
	}
	return s.mu.grpcLn.Addr()
}

// Close shuts the server down: it stops accepting connections (HTTP and
// gRPC), waits up to ShutdownTimeout for in-flight requests and calls (then
// cancels them), flushes every
// memtable (best effort, bounded by ShutdownTimeout; the WAL holds whatever
// is not flushed), and closes the engine, the WAL and the object store. It
// waits for every goroutine the server started. Idempotent: later and
// concurrent calls wait for the first and return its result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *Server) shutdown() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	wasStarted := s.mu.state == stateStarted
	s.mu.state = stateClosed
	if !wasStarted {
		return nil // never started, or Start failed and released everything
	}
	began := time.Now()
	var errs []error
	// Both front ends stop accepting at once and share the wait for their
	// in-flight requests.
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	// The wire protocols keep no request state across a reconnect: their
	// connections close now, cancelling the statements they run.
	s.closeWireLocked()
	grpcStopped := make(chan struct{})
	if gs := s.mu.grpc; gs != nil {
		go func() {
			defer close(grpcStopped)
			gs.GracefulStop()
		}()
	} else {
		close(grpcStopped)
	}
	if hs := s.mu.http; hs != nil {
		err := hs.Shutdown(ctx)
		if err != nil {
			s.log.Warn("in-flight requests did not finish in time; cancelling them",
				"timeout", s.opts.ShutdownTimeout, "err", err)
			s.mu.cancelBase()
			_ = hs.Close()
		}
		s.wg.Wait()
		s.inflight.Wait()
		s.mu.http, s.mu.listener = nil, nil // the server closed the listener
		s.mu.cancelBase()
	}
	if gs := s.mu.grpc; gs != nil {
		select {
		case <-grpcStopped:
		case <-ctx.Done():
			s.log.Warn("in-flight gRPC calls did not finish in time; cancelling them",
				"timeout", s.opts.ShutdownTimeout)
			gs.Stop()
			<-grpcStopped
		}
		s.mu.grpc, s.mu.grpcLn = nil, nil // Stop closed the listener
	}
	cancel()
	if e := s.mu.engine; e != nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
		flushed, failed := e.FlushAll(ctx)
		cancel()
		if len(failed) > 0 {
			s.log.Warn("flush at shutdown failed for some tables; their writes stay in the WAL",
				"flushed", len(flushed), "failed", failed)
		} else {
			s.log.Info("flushed memtables", "tables", len(flushed))
		}
	}
	errs = append(errs, s.releaseLocked())
	s.log.Info("server stopped", "took", time.Since(began).Round(time.Millisecond))
	return errors.Join(errs...)
}

// closeWireLocked closes the MySQL and PostgreSQL servers and their
// listeners.
func (s *Server) closeWireLocked() {
	for _, ln := range s.mu.wireLns {
		_ = ln.Close()
	}
	s.mu.wireLns = nil
	if ms := s.mu.mysql; ms != nil {
		_ = ms.Close()
		s.mu.mysql = nil
	}
	if ps := s.mu.pg; ps != nil {
		_ = ps.Close()
		s.mu.pg = nil
	}
}

// releaseLocked closes, in reverse order of opening, whatever is open.
func (s *Server) releaseLocked() error {
	var errs []error
	s.closeWireLocked()
	if gs := s.mu.grpc; gs != nil {
		gs.Stop() // cancels the calls in flight and waits for them
		s.mu.grpc = nil
	}
	if ln := s.mu.grpcLn; ln != nil {
		_ = ln.Close() // not served yet, or already closed by Stop
		s.mu.grpcLn = nil
	}
	if hs := s.mu.http; hs != nil {
		s.mu.cancelBase()
		errs = append(errs, hs.Close())
		s.wg.Wait()
		s.inflight.Wait()
		s.mu.http = nil
		s.mu.listener = nil
	}
	if ln := s.mu.listener; ln != nil {
		_ = ln.Close()
		s.mu.listener = nil
	}
	s.closeMemberLocked()
	if e := s.mu.engine; e != nil {
		if err := e.Close(); err != nil {
			errs = append(errs, fmt.Errorf("server: close engine: %w", err))
		}
		s.mu.engine = nil
	}
	if w := s.mu.wal; w != nil {
		if err := w.Close(); err != nil {
			errs = append(errs, fmt.Errorf("server: close WAL: %w", err))
		}
		s.mu.wal = nil
	}
	if b := s.mu.store; b != nil {
		if err := b.Close(); err != nil {
			errs = append(errs, fmt.Errorf("server: close object store: %w", err))
		}
		s.mu.store = nil
	}
	return errors.Join(errs...)
}

// memoryLimit maps query_engine.memory_limit (0: unbounded) to the
// executor's option (negative: unbounded).
func memoryLimit(s units.Size) int64 {
	if s == 0 {
		return -1
	}
	return int64(s)
}
