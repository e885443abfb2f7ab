package grpcapi

import (
	"context"
	"net"
	"strconv"

	"github.com/horaego/horaedb/proto/storagepb"
)

// Endpoint is a node's gRPC address as clients reach it.
type Endpoint struct {
	Host string // an IP or a host name (node.addr)
	Port uint32 // the gRPC port
}

func (e Endpoint) String() string {
	return net.JoinHostPort(e.Host, strconv.FormatUint(uint64(e.Port), 10))
}

// Router says which node serves a table. A standalone node serves every
// table (StaticRouter); a cluster answers from its routing rules or the
// meta service, and returns an error wrapping ErrStaleRoute (302) or
// ErrBadRequest where it applies.
type Router interface {
	Route(ctx context.Context, database, table string) (Endpoint, error)
}

// StaticRouter routes every table to one endpoint.
type StaticRouter Endpoint

// Route implements Router.
func (r StaticRouter) Route(context.Context, string, string) (Endpoint, error) {
	return Endpoint(r), nil
}

// Route answers with the endpoint of every requested table. One table that
// cannot be routed fails the whole request.
func (s *Service) Route(ctx context.Context, req *storagepb.RouteRequest) (*storagepb.RouteResponse, error) {
	db := session(req.GetContext()).Database
	routes := make([]*storagepb.Route, 0, len(req.GetTables()))
	for _, table := range req.GetTables() {
		ep, err := s.o.Router.Route(ctx, db, table)
		if err != nil {
			s.logFailure(ctx, "Route", err, "table", table, "database", db)
			return &storagepb.RouteResponse{Header: errHeader(err)}, nil
		}
		routes = append(routes, &storagepb.Route{
			Table:    table,
			Endpoint: &storagepb.Endpoint{Ip: ep.Host, Port: ep.Port},
		})
	}
	return &storagepb.RouteResponse{Header: okHeader(), Routes: routes}, nil
}
