//go:build integration

package integration_tests

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The crash tests write from several clients at once, SIGKILL the server in
// the middle, restart it on the same data directory and check durability
// and atomicity as a user sees them:
//
//   - every acknowledged statement (HTTP 200) is there, each row exactly
//     once;
//   - a statement that is there at all is there completely: the rows of a
//     statement in flight at the crash are all present or all absent.
//
// Each statement writes rowsPerStatement rows of one writer (the TAG k) and
// one statement number (seq), with timestamps that are unique per row, so
// each row names its statement. The table is APPEND, so a statement applied
// twice would show up as duplicate rows.

const (
	crashWriters     = 8
	rowsPerStatement = 10
	crashTable       = "crash"
	baseTimestamp    = int64(1_700_000_000_000)
)

// rowTimestamp is the timestamp of row i of statement seq of writer w.
func rowTimestamp(w, seq, i int) int64 {
	return baseTimestamp + int64(w)*100_000_000 + int64(seq)*rowsPerStatement + int64(i)
}

func insertStatement(w, seq int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (k, seq, t, v) VALUES ", crashTable)
	for i := range rowsPerStatement {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "('w%d', %d, %d, %d.5)", w, seq, rowTimestamp(w, seq, i), i)
	}
	return b.String()
}

// writerLog is what one writer sent and which statements were acknowledged.
// Only its writer touches it until the writers are done.
type writerLog struct {
	sent     int          // statements 0..sent-1 were sent (or being sent)
	acked    map[int]bool // seq → 200
	rejected map[int]string
}

type crashMode int

const (
	crashPlain      crashMode = iota
	crashAfterFlush           // flush once, halfway
	crashCompacting           // tiny memtables flush all the time; compactions run until the kill
)

func TestCrashRecovery(t *testing.T) {
	crashTest(t, crashPlain)
}

// TestCrashRecoveryAfterFlush flushes the memtables halfway, so recovery
// reads the manifest and SSTs and replays the WAL after the flushed
// sequence.
func TestCrashRecoveryAfterFlush(t *testing.T) {
	crashTest(t, crashAfterFlush)
}

// TestCrashDuringCompaction kills the node while flushes of 16 KiB
// memtables and back-to-back compactions are running: recovery must find
// the manifest's SSTs intact (a compaction is applied whole or not at
// all), remove the orphaned outputs of the one interrupted, and lose no
// acknowledged row nor duplicate any.
func TestCrashDuringCompaction(t *testing.T) {
	crashTest(t, crashCompacting)
}

func crashTest(t *testing.T, mode crashMode) {
	n := StartNode(t, NodeOptions{})
	opts := "update_mode='APPEND', enable_ttl='false'"
	if mode == crashCompacting {
		opts += ", write_buffer_size='16384', compaction_strategy='size_tiered'"
	}
	n.MustSQL(fmt.Sprintf(`CREATE TABLE %s (k string TAG, seq bigint NOT NULL, t timestamp NOT NULL, v double, `+
		`TIMESTAMP KEY(t)) ENGINE=Analytic WITH (%s)`, crashTable, opts))

	logs := make([]*writerLog, crashWriters)
	var acked atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for w := range crashWriters {
		l := &writerLog{acked: map[int]bool{}, rejected: map[int]string{}}
		logs[w] = l
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ctx.Err() == nil; seq++ {
				l.sent = seq + 1
				code, body, err := n.SQL(ctx, insertStatement(w, seq))
				switch {
				case err != nil:
					return // the server is gone; this statement's fate is unknown
				case code == 200:
					l.acked[seq] = true
					acked.Add(1)
				default:
					l.rejected[seq] = fmt.Sprintf("%d %s", code, body)
				}
			}
		}()
	}

	var compactions atomic.Int64
	if mode == crashCompacting {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				code, _, err := n.Post(ctx, "/debug/compact_table", nil)
				if err != nil {
					return
				}
				if code == 200 {
					compactions.Add(1)
				}
			}
		}()
	}

	// Let the writers run, flush in the middle if asked, then crash while
	// they are still writing.
	const phase = 500
	waitFor(t, 2*time.Minute, fmt.Sprintf("%d acknowledged statements", phase), func() bool { return acked.Load() >= phase })
	if mode == crashAfterFlush {
		code, body, err := n.Post(context.Background(), "/debug/flush_memtable", nil)
		if err != nil || code != 200 {
			t.Fatalf("flush: %d %s %v", code, body, err)
		}
		var res struct{ Success, Failed []string }
		if err := json.Unmarshal(body, &res); err != nil || len(res.Failed) > 0 || !slices.Contains(res.Success, crashTable) {
			t.Fatalf("flush: %s (%v)", body, err)
		}
		t.Logf("flushed at %d acknowledged statements: %s", acked.Load(), body)
		after := acked.Load() + phase
		waitFor(t, 2*time.Minute, fmt.Sprintf("%d acknowledged statements", after), func() bool { return acked.Load() >= after })
	} else {
		waitFor(t, 2*time.Minute, fmt.Sprintf("%d acknowledged statements", 2*phase), func() bool { return acked.Load() >= 2*phase })
	}
	if mode == crashCompacting {
		waitFor(t, 2*time.Minute, "10 compaction rounds", func() bool { return compactions.Load() >= 10 })
		waitFor(t, 2*time.Minute, "compactions that merged files", func() bool {
			_, body, err := n.Get(ctx, "/metrics")
			return err == nil && !strings.Contains(string(body), "\nhoraedb_engine_compactions_total 0\n") &&
				strings.Contains(string(body), "\nhoraedb_engine_compactions_total ")
		})
	}
	n.Kill()
	cancel()
	wg.Wait()
	if mode == crashCompacting {
		t.Logf("killed after %d acknowledged statements and %d compaction rounds", acked.Load(), compactions.Load())
	}

	for w, l := range logs {
		for seq, why := range l.rejected {
			t.Errorf("writer %d statement %d was rejected: %s", w, seq, why)
		}
	}

	n.Restart()
	rows := queryCrashRows(t, n)
	checkCrashRows(t, logs, rows)
	if mode == crashCompacting { // and compacting the recovered files changes nothing
		if code, body, err := n.Post(context.Background(), "/debug/compact_table", nil); err != nil || code != 200 ||
			!strings.Contains(string(body), `"failed":[]`) {
			t.Fatalf("compaction after recovery: %d %s %v", code, body, err)
		}
		checkCrashRows(t, logs, queryCrashRows(t, n))
	}

	// The recovered node takes writes and shuts down cleanly.
	n.MustSQL(insertStatement(crashWriters, 0))
	n.Stop()
}

type crashRow struct {
	K   string `json:"k"`
	Seq int    `json:"seq"`
	T   int64  `json:"t"`
}

func queryCrashRows(t *testing.T, n *Node) []crashRow {
	t.Helper()
	body := n.MustSQL(fmt.Sprintf("SELECT k, seq, t FROM %s", crashTable))
	var res struct {
		Rows []crashRow `json:"rows"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("decode rows: %v\n%.500s", err, body)
	}
	return res.Rows
}

func checkCrashRows(t *testing.T, logs []*writerLog, rows []crashRow) {
	t.Helper()
	type stmt struct{ w, seq int }
	got := map[stmt][]int64{}
	for _, r := range rows {
		var w int
		if _, err := fmt.Sscanf(r.K, "w%d", &w); err != nil || w < 0 || w >= len(logs) {
			t.Fatalf("row of an unknown writer: %+v", r)
		}
		s := stmt{w, r.Seq}
		got[s] = append(got[s], r.T)
	}

	var ackedN, inFlightApplied, inFlightLost int
	for s, ts := range got {
		if s.seq < 0 || s.seq >= logs[s.w].sent {
			t.Errorf("writer %d statement %d was never sent, yet has %d rows", s.w, s.seq, len(ts))
			continue
		}
		seen := map[int64]int{}
		for _, ts := range ts {
			seen[ts]++
		}
		for i := range rowsPerStatement {
			want := rowTimestamp(s.w, s.seq, i)
			switch c := seen[want]; {
			case c == 0:
				t.Errorf("writer %d statement %d is half applied: row %d (t=%d) is missing", s.w, s.seq, i, want)
			case c > 1:
				t.Errorf("writer %d statement %d: row %d (t=%d) is there %d times", s.w, s.seq, i, want, c)
			}
			delete(seen, want)
		}
		for ts := range seen {
			t.Errorf("writer %d statement %d has a row with an unexpected t=%d", s.w, s.seq, ts)
		}
		if !logs[s.w].acked[s.seq] {
			inFlightApplied++
		}
	}
	for w, l := range logs {
		for seq := range l.sent {
			_, present := got[stmt{w, seq}]
			switch {
			case l.acked[seq]:
				ackedN++
				if !present {
					t.Errorf("writer %d statement %d was acknowledged but is lost", w, seq)
				}
			case !present:
				inFlightLost++
			}
		}
	}
	t.Logf("%d rows; %d acknowledged statements, all present: %v; unacknowledged at the crash: %d applied completely, %d not applied",
		len(rows), ackedN, !t.Failed(), inFlightApplied, inFlightLost)
}
