// Package meta is HoraeMeta, the meta service of a HoraeDB cluster: an
// embedded etcd member, leader election among the meta members, the
// cluster model kept in etcd, the procedures and schedulers of the leader,
// MetaService on etcd's client port, and the admin HTTP API.
//
//	s, err := meta.New(cfg, meta.Options{Logger: logger})
//	err = s.Run(ctx) // Start, wait for ctx, Close
//
// Everything else lives under meta/internal; data nodes use meta/client.
package meta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/horaego/horaedb/meta/config"
	"github.com/horaego/horaedb/meta/internal/cluster"
	"github.com/horaego/horaedb/meta/internal/coordinator"
	"github.com/horaego/horaedb/meta/internal/dispatch"
	"github.com/horaego/horaedb/meta/internal/etcdutil"
	"github.com/horaego/horaedb/meta/internal/grpcsvc"
	"github.com/horaego/horaedb/meta/internal/httpapi"
	"github.com/horaego/horaedb/meta/internal/member"
	"github.com/horaego/horaedb/meta/internal/metrics"
	"github.com/horaego/horaedb/meta/internal/procedure"
	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/proto/metapb"
)

var (
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("meta: already started")
	// ErrClosed is returned by Start after Close.
	ErrClosed = errors.New("meta: closed")
)

// Options are the parts of a meta server that do not come from the config.
type Options struct {
	// Logger receives the server's logs and etcd's. Default slog.Default().
	Logger *slog.Logger
	// Registry receives HoraeMeta's metrics. GET /metrics serves it together
	// with prometheus.DefaultGatherer, where etcd registers its own (and the
	// Go and process collectors live). Default: a new registry.
	Registry *prometheus.Registry
	// HTTPListener, when set, serves the admin API instead of listening on
	// :http-port; Start takes ownership of it. Default nil.
	HTTPListener net.Listener
	// UnsafeNoFsync makes etcd skip fsync: tests only.
	UnsafeNoFsync bool
}

// Server is one meta member.
type Server struct {
	cfg     config.Config
	opts    Options
	logger  *slog.Logger
	metrics *metrics.Metrics

	svc        *grpcsvc.Service
	dispatcher *dispatch.Dispatcher
	term       atomic.Pointer[coordinator.Term]

	wg     sync.WaitGroup
	cancel context.CancelFunc
	once   sync.Once

	mu struct {
		sync.Mutex
		started, closed bool
		etcd            *etcdutil.Member
		elector         *member.Elector
		http            *http.Server
		httpAddr        string
	}
}

// New validates cfg and returns a server that has started nothing.
func New(cfg config.Config, opts Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, opts: opts, logger: opts.Logger}
	m, err := metrics.New(opts.Registry, s.Term)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	var limiter *grpcsvc.Limiter
	if cfg.FlowLimiter.Enable {
		limiter = grpcsvc.NewLimiter(cfg.FlowLimiter.Limit, cfg.FlowLimiter.Burst, nil)
	}
	s.svc = grpcsvc.New(s, s.logger, grpcsvc.Options{HandleTimeout: cfg.GrpcHandleTimeoutMs.D(), Limiter: limiter, Observer: m})
	s.dispatcher = dispatch.New(dispatch.Options{MaxSendMsgSize: cfg.GrpcServiceMaxSendMsgSize, MaxRecvMsgSize: cfg.GrpcServiceMaxRecvMsgSize})
	return s, nil
}

// Start starts etcd (and MetaService on its client port), the admin HTTP
// API and the leader election. It returns once etcd is ready.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return ErrClosed
	}
	if s.mu.started {
		return ErrStarted
	}
	s.mu.started = true
	var ln net.Listener
	if s.opts.HTTPListener != nil {
		ln = s.opts.HTTPListener
	} else {
		var err error
		if ln, err = net.Listen("tcp", ":"+strconv.Itoa(s.cfg.HTTPPort)); err != nil {
			return fmt.Errorf("meta: admin HTTP on port %d (http-port): %w", s.cfg.HTTPPort, err)
		}
	}
	m, err := etcdutil.Start(ctx, &s.cfg, etcdutil.Options{
		Logger:        s.logger,
		Register:      func(g *grpc.Server) { metapb.RegisterMetaServiceServer(g, s.svc) },
		UnsafeNoFsync: s.opts.UnsafeNoFsync,
	})
	if err != nil {
		ln.Close()
		return err
	}
	s.mu.etcd = m
	st := storage.New(m.Client, s.cfg.StorageRootPath, storage.Options{
		CallTimeout: s.cfg.EtcdCallTimeoutMs.D(), PageSize: s.cfg.MaxScanLimit, MinPageSize: s.cfg.MinScanLimit})

	_, port, _ := net.SplitHostPort(ln.Addr().String())
	httpEndpoint := "http://" + net.JoinHostPort(m.ClientURLs[0].Hostname(), port)
	self := &metapb.Member{Name: s.cfg.NodeName, EtcdId: m.ID, GrpcEndpoint: m.ClientURLs[0].String(), HttpEndpoint: httpEndpoint}
	s.mu.elector = member.New(m.Client, st.Keys().Election(), s.cfg.LeaseSec.D(), self, s.logger)
	s.mu.httpAddr = ln.Addr().String()

	api := httpapi.New(s, s.logger, httpapi.Options{
		Gatherer:   prometheus.Gatherers{s.opts.Registry, prometheus.DefaultGatherer},
		Procedures: procedureOpts(&s.cfg),
	})
	s.mu.http = &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	el, srv := s.mu.elector, s.mu.http
	s.wg.Add(3)
	go func() {
		defer s.wg.Done()
		el.Observe(runCtx)
	}()
	go func() {
		defer s.wg.Done()
		el.Run(runCtx, func(ctx context.Context, t member.Term) { s.lead(ctx, st, t) })
	}()
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("admin HTTP server failed", "err", err)
		}
	}()
	s.logger.Info("horaemeta started", "member", self.Name, "grpc", self.GrpcEndpoint, "http", s.mu.httpAddr,
		"etcd_id", strconv.FormatUint(m.ID, 16))
	return nil
}

func procedureOpts(cfg *config.Config) procedure.Options {
	return procedure.Options{
		Timeout:         cfg.ProcedureTimeout.D(),
		DispatchTimeout: cfg.EventDispatchTimeout.D(),
		Retention:       cfg.ProcedureRetention.D(),
		MaxOps:          cfg.MaxOpsPerTxn,
	}
}

// lead runs a leader term until ctx ends or the term fails.
func (s *Server) lead(ctx context.Context, st *storage.Storage, t member.Term) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	popts := procedureOpts(&s.cfg)
	popts.Observer = s.metrics
	popts.OnTermError = func(err error) {
		s.logger.Warn("meta leader term cannot go on; stepping down", "epoch", t.Epoch, "err", err)
		cancel()
	}
	term, err := coordinator.Start(ctx, st, s.dispatcher, s.logger, coordinator.Options{
		Epoch:  t.Epoch,
		Leader: s.cfg.NodeName,
		Guard:  t.Guard,
		Default: cluster.Spec{
			Name:           s.cfg.DefaultClusterName,
			NodeCount:      uint32(s.cfg.DefaultClusterNodeCount),
			ShardTotal:     uint32(s.cfg.DefaultClusterShardTotal),
			Topology:       coordinator.TopologyOf(s.cfg.TopologyType),
			EnableSchedule: s.cfg.EnableSchedule,
			BatchSize:      s.cfg.ProcedureExecutingBatchSize,
		},
		Cluster:          cluster.Options{NodeTimeout: s.cfg.NodeHeartbeatTimeout.D(), IDStep: s.cfg.IDAllocatorStep},
		Procedure:        popts,
		ScheduleInterval: s.cfg.ScheduleInterval.D(),
	})
	if err != nil {
		s.logger.Error("meta leader cannot start its term; stepping down", "epoch", t.Epoch, "err", err)
		timer := time.NewTimer(time.Second)
		defer timer.Stop()
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		return
	}
	s.term.Store(term)
	s.metrics.Leading(t.Epoch)
	<-ctx.Done()
	s.term.Store(nil)
	s.metrics.Leading(0)
	term.Close()
}

// Run starts the server, waits for ctx or a fatal etcd error, and closes.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	etcdErr := s.mu.etcd.Etcd.Err()
	s.mu.Unlock()
	var err error
	select {
	case <-ctx.Done():
	case err = <-etcdErr:
		err = fmt.Errorf("meta: embedded etcd failed: %w", err)
	}
	return errors.Join(err, s.Close())
}

// Close stops the server: it steps down (at once, by resigning), stops
// serving and stops etcd. It is idempotent and waits for every goroutine.
func (s *Server) Close() error {
	s.once.Do(func() { s.shutdown(false) })
	return nil
}

// kill stops the server as if the process died: no resignation, so the
// leadership passes only when its lease expires. For tests.
func (s *Server) kill() {
	s.once.Do(func() { s.shutdown(true) })
}

func (s *Server) shutdown(abandon bool) {
	s.mu.Lock()
	s.mu.closed = true
	el, srv, m := s.mu.elector, s.mu.http, s.mu.etcd
	s.mu.Unlock()
	if abandon && el != nil {
		el.Abandon()
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.svc.Close()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(ctx)
		cancel()
	}
	if abandon && m != nil {
		// Stop etcd first, so nothing more is written under this term.
		m.Kill()
		s.wg.Wait()
	} else {
		s.wg.Wait()
		if m != nil {
			m.Close()
		}
	}
	_ = s.dispatcher.Close()
	s.logger.Info("horaemeta stopped", "member", s.cfg.NodeName)
}

// Term returns the running leader term, nil when this member does not lead.
func (s *Server) Term() *coordinator.Term { return s.term.Load() }

// Leader returns the observed leader, nil when unknown.
func (s *Server) Leader() *member.Leader {
	s.mu.Lock()
	el := s.mu.elector
	s.mu.Unlock()
	if el == nil {
		return nil
	}
	return el.Leader()
}

// Self returns this member.
func (s *Server) Self() *metapb.Member {
	s.mu.Lock()
	el := s.mu.elector
	s.mu.Unlock()
	if el == nil {
		return &metapb.Member{Name: s.cfg.NodeName}
	}
	return el.Self()
}

// IsLeader says whether this member leads and its term is running.
func (s *Server) IsLeader() bool { return s.Term() != nil }

// HTTPAddr returns the admin API's listen address (after Start).
func (s *Server) HTTPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.httpAddr
}

// GRPCEndpoint returns the advertised MetaService URL (after Start).
func (s *Server) GRPCEndpoint() string {
	return s.Self().GrpcEndpoint
}
