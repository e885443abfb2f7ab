// Package storage is HoraeMeta's etcd access: the key layout
// (meta/docs/etcd-layout.md), guarded transactions that only the current
// meta leader can commit, paged scans, and id allocators that never hand
// out an id twice.
package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

var (
	// ErrNotLeader is returned when a guarded transaction fails because the
	// writer no longer holds meta leadership.
	ErrNotLeader = errors.New("storage: not the meta leader any more")
	// ErrConflict is returned when a transaction's conditions do not hold:
	// the data changed under the writer.
	ErrConflict = errors.New("storage: conflicting update")
	// ErrCorrupt is returned for a value that does not decode.
	ErrCorrupt = errors.New("storage: corrupt value")
	// ErrEtcd wraps a failed etcd request; a write that fails so may or may
	// not have been applied.
	ErrEtcd = errors.New("storage: etcd request failed")
)

// Op is an etcd operation.
type Op = clientv3.Op

// Guard proves leadership: the election key this member created, at the
// revision it created it. The zero Guard checks nothing.
type Guard struct {
	Key string
	Rev int64
}

// cmp is the guard's transaction condition.
func (g Guard) cmp() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(g.Key), "=", g.Rev)
}

// Options configure Storage.
type Options struct {
	// CallTimeout bounds each etcd request.
	CallTimeout time.Duration
	// PageSize and MinPageSize bound the pages of a scan.
	PageSize, MinPageSize int
}

// Storage reads and writes HoraeMeta's records.
type Storage struct {
	cli  *clientv3.Client
	keys Keys
	opts Options
}

// New returns a Storage over cli for keys under root.
func New(cli *clientv3.Client, root string, opts Options) *Storage {
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.MinPageSize <= 0 || opts.MinPageSize > opts.PageSize {
		opts.MinPageSize = opts.PageSize
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 5 * time.Second
	}
	return &Storage{cli: cli, keys: Keys{Root: root}, opts: opts}
}

// Keys returns the key builder.
func (s *Storage) Keys() Keys { return s.keys }

// Client returns the etcd client.
func (s *Storage) Client() *clientv3.Client { return s.cli }

// CallTimeout is the bound of one etcd request.
func (s *Storage) CallTimeout() time.Duration { return s.opts.CallTimeout }

// Put returns the operation storing msg at key.
func Put(key string, msg proto.Message) clientv3.Op {
	b, err := proto.Marshal(msg)
	if err != nil {
		panic(fmt.Sprintf("storage: marshal %T: %v", msg, err)) // only for invalid UTF-8, never produced here
	}
	return clientv3.OpPut(key, string(b))
}

// PutString returns the operation storing a string at key.
func PutString(key, v string) clientv3.Op { return clientv3.OpPut(key, v) }

// Delete returns the operation deleting key.
func Delete(key string) clientv3.Op { return clientv3.OpDelete(key) }

// Unmarshal decodes a value into msg.
func Unmarshal(key string, b []byte, msg proto.Message) error {
	if err := proto.Unmarshal(b, msg); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, key, err)
	}
	return nil
}

// Commit runs ops in one transaction if the guard holds and every cond
// holds. It returns the revision of the write, ErrNotLeader when the guard
// fails and ErrConflict when a cond fails.
func (s *Storage) Commit(ctx context.Context, g Guard, conds []clientv3.Cmp, ops ...clientv3.Op) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	inner := clientv3.OpTxn(conds, ops, nil)
	var resp *clientv3.TxnResponse
	var err error
	if g.Key == "" {
		resp, err = s.cli.Txn(ctx).If(conds...).Then(ops...).Commit()
		if err != nil {
			return 0, fmt.Errorf("%w: txn: %w", ErrEtcd, err)
		}
		if !resp.Succeeded {
			return 0, ErrConflict
		}
		return resp.Header.Revision, nil
	}
	resp, err = s.cli.Txn(ctx).If(g.cmp()).Then(inner).Commit()
	if err != nil {
		return 0, fmt.Errorf("%w: txn: %w", ErrEtcd, err)
	}
	if !resp.Succeeded {
		return 0, ErrNotLeader
	}
	if !resp.Responses[0].GetResponseTxn().Succeeded {
		return 0, ErrConflict
	}
	return resp.Header.Revision, nil
}

// Get reads one key; ok is false when it does not exist.
func (s *Storage) Get(ctx context.Context, key string) (value []byte, modRev int64, ok bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return nil, 0, false, fmt.Errorf("%w: get %s: %w", ErrEtcd, key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, false, nil
	}
	return resp.Kvs[0].Value, resp.Kvs[0].ModRevision, true, nil
}

// Scan calls fn for every key under prefix, in key order, reading pages of
// PageSize keys at one revision. A page too large for one response is read
// again in smaller pages, down to MinPageSize.
func (s *Storage) Scan(ctx context.Context, prefix string, fn func(key string, value []byte, modRev int64) error) error {
	end := clientv3.GetPrefixRangeEnd(prefix)
	from := prefix
	var rev int64
	page := s.opts.PageSize
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(int64(page))}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		cctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
		resp, err := s.cli.Get(cctx, from, opts...)
		cancel()
		if status.Code(err) == codes.ResourceExhausted && page > s.opts.MinPageSize {
			page = max(page/2, s.opts.MinPageSize)
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: scan %s: %w", ErrEtcd, prefix, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if err := fn(string(kv.Key), kv.Value, kv.ModRevision); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// parseCounter reads an id counter value.
func parseCounter(key string, b []byte) (uint64, error) {
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %q is not a counter", ErrCorrupt, key, b)
	}
	return n, nil
}
