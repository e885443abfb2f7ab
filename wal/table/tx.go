package table

import (
	"context"
	"database/sql"
	"database/sql/driver"
)

// boundTx is a transaction whose every statement, COMMIT included, is
// bounded by the context it was begun with. database/sql's Tx sends COMMIT
// and ROLLBACK without a context, so a database that hung at that moment
// held the caller for the driver's read timeout (30 s) instead of the
// WAL's AppendTimeout. After a failure, or a rollback, the connection is
// discarded, never returned to the pool inside a transaction: the server
// rolls the transaction back when it closes.
type boundTx struct {
	ctx  context.Context
	conn *sql.Conn
	done bool
}

// beginBound starts a transaction on a connection of db.
func beginBound(ctx context.Context, db *sql.DB) (*boundTx, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	t := &boundTx{ctx: ctx, conn: conn}
	if _, err := conn.ExecContext(ctx, "START TRANSACTION"); err != nil {
		t.discard()
		return nil, err
	}
	return t, nil
}

// ExecContext runs a statement in the transaction.
func (t *boundTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.conn.ExecContext(ctx, query, args...)
}

// QueryRowContext runs a query in the transaction.
func (t *boundTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.conn.QueryRowContext(ctx, query, args...)
}

// Commit commits, bounded by the transaction's context. On an error the
// outcome is unknown and the connection is discarded.
func (t *boundTx) Commit() error {
	if t.done {
		return sql.ErrTxDone
	}
	if _, err := t.conn.ExecContext(t.ctx, "COMMIT"); err != nil {
		t.discard()
		return err
	}
	t.done = true
	return t.conn.Close()
}

// Rollback abandons the transaction unless it committed: the connection
// is discarded, which rolls it back without another round trip.
func (t *boundTx) Rollback() {
	if !t.done {
		t.discard()
	}
}

func (t *boundTx) discard() {
	t.done = true
	_ = t.conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = t.conn.Close()
}
