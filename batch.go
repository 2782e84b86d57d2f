package forget

import (
	"context"
	"time"
)

// Outcome is the result of one request of a batch: a receipt, or the
// error Forget would have returned.
type Outcome struct {
	Receipt *Receipt
	Err     error
}

// ForgetBatch forgets every request, each all or nothing on its own, and
// returns one outcome per request, in order. With a [BatchStore] (the SQL
// store is one) requests share transactions, a savepoint each, so a batch
// pays for far fewer commits; a crash loses only requests whose outcomes
// were not yet returned, and forgetting is idempotent, so re-running the
// batch is safe. Other stores get one Forget per request.
func (f *Forgetter) ForgetBatch(ctx context.Context, reqs []Request) []Outcome {
	out := make([]Outcome, len(reqs))
	if err := f.ensureVerified(ctx); err != nil {
		for i := range out {
			out[i].Err = err
			f.observe(ctx, 0, false, err, nil, Result{}, nil, nil)
		}
		return out
	}
	bs, ok := f.store.(BatchStore)
	if !ok {
		for i, req := range reqs {
			out[i].Receipt, out[i].Err = f.Forget(ctx, req)
		}
		return out
	}
	// A store's batch has one DryRun for all its items. Sized once: a
	// prepared request is large, and growing these slices was a third of
	// a batch's allocations.
	items := make([]BatchItem, 0, len(reqs))
	at := make([]int, 0, len(reqs))
	preps := make([]prepared, 0, len(reqs))
	took := make([]time.Duration, 0, len(reqs)) // preparing each item
	for _, dry := range []bool{false, true} {
		items, at, preps, took = items[:0], at[:0], preps[:0], took[:0]
		for i, req := range reqs {
			if req.DryRun != dry {
				continue
			}
			start := time.Now()
			pr, err := f.prepare(ctx, req)
			if err != nil {
				out[i].Err = err
				f.observe(ctx, time.Since(start), false, err, nil, Result{}, nil, nil)
				continue
			}
			items = append(items, BatchItem{Lookup: pr.lookup, Plan: pr.plan})
			at = append(at, i)
			preps = append(preps, pr)
			took = append(took, time.Since(start))
		}
		if len(items) == 0 {
			continue
		}
		start := time.Now()
		outcomes := bs.ForgetBatch(ctx, items)
		share := time.Since(start) / time.Duration(len(items)) // each item's part of the call
		for j, o := range outcomes {
			i := at[j]
			start := time.Now()
			switch {
			case o.Err == nil:
				out[i].Receipt = f.finish(ctx, start, took[j]+share, true, preps[j], o.Result)
				continue
			case Refused(o.Err):
				out[i].Err = o.Err
			default:
				out[i].Err = redact(o.Err, preps[j].plan)
			}
			f.observe(ctx, took[j]+share, true, out[i].Err, &preps[j], o.Result, nil, nil)
		}
	}
	return out
}

// BatchStore is implemented by stores that can forget many customers with
// fewer commits. Each item must still be all or nothing on its own: a
// failed item leaves its customer as it was and does not affect the
// others. [Forgetter.ForgetBatch] uses it when the store has it.
type BatchStore interface {
	Store
	// ForgetBatch applies each item's plan to the customer its lookup
	// names and returns one outcome per item, in order, with the errors
	// Forget documents. Items are applied in order; every plan of one
	// call has the same DryRun. An outcome is final only when
	// ForgetBatch returns: until then nothing need be committed.
	ForgetBatch(ctx context.Context, items []BatchItem) []BatchResult
}

// BatchItem is one forget of a batch.
type BatchItem struct {
	Lookup Lookup
	Plan   Plan
}

// BatchResult is the result of one BatchItem.
type BatchResult struct {
	Result Result
	Err    error
}
