package pgwire

import (
	"context"
	"errors"
	"fmt"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/internal/units"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/parser"
	"github.com/horaego/horaedb/wal"
)

// pgError is what an ErrorResponse carries.
type pgError struct {
	severity string // ERROR or FATAL
	code     string // SQLSTATE
	msg      string
}

func (e *pgError) Error() string { return fmt.Sprintf("%s %s: %s", e.severity, e.code, e.msg) }

func newError(code, format string, args ...any) *pgError {
	return &pgError{severity: "ERROR", code: code, msg: fmt.Sprintf(format, args...)}
}

func fatal(code, format string, args ...any) *pgError {
	return &pgError{severity: "FATAL", code: code, msg: fmt.Sprintf(format, args...)}
}

// SQLSTATE codes this server sends.
const (
	codeFeatureNotSupported = "0A000"
	codeProtocolViolation   = "08P01"
	codeInvalidParamValue   = "22023"
	codeInvalidBinary       = "22P03"
	codeInvalidText         = "22P02"
	codeCharacterNotInRepr  = "22021"
	codeDataException       = "22000"
	codeInvalidAuthSpec     = "28000"
	codeInvalidPassword     = "28P01"
	codeSyntaxError         = "42601"
	codeUndefinedTable      = "42P01"
	codeUndefinedColumn     = "42703"
	codeDuplicateTable      = "42P07"
	codeUndefinedObject     = "42704"
	codeUndefinedParameter  = "42P02"
	codeDuplicatePrepared   = "42P05"
	codeDuplicateCursor     = "42P03"
	codeInvalidStmtName     = "26000"
	codeInvalidCursorName   = "34000"
	codeSyntaxOrAccess      = "42000"
	codeTooManyConnections  = "53300"
	codeInsufficientRes     = "53000"
	codeQueryCanceled       = "57014"
	codeAdminShutdown       = "57P01"
	codeInternal            = "XX000"
)

// toPgError maps an error of a statement to an ErrorResponse
// (docs/compatibility.md lists the mapping):
//
//	syntax error (parser.ErrSyntax)        42601 syntax_error
//	unsupported statement or feature       0A000 feature_not_supported
//	unknown table                          42P01 undefined_table
//	table exists                           42P07 duplicate_table
//	unknown column                         42703 undefined_column
//	rows that do not fit the table         22000 data_exception
//	other mistakes of the client           42000 syntax_error_or_access_rule_violation
//	WAL unavailable, server busy, memory   53000 insufficient_resources: retry
//	node shutting down                     57P01 admin_shutdown
//	statement cancelled                    57014 query_canceled
//	anything else (a fault of ours)        XX000 internal_error
func toPgError(err error) *pgError {
	var pe *pgError
	if errors.As(err, &pe) {
		return pe
	}
	switch {
	case errors.Is(err, parser.ErrUnsupported), errors.Is(err, query.ErrUnsupported):
		return newError(codeFeatureNotSupported, "%s", query.UserMessage(err))
	case errors.Is(err, parser.ErrSyntax), errors.Is(err, units.ErrSyntax):
		return newError(codeSyntaxError, "%s", query.UserMessage(err))
	case errors.Is(err, engine.ErrTableNotFound):
		return newError(codeUndefinedTable, "%s", query.UserMessage(err))
	case errors.Is(err, engine.ErrTableExists):
		return newError(codeDuplicateTable, "%s", query.UserMessage(err))
	case errors.Is(err, engine.ErrColumnNotFound):
		return newError(codeUndefinedColumn, "%s", query.UserMessage(err))
	case errors.Is(err, engine.ErrInvalidWrite):
		return newError(codeDataException, "%s", query.UserMessage(err))
	case errors.Is(err, wal.ErrUnavailable), errors.Is(err, engine.ErrServerBusy):
		return newError(codeInsufficientRes, "nothing was applied; retry later: %v", err)
	case errors.Is(err, wal.ErrClosed), errors.Is(err, engine.ErrClosed):
		return newError(codeAdminShutdown, "the node is shutting down; nothing was applied: %v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return newError(codeQueryCanceled, "canceling statement due to statement timeout")
	case errors.Is(err, context.Canceled):
		return newError(codeQueryCanceled, "canceling statement due to user request")
	case query.IsClientError(err):
		return newError(codeSyntaxOrAccess, "%s", query.UserMessage(err))
	}
	return newError(codeInternal, "%v", err)
}

// isServerFault reports whether err is a failure of the server rather than
// a mistake of the client, for logs and metrics.
func isServerFault(err error) bool {
	var pe *pgError
	if errors.As(err, &pe) {
		return pe.code == codeInternal
	}
	return !query.IsClientError(err) && !errors.Is(err, context.Canceled)
}
