package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/forgetkit/forget"
)

// ForgetBatch implements forget.BatchStore: items share transactions of
// up to the batch size. Customers are resolved, locked and checked for
// holds one by one, then erased with a few multi-row statements per plan
// shape (see bulk.go); should that fail, the group runs again with each
// item in a savepoint, so one item's failure rolls back that item alone. Where the database ends a whole transaction
// because of one item (on SQLite a trigger's RAISE(ROLLBACK) or a full
// disk), that item fails and the others run again without it; where a
// group's commit fails, its items run again one transaction each, so that
// only the culprit fails. An item succeeds only if its transaction
// committed; when ctx ends, the items neither committed nor refused on
// their own carry its error.
func (s *Store) ForgetBatch(ctx context.Context, items []forget.BatchItem) []forget.BatchResult {
	out := make([]forget.BatchResult, len(items))
	var group []batchItem
	var last *script // of the item before, which most often shares its shape
	var lastPlan forget.Plan
	for i, it := range items {
		keys, err := s.lookupKeys(it.Lookup)
		if err == nil {
			// As Forget does: a mistyped hold to ignore must not let
			// the batch run with the real one checked unawares.
			err = s.checkIgnored(it.Plan.IgnoreHolds)
		}
		if err != nil {
			out[i].Err = err
			continue
		}
		sc := last
		if sc == nil || !sameShape(lastPlan, it.Plan) {
			if sc, err = s.script(it.Plan); err != nil {
				out[i].Err = err
				continue
			}
			last, lastPlan = sc, it.Plan
		}
		group = append(group, batchItem{at: i, keys: keys, sc: sc})
		if len(group) == s.batch {
			s.forgetChunk(ctx, items, group, out)
			group = group[:0]
		}
	}
	if len(group) > 0 {
		s.forgetChunk(ctx, items, group, out)
	}
	return out
}

// batchItem is an item of a batch ready to run; at is its index in the batch.
type batchItem struct {
	at   int
	keys []lookupKey
	sc   *script
}

// forgetChunk forgets one group of a batch, set-based when it can: then
// lookups and holds are checked customer by customer, and the writes of
// customers sharing a plan shape are a few statements. Should anything
// fail there, the group runs again on the per-customer path.
func (s *Store) forgetChunk(ctx context.Context, items []forget.BatchItem, group []batchItem, out []forget.BatchResult) {
	group = append([]batchItem(nil), group...) // the caller reuses its slice
	for len(group) > 0 {
		if s.bulk.off || len(group) < 2 || hasVias(group) || slices.ContainsFunc(group, func(it batchItem) bool { return len(it.sc.layout.derived) > 0 }) {
			// Vias and store-side rules (derive.go) run customer by customer.
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

// hasVias reports whether a group's plans reach tables through a Via,
// whose values each customer's own forget reads (via_write.go): such a
// group runs per customer, a savepoint each, in the group's transaction.
func hasVias(group []batchItem) bool {
	for _, it := range group {
		if it.sc.order != nil || it.sc.detaches {
			return true
		}
	}
	return false
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
		if !s.dialect.engine().cachesStatements {
			// Statements run per customer are prepared once.
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

// txGoneError says that the database ended the whole transaction when
// item at failed with err: the savepoints of the items before it are gone.
type txGoneError struct {
	at  int
	err error
}

func (e *txGoneError) Error() string { return e.err.Error() }

// commitError is a failed COMMIT, which may be any one item's doing.
type commitError struct{ err error }

func (e *commitError) Error() string { return e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

// standsAlone reports whether an item's own failure is its outcome
// whatever becomes of its transaction. A refusal for a hold is not: its
// audit record commits, or not, with the transaction.
func standsAlone(err error) bool { return err != nil && !errors.Is(err, forget.ErrHeld) }

// forgetGroup forgets the items of one group, in as few transactions as
// their failures allow, and records their outcomes in out.
func (s *Store) forgetGroup(ctx context.Context, items []forget.BatchItem, group []batchItem, out []forget.BatchResult) {
	group = append([]batchItem(nil), group...) // the caller reuses its slice
	dryRun := items[group[0].at].Plan.DryRun
	alone := false // one item a transaction, once a shared commit failed
	for len(group) > 0 {
		part := group
		if alone {
			part = group[:1]
		}
		results := make([]forget.BatchResult, len(part))
		tries := 0
		err := s.retry(ctx, func() error {
			tries++
			clear(results)
			tx, err := s.begin(ctx, dryRun)
			if err != nil {
				return err
			}
			tx.reusePrepared()
			return s.groupOnce(ctx, tx, len(part), func(j int) (forget.Result, error) {
				return s.apply(ctx, tx, part[j].keys, part[j].sc, items[part[j].at].Plan)
			}, results)
		})
		var gone *txGoneError
		var failed *commitError
		switch {
		case errors.As(err, &gone):
			// The items that failed on their own before it stay failed:
			// nothing of theirs was committed. The others run again.
			var again []batchItem
			for j, it := range part {
				switch {
				case j == gone.at:
					out[it.at] = forget.BatchResult{Err: gone.err}
				case j < gone.at && standsAlone(results[j].Err):
					out[it.at] = results[j]
				default:
					again = append(again, it)
				}
			}
			group = append(again, group[len(part):]...)
		case errors.As(err, &failed) && len(part) > 1 && ctx.Err() == nil && !s.dialect.retryable(err):
			// Find the culprit: one transaction an item.
			var again []batchItem
			for j, it := range part {
				if standsAlone(results[j].Err) {
					out[it.at] = results[j]
				} else {
					again = append(again, it)
				}
			}
			group, alone = again, true
		default:
			if err != nil && ctx.Err() != nil {
				err = fmt.Errorf("sqlstore: not committed: %w", ctx.Err())
			}
			// When the transaction failed, a request error still stands;
			// every other item carries the transaction's error.
			for j, it := range part {
				out[it.at] = results[j]
				if err != nil && !(forget.Refused(results[j].Err) && standsAlone(results[j].Err)) {
					out[it.at] = forget.BatchResult{Err: err}
				}
				out[it.at].Result.Attempts = tries // retries end here; the cases above leave 0
			}
			group = group[len(part):]
		}
	}
}

// groupOnce applies n items in tx, each inside a savepoint, and commits
// (or, for a dry run, rolls back). An item's own failure is rolled back to
// its savepoint and recorded in results; a failure that took the whole
// transaction with it is a *txGoneError, a failed commit a *commitError,
// and any other failure of the transaction is returned as it is.
func (s *Store) groupOnce(ctx context.Context, tx *txn, n int, item func(int) (forget.Result, error), results []forget.BatchResult) (err error) {
	defer func() {
		if err != nil || tx.dryRun {
			tx.rollback(ctx)
		}
		tx.close()
	}()
	for j := range n {
		if _, err := tx.q.ExecContext(ctx, s.dialect.engine().savepoints.set); err != nil {
			return fmt.Errorf("sqlstore: savepoint: %w", s.scrubbedError(err))
		}
		res, err := item(j)
		switch {
		case err == nil || errors.Is(err, forget.ErrHeld):
			// A refusal for a hold changes nothing but its audit
			// record, which stands.
		case s.dialect.retryable(err) || ctx.Err() != nil:
			return err // retry the group, or stop: nothing will commit
		default:
			if _, rerr := tx.q.ExecContext(ctx, s.dialect.engine().savepoints.rollback); rerr != nil {
				if ctx.Err() != nil {
					return rerr
				}
				// No savepoint left: the database rolled back the whole
				// transaction on this item's error.
				return &txGoneError{at: j, err: err}
			}
		}
		if _, rerr := tx.q.ExecContext(ctx, s.dialect.engine().savepoints.release); rerr != nil {
			return fmt.Errorf("sqlstore: release savepoint: %w", s.scrubbedError(rerr))
		}
		results[j] = forget.BatchResult{Result: res, Err: err}
	}
	if tx.dryRun {
		return nil
	}
	if err := tx.commit(ctx); err != nil {
		return &commitError{fmt.Errorf("sqlstore: commit: %w", s.scrubbedError(err))}
	}
	return nil
}
