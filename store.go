package forget

import (
	"context"
	"slices"
	"time"
)

// Store finds customers and applies erasure plans. Implementations must be
// safe for concurrent use.
type Store interface {
	// Forget resolves l, which has at least one key and no surrounding
	// spaces, and applies p to that customer in one transaction: every
	// field of p.Fields set, every table of p.Tables purged or scrubbed.
	// All of it happens or none of it does. When p.DryRun is set it
	// changes nothing and counts the rows it would touch. Two forgets of
	// one customer are serialised.
	//
	// It returns a *KeyError (wrapping ErrInvalid) for a key of the wrong
	// form, an error wrapping ErrNotFound when any key matches no
	// customer, one wrapping ErrConflict when the keys name different
	// customers (or one key names several), and a *HeldError when a hold
	// the store declares protects the customer: then it changes nothing
	// but, when it keeps an audit trail, records the refusal. Any other error is internal. No error may hold the value
	// of a field, old or new.
	Forget(ctx context.Context, l Lookup, p Plan) (Result, error)
}

// CatalogueChecker is implemented by stores that can tell at construction
// whether they can erase every entry of a catalogue (a SQL store checks its
// schema mapping). [New] calls it and fails when it returns an error.
//
// absent names the catalogue entries the store's database does not have
// (a host table without token_hash, say). Plans never name them, and
// receipts list them apart, so that a receipt says exactly what was
// erased.
type CatalogueChecker interface {
	CheckCatalogue(Catalogue) (absent []string, err error)
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

// Plan is what a Store must do to one customer. Fields and tables are in
// catalogue order, so the same request always yields the same plan.
type Plan struct {
	Fields []Assignment
	Tables []TableAction
	DryRun bool
	// IgnoreHolds names holds the store must not check (see
	// Request.IgnoreHolds); the store refuses names it does not declare
	// with an *UnknownHoldError. It is also in Record.HoldsIgnored.
	IgnoreHolds []string
	// UnlessForgottenSince, when set (by [Forgetter.Sweep]), makes the
	// store skip, with [ErrAlreadyForgotten], a customer its audit trail
	// shows fully forgotten (nothing kept, not held) at or after it. The
	// store checks inside the forget's transaction, with the customer
	// locked, so that two sweeps at once never erase one customer twice.
	UnlessForgottenSince time.Time
	// Record is the receipt of this forget but for what only the store
	// learns (the customer id and row counts); [Plan.Receipt] completes
	// it. A store that keeps an audit trail completes and records it
	// inside the forget's transaction, so that there is never an erasure
	// without its record nor a record without its erasure.
	Record Receipt
}

// Receipt completes p.Record with what the store reports of the forget.
// It is a pure function of the plan and the result.
func (p Plan) Receipt(res Result) Receipt {
	rc := p.Record
	rc.CustomerID = res.CustomerID
	rc.Inventory = res.Inventory
	rc.RowsUpdated = res.Updated
	if len(res.Unwritten) > 0 {
		// No row held them: not erased, and said so. The plan's slices
		// are shared; these are the receipt's own.
		rc.FieldsErased = slices.DeleteFunc(slices.Clone(rc.FieldsErased), func(f Field) bool { return slices.Contains(res.Unwritten, f) })
		rc.Absent = slices.Clone(rc.Absent)
		for _, f := range res.Unwritten {
			rc.Absent = append(rc.Absent, string(f))
		}
	}
	rc.RowsDeleted = make(map[Table]int64, len(p.Tables))
	rc.RowsScrubbed = nil
	for _, t := range p.Tables {
		if len(t.Scrub) > 0 {
			if rc.RowsScrubbed == nil {
				rc.RowsScrubbed = make(map[Table]int64)
			}
			rc.RowsScrubbed[t.Table] = res.Rows[t.Table]
			continue
		}
		rc.RowsDeleted[t.Table] = res.Rows[t.Table]
	}
	return rc
}

// Assignment sets a field to a new value.
type Assignment struct {
	Field Field
	Value Value
}

// TableAction purges the customer's rows from Table, or, when Scrub is not
// empty, overwrites those columns of the rows instead.
type TableAction struct {
	Table Table
	Scrub []ColumnAssignment
}

// ColumnAssignment sets a column of a scrubbed table.
type ColumnAssignment struct {
	Column string
	Value  Value
}

// Result is what a Store reports of a forget.
type Result struct {
	CustomerID string
	// Inventory, in a dry run, is what the store holds of the customer
	// beyond the plan: tables and columns a forget would leave, names and
	// counts only. Nil when the store cannot tell.
	Inventory *Inventory
	// Rows counts, per table of the plan, the rows deleted (or scrubbed, or
	// in a dry run that would be).
	Rows map[Table]int64
	// Updated counts, per table of the store holding fields of the plan,
	// the customer's rows its update wrote (or would): rows matched, not
	// only those whose values changed. Nil when the store does not count.
	Updated map[string]int64
	// Unwritten lists the plan's fields that no row of the customer held
	// (a joined table without the customer's row): nothing was erased.
	Unwritten []Field
	// Attempts is how many transactions the store tried, retries
	// included; 0 when it does not count. A store may set it alongside an
	// error too, so that the retries of a failed forget are seen.
	Attempts int
}

// Verifier is implemented by stores that can check, against the live
// database, that every plan the catalogue can produce would run: tables
// and columns exist, each column can hold what its rule writes, unique
// columns get a rule that can be written twice, the audit table exists.
// [Forgetter.Verify] calls it; hosts call that before serving.
type Verifier interface {
	Verify(ctx context.Context, cat Catalogue) error
}
