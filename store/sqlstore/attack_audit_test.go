package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestLegacyAuditRefusalsRepeated: on an audit table made before
// (event_id NOT NULL, unique), refusals of the same customer again and
// again, in one batch and in single forgets, each get a placeholder of
// their own: none fails on the unique index, none is claimed as an event.
func TestLegacyAuditRefusalsRepeated(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			fx := newBulkFixture(t, e)
			ddl := sqlstore.AuditDDL(e.dialect, sqlstore.DefaultAuditTable)
			ddl[0] = regexp.MustCompile(`(.event_id. (TEXT|VARCHAR\(255\)))`).ReplaceAllString(ddl[0], "$1 NOT NULL")
			for _, st := range append([]string{"DROP TABLE " + sqlstore.DefaultAuditTable}, ddl...) {
				if _, err := fx.db.ExecContext(ctx, st); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			if err := fx.f.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			held := forget.Request{Lookup: forget.Lookup{CustomerID: "121"}}
			for i := 0; i < 2; i++ {
				if _, err := fx.f.Forget(ctx, held); !errors.Is(err, forget.ErrHeld) {
					t.Fatalf("Forget(121) #%d = %v, want held", i, err)
				}
			}
			out := fx.f.ForgetBatch(ctx, []forget.Request{held, held, {Lookup: forget.Lookup{CustomerID: "101"}}, held})
			for i, o := range out {
				if want := i != 2; errors.Is(o.Err, forget.ErrHeld) != want || !want && o.Err != nil {
					t.Errorf("batch[%d] = %v", i, o.Err)
				}
			}
			var refusals int
			if err := fx.db.QueryRowContext(ctx, "SELECT COUNT(DISTINCT event_id) FROM forget_audit WHERE held <> ''").Scan(&refusals); err != nil {
				t.Fatal(err)
			}
			if refusals != 5 {
				t.Errorf("%d distinct placeholders for 5 refusals", refusals)
			}
			claim, err := fx.s.ClaimEvents(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			defer claim.Release()
			if evs := claim.Events(); len(evs) != 1 || evs[0].CustomerID != "101" {
				t.Errorf("claimed %s, want the erasure of 101", fmt.Sprint(len(evs)))
			}
		})
	}
}
