package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// txn is a transaction: a *sql.Tx, or on SQLite a connection on which the
// store issued BEGIN IMMEDIATE itself, since database/sql cannot ask for
// an immediate transaction and a deferred one fails, rather than waits,
// when two writers both upgrade their locks.
type txn struct {
	q      querier
	tx     *sql.Tx
	conn   *sql.Conn
	dryRun bool
	done   bool
	// prepared, when not nil, caches statements prepared in this
	// transaction: a batch runs the same few statements for every
	// customer, and parsing them is a good part of SQLite's work.
	prepared map[string]*sql.Stmt
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

func (t *txn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if t.prepared == nil {
		return t.q.ExecContext(ctx, query, args...)
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// queryRow returns a row whose Scan reports any error, as QueryRowContext's does.
func (t *txn) queryRow(ctx context.Context, query string, args ...any) rowScanner {
	if t.prepared == nil {
		return t.q.QueryRowContext(ctx, query, args...)
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a statement that returns rows.
func (t *txn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if t.prepared == nil {
		return t.q.QueryContext(ctx, query, args...)
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

type rowScanner interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (s *Store) begin(ctx context.Context, dryRun bool) (*txn, error) {
	if s.dialect != SQLite {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: begin: %w", safeError(err))
		}
		return &txn{q: tx, tx: tx, dryRun: dryRun}, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: connect: %w", err)
	}
	begin := "BEGIN IMMEDIATE"
	if dryRun {
		begin = "BEGIN" // reads only: take no write lock
	}
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		conn.Close()
		return nil, fmt.Errorf("sqlstore: begin: %w", err)
	}
	return &txn{q: conn, conn: conn, dryRun: dryRun}, nil
}

func (t *txn) commit(ctx context.Context) error {
	var err error
	if t.tx != nil {
		err = t.tx.Commit()
	} else {
		_, err = t.conn.ExecContext(ctx, "COMMIT")
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
	if _, err := t.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
		// The connection may still be inside the transaction: make sure
		// the pool never hands it out again.
		t.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

func (t *txn) close() {
	for _, st := range t.prepared {
		st.Close()
	}
	if t.conn != nil {
		t.conn.Close()
	}
}
