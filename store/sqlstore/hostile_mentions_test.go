package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
)

// TestHostileMentionsNonASCIIName: a customer whose name is not ASCII
// (Émilie Łukasiewicz) is named in another customer's ticket, once as
// stored and once in capitals. The mentions table must lose both: the
// store finds candidate rows with LOWER(body) LIKE on the Go-lowered
// pre-image, and an engine whose LOWER or LIKE folds ASCII only (SQLite)
// never selects the row, so the name survives the forget.
func TestHostileMentionsNonASCIIName(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			seedRules(t, ctx, db, e)
			for _, q := range []string{
				`UPDATE people SET firstname = 'Émilie', lastname = 'Łukasiewicz' WHERE id = 1`,
				`INSERT INTO tickets VALUES (4, 'please ring Émilie Łukasiewicz back')`,
				`INSERT INTO tickets VALUES (5, 'ÉMILIE ŁUKASIEWICZ wrote again')`,
			} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			f := rulesForgetter(t, db, e)
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Fatal(err)
			}
			for _, r := range dumpRows(t, ctx, db, `SELECT id, body FROM tickets WHERE id IN (4, 5) ORDER BY id`) {
				body := strings.ToLower(r[1].String)
				if strings.Contains(body, "émilie") || strings.Contains(body, "łukasiewicz") {
					t.Errorf("ticket %s still names the forgotten customer: %q", r[0].String, r[1].String)
				}
			}
		})
	}
}

// TestHostileMentionsPhoneInPairs: customer 1's phone is stored
// "+33 6 12 34 56 78"; another customer's ticket writes it the French way,
// "06 12 34 56 78". RedactString finds it (other separators, no country
// code), but the mentions preselect looks for the last four digits
// together ("5678"), which the ticket splits ("56 78"): the row is never
// read and the number survives.
func TestHostileMentionsPhoneInPairs(t *testing.T) {
	t.Parallel()
	if got, _ := forget.RedactString("ring 06 12 34 56 78 now", []string{"+33 6 12 34 56 78"}, nil); strings.Contains(got, "56 78") {
		t.Skipf("RedactString itself keeps it: %q", got)
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			seedRules(t, ctx, db, e)
			for _, q := range []string{
				`UPDATE people SET phone = '+33 6 12 34 56 78' WHERE id = 1`,
				`INSERT INTO tickets VALUES (4, 'ring 06 12 34 56 78 now')`,
			} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			f := rulesForgetter(t, db, e)
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Fatal(err)
			}
			for _, r := range dumpRows(t, ctx, db, `SELECT body FROM tickets WHERE id = 4`) {
				if strings.Contains(r[0].String, "56 78") {
					t.Errorf("ticket 4 still holds her phone number: %q", r[0].String)
				}
			}
		})
	}
}
