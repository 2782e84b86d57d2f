package forget

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"
)

// InactiveFinder is implemented by stores that can find customers inactive
// since a cutoff, for retention sweeps ([Forgetter.Sweep]). The SQL store
// finds them by the activity columns of its mapping, with an index.
type InactiveFinder interface {
	// Inactive returns up to limit ids of customers whose latest
	// activity is before cutoff and who have not been fully forgotten
	// (a recorded erasure that kept nothing) at or after cutoff, in a
	// stable order, starting after cursor ("" for the first page). next
	// is the cursor of the following page, "" when there is none. A
	// customer with no recorded activity at all is never returned.
	//
	// It returns an error wrapping ErrInvalid for a malformed cursor or
	// a limit out of range, and another error when the store cannot
	// sweep (no activity mapped, no audit trail to tell forgotten
	// customers by).
	Inactive(ctx context.Context, cutoff time.Time, cursor string, limit int) (ids []string, next string, err error)
}

// InactiveCounter is implemented by InactiveFinders that can count, in
// one statement, the customers a sweep from cutoff would page through,
// so that a sweep's progress can show a total and the time left.
type InactiveCounter interface {
	// CountInactive returns how many customers Inactive(ctx, cutoff, …)
	// would return over all its pages, by the same predicate: latest
	// activity before cutoff and not fully forgotten at or after it. It
	// is an upper bound of what a sweep then forgets: some are held,
	// some may be active again or forgotten by another sweep meanwhile.
	// It fails as Inactive does when the store cannot sweep.
	CountInactive(ctx context.Context, cutoff time.Time) (int, error)
}

// SweepOptions says what a sweep forgets.
type SweepOptions struct {
	// InactiveSince is the cutoff: customers whose latest activity is
	// earlier are forgotten. It must be set and not in the future.
	InactiveSince time.Time
	// Limit, when positive, bounds how many customers this run tries.
	Limit int
	// DryRun reports what would be forgotten and changes nothing.
	DryRun bool
	// Principal is recorded on every receipt; the default is "sweep".
	Principal string
	// RequestID is recorded on every receipt.
	RequestID string
	// Chunk is how many customers go to the store at once (one
	// transaction for a SQL store); the default is 100, at most 10,000.
	Chunk int
	// OnOutcome, when set, is called for every customer tried, in order.
	OnOutcome func(customerID string, o Outcome)
	// Progress, when set, is called after every chunk with the counts
	// so far.
	Progress func(SweepReport)
}

// SweepReport counts what a sweep did.
type SweepReport struct {
	Cutoff    time.Time      `json:"cutoff"`
	DryRun    bool           `json:"dry_run,omitempty"`
	Tried     int            `json:"tried"`
	Forgotten int            `json:"forgotten"`
	Held      int            `json:"held"`
	HeldBy    map[string]int `json:"held_by,omitempty"` // by hold name
	NotFound  int            `json:"not_found"`         // gone between selection and forget
	// AlreadyForgotten counts customers another sweep, running at the
	// same time, forgot first (ErrAlreadyForgotten): skipped, not failed.
	AlreadyForgotten int `json:"already_forgotten,omitempty"`
	Failed           int `json:"failed"`
}

// maxSweepChunk bounds SweepOptions.Chunk.
const maxSweepChunk = 10000

// Sweep forgets every customer inactive since opt.InactiveSince, chunk
// by chunk, for retention policies ("erase whoever has not logged in for
// three years"). Holds are checked for each customer as for any forget:
// held customers are refused (and the refusals audited) and counted
// apart. The store must be an [InactiveFinder].
//
// A sweep is safe to stop at any moment and run again: each customer is
// all or nothing, and the store skips customers fully forgotten since the
// cutoff, so a re-run picks up where the last one stopped without
// forgetting anybody twice. Sweeps running at the same time on one
// database share the work: each customer's forget checks again, under
// the customer's lock, that no other sweep forgot it meanwhile, and such
// a customer is counted as AlreadyForgotten. Memory stays flat: customers are read a page
// at a time.
//
// It returns the counts so far and ctx's error when ctx ends, an error
// wrapping ErrInvalid for bad options, and the store's error when it
// cannot sweep. Customers that fail are counted, and the sweep goes on.
func (f *Forgetter) Sweep(ctx context.Context, opt SweepOptions) (SweepReport, error) {
	rep := SweepReport{Cutoff: opt.InactiveSince.UTC(), DryRun: opt.DryRun}
	finder, ok := f.store.(InactiveFinder)
	if !ok {
		return rep, errors.New("forget: the store cannot find inactive customers (it is no InactiveFinder)")
	}
	switch {
	case opt.InactiveSince.IsZero():
		return rep, invalid("a sweep needs a cutoff (InactiveSince)")
	case opt.InactiveSince.After(f.now()):
		return rep, invalid("the sweep's cutoff is in the future: every customer would count as inactive")
	case opt.Limit < 0:
		return rep, invalid("the sweep's limit is negative")
	case opt.Chunk < 0 || opt.Chunk > maxSweepChunk:
		return rep, invalid(fmt.Sprintf("the sweep's chunk must be between 1 and %d", maxSweepChunk))
	}
	if err := f.ensureVerified(ctx); err != nil {
		return rep, err
	}
	chunk := opt.Chunk
	if chunk == 0 {
		chunk = 100
	}
	principal := opt.Principal
	if principal == "" {
		principal = "sweep"
	}
	if err := checkLabel("principal", principal); err != nil {
		return rep, err
	}
	if err := checkLabel("request id", opt.RequestID); err != nil {
		return rep, err
	}
	cursor := ""
	reqs := make([]Request, 0, chunk)
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		n := chunk
		if opt.Limit > 0 {
			n = min(n, opt.Limit-rep.Tried)
		}
		if n <= 0 {
			return rep, nil
		}
		ids, next, err := finder.Inactive(ctx, opt.InactiveSince, cursor, n)
		if err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			return rep, err
		}
		if len(ids) > n {
			return rep, fmt.Errorf("forget: the store returned %d inactive customers, more than the %d asked for", len(ids), n)
		}
		reqs = reqs[:0]
		for _, id := range ids {
			reqs = append(reqs, Request{Lookup: Lookup{CustomerID: id}, DryRun: opt.DryRun, Principal: principal, RequestID: opt.RequestID, sweptSince: opt.InactiveSince})
		}
		outs := f.ForgetBatch(ctx, reqs)
		interrupted := ctx.Err() != nil
		for i, o := range outs {
			if interrupted && o.Err != nil && !Refused(o.Err) {
				continue // not committed: the next run does it
			}
			rep.count(o)
			if opt.OnOutcome != nil {
				opt.OnOutcome(ids[i], o)
			}
		}
		if interrupted {
			return rep, ctx.Err()
		}
		if opt.Progress != nil {
			opt.Progress(rep.clone())
		}
		if next == "" || len(ids) == 0 {
			return rep, nil
		}
		if next == cursor {
			return rep, errors.New("forget: the store's cursor did not move; the sweep stopped rather than loop")
		}
		cursor = next
	}
}

func (r *SweepReport) count(o Outcome) {
	r.Tried++
	var held *HeldError
	switch {
	case o.Err == nil:
		r.Forgotten++
	case errors.As(o.Err, &held):
		r.Held++
		if r.HeldBy == nil {
			r.HeldBy = make(map[string]int)
		}
		r.HeldBy[held.Hold]++
	case errors.Is(o.Err, ErrNotFound):
		r.NotFound++
	case errors.Is(o.Err, ErrAlreadyForgotten):
		r.AlreadyForgotten++
	default:
		r.Failed++
	}
}

func (r SweepReport) clone() SweepReport {
	r.HeldBy = maps.Clone(r.HeldBy)
	return r
}
