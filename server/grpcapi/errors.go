package grpcapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/horaego/horaedb/proto/commonpb"
	"github.com/horaego/horaedb/server/auth"
	"github.com/horaego/horaedb/server/promremote"
	"github.com/horaego/horaedb/server/status"
)

// Errors of the service, mapped to header codes by codeOf.
var (
	// ErrBadRequest is a request this API cannot take as sent: an index
	// out of range, an empty statement, an undecodable Prometheus query.
	// Code 400.
	ErrBadRequest = errors.New("bad request")
	// ErrStaleRoute tells a client that its cached route is wrong: this
	// node no longer serves the table. Code 302; the SDKs drop their route
	// and ask Route again. Routers and forwarding layers return it.
	ErrStaleRoute = errors.New("stale route")
)

// codeOK is the header code of success.
const codeOK = http.StatusOK

// okHeader is the header of every successful response.
func okHeader() *commonpb.ResponseHeader {
	return &commonpb.ResponseHeader{Code: codeOK}
}

// errHeader is the header of a response that failed with err.
func errHeader(err error) *commonpb.ResponseHeader {
	return &commonpb.ResponseHeader{Code: codeOf(err), Error: messageOf(err)}
}

// codeOf maps an error to the header code: the codes every front end uses
// (server/status: 400 the client's mistake, 503 nothing applied and safe
// to retry, 500 ours), and those of this API: 302 stale route, 401
// credentials, 504 server.timeout.
func codeOf(err error) uint32 {
	switch {
	case errors.Is(err, ErrStaleRoute):
		return http.StatusFound
	case errors.Is(err, auth.ErrDenied):
		return http.StatusUnauthorized
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, ErrBadRequest), errors.Is(err, promremote.ErrBadRequest):
		return http.StatusBadRequest
	}
	return uint32(status.Code(err))
}

// messageOf is the header's error text (server/status), with advice for a
// timeout.
func messageOf(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "the request took longer than server.timeout: " + err.Error()
	}
	return status.Message(err)
}
