package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
)

// TestMentionsUnicodeForms: the mentions table loses the customer's name
// however another customer's ticket writes it: decomposed (NFD) where
// the name is stored composed, in capitals, and for a name with no ASCII
// run to look for (Cyrillic), which reads every row; a ticket naming
// someone else keeps every byte.
func TestMentionsUnicodeForms(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			seedRules(t, ctx, db, e)
			const stranger = "Мария Петрова and Chloé Dupont wrote"
			for _, q := range []string{
				`UPDATE people SET firstname = 'Chloë', lastname = 'Иванова' WHERE id = 1`,
				"INSERT INTO tickets VALUES (4, 'ring Chloe\u0308 back')",
				`INSERT INTO tickets VALUES (5, 'ИВАНОВА wrote again')`,
				`INSERT INTO tickets VALUES (6, '` + stranger + `')`,
			} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			f := rulesForgetter(t, db, e)
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Fatal(err)
			}
			rows := dumpRows(t, ctx, db, `SELECT id, body FROM tickets WHERE id IN (4, 5, 6) ORDER BY id`)
			if len(rows) != 3 {
				t.Fatalf("%d tickets, want 3", len(rows))
			}
			for _, r := range rows[:2] {
				if b := r[1].String; strings.Contains(b, "Chlo") || strings.Contains(b, "ИВАНОВА") || !strings.Contains(b, forget.Redacted) {
					t.Errorf("ticket %s still names the forgotten customer: %q", r[0].String, b)
				}
			}
			if got := rows[2][1].String; got != stranger {
				t.Errorf("a stranger's ticket changed: %q", got)
			}
		})
	}
}
