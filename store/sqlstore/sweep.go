package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/forgetkit/forget"
)

var (
	_ forget.InactiveFinder  = (*Store)(nil)
	_ forget.InactiveCounter = (*Store)(nil)
)

// maxActivity bounds the activity columns: a sweep runs a statement per
// column.
const maxActivity = 8

// validateActivity checks the activity columns: plain columns of the
// customers table, each named once.
func (s Schema) validateActivity() []error {
	var errs []error
	if len(s.Activity) > maxActivity {
		errs = append(errs, fmt.Errorf("activity names %d columns; at most %d", len(s.Activity), maxActivity))
	}
	seen := map[string]bool{}
	for i, c := range s.Activity {
		what := fmt.Sprintf("activity column %d", i+1)
		if c.Table != "" && c.Table != s.Customers.Table {
			errs = append(errs, fmt.Errorf("%s: table %q is not the customers table %q; activity columns live in the customers table", what, clipName(c.Table), s.Customers.Table))
		}
		if !validIdent(c.Column) || strings.Contains(c.Column, ".") {
			errs = append(errs, fmt.Errorf("%s: column %q is not a plain identifier", what, clipName(c.Column)))
			continue
		}
		if c.Column == s.Customers.Key {
			errs = append(errs, fmt.Errorf("%s: %s is the customers key, not a time", what, c.Column))
		}
		if seen[strings.ToLower(c.Column)] {
			errs = append(errs, fmt.Errorf("%s: %s is named twice", what, c.Column))
		}
		seen[strings.ToLower(c.Column)] = true
	}
	return errs
}

// maxInactivePage bounds a page of [Store.Inactive].
const maxInactivePage = 10000

// Inactive implements forget.InactiveFinder over the mapping's activity
// columns (Schema.Activity). A customer is inactive when the latest of
// its non-NULL activity values is before cutoff; one whose values are all
// NULL is never swept. Customers are read in order of activity, then key,
// one statement per page, each an index range scan on one activity column
// (for the second column on, among customers whose earlier columns are
// NULL), so a sweep of millions reads each customer once.
//
// Whether a customer was already forgotten comes from the audit trail,
// which is why a sweep needs one (WithAudit): a customer with an erasure
// recorded at or after cutoff that kept nothing is skipped. Since the
// record is written in the erasure's own transaction, a sweep stopped at
// any point and run again forgets exactly the customers the first run did
// not; one erased with a keep list is erased again, in full.
//
// On MySQL a zero date (0000-00-00 00:00:00, which a non-strict session
// may store for "never") counts as NULL: no activity, so a customer
// whose activity columns hold only zero dates and NULLs is never swept.
//
// On SQLite the activity columns must hold times as text, in SQLite's own
// form ("2024-05-01 10:00:00", UTC) or ISO 8601: the cutoff is compared
// as text; a column holding numbers is refused.
func (s *Store) Inactive(ctx context.Context, cutoff time.Time, cursor string, limit int) ([]string, string, error) {
	switch {
	case len(s.schema.Activity) == 0:
		return nil, "", errors.New("sqlstore: the mapping names no activity column (Schema.Activity): a sweep cannot tell who is inactive")
	case s.auditTable == "":
		return nil, "", errors.New("sqlstore: a sweep needs the audit trail (WithAudit) to tell whom it has already forgotten")
	case limit < 1 || limit > maxInactivePage:
		return nil, "", fmt.Errorf("sqlstore: a page of inactive customers holds 1 to %d, not %d: %w", maxInactivePage, limit, forget.ErrInvalid)
	}
	cur, err := s.parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	if cursor == "" { // once a sweep, at its first page
		if err := s.dialect.engine().sweepCheck(s, ctx); err != nil {
			return nil, "", err
		}
	}
	for part := cur.part; part < len(s.schema.Activity); part++ {
		ids, last, err := s.inactivePart(ctx, part, cutoff, cur, limit)
		if err != nil {
			return nil, "", err
		}
		switch {
		case len(ids) == limit:
			return ids, last.encode(), nil
		case len(ids) > 0 && part+1 < len(s.schema.Activity):
			return ids, sweepCursor{part: part + 1}.encode(), nil
		case len(ids) > 0:
			return ids, "", nil
		}
		cur = sweepCursor{part: part + 1}
	}
	return nil, "", nil
}

// sweepCursor is where a sweep stands: in the part driven by activity
// column part, after the customer with activity value at and key key
// (none yet when at is nil).
type sweepCursor struct {
	part int
	at   any
	key  string
}

// encode renders the cursor as opaque text: part, then the activity
// value's type and the value and key in base64.
func (c sweepCursor) encode() string {
	if c.at == nil {
		return strconv.Itoa(c.part)
	}
	var tag, v string
	switch at := c.at.(type) {
	case time.Time:
		tag, v = "t", at.Format(time.RFC3339Nano)
	case int64:
		tag, v = "i", strconv.FormatInt(at, 10)
	case float64:
		tag, v = "f", strconv.FormatFloat(at, 'g', -1, 64)
	default:
		tag, v = "s", fmt.Sprint(at)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return strconv.Itoa(c.part) + "." + tag + "." + enc([]byte(v)) + "." + enc([]byte(c.key))
}

// cursorKey is a cursor's customer key as bound to the page's statement.
// A mapping may leave the key's type for Verify to learn, and until then
// it reads as an integer: a uuid or text key a page returned before
// Verify ran is taken as text.
func (s *Store) cursorKey(key string) (any, error) {
	k, err := parseKey(forget.KeyCustomerID, key, s.keyType(forget.KeyCustomerID))
	if err != nil && s.keys.Load() == nil && s.lookups[forget.KeyCustomerID].keyType == "" {
		return parseKey(forget.KeyCustomerID, key, KeyText)
	}
	return k, err
}

func (s *Store) parseCursor(text string) (sweepCursor, error) {
	bad := fmt.Errorf("sqlstore: malformed sweep cursor: %w", forget.ErrInvalid)
	if text == "" {
		return sweepCursor{}, nil
	}
	if len(text) > 2048 {
		return sweepCursor{}, bad
	}
	parts := strings.Split(text, ".")
	part, err := strconv.Atoi(parts[0])
	if err != nil || part < 0 || part >= len(s.schema.Activity) || (len(parts) != 1 && len(parts) != 4) {
		return sweepCursor{}, bad
	}
	c := sweepCursor{part: part}
	if len(parts) == 1 {
		return c, nil
	}
	v, err1 := base64.RawURLEncoding.DecodeString(parts[2])
	k, err2 := base64.RawURLEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return sweepCursor{}, bad
	}
	c.key = string(k)
	if _, err := s.cursorKey(c.key); err != nil {
		return sweepCursor{}, bad
	}
	switch parts[1] {
	case "t":
		c.at, err = time.Parse(time.RFC3339Nano, string(v))
	case "i":
		c.at, err = strconv.ParseInt(string(v), 10, 64)
	case "f":
		c.at, err = strconv.ParseFloat(string(v), 64)
	case "s":
		c.at = string(v)
	default:
		err = bad
	}
	if err != nil {
		return sweepCursor{}, bad
	}
	return c, nil
}

// inactivePart reads one page of the part driven by activity column
// part: customers whose earlier activity columns are NULL, whose column
// part is before cutoff, and whose later columns are NULL or before
// cutoff too.
func (s *Store) inactivePart(ctx context.Context, part int, cutoff time.Time, cur sweepCursor, limit int) ([]string, sweepCursor, error) {
	q, done, err := s.inactiveQuerier(ctx)
	if err != nil {
		return nil, sweepCursor{}, err
	}
	defer done()
	ids := make([]string, 0, limit)
	last := sweepCursor{part: part}
	read := func(query string, args []any) (err error) {
		defer func() { err = s.scrubbedError(err, args...) }()
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var act any
			if err := rows.Scan(&id, &act); err != nil {
				return err
			}
			if b, ok := act.([]byte); ok {
				act = string(b)
			}
			ids = append(ids, id)
			last.at, last.key = act, id
		}
		return rows.Err()
	}
	what := fmt.Sprintf("sqlstore: sweep: selecting inactive customers by %s.%s (and the audit table %s, for those forgotten already)", s.schema.Customers.Table, s.schema.Activity[part].Column, s.auditTable)
	if cur.part == part && cur.at != nil {
		if err := read(s.inactiveTiesSQL(part, cutoff, cur, limit)); err != nil {
			return nil, sweepCursor{}, fmt.Errorf("%s: %w", what, ctxCause(ctx, err))
		}
	}
	if len(ids) < limit {
		if err := read(s.inactiveSQL(part, cutoff, cur, limit-len(ids))); err != nil {
			return nil, sweepCursor{}, fmt.Errorf("%s: %w", what, ctxCause(ctx, err))
		}
	}
	return ids, last, nil
}

// A page after a cursor takes two statements: the customers sharing the
// cursor's activity value with a greater key (inactiveTiesSQL), then
// those with a later value (inactiveSQL). One statement with a row value,
// (activity, key) > (?, ?), is seeked by its first column only on SQLite
// and MySQL, and so reads every customer of a shared time again for each
// page: a sweep of a million customers last seen at one instant went
// quadratic.

// inactiveSQL selects a page of customers whose activity value is after
// the cursor's (or, with none, any).
func (s *Store) inactiveSQL(part int, cutoff time.Time, cur sweepCursor, limit int) (string, []any) {
	return s.pageSQL(part, cutoff, cur, false, limit)
}

// inactiveTiesSQL selects a page of the customers whose activity value is
// the cursor's, after its key.
func (s *Store) inactiveTiesSQL(part int, cutoff time.Time, cur sweepCursor, limit int) (string, []any) {
	return s.pageSQL(part, cutoff, cur, true, limit)
}

func (s *Store) pageSQL(part int, cutoff time.Time, cur sweepCursor, ties bool, limit int) (string, []any) {
	q := s.dialect.quote
	c := s.schema.Customers
	table := q(c.Table)
	col := table + "." + q(s.schema.Activity[part].Column)
	where, args := s.inactiveWhere(part, cutoff, cur, ties)
	selected := s.dialect.engine().storedTime(col)
	return s.render(fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s ORDER BY %s, %s",
		table+"."+q(c.Key), selected, table, where, col, table+"."+q(c.Key)) + s.dialect.engine().limit(limit)), args
}

// inactiveWhere is the condition of a page of part after cur (pageSQL),
// and of its count (inactiveCountSQL), with ? placeholders.
func (s *Store) inactiveWhere(part int, cutoff time.Time, cur sweepCursor, ties bool) (string, []any) {
	q := s.dialect.quote
	c := s.schema.Customers
	table := q(c.Table)
	col := func(i int) string { return table + "." + q(s.schema.Activity[i].Column) }
	key := table + "." + q(c.Key)
	at := s.dialect.timeArg(cutoff)
	var where []string
	var args []any
	where = append(where, col(part)+" < ?")
	args = append(args, at)
	least := s.dialect.engine().leastTime
	if least != "" {
		// A zero date (0000-00-00, legacy MySQL's "never") is no
		// activity: as NULL, never swept by it. Every real time is at
		// least 1000-01-01, DATETIME's least; the range stays one.
		where = append(where, col(part)+" >= "+least)
	}
	for i := range s.schema.Activity {
		switch {
		case i < part && least != "":
			where = append(where, "(COALESCE("+col(i)+", NULL) IS NULL OR "+col(i)+" < "+least+")")
		case i < part:
			// Not indexable on purpose: the planner must drive by the
			// range on column part, which gives the order too.
			where = append(where, "COALESCE("+col(i)+", NULL) IS NULL")
		case i > part:
			where = append(where, fmt.Sprintf("(%s IS NULL OR %s < ?)", col(i), col(i)))
			args = append(args, at)
		}
	}
	switch {
	case cur.part != part || cur.at == nil:
	case ties:
		// An equality and a range on the index on (activity, key).
		k, _ := s.cursorKey(cur.key)
		where = append(where, col(part)+" = ?", key+" > ?")
		args = append(args, cur.at, k)
	default:
		where = append(where, col(part)+" > ?")
		args = append(args, cur.at)
	}
	keyText := key
	if e := s.dialect.engine(); s.keyType(forget.KeyCustomerID) != KeyText || e.uuidNotText {
		keyText = "CAST(" + key + " AS " + e.textType + ")"
	}
	a := q(s.auditTable)
	// Only the customer_id term may use an index: a planner that
	// believes the (fast growing) audit table small would otherwise
	// read all its records since the cutoff through the index on at,
	// for every page.
	where = append(where, fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s WHERE %s.%s = %s AND %s.%s = '' AND %s.%s = '' AND %s.%s = '' AND COALESCE(%s.%s, '') >= ?)",
		a, a, q("customer_id"), keyText, a, q("held"), a, q("fields_kept"), a, q("tables_kept"), a, q("at")))
	args = append(args, cutoff.UTC().Format(auditTimeFormat))
	return strings.Join(where, " AND "), args
}

// sqliteTimeText is how a time kept as text starts.
var sqliteTimeText = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}`)

// checkActivityText refuses SQLite activity columns whose values are not
// times as text: the cutoff is compared as text, and a number is less
// than any text, so a column of Unix times would have everybody swept.
// Numbers sort before text and blobs after it, so the smallest and the
// largest value (two index lookups) tell.
func (s *Store) checkActivityText(ctx context.Context) error {
	q := s.dialect.quote
	table := s.schema.Customers.Table
	schema := "main"
	if i := strings.IndexByte(table, '.'); i >= 0 {
		schema, table = table[:i], table[i+1:]
	}
	for _, a := range s.schema.Activity {
		// SQLite reads a double-quoted name that is no column as a
		// string: ask the catalogue first.
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pragma_table_info(?, ?) WHERE name = ? COLLATE NOCASE", table, schema, a.Column).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: sweep: checking activity column %s in the catalogue: %w", a.Column, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlstore: activity column %s is not a column of %s", a.Column, s.schema.Customers.Table)
		}
		for _, order := range []string{"ASC", "DESC"} {
			query := fmt.Sprintf("SELECT typeof(%s), CAST(%s AS TEXT) FROM %s WHERE %s IS NOT NULL ORDER BY %s %s LIMIT 1",
				q(a.Column), q(a.Column), q(s.schema.Customers.Table), q(a.Column), q(a.Column), order)
			var typ, text string
			switch err := s.db.QueryRowContext(ctx, query).Scan(&typ, &text); {
			case errors.Is(err, sql.ErrNoRows):
				continue
			case err != nil:
				return fmt.Errorf("sqlstore: sweep: checking that activity column %s holds times as text: %w", a.Column, err)
			case typ != "text" || !sqliteTimeText.MatchString(text):
				return fmt.Errorf("sqlstore: activity column %s holds values that are not times as text (YYYY-MM-DD...); a sweep compares them with its cutoff as text, and refuses", a.Column)
			}
		}
	}
	return nil
}

// forgottenSince returns which of the customers (keys as text) the audit
// trail shows fully forgotten at or after cutoff, read in tx once their
// rows are locked: a sweep's forget checks again what its page was read
// by, so that two sweeps at once never erase a customer twice. The lock
// makes the check exact: a forget of the customer by another transaction
// committed before it was granted, or waits for this one. PostgreSQL
// (read committed) and SQLite (BEGIN IMMEDIATE) then read that commit;
// MySQL's repeatable read would read the transaction's first snapshot,
// so there the read is a locking one, which reads the latest. Its gap
// locks can deadlock with another forget's audit INSERT; MySQL then
// aborts one transaction, which the store retries (Dialect.retryable).
func (s *Store) forgottenSince(ctx context.Context, tx *txn, texts []string, cutoff time.Time) (map[string]bool, error) {
	return s.fullyForgotten(ctx, tx, texts, cutoff, true)
}

// fullyForgotten is forgottenSince, whose read on MySQL is a locking one
// when lock is set. Without it a record committed meanwhile may be
// missed, which a repeat's check can afford: it then sends an event.
func (s *Store) fullyForgotten(ctx context.Context, tx *txn, texts []string, cutoff time.Time, lock bool) (map[string]bool, error) {
	done := make(map[string]bool)
	if s.auditTable == "" || cutoff.IsZero() || len(texts) == 0 {
		return done, nil
	}
	q := s.dialect.quote
	per := s.dialect.maxParams() - 1
	for start := 0; start < len(texts); start += per {
		part := texts[start:min(start+per, len(texts))]
		query := fmt.Sprintf("SELECT DISTINCT %s FROM %s WHERE %s IN (%s) AND %s = '' AND %s = '' AND %s = '' AND COALESCE(%s, '') >= ?",
			q("customer_id"), q(s.auditTable), q("customer_id"), qmarks(len(part)), q("held"), q("fields_kept"), q("tables_kept"), q("at"))
		if lock {
			query += s.dialect.engine().shareLock
		}
		args := make([]any, 0, len(part)+1)
		for _, t := range part {
			args = append(args, t)
		}
		args = append(args, cutoff.UTC().Format(auditTimeFormat))
		rows, err := tx.query(ctx, s.render(query), args...)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: sweep: checking the audit table %s for customers forgotten meanwhile: %w", s.auditTable, s.scrubbedError(err, args...))
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlstore: sweep: checking the audit table %s for customers forgotten meanwhile: %w", s.auditTable, s.scrubbedError(err, args...))
			}
			done[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlstore: sweep: checking the audit table %s for customers forgotten meanwhile: %w", s.auditTable, ctxCause(ctx, s.scrubbedError(err, args...)))
		}
	}
	return done, nil
}

// forgotten skips, with forget.ErrAlreadyForgotten, the customers of a
// sweep's group that another sweep forgot meanwhile (see forgottenSince).
func (b *bulkRun) forgotten(ctx context.Context) error {
	bySince := make(map[time.Time][]int)
	for j := range b.group {
		if since := b.plan(j).UnlessForgottenSince; b.ids[j] != nil && !since.IsZero() {
			bySince[since] = append(bySince[since], j)
		}
	}
	for since, js := range bySince {
		texts := make([]string, len(js))
		for i, j := range js {
			texts[i] = b.texts[j]
		}
		done, err := b.s.forgottenSince(ctx, b.tx, texts, since)
		if err != nil {
			return err
		}
		for _, j := range js {
			if done[b.texts[j]] {
				b.ids[j] = nil
				b.results[j].Err = forget.ErrAlreadyForgotten
			}
		}
	}
	return nil
}
