package forget

import (
	"encoding/json"
	"time"
)

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
	// RowsShared counts, per table, the rows a forget left because
	// another customer reaches them too (a mapping's "shared": "keep").
	RowsShared map[Table]int64 `json:"rows_shared,omitempty"`
	// RowsUpdated counts, per table of the store that holds erased
	// fields, the customer's rows written: the customers table's one
	// row, and as many as a joined table holds (0 when it holds none,
	// and then its fields are not in FieldsErased but in Absent).
	RowsUpdated map[string]int64 `json:"rows_updated,omitempty"`
	TablesKept  []Table          `json:"tables_kept"`
	// Redactions counts, per "table.column" a redaction rule wrote, the
	// spans redacted (mentions in text, members of JSON): never a value.
	Redactions map[string]int64 `json:"redactions,omitempty"`
	// Absent lists the catalogue entries nothing was there to erase or
	// keep of: the store's database does not have them, or (a field of a
	// joined table) has no row of this customer that holds them.
	Absent []string `json:"absent,omitempty"`
	// Repeat marks a forget of a customer already fully forgotten, with
	// nothing left to erase (see [Result.Repeat]): it is audited, but its
	// event is not sent downstream unless Request.Repropagate asked.
	Repeat    bool      `json:"repeat,omitempty"`
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
	// Certificate is the erasure's signed, value-free certificate, when
	// the Forgetter has a [Certifier] ([WithCertifier]): its JSON, byte
	// for byte as signed, recorded with the audit record and carried by
	// the event. Read and check it with package
	// github.com/forgetkit/forget/certificate (Parse, then Verify). Nil
	// in dry runs and refusals.
	Certificate json.RawMessage `json:"certificate,omitempty"`
}
