package mysqlwire

import (
	"context"
	"errors"
	"fmt"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/parser"
	"github.com/horaego/horaedb/wal"
)

// wireError is what an ERR packet carries: a MySQL error code, its
// SQLSTATE and a message.
type wireError struct {
	code  uint16
	state string
	msg   string
}

func (e *wireError) Error() string { return fmt.Sprintf("ERROR %d (%s): %s", e.code, e.state, e.msg) }

// MySQL error codes this server sends.
const (
	erConCount            = 1040 // too many connections
	erAccessDenied        = 1045
	erUnknownCommand      = 1047
	erServerShutdown      = 1053
	erTableExists         = 1050
	erBadField            = 1054
	erParse               = 1064
	erEmptyQuery          = 1065
	erUnknown             = 1105
	erNoSuchTable         = 1146
	erNetPacketTooLarge   = 1153
	erNetReadError        = 1158
	erWrongArguments      = 1210
	erNotSupportedYet     = 1235
	erUnknownStmtHandler  = 1243
	erQueryInterrupted    = 1317
	erQueryTimeout        = 3024
	erMaxPreparedStmt     = 1461
	erMalformedPacket     = 1835
	erOutOfResources      = 1041
	erLockWaitTimeoutLike = 1205
)

func newError(code uint16, state, format string, args ...any) *wireError {
	return &wireError{code: code, state: state, msg: fmt.Sprintf(format, args...)}
}

// toWireError maps an error of a statement to the code and SQLSTATE a
// MySQL client expects (docs/compatibility.md lists the mapping):
//
//	syntax error (parser.ErrSyntax)        1064 ER_PARSE_ERROR        42000
//	unsupported statement or feature       1235 ER_NOT_SUPPORTED_YET  42000
//	unknown table                          1146 ER_NO_SUCH_TABLE      42S02
//	table exists                           1050 ER_TABLE_EXISTS_ERROR 42S01
//	unknown column                         1054 ER_BAD_FIELD_ERROR    42S22
//	other mistakes of the client           1105 ER_UNKNOWN_ERROR      HY000
//	WAL unavailable, server busy           1205 (lock wait timeout)   HY000: retry
//	node shutting down                     1053 ER_SERVER_SHUTDOWN    08S01
//	statement cancelled                    1317 ER_QUERY_INTERRUPTED  70100
//	anything else (a fault of ours)        1105 ER_UNKNOWN_ERROR      HY000
func toWireError(err error) *wireError {
	var we *wireError
	if errors.As(err, &we) {
		return we
	}
	switch {
	case errors.Is(err, errMalformed):
		return newError(erMalformedPacket, "HY000", "%v", err)
	case errors.Is(err, parser.ErrUnsupported), errors.Is(err, query.ErrUnsupported):
		return newError(erNotSupportedYet, "42000", "%s", query.UserMessage(err))
	case errors.Is(err, parser.ErrSyntax):
		return newError(erParse, "42000", "%s", query.UserMessage(err))
	case errors.Is(err, engine.ErrTableNotFound):
		return newError(erNoSuchTable, "42S02", "%s", query.UserMessage(err))
	case errors.Is(err, engine.ErrTableExists):
		return newError(erTableExists, "42S01", "%s", query.UserMessage(err))
	case errors.Is(err, engine.ErrColumnNotFound):
		return newError(erBadField, "42S22", "%s", query.UserMessage(err))
	case errors.Is(err, wal.ErrUnavailable), errors.Is(err, engine.ErrServerBusy):
		return newError(erLockWaitTimeoutLike, "HY000", "nothing was applied; retry later: %v", err)
	case errors.Is(err, wal.ErrClosed), errors.Is(err, engine.ErrClosed):
		return newError(erServerShutdown, "08S01", "the node is shutting down; nothing was applied: %v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return newError(erQueryTimeout, "HY000", "Query execution was interrupted, maximum statement execution time exceeded")
	case errors.Is(err, context.Canceled):
		return newError(erQueryInterrupted, "70100", "query execution was interrupted: %v", err)
	case query.IsClientError(err):
		return newError(erUnknown, "HY000", "%s", query.UserMessage(err))
	}
	return newError(erUnknown, "HY000", "%v", err)
}

// isServerFault reports whether err is a failure of the server rather than
// a mistake of the client, for logs and metrics.
func isServerFault(err error) bool {
	var we *wireError
	if errors.As(err, &we) {
		return false
	}
	return !query.IsClientError(err)
}
