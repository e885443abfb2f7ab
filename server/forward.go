package server

import (
	"context"
	"net/http"
	"time"

	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/auth"
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
	// users vouch for a MySQL or PostgreSQL user to the owner
	// (auth.Users.ForwardToken); nil with auth off.
	users *auth.Users
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
	creds := forwardAuth(ctx)
	if creds == "" && sess.User != "" {
		creds = x.users.ForwardToken(sess.User, time.Now())
	}
	resp, err := c.SqlQuery(grpcapi.OutgoingContext(ctx, x.f.Self(), creds), &storagepb.SqlQueryRequest{
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

// forwardingWriter writes the tables of the InfluxDB, OpenTSDB and
// Prometheus protocols on the nodes that serve them: the tables served
// here through the executor, the others sent to their owners over the
// storage API (one Write per owner, with forwarded-from and the caller's
// Authorization). Every table is encoded before anything is written, so a
// value the API cannot carry fails the request whole; after that, as with
// a gRPC Write split by owner, the count is of the tables written and the
// error the first failure's. The embedded executor serves everything else
// (OpenTSDB's queries read tables here).
type forwardingWriter struct {
	*query.Executor
	f grpcapi.Forwarder // nil: standalone, every table is here
}

// Write implements influx.Writer, promremote.Writer and part of
// opentsdb.Executor.
func (w forwardingWriter) Write(ctx context.Context, sess query.Session, tables []query.WriteTable, o query.WriteOptions) (int64, error) {
	if w.f == nil { // standalone
		return w.Executor.Write(ctx, sess, tables, o)
	}
	db := sess.Database
	if db == "" {
		db = query.DefaultDatabase
	}
	var here []query.WriteTable
	var owners []string
	remote := map[string][]query.WriteTable{}
	for _, t := range tables {
		ep, err := w.f.Owner(ctx, db, t.Table)
		if err != nil {
			return 0, err
		}
		if ep == "" {
			here = append(here, t)
			continue
		}
		if _, ok := remote[ep]; !ok {
			owners = append(owners, ep)
		}
		remote[ep] = append(remote[ep], t)
	}
	if len(owners) == 0 {
		return w.Executor.Write(ctx, sess, tables, o)
	}
	reqs := make([]*storagepb.WriteRequest, len(owners))
	for i, ep := range owners {
		var err error
		if reqs[i], err = grpcapi.EncodeWrite(db, remote[ep]); err != nil {
			return 0, err
		}
	}
	var n int64
	var first error
	if len(here) > 0 {
		n, first = w.Executor.Write(ctx, sess, here, o)
	}
	for i, ep := range owners {
		k, err := w.forward(ctx, db, ep, reqs[i])
		n += k
		if first == nil {
			first = err
		}
	}
	return n, first
}

// forward writes one owner's part.
func (w forwardingWriter) forward(ctx context.Context, db, owner string, req *storagepb.WriteRequest) (int64, error) {
	resp, err := grpcapi.SendWrite(ctx, w.f, owner, db, req, forwardAuth(ctx))
	if err != nil {
		return 0, err
	}
	if h := resp.GetHeader(); h.GetCode() != http.StatusOK {
		return int64(resp.GetSuccess()), &status.Error{Code: int(h.GetCode()), Message: h.GetError()}
	}
	return int64(resp.GetSuccess()), nil
}
