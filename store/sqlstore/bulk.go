package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

	"github.com/forgetkit/forget"
)

// Set-based erasure: the customers of one batch group are resolved and
// locked, their holds checked, and then erased with a few multi-row
// statements per plan shape instead of a round of statements each:
//
//	SQLite      WITH v(k, c1, …) AS (VALUES (?, ?, …), …) UPDATE t SET c = v.c1 … FROM v WHERE t.key = v.k
//	PostgreSQL  UPDATE t SET c = v.c1 … FROM (VALUES (…), …) AS v(k, c1, …) WHERE t.key = v.k
//	MariaDB     UPDATE t JOIN (SELECT ? AS k, ? AS c1 UNION ALL SELECT ?, ? …) AS v ON t.key = v.k SET t.c = v.c1 …
//	purges      DELETE FROM t WHERE key IN (…) RETURNING key   (MySQL: SELECT key, COUNT(*) … FOR UPDATE, then DELETE;
//	            SQLite: each customer's own DELETE, prepared once per transaction)
//	audit       INSERT INTO forget_audit (…) VALUES (…), (…), …
//
// Every row still gets its own plan's values (its own pseudonyms and
// random credentials). Lookups and holds stay exact, customer by
// customer. When anything of a group fails, the whole transaction is
// rolled back and the group runs again on the per-customer path, a
// savepoint each, so that only the failing customer is refused.
//
// Each step of a set-based attempt (bulkRun.run) sits beside its
// per-customer form: resolve.go, holds.go, inventory.go, write.go and
// audit.go; the statements' text is in bulk_sql.go, and batch.go decides
// when a group runs set-based.

// bulkState is the store's set-based machinery: whether it is on, and the
// statement shapes it has built.
type bulkState struct {
	off    bool
	mu     sync.Mutex
	shapes map[string]*bulkShape // by shapeKey
	audit  map[bulkSQLKey]string // auditSQL's statements, by rows and fixed columns
	// Groups committed set-based, and sent to the per-customer path
	// after a set-based attempt: for tests and benchmarks.
	sets, fallbacks atomic.Int64
}

// WithSetBased turns set-based batch erasure on (the default) or off. Off,
// every customer of a batch runs its own statements in a savepoint of the
// shared transaction: the same outcome, more statements.
func WithSetBased(on bool) Option { return func(st *Store) { st.bulk.off = !on } }

// bulkShape is a plan shape's set-based statements, built once.
type bulkShape struct {
	updates []planUpdate
	tables  []bulkTable
	// off is set once its statements failed where the per-customer ones
	// then succeeded: something of this shape (a column type, a
	// collation) the set-based statements do not handle.
	off     atomic.Bool
	strikes atomic.Int32

	mu  sync.Mutex
	sql map[bulkSQLKey]string
}

type bulkSQLKey struct {
	kind, index, rows int
	fixed             string // updateSQL's fixed columns, as 0s and 1s
	cast              string // valuesKeyCast's, which a Verify may change
}

// bulkTable purges (or scrubs) a catalogue table.
type bulkTable struct {
	planTable
	step int // index of its statement in the per-customer script
}

const maxBulkShapes = 256

// bulkShapeOf returns the set-based statements of sc's shape, shared by
// every script of that shape.
func (s *Store) bulkShapeOf(sc *script, p forget.Plan) *bulkShape {
	if sh := sc.bulk.Load(); sh != nil {
		return sh
	}
	key := shapeKey(p)
	s.bulk.mu.Lock()
	defer s.bulk.mu.Unlock()
	sh, ok := s.bulk.shapes[key]
	if !ok {
		sh = &bulkShape{sql: make(map[bulkSQLKey]string), updates: sc.layout.updates}
		for i, t := range sc.layout.tables {
			sh.tables = append(sh.tables, bulkTable{planTable: t, step: len(sh.updates) + i})
		}
		if s.bulk.shapes == nil {
			s.bulk.shapes = make(map[string]*bulkShape)
		}
		if len(s.bulk.shapes) < maxBulkShapes {
			s.bulk.shapes[key] = sh
		}
	}
	sc.bulk.Store(sh)
	return sh
}

// bulkRun is one set-based attempt at a group, in one transaction.
type bulkRun struct {
	s       *Store
	tx      *txn
	items   []forget.BatchItem
	group   []batchItem
	shapes  []*bulkShape
	results []forget.BatchResult

	ids    []any    // by group index: the customer key as bound, nil until resolved
	texts  []string // the key as text
	held   []string // the hold that refuses the customer
	later  []int    // a second forget of a customer: the next round's
	failed *bulkShape
	rows   []map[forget.Table]int64
	// updated and unwritten are each customer's Result.Updated and
	// Result.Unwritten (see write.go).
	updated   []map[string]int64
	unwritten [][]forget.Field
	// inventories are a dry run's, by group index, as a single forget's
	// receipt carries them.
	inventories []*forget.Inventory
	repeat      []bool          // by group index: a repeat candidate (see repeats)
	quiet       context.Context // ctx without its cancellation: see execPrepared
}

func (b *bulkRun) plan(j int) forget.Plan { return b.items[b.group[j].at].Plan }

func (b *bulkRun) run(ctx context.Context) error {
	n := len(b.group)
	b.ids, b.texts, b.held = make([]any, n), make([]string, n), make([]string, n)
	if err := b.resolve(ctx); err != nil {
		return err
	}
	if err := b.forgotten(ctx); err != nil {
		return err
	}
	if err := b.holds(ctx); err != nil {
		return err
	}
	if err := b.tombstones(ctx); err != nil {
		return err
	}
	if err := b.inventory(ctx); err != nil {
		return err
	}
	if err := b.repeats(ctx); err != nil {
		return err
	}
	if err := b.write(ctx); err != nil {
		return err
	}
	if err := b.audit(ctx); err != nil {
		return err
	}
	for j, inv := range b.inventories {
		if inv != nil && b.results[j].Err == nil {
			b.results[j].Result.Inventory = inv
		}
	}
	return nil
}

// exec runs a set-based statement: on an embedded engine prepared once
// for the transaction (it runs again for every statementRows customers),
// elsewhere as it is, a round trip either way.
func (b *bulkRun) exec(ctx context.Context, query string, args []any) error {
	var err error
	if b.s.dialect.engine().embedded {
		_, err = b.execPrepared(ctx, query, args)
	} else {
		_, err = b.tx.q.ExecContext(ctx, query, args...)
	}
	return err
}

// execPrepared runs a statement prepared once for the transaction. On
// an embedded engine it gets ctx without its cancellation, checked here
// instead: modernc.org/sqlite starts a goroutine to watch a cancellable
// context for every statement, a fifth of the time of a customer's
// DELETE (measured), and these statements, a customer or a few dozen by
// key, end within a millisecond, after which the next one sees ctx end.
func (b *bulkRun) execPrepared(ctx context.Context, query string, args []any) (sql.Result, error) {
	if !b.s.dialect.engine().embedded {
		return b.tx.exec(ctx, query, args...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if b.quiet == nil {
		b.quiet = context.WithoutCancel(ctx)
	}
	return b.tx.exec(b.quiet, query, args...)
}

// eachKey calls fn with the customer (in byText) of the key in the first
// column of every row, and closes rows. A key of no customer there, which
// another spelling of one (a collation) would be, is errNoBulk.
func eachKey(rows *sql.Rows, byText map[string]int, fn func(j int)) error {
	defer rows.Close()
	for rows.Next() {
		var got string
		if err := rows.Scan(&got); err != nil {
			return safeError(err)
		}
		j, ok := byText[got]
		if !ok {
			return errNoBulk
		}
		fn(j)
	}
	return safeError(rows.Err())
}
