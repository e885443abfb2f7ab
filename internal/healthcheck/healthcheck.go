// Package healthcheck is the `healthcheck` subcommand of horaedb and
// horaemeta: one HTTP GET of the process's own health endpoint, for
// container health checks in images that have no shell and no curl
// (docker/). It succeeds on a 2xx answer and fails on anything else.
package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// DefaultTimeout bounds one check when the caller gives none.
const DefaultTimeout = 3 * time.Second

// ErrUnhealthy is returned when the endpoint answers with a non-2xx status.
var ErrUnhealthy = errors.New("healthcheck: unhealthy")

// LocalURL is the URL of path on a server listening on bindAddr:port, as
// seen from the same host: a wildcard or empty bind address is reached on
// the loopback address.
func LocalURL(bindAddr string, port int, path string) string {
	switch bindAddr {
	case "", "0.0.0.0", "::", "[::]":
		bindAddr = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(bindAddr, strconv.Itoa(port)) + path
}

// Check GETs url and returns nil on a 2xx answer. The error names the
// status and the start of the body otherwise; timeout bounds the request
// (0: DefaultTimeout).
func Check(ctx context.Context, url string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: GET %s: %d %s", ErrUnhealthy, url, resp.StatusCode, body)
	}
	return nil
}
