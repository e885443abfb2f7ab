package grpcapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/klauspost/compress/zstd"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/status"
)

// Forwarding in a cluster (reference/storage-api.md): a Write, SqlQuery or
// StreamSqlQuery for tables this node does not serve is sent once to the
// node that does, with the metadata forwarded-from: <this node>, and its
// answer returned as it is. A request that already carries forwarded-from
// and still reaches a node that does not serve its tables is answered 302
// (stale route): the client refreshes its route and asks again, and no
// request travels more than one hop. A write's tables are split by owner;
// a statement's tables must all live on one node.

// ForwardedFromKey is the gRPC metadata key naming the node that forwarded
// a request.
const ForwardedFromKey = "forwarded-from"

// Forwarder says where tables live and reaches their owners;
// *router.Router implements it.
type Forwarder interface {
	// Self is this node's endpoint, host:port.
	Self() string
	// ForwardsDDL reports whether CREATE and DROP TABLE run on the
	// table's owner (static placement) rather than on any node.
	ForwardsDDL() bool
	// Owner returns the endpoint of the node that serves a table, "" for
	// this node.
	Owner(ctx context.Context, database, table string) (string, error)
	// Forget drops what is cached about a table's owner.
	Forget(database, table string)
	// Client is a storage API client of the node at endpoint.
	Client(endpoint string) (storagepb.StorageServiceClient, error)
}

// StatementOwner returns the owner of a statement's tables, "" when this
// node serves them all (or there are none). Tables on several nodes are
// refused (400) naming them.
func StatementOwner(ctx context.Context, f Forwarder, database string, tables []string) (string, error) {
	byOwner := map[string][]string{}
	for _, t := range tables {
		ep, err := f.Owner(ctx, database, t)
		if err != nil {
			return "", err
		}
		byOwner[ep] = append(byOwner[ep], t)
	}
	switch {
	case len(byOwner) == 0:
		return "", nil
	case len(byOwner) == 1:
		for ep := range byOwner {
			return ep, nil
		}
	}
	parts := make([]string, 0, len(byOwner))
	for ep, ts := range byOwner {
		where := "on " + ep
		if ep == "" {
			where = "on this node (" + f.Self() + ")"
		}
		parts = append(parts, strings.Join(ts, ", ")+" "+where)
	}
	sort.Strings(parts)
	return "", &status.Error{Code: http.StatusBadRequest, Message: fmt.Sprintf(
		"the statement's tables are served by different nodes (%s); a statement may only read tables of one node",
		strings.Join(parts, "; "))}
}

// ForwardedFrom returns the forwarded-from metadata of an incoming call.
func ForwardedFrom(ctx context.Context) string {
	if v := metadata.ValueFromIncomingContext(ctx, ForwardedFromKey); len(v) > 0 {
		return v[0]
	}
	return ""
}

// OutgoingContext is the context of a call forwarded by the node self: it
// carries forwarded-from and the caller's credentials (authorization),
// which the owner checks again; auth, when set, replaces them (a request
// that came over HTTP).
func OutgoingContext(ctx context.Context, self, auth string) context.Context {
	md := metadata.Pairs(ForwardedFromKey, self)
	if auth != "" {
		md.Set("authorization", auth)
	} else if v := metadata.ValueFromIncomingContext(ctx, "authorization"); len(v) > 0 {
		md.Set("authorization", v...)
	}
	return metadata.NewOutgoingContext(ctx, md)
}

// ForwardError describes a failed call to the owner: 503 when it was not
// reached (safe to retry), else 500.
func ForwardError(endpoint string, err error) error {
	code := http.StatusInternalServerError
	if grpcstatus.Code(err) == codes.Unavailable {
		code = http.StatusServiceUnavailable
	}
	return &status.Error{Code: code, Message: fmt.Sprintf("forwarding to the owner %s: %v", endpoint, err)}
}

// staleRoute is the answer to a forwarded request that missed again.
func staleRoute(ctx context.Context, f Forwarder, database string, tables []string, owner string) error {
	for _, t := range tables {
		f.Forget(database, t)
	}
	return fmt.Errorf("%w: %s is not served by %s (the cluster says %s); the request was forwarded by %s; refresh the route",
		ErrStaleRoute, strings.Join(tables, ", "), f.Self(), owner, ForwardedFrom(ctx))
}

// sqlOwner is where req must run: "" here.
func (s *Service) sqlOwner(ctx context.Context, req *storagepb.SqlQueryRequest) (string, []string, error) {
	f := s.o.Forwarder
	if f == nil {
		return "", nil, nil
	}
	tables, ok := query.StatementTables(req.GetSql(), f.ForwardsDDL())
	if !ok || len(tables) == 0 {
		return "", nil, nil // the executor reports a syntax error
	}
	db := session(req.GetContext()).Database
	owner, err := StatementOwner(ctx, f, db, tables)
	if err != nil {
		return "", nil, err
	}
	if owner != "" && ForwardedFrom(ctx) != "" {
		return "", nil, staleRoute(ctx, f, db, tables, owner)
	}
	return owner, tables, nil
}

// forgetOnFailure drops the cached owners of tables after the owner
// failed to answer or answered 302.
func (s *Service) forgetOnFailure(req *storagepb.SqlQueryRequest, tables []string, code uint32, err error) {
	if err == nil && code != http.StatusFound {
		return
	}
	db := session(req.GetContext()).Database
	for _, t := range tables {
		s.o.Forwarder.Forget(db, t)
	}
}

// forwardSQL runs SqlQuery on the owner.
func (s *Service) forwardSQL(ctx context.Context, owner string, tables []string, req *storagepb.SqlQueryRequest) *storagepb.SqlQueryResponse {
	s.metrics.forwarded.WithLabelValues("SqlQuery").Inc()
	c, err := s.o.Forwarder.Client(owner)
	if err != nil {
		return &storagepb.SqlQueryResponse{Header: errHeader(ForwardError(owner, err))}
	}
	resp, err := c.SqlQuery(OutgoingContext(ctx, s.o.Forwarder.Self(), ""), req)
	s.forgetOnFailure(req, tables, resp.GetHeader().GetCode(), err)
	if err != nil {
		s.logSQLFailure(ctx, req, err)
		return &storagepb.SqlQueryResponse{Header: errHeader(ForwardError(owner, err))}
	}
	return resp
}

// forwardStreamSQL runs StreamSqlQuery on the owner and relays its
// messages.
func (s *Service) forwardStreamSQL(owner string, tables []string, req *storagepb.SqlQueryRequest,
	stream storagepb.StorageService_StreamSqlQueryServer) error {
	ctx := stream.Context()
	s.metrics.forwarded.WithLabelValues("StreamSqlQuery").Inc()
	c, err := s.o.Forwarder.Client(owner)
	if err != nil {
		return stream.Send(&storagepb.SqlQueryResponse{Header: errHeader(ForwardError(owner, err))})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in, err := c.StreamSqlQuery(OutgoingContext(ctx, s.o.Forwarder.Self(), ""), req)
	for err == nil {
		var resp *storagepb.SqlQueryResponse
		if resp, err = in.Recv(); err != nil {
			break
		}
		s.forgetOnFailure(req, tables, resp.GetHeader().GetCode(), nil)
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	s.forgetOnFailure(req, tables, 0, err)
	s.logSQLFailure(ctx, req, err)
	return stream.Send(&storagepb.SqlQueryResponse{Header: errHeader(ForwardError(owner, err))})
}

// DecodeArrow decodes the Arrow payload of a query's answer: its schema
// and batches, which the caller releases.
func DecodeArrow(p *storagepb.ArrowPayload) (*arrow.Schema, []arrow.RecordBatch, error) {
	var sch *arrow.Schema
	var recs []arrow.RecordBatch
	fail := func(err error) (*arrow.Schema, []arrow.RecordBatch, error) {
		for _, r := range recs {
			r.Release()
		}
		return nil, nil, fmt.Errorf("decoding an Arrow payload: %w", err)
	}
	for _, b := range p.GetRecordBatches() {
		if p.GetCompression() == storagepb.ArrowPayload_ZSTD {
			d, err := zstd.NewReader(nil)
			if err != nil {
				return fail(err)
			}
			b, err = d.DecodeAll(b, nil)
			d.Close()
			if err != nil {
				return fail(err)
			}
		}
		r, err := ipc.NewReader(bytes.NewReader(b))
		if err != nil {
			return fail(err)
		}
		if sch == nil {
			sch = r.Schema()
		}
		for r.Next() {
			rec := r.RecordBatch()
			rec.Retain()
			recs = append(recs, rec)
		}
		err = r.Err()
		r.Release()
		if err != nil {
			return fail(err)
		}
	}
	if sch == nil {
		return fail(errors.New("no schema"))
	}
	return sch, recs, nil
}
