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
//	db, _ := sql.Open("sqlite", "file:app.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=secure_delete(1)")
//	store, err := sqlstore.New(db, sqlstore.SQLite)
//	f, err := forget.New(store)
//	err = f.Verify(ctx) // the mapping against the live database, once at start-up
//
// This package imports no database driver: the host registers the one it
// uses, and links nothing else. It recognises deadlocks and busy locks
// (which it retries) and MySQL's messages (which quote values, and which
// it keeps out of errors) by the drivers' error types: methods for pgx,
// lib/pq and modernc.org/sqlite, and, for go-sql-driver/mysql and
// mattn/go-sqlite3, whose errors have fields only, by reflection on the
// error's type, without importing them.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
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
	batch    int
	absent   map[string]bool
	lookups  map[string]lookupSQL // by lookup key name
	// ranges, once Verify has read the live schema, bounds each integer
	// lookup key by its column's type.
	ranges atomic.Pointer[map[string]keyRange]
	// keys, once Verify has read the live schema, is each lookup key's
	// type as its column says; see keyType.
	keys atomic.Pointer[learnedKeys]
	// cascadeGraph, once Verify has read the foreign keys, refuses a keep
	// list that an ON DELETE/UPDATE action would break (cascade.go).
	cascadeGraph atomic.Pointer[cascadeGraph]
	// vias, once Verify has read the schema, is what the Via tables'
	// statements need (via_verify.go).
	vias atomic.Pointer[viaLearned]
	// detaches are the customer's own rows' pointers at rows a purge
	// deletes, by the purged table's lower-cased name (verify_restrict.go).
	detaches atomic.Pointer[map[string][]detachFK]

	log *slog.Logger

	hashKey []byte // WithHashKey

	holds   []holdSQL // the mapping's, rendered once
	goHolds []goHold

	auditTable  string
	auditInsert string
	// refusalIDs is set while the audit table's event_id may not be NULL
	// (tables AuditDDL made before refusals had no event id): a refusal's
	// record then carries a placeholder id. Verify clears it when the
	// column allows NULL; until then the store assumes the older table.
	refusalIDs atomic.Bool

	cover coverState // WithCoverage, and the schema the last Verify read

	mu      sync.RWMutex
	scripts map[string]*script // by plan shape: squirrel builds each once

	bulk bulkState // set-based batches; see bulk.go

	tomb tombState // WithTombstoneKeys; see tombstone.go

	namesCache // the mapping's names, which error messages may quote; see scrubbedError

	// writer, on SQLite, queues this store's write transactions in the
	// process, rather than in SQLite's busy handler, which sleeps and
	// polls up to 100 ms a turn. Two stores on one database each have
	// their own.
	writer chan struct{}
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

// WithLogger sets where [Store.Verify] reports its warnings (a lookup
// column without an index, say); the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(st *Store) { st.log = l } }

// WithAttempts sets how many times a forget is tried when the database
// aborts it for a deadlock, a serialisation failure or a busy lock; the
// default is 5. Each try is a whole new transaction, so retrying is safe.
func WithAttempts(n int) Option { return func(st *Store) { st.attempts = n } }

// WithBatchSize sets how many forgets of a batch share one transaction,
// each in a savepoint of its own; the default is 100. Larger groups pay
// for fewer commits but hold their row locks longer.
func WithBatchSize(n int) Option { return func(st *Store) { st.batch = n } }

// WithHashKey is the key of the keyed_hash rules that carry none
// (forget.KeyedHash(nil), and every keyed_hash a mapping file names): the
// key lives with the host, never in the mapping. Without it, such a rule
// makes the catalogue unusable with the store.
func WithHashKey(key []byte) Option { return func(st *Store) { st.hashKey = slices.Clone(key) } }

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
	s.refusalIDs.Store(true)
	if d.engine().singleWriter {
		s.writer = make(chan struct{}, 1)
	}
	for _, opt := range opts {
		opt(s)
	}
	if s.log == nil {
		s.log = slog.Default()
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
	if err := s.buildHolds(); err != nil {
		return nil, err
	}
	if err := s.buildAudit(); err != nil {
		return nil, err
	}
	if err := s.buildTombstones(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// CheckCatalogue implements forget.CatalogueChecker: every catalogue entry
// must be mapped or declared absent, the schema may map nothing the
// catalogue lacks, no column may be written twice, and no erased column
// may be a key. It returns the entries the schema declares absent.
func (s *Store) CheckCatalogue(cat forget.Catalogue) ([]string, error) {
	if err := s.schema.check(cat); err != nil {
		return nil, err
	}
	if err := s.checkDerived(cat); err != nil {
		return nil, err
	}
	return slices.Clone(s.schema.Absent), nil
}

// Forget implements forget.Store.
func (s *Store) Forget(ctx context.Context, l forget.Lookup, p forget.Plan) (forget.Result, error) {
	keys, err := s.lookupKeys(l)
	if err != nil {
		return forget.Result{}, err
	}
	if err := s.checkIgnored(p.IgnoreHolds); err != nil {
		return forget.Result{}, err
	}
	sc, err := s.script(p)
	if err != nil {
		return forget.Result{}, err
	}
	var res forget.Result
	attempts := 0
	err = s.retry(ctx, func() error {
		attempts++
		var err error
		res, err = s.forgetOnce(ctx, keys, sc, p)
		return err
	})
	res.Attempts = attempts // with an error too: observers count retries
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

// forgetOnce is one attempt: one transaction, committed or rolled back.
func (s *Store) forgetOnce(ctx context.Context, keys []lookupKey, sc *script, p forget.Plan) (res forget.Result, err error) {
	tx, err := s.begin(ctx, p.DryRun)
	if err != nil {
		return res, err
	}
	refused := false
	defer func() {
		if (err != nil && !refused) || p.DryRun {
			tx.rollback(ctx)
		}
		tx.close()
	}()
	res, err = s.apply(ctx, tx, keys, sc, p)
	if errors.Is(err, forget.ErrHeld) && !p.DryRun {
		// A refusal changes nothing but its audit record, which stands.
		refused = true
		if cerr := tx.commit(ctx); cerr != nil {
			return forget.Result{}, fmt.Errorf("sqlstore: commit refusal: %w", s.scrubbedError(cerr))
		}
		return res, err
	}
	if err != nil || p.DryRun {
		return res, err
	}
	if err = tx.commit(ctx); err != nil {
		return forget.Result{}, fmt.Errorf("sqlstore: commit: %w", s.scrubbedError(err))
	}
	return res, nil
}

// apply resolves and locks the customer and runs the script in tx. A dry
// run runs the very same statements, and the caller rolls them back, so
// that it fails exactly when the real forget would.
func (s *Store) apply(ctx context.Context, tx *txn, keys []lookupKey, sc *script, p forget.Plan) (forget.Result, error) {
	id, idText, err := s.resolve(ctx, tx, keys)
	if err != nil {
		return forget.Result{}, err
	}
	if !p.UnlessForgottenSince.IsZero() {
		done, err := s.forgottenSince(ctx, tx, []string{idText}, p.UnlessForgottenSince)
		if err != nil {
			return forget.Result{}, err
		}
		if done[idText] {
			return forget.Result{}, forget.ErrAlreadyForgotten // by another sweep, meanwhile
		}
	}
	res := forget.Result{CustomerID: idText, Rows: make(map[forget.Table]int64, len(p.Tables))}
	if hold, err := s.held(ctx, tx, id, p.IgnoreHolds); err != nil || hold != "" {
		if err != nil {
			return forget.Result{}, err
		}
		if s.auditTable != "" && !p.DryRun {
			rc := p.Receipt(forget.Result{CustomerID: idText})
			if err := s.audit(ctx, tx, refusal(rc, hold), p.Record.EventID, false); err != nil {
				return forget.Result{}, err
			}
		}
		return res, &forget.HeldError{Hold: hold}
	}
	if err := s.tombstones(ctx, tx, p, id); err != nil {
		return forget.Result{}, err
	}
	if p.DryRun {
		// Counted before the statements run: after them, deleted rows
		// would count 0. Real forgets never pay for it.
		if res.Inventory, err = s.dryRunInventory(ctx, tx, p, id, idText); err != nil {
			return forget.Result{}, err
		}
	}
	repeat, err := s.repeatCandidate(ctx, tx, sc, p, id, idText)
	if err != nil {
		return forget.Result{}, err
	}
	// The customer's values, for redact_text, before anything is written.
	pre, err := s.derivedPreimages(ctx, tx, sc, p, id)
	if err != nil {
		return forget.Result{}, err
	}
	var vias map[forget.Table]*viaSet
	args := make([]any, 0, len(p.Fields)+1)
	stmts := sc.stmts
	if sc.order != nil {
		// Via tables: their values are read before anything is written,
		// and the statements run in the order their keys ask.
		if vias, err = s.runWithVias(ctx, tx, sc, p, id, &res); err != nil {
			return forget.Result{}, err
		}
		stmts = nil
	}
	for i, st := range stmts {
		args = args[:0]
		for _, ref := range st.from {
			args = append(args, ref.value(p))
		}
		args = append(args, id)
		n, err := s.runStatement(ctx, tx, st, args, tx.exec)
		if err != nil {
			return forget.Result{}, err
		}
		countWritten(&res, sc, i, n, p)
	}
	// Store-side rules last: a Via's values (an e-mail a keyed hash
	// rewrites) were read before, and the statements leave their columns.
	derived, err := s.applyDerived(ctx, tx, sc, p, id, pre, vias, &res)
	if err != nil {
		return forget.Result{}, err
	}
	repeat = repeat && derived == 0 // a keyed hash rewritten, a mention redacted: not nothing
	res.Repeat = repeat && s.wroteNothing(res)
	if s.auditTable != "" {
		if err := s.audit(ctx, tx, p.Receipt(res), p.Record.EventID, quietRepeat(res, p)); err != nil {
			return forget.Result{}, err
		}
	}
	return res, nil
}
