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
	"sync"
	"time"
	"unicode/utf8"

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
	batch    int
	absent   map[string]bool
	lookups  map[string]lookupSQL // by lookup key name

	auditTable  string
	auditInsert string

	mu      sync.RWMutex
	scripts map[string]*script // by plan shape: squirrel builds each once
}

// maxScripts bounds the cache of plan shapes; a shape beyond it is built
// every time, correct but slower.
const maxScripts = 256

var (
	_ forget.Store            = (*Store)(nil)
	_ forget.BatchStore       = (*Store)(nil)
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

// WithBatchSize sets how many forgets of a batch share one transaction,
// each in a savepoint of its own; the default is 100. Larger groups pay
// for fewer commits but hold their row locks longer.
func WithBatchSize(n int) Option { return func(st *Store) { st.batch = n } }

// New returns a Store over db, which the host keeps owning (New never
// closes it). It fails when the dialect is unknown or the schema invalid.
func New(db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: New needs a *sql.DB")
	}
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", d)
	}
	s := &Store{db: db, dialect: d, schema: DefaultSchema(), attempts: 5, batch: 100}
	for _, opt := range opts {
		opt(s)
	}
	if s.attempts < 1 {
		return nil, fmt.Errorf("sqlstore: attempts must be at least 1, not %d", s.attempts)
	}
	if s.batch < 1 {
		return nil, fmt.Errorf("sqlstore: batch size must be at least 1, not %d", s.batch)
	}
	if err := s.schema.Validate(); err != nil {
		return nil, err
	}
	s.schema = s.schema.clone()
	s.sb = sq.StatementBuilder.PlaceholderFormat(d.placeholder())
	s.absent = make(map[string]bool, len(s.schema.Absent))
	for _, a := range s.schema.Absent {
		s.absent[a] = true
	}
	s.scripts = make(map[string]*script)
	if err := s.buildLookups(); err != nil {
		return nil, err
	}
	if err := s.buildAudit(); err != nil {
		return nil, err
	}
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
	sc, err := s.script(p)
	if err != nil {
		return forget.Result{}, err
	}
	var res forget.Result
	err = s.retry(ctx, func() error {
		var err error
		res, err = s.forgetOnce(ctx, keys, sc, p)
		return err
	})
	return res, err
}

// retry runs one transaction, again when the database aborted it for a
// reason that retrying may cure.
func (s *Store) retry(ctx context.Context, txn func() error) error {
	for attempt := 1; ; attempt++ {
		err := txn()
		if err == nil || attempt >= s.attempts || !s.dialect.retryable(err) {
			return err
		}
		// Back off with jitter so that the transactions that collided
		// do not collide again.
		wait := time.Duration(1<<attempt)*5*time.Millisecond + rand.N(10*time.Millisecond)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// ForgetBatch implements forget.BatchStore: items share transactions of
// up to the batch size, each in a savepoint, so one item's failure rolls
// back that item alone. A group that fails as a whole (its commit, say)
// fails every item of it that had not failed on its own.
func (s *Store) ForgetBatch(ctx context.Context, items []forget.BatchItem) []forget.BatchOutcome {
	out := make([]forget.BatchOutcome, len(items))
	type ready struct {
		at   int
		keys []lookupKey
		sc   *script
	}
	var group []ready
	flush := func() {
		if len(group) == 0 {
			return
		}
		results := make([]forget.BatchOutcome, len(group))
		err := s.retry(ctx, func() error {
			clear(results)
			tx, err := s.begin(ctx, items[group[0].at].Plan.DryRun)
			if err != nil {
				return err
			}
			tx.reusePrepared()
			return s.groupOnce(ctx, tx, len(group), func(j int) (forget.Result, error) {
				r := group[j]
				return s.apply(ctx, tx, r.keys, r.sc, items[r.at].Plan)
			}, results)
		})
		for j, r := range group {
			out[r.at] = results[j]
			if err != nil && (results[j].Err == nil || !isRequestError(results[j].Err)) {
				out[r.at] = forget.BatchOutcome{Err: err}
			}
		}
		group = group[:0]
	}
	for i, it := range items {
		keys, err := s.lookupKeys(it.Lookup)
		if err != nil {
			out[i].Err = err
			continue
		}
		sc, err := s.script(it.Plan)
		if err != nil {
			out[i].Err = err
			continue
		}
		group = append(group, ready{at: i, keys: keys, sc: sc})
		if len(group) == s.batch {
			flush()
		}
	}
	flush()
	return out
}

// groupOnce applies n items in tx, each inside a savepoint, and commits
// (or, for a dry run, rolls back). An item's own failure is rolled back to
// its savepoint and recorded in results; a failure of the transaction
// itself is returned.
func (s *Store) groupOnce(ctx context.Context, tx *txn, n int, item func(int) (forget.Result, error), results []forget.BatchOutcome) (err error) {
	defer func() {
		if err != nil || tx.dryRun {
			tx.rollback(ctx)
		}
		tx.close()
	}()
	for j := range n {
		if _, err := tx.q.ExecContext(ctx, "SAVEPOINT forget_item"); err != nil {
			return fmt.Errorf("sqlstore: savepoint: %w", safeError(err))
		}
		res, err := item(j)
		if err != nil && s.dialect.retryable(err) {
			return err // the transaction is gone: retry the group
		}
		if err != nil {
			if _, rerr := tx.q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT forget_item"); rerr != nil {
				return fmt.Errorf("sqlstore: rollback to savepoint: %w", safeError(rerr))
			}
		}
		if _, rerr := tx.q.ExecContext(ctx, "RELEASE SAVEPOINT forget_item"); rerr != nil {
			return fmt.Errorf("sqlstore: release savepoint: %w", safeError(rerr))
		}
		results[j] = forget.BatchOutcome{Result: res, Err: err}
	}
	if tx.dryRun {
		return nil
	}
	if err := tx.commit(ctx); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", safeError(err))
	}
	return nil
}

func isRequestError(err error) bool {
	return errors.Is(err, forget.ErrInvalid) || errors.Is(err, forget.ErrNotFound) || errors.Is(err, forget.ErrConflict)
}

// lookupSQL resolves one kind of lookup key to a customer key.
type lookupSQL struct {
	keyType KeyType
	query   string // SELECT customer key ... WHERE key = ?
	locked  string // the same, locking the row (customer_id only)
}

// lookupKey is one checked lookup key.
type lookupKey struct {
	name  string
	value any // int64 or string, bound as a parameter
	sql   lookupSQL
}

// buildLookups renders the lookup statements once: they depend only on
// the schema.
func (s *Store) buildLookups() error {
	s.lookups = make(map[string]lookupSQL, 3)
	c := s.schema.Customers
	tables := map[string]*LookupTable{
		forget.KeyCustomerID:     {Table: c.Table, Key: c.Key, KeyType: c.KeyType, CustomerKey: c.Key},
		forget.KeySubscriptionID: s.schema.Subscriptions,
		forget.KeyOrderID:        s.schema.Orders,
	}
	for name, lt := range tables {
		if lt == nil {
			continue
		}
		b := s.sb.Select(s.dialect.quote(lt.CustomerKey)).From(s.dialect.quote(lt.Table)).Where(sq.Eq{s.dialect.quote(lt.Key): keyPlaceholder{}})
		plain, _, err := b.ToSql()
		if err != nil {
			return fmt.Errorf("sqlstore: build lookup: %w", err)
		}
		ls := lookupSQL{keyType: lt.KeyType, query: plain, locked: plain}
		if suffix := s.dialect.lockSuffix(); suffix != "" {
			ls.locked = plain + " " + suffix
		}
		s.lookups[name] = ls
	}
	return nil
}

func (s *Store) lookupKeys(l forget.Lookup) ([]lookupKey, error) {
	var keys []lookupKey
	err := l.Keys(func(name, v string) error {
		ls, ok := s.lookups[name]
		if !ok {
			return &forget.KeyError{Key: name, Reason: "lookups are not supported by this database"}
		}
		val, err := parseKey(name, v, ls.keyType)
		if err != nil {
			return err
		}
		keys = append(keys, lookupKey{name: name, value: val, sql: ls})
		return nil
	})
	return keys, err
}

func parseKey(name, v string, t KeyType) (any, error) {
	if t != KeyText {
		return forget.ParseIntKey(name, v)
	}
	// PostgreSQL refuses NUL and invalid UTF-8 in text parameters with an
	// error; no key can hold them, so they are invalid input everywhere.
	if !utf8.ValidString(v) {
		return nil, &forget.KeyError{Key: name, Reason: "must be valid UTF-8"}
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return nil, &forget.KeyError{Key: name, Reason: "must not hold control characters"}
		}
	}
	return v, nil
}

// script is the SQL of one plan shape: which fields, which tables, dry
// run or not. Values are not part of it, so one script serves every
// forget of that shape.
type script struct {
	stmts []scriptStmt
}

// scriptStmt is one statement: its SQL, where each parameter comes from
// (the customer key is always the last), and the table it counts rows of.
type scriptStmt struct {
	sql     string
	from    []valueRef
	table   forget.Table // "" for a field update, whose rows are not counted
	counted bool
}

// valueRef names a value of the plan: Fields[index] when table is -1,
// else Tables[table].Scrub[index].
type valueRef struct{ table, index int }

func (r valueRef) value(p forget.Plan) any {
	if r.table < 0 {
		return sqlValue(p.Fields[r.index].Value)
	}
	return sqlValue(p.Tables[r.table].Scrub[r.index].Value)
}

// script returns the cached script of p's shape, building it once.
func (s *Store) script(p forget.Plan) (*script, error) {
	key := shapeKey(p)
	s.mu.RLock()
	sc, ok := s.scripts[key]
	s.mu.RUnlock()
	if ok {
		return sc, nil
	}
	sc, err := s.buildScript(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.scripts) < maxScripts {
		s.scripts[key] = sc
	}
	s.mu.Unlock()
	return sc, nil
}

func shapeKey(p forget.Plan) string {
	var b strings.Builder
	if p.DryRun {
		b.WriteString("dry;")
	}
	for _, a := range p.Fields {
		b.WriteString(string(a.Field))
		b.WriteByte(',')
	}
	b.WriteByte(';')
	for _, t := range p.Tables {
		b.WriteString(string(t.Table))
		for _, c := range t.Scrub {
			b.WriteByte(':')
			b.WriteString(c.Column)
		}
		b.WriteByte(',')
	}
	return b.String()
}

// buildScript renders the plan's statements with squirrel. Parameters are
// valueRefs while building, so the order squirrel binds them in is the
// order recorded. Fields are grouped by table in catalogue order.
func (s *Store) buildScript(p forget.Plan) (*script, error) {
	sc := &script{}
	var tables []string
	sets := make(map[string][]int) // table -> indexes into p.Fields
	for i, a := range p.Fields {
		col, ok := s.schema.Fields[a.Field]
		if !ok {
			if s.absent[string(a.Field)] {
				continue
			}
			return nil, fmt.Errorf("sqlstore: field %s is not mapped", a.Field)
		}
		if _, seen := sets[col.Table]; !seen {
			tables = append(tables, col.Table)
		}
		sets[col.Table] = append(sets[col.Table], i)
	}
	if !p.DryRun { // a dry run only counts rows
		for _, table := range tables {
			key := s.schema.Customers.Key
			if table != s.schema.Customers.Table {
				key = s.schema.Joined[table]
			}
			u := s.sb.Update(s.dialect.quote(table))
			for _, i := range sets[table] {
				u = u.Set(s.dialect.quote(s.schema.Fields[p.Fields[i].Field].Column), valueRef{table: -1, index: i})
			}
			st, err := s.keyed(u.Where(sq.Eq{s.dialect.quote(key): keyPlaceholder{}}))
			if err != nil {
				return nil, err
			}
			sc.stmts = append(sc.stmts, st)
		}
	}
	for ti, t := range p.Tables {
		rt, ok := s.schema.Tables[t.Table]
		if !ok {
			if s.absent[string(t.Table)] {
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
			for ci, c := range t.Scrub {
				u = u.Set(s.dialect.quote(c.Column), valueRef{table: ti, index: ci})
			}
			b = u.Where(where)
		default:
			b = s.sb.Delete(s.dialect.quote(rt.Table)).Where(where)
		}
		st, err := s.keyed(b)
		if err != nil {
			return nil, err
		}
		st.table, st.counted = t.Table, true
		sc.stmts = append(sc.stmts, st)
	}
	return sc, nil
}

// keyPlaceholder marks where the customer key is bound once it is known.
type keyPlaceholder struct{}

// keyed renders a statement and refuses it unless it is restricted by the
// customer key: squirrel renders an empty Eq as (1=1), and a DELETE with
// no WHERE is valid SQL that would empty the table.
func (s *Store) keyed(b sq.Sqlizer) (scriptStmt, error) {
	query, args, err := b.ToSql()
	if err != nil {
		return scriptStmt{}, fmt.Errorf("sqlstore: build statement: %w", err)
	}
	if len(args) == 0 || args[len(args)-1] != (keyPlaceholder{}) || !strings.Contains(query, " WHERE ") || strings.Contains(query, "(1=1)") {
		return scriptStmt{}, errors.New("sqlstore: refusing a statement without a customer key predicate")
	}
	st := scriptStmt{sql: query, from: make([]valueRef, len(args)-1)}
	for i, a := range args[:len(args)-1] {
		ref, ok := a.(valueRef)
		if !ok {
			return scriptStmt{}, fmt.Errorf("sqlstore: statement parameter %d is not a plan value", i+1)
		}
		st.from[i] = ref
	}
	return st, nil
}

func sqlValue(v forget.Value) any {
	if v.Null {
		return nil
	}
	return v.String
}

// forgetOnce is one attempt: one transaction, committed or rolled back.
func (s *Store) forgetOnce(ctx context.Context, keys []lookupKey, sc *script, p forget.Plan) (res forget.Result, err error) {
	tx, err := s.begin(ctx, p.DryRun)
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil || p.DryRun {
			tx.rollback(ctx)
		}
		tx.close()
	}()
	if res, err = s.apply(ctx, tx, keys, sc, p); err != nil || p.DryRun {
		return res, err
	}
	if err = tx.commit(ctx); err != nil {
		return forget.Result{}, fmt.Errorf("sqlstore: commit: %w", safeError(err))
	}
	return res, nil
}

// apply resolves and locks the customer and runs the script in tx.
func (s *Store) apply(ctx context.Context, tx *txn, keys []lookupKey, sc *script, p forget.Plan) (forget.Result, error) {
	id, idText, err := s.resolve(ctx, tx, keys, !p.DryRun)
	if err != nil {
		return forget.Result{}, err
	}
	res := forget.Result{CustomerID: idText, Rows: make(map[forget.Table]int64, len(p.Tables))}
	args := make([]any, 0, len(p.Fields)+1)
	for _, st := range sc.stmts {
		args = args[:0]
		for _, ref := range st.from {
			args = append(args, ref.value(p))
		}
		args = append(args, id)
		var n int64
		if p.DryRun {
			err = tx.queryRow(ctx, st.sql, args...).Scan(&n)
		} else {
			var r sql.Result
			r, err = tx.exec(ctx, st.sql, args...)
			if err == nil && st.counted {
				n, err = r.RowsAffected()
			}
		}
		if err != nil {
			return forget.Result{}, fmt.Errorf("sqlstore: %s: %w", verb(st.sql), safeError(err))
		}
		if st.counted {
			res.Rows[st.table] = n
		}
	}
	if s.auditTable != "" && !p.DryRun && p.Receipt != nil {
		if err := s.audit(ctx, tx, p.Receipt(res)); err != nil {
			return forget.Result{}, err
		}
	}
	return res, nil
}

func verb(query string) string {
	if i := strings.IndexByte(query, ' '); i > 0 {
		return strings.ToLower(query[:i])
	}
	return "statement"
}

// resolve finds the one customer every key names, and locks its row. It
// returns the key as bound to later statements and as text.
func (s *Store) resolve(ctx context.Context, tx *txn, keys []lookupKey, lock bool) (any, string, error) {
	var id any
	var idText string
	locked := false
	for _, k := range keys {
		isCustomer := k.name == forget.KeyCustomerID
		query := k.sql.query
		if lock && isCustomer {
			query = k.sql.locked
		}
		got, found, err := queryKey(ctx, tx, query, k.value)
		if err != nil {
			return nil, "", fmt.Errorf("sqlstore: resolve %s: %w", k.name, safeError(err))
		}
		if !found {
			return nil, "", fmt.Errorf("sqlstore: %s: %w", k.name, forget.ErrNotFound)
		}
		if id != nil && got != idText {
			return nil, "", fmt.Errorf("sqlstore: %s: %w", k.name, forget.ErrConflict)
		}
		locked = locked || isCustomer
		idText = got
		if id == nil {
			if isCustomer {
				id = k.value
			} else if id, err = parseKey(forget.KeyCustomerID, idText, s.schema.Customers.KeyType); err != nil {
				return nil, "", fmt.Errorf("sqlstore: %s names a malformed customer key", k.name)
			}
		}
	}
	if !locked {
		// The lookup tables named the customer; lock its row, which also
		// proves it exists.
		ls := s.lookups[forget.KeyCustomerID]
		query := ls.query
		if lock {
			query = ls.locked
		}
		_, found, err := queryKey(ctx, tx, query, id)
		if err != nil {
			return nil, "", fmt.Errorf("sqlstore: lock customer: %w", safeError(err))
		}
		if !found {
			return nil, "", fmt.Errorf("sqlstore: customer of %s: %w", keys[0].name, forget.ErrNotFound)
		}
	}
	return id, idText, nil
}

// queryKey runs a lookup and returns the customer key it selects.
func queryKey(ctx context.Context, tx *txn, query string, value any) (string, bool, error) {
	var got sql.NullString
	switch err := tx.queryRow(ctx, query, value).Scan(&got); {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, err
	}
	return got.String, got.Valid, nil
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
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
