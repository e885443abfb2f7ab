// Package table is the WAL backend on tables of a database spoken to over
// the MySQL protocol (config types "Table" and, for upstream's OceanBase
// table-kv WAL, "Obkv"): OceanBase in MySQL mode, TiDB, MySQL, MariaDB.
// Like Kafka, it keeps the logs outside the node.
//
// A namespace is a few tables: the data of shard s lives in bucket table
// <ns>_data_<s mod buckets>, keyed by (shard_id, seq); <ns>_shards holds
// each shard's next sequence, owner epoch and purge floor; <ns>_marks each
// table's truncation mark. Each open shard log has a committer goroutine
// that takes the queued appends, truncations and drops, assigns sequences,
// and writes them in ONE transaction (group commit): a fenced update of
// the shard's row (its epoch must still be ours), multi-row inserts and
// mark upserts. A transaction commits whole or not at all, so no half
// batch is ever visible, and concurrent Appends share its cost. A cleaner
// deletes the rows below the marks every clean period. FORMAT.md documents
// the schema and the invariants.
package table

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/horaego/horaedb/wal"
)

// WAL is a table-store WAL: one connection pool shared by the logs of every
// shard the node opens. It is safe for concurrent use.
type WAL struct {
	opts     Options
	log      *slog.Logger
	db       *sql.DB
	names    names
	buckets  int // as stored in <ns>_meta
	maxEntry int // MaxEntrySize, lowered to what max_allowed_packet carries
	stmtMax  int // the largest statement we send, in bytes
	dbName   string
	addr     string
	conns    *connTracker
	metrics  *metrics

	stop chan struct{} // closed by Close: stops the cleaner
	wg   sync.WaitGroup

	mu struct {
		sync.Mutex
		closed bool
		logs   map[uint32]*Log
	}

	closeOnce sync.Once
	closeErr  error
}

var _ wal.WAL = (*WAL)(nil)

// Open connects to the database, creating it and the namespace's tables if
// needed, and starts the cleaner. It fails with wal.ErrUnavailable if the
// database cannot be reached. Close stops it.
func Open(ctx context.Context, opts Options) (*WAL, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	cfg, err := mysql.ParseDSN(opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("wal/table: DSN: %w: %w", wal.ErrInvalid, err)
	}
	if cfg.DBName == "" {
		return nil, fmt.Errorf("wal/table: DSN names no database (\"user:pass@tcp(host:port)/dbname\"): %w", wal.ErrInvalid)
	}
	// One round trip per statement (no server-side prepare), and UPDATE
	// reports the rows it matched, which the epoch fence relies on.
	cfg.InterpolateParams = true
	cfg.ClientFoundRows = true
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 30 * time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	conns := &connTracker{dial: opts.Dial}
	cfg.DialFunc = conns.DialContext
	cfg.Logger = driverLogger{opts.Logger.With("component", "wal", "backend", "table", "driver", "mysql")}

	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	w := &WAL{
		opts:    opts,
		log:     opts.Logger.With("component", "wal", "backend", "table"),
		names:   newNames(opts.Namespace),
		dbName:  cfg.DBName,
		addr:    cfg.Addr,
		conns:   conns,
		metrics: m,
		stop:    make(chan struct{}),
	}
	w.mu.logs = make(map[uint32]*Log)
	if err := w.connect(ctx, cfg); err != nil {
		m.unregister()
		return nil, err
	}
	w.wg.Add(1)
	go w.cleanLoop()
	w.log.Info("opened", "addr", w.addr, "database", w.dbName, "namespace", opts.Namespace,
		"buckets", w.buckets, "max_entry_size", w.maxEntry)
	return w, nil
}

// connect opens the pool (creating the database if it does not exist) and
// initializes the schema.
func (w *WAL) connect(ctx context.Context, cfg *mysql.Config) error {
	octx, cancel := context.WithTimeout(ctx, w.opts.OpenTimeout)
	defer cancel()
	open := func(cfg *mysql.Config) (*sql.DB, error) {
		c, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, fmt.Errorf("wal/table: %w: %w", wal.ErrInvalid, err)
		}
		db := sql.OpenDB(c)
		db.SetMaxOpenConns(w.opts.MaxOpenConns)
		db.SetMaxIdleConns(w.opts.MaxOpenConns)
		db.SetConnMaxIdleTime(5 * time.Minute)
		return db, nil
	}
	db, err := open(cfg)
	if err != nil {
		return err
	}
	err = db.PingContext(octx)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1049 { // unknown database
		_ = db.Close()
		if err := w.createDatabase(octx, cfg, open); err != nil {
			return err
		}
		if db, err = open(cfg); err != nil {
			return err
		}
		err = db.PingContext(octx)
	}
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("wal/table: connect to %s database %s: %w", cfg.Addr, cfg.DBName, dbError(err))
	}
	w.db = db
	var maxPacket int
	if err := db.QueryRowContext(octx, "SELECT @@max_allowed_packet").Scan(&maxPacket); err != nil {
		_ = db.Close()
		return fmt.Errorf("wal/table: read max_allowed_packet: %w", dbError(err))
	}
	// A payload is sent escaped in the statement: up to twice its size.
	w.stmtMax = min(maxPacket-4<<10, 16<<20)
	w.maxEntry = min(w.opts.MaxEntrySize, (maxPacket-64<<10)/2)
	if w.maxEntry < w.opts.MaxEntrySize {
		w.log.Info("max entry size lowered to what max_allowed_packet carries",
			"max_allowed_packet", maxPacket, "max_entry_size", w.maxEntry)
	}
	if w.maxEntry < 1<<10 {
		_ = db.Close()
		return fmt.Errorf("wal/table: max_allowed_packet %d is too small: %w", maxPacket, wal.ErrInvalid)
	}
	if err := w.initSchema(octx); err != nil {
		_ = db.Close()
		return fmt.Errorf("wal/table: %w", err)
	}
	return nil
}

func (w *WAL) createDatabase(ctx context.Context, cfg *mysql.Config, open func(*mysql.Config) (*sql.DB, error)) error {
	c := cfg.Clone()
	c.DBName = ""
	db, err := open(c)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+cfg.DBName+"`"); err != nil {
		return fmt.Errorf("wal/table: create database %s: %w", cfg.DBName, dbError(err))
	}
	w.log.Info("created database", "database", cfg.DBName)
	return nil
}

// MaxEntrySize returns the largest payload Append accepts: the option,
// lowered to what the database's max_allowed_packet carries.
func (w *WAL) MaxEntrySize() int { return w.maxEntry }

// OpenLog opens the log of a shard: it creates the shard's bucket table if
// needed, takes ownership of the shard (raising its epoch, which fences an
// earlier owner's commits), loads its marks and starts its committer. A
// shard's log may be open only once at a time per WAL: opening it again
// before closing it fails with wal.ErrInvalid.
func (w *WAL) OpenLog(ctx context.Context, shardID uint32) (wal.Log, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	switch {
	case w.mu.closed:
		w.mu.Unlock()
		return nil, fmt.Errorf("wal/table: %w", wal.ErrClosed)
	case w.mu.logs[shardID] != nil:
		w.mu.Unlock()
		return nil, fmt.Errorf("wal/table: shard %d: log already open: %w", shardID, wal.ErrInvalid)
	}
	l := newLog(w, shardID)
	w.mu.logs[shardID] = l
	w.mu.Unlock()

	start := time.Now()
	octx, cancel := context.WithTimeout(ctx, w.opts.OpenTimeout)
	err := l.load(octx)
	cancel()
	if err != nil {
		w.forget(l)
		l.closed.Store(true)
		return nil, fmt.Errorf("wal/table: open shard %d: %w", shardID, err)
	}
	w.mu.Lock()
	closed := w.mu.closed
	if !closed {
		l.c.start()
	}
	w.mu.Unlock()
	if closed {
		w.forget(l)
		return nil, fmt.Errorf("wal/table: %w", wal.ErrClosed)
	}
	w.log.Info("log opened", "shard", shardID, "table", l.table, "next", l.NextSequence(),
		"epoch", l.c.epochValue(), "tables", len(l.marks.Load().m), "took", time.Since(start).Round(time.Millisecond))
	return l, nil
}

func (w *WAL) forget(l *Log) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mu.logs[l.shard] == l {
		delete(w.mu.logs, l.shard)
	}
}

func (w *WAL) openLogs() []*Log {
	w.mu.Lock()
	defer w.mu.Unlock()
	logs := make([]*Log, 0, len(w.mu.logs))
	for _, l := range w.mu.logs {
		logs = append(logs, l)
	}
	return logs
}

// Close closes the open logs (their committers finish the requests already
// queued), stops the cleaner and closes the pool. Idempotent: later calls
// wait for the first and return its result.
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
		if err := w.db.Close(); err != nil {
			w.closeErr = fmt.Errorf("wal/table: close: %w", err)
		}
		w.metrics.unregister()
		w.log.Info("closed")
	})
	return w.closeErr
}

// crash simulates the death of the process for tests: every connection to
// the database is cut (the server rolls back what was not committed) and
// no new one is opened; then the WAL is closed.
func (w *WAL) crash() {
	w.conns.cut()
	_ = w.Close()
}

// connTracker dials database connections and can cut them all.
type connTracker struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu struct {
		sync.Mutex
		cut   bool
		conns map[*trackedConn]struct{}
	}
}

var errCut = errors.New("wal/table: connections cut")

func (c *connTracker) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c.mu.Lock()
	cut := c.mu.cut
	c.mu.Unlock()
	if cut {
		return nil, errCut
	}
	dial := c.dial
	if dial == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	conn, err := dial(ctx, network, addr)
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
		c.mu.conns = make(map[*trackedConn]struct{})
	}
	tc := &trackedConn{Conn: conn, t: c}
	c.mu.conns[tc] = struct{}{}
	return tc, nil
}

func (c *connTracker) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.cut = true
	for tc := range c.mu.conns {
		_ = tc.Conn.Close()
	}
	c.mu.conns = nil
}

type trackedConn struct {
	net.Conn
	t *connTracker
}

func (tc *trackedConn) Close() error {
	tc.t.mu.Lock()
	delete(tc.t.mu.conns, tc)
	tc.t.mu.Unlock()
	return tc.Conn.Close()
}

// driverLogger routes the MySQL driver's messages (broken connections,
// mostly, which the WAL reports itself) into slog at Debug level.
type driverLogger struct{ log *slog.Logger }

func (l driverLogger) Print(v ...any) { l.log.Debug(strings.TrimSpace(fmt.Sprint(v...))) }
