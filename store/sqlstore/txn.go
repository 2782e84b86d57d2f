package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
)

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// txn is a transaction on a connection of its own: a *sql.Tx, or on
// SQLite BEGIN IMMEDIATE issued by the store itself, since database/sql
// cannot ask for an immediate transaction and a deferred one fails,
// rather than waits, when two writers both upgrade their locks.
//
// Its statements watch the caller's context; its COMMIT and ROLLBACK do
// not, so that a cancelled context never leaves in doubt whether a
// transaction committed, nor a connection inside a transaction.
type txn struct {
	q      querier
	tx     *sql.Tx
	conn   *sql.Conn
	dryRun bool
	done   bool
	// discard is set when the connection may still be inside the
	// transaction: close then keeps the pool from handing it out again.
	discard bool
	// prepared, when not nil, caches statements prepared in this
	// transaction: a batch runs the same few statements for every
	// customer, and parsing them is a good part of SQLite's work.
	prepared map[string]*sql.Stmt
	// writer is the store's SQLite writer queue, held until close.
	writer chan struct{}
}

// reusePrepared makes the transaction prepare each statement once.
func (t *txn) reusePrepared() { t.prepared = make(map[string]*sql.Stmt) }

func (t *txn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := t.prepared[query]; ok {
		return st, nil
	}
	st, err := t.q.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	t.prepared[query] = st
	return st, nil
}

// ctxCause reports a statement's failure after ctx ended as ctx's error:
// the failure is then the cancellation's doing (PostgreSQL's and MySQL's
// drivers cut the connection, and the next statement finds it bad), and
// callers must be able to tell a cancelled forget from a failed one.
func ctxCause(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (t *txn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if t.prepared == nil {
		r, err := t.q.ExecContext(ctx, query, args...)
		return r, ctxCause(ctx, err)
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, ctxCause(ctx, err)
	}
	r, err := st.ExecContext(ctx, args...)
	return r, ctxCause(ctx, err)
}

// queryRow returns a row whose Scan reports any error, as QueryRowContext's does.
func (t *txn) queryRow(ctx context.Context, query string, args ...any) rowScanner {
	if t.prepared == nil {
		return ctxRow{ctx, t.q.QueryRowContext(ctx, query, args...)}
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return errRow{ctxCause(ctx, err)}
	}
	return ctxRow{ctx, st.QueryRowContext(ctx, args...)}
}

// query runs a statement that returns rows.
func (t *txn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if t.prepared == nil {
		rows, err := t.q.QueryContext(ctx, query, args...)
		return rows, ctxCause(ctx, err)
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, ctxCause(ctx, err)
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, ctxCause(ctx, err)
}

type rowScanner interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type ctxRow struct {
	ctx context.Context
	row *sql.Row
}

func (r ctxRow) Scan(dest ...any) error { return ctxCause(r.ctx, r.row.Scan(dest...)) }

// begin starts a transaction, as the store's engine does. Dry runs take
// the same locks as forgets: they run the real statements, and must fail
// exactly when a forget would.
func (s *Store) begin(ctx context.Context, dryRun bool) (*txn, error) {
	return s.dialect.engine().begin(s, ctx, dryRun)
}

// takeWriterTurn waits for this store's turn to write to its SQLite
// database (see Store.writer), or for ctx to end. Take the turn before a
// connection, as begin does: a pool of one connection then cannot
// deadlock.
func (s *Store) takeWriterTurn(ctx context.Context) error {
	select {
	case s.writer <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// endWriterTurn lets the next writer of the store go.
func (s *Store) endWriterTurn() { <-s.writer }

// beginTx starts a *sql.Tx whose own context is never cancelled (its
// statements watch ctx): database/sql would otherwise roll it back, and
// the driver cut its COMMIT short, at any moment ctx ends. Like
// db.BeginTx, it tries other connections when the pool's is found dead.
func (s *Store) beginTx(ctx context.Context, dryRun bool) (*txn, error) {
	for attempt := 1; ; attempt++ {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: connect: %w", safeError(err))
		}
		tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
		if err == nil {
			return &txn{q: tx, tx: tx, conn: conn, dryRun: dryRun}, nil
		}
		conn.Close()
		if !errors.Is(err, driver.ErrBadConn) || attempt == 3 {
			return nil, fmt.Errorf("sqlstore: begin: %w", safeError(err))
		}
	}
}

// commit commits, unless ctx has ended: a cancelled forget stops before
// its COMMIT, never during it, so that its outcome is known.
func (t *txn) commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	if t.tx != nil {
		err = t.tx.Commit()
	} else {
		_, err = t.conn.ExecContext(context.WithoutCancel(ctx), "COMMIT")
	}
	if err == nil {
		t.done = true
	}
	return err
}

// rollback ends the transaction even when ctx is cancelled.
func (t *txn) rollback(ctx context.Context) {
	if t.done {
		return
	}
	t.done = true
	if t.tx != nil {
		t.tx.Rollback()
		return
	}
	ctx = context.WithoutCancel(ctx)
	if _, err := t.conn.ExecContext(ctx, "ROLLBACK"); err == nil {
		return
	}
	// SQLite may have rolled back already (a trigger's RAISE(ROLLBACK),
	// an interrupt, a full disk), and then ROLLBACK fails. BEGIN succeeds
	// only outside a transaction: it tells a clean connection from one
	// still inside the transaction.
	if _, err := t.conn.ExecContext(ctx, "BEGIN"); err == nil {
		if _, err := t.conn.ExecContext(ctx, "ROLLBACK"); err == nil {
			return
		}
	}
	t.discard = true
}

// close rolls back what is not done and releases the connection. It may
// be called more than once.
func (t *txn) close() {
	if t.writer != nil {
		defer func() {
			<-t.writer
			t.writer = nil
		}()
	}
	if !t.done {
		t.rollback(context.Background())
	}
	// Statements first: modernc.org/sqlite crashes finalising a statement
	// whose connection is already closed.
	for _, st := range t.prepared {
		st.Close()
	}
	clear(t.prepared)
	if t.conn == nil {
		return
	}
	if t.discard {
		t.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	t.conn.Close()
	t.conn = nil
}
