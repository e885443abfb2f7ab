package kafka

import (
	"fmt"
	"sync"
	"time"

	"github.com/horaego/horaedb/wal"
)

// health is what the WAL knows of Kafka's availability, from the outcome
// of its appends. After an Append gets no acknowledgement in time (or a
// produce fails), Kafka counts as down: Appends fail at once with
// wal.ErrUnavailable rather than each waiting AppendTimeout, except a
// probe, at most one at a time and one per probeEvery, which goes to Kafka
// as usual. The first acknowledgement of any record (a probe's, or that of
// a record the client kept retrying while the broker was away) brings
// Kafka back up.
type health struct {
	metrics    *metrics
	probeEvery time.Duration

	mu struct {
		sync.Mutex
		down      bool
		since     time.Time
		err       error
		probing   bool
		lastProbe time.Time
	}
}

// admit decides whether an Append may go to Kafka now. It returns
// probe=true when the Append is a probe while Kafka is down; the caller
// then calls endProbe when it has its outcome.
func (h *health) admit() (probe bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case !h.mu.down:
		return false, nil
	case !h.mu.probing && time.Since(h.mu.lastProbe) >= h.probeEvery:
		h.mu.probing = true
		h.mu.lastProbe = time.Now()
		return true, nil
	}
	h.metrics.failFast.Inc()
	return false, fmt.Errorf("wal/kafka: %w: Kafka has not acknowledged appends for %s (%v); failing fast until it does",
		wal.ErrUnavailable, time.Since(h.mu.since).Round(time.Millisecond), h.mu.err)
}

func (h *health) endProbe() {
	h.mu.Lock()
	h.mu.probing = false
	h.mu.Unlock()
}

// ok records an acknowledgement.
func (h *health) ok() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mu.down {
		h.mu.down = false
		h.metrics.down.Set(0)
	}
}

// fail records an append that got no acknowledgement.
func (h *health) fail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mu.err = err
	if !h.mu.down {
		h.mu.down, h.mu.since, h.mu.lastProbe = true, time.Now(), time.Now()
		h.metrics.down.Set(1)
	}
}

// state returns whether Kafka counts as down, since when and why.
func (h *health) state() (down bool, since time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mu.down, h.mu.since, h.mu.err
}
