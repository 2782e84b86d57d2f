package sqlstore

import (
	"context"
	"errors"
	"fmt"
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

// forgetChunk forgets one group of a batch, set-based when it can: then
// lookups and holds are checked customer by customer, and the writes of
// customers sharing a plan shape are a few statements. Should anything
// fail there, the group runs again on the per-customer path.
func (s *Store) forgetChunk(ctx context.Context, items []forget.BatchItem, group []batchItem, out []forget.BatchResult) {
	group = append([]batchItem(nil), group...) // the caller reuses its slice
	for len(group) > 0 {
		if s.bulk.off || len(group) < 2 {
			s.forgetGroup(ctx, items, group, out)
			return
		}
		rest, ok, failed := s.bulkGroup(ctx, items, group, out)
		if !ok {
			s.bulk.fallbacks.Add(1)
			s.forgetGroup(ctx, items, group, out)
			s.judgeShape(items, group, out, failed)
			return
		}
		group = rest
	}
}

// errNoBulk sends a group to the per-customer path.
var errNoBulk = errors.New("sqlstore: per-customer path")

// bulkGroup runs group set-based. It returns the items it left for a later
// round (a second forget of a customer the group already forgets), and
// false when the group must run on the per-customer path instead, nothing
// of it being committed.
func (s *Store) bulkGroup(ctx context.Context, items []forget.BatchItem, group []batchItem, out []forget.BatchResult) (rest []batchItem, ok bool, failed *bulkShape) {
	dryRun := items[group[0].at].Plan.DryRun
	shapes := make([]*bulkShape, len(group))
	for j, it := range group {
		sh := s.bulkShapeOf(it.sc, items[it.at].Plan)
		if sh.off.Load() {
			return nil, false, nil
		}
		shapes[j] = sh
	}
	results := make([]forget.BatchResult, len(group))
	var later []int
	err := s.retry(ctx, func() error {
		clear(results)
		later, failed = later[:0], nil
		tx, err := s.begin(ctx, dryRun)
		if err != nil {
			return err
		}
		defer func() {
			if err != nil || dryRun {
				tx.rollback(ctx)
			}
			tx.close()
		}()
		if s.dialect != Postgres {
			// Statements run per customer are prepared once (pgx
			// caches its statements itself).
			tx.reusePrepared()
		}
		b := bulkRun{s: s, tx: tx, items: items, group: group, shapes: shapes, results: results}
		if err = b.run(ctx); err != nil {
			failed = b.failed
			return err
		}
		later = b.later
		if dryRun {
			return nil
		}
		if err = tx.commit(ctx); err != nil {
			return &commitError{fmt.Errorf("sqlstore: commit: %w", s.scrubbedError(err))}
		}
		return nil
	})
	switch {
	case err == nil:
		rest = make([]batchItem, 0, len(later))
		isLater := make(map[int]bool, len(later))
		for _, j := range later {
			isLater[j] = true
			rest = append(rest, group[j])
		}
		for j, it := range group {
			if !isLater[j] {
				out[it.at] = results[j]
			}
		}
		s.bulk.sets.Add(1)
		return rest, true, nil
	case ctx.Err() != nil:
		// Nothing committed. A request's own refusal (no such customer,
		// a conflict) stands; the others carry the interruption.
		cerr := fmt.Errorf("sqlstore: not committed: %w", ctx.Err())
		for j, it := range group {
			out[it.at] = forget.BatchResult{Err: cerr}
			if forget.Refused(results[j].Err) && standsAlone(results[j].Err) {
				out[it.at] = results[j]
			}
		}
		return nil, true, nil
	}
	if s.dialect.retryable(err) || errors.Is(err, errNoBulk) {
		failed = nil
	}
	return nil, false, failed
}

// judgeShape is told how the per-customer path did with a group whose
// set-based statement of shape sh failed. When every customer of that
// shape then succeeded (or was refused on its own), the failure was the
// set-based statements' (a column type or collation they do not handle):
// after the second such time, the shape runs per customer for good.
func (s *Store) judgeShape(items []forget.BatchItem, group []batchItem, out []forget.BatchResult, sh *bulkShape) {
	if sh == nil {
		return
	}
	for _, it := range group {
		if o := out[it.at].Err; o != nil && !forget.Refused(o) {
			if s.bulkShapeOf(it.sc, items[it.at].Plan) == sh {
				return // a customer failed: the set did not fail for nothing
			}
		}
	}
	if sh.strikes.Add(1) == 2 {
		sh.off.Store(true)
		s.log.Warn("sqlstore: the set-based statements of a plan shape failed where per-customer ones succeeded; that shape now runs per customer")
	}
}
