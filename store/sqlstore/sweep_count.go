package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The inactive customers a sweep reads, counted beforehand for its
// progress, and what reads them.

// inactiveQuerier is what selects inactive customers: the database, or,
// where the engine has a sweep plan (PostgreSQL's planner settings), a
// read-only transaction that runs it first.
func (s *Store) inactiveQuerier(ctx context.Context) (sweepQuerier, func(), error) {
	plan := s.dialect.engine().sweepPlan
	if len(plan) == 0 {
		return s.db, func() {}, nil
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: sweep: beginning the transaction that selects inactive customers: %w", s.scrubbedError(err))
	}
	for _, set := range plan {
		if _, err := tx.ExecContext(ctx, set); err != nil {
			tx.Rollback()
			return nil, nil, fmt.Errorf("sqlstore: sweep: %s before selecting inactive customers: %w", set, s.scrubbedError(err))
		}
	}
	return tx, func() { tx.Rollback() }, nil
}

type sweepQuerier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// CountInactive implements forget.InactiveCounter: one COUNT per
// activity column, each over the index range a sweep's pages read, with
// the same predicate (forgotten customers left out).
func (s *Store) CountInactive(ctx context.Context, cutoff time.Time) (int, error) {
	switch {
	case len(s.schema.Activity) == 0:
		return 0, errors.New("sqlstore: the mapping names no activity column (Schema.Activity): a sweep cannot tell who is inactive")
	case s.auditTable == "":
		return 0, errors.New("sqlstore: a sweep needs the audit trail (WithAudit) to tell whom it has already forgotten")
	}
	q, done, err := s.inactiveQuerier(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	total := 0
	for part := range s.schema.Activity {
		query, args := s.inactiveCountSQL(part, cutoff)
		var n int
		if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("sqlstore: sweep: counting inactive customers by %s.%s: %w", s.schema.Customers.Table, s.schema.Activity[part].Column, ctxCause(ctx, s.scrubbedError(err, args...)))
		}
		total += n
	}
	return total, nil
}

// inactiveCountSQL counts the customers of part (see CountInactive).
func (s *Store) inactiveCountSQL(part int, cutoff time.Time) (string, []any) {
	where, args := s.inactiveWhere(part, cutoff, sweepCursor{part: part}, false)
	return s.render(fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s", s.dialect.quote(s.schema.Customers.Table), where)), args
}
