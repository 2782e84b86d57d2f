package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestRepeatNeedsNothingLeft: a full forget after a full forget is a
// repeat only when nothing was left to erase. Customer 102's joined
// shipping row and scrubbed login rows are written again, so its second
// forget is no repeat; 101's is, until a value comes back to a field whose
// rule writes a fixed one (firstname: the empty string). A repeat's
// record is born published, unless the request repropagates it. Per
// customer and set-based, on every engine.
func TestRepeatNeedsNothingLeft(t *testing.T) {
	for _, e := range engines(t) {
		for _, setBased := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/setBased=%v", e.name, setBased), func(t *testing.T) {
				ctx := context.Background()
				s, f, db := writtenFixtureDB(t, e, sqlstore.WithSetBased(setBased))
				run := func(repropagate bool, want ...bool) {
					t.Helper()
					var reqs []forget.Request
					for _, id := range []string{"101", "102", "104"} {
						reqs = append(reqs, forget.Request{Lookup: forget.Lookup{CustomerID: id}, Repropagate: repropagate})
					}
					for i, o := range f.ForgetBatch(ctx, reqs) {
						if o.Err != nil {
							t.Fatalf("customer %s: %v", reqs[i].Lookup.CustomerID, o.Err)
						}
						if o.Receipt.Repeat != want[i] {
							t.Errorf("customer %s: repeat = %v, want %v", reqs[i].Lookup.CustomerID, o.Receipt.Repeat, want[i])
						}
					}
				}
				run(false, false, false, false)
				run(false, true, false, true)
				if _, err := db.ExecContext(ctx, "UPDATE customers SET firstname = 'Ann' WHERE customer_id = 101"); err != nil {
					t.Fatal(err)
				}
				run(true, false, false, true)
				run(true, true, false, true)
				// Unpublished: every record but the two quiet repeats of
				// the second run (101's and 104's).
				var pending int
				if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM forget_audit WHERE published_at IS NULL").Scan(&pending); err != nil {
					t.Fatal(err)
				}
				if pending != 12-2 {
					t.Errorf("%d audit records unpublished, want 10: a repeat is born published unless repropagated", pending)
				}
				if _, err := s.AuditTrail(ctx, time.Time{}); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}
