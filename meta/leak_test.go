package meta

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestCloseStopsGoroutines: a member with nodes attached leaves no
// goroutine of ours behind after Close.
func TestCloseStopsGoroutines(t *testing.T) {
	tc := startCluster(t, 1, nil)
	nodes := startNodes(t, tc, 2)
	waitStable(t, tc)
	if _, err := newClient(t, tc.endpoints()).CreateTable(ctxTimeout(t, 10*time.Second), createReq("t")); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		n.Close()
	}
	if err := tc.servers[0].Close(); err != nil {
		t.Fatal(err)
	}
	var left []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		left = ours()
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Fatalf("goroutines left after Close:\n%s", strings.Join(left, "\n\n"))
	}
}

// ours returns the stacks of live goroutines running HoraeMeta code.
func ours() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "horaego/horaedb/meta") && !strings.Contains(g, "TestCloseStopsGoroutines") &&
			!strings.Contains(g, "testing.tRunner") {
			out = append(out, g)
		}
	}
	return out
}
