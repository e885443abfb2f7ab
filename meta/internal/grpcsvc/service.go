// Package grpcsvc serves MetaService. The meta leader answers from its
// term; a follower forwards the call to the leader it has observed, so a
// data node may talk to any member. A forwarded call is marked, and a
// member that receives a forwarded call without leading answers NOT_LEADER
// instead of forwarding again. Errors leave as gRPC statuses with an
// ErrorDetail (client.Status).
package grpcsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/coordinator"
	"github.com/horaego/horaedb/meta/internal/member"
	"github.com/horaego/horaedb/meta/internal/procedure"
	"github.com/horaego/horaedb/proto/metapb"
)

// ForwardedHeader marks a call forwarded by a follower; its value is the
// follower's name.
const ForwardedHeader = "x-horaemeta-forwarded-by"

// Backend is what the service needs from the server.
type Backend interface {
	// Term returns the running term, nil when this member does not lead.
	Term() *coordinator.Term
	// Leader returns the observed leader, nil when unknown.
	Leader() *member.Leader
	// Self is this member.
	Self() *metapb.Member
}

// Observer is told about calls (metrics); may be nil.
type Observer interface {
	Call(method string, forwarded bool, err error, d time.Duration)
	Heartbeat(cluster, node string)
}

// Options configure the service.
type Options struct {
	// HandleTimeout bounds a call.
	HandleTimeout time.Duration
	// Limiter, if not nil, admits CreateTable, DropTable and RouteTables.
	Limiter *Limiter
	// Observer may be nil.
	Observer Observer
}

// Service implements metapb.MetaServiceServer.
type Service struct {
	metapb.UnimplementedMetaServiceServer
	b      Backend
	logger *slog.Logger
	opts   Options
	stop   chan struct{}
	once   sync.Once

	mu struct {
		sync.Mutex
		conns map[string]*grpc.ClientConn
	}
}

// New returns the service.
func New(b Backend, logger *slog.Logger, opts Options) *Service {
	s := &Service{b: b, logger: logger, opts: opts, stop: make(chan struct{})}
	s.mu.conns = map[string]*grpc.ClientConn{}
	return s
}

// Close ends calls in flight and closes the connections to the leader.
func (s *Service) Close() {
	s.once.Do(func() { close(s.stop) })
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cc := range s.mu.conns {
		_ = cc.Close()
	}
	s.mu.conns = map[string]*grpc.ClientConn{}
}

// bound limits a call by the handle timeout and the service's life.
func (s *Service) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.HandleTimeout)
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// handle runs a call locally on the leader or forwards it.
func handle[Resp any](ctx context.Context, s *Service, method string, limited bool,
	local func(context.Context, *coordinator.Term) (Resp, error),
	remote func(context.Context, metapb.MetaServiceClient) (Resp, error)) (Resp, error) {
	start := time.Now()
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var zero Resp
	forwarded := false
	resp, err := func() (Resp, error) {
		if t := s.b.Term(); t != nil {
			if limited && s.opts.Limiter != nil && !s.opts.Limiter.Allow() {
				return zero, client.Errorf(metapb.Reason_RATE_LIMITED, "meta: %s refused by the flow limiter", method)
			}
			return local(ctx, t)
		}
		if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get(ForwardedHeader)) > 0 {
			return zero, s.notLeader("forwarded call reached a member that does not lead")
		}
		l := s.b.Leader()
		if l == nil || l.Member.GetName() == s.b.Self().GetName() {
			return zero, s.notLeader("no meta leader yet")
		}
		c, err := s.leaderClient(l.Member.GrpcEndpoint)
		if err != nil {
			return zero, s.notLeader(err.Error())
		}
		forwarded = true
		ctx = metadata.AppendToOutgoingContext(ctx, ForwardedHeader, s.b.Self().GetName())
		resp, err := remote(ctx, c)
		return resp, client.FromStatus(err)
	}()
	if s.opts.Observer != nil {
		s.opts.Observer.Call(method, forwarded, err, time.Since(start))
	}
	if err != nil {
		return zero, client.Status(err)
	}
	return resp, nil
}

func (s *Service) notLeader(why string) error {
	e := client.Errorf(metapb.Reason_NOT_LEADER, "meta member %s cannot serve: %s", s.b.Self().GetName(), why)
	if l := s.b.Leader(); l != nil {
		e.Detail.Leader = l.Member.GrpcEndpoint
	}
	return e
}

// leaderClient returns a client of the leader's MetaService.
func (s *Service) leaderClient(endpoint string) (metapb.MetaServiceClient, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cc, ok := s.mu.conns[endpoint]; ok {
		return metapb.NewMetaServiceClient(cc), nil
	}
	target := endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		target = u.Host
	}
	cc, err := grpc.NewClient("passthrough:///"+target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	for ep, old := range s.mu.conns { // the leader moved: forget the old one
		_ = old.Close()
		delete(s.mu.conns, ep)
	}
	s.mu.conns[endpoint] = cc
	return metapb.NewMetaServiceClient(cc), nil
}

// cluster finds the cluster a request is about.
func cluster(t *coordinator.Term, h *metapb.RequestHeader) (*coordinator.Coordinator, error) {
	if h.GetClusterName() == "" {
		return nil, client.Errorf(metapb.Reason_INVALID_ARGUMENT, "request header without cluster_name")
	}
	return t.Cluster(h.GetClusterName())
}

// NodeHeartbeat implements MetaService.
func (s *Service) NodeHeartbeat(ctx context.Context, req *metapb.NodeHeartbeatRequest) (*metapb.NodeHeartbeatResponse, error) {
	return handle(ctx, s, "NodeHeartbeat", false, func(ctx context.Context, t *coordinator.Term) (*metapb.NodeHeartbeatResponse, error) {
		co, err := cluster(t, req.Header)
		if err != nil {
			return nil, err
		}
		if req.Info == nil {
			return nil, client.Errorf(metapb.Reason_INVALID_ARGUMENT, "heartbeat without node info")
		}
		res, err := co.Cluster().Heartbeat(ctx, req.Info)
		if err != nil {
			return nil, err
		}
		if s.opts.Observer != nil {
			s.opts.Observer.Heartbeat(req.Header.ClusterName, req.Info.Endpoint)
		}
		if res.Changed {
			co.Poke()
		}
		res.Response.MetaEpoch = t.Epoch()
		return res.Response, nil
	}, func(ctx context.Context, c metapb.MetaServiceClient) (*metapb.NodeHeartbeatResponse, error) {
		return c.NodeHeartbeat(ctx, req)
	})
}

// AllocSchemaID implements MetaService.
func (s *Service) AllocSchemaID(ctx context.Context, req *metapb.AllocSchemaIDRequest) (*metapb.AllocSchemaIDResponse, error) {
	return handle(ctx, s, "AllocSchemaID", false, func(ctx context.Context, t *coordinator.Term) (*metapb.AllocSchemaIDResponse, error) {
		co, err := cluster(t, req.Header)
		if err != nil {
			return nil, err
		}
		sc, err := co.Cluster().EnsureSchema(ctx, req.Name)
		if err != nil {
			return nil, err
		}
		return &metapb.AllocSchemaIDResponse{Name: sc.Name, Id: sc.Id}, nil
	}, func(ctx context.Context, c metapb.MetaServiceClient) (*metapb.AllocSchemaIDResponse, error) {
		return c.AllocSchemaID(ctx, req)
	})
}

// CreateTable implements MetaService.
func (s *Service) CreateTable(ctx context.Context, req *metapb.CreateTableRequest) (*metapb.CreateTableResponse, error) {
	return handle(ctx, s, "CreateTable", true, func(ctx context.Context, t *coordinator.Term) (*metapb.CreateTableResponse, error) {
		co, err := cluster(t, req.Header)
		if err != nil {
			return nil, err
		}
		h, err := co.Procedures().CreateTable(ctx, req, procedure.OriginGRPC)
		if err != nil {
			return nil, err
		}
		rec, err := s.wait(ctx, h)
		if err != nil {
			return nil, err
		}
		return rec.GetCreateTable().GetResult(), nil
	}, func(ctx context.Context, c metapb.MetaServiceClient) (*metapb.CreateTableResponse, error) {
		return c.CreateTable(ctx, req)
	})
}

// DropTable implements MetaService.
func (s *Service) DropTable(ctx context.Context, req *metapb.DropTableRequest) (*metapb.DropTableResponse, error) {
	return handle(ctx, s, "DropTable", true, func(ctx context.Context, t *coordinator.Term) (*metapb.DropTableResponse, error) {
		co, err := cluster(t, req.Header)
		if err != nil {
			return nil, err
		}
		h, err := co.Procedures().DropTable(ctx, req, procedure.OriginGRPC)
		if err != nil {
			return nil, err
		}
		rec, err := s.wait(ctx, h)
		if err != nil {
			return nil, err
		}
		return rec.GetDropTable().GetResult(), nil
	}, func(ctx context.Context, c metapb.MetaServiceClient) (*metapb.DropTableResponse, error) {
		return c.DropTable(ctx, req)
	})
}

// wait waits for a procedure; a caller that gives up first learns that
// it goes on, and a member that stops tells its caller to retry elsewhere.
func (s *Service) wait(ctx context.Context, h *procedure.Handle) (*metapb.Procedure, error) {
	rec, err := h.Wait(ctx)
	select {
	case <-s.stop:
		return nil, s.notLeader(fmt.Sprintf("the member is stopping; procedure %d goes on under the next leader", h.ID()))
	default:
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		e := client.Errorf(metapb.Reason_PROCEDURE_TIMEOUT,
			"meta: procedure %d is still running; retry with the same request_id to wait for it", h.ID())
		e.Detail.ProcedureId = h.ID()
		return nil, e
	}
	return rec, err
}

// RouteTables implements MetaService.
func (s *Service) RouteTables(ctx context.Context, req *metapb.RouteTablesRequest) (*metapb.RouteTablesResponse, error) {
	return handle(ctx, s, "RouteTables", true, func(ctx context.Context, t *coordinator.Term) (*metapb.RouteTablesResponse, error) {
		co, err := cluster(t, req.Header)
		if err != nil {
			return nil, err
		}
		return co.Cluster().Route(req.SchemaName, req.TableNames), nil
	}, func(ctx context.Context, c metapb.MetaServiceClient) (*metapb.RouteTablesResponse, error) {
		return c.RouteTables(ctx, req)
	})
}

// GetNodes implements MetaService.
func (s *Service) GetNodes(ctx context.Context, req *metapb.GetNodesRequest) (*metapb.GetNodesResponse, error) {
	return handle(ctx, s, "GetNodes", false, func(ctx context.Context, t *coordinator.Term) (*metapb.GetNodesResponse, error) {
		co, err := cluster(t, req.Header)
		if err != nil {
			return nil, err
		}
		v, ns := co.Cluster().NodeShards()
		return &metapb.GetNodesResponse{ClusterTopologyVersion: v, NodeShards: ns}, nil
	}, func(ctx context.Context, c metapb.MetaServiceClient) (*metapb.GetNodesResponse, error) {
		return c.GetNodes(ctx, req)
	})
}

// GetTablesOfShards implements MetaService.
func (s *Service) GetTablesOfShards(ctx context.Context, req *metapb.GetTablesOfShardsRequest) (*metapb.GetTablesOfShardsResponse, error) {
	return handle(ctx, s, "GetTablesOfShards", false, func(ctx context.Context, t *coordinator.Term) (*metapb.GetTablesOfShardsResponse, error) {
		co, err := cluster(t, req.Header)
		if err != nil {
			return nil, err
		}
		m, err := co.Cluster().TablesOfShards(req.ShardIds)
		if err != nil {
			return nil, err
		}
		return &metapb.GetTablesOfShardsResponse{TablesByShard: m}, nil
	}, func(ctx context.Context, c metapb.MetaServiceClient) (*metapb.GetTablesOfShardsResponse, error) {
		return c.GetTablesOfShards(ctx, req)
	})
}
