package client

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/horaego/horaedb/proto/metapb"
)

// The errors of the meta protocol. Both sides use them: HoraeMeta returns
// them from MetaService, a data node returns ErrShardVersionMismatch and
// ErrStaleEpoch (and others) from MetaEventService. On the wire each is a
// gRPC status whose details carry a metapb.ErrorDetail with the Reason;
// Status encodes, FromStatus decodes, and errors.Is matches the decoded
// error against these sentinels.
var (
	// ErrUnavailable: no member could serve the call before its
	// deadline (each was unreachable or not the leader); the call was
	// not applied by any member that answered. Retrying later is safe.
	ErrUnavailable = errors.New("meta client: no meta member could serve")

	ErrClusterNotFound      = sentinel(metapb.Reason_CLUSTER_NOT_FOUND, "cluster not found")
	ErrClusterNotStable     = sentinel(metapb.Reason_CLUSTER_NOT_STABLE, "cluster not stable")
	ErrSchemaNotFound       = sentinel(metapb.Reason_SCHEMA_NOT_FOUND, "schema not found")
	ErrTableNotFound        = sentinel(metapb.Reason_TABLE_NOT_FOUND, "table not found")
	ErrTableExists          = sentinel(metapb.Reason_TABLE_EXISTS, "table already exists")
	ErrShardNotFound        = sentinel(metapb.Reason_SHARD_NOT_FOUND, "shard not found")
	ErrNodeNotFound         = sentinel(metapb.Reason_NODE_NOT_FOUND, "node not found")
	ErrNodeDown             = sentinel(metapb.Reason_NODE_DOWN, "node down")
	ErrShardVersionMismatch = sentinel(metapb.Reason_SHARD_VERSION_MISMATCH, "shard version mismatch")
	ErrStaleEpoch           = sentinel(metapb.Reason_STALE_EPOCH, "stale meta epoch")
	ErrNotLeader            = sentinel(metapb.Reason_NOT_LEADER, "not the meta leader")
	ErrProcedureTimeout     = sentinel(metapb.Reason_PROCEDURE_TIMEOUT, "procedure timed out")
	ErrProcedureFailed      = sentinel(metapb.Reason_PROCEDURE_FAILED, "procedure failed")
	ErrRateLimited          = sentinel(metapb.Reason_RATE_LIMITED, "rate limited")
	ErrInvalidArgument      = sentinel(metapb.Reason_INVALID_ARGUMENT, "invalid argument")
	ErrClusterExists        = sentinel(metapb.Reason_CLUSTER_EXISTS, "cluster already exists")
	ErrUnimplemented        = sentinel(metapb.Reason_UNIMPLEMENTED, "not implemented")
)

var sentinels = map[metapb.Reason]*Error{}

func sentinel(r metapb.Reason, msg string) *Error {
	e := &Error{Detail: &metapb.ErrorDetail{Reason: r}, Msg: "meta: " + msg}
	sentinels[r] = e
	return e
}

// Error is an error of the meta protocol: a reason (with details) and a
// message. errors.Is matches it against the sentinel of its reason.
type Error struct {
	// Detail carries the reason and its data (shard version, epoch ...).
	Detail *metapb.ErrorDetail
	// Msg says what went wrong.
	Msg string
	// Code is the gRPC code it travelled with; zero means the reason's
	// default (see CodeOf).
	Code codes.Code
}

// Errorf returns an *Error of reason r with a formatted message.
func Errorf(r metapb.Reason, format string, args ...any) *Error {
	return &Error{Detail: &metapb.ErrorDetail{Reason: r}, Msg: fmt.Sprintf(format, args...)}
}

// VersionMismatch returns ErrShardVersionMismatch for shard, naming the
// version the receiver holds; a data node returns it from an event.
func VersionMismatch(shard uint32, held, want uint64) *Error {
	e := Errorf(metapb.Reason_SHARD_VERSION_MISMATCH, "shard %d: holds version %d, event expects %d", shard, held, want)
	e.Detail.ShardVersion = held
	return e
}

// StaleEpoch returns ErrStaleEpoch naming the newest epoch the receiver has
// seen; a data node returns it for an event from a deposed meta leader.
func StaleEpoch(got, newest uint64) *Error {
	e := Errorf(metapb.Reason_STALE_EPOCH, "event from meta epoch %d, but epoch %d is newer", got, newest)
	e.Detail.MetaEpoch = newest
	return e
}

func (e *Error) Error() string { return e.Msg }

// Reason returns the error's reason.
func (e *Error) Reason() metapb.Reason { return e.Detail.GetReason() }

// Is matches the sentinel of the same reason.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && sentinels[e.Reason()] == t
}

// CodeOf returns the gRPC code an error of reason r travels with.
func CodeOf(r metapb.Reason) codes.Code {
	switch r {
	case metapb.Reason_CLUSTER_NOT_FOUND, metapb.Reason_SCHEMA_NOT_FOUND, metapb.Reason_TABLE_NOT_FOUND,
		metapb.Reason_SHARD_NOT_FOUND, metapb.Reason_NODE_NOT_FOUND:
		return codes.NotFound
	case metapb.Reason_TABLE_EXISTS, metapb.Reason_CLUSTER_EXISTS:
		return codes.AlreadyExists
	case metapb.Reason_UNIMPLEMENTED:
		return codes.Unimplemented
	case metapb.Reason_CLUSTER_NOT_STABLE, metapb.Reason_SHARD_VERSION_MISMATCH, metapb.Reason_STALE_EPOCH:
		return codes.FailedPrecondition
	case metapb.Reason_NODE_DOWN, metapb.Reason_NOT_LEADER:
		return codes.Unavailable
	case metapb.Reason_PROCEDURE_TIMEOUT:
		return codes.DeadlineExceeded
	case metapb.Reason_PROCEDURE_FAILED:
		return codes.Aborted
	case metapb.Reason_RATE_LIMITED:
		return codes.ResourceExhausted
	case metapb.Reason_INVALID_ARGUMENT:
		return codes.InvalidArgument
	}
	return codes.Internal
}

// Status converts err for the wire: an *Error (anywhere in err's chain)
// becomes a status with its code, message and detail; a context error
// becomes Canceled or DeadlineExceeded; anything else is Internal. A
// status error passes through.
func Status(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
	}
	var e *Error
	switch {
	case errors.As(err, &e):
		code := e.Code
		if code == codes.OK {
			code = CodeOf(e.Reason())
		}
		st := status.New(code, err.Error())
		if withDetail, derr := st.WithDetails(e.Detail); derr == nil {
			st = withDetail
		}
		return st.Err()
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// FromStatus decodes an error received over gRPC: a status with an
// ErrorDetail becomes an *Error (matching its sentinel); other errors are
// returned as they are.
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		if detail, ok := d.(*metapb.ErrorDetail); ok {
			return &Error{Detail: detail, Msg: st.Message(), Code: st.Code()}
		}
	}
	return err
}
