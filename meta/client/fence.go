package client

import (
	"sync/atomic"

	"github.com/horaego/horaedb/proto/metapb"
)

// The fencing rules of meta/docs/protocol.md, as pure decisions a data
// node's MetaEventService takes before it touches anything. Both the real
// node (cluster) and the test double (meta/metatest) use them, so they
// cannot drift apart. Errors are *Error values: wrap them with Status to
// return them over gRPC.

// EpochFence remembers the largest meta epoch a node has seen, from events
// and heartbeat answers. The zero value is ready; it is safe for
// concurrent use.
type EpochFence struct{ newest atomic.Uint64 }

// Observe raises the known epoch to e (a heartbeat answer's meta_epoch).
func (f *EpochFence) Observe(e uint64) {
	for {
		cur := f.newest.Load()
		if e <= cur || f.newest.CompareAndSwap(cur, e) {
			return
		}
	}
}

// Admit checks an event's epoch: one below the largest seen comes from a
// deposed leader and is refused with StaleEpoch; any other is remembered.
func (f *EpochFence) Admit(e uint64) error {
	for {
		cur := f.newest.Load()
		if e < cur {
			return StaleEpoch(e, cur)
		}
		if e == cur || f.newest.CompareAndSwap(cur, e) {
			return nil
		}
	}
}

// Epoch returns the largest epoch seen.
func (f *EpochFence) Epoch() uint64 { return f.newest.Load() }

// OpenAction is what an OpenShard event asks of a node.
type OpenAction int

const (
	// OpenRepeat: the node holds the shard at the event's version; nothing
	// to do but succeed.
	OpenRepeat OpenAction = iota
	// OpenFresh: the shard is not open; fetch its tables and open it.
	OpenFresh
	// OpenReload: the shard is open at an older version; fetch its tables
	// again, close what is no longer listed, open what is new.
	OpenReload
)

// DecideOpen applies rule 2 (OpenShard) to a shard the node holds at held
// (when open) and an event asking for version want.
func DecideOpen(shard uint32, open bool, held, want uint64) (OpenAction, error) {
	switch {
	case !open:
		return OpenFresh, nil
	case held == want:
		return OpenRepeat, nil
	case held < want:
		return OpenReload, nil
	default:
		return OpenRepeat, VersionMismatch(shard, held, want)
	}
}

// DecideClose applies rule 3 (CloseShard): it says whether the node must
// close the shard; closing a shard that is not open succeeds, a close
// older than the version held is refused.
func DecideClose(shard uint32, open bool, held, want uint64) (bool, error) {
	switch {
	case !open:
		return false, nil
	case held > want:
		return false, VersionMismatch(shard, held, want)
	default:
		return true, nil
	}
}

// DecideUpdate applies rules 4 and 5 (CreateTableOnShard, DropTableOnShard)
// to a shard the node holds at held (when open). applied says whether the
// change is visible already (the table exists for a create, is gone for a
// drop). It returns true when the node must apply the change and then hold
// u.version; false with a nil error is a repeat to answer with success.
func DecideUpdate(node string, u *metapb.ShardVersionUpdate, open bool, held uint64, applied bool) (bool, error) {
	switch {
	case !open:
		return false, Errorf(metapb.Reason_SHARD_NOT_FOUND, "shard %d is not open on %s", u.GetShardId(), node)
	case held == u.GetPrevVersion():
		return true, nil
	case held == u.GetVersion() && applied:
		return false, nil
	default:
		return false, VersionMismatch(u.GetShardId(), held, u.GetPrevVersion())
	}
}
