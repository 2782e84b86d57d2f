package forget

import "context"

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
	// Shared counts, per table of the plan reached through another
	// table's rows, the rows left as they were because another customer
	// reaches them too (a shared address). Nil when there were none.
	Shared map[Table]int64
	// Updated counts, per table of the store holding fields of the plan,
	// the customer's rows its update wrote (or would): rows matched, not
	// only those whose values changed. Nil when the store does not count.
	Updated map[string]int64
	// Redacted counts, per "table.column" a redaction rule wrote, the
	// spans it redacted (mentions, JSON members) in the rows it wrote.
	// Nil when nothing was redacted.
	Redacted map[string]int64
	// Unwritten lists the plan's fields that no row of the customer held
	// (a joined table without the customer's row): nothing was erased.
	Unwritten []Field
	// Repeat reports a forget that found nothing left to erase: the plan
	// keeps nothing, the audit trail shows the customer fully forgotten
	// before, every field whose value is not Fresh already held the
	// plan's value, and no row of a catalogue table nor of a joined table
	// was there to delete or write. Only the customers' own row was
	// written again (its pseudonyms and random values drawn anew). A store
	// that keeps no audit trail never reports one. Unless
	// Plan.Repropagate, the store records the repeat's event as
	// published already: nothing changed, so nothing is sent downstream.
	Repeat bool
	// Attempts is how many transactions the store tried, retries
	// included; 0 when it does not count. A store may set it alongside an
	// error too, so that the retries of a failed forget are seen.
	Attempts int
}
