package member

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/meta/metatest"
	"github.com/horaego/horaedb/proto/metapb"
)

// candidate runs an Elector and records its terms.
type candidate struct {
	e      *Elector
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	terms   []Term
	leading bool
}

func start(t *testing.T, st *storage.Storage, name string) *candidate {
	t.Helper()
	e := New(st.Client(), st.Keys().Election(), time.Second, &metapb.Member{Name: name, GrpcEndpoint: "http://" + name},
		slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	c := &candidate{e: e, cancel: cancel, done: make(chan struct{})}
	go e.Observe(ctx)
	go func() {
		defer close(c.done)
		e.Run(ctx, func(ctx context.Context, term Term) {
			c.mu.Lock()
			c.terms, c.leading = append(c.terms, term), true
			c.mu.Unlock()
			<-ctx.Done()
			c.mu.Lock()
			c.leading = false
			c.mu.Unlock()
		})
	}()
	t.Cleanup(c.stop)
	return c
}

func (c *candidate) stop() {
	c.cancel()
	<-c.done
}

func (c *candidate) term() (Term, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.leading {
		return Term{}, false
	}
	return c.terms[len(c.terms)-1], true
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// leaderOf waits for exactly one of cs to lead and returns it.
func leaderOf(t *testing.T, cs ...*candidate) (*candidate, Term) {
	t.Helper()
	var l *candidate
	var term Term
	waitFor(t, "one leader", func() bool {
		n := 0
		for _, c := range cs {
			if tm, ok := c.term(); ok {
				l, term = c, tm
				n++
			}
		}
		return n == 1
	})
	return l, term
}

func TestElection(t *testing.T) {
	m, err := metatest.Etcd(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st := storage.New(m.Client, "/horaedb", storage.Options{})
	ctx := context.Background()

	a, b := start(t, st, "a"), start(t, st, "b")
	first, t1 := leaderOf(t, a, b)
	other := b
	if first == b {
		other = a
	}
	// Both observe the leader and its epoch.
	for _, c := range []*candidate{a, b} {
		waitFor(t, "leader observed", func() bool {
			l := c.e.Leader()
			return l != nil && l.Member.Name == first.e.Self().Name && l.Epoch == t1.Epoch
		})
	}
	if _, err := st.Commit(ctx, t1.Guard, nil, storage.PutString("/x", "1")); err != nil {
		t.Fatal(err)
	}

	// A graceful stop hands over at once (resignation, not lease expiry).
	changed := other.e.WaitChange()
	stopped := time.Now()
	first.stop()
	_, t2 := leaderOf(t, other)
	if took := time.Since(stopped); took > 900*time.Millisecond {
		t.Errorf("hand-over took %s; resigning should not wait for the lease", took)
	}
	<-changed
	if t2.Epoch <= t1.Epoch {
		t.Errorf("epoch %d after %d", t2.Epoch, t1.Epoch)
	}
	if _, err := st.Commit(ctx, t1.Guard, nil, storage.PutString("/x", "2")); !errors.Is(err, storage.ErrNotLeader) {
		t.Errorf("old term's write: %v, want ErrNotLeader", err)
	}

	// A crash (no resignation) hands over after the lease.
	c := start(t, st, "c")
	crashed := time.Now()
	other.e.Abandon()
	other.stop()
	_, t3 := leaderOf(t, c)
	if took := time.Since(crashed); took < 500*time.Millisecond {
		t.Errorf("took over after %s, before the crashed leader's lease expired", took)
	}
	if t3.Epoch <= t2.Epoch {
		t.Errorf("epoch %d after %d", t3.Epoch, t2.Epoch)
	}

	// Deleting the leader's key ends its term; it campaigns again.
	if _, err := m.Client.Delete(ctx, t3.Guard.Key); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new term", func() bool {
		tm, ok := c.term()
		return ok && tm.Epoch > t3.Epoch
	})
}
