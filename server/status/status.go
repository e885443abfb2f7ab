// Package status maps the errors of statements and writes to the
// HTTP-like status codes every front end answers with (HTTP itself, the
// gRPC storage API's response header, the InfluxDB, Prometheus and
// OpenTSDB APIs): the fault's owner decides the code.
package status

import (
	"errors"
	"net/http"

	"github.com/horaego/horaedb/cluster"
	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/wal"
)

// Code is 400 for the client's mistakes (a bad statement or value, an
// unknown table), 503 for a temporary failure in which nothing was
// applied (the WAL is unavailable, memtables are full, the node is
// shutting down, the node lost the lock of the table's shard), so that
// retrying is safe, and 500 for anything else.
func Code(err error) int {
	var coded *Error
	switch {
	case errors.As(err, &coded):
		return coded.Code
	case errors.Is(err, wal.ErrUnavailable), errors.Is(err, engine.ErrServerBusy),
		errors.Is(err, wal.ErrClosed), errors.Is(err, engine.ErrClosed), errors.Is(err, cluster.ErrShardLockLost),
		errors.Is(err, client.ErrUnavailable), errors.Is(err, client.ErrClusterNotStable):
		return http.StatusServiceUnavailable
	case errors.Is(err, query.ErrBlocked):
		return http.StatusForbidden
	case query.IsClientError(err):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// Message is the text of an error for a client: the error without the
// sentinels' package prefixes, with advice where the code alone does not
// say what to do.
func Message(err error) string {
	var coded *Error
	switch {
	case errors.As(err, &coded):
		return coded.Message
	case errors.Is(err, wal.ErrUnavailable):
		return "the write was not applied: the WAL is unavailable; retry later: " + err.Error()
	case errors.Is(err, engine.ErrServerBusy):
		return "the write was not applied; retry later: " + err.Error()
	case errors.Is(err, cluster.ErrShardLockLost):
		return "nothing was applied: the table's shard is moving to another node or back; refresh the route and retry: " + err.Error()
	case errors.Is(err, wal.ErrClosed), errors.Is(err, engine.ErrClosed):
		return "the node is shutting down; nothing was applied; retry on another node or later: " + err.Error()
	case errors.Is(err, client.ErrClusterNotStable):
		return "the cluster is not stable yet (HoraeMeta is waiting for nodes or opening shards); retry later: " + err.Error()
	case errors.Is(err, client.ErrUnavailable):
		return "the meta service could not serve the request now; retry later: " + err.Error()
	case query.IsClientError(err):
		return query.UserMessage(err)
	}
	return err.Error()
}

// Error is an error that carries its code and message: the answer of the
// node a request was forwarded to, or a front end's own decision.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return e.Message }
