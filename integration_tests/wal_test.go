//go:build integration

package integration_tests

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The remote WAL tests run a node whose WAL lives in another process (a
// Kafka broker, MariaDB) and SIGKILL that process and the node in turn
// while clients write, as a user would see it:
//
//  1. The service dies under load: writes fail fast with 503 and a message
//     that says the WAL is unavailable (nothing is acknowledged that is not
//     durable), the node stays up, and when the service returns the node
//     takes writes again by itself.
//  2. The node dies under load and restarts: every acknowledged statement
//     is there exactly once, each statement whole or not at all (the crash
//     test's check).
//  3. The service dies, then the node, while the service is down; both
//     restart: the same holds for everything written since.

func TestKafkaWALFailures(t *testing.T) {
	walFailureTest(t, startKafkaBroker(t))
}

func TestTableWALFailures(t *testing.T) {
	walFailureTest(t, startMariaDB(t))
}

// load runs writers against a node, each sending the crash test's
// statements, and records what was acknowledged and how writes failed.
type load struct {
	t    *testing.T
	n    *Node
	logs []*writerLog // every writer's, across phases; ids are indexes

	acked       atomic.Int64
	unavailable atomic.Int64 // 503 answers

	mu struct {
		sync.Mutex
		latency503 []time.Duration
		other      []string // answers that are neither 200 nor 503
		message    string   // a 503's body
	}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// start starts k more writers.
func (l *load) start(k int) {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	for range k {
		w := len(l.logs)
		log := &writerLog{acked: map[int]bool{}, rejected: map[int]string{}}
		l.logs = append(l.logs, log)
		l.wg.Go(func() {
			for seq := 0; ctx.Err() == nil; seq++ {
				log.sent = seq + 1
				began := time.Now()
				code, body, err := l.n.SQL(ctx, insertStatement(w, seq))
				switch {
				case err != nil:
					return // the node is gone; this statement's fate is unknown
				case code == 200:
					log.acked[seq] = true
					l.acked.Add(1)
				case code == 503:
					log.rejected[seq] = string(body)
					l.unavailable.Add(1)
					l.mu.Lock()
					l.mu.latency503 = append(l.mu.latency503, time.Since(began))
					l.mu.message = string(body)
					l.mu.Unlock()
				default:
					l.mu.Lock()
					l.mu.other = append(l.mu.other, fmt.Sprintf("writer %d statement %d: %d %s", w, seq, code, body))
					l.mu.Unlock()
				}
			}
		})
	}
}

// stop stops the writers and waits for them.
func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}

// waitAcked waits for n more acknowledged statements.
func (l *load) waitAcked(n int64, timeout time.Duration, what string) time.Duration {
	l.t.Helper()
	began := time.Now()
	target := l.acked.Load() + n
	waitFor(l.t, timeout, fmt.Sprintf("%d more acknowledged statements %s", n, what), func() bool {
		return l.acked.Load() >= target
	})
	return time.Since(began)
}

func (l *load) verify(what string) {
	l.t.Helper()
	l.mu.Lock()
	other := slices.Clone(l.mu.other)
	l.mu.Unlock()
	for _, o := range other {
		l.t.Errorf("%s: neither 200 nor 503: %s", what, o)
	}
	rows := queryCrashRows(l.t, l.n)
	checkCrashRows(l.t, l.logs, rows)
	if l.t.Failed() {
		l.t.FailNow()
	}
}

func walFailureTest(t *testing.T, svc walService) {
	n := StartNode(t, NodeOptions{ExtraConfig: svc.NodeConfig()})
	// The crash test's statements write 2023 timestamps: no TTL, so that
	// every row stays visible.
	n.MustSQL(fmt.Sprintf(`CREATE TABLE %s (k string TAG, seq bigint NOT NULL, t timestamp NOT NULL, v double, `+
		`TIMESTAMP KEY(t)) ENGINE=Analytic WITH (update_mode='APPEND', enable_ttl='false')`, crashTable))
	l := &load{t: t, n: n}

	// 1. The service dies under load, and comes back.
	l.start(crashWriters)
	l.waitAcked(300, 2*time.Minute, "before killing the "+svc.Name())
	svc.Kill(t)
	killed := time.Now()
	waitFor(t, time.Minute, "writes to fail with 503", func() bool { return l.unavailable.Load() >= 50 })
	firstFailures := time.Since(killed)
	code, stats, err := n.Get(context.Background(), "/debug/wal_stats")
	if err != nil || code != 200 {
		t.Fatalf("GET /debug/wal_stats with the %s down: %d %v", svc.Name(), code, err)
	}
	ackedWhileDown := l.acked.Load()
	<-time.After(time.Second) // the outage lasts a while; writers keep writing
	svc.Restart(t)
	recovery := l.waitAcked(300, 2*time.Minute, "after restarting the "+svc.Name())
	l.mu.Lock()
	lat := slices.Clone(l.mu.latency503)
	msg := l.mu.message
	l.mu.Unlock()
	slices.Sort(lat)
	t.Logf("%s killed: 50 writes failed within %s; %d answered 503 (latency p50 %s, p99 %s, max %s); "+
		"writes succeed again %s after the restart; %d acknowledged while it was down",
		svc.Name(), firstFailures.Round(time.Millisecond), len(lat), lat[len(lat)/2].Round(time.Millisecond),
		lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond),
		recovery.Round(time.Millisecond), l.acked.Load()-ackedWhileDown)
	t.Logf("a 503: %s", msg)
	t.Logf("wal_stats with the %s down:\n%s", svc.Name(), stats)
	if !strings.Contains(msg, "WAL is unavailable") {
		t.Errorf("the 503 does not say the WAL is unavailable: %s", msg)
	}
	if p50 := lat[len(lat)/2]; p50 > time.Second {
		t.Errorf("writes do not fail fast: median 503 after %s", p50)
	}

	// 2. The node dies under load.
	l.waitAcked(300, 2*time.Minute, "before killing the node")
	n.Kill()
	l.stop()
	n.Restart()
	l.verify("after the node's crash")

	// 3. The service dies, then the node while the service is down.
	l.start(crashWriters)
	l.waitAcked(300, 2*time.Minute, "before killing both")
	svc.Kill(t)
	before := l.unavailable.Load()
	waitFor(t, time.Minute, "writes to fail with 503", func() bool { return l.unavailable.Load() >= before+20 })
	n.Kill()
	l.stop()
	svc.Restart(t)
	n.Restart()
	l.verify("after both crashed")

	// The recovered node takes writes and shuts down cleanly.
	n.MustSQL(insertStatement(len(l.logs), 0))
	n.Stop()
}
