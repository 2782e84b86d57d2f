package sqlstore

import (
	"context"
	"fmt"

	"github.com/forgetkit/forget"
)

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
