package server

import (
	"context"
	"net/http"

	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/grpcapi"
	"github.com/horaego/horaedb/server/status"
)

// forwardingExecutor runs a statement whose tables are served by another
// node of the cluster on that node, over its gRPC storage API (SqlQuery,
// with forwarded-from: see server/grpcapi/forward.go), and the others
// here. It serves HTTP /sql and the MySQL and PostgreSQL protocols of a
// WithMeta node. The owner's result comes back whole (Records).
type forwardingExecutor struct {
	executor
	f grpcapi.Forwarder
}

// Execute implements executor.
func (x forwardingExecutor) Execute(ctx context.Context, sess query.Session, sql string) (*query.Result, error) {
	tables, ok := query.StatementTables(sql, x.f.ForwardsDDL())
	if !ok || len(tables) == 0 {
		return x.executor.Execute(ctx, sess, sql)
	}
	owner, err := grpcapi.StatementOwner(ctx, x.f, sess.Database, tables)
	if err != nil {
		return nil, err
	}
	if owner == "" {
		return x.executor.Execute(ctx, sess, sql)
	}
	forget := func() {
		for _, t := range tables {
			x.f.Forget(sess.Database, t)
		}
	}
	c, err := x.f.Client(owner)
	if err != nil {
		return nil, grpcapi.ForwardError(owner, err)
	}
	resp, err := c.SqlQuery(grpcapi.OutgoingContext(ctx, x.f.Self(), forwardAuth(ctx)), &storagepb.SqlQueryRequest{
		Context: &storagepb.RequestContext{Database: sess.Database}, Tables: tables, Sql: sql})
	if err != nil {
		forget()
		return nil, grpcapi.ForwardError(owner, err)
	}
	if h := resp.GetHeader(); h.GetCode() != http.StatusOK {
		if h.GetCode() == http.StatusFound {
			forget()
		}
		return nil, &status.Error{Code: int(h.GetCode()), Message: h.GetError()}
	}
	if a := resp.GetArrow(); a != nil {
		sch, recs, err := grpcapi.DecodeArrow(a)
		if err != nil {
			return nil, err
		}
		return &query.Result{Schema: sch, Records: recs}, nil
	}
	return &query.Result{AffectedRows: int64(resp.GetAffectedRows())}, nil
}

// forwardAuthKey carries the HTTP Authorization header of a request to
// forwardingExecutor, which passes it on to the owner.
type forwardAuthKey struct{}

func withForwardAuth(ctx context.Context, auth string) context.Context {
	if auth == "" {
		return ctx
	}
	return context.WithValue(ctx, forwardAuthKey{}, auth)
}

func forwardAuth(ctx context.Context) string {
	s, _ := ctx.Value(forwardAuthKey{}).(string)
	return s
}
