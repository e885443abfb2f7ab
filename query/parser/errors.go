package parser

import (
	"errors"
	"fmt"
)

var (
	// ErrSyntax is matched (errors.Is) by every error Parse returns.
	ErrSyntax = errors.New("parser: syntax error")
	// ErrUnsupported is matched by errors about SQL that is well formed but
	// that HoraeDB does not support: DELETE, UPDATE, ALTER TABLE ... RENAME,
	// a DECIMAL column. It wraps ErrSyntax, so those errors match both.
	ErrUnsupported = fmt.Errorf("parser: unsupported: %w", ErrSyntax)
)

// Error is the error Parse returns. It says where the problem is and what was
// found there, for example:
//
//	syntax error at line 1, column 15: expected ')' but found 'FROM'
type Error struct {
	// Line and Column (1-based; Column counts characters) locate the
	// offending token.
	Line, Column int
	// Msg is the message without the position, e.g. "expected ')' but
	// found 'FROM'" or "Only support execute one statement now, current
	// num:2". Servers that must answer with upstream's wording can use it.
	Msg string
	// kind is ErrSyntax or ErrUnsupported.
	kind error
}

func newError(kind error, at position, format string, args ...any) *Error {
	return &Error{Line: at.Line, Column: at.Column, Msg: fmt.Sprintf(format, args...), kind: kind}
}

func (e *Error) Error() string {
	return fmt.Sprintf("syntax error at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Unwrap returns ErrSyntax or ErrUnsupported.
func (e *Error) Unwrap() error { return e.kind }
