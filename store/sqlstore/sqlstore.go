// Package sqlstore is a forget.Store over a database/sql database the host
// owns: SQLite, PostgreSQL or MySQL/MariaDB.
//
// A forget is one transaction: one statement per lookup key given, a lock
// on the customer row, one UPDATE per table holding erased fields, one
// DELETE (or UPDATE, for scrubbed tables) per purged table. Every
// statement is keyed, so with the indexes [DDL] creates each is an index
// lookup. Statements are built with squirrel; identifiers come only from
// the [Schema], checked and quoted when the store is built; request values
// are only ever bound parameters.
//
//	db, _ := sql.Open("sqlite", "file:app.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
//	store, err := sqlstore.New(db, sqlstore.SQLite)
//	f, err := forget.New(store)
//
// This package imports no SQLite or PostgreSQL driver: the host registers
// the one it uses. It imports go-sql-driver/mysql to recognise MySQL's
// deadlocks and to keep its error messages, which quote values, out of
// logs.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// Store is a forget.Store over a *sql.DB. It is safe for concurrent use.
type Store struct {
	db       *sql.DB
	dialect  Dialect
	schema   Schema
	sb       sq.StatementBuilderType
	attempts int
}

var (
	_ forget.Store            = (*Store)(nil)
	_ forget.CatalogueChecker = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithSchema maps a schema other than [DefaultSchema].
func WithSchema(s Schema) Option { return func(st *Store) { st.schema = s } }

// WithAttempts sets how many times a forget is tried when the database
// aborts it for a deadlock, a serialisation failure or a busy lock; the
// default is 5. Each try is a whole new transaction, so retrying is safe.
func WithAttempts(n int) Option { return func(st *Store) { st.attempts = n } }

// New returns a Store over db, which the host keeps owning (New never
// closes it). It fails when the dialect is unknown or the schema invalid.
func New(db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: New needs a *sql.DB")
	}
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", d)
	}
	s := &Store{db: db, dialect: d, schema: DefaultSchema(), attempts: 5}
	for _, opt := range opts {
		opt(s)
	}
	if s.attempts < 1 {
		return nil, fmt.Errorf("sqlstore: attempts must be at least 1, not %d", s.attempts)
	}
	if err := s.schema.Validate(); err != nil {
		return nil, err
	}
	s.schema = s.schema.clone()
	s.sb = sq.StatementBuilder.PlaceholderFormat(d.placeholder())
	return s, nil
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// CheckCatalogue implements forget.CatalogueChecker: every catalogue entry
// must be mapped or declared absent, and the schema may map nothing the
// catalogue lacks.
func (s *Store) CheckCatalogue(cat forget.Catalogue) error { return s.schema.check(cat) }

// Forget implements forget.Store.
func (s *Store) Forget(ctx context.Context, l forget.Lookup, p forget.Plan) (forget.Result, error) {
	keys, err := s.lookupKeys(l)
	if err != nil {
		return forget.Result{}, err
	}
	stmts, err := s.statements(p)
	if err != nil {
		return forget.Result{}, err
	}
	for attempt := 1; ; attempt++ {
		res, err := s.forgetOnce(ctx, keys, stmts, p.DryRun)
		if err == nil || attempt >= s.attempts || !s.dialect.retryable(err) {
			return res, err
		}
		// Back off with jitter so that the transactions that collided
		// do not collide again.
		wait := time.Duration(1<<attempt)*5*time.Millisecond + rand.N(10*time.Millisecond)
		select {
		case <-ctx.Done():
			return forget.Result{}, err
		case <-time.After(wait):
		}
	}
}

// lookupKey is one checked lookup key and the statement that resolves it.
type lookupKey struct {
	name  string
	value any // int64 or string, bound as a parameter
	table string
	key   string
	cust  string // the column holding the customer key
}

func (s *Store) lookupKeys(l forget.Lookup) ([]lookupKey, error) {
	var keys []lookupKey
	err := l.Keys(func(name, v string) error {
		var lt LookupTable
		switch name {
		case forget.KeyCustomerID:
			c := s.schema.Customers
			lt = LookupTable{Table: c.Table, Key: c.Key, KeyType: c.KeyType, CustomerKey: c.Key}
		case forget.KeySubscriptionID, forget.KeyOrderID:
			t := s.schema.Subscriptions
			if name == forget.KeyOrderID {
				t = s.schema.Orders
			}
			if t == nil {
				return &forget.KeyError{Key: name, Reason: "lookups are not supported by this database"}
			}
			lt = *t
		}
		val, err := parseKey(name, v, lt.KeyType)
		if err != nil {
			return err
		}
		keys = append(keys, lookupKey{name: name, value: val, table: lt.Table, key: lt.Key, cust: lt.CustomerKey})
		return nil
	})
	return keys, err
}

func parseKey(name, v string, t KeyType) (any, error) {
	if t == KeyText {
		return v, nil
	}
	return forget.ParseIntKey(name, v)
}

// statement is one keyed write (or, in a dry run, count) of a plan.
type statement struct {
	table  forget.Table // the catalogue table whose rows it counts; "" for field updates
	sql    string       // with the customer key as its last parameter
	args   []any
	isDel  bool
	counts bool // whether its rows affected go in the result
}

// statements builds the plan's writes, the customer key left as a final
// placeholder. Fields are grouped by table in catalogue order, so a plan
// always yields the same statements in the same order.
func (s *Store) statements(p forget.Plan) ([]statement, error) {
	var out []statement
	var tables []string
	sets := make(map[string][]forget.Assignment)
	absent := make(map[string]bool, len(s.schema.Absent))
	for _, a := range s.schema.Absent {
		absent[a] = true
	}
	for _, a := range p.Fields {
		col, ok := s.schema.Fields[a.Field]
		if !ok {
			if absent[string(a.Field)] {
				continue
			}
			return nil, fmt.Errorf("sqlstore: field %s is not mapped", a.Field)
		}
		if _, seen := sets[col.Table]; !seen {
			tables = append(tables, col.Table)
		}
		sets[col.Table] = append(sets[col.Table], a)
	}
	for _, table := range tables {
		if p.DryRun {
			break // a dry run only counts rows
		}
		key := s.schema.Customers.Key
		if table != s.schema.Customers.Table {
			key = s.schema.Joined[table]
		}
		u := s.sb.Update(s.dialect.quote(table))
		for _, a := range sets[table] {
			u = u.Set(s.dialect.quote(s.schema.Fields[a.Field].Column), sqlValue(a.Value))
		}
		st, err := s.keyed(u.Where(sq.Eq{s.dialect.quote(key): keyPlaceholder{}}))
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	for _, t := range p.Tables {
		rt, ok := s.schema.Tables[t.Table]
		if !ok {
			if absent[string(t.Table)] {
				continue
			}
			return nil, fmt.Errorf("sqlstore: table %s is not mapped", t.Table)
		}
		where := sq.Eq{s.dialect.quote(rt.CustomerKey): keyPlaceholder{}}
		var b sq.Sqlizer
		switch {
		case p.DryRun:
			b = s.sb.Select("COUNT(*)").From(s.dialect.quote(rt.Table)).Where(where)
		case len(t.Scrub) > 0:
			u := s.sb.Update(s.dialect.quote(rt.Table))
			for _, c := range t.Scrub {
				u = u.Set(s.dialect.quote(c.Column), sqlValue(c.Value))
			}
			b = u.Where(where)
		default:
			b = s.sb.Delete(s.dialect.quote(rt.Table)).Where(where)
		}
		st, err := s.keyed(b)
		if err != nil {
			return nil, err
		}
		st.table, st.counts, st.isDel = t.Table, true, !p.DryRun && len(t.Scrub) == 0
		out = append(out, st)
	}
	return out, nil
}

// keyPlaceholder marks where the customer key is bound once it is known.
type keyPlaceholder struct{}

// keyed renders a statement and refuses it unless it is restricted by the
// customer key: squirrel renders an empty Eq as (1=1), and a DELETE with
// no WHERE is valid SQL that would empty the table.
func (s *Store) keyed(b sq.Sqlizer) (statement, error) {
	query, args, err := b.ToSql()
	if err != nil {
		return statement{}, fmt.Errorf("sqlstore: build statement: %w", err)
	}
	if len(args) == 0 || args[len(args)-1] != (keyPlaceholder{}) || !strings.Contains(query, " WHERE ") || strings.Contains(query, "(1=1)") {
		return statement{}, errors.New("sqlstore: refusing a statement without a customer key predicate")
	}
	return statement{sql: query, args: args}, nil
}

func sqlValue(v forget.Value) any {
	if v.Null {
		return nil
	}
	return v.String
}

// forgetOnce is one attempt: one transaction, committed or rolled back.
func (s *Store) forgetOnce(ctx context.Context, keys []lookupKey, stmts []statement, dryRun bool) (res forget.Result, err error) {
	tx, err := s.begin(ctx, dryRun)
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil || dryRun {
			tx.rollback(ctx)
		}
		tx.close()
	}()
	id, err := s.resolve(ctx, tx, keys, !dryRun)
	if err != nil {
		return res, err
	}
	res = forget.Result{CustomerID: fmt.Sprint(id), Rows: make(map[forget.Table]int64)}
	for _, st := range stmts {
		args := append(st.args[:len(st.args)-1:len(st.args)-1], id)
		var n int64
		if dryRun && st.counts {
			err = tx.q.QueryRowContext(ctx, st.sql, args...).Scan(&n)
		} else {
			var r sql.Result
			r, err = tx.q.ExecContext(ctx, st.sql, args...)
			if err == nil && st.counts {
				n, err = r.RowsAffected()
			}
		}
		if err != nil {
			return forget.Result{}, fmt.Errorf("sqlstore: %s: %w", verb(st), safeError(err))
		}
		if st.counts {
			res.Rows[st.table] = n
		}
	}
	if dryRun {
		return res, nil
	}
	if err = tx.commit(ctx); err != nil {
		return forget.Result{}, fmt.Errorf("sqlstore: commit: %w", safeError(err))
	}
	return res, nil
}

func verb(st statement) string {
	if i := strings.IndexByte(st.sql, ' '); i > 0 {
		return strings.ToLower(st.sql[:i])
	}
	return "statement"
}

// resolve finds the one customer every key names, and locks its row.
// It returns the key in the form the customers table holds it.
func (s *Store) resolve(ctx context.Context, tx *txn, keys []lookupKey, lock bool) (any, error) {
	var id any
	var idText string
	locked := false
	for _, k := range keys {
		isCustomer := k.name == forget.KeyCustomerID
		got, err := s.queryKey(ctx, tx, k.table, k.cust, k.key, k.value, lock && isCustomer)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: resolve %s: %w", k.name, safeError(err))
		}
		if got == nil {
			return nil, fmt.Errorf("sqlstore: %s: %w", k.name, forget.ErrNotFound)
		}
		if id != nil && *got != idText {
			return nil, fmt.Errorf("sqlstore: %s: %w", k.name, forget.ErrConflict)
		}
		locked = locked || isCustomer
		idText = *got
		if id == nil {
			if id, err = parseKey(forget.KeyCustomerID, idText, s.schema.Customers.KeyType); err != nil {
				return nil, fmt.Errorf("sqlstore: %s names a malformed customer key", k.name)
			}
		}
	}
	if !locked {
		// The lookup tables named the customer; lock its row, which also
		// proves it exists.
		c := s.schema.Customers
		got, err := s.queryKey(ctx, tx, c.Table, c.Key, c.Key, id, lock)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: lock customer: %w", safeError(err))
		}
		if got == nil {
			return nil, fmt.Errorf("sqlstore: customer of %s: %w", keys[0].name, forget.ErrNotFound)
		}
	}
	return id, nil
}

// queryKey selects column cust from table where key = value, or nil when
// no row matches.
func (s *Store) queryKey(ctx context.Context, tx *txn, table, cust, key string, value any, lock bool) (*string, error) {
	b := s.sb.Select(s.dialect.quote(cust)).From(s.dialect.quote(table)).Where(sq.Eq{s.dialect.quote(key): value})
	if lock && s.dialect.lockSuffix() != "" {
		b = b.Suffix(s.dialect.lockSuffix())
	}
	query, args, err := b.ToSql()
	if err != nil {
		return nil, err
	}
	var got sql.NullString
	switch err := tx.q.QueryRowContext(ctx, query, args...).Scan(&got); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, err
	case !got.Valid:
		return nil, nil
	}
	return &got.String, nil
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// txn is a transaction: a *sql.Tx, or on SQLite a connection on which the
// store issued BEGIN IMMEDIATE itself, since database/sql cannot ask for
// an immediate transaction and a deferred one fails, rather than waits,
// when two writers both upgrade their locks.
type txn struct {
	q    querier
	tx   *sql.Tx
	conn *sql.Conn
	done bool
}

func (s *Store) begin(ctx context.Context, dryRun bool) (*txn, error) {
	if s.dialect != SQLite {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: begin: %w", safeError(err))
		}
		return &txn{q: tx, tx: tx}, nil
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
	return &txn{q: conn, conn: conn}, nil
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
	if t.conn != nil {
		t.conn.Close()
	}
}
