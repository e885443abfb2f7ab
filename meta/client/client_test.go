package client_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/horaego/horaedb/meta"
	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/metatest"
	"github.com/horaego/horaedb/proto/metapb"
)

func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "http://127.0.0.1:2379", want: "127.0.0.1:2379"},
		{in: "127.0.0.1:2379", want: "127.0.0.1:2379"},
		{in: " http://meta.example:12379/ ", want: "meta.example:12379"},
		{in: "http://[::1]:2379", want: "[::1]:2379"},
		{in: "https://127.0.0.1:2379", bad: true},
		{in: "127.0.0.1", bad: true},
		{in: "http://:2379", bad: true},
	} {
		got, err := client.ParseEndpoint(tc.in)
		if tc.bad != (err != nil) || got != tc.want {
			t.Errorf("ParseEndpoint(%q) = %q, %v", tc.in, got, err)
		}
	}
}

// TestErrorsRoundTrip: an error crosses gRPC with its reason and detail
// and still matches its sentinel.
func TestErrorsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		err      error
		sentinel error
		code     codes.Code
	}{
		{client.VersionMismatch(3, 7, 6), client.ErrShardVersionMismatch, codes.FailedPrecondition},
		{client.StaleEpoch(4, 9), client.ErrStaleEpoch, codes.FailedPrecondition},
		{fmt.Errorf("wrapped: %w", client.Errorf(metapb.Reason_TABLE_EXISTS, "t exists")), client.ErrTableExists, codes.AlreadyExists},
		{client.Errorf(metapb.Reason_CLUSTER_NOT_STABLE, "wait"), client.ErrClusterNotStable, codes.FailedPrecondition},
		{client.Errorf(metapb.Reason_PROCEDURE_TIMEOUT, "slow"), client.ErrProcedureTimeout, codes.DeadlineExceeded},
	} {
		wire := client.Status(tc.err)
		if status.Code(wire) != tc.code {
			t.Errorf("%v: code %s, want %s", tc.err, status.Code(wire), tc.code)
		}
		back := client.FromStatus(wire)
		if !errors.Is(back, tc.sentinel) || back.Error() != tc.err.Error() {
			t.Errorf("%v came back as %v", tc.err, back)
		}
		if errors.Is(back, client.ErrNotLeader) {
			t.Errorf("%v matches the wrong sentinel", back)
		}
	}
	var ce *client.Error
	if back := client.FromStatus(client.Status(client.VersionMismatch(3, 7, 6))); !errors.As(back, &ce) || ce.Detail.ShardVersion != 7 {
		t.Errorf("the held version is lost: %v", back)
	}
	plain := client.Status(errors.New("boom"))
	if status.Code(plain) != codes.Internal || client.FromStatus(plain) == nil {
		t.Errorf("plain error: %v", plain)
	}
	if status.Code(client.Status(context.DeadlineExceeded)) != codes.DeadlineExceeded {
		t.Error("context error not mapped")
	}
}

// TestClientSkipsDeadMembers: a client given an unreachable member and a
// live one is served by the live one.
func TestClientSkipsDeadMembers(t *testing.T) {
	cfgs, err := metatest.Configs(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := meta.New(cfgs[0], meta.Options{Logger: slog.New(slog.DiscardHandler), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dead, _ := metatest.FreePorts(1)
	c, err := client.New(client.Config{Endpoints: []string{fmt.Sprintf("127.0.0.1:%d", dead[0]), cfgs[0].ClientUrls},
		ClusterName: "defaultCluster", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 3 { // every call, whichever member it starts with
		id, err := c.AllocSchemaID(ctx, "public")
		if err != nil || id == 0 {
			t.Fatalf("alloc: %d %v", id, err)
		}
	}
	if _, err := c.RouteTables(ctx, "public", nil); err != nil {
		t.Fatal(err)
	}
	wrong, _ := client.New(client.Config{Endpoints: []string{cfgs[0].ClientUrls}, ClusterName: "nope"})
	defer wrong.Close()
	if _, err := wrong.GetNodes(ctx); !errors.Is(err, client.ErrClusterNotFound) {
		t.Errorf("unknown cluster: %v", err)
	}
	if _, err := client.New(client.Config{ClusterName: "x"}); !errors.Is(err, client.ErrNoEndpoint) {
		t.Errorf("no endpoints: %v", err)
	}
}
