package table

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horaego/horaedb/wal"
)

// stallConn passes everything through until armed and it has sent a
// COMMIT; from then its reads wait until it is closed or their deadline
// passes, as if the database hung right after receiving the COMMIT.
type stallConn struct {
	net.Conn
	armed    *atomic.Bool
	once     sync.Once
	stall    chan struct{} // closed at the COMMIT
	closed   chan struct{}
	deadline atomic.Pointer[time.Time]
}

func (c *stallConn) SetDeadline(t time.Time) error {
	c.deadline.Store(&t)
	return c.Conn.SetDeadline(t)
}

func (c *stallConn) SetReadDeadline(t time.Time) error {
	c.deadline.Store(&t)
	return c.Conn.SetReadDeadline(t)
}

func (c *stallConn) Write(p []byte) (int, error) {
	if c.armed.Load() && bytes.Contains(p, []byte("COMMIT")) {
		c.once.Do(func() { close(c.stall) })
	}
	return c.Conn.Write(p)
}

func (c *stallConn) Read(p []byte) (int, error) {
	select {
	case <-c.stall:
		var timeout <-chan time.Time
		if d := c.deadline.Load(); d != nil && !d.IsZero() {
			timeout = time.After(time.Until(*d))
		}
		select {
		case <-c.closed:
			return 0, net.ErrClosed
		case <-timeout:
			return 0, os.ErrDeadlineExceeded
		}
	default:
		return c.Conn.Read(p)
	}
}

func (c *stallConn) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return c.Conn.Close()
}

// TestCommitHangBounded: a database that stops answering right after a
// group's COMMIT fails the append with wal.ErrUnavailable within
// AppendTimeout (database/sql's own COMMIT has no deadline: it waited for
// the driver's 30 s read timeout), and the log recovers once the database
// answers again, with every acknowledged entry and the outcome of the
// hung commit resolved by a resync.
func TestCommitHangBounded(t *testing.T) {
	srv := needDB(t)
	var armed atomic.Bool
	opts := testOptions(srv.DSN("walcommithang"))
	opts.AppendTimeout = time.Second
	opts.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &stallConn{Conn: c, armed: &armed, stall: make(chan struct{}), closed: make(chan struct{})}, nil
	}
	w := openT(t, opts)
	l := openLogT(t, w, 3)
	first := appendT(t, l, entry(1, "before"))

	armed.Store(true)
	began := time.Now()
	_, err := l.Append(t.Context(), []wal.Entry{entry(1, "hung")})
	took := time.Since(began)
	armed.Store(false)
	if !errors.Is(err, wal.ErrUnavailable) {
		t.Fatalf("append with the COMMIT hung: %v, want wal.ErrUnavailable", err)
	}
	if took > opts.AppendTimeout+2*time.Second {
		t.Fatalf("append with the COMMIT hung took %s; AppendTimeout is %s", took, opts.AppendTimeout)
	}
	after := appendT(t, l, entry(1, "after"))
	got := readAll(t, l, first)
	// "hung" may or may not have committed; "before" and "after" must be
	// there, in order.
	want := []string{fmt.Sprintf("%d:1:before", first), fmt.Sprintf("%d:1:after", after)}
	var kept []string
	for _, g := range got {
		if g == want[0] || g == want[1] {
			kept = append(kept, g)
		}
	}
	if len(kept) != 2 || kept[0] != want[0] || kept[1] != want[1] {
		t.Fatalf("entries after the hung commit: %q, want %q among them in order", got, want)
	}
	t.Logf("the append with the COMMIT hung failed after %s", took.Round(time.Millisecond))
}
