package storage

import (
	"context"
	"errors"
	"strconv"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// IDAlloc hands out increasing ids from a counter in etcd. It reserves
// ranges of Step ids: the counter holds the last id reserved, and a range is
// reserved (compare-and-swap, under the leader guard) before any id of it is
// handed out. Ids start at 1 and are never handed out twice, across leader
// changes too: a new allocator reserves a new range, so the unused rest of
// the old one is skipped.
type IDAlloc struct {
	s    *Storage
	key  string
	step uint64
	g    Guard

	mu struct {
		sync.Mutex
		next, end uint64 // next id to hand out; last id of the range
	}
}

// NewIDAlloc returns an allocator of the counter at key.
func NewIDAlloc(s *Storage, key string, step uint64, g Guard) *IDAlloc {
	if step == 0 {
		step = 1
	}
	return &IDAlloc{s: s, key: key, step: step, g: g}
}

// Next returns the next id.
func (a *IDAlloc) Next(ctx context.Context) (uint64, error) {
	ids, err := a.NextN(ctx, 1)
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// NextN returns n ids, increasing (not necessarily contiguous).
func (a *IDAlloc) NextN(ctx context.Context, n int) ([]uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]uint64, 0, n)
	for len(out) < n {
		if a.mu.next == 0 || a.mu.next > a.mu.end {
			if err := a.reserveLocked(ctx, uint64(n-len(out))); err != nil {
				return nil, err
			}
		}
		out = append(out, a.mu.next)
		a.mu.next++
	}
	return out, nil
}

// reserveLocked reserves the next range of at least need ids.
func (a *IDAlloc) reserveLocked(ctx context.Context, need uint64) error {
	size := max(a.step, need)
	for range 16 {
		v, modRev, ok, err := a.s.Get(ctx, a.key)
		if err != nil {
			return err
		}
		var last uint64
		cond := clientv3.Compare(clientv3.CreateRevision(a.key), "=", 0)
		if ok {
			if last, err = parseCounter(a.key, v); err != nil {
				return err
			}
			cond = clientv3.Compare(clientv3.ModRevision(a.key), "=", modRev)
		}
		end := last + size
		_, err = a.s.Commit(ctx, a.g, []clientv3.Cmp{cond}, PutString(a.key, strconv.FormatUint(end, 10)))
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		a.mu.next, a.mu.end = last+1, end
		return nil
	}
	return ErrConflict
}
