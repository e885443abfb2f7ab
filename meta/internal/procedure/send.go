package procedure

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/proto/metapb"
)

// send calls an event until it succeeds, fails for good, or p's deadline
// passes. Each attempt is bounded by DispatchTimeout; failed attempts are
// retried with backoff (50ms doubling to 1s).
func (m *Manager) send(ctx context.Context, p *proc, event, node string, call func(ctx context.Context) error) error {
	deadline := time.UnixMilli(p.rec.DeadlineMs)
	backoff := 50 * time.Millisecond
	var last error
	attempts := 0
	for {
		left := deadline.Sub(m.opts.Now())
		if left <= 0 {
			var e *client.Error
			if attempts == 0 {
				e = client.Errorf(metapb.Reason_PROCEDURE_TIMEOUT,
					"procedure %d (%s) timed out after %s before it could send %s to node %s (it waited for other procedures on the same shards)",
					p.id, Describe(p.rec), m.opts.Timeout, event, node)
			} else {
				e = client.Errorf(metapb.Reason_PROCEDURE_TIMEOUT,
					"procedure %d (%s) timed out after %s: %s to node %s failed %d times, last error: %v",
					p.id, Describe(p.rec), m.opts.Timeout, event, node, attempts, last)
			}
			e.Detail.ProcedureId = p.id
			return e
		}
		actx, cancel := context.WithTimeout(ctx, min(m.opts.DispatchTimeout, left))
		err := call(actx)
		cancel()
		attempts++
		p.rec.Attempts++
		m.observe(event, err)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !retriable(err) {
			return fmt.Errorf("%s to node %s: %w", event, node, err)
		}
		last = err
		m.logger.Debug("event failed; retrying", "cluster", m.name, "procedure", p.id, "event", event, "node", node,
			"attempt", attempts, "err", err)
		t := time.NewTimer(min(backoff, max(deadline.Sub(m.opts.Now()), 0)))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}

// retriable says whether an event that failed with err may succeed later.
// A version mismatch or a newer epoch will not change by retrying; neither
// will a request the node calls invalid.
func retriable(err error) bool {
	var ce *client.Error
	if errors.As(err, &ce) {
		switch ce.Reason() {
		case metapb.Reason_NODE_DOWN, metapb.Reason_RATE_LIMITED, metapb.Reason_NOT_LEADER:
			return true
		}
		return false
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.Unimplemented, codes.FailedPrecondition, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.Unauthenticated, codes.OutOfRange:
		return false
	}
	return true
}

// Describe names what a procedure does, for errors and logs.
func Describe(rec *metapb.Procedure) string {
	switch b := rec.Body.(type) {
	case *metapb.Procedure_CreateTable:
		return fmt.Sprintf("create table %s.%s", b.CreateTable.Request.GetSchemaName(), b.CreateTable.Request.GetName())
	case *metapb.Procedure_DropTable:
		return fmt.Sprintf("drop table %s.%s", b.DropTable.Request.GetSchemaName(), b.DropTable.Request.GetName())
	case *metapb.Procedure_Shard:
		s := b.Shard
		switch rec.Kind {
		case metapb.ProcedureKind_PROCEDURE_KIND_OPEN_SHARD:
			return fmt.Sprintf("open shard %d on %s", s.ShardId, s.ToNode)
		case metapb.ProcedureKind_PROCEDURE_KIND_CLOSE_SHARD:
			return fmt.Sprintf("close shard %d on %s", s.ShardId, s.FromNode)
		default:
			return fmt.Sprintf("transfer shard %d from %q to %s", s.ShardId, s.FromNode, s.ToNode)
		}
	}
	return rec.Kind.String()
}
