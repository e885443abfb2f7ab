package local

import (
	"maps"

	"github.com/cockroachdb/pebble/v2"
)

// Truncation.
//
// Entries of all tables of a shard are interleaved in one key range ordered
// by sequence, so one table's entries cannot be deleted on their own.
// Instead each table has a mark: its entries below the mark are dead, and
// Read skips them. Data is deleted physically, with one DeleteRange, below
// the shard's low watermark: the lowest mark of the tables still live in
// the shard (or, with none, the next sequence).
//
// DropTable sets the table's mark to the next sequence, flagged dropped:
// all its entries are dead, and it no longer holds the watermark back. The
// mark is deleted, and the table forgotten, once the watermark passes it,
// that is once none of its entries is left on disk; deleting it earlier
// would bring its not yet deleted entries back to life. Appending to a
// dropped table makes it live again, with the mark it has.
//
// The batch that deletes data also raises the shard's sequence floor to the
// next sequence, so that NextSequence does not go back after a restart
// even if no data key is left.

// buildTruncate stages Truncate(table, below). Marks only move forward; the
// marks of unknown and dropped tables are not moved, as it would change
// nothing: future entries get sequences >= NextSequence >= below.
func (c *committer) buildTruncate(b *pebble.Batch, sh *shard, table, below uint64) {
	p := c.stage(sh)
	m, ok := p.mark(sh, table)
	if !ok || m.dropped || below <= m.below {
		return
	}
	c.setMark(b, sh, p, table, mark{below: below})
	c.purge(b, sh, p)
}

// buildDrop stages DropTable(table).
func (c *committer) buildDrop(b *pebble.Batch, sh *shard, table uint64) {
	p := c.stage(sh)
	m, ok := p.mark(sh, table)
	if !ok || m.dropped {
		return
	}
	c.setMark(b, sh, p, table, mark{below: p.next, dropped: true})
	c.purge(b, sh, p)
}

// purge deletes the shard's data below its watermark, if that moved past
// what was deleted already, raises the floor and forgets dropped tables
// with no entries left.
func (c *committer) purge(b *pebble.Batch, sh *shard, p *pending) {
	marks := p.writableMarks(sh)
	w := watermark(marks, p.next)
	if w > p.purged {
		// From where the last deletion ended: range tombstones that do not
		// overlap stay cheap for Pebble to fragment until compacted.
		var lo, hi [dataKeyLen]byte
		putDataKey(lo[:], sh.id, p.purged)
		putDataKey(hi[:], sh.id, w)
		_ = b.DeleteRange(lo[:], hi[:], nil) // Copies; only fails for indexed batches.
		p.purged = w
		if p.next > p.floor {
			p.floor = p.next
			c.scratch = appendFloor(c.scratch[:0], p.floor)
			_ = b.Set(floorKey(sh.id), c.scratch, nil)
		}
	}
	// Nothing is left below w, so nothing of a dropped table below it.
	for table, m := range marks {
		if m.dropped && m.below <= w {
			c.deleteMark(b, sh, p, table)
		}
	}
}

// watermark returns the lowest mark of the live tables, or next if there is
// none: the shard's data below it is dead.
func watermark(marks map[uint64]mark, next uint64) uint64 {
	w := next
	for _, m := range marks {
		if !m.dropped && m.below < w {
			w = m.below
		}
	}
	return w
}

// pending is a shard's state as the group being built leaves it. It is
// owned by the committer and becomes the shard's state when the group
// commits (shard.publish), or is dropped when it fails.
type pending struct {
	active bool
	next   uint64
	// marks is a private copy of the shard's marks once the group changed
	// one, else nil.
	marks  map[uint64]mark
	purged uint64
	floor  uint64
}

// mark returns the staged mark of a table.
func (p *pending) mark(sh *shard, table uint64) (mark, bool) {
	marks := p.marks
	if marks == nil {
		marks = sh.marks.Load().m
	}
	m, ok := marks[table]
	return m, ok
}

// writableMarks returns the group's copy of the marks, making it first.
// Published mark sets are immutable, so readers use them without locks.
func (p *pending) writableMarks(sh *shard) map[uint64]mark {
	if p.marks == nil {
		p.marks = maps.Clone(sh.marks.Load().m)
		if p.marks == nil {
			p.marks = make(map[uint64]mark)
		}
	}
	return p.marks
}
