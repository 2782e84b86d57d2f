package forget

import (
	"context"
	"time"
)

// Request asks to forget one customer.
type Request struct {
	Lookup Lookup
	// Keep lists the fields and tables to preserve. Each item may itself
	// be a comma-separated list; see [Catalogue.ParseKeep].
	Keep []string
	// DryRun resolves the customer and reports what would be erased
	// without changing anything.
	DryRun bool
	// Principal is who asked, for the receipt. When empty, the principal
	// stored in the context by [WithPrincipal] is used.
	Principal string
	// RequestID ties the receipt to logs and responses.
	RequestID string
	// IgnoreHolds names holds an operator has cleared for this request:
	// the store does not check them, and the receipt and audit record
	// list them. A name the store does not declare is invalid.
	IgnoreHolds []string

	// sweptSince, set by Sweep only, becomes Plan.UnlessForgottenSince.
	sweptSince time.Time
}

// Receipt says what a forget did. It never holds a field's value.
type Receipt struct {
	// EventID names the erasure event of a committed forget: the same id
	// in the audit record, the stream and every webhook, so that each
	// downstream system can drop repeats. Dry runs have none.
	EventID      string          `json:"event_id,omitempty"`
	CustomerID   string          `json:"customer_id"`
	FieldsErased []Field         `json:"fields_erased"`
	FieldsKept   []Field         `json:"fields_kept"`
	RowsDeleted  map[Table]int64 `json:"rows_deleted"`
	RowsScrubbed map[Table]int64 `json:"rows_scrubbed,omitempty"`
	// RowsUpdated counts, per table of the store that holds erased
	// fields, the customer's rows written: the customers table's one
	// row, and as many as a joined table holds (0 when it holds none,
	// and then its fields are not in FieldsErased but in Absent).
	RowsUpdated map[string]int64 `json:"rows_updated,omitempty"`
	TablesKept  []Table          `json:"tables_kept"`
	// Absent lists the catalogue entries nothing was there to erase or
	// keep of: the store's database does not have them, or (a field of a
	// joined table) has no row of this customer that holds them.
	Absent    []string  `json:"absent,omitempty"`
	DryRun    bool      `json:"dry_run"`
	At        time.Time `json:"at"`
	Principal string    `json:"principal,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	// HoldsIgnored lists the holds the request told the store not to
	// check (Request.IgnoreHolds).
	HoldsIgnored []string `json:"holds_ignored,omitempty"`
	// Held, in an audit record, names the hold that refused the forget:
	// the record is of a refusal, and nothing was erased.
	Held string `json:"held,omitempty"`
	// HooksFailed names the after-forget hooks that failed. The erasure
	// stands: it was committed before any hook ran.
	HooksFailed []string `json:"hooks_failed,omitempty"`
	// Inventory, in a dry run's receipt, is everything the store holds on
	// the customer, including what the forget would leave as it is; nil
	// when the store cannot tell.
	Inventory *Inventory `json:"inventory,omitempty"`
}

type principalKey struct{}

// WithPrincipal returns a context naming who makes the request. Host
// middleware that authenticates callers itself uses it to fill receipts.
func WithPrincipal(ctx context.Context, principal string) context.Context {
	return context.WithValue(ctx, principalKey{}, principal)
}

// PrincipalFrom returns the principal stored by WithPrincipal, or "".
func PrincipalFrom(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(string)
	return p
}
