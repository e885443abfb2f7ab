package status

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/horaego/horaedb/cluster"
	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/wal"
)

func TestCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		msg  string // part of Message
	}{
		{&Error{Code: 302, Message: "stale"}, http.StatusFound, "stale"},
		{fmt.Errorf("append: %w", wal.ErrUnavailable), 503, "the WAL is unavailable"},
		{engine.ErrServerBusy, 503, "retry later"},
		{fmt.Errorf("shard 3: %w", cluster.ErrShardLockLost), 503, "refresh the route"},
		{fmt.Errorf("create t: %w before the deadline: %w", client.ErrUnavailable, errors.New("connection refused")), 503, "the meta service"},
		{fmt.Errorf("create t: %w", client.ErrClusterNotStable), 503, "the cluster is not stable yet"},
		{fmt.Errorf("create t: %w", client.ErrProcedureTimeout), 500, "procedure timed out"},
		{errors.New("disk on fire"), 500, "disk on fire"},
	} {
		if got := Code(tc.err); got != tc.code {
			t.Errorf("Code(%v) = %d, want %d", tc.err, got, tc.code)
		}
		if got := Message(tc.err); !strings.Contains(got, tc.msg) {
			t.Errorf("Message(%v) = %q, want it to contain %q", tc.err, got, tc.msg)
		}
	}
}
