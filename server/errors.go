package server

import (
	"errors"
	"net/http"

	"github.com/horaego/horaedb/internal/jsonenc"
	"github.com/horaego/horaedb/server/status"
)

// Errors of a request itself, before any statement runs.
var (
	// errBadRequest: the body is not what the endpoint takes (malformed
	// JSON, no query). 400.
	errBadRequest = errors.New("bad request")
	// errTooLarge: the body exceeds server.http_max_body_size. 413.
	errTooLarge = errors.New("request body too large")
)

// statusOf maps an error to the HTTP status of the response: 413 for a
// body over the limit, 400 for a malformed request, otherwise status.Code.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	}
	return status.Code(err)
}

// messageOf is the message of an error response (status.Message).
func messageOf(err error) string { return status.Message(err) }

// writeErr writes err as {"code":<status>,"message":"..."} with the status
// statusOf picks.
func writeErr(w http.ResponseWriter, err error) {
	writeError(w, statusOf(err), messageOf(err))
}

// writeError writes {"code":status,"message":msg} with HTTP status = code,
// upstream's error body.
func writeError(w http.ResponseWriter, status int, msg string) {
	buf := make([]byte, 0, len(msg)+32)
	buf = append(buf, `{"code":`...)
	buf = jsonenc.Int(buf, int64(status))
	buf = append(buf, `,"message":`...)
	buf = jsonenc.String(buf, msg)
	buf = append(buf, '}')
	writeJSON(w, status, buf)
}
