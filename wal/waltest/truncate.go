package waltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/horaego/horaedb/wal"
)

// appendInterleaved appends n single entries cycling through tables.
func appendInterleaved(t *testing.T, m *model, l wal.Log, n int, tables ...uint64) {
	t.Helper()
	for i := range n {
		table := tables[i%len(tables)]
		m.appendTo(t, l, entry(table, fmt.Sprintf("t%d-%d", table, i)))
	}
}

func testSequencesAfterTruncateAll(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	appendInterleaved(t, m, l, 5, 1, 2)
	truncate(t, l, 1, 6)
	truncate(t, l, 2, 6)
	m.truncate(1, 6)
	m.truncate(2, 6)
	m.check(t, "everything truncated", l)
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "everything truncated, reopened", l)
	m.appendTo(t, l, entry(3, "after"))
	truncate(t, l, 3, 7)
	m.truncate(3, 7)
	closeWAL(t, w)

	// Twice, so that nothing depends on data written before the first
	// reopen.
	for i := range 2 {
		w = open(t, h)
		l = openLog(t, w, 1)
		m.check(t, fmt.Sprintf("everything truncated again, reopen %d", i), l)
		closeWAL(t, w)
	}
	w = open(t, h)
	l = openLog(t, w, 1)
	if first := m.appendTo(t, l, entry(1, "last")); first != 7 {
		t.Fatalf("append after everything was truncated got %d, want 7", first)
	}
}

func testSequencesAfterDropAll(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	appendInterleaved(t, m, l, 6, 1, 2, 3)
	for _, table := range []uint64{1, 2, 3} {
		dropTable(t, l, table)
		m.drop(table)
	}
	m.check(t, "every table dropped", l)
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "every table dropped, reopened", l)
	m.appendTo(t, l, entry(4, "after"))
	dropTable(t, l, 4)
	m.drop(4)
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "every table dropped again, reopened", l)
}

func testTruncateOneTable(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	appendInterleaved(t, m, l, 10, 1, 2)
	truncate(t, l, 1, 6)
	m.truncate(1, 6)
	m.check(t, "table 1 truncated below 6", l)
	// Table 2's entry 4 is the first one it keeps: the lowest mark is an
	// entry's own sequence.
	truncate(t, l, 2, 4)
	m.truncate(2, 4)
	m.check(t, "table 2 truncated below its entry 4", l)
	truncate(t, l, 2, 1)
	m.truncate(2, 1)
	truncate(t, l, 42, 3) // a table with no entries
	m.truncate(42, 3)
	m.check(t, "no-op truncations", l)
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "truncated, reopened", l)
	appendInterleaved(t, m, l, 4, 2, 1)
	truncate(t, l, 1, m.next)
	m.truncate(1, m.next)
	m.check(t, "table 1 truncated entirely", l)
	truncate(t, l, 2, 9)
	m.truncate(2, 9)
	m.check(t, "both tables truncated", l)
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "both tables truncated, reopened", l)
}

func testTruncateForwardOnly(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	appendInterleaved(t, m, l, 12, 1, 2, 3)
	truncate(t, l, 1, 8)
	truncate(t, l, 1, 3)
	m.truncate(1, 8)
	m.check(t, "lower truncation after a higher one", l)
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	truncate(t, l, 1, 5)
	truncate(t, l, 1, 0)
	m.check(t, "lower truncation after reopen", l)
	truncate(t, l, 1, 11)
	m.truncate(1, 11)
	m.check(t, "higher truncation after reopen", l)
}

func testTruncateBeyondNext(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	appendInterleaved(t, m, l, 3, 1)
	for _, below := range []uint64{5, 1 << 40, math.MaxUint64} {
		err := l.Truncate(t.Context(), 1, below)
		expectErrorIs(t, fmt.Sprintf("Truncate below %d with NextSequence 4", below), err, wal.ErrInvalid)
	}
	m.check(t, "after refused truncations", l)
	m.appendTo(t, l, entry(1, "later entries stay live"))
	m.check(t, "appended after refused truncations", l)
	truncate(t, l, 1, l.NextSequence())
	m.truncate(1, m.next)
	m.check(t, "truncated up to NextSequence", l)
}

func testDropTable(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	appendInterleaved(t, m, l, 9, 1, 2, 3)
	truncate(t, l, 1, 4)
	m.truncate(1, 4)
	dropTable(t, l, 1)
	m.drop(1)
	m.check(t, "table 1 dropped", l)
	dropTable(t, l, 1)
	dropTable(t, l, 99)
	m.check(t, "dropped twice, unknown table dropped", l)
	truncate(t, l, 1, l.NextSequence())
	m.check(t, "dropped table truncated", l)
	// The other tables' marks pass some, not all, of table 1's entries.
	truncate(t, l, 2, 6)
	m.truncate(2, 6)
	truncate(t, l, 3, 5)
	m.truncate(3, 5)
	m.check(t, "other tables truncated past some of the dropped table's entries", l)
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "table 1 dropped, reopened", l)
	appendInterleaved(t, m, l, 4, 2, 3)
	dropTable(t, l, 3)
	m.drop(3)
	m.check(t, "table 3 dropped", l)
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "tables 1 and 3 dropped, reopened", l)
}

func testDropThenAppend(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	appendInterleaved(t, m, l, 6, 1, 2)
	dropTable(t, l, 1)
	m.drop(1)
	appendInterleaved(t, m, l, 4, 1, 2)
	m.check(t, "table dropped and written again", l)
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "table dropped and written again, reopened", l)
	truncate(t, l, 1, 10)
	m.truncate(1, 10)
	truncate(t, l, 2, m.next)
	m.truncate(2, m.next)
	m.check(t, "table written again, then truncated", l)
	dropTable(t, l, 1)
	m.drop(1)
	appendInterleaved(t, m, l, 2, 1)
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "dropped twice, written again, reopened", l)
}

// testManyTables runs random appends, truncations and drops of many tables
// in one shard log and compares with the model as it goes: with 40 tables,
// and with 4, where marks pass each other more often.
func testManyTables(t *testing.T, h Harness) {
	// One storage, so one shard each.
	t.Run("40", func(t *testing.T) { runRandomTables(t, h, 5, 40, 300) })
	t.Run("4", func(t *testing.T) { runRandomTables(t, h, 6, 4, 300) })
}

func runRandomTables(t *testing.T, h Harness, shard uint32, numTables, steps int) {
	rng := rand.New(rand.NewPCG(7, uint64(numTables)))
	tables := []uint64{0, math.MaxUint64}
	for len(tables) < numTables {
		tables = append(tables, rng.Uint64N(1<<20))
	}
	w := open(t, h)
	l := openLog(t, w, shard)
	m := newModel()
	for step := range steps {
		switch p := rng.IntN(100); {
		case p < 70:
			entries := make([]wal.Entry, 1+rng.IntN(4))
			for i := range entries {
				entries[i] = wal.Entry{
					TableID: tables[rng.IntN(len(tables))],
					Payload: payloadOf(rng.Uint64(), rng.IntN(100)),
				}
			}
			m.appendTo(t, l, entries...)
		case p < 88:
			table := tables[rng.IntN(len(tables))]
			below := rng.Uint64N(m.next + 1)
			truncate(t, l, table, below)
			m.truncate(table, below)
		case p < 93:
			table := tables[rng.IntN(len(tables))]
			dropTable(t, l, table)
			m.drop(table)
		case p < 98:
			from := rng.Uint64N(m.next + 2)
			expectRecords(t, fmt.Sprintf("step %d: read from %d", step, from), readAll(t, l, from), m.live(from))
		default:
			closeWAL(t, w)
			w = open(t, h)
			l = openLog(t, w, shard)
			m.check(t, fmt.Sprintf("step %d: reopened", step), l)
		}
		if step%25 == 0 {
			m.check(t, fmt.Sprintf("step %d", step), l)
		}
	}
	m.check(t, "end", l)
	closeWAL(t, w)
	w = open(t, h)
	l = openLog(t, w, shard)
	m.check(t, "end, reopened", l)
}

func testShards(t *testing.T, h Harness) {
	shards := []uint32{0, 1, 7, math.MaxUint32}
	w := open(t, h)
	logs := make(map[uint32]wal.Log)
	models := make(map[uint32]*model)
	for _, id := range shards {
		logs[id] = openLog(t, w, id)
		models[id] = newModel()
	}
	// Interleave the shards; each has its own sequences, from 1.
	for i := range 8 {
		for j, id := range shards {
			if i < 2*j { // the shards end with different lengths
				continue
			}
			e := entry(uint64(i%2), fmt.Sprintf("shard %d entry %d", id, i))
			models[id].appendTo(t, logs[id], e)
		}
	}
	for _, id := range shards {
		if got := readAll(t, logs[id], 1); len(got) == 0 || got[0].Seq != 1 {
			t.Fatalf("shard %d does not start at sequence 1: %v", id, got)
		}
		models[id].check(t, fmt.Sprintf("shard %d", id), logs[id])
	}

	// Truncating and dropping a table in one shard leaves the same table
	// id alone in the others.
	truncate(t, logs[1], 0, logs[1].NextSequence())
	models[1].truncate(0, models[1].next)
	dropTable(t, logs[7], 1)
	models[7].drop(1)
	truncate(t, logs[math.MaxUint32], 1, logs[math.MaxUint32].NextSequence())
	models[math.MaxUint32].truncate(1, models[math.MaxUint32].next)
	for _, id := range shards {
		models[id].check(t, fmt.Sprintf("shard %d after truncations", id), logs[id])
	}
	closeWAL(t, w)

	w = open(t, h)
	for _, id := range shards {
		l := openLog(t, w, id)
		models[id].check(t, fmt.Sprintf("shard %d reopened", id), l)
		models[id].appendTo(t, l, entry(3, "after reopen"))
		models[id].check(t, fmt.Sprintf("shard %d reopened and appended", id), l)
	}
}
