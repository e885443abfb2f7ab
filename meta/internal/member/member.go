// Package member elects the meta leader among the meta members and keeps
// every member informed of who leads.
//
// Election uses etcd's concurrency.Election under <root>/v1/election/: each
// member campaigns with a key bound to its own lease (lease-sec); the
// member whose key is oldest leads. A term ends when the lease is lost
// (crash, partition: after at most lease-sec), when the key disappears, or
// when the member resigns on shutdown (at once). A term's epoch is the
// creation revision of its key, so epochs grow with every new leader; its
// Guard makes every metadata write conditional on still leading.
package member

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/protobuf/proto"

	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/proto/metapb"
)

// Term is one leadership of this member.
type Term struct {
	// Guard makes writes conditional on this term.
	Guard storage.Guard
	// Epoch grows with every term of any member.
	Epoch uint64
}

// Leader is the current leader as observed.
type Leader struct {
	Member *metapb.Member
	Epoch  uint64
}

// Elector campaigns for leadership and observes the leader.
type Elector struct {
	cli    *clientv3.Client
	prefix string
	ttl    int
	self   *metapb.Member
	logger *slog.Logger

	leader atomic.Pointer[Leader]
	// abandon makes Run leave without resigning (a simulated crash).
	abandon atomic.Bool

	mu struct {
		sync.Mutex
		waiters []chan struct{}
	}
}

// New returns an Elector for self under prefix with a lease of ttl.
func New(cli *clientv3.Client, prefix string, ttl time.Duration, self *metapb.Member, logger *slog.Logger) *Elector {
	secs := int(ttl / time.Second)
	if secs < 1 {
		secs = 1
	}
	return &Elector{cli: cli, prefix: prefix, ttl: secs, self: self, logger: logger}
}

// Self returns this member.
func (e *Elector) Self() *metapb.Member { return e.self }

// Leader returns the leader last observed, or nil when none is known.
func (e *Elector) Leader() *Leader { return e.leader.Load() }

// WaitChange returns a channel closed at the next change of the observed
// leader.
func (e *Elector) WaitChange() <-chan struct{} {
	ch := make(chan struct{})
	e.mu.Lock()
	e.mu.waiters = append(e.mu.waiters, ch)
	e.mu.Unlock()
	return ch
}

// Abandon makes Run return at its next step without resigning or revoking
// its lease, as if the process had died; for tests.
func (e *Elector) Abandon() { e.abandon.Store(true) }

// Run campaigns until ctx is done. For each term won it calls lead with a
// context that is cancelled when the term ends, and waits for lead to
// return; if lead returns early, the member resigns. Run returns when ctx is
// done.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context, t Term)) {
	val, err := proto.Marshal(e.self)
	if err != nil {
		panic(err)
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil && !e.abandon.Load() {
		sess, err := concurrency.NewSession(e.cli, concurrency.WithTTL(e.ttl))
		if err != nil {
			e.logger.Warn("meta election: no session", "err", err)
			sleep(ctx, backoff)
			continue
		}
		el := concurrency.NewElection(sess, e.prefix)
		if err := el.Campaign(ctx, string(val)); err != nil {
			if ctx.Err() == nil {
				e.logger.Warn("meta election: campaign failed", "err", err)
			}
			e.endSession(sess)
			sleep(ctx, backoff)
			continue
		}
		term := Term{Guard: storage.Guard{Key: el.Key(), Rev: el.Rev()}, Epoch: uint64(el.Rev())}
		e.logger.Info("became meta leader", "member", e.self.Name, "epoch", term.Epoch)
		e.lead(ctx, sess, term, lead)
		e.logger.Info("meta leadership ended", "member", e.self.Name, "epoch", term.Epoch)
		if !e.abandon.Load() {
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			if err := el.Resign(rctx); err != nil {
				e.logger.Debug("meta election: resign", "err", err)
			}
			cancel()
		}
		e.endSession(sess)
	}
}

// lead runs one term until it ends.
func (e *Elector) lead(ctx context.Context, sess *concurrency.Session, term Term, lead func(context.Context, Term)) {
	termCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cancel()
		// The term ends when the lease is lost or the key is deleted. The
		// watch starts right after the key's creation, so a delete that
		// comes before the watch is set up is not missed (a compacted
		// revision fails the watch, which steps down too).
		wch := e.cli.Watch(clientv3.WithRequireLeader(termCtx), term.Guard.Key, clientv3.WithRev(term.Guard.Rev+1))
		for {
			select {
			case <-termCtx.Done():
				return
			case <-sess.Done():
				e.logger.Warn("meta leader lost its lease", "epoch", term.Epoch)
				return
			case resp, ok := <-wch:
				if !ok || resp.Err() != nil {
					if termCtx.Err() == nil {
						e.logger.Warn("meta leader lost its watch; stepping down", "epoch", term.Epoch)
					}
					return
				}
				for _, ev := range resp.Events {
					if ev.Type == clientv3.EventTypeDelete {
						e.logger.Warn("meta leader key deleted", "epoch", term.Epoch)
						return
					}
				}
			}
		}
	}()
	lead(termCtx, term)
	cancel()
	wg.Wait()
}

// endSession stops the session's keepalives and, unless abandoned, revokes
// its lease (bounded: without a quorum the lease just expires).
func (e *Elector) endSession(sess *concurrency.Session) {
	sess.Orphan()
	if e.abandon.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = e.cli.Revoke(ctx, sess.Lease())
}

// Observe keeps Leader up to date until ctx is done.
func (e *Elector) Observe(ctx context.Context) {
	for ctx.Err() == nil {
		rev, err := e.refresh(ctx)
		if err != nil {
			if ctx.Err() == nil {
				e.logger.Debug("meta election: observe", "err", err)
			}
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		wch := e.cli.Watch(clientv3.WithRequireLeader(wctx), e.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		for resp := range wch {
			if resp.Err() != nil {
				break
			}
			if _, err := e.refresh(ctx); err != nil {
				break
			}
		}
		cancel()
	}
}

// refresh reads the oldest election key and publishes its member.
func (e *Elector) refresh(ctx context.Context) (int64, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := e.cli.Get(cctx, e.prefix, clientv3.WithFirstCreate()...)
	if err != nil {
		return 0, err
	}
	var next *Leader
	if len(resp.Kvs) > 0 {
		m := &metapb.Member{}
		if err := proto.Unmarshal(resp.Kvs[0].Value, m); err != nil {
			return 0, errors.New("meta election: corrupt member value")
		}
		next = &Leader{Member: m, Epoch: uint64(resp.Kvs[0].CreateRevision)}
	}
	prev := e.leader.Swap(next)
	if (prev == nil) != (next == nil) || prev != nil && prev.Epoch != next.Epoch {
		e.mu.Lock()
		for _, ch := range e.mu.waiters {
			close(ch)
		}
		e.mu.waiters = nil
		e.mu.Unlock()
	}
	return resp.Header.Revision, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
