package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
)

// TestHostileRulesDryRunAndCancel: a dry run, and a forget under a
// cancelled context, of the rules mapping (keyed hashes, JSON and text
// redaction, mentions) change no row of any table.
func TestHostileRulesDryRunAndCancel(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			seedRules(t, ctx, db, e)
			f := rulesForgetter(t, db, e)
			dump := func() string {
				var b strings.Builder
				for _, q := range []string{`SELECT * FROM people ORDER BY id`, `SELECT * FROM notes ORDER BY id`, `SELECT * FROM tickets ORDER BY id`} {
					fmt.Fprint(&b, dumpRows(t, ctx, db, q))
				}
				return b.String()
			}
			before := dump()
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, DryRun: true}); err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if dump() != before {
				t.Error("a dry run changed rows")
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := f.Forget(cctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err == nil {
				t.Error("a forget under a cancelled context succeeded")
			}
			if dump() != before {
				t.Error("a cancelled forget changed rows")
			}
		})
	}
}

// TestHostileMentionsBackslash: a pre-image with a backslash (MySQL's
// default LIKE escape) and LIKE's '!' escape itself is still found in a
// mentions table.
func TestHostileMentionsBackslash(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			seedRules(t, ctx, db, e)
			for _, q := range []string{
				`UPDATE people SET lastname = 'Back\slash!x' WHERE id = 1`,
				`INSERT INTO tickets VALUES (4, 'from Back\slash!x today')`,
			} {
				if e.name == "mysql" {
					q = strings.ReplaceAll(q, `\`, `\\`)
				}
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			f := rulesForgetter(t, db, e)
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Fatal(err)
			}
			got := dumpRows(t, ctx, db, `SELECT body FROM tickets WHERE id = 4`)
			if len(got) != 1 || strings.Contains(got[0][0].String, "slash") {
				t.Errorf("ticket 4 is %v, want the name redacted", got)
			}
		})
	}
}
