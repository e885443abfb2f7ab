// Package wal defines the write-ahead log every data node writes before it
// acknowledges a write, and that it replays after a restart (later: that a
// follower tails and that a new owner of a shard replays).
//
// There is one Log per shard. Entries of many tables are interleaved in it,
// each tagged with its table id (a "region" per table inside the shard log).
// Sequence numbers are assigned by the log, start at 1 and strictly increase
// within a shard log, also across restarts and after truncation. A table is
// truncated on its own: once its memtable is flushed, its entries below the
// flushed sequence are dead, while other tables' entries stay.
//
// Backends: wal/local (Pebble, config type "Local" or "RocksDB"); later Kafka
// and a table store. Every backend passes the conformance suite in wal/waltest.
package wal

import (
	"context"
	"errors"
)

// Sentinel errors. Backends wrap them with %w.
var (
	// ErrClosed is returned by any call on a closed Log or WAL.
	ErrClosed = errors.New("wal: closed")
	// ErrUnavailable means the backing service (disk, broker, database)
	// failed; the append was not acknowledged and may be retried.
	ErrUnavailable = errors.New("wal: unavailable")
	// ErrCorrupt means stored data could not be decoded.
	ErrCorrupt = errors.New("wal: corrupt")
	// ErrInvalid means the caller passed something the log cannot accept
	// (no entries, an entry that is too large, a sequence out of range).
	ErrInvalid = errors.New("wal: invalid argument")
)

// MaxSequence is larger than any sequence a log hands out.
const MaxSequence = ^uint64(0)

// Entry is one unit appended to a log: the encoded write of one table.
type Entry struct {
	TableID uint64
	Payload []byte
}

// Record is an entry read back, with the sequence the log gave it.
type Record struct {
	Seq     uint64
	TableID uint64
	// Payload is only valid until the next call to Iterator.Next; copy it to
	// keep it.
	Payload []byte
}

// WAL opens the logs of the shards a node serves.
type WAL interface {
	// OpenLog opens (creating if needed) the log of a shard. A shard's log
	// may be open only once at a time per WAL; a second OpenLog fails with
	// ErrInvalid.
	OpenLog(ctx context.Context, shardID uint32) (Log, error)
	// Close closes every open log and releases the backend. Idempotent.
	Close() error
}

// Log is the write-ahead log of one shard.
type Log interface {
	// ShardID returns the shard this log belongs to.
	ShardID() uint32

	// Append writes entries atomically and durably: when it returns nil,
	// every entry survives a crash of the process (and, for local disks, of
	// the machine). When it returns ErrInvalid, ErrClosed or a context
	// error before the entries were submitted, none of them is written.
	// When it returns ErrUnavailable the outcome is unknown: the entries
	// are not visible now, but all of them (never some) may reappear after
	// a restart, as a failed fsync or produce may still have persisted
	// them. Callers therefore never acknowledge a write that failed.
	// Entries get consecutive sequences; Append returns the first.
	// Concurrent calls share the cost of making data durable (group
	// commit). Append does not retain entries or their payloads.
	Append(ctx context.Context, entries []Entry) (first uint64, err error)

	// NextSequence returns the sequence the next appended entry will get.
	// It is greater than every sequence ever handed out by this shard log,
	// including truncated ones.
	NextSequence() uint64

	// Read returns the live entries with Seq >= from in sequence order: all
	// entries except those removed by Truncate or DropTable. Every entry
	// acknowledged before Read was called is returned, with no gaps, so a
	// follower tailing the log never skips one. Entries appended after Read
	// returns may or may not be seen by the iterator. Iterators end with
	// ErrClosed when their log or WAL closes.
	Read(ctx context.Context, from uint64) (Iterator, error)

	// Truncate removes the entries of a table with Seq < below. It never
	// removes entries of other tables. Marks only move forward: a lower
	// value than a previous call is a no-op. The mark is durable when
	// Truncate returns. below > NextSequence() is ErrInvalid: such a mark
	// would hide future appends.
	Truncate(ctx context.Context, tableID uint64, below uint64) error

	// DropTable removes all entries of a table and forgets it. Entries
	// appended for the same table id afterwards are visible again.
	DropTable(ctx context.Context, tableID uint64) error

	// Close releases the log. Idempotent. Appends after Close fail with
	// ErrClosed.
	Close() error
}

// Iterator walks records in sequence order.
type Iterator interface {
	// Next advances to the next record. It returns false at the end or on
	// error; check Err then.
	Next(ctx context.Context) bool
	// Record returns the current record. Its Payload is valid until the next
	// call to Next.
	Record() Record
	// Err returns the error that stopped iteration, if any.
	Err() error
	// Close releases the iterator. Idempotent.
	Close() error
}
