package forget

import (
	"context"
	"slices"
)

// Replay forgets again the customers of receipts, keeping what each kept
// and ignoring the holds each ignored (Receipt.HoldsIgnored: an operator
// cleared them for that erasure, and a replay must not undo the decision),
// and returns one outcome per receipt; a replay's receipt lists those holds
// again. A restored backup brings forgotten customers back; replaying the
// audit trail recorded since that backup (exported before the restore, or
// kept off the database) erases them again. Receipts of dry runs and
// records of refusals are skipped with a nil outcome. A customer the
// backup does not hold is ErrNotFound: there is nothing to erase. A hold
// ignored then that the store no longer declares is an
// *UnknownHoldError, and nothing is erased. Each replay is an event,
// a repeat too (Request.Repropagate).
func (f *Forgetter) Replay(ctx context.Context, receipts []Receipt) []Outcome {
	reqs := make([]Request, 0, len(receipts))
	at := make([]int, 0, len(receipts))
	for i, rc := range receipts {
		if rc.DryRun || rc.Held != "" {
			continue // nothing was erased
		}
		keep := make([]string, 0, len(rc.FieldsKept)+len(rc.TablesKept))
		for _, n := range rc.FieldsKept {
			keep = append(keep, string(n))
		}
		for _, n := range rc.TablesKept {
			keep = append(keep, string(n))
		}
		principal := "replay"
		if rc.Principal != "" {
			principal = clip("replay of "+rc.Principal, MaxLabelLen-3)
		}
		// Repropagate: systems downstream may have been restored too, so
		// a replay sends its events even where it finds nothing to erase.
		reqs = append(reqs, Request{Lookup: Lookup{CustomerID: rc.CustomerID}, Keep: keep, Principal: principal, RequestID: rc.RequestID,
			IgnoreHolds: slices.Clone(rc.HoldsIgnored), Repropagate: true})
		at = append(at, i)
	}
	out := make([]Outcome, len(receipts))
	for j, o := range f.ForgetBatch(ctx, reqs) {
		out[at[j]] = o
	}
	return out
}
