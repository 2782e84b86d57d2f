package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// The audit table is the outbox: each committed forget's record is its
// event, written in the forget's transaction, and published_at stays NULL
// until a relay has had the broker acknowledge it.

var (
	_ forget.Outbox      = (*Store)(nil)
	_ forget.OutboxStats = (*Store)(nil)
)

// eventColumns are the audit columns an event is read from.
var eventColumns = []string{"audit_id", "event_id", "customer_id", "at", "principal", "request_id", "fields_erased", "fields_kept", "tables_kept", "rows_deleted", "rows_scrubbed", "holds_ignored", "published_at", "certificate"}

// Bounds on what one call reads: a claim is a relay's batch, and a
// customer forgotten over and over should not make a status call read
// without end.
const (
	maxClaim          = 10000
	maxCustomerEvents = 1000
)

// errNoOutbox is returned when the store keeps no audit table.
var errNoOutbox = errors.New("sqlstore: the store keeps no outbox: events are written to the audit table (see WithAudit)")

// ClaimEvents implements forget.Outbox.
//
// On PostgreSQL and MySQL/MariaDB the claim is a READ COMMITTED
// transaction holding the claimed rows with SELECT ... FOR UPDATE SKIP
// LOCKED, so that relays running side by side share the events without
// publishing one twice, and never block a forget. Only a customer's
// oldest unpublished event may be claimed; the next one becomes claimable
// when that one is marked published, which keeps each customer's events
// in commit order however many relays run.
//
// SQLite has one writer: a claim takes no lock, and MarkPublished writes
// in a short BEGIN IMMEDIATE transaction, so that a relay never holds the
// database while it waits for the broker. Relays running side by side on
// one SQLite database may publish an event twice, which the broker drops
// (the event id is the message id): run one.
func (s *Store) ClaimEvents(ctx context.Context, limit int) (forget.EventClaim, error) {
	if s.auditTable == "" {
		return nil, errNoOutbox
	}
	if limit < 1 || limit > maxClaim {
		return nil, fmt.Errorf("sqlstore: claim between 1 and %d events, not %d: %w", maxClaim, limit, forget.ErrInvalid)
	}
	return s.dialect.engine().claim(s, ctx, limit)
}

// heads selects the unpublished events that are their customer's oldest
// unpublished one, oldest first.
func (s *Store) heads(cols []string, limit int) sq.SelectBuilder {
	q, t := s.dialect.quote, s.dialect.quote(s.auditTable)
	qcols := make([]string, len(cols))
	for i, c := range cols {
		qcols[i] = "a." + q(c)
	}
	// held = '': a refusal is no event, and its published_at stays NULL.
	// A literal, not a parameter, so that the planner matches the
	// partial index AuditDDL makes.
	earlier := fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s b WHERE b.%s = a.%s AND b.%s IS NULL AND b.%s = '' AND b.%s < a.%s)",
		t, q("customer_id"), q("customer_id"), q("published_at"), q("held"), q("audit_id"), q("audit_id"))
	return s.sb.Select(qcols...).From(t + " a").
		Where("a." + q("published_at") + " IS NULL AND a." + q("held") + " = ''").
		Where(earlier).
		OrderBy("a." + q("audit_id")).
		Limit(uint64(limit))
}

func (s *Store) claimSQLite(ctx context.Context, limit int) (forget.EventClaim, error) {
	query, args, err := s.heads(eventColumns, limit).ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim events: %w", safeError(err))
	}
	c := &claim{s: s}
	if err := c.scan(rows); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Store) claimLocked(ctx context.Context, limit int) (forget.EventClaim, error) {
	// The claim outlives this call (the relay publishes, then marks), so
	// its transaction is not tied to ctx; its statements are.
	tx, err := s.db.BeginTx(context.Background(), &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim events: begin: %w", safeError(err))
	}
	c := &claim{s: s, tx: tx}
	// SKIP LOCKED passes over the events other relays hold, on to the
	// next ones. An event published meanwhile is not returned: the
	// locking read sees the latest committed row and checks it again.
	// The NOT EXISTS subquery is not a locking read, so a customer's
	// first event, held by another relay, still hides the second.
	query, args, err := s.heads(eventColumns, limit).Suffix("FOR UPDATE SKIP LOCKED").ToSql()
	if err != nil {
		c.Release()
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		c.Release()
		return nil, fmt.Errorf("sqlstore: claim events: %w", safeError(err))
	}
	if err := c.scan(rows); err != nil {
		c.Release()
		return nil, err
	}
	if len(c.events) == 0 {
		c.Release() // hold no transaction for nothing
	}
	return c, nil
}

// claim is a forget.EventClaim on the audit table.
type claim struct {
	s      *Store
	tx     *sql.Tx // nil on SQLite, and once ended
	events []forget.Event
	ids    map[string]int64 // event id → audit_id
	ended  bool
}

func (c *claim) Events() []forget.Event { return c.events }

// scan reads events and closes rows.
func (c *claim) scan(rows *sql.Rows) error {
	events, ids, err := scanEvents(rows)
	if err != nil {
		return err
	}
	c.events, c.ids = events, ids
	return nil
}

func (c *claim) Release() {
	if c.ended {
		return
	}
	c.ended = true
	if c.tx != nil {
		c.tx.Rollback()
	}
}

func (c *claim) MarkPublished(ctx context.Context, eventIDs []string, at time.Time) error {
	var ids []int64
	for _, e := range eventIDs {
		id, ok := c.ids[e]
		if !ok {
			c.Release()
			return fmt.Errorf("sqlstore: mark published: an event id is not of this claim: %w", forget.ErrInvalid)
		}
		ids = append(ids, id)
	}
	if c.ended {
		if len(c.events) == 0 {
			return nil // a claim of nothing ends at once
		}
		return errors.New("sqlstore: mark published: the claim has ended")
	}
	c.ended = true
	if c.tx == nil {
		if len(ids) == 0 {
			return nil
		}
		return c.s.retry(ctx, func() error { return c.s.markSQLite(ctx, ids, at) })
	}
	defer c.tx.Rollback() // after Commit, a no-op
	if len(ids) > 0 {
		query, args, err := c.s.markPublished(ids, at)
		if err != nil {
			return err
		}
		if _, err := c.tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("sqlstore: mark published: %w", safeError(err))
		}
	}
	if err := ctx.Err(); err != nil {
		return err // stop before COMMIT, never during it
	}
	if err := c.tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: mark published: commit: %w", safeError(err))
	}
	return nil
}

// markPublished builds the UPDATE that marks events published. The
// published_at IS NULL condition keeps the first publication's time when
// two SQLite relays publish one event.
func (s *Store) markPublished(ids []int64, at time.Time) (string, []any, error) {
	q := s.dialect.quote
	return s.sb.Update(q(s.auditTable)).
		Set(q("published_at"), at.UTC().Format(auditTimeFormat)).
		Where(sq.Eq{q("audit_id"): ids}).
		Where(q("published_at") + " IS NULL").ToSql()
}

// markSQLite marks events published in a transaction of its own: BEGIN
// IMMEDIATE queues behind forgets instead of failing to upgrade its lock.
func (s *Store) markSQLite(ctx context.Context, ids []int64, at time.Time) (err error) {
	query, args, err := s.markPublished(ids, at)
	if err != nil {
		return err
	}
	tx, err := s.begin(ctx, false)
	if err != nil {
		return err
	}
	defer tx.close()
	if _, err := tx.exec(ctx, query, args...); err != nil {
		return fmt.Errorf("sqlstore: mark published: %w", err)
	}
	if err := tx.commit(ctx); err != nil {
		return fmt.Errorf("sqlstore: mark published: commit: %w", err)
	}
	return nil
}

// CustomerEvents implements forget.Outbox: the customer's events, oldest
// first, at most the latest 1,000. Refusals are not events.
func (s *Store) CustomerEvents(ctx context.Context, customerID string) ([]forget.Event, error) {
	if s.auditTable == "" {
		return nil, errNoOutbox
	}
	if customerID == "" {
		return nil, fmt.Errorf("sqlstore: customer events: no customer id: %w", forget.ErrInvalid)
	}
	if len(customerID) > auditColumnLen("customer_id") {
		return nil, nil // longer than any recorded id
	}
	q := s.dialect.quote
	qcols := make([]string, len(eventColumns))
	for i, col := range eventColumns {
		qcols[i] = q(col)
	}
	query, args, err := s.sb.Select(qcols...).From(q(s.auditTable)).
		Where(sq.Eq{q("customer_id"): customerID, q("held"): ""}).
		OrderBy(q("audit_id") + " DESC").
		Limit(maxCustomerEvents).ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: customer events: %w", safeError(err))
	}
	events, _, err := scanEvents(rows)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
		events[i], events[j] = events[j], events[i]
	}
	return events, nil
}

// scanEvents reads rows of eventColumns and closes them. Its errors name
// a record by its position in the table, never by what it holds.
func scanEvents(rows *sql.Rows) ([]forget.Event, map[string]int64, error) {
	defer rows.Close()
	var events []forget.Event
	ids := make(map[string]int64)
	for rows.Next() {
		var (
			id                                                       int64
			ev                                                       forget.Event
			at, erased, kept, tablesKept, deleted, scrubbed, ignored string
			published, cert                                          sql.NullString
		)
		if err := rows.Scan(&id, &ev.EventID, &ev.CustomerID, &at, &ev.Principal, &ev.RequestID, &erased, &kept, &tablesKept, &deleted, &scrubbed, &ignored, &published, &cert); err != nil {
			return nil, nil, fmt.Errorf("sqlstore: read events: %w", safeError(err))
		}
		bad := func(what string, err error) error {
			return fmt.Errorf("sqlstore: audit record %d: bad %s: %w", id, what, err)
		}
		var err error
		if ev.At, err = time.Parse(auditTimeFormat, at); err != nil {
			return nil, nil, bad("time", err)
		}
		if published.Valid {
			if ev.PublishedAt, err = time.Parse(auditTimeFormat, published.String); err != nil {
				return nil, nil, bad("publication time", err)
			}
		}
		ev.FieldsErased, ev.FieldsKept, ev.TablesKept = splitNames[forget.Field](erased), splitNames[forget.Field](kept), splitNames[forget.Table](tablesKept)
		if ignored != "" {
			ev.HoldsIgnored = splitNames[string](ignored)
		}
		if err := json.Unmarshal([]byte(deleted), &ev.RowsDeleted); err != nil {
			return nil, nil, bad("row counts", err)
		}
		if err := json.Unmarshal([]byte(scrubbed), &ev.RowsScrubbed); err != nil {
			return nil, nil, bad("row counts", err)
		}
		if err := scanCertificate(cert, &ev.Receipt); err != nil {
			return nil, nil, bad("certificate", err)
		}
		events = append(events, ev)
		ids[ev.EventID] = id
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("sqlstore: read events: %w", safeError(err))
	}
	return events, ids, nil
}

// Backlog implements forget.OutboxStats: a count and the oldest event's
// time, both read through the partial index of unpublished events
// (AuditDDL's _unpublished), so that a scrape costs the backlog, not the
// table.
func (s *Store) Backlog(ctx context.Context) (forget.Backlog, error) {
	if s.auditTable == "" {
		return forget.Backlog{}, errNoOutbox
	}
	q, t := s.dialect.quote, s.dialect.quote(s.auditTable)
	// Literals, not parameters, as in heads: the planner matches them to
	// the partial index.
	pending := q("published_at") + " IS NULL AND " + q("held") + " = ''"
	query, args, err := s.sb.Select("COUNT(*)").From(t).Where(pending).ToSql()
	if err != nil {
		return forget.Backlog{}, err
	}
	var b forget.Backlog
	if err := s.db.QueryRowContext(ctx, query, args...).Scan(&b.Pending); err != nil {
		return forget.Backlog{}, fmt.Errorf("sqlstore: outbox backlog: %w", safeError(err))
	}
	if b.Pending == 0 {
		return b, nil
	}
	query, args, err = s.sb.Select(q("at")).From(t).Where(pending).OrderBy(q("audit_id")).Limit(1).ToSql()
	if err != nil {
		return forget.Backlog{}, err
	}
	var at string
	switch err := s.db.QueryRowContext(ctx, query, args...).Scan(&at); {
	case errors.Is(err, sql.ErrNoRows):
		return forget.Backlog{}, nil // published between the two reads
	case err != nil:
		return forget.Backlog{}, fmt.Errorf("sqlstore: outbox backlog: %w", safeError(err))
	}
	if b.Oldest, err = time.Parse(auditTimeFormat, at); err != nil {
		return forget.Backlog{}, fmt.Errorf("sqlstore: outbox backlog: bad time of the oldest event: %w", err)
	}
	return b, nil
}
