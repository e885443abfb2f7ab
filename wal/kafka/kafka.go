// Package kafka is the WAL backend on Apache Kafka (config type "Kafka"):
// the logs live outside the node, so that a shard can be reopened on
// another node and followers can read its log.
//
// Each shard has two single-partition topics: "<prefix>_<shard>" holds its
// entries, "<prefix>_meta_<shard>" its tables' truncation marks. One Append
// is one Kafka record (split over several records when it exceeds
// max.message.bytes, and read back only when every part is there), produced
// with the idempotent producer and acks=all; the client batches concurrent
// Appends into shared produce requests without lingering. Sequences are
// assigned by the log and carried in the records, not taken from offsets,
// so that an Append of several entries stays one atomic record. OpenLog
// appends a fence record and reads the last records before it to learn the
// next sequence. Truncation writes a mark to the meta topic; a cleaner
// deletes dead records with DeleteRecords every clean period. FORMAT.md
// documents the records and the invariants.
//
// Only standard Kafka APIs are used (Produce, Fetch, Metadata,
// CreateTopics, DeleteRecords, ListOffsets, DescribeConfigs), so the WAL
// works on a Kafka cluster; the tests run it against franz-go's kfake.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/horaego/horaedb/wal"
)

// WAL is a Kafka WAL: one client shared by the logs of every shard the
// node opens. It is safe for concurrent use.
type WAL struct {
	opts    Options
	log     *slog.Logger
	cl      *kgo.Client
	admin   *kadm.Client // CreateTopics with CreateTimeout
	deleter *kadm.Client // DeleteRecords with DeleteTimeout
	conns   *connTracker
	metrics *metrics
	health  health

	stop    chan struct{} // closed by Close: stops the cleaner
	wg      sync.WaitGroup
	crashed atomic.Bool // set by crash: Close does not wait for records

	mu struct {
		sync.Mutex
		closed bool
		logs   map[uint32]*Log
	}

	closeOnce sync.Once
	closeErr  error
}

var _ wal.WAL = (*WAL)(nil)

// Open connects to the brokers and starts the cleaner. It fails with
// wal.ErrUnavailable if no broker answers within ctx's deadline (or
// AppendTimeout, whichever comes first). Close stops it.
func Open(ctx context.Context, opts Options) (*WAL, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	w := &WAL{
		opts:    opts,
		log:     opts.Logger.With("component", "wal", "backend", "kafka"),
		metrics: m,
		stop:    make(chan struct{}),
	}
	w.health.metrics = m
	w.health.probeEvery = min(time.Second, opts.AppendTimeout)
	w.mu.logs = make(map[uint32]*Log)
	dial := opts.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		dial = d.DialContext
		if opts.Socks5Proxy != "" {
			dial = socks5Dialer(opts.Socks5Proxy, d)
		}
	}
	w.conns = &connTracker{dial: dial}
	w.cl, err = kgo.NewClient(
		kgo.SeedBrokers(opts.Brokers...),
		kgo.WithLogger(kgoLogger{w.log.With("component", "kafka-client")}),
		kgo.Dialer(w.conns.DialContext),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerBatchMaxBytes(int32(opts.MaxMessageBytes)),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.MaxBufferedBytes(256<<20),
		// Records not sent within AppendTimeout fail (with those behind
		// them); records sent are retried until the broker answers, as
		// idempotence requires.
		kgo.RecordDeliveryTimeout(max(time.Second, opts.AppendTimeout)), // kgo needs >= 1s
		kgo.RetryBackoffFn(opts.backoff),
		// After a broker comes back, produce waits for fresh metadata;
		// the default minimum age between refreshes (5s) would hold the
		// WAL down that long.
		kgo.MetadataMinAge(500*time.Millisecond),
		kgo.RequestRetries(opts.MaxRetry),
	)
	if err != nil {
		m.unregister()
		return nil, fmt.Errorf("wal/kafka: client: %w: %w", wal.ErrInvalid, err)
	}
	pctx, cancel := context.WithTimeout(ctx, opts.AppendTimeout)
	err = w.cl.Ping(pctx)
	cancel()
	if err != nil {
		w.cl.Close()
		m.unregister()
		return nil, fmt.Errorf("wal/kafka: no broker of %v answers: %w: %w", opts.Brokers, wal.ErrUnavailable, err)
	}
	w.admin = kadm.NewClient(w.cl)
	w.admin.SetTimeoutMillis(int32(opts.CreateTimeout.Milliseconds()))
	w.deleter = kadm.NewClient(w.cl)
	w.deleter.SetTimeoutMillis(int32(opts.DeleteTimeout.Milliseconds()))
	w.wg.Add(1)
	go w.cleanLoop()
	w.log.Info("opened", "brokers", opts.Brokers, "topic_prefix", opts.TopicPrefix)
	return w, nil
}

// OpenLog opens the log of a shard, creating its topics if needed. It
// fences the topic (appends a record after whatever an earlier owner may
// still have had in flight) and recovers the next sequence and the marks.
// A shard's log may be open only once at a time per WAL: opening it again
// before closing it fails with wal.ErrInvalid.
func (w *WAL) OpenLog(ctx context.Context, shardID uint32) (wal.Log, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	switch {
	case w.mu.closed:
		w.mu.Unlock()
		return nil, fmt.Errorf("wal/kafka: %w", wal.ErrClosed)
	case w.mu.logs[shardID] != nil:
		w.mu.Unlock()
		return nil, fmt.Errorf("wal/kafka: shard %d: log already open: %w", shardID, wal.ErrInvalid)
	}
	// Reserve the shard while it is being opened.
	l := newLog(w, shardID)
	w.mu.logs[shardID] = l
	w.mu.Unlock()

	start := time.Now()
	if err := l.open(ctx); err != nil {
		w.forget(l)
		l.closed.Store(true)
		return nil, fmt.Errorf("wal/kafka: open shard %d: %w", shardID, err)
	}
	w.mu.Lock()
	closed := w.mu.closed
	w.mu.Unlock()
	if closed {
		_ = l.Close()
		return nil, fmt.Errorf("wal/kafka: %w", wal.ErrClosed)
	}
	w.log.Info("log opened", "shard", shardID, "next", l.NextSequence(), "tables", len(l.marks.Load().m),
		"purged", l.purged.Load(), "took", time.Since(start).Round(time.Millisecond))
	return l, nil
}

// forget removes a log from the open ones.
func (w *WAL) forget(l *Log) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mu.logs[l.shard] == l {
		delete(w.mu.logs, l.shard)
	}
}

// openLogs returns the logs open now.
func (w *WAL) openLogs() []*Log {
	w.mu.Lock()
	defer w.mu.Unlock()
	logs := make([]*Log, 0, len(w.mu.logs))
	for _, l := range w.mu.logs {
		logs = append(logs, l)
	}
	return logs
}

// Close closes the open logs (waiting for their appends in flight, up to
// AppendTimeout each), stops the cleaner and closes the client. Idempotent:
// later calls wait for the first and return its result.
func (w *WAL) Close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.mu.closed = true
		w.mu.Unlock()
		close(w.stop)
		for _, l := range w.openLogs() {
			_ = l.Close()
		}
		w.wg.Wait()
		if !w.crashed.Load() {
			// Let the records in flight get their outcome.
			ctx, cancel := context.WithTimeout(context.Background(), w.opts.AppendTimeout)
			if err := w.cl.Flush(ctx); err != nil {
				w.log.Warn("closing with records in flight", "err", err)
			}
			cancel()
		}
		w.cl.Close()
		w.metrics.unregister()
		w.log.Info("closed")
	})
	return w.closeErr
}

// crash simulates the death of the process for tests: every connection to
// the brokers is cut and no new one is opened, so nothing more reaches
// Kafka; then the WAL is closed.
func (w *WAL) crash() {
	w.crashed.Store(true)
	w.conns.cut()
	_ = w.Close()
}

// connTracker dials broker connections and can cut them all.
type connTracker struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu struct {
		sync.Mutex
		cut   bool
		conns map[net.Conn]struct{}
	}
}

var errCut = errors.New("wal/kafka: connections cut")

func (c *connTracker) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c.mu.Lock()
	cut := c.mu.cut
	c.mu.Unlock()
	if cut {
		return nil, errCut
	}
	conn, err := c.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.cut {
		_ = conn.Close()
		return nil, errCut
	}
	if c.mu.conns == nil {
		c.mu.conns = make(map[net.Conn]struct{})
	}
	tc := &trackedConn{Conn: conn, t: c}
	c.mu.conns[tc] = struct{}{}
	return tc, nil
}

func (c *connTracker) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.cut = true
	for conn := range c.mu.conns {
		if tc, ok := conn.(*trackedConn); ok {
			_ = tc.Conn.Close()
		}
	}
	c.mu.conns = nil
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (tc *trackedConn) Close() error {
	tc.once.Do(func() {
		tc.t.mu.Lock()
		delete(tc.t.mu.conns, tc)
		tc.t.mu.Unlock()
	})
	return tc.Conn.Close()
}

// kgoLogger routes the Kafka client's logs into slog: its errors and
// warnings at Warn (a broker that restarts makes it log errors the WAL
// recovers from), its info at Debug.
type kgoLogger struct{ log *slog.Logger }

func (l kgoLogger) Level() kgo.LogLevel {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		return kgo.LogLevelInfo
	}
	return kgo.LogLevelWarn
}

func (l kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	switch level {
	case kgo.LogLevelError, kgo.LogLevelWarn:
		l.log.Warn(msg, keyvals...)
	default:
		l.log.Debug(msg, keyvals...)
	}
}
