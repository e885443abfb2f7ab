package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Shard locks fence the owner of a shard: a node serves a shard only while
// it holds the shard's lock, an etcd key bound to a lease the node keeps
// alive:
//
//	key   <prefix>/<shard id, decimal>   prefix = <root_path>/<cluster name>/shards
//	value the node's name (its gRPC endpoint, host:port)
//
// One lease per shard, with LockOptions.TTL. Acquire puts the key only if
// it does not exist (a transaction on its create revision); Release
// revokes the lease, which deletes the key. The lock is lost, and the
// owner told at once, when the key is deleted or rewritten (a watch), when
// the lease is revoked or expires (the keep-alive stream ends), or when no
// keep-alive has been answered for TTL less one check interval (checked
// every CheckInterval): by then the lease may have expired in etcd, and
// another node may hold the lock.

// ErrShardLocked is returned by OpenShard when another node holds the
// shard's lock: the other node still serves the shard (or has not been
// gone for a lease yet). Retrying later is safe.
var ErrShardLocked = errors.New("cluster: the shard is locked by another node")

// ErrShardLockLost is returned when a table of a shard whose lock the node
// lost is read or written: the node stopped serving the shard at once;
// nothing was applied. The route may have changed: retry (after
// refreshing it).
var ErrShardLockLost = errors.New("cluster: this node lost the shard's lock and no longer serves it")

// Defaults of LockOptions.
const (
	DefaultLockTTL           = 30 * time.Second
	DefaultLockCheckInterval = 200 * time.Millisecond
)

// LockOptions configure the shard locks of a Member.
type LockOptions struct {
	// Client reaches the etcd that holds the locks (HoraeMeta's); the
	// Member does not close it. Without it, Endpoints.
	Client *clientv3.Client
	// Endpoints of that etcd, when Client is nil: the Member connects in
	// Start and closes the client in Close. Without Client or Endpoints
	// the node takes no lock: shards are fenced by meta epochs and shard
	// versions only.
	Endpoints []string
	// DialTimeout bounds connecting to etcd. Default 5s.
	DialTimeout time.Duration
	// TLS, if set, secures the connection to Endpoints.
	TLS *tls.Config
	// Prefix is the prefix of the lock keys, <root_path>/<cluster>/shards.
	// Required with Client or Endpoints.
	Prefix string
	// TTL is the lease of each lock, rounded up to whole seconds. Default
	// 30s.
	TTL time.Duration
	// CheckInterval is how often a lock's lease is checked against the
	// last keep-alive. Default 200ms; must be below TTL.
	CheckInterval time.Duration
	// FastReacquire lets the node take a lock whose key already names it
	// (left by a crashed predecessor with the same name) without waiting
	// for the old lease to expire. Default false.
	FastReacquire bool
}

// enabled reports whether the node takes shard locks.
func (o *LockOptions) enabled() bool { return o.Client != nil || len(o.Endpoints) > 0 }

func (o *LockOptions) ensureDefaults() error {
	if !o.enabled() {
		return nil
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.Prefix == "" {
		return errors.New("cluster: LockOptions.Prefix is required")
	}
	if o.TTL <= 0 {
		o.TTL = DefaultLockTTL
	}
	if o.CheckInterval <= 0 {
		o.CheckInterval = DefaultLockCheckInterval
	}
	if o.CheckInterval >= o.TTL {
		return fmt.Errorf("cluster: lock check interval %v is not below the lock TTL %v", o.CheckInterval, o.TTL)
	}
	return nil
}

// dial connects to Endpoints. Connecting is lazy: a node starts while
// etcd is down, and taking a lock fails until it is up.
func (o *LockOptions) dial() (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: o.Endpoints, DialTimeout: o.DialTimeout, TLS: o.TLS,
		Logger: zap.NewNop()}) // what matters is logged by the lock keepers
	if err != nil {
		return nil, fmt.Errorf("cluster: etcd client for the shard locks: %w", err)
	}
	return cli, nil
}

// shardLocks holds the shard locks of a node. onLost is called, once, from
// the lock's keeper goroutine when a held lock is lost; it must not wait
// for Acquire or Release.
type shardLocks struct {
	o      LockOptions
	node   string
	log    *slog.Logger
	onLost func(id uint32, reason string)

	wg sync.WaitGroup
	mu struct {
		sync.Mutex
		cli    *clientv3.Client // LockOptions.Client, or dialled by start
		held   map[uint32]*heldLock
		closed bool
	}
}

// heldLock is one lock and its keeper.
type heldLock struct {
	lease  clientv3.LeaseID
	cancel context.CancelFunc
	done   chan struct{}
}

func newShardLocks(o LockOptions, node string, log *slog.Logger, onLost func(uint32, string)) *shardLocks {
	l := &shardLocks{o: o, node: node, log: log, onLost: onLost}
	l.mu.held = map[uint32]*heldLock{}
	l.mu.cli = o.Client
	return l
}

// start dials LockOptions.Endpoints if no Client was given, and returns
// the client it dialled (nil if none), for the caller to close.
func (l *shardLocks) start() (*clientv3.Client, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.cli != nil {
		return nil, nil
	}
	cli, err := l.o.dial()
	if err != nil {
		return nil, err
	}
	l.mu.cli = cli
	return cli, nil
}

// client is the etcd client, nil before start.
func (l *shardLocks) client() *clientv3.Client {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.cli
}

func (l *shardLocks) key(id uint32) string {
	return l.o.Prefix + "/" + strconv.FormatUint(uint64(id), 10)
}

// Holds reports whether the node holds the lock of shard id.
func (l *shardLocks) Holds(id uint32) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.held[id] != nil
}

// Acquire takes the lock of shard id, or does nothing if the node holds
// it. It fails with ErrShardLocked when another node holds it.
func (l *shardLocks) Acquire(ctx context.Context, id uint32) error {
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return errors.New("cluster: shard locks closed")
	}
	if l.mu.held[id] != nil {
		l.mu.Unlock()
		return nil
	}
	cli, key := l.mu.cli, l.key(id)
	l.mu.Unlock()
	if cli == nil {
		return errors.New("cluster: shard locks: not started")
	}

	ttl := int64((l.o.TTL + time.Second - 1) / time.Second)
	granted := time.Now() // the lease expires TTL after the grant at the earliest
	lease, err := cli.Grant(ctx, ttl)
	if err != nil {
		return fmt.Errorf("cluster: shard %d lock: grant a lease: %w", id, err)
	}
	revoke := func() {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = cli.Revoke(rctx, lease.ID)
	}
	resp, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, l.node, clientv3.WithLease(lease.ID))).
		Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		revoke()
		return fmt.Errorf("cluster: shard %d lock: %w", id, err)
	}
	if !resp.Succeeded {
		kvs := resp.Responses[0].GetResponseRange().GetKvs()
		if len(kvs) == 0 { // released meanwhile
			revoke()
			return fmt.Errorf("%w: shard %d: the lock changed hands while taking it; retry", ErrShardLocked, id)
		}
		kv := kvs[0]
		if string(kv.Value) != l.node || !l.o.FastReacquire {
			revoke()
			return fmt.Errorf("%w: shard %d is locked by %s (key %s, lease %x; it expires at most %v after that node stops)",
				ErrShardLocked, id, kv.Value, key, kv.Lease, l.o.TTL)
		}
		// Our name: a predecessor of this node crashed holding it.
		r, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)).
			Then(clientv3.OpPut(key, l.node, clientv3.WithLease(lease.ID))).Commit()
		if err != nil {
			revoke()
			return fmt.Errorf("cluster: shard %d lock: %w", id, err)
		}
		if !r.Succeeded {
			revoke()
			return fmt.Errorf("%w: shard %d: the lock changed hands while taking it back; retry", ErrShardLocked, id)
		}
		resp.Header = r.Header
		l.log.Info("took back the shard lock of a previous run of this node", "shard", id, "key", key)
	}
	kctx, cancel := context.WithCancel(context.Background())
	ka, err := cli.KeepAlive(kctx, lease.ID)
	if err != nil {
		cancel()
		revoke()
		return fmt.Errorf("cluster: shard %d lock: keep the lease alive: %w", id, err)
	}
	h := &heldLock{lease: lease.ID, cancel: cancel, done: make(chan struct{})}
	l.mu.Lock()
	if l.mu.closed || l.mu.held[id] != nil {
		l.mu.Unlock()
		cancel()
		revoke()
		return fmt.Errorf("cluster: shard %d lock: closed or taken concurrently", id)
	}
	l.mu.held[id] = h
	l.wg.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		defer close(h.done)
		l.keep(kctx, id, h, ka, granted, resp.Header.GetRevision())
	}()
	return nil
}

// keep watches a held lock until it is released (ctx cancelled) or lost.
func (l *shardLocks) keep(ctx context.Context, id uint32, h *heldLock, ka <-chan *clientv3.LeaseKeepAliveResponse,
	granted time.Time, rev int64) {
	cli, key := l.client(), l.key(id)
	expires := func(t time.Time) time.Time { return t.Add(l.o.TTL - l.o.CheckInterval) }
	deadline := expires(granted)
	wctx, wcancel := context.WithCancel(ctx)
	defer func() { wcancel() }()
	watch := cli.Watch(wctx, key, clientv3.WithRev(rev+1))
	tick := time.NewTicker(l.o.CheckInterval)
	defer tick.Stop()
	lost := func(reason string) {
		l.mu.Lock()
		mine := l.mu.held[id] == h
		if mine {
			delete(l.mu.held, id)
		}
		l.mu.Unlock()
		h.cancel()
		if !mine {
			return // released meanwhile
		}
		rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, _ = cli.Revoke(rctx, h.lease) // what is left of it
		cancel()
		l.log.Error("shard lock lost; the node stops serving the shard", "shard", id, "key", key, "reason", reason)
		l.onLost(id, reason)
	}
	// rewatch looks at the key after the watch broke (compaction, a lost
	// connection) and watches again from there; "" if the lock is still
	// ours (or etcd did not answer: the deadline decides meanwhile).
	rewatch := func() string {
		wcancel()
		watch = nil
		g, err := cli.Get(ctx, key)
		if err != nil {
			return ""
		}
		if len(g.Kvs) == 0 || string(g.Kvs[0].Value) != l.node || clientv3.LeaseID(g.Kvs[0].Lease) != h.lease {
			return "the lock key was deleted or taken over"
		}
		wctx, wcancel = context.WithCancel(ctx)
		watch = cli.Watch(wctx, key, clientv3.WithRev(g.Header.GetRevision()+1))
		return ""
	}
	for {
		select {
		case <-ctx.Done():
			return // released
		case r, ok := <-ka:
			if ctx.Err() != nil {
				return
			}
			if !ok || r == nil || r.TTL <= 0 {
				lost("the lease expired or was revoked")
				return
			}
			deadline = expires(time.Now())
		case wr, ok := <-watch:
			if ctx.Err() != nil {
				return
			}
			if !ok || wr.Err() != nil {
				if reason := rewatch(); reason != "" {
					lost(reason)
					return
				}
				continue
			}
			for _, ev := range wr.Events {
				if ev.Type == clientv3.EventTypeDelete || string(ev.Kv.Value) != l.node ||
					clientv3.LeaseID(ev.Kv.Lease) != h.lease {
					lost("the lock key was deleted or taken over")
					return
				}
			}
		case <-tick.C:
			if time.Now().After(deadline) {
				lost(fmt.Sprintf("no keep-alive answered for %v (etcd unreachable?)", l.o.TTL-l.o.CheckInterval))
				return
			}
			if watch == nil && ctx.Err() == nil {
				if reason := rewatch(); reason != "" {
					lost(reason)
					return
				}
			}
		}
	}
}

// Release gives the lock of shard id up (revoking its lease deletes the
// key). Releasing a lock not held does nothing.
func (l *shardLocks) Release(ctx context.Context, id uint32) error {
	l.mu.Lock()
	h := l.mu.held[id]
	delete(l.mu.held, id)
	l.mu.Unlock()
	if h == nil {
		return nil
	}
	h.cancel()
	<-h.done
	if _, err := l.client().Revoke(ctx, h.lease); err != nil {
		return fmt.Errorf("cluster: shard %d lock: revoke lease %x (the key goes when it expires): %w", id, h.lease, err)
	}
	return nil
}

// Close releases every lock and waits for the keepers.
func (l *shardLocks) Close(ctx context.Context) {
	l.mu.Lock()
	l.mu.closed = true
	ids := make([]uint32, 0, len(l.mu.held))
	for id := range l.mu.held {
		ids = append(ids, id)
	}
	l.mu.Unlock()
	for _, id := range ids {
		if err := l.Release(ctx, id); err != nil {
			l.log.Warn("releasing a shard lock", "shard", id, "err", err)
		}
	}
	l.wg.Wait()
}
