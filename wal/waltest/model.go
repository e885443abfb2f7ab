package waltest

import (
	"bytes"
	"testing"

	"github.com/horaego/horaedb/wal"
)

// model is what a shard log should hold, kept by the cases alongside it.
type model struct {
	next    uint64
	records []wal.Record // every entry appended, in sequence order
	marks   map[uint64]uint64
}

func newModel() *model {
	return &model{next: 1, marks: make(map[uint64]uint64)}
}

// append records entries appended at first (which must be m.next).
func (m *model) append(t *testing.T, first uint64, entries ...wal.Entry) {
	t.Helper()
	if first != m.next {
		t.Fatalf("model: append at %d, next is %d", first, m.next)
	}
	for _, e := range entries {
		m.records = append(m.records, wal.Record{Seq: m.next, TableID: e.TableID, Payload: bytes.Clone(e.Payload)})
		m.next++
	}
}

func (m *model) truncate(table, below uint64) {
	if below > m.marks[table] {
		m.marks[table] = below
	}
}

func (m *model) drop(table uint64) { m.truncate(table, m.next) }

// live returns the live records with Seq >= from.
func (m *model) live(from uint64) []wal.Record {
	var out []wal.Record
	for _, r := range m.records {
		if r.Seq >= from && r.Seq >= m.marks[r.TableID] {
			out = append(out, r)
		}
	}
	return out
}

// appendTo appends entries to l and to the model.
func (m *model) appendTo(t *testing.T, l wal.Log, entries ...wal.Entry) uint64 {
	t.Helper()
	first := appendOK(t, l, entries...)
	m.append(t, first, entries...)
	return first
}

// check compares the log with the model: its next sequence and everything
// it returns from sequence 1 and from a few others.
func (m *model) check(t *testing.T, what string, l wal.Log) {
	t.Helper()
	expectNext(t, l, m.next)
	expectRecords(t, what+": read from 0", readAll(t, l, 0), m.live(0))
	for _, from := range []uint64{1, m.next / 2, m.next - 1, m.next, m.next + 1} {
		expectRecords(t, what+": read from middle", readAll(t, l, from), m.live(from))
	}
}
