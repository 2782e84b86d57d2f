// Package outboxtest holds what the outbox tests of every store share:
// forgetting a customer by id and reading a claim's event ids.
package outboxtest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/forgetkit/forget"
)

// Forget forgets customer id with f, or fails the test. It repropagates,
// so that forgetting a customer again is an event too, as these tests
// count on (a repeat otherwise sends none: forget.Receipt.Repeat).
func Forget(tb testing.TB, f *forget.Forgetter, id string) *forget.Receipt {
	tb.Helper()
	rc, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: id}, Repropagate: true})
	if err != nil {
		tb.Fatalf("forget %s: %v", id, err)
	}
	return rc
}

// EventIDs returns the events' ids, in order.
func EventIDs(evs []forget.Event) []string {
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.EventID
	}
	return ids
}

// CheckMarked checks what concurrent relays marked published, in the
// order they marked it, against the forgets' receipts in commit order:
// every event marked, each customer's in commit order, and none twice
// unless repeats may happen (SQLite's claims lock nothing, so two relays
// may mark one event).
func CheckMarked(tb testing.TB, marked []string, committed []*forget.Receipt, repeats bool) {
	tb.Helper()
	pos := map[string]int{}
	for i, id := range marked {
		if _, dup := pos[id]; dup {
			if !repeats {
				tb.Errorf("event %s marked twice", id)
			}
			continue
		}
		pos[id] = i
	}
	last := map[string]int{}
	for _, rc := range committed {
		p, ok := pos[rc.EventID]
		if !ok {
			tb.Errorf("an event of customer %s was never marked", rc.CustomerID)
			continue
		}
		if prev, ok := last[rc.CustomerID]; ok && p < prev {
			tb.Errorf("customer %s: an event was marked before the one committed earlier", rc.CustomerID)
		}
		last[rc.CustomerID] = p
	}
}

// AuditEvents reads the default audit table (forget_audit) of db: the
// event ids of committed forgets in commit order, the same by customer,
// and how many are not published yet. Repeats are left out: their
// records are born published (published_at = at), and no relay sends
// them (forget.Receipt.Repeat).
func AuditEvents(tb testing.TB, db *sql.DB) (all []string, byCustomer map[string][]string, unpublished int) {
	tb.Helper()
	rows, err := db.Query("SELECT event_id, customer_id, published_at IS NULL FROM forget_audit WHERE held = '' AND (published_at IS NULL OR published_at <> at) ORDER BY audit_id")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	byCustomer = map[string][]string{}
	for rows.Next() {
		var id, c string
		var waiting bool
		if err := rows.Scan(&id, &c, &waiting); err != nil {
			tb.Fatal(err)
		}
		all = append(all, id)
		byCustomer[c] = append(byCustomer[c], id)
		if waiting {
			unpublished++
		}
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return all, byCustomer, unpublished
}
