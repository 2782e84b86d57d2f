package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestHoldOps: every operator of a mapped hold refuses exactly the
// customers whose rows match it, on every engine, on the single-customer
// path and the set-based one alike. Customer i (1 to 6) has transactions
// of i*100 cents, made i years ago; customer 6's have no time.
func TestHoldOps(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"5001y", "99999999999999999999d", "9999999h", "0d", "3x"} {
		schema := sqlstore.DefaultSchema()
		schema.Holds = []sqlstore.Hold{{Name: "h", Table: "transactions", CustomerKey: "customer_id", Where: []sqlstore.Condition{{Column: "created_at", Op: "newer_than", Value: v}}}}
		if err := schema.Validate(); err == nil {
			t.Errorf("newer_than %q: accepted", v)
		}
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := schemaDB(t, e)
			typ := map[sqlstore.Dialect]string{sqlstore.SQLite: "TEXT", sqlstore.Postgres: "TIMESTAMP", sqlstore.MySQL: "DATETIME"}[e.dialect]
			if _, err := db.ExecContext(ctx, "ALTER TABLE transactions ADD COLUMN created_at "+typ+" NULL"); err != nil {
				t.Fatal(err)
			}
			ph := seedCustomers(t, db, e, 1, 6)
			for id := 1; id <= 6; id++ {
				var at any = time.Now().UTC().AddDate(-id, 0, 0)
				switch {
				case id == 6:
					at = nil
				case e.dialect == sqlstore.SQLite:
					at = at.(time.Time).Format("2006-01-02 15:04:05")
				}
				if _, err := db.ExecContext(ctx, fmt.Sprintf("UPDATE transactions SET amount_cents = %s, created_at = %s WHERE customer_id = %s", ph(1), ph(2), ph(3)), id*100, at, id); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range []struct {
				cond sqlstore.Condition
				held []int
			}{
				{sqlstore.Condition{Column: "amount_cents", Op: "=", Value: 300}, []int{3}},
				{sqlstore.Condition{Column: "amount_cents", Op: "!=", Value: 300}, []int{1, 2, 4, 5, 6}},
				{sqlstore.Condition{Column: "amount_cents", Op: "<", Value: 300}, []int{1, 2}},
				{sqlstore.Condition{Column: "amount_cents", Op: "<=", Value: 300}, []int{1, 2, 3}},
				{sqlstore.Condition{Column: "amount_cents", Op: ">", Value: 300}, []int{4, 5, 6}},
				{sqlstore.Condition{Column: "amount_cents", Op: ">=", Value: 300}, []int{3, 4, 5, 6}},
				{sqlstore.Condition{Column: "amount_cents", Op: "in", Value: []any{100, 600}}, []int{1, 6}},
				{sqlstore.Condition{Column: "created_at", Op: "is_null"}, []int{6}},
				{sqlstore.Condition{Column: "created_at", Op: "not_null"}, []int{1, 2, 3, 4, 5}},
				{sqlstore.Condition{Column: "created_at", Op: "newer_than", Value: "900d"}, []int{1, 2}},
				{sqlstore.Condition{Column: "created_at", Op: "older_than", Value: "900d"}, []int{3, 4, 5}},
				// Calendar years: customer 3's time is 3y ago to the day,
				// which 3×365 days (one leap day short) called newer.
				{sqlstore.Condition{Column: "created_at", Op: "newer_than", Value: "3y"}, []int{1, 2}},
				{sqlstore.Condition{Column: "created_at", Op: "older_than", Value: "30mo"}, []int{3, 4, 5}},
				// Once a time.Duration of 1000×365 days, which wrapped.
				{sqlstore.Condition{Column: "created_at", Op: "newer_than", Value: "1000y"}, []int{1, 2, 3, 4, 5}},
			} {
				schema := sqlstore.DefaultSchema()
				schema.Holds = []sqlstore.Hold{{Name: "h", Table: "transactions", CustomerKey: "customer_id", Where: []sqlstore.Condition{tc.cond}}}
				s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema))
				if err != nil {
					t.Fatal(err)
				}
				f := quietForgetter(t, s)
				var reqs []forget.Request
				var single []int
				for id := 1; id <= 6; id++ {
					req := forget.Request{Lookup: forget.Lookup{CustomerID: fmt.Sprint(id)}, DryRun: true}
					reqs = append(reqs, req)
					if _, err := f.Forget(ctx, req); errors.Is(err, forget.ErrHeld) {
						single = append(single, id)
					} else if err != nil {
						t.Fatalf("%s %s: customer %d: %v", tc.cond.Column, tc.cond.Op, id, err)
					}
				}
				var batch []int
				for i, o := range f.ForgetBatch(ctx, reqs) {
					if errors.Is(o.Err, forget.ErrHeld) {
						batch = append(batch, i+1)
					} else if o.Err != nil {
						t.Fatalf("%s %s: batch request %d: %v", tc.cond.Column, tc.cond.Op, i, o.Err)
					}
				}
				if !slices.Equal(single, tc.held) || !slices.Equal(batch, tc.held) {
					t.Errorf("%s %s %v: held %v one by one and %v in a batch, want %v", tc.cond.Column, tc.cond.Op, tc.cond.Value, single, batch, tc.held)
				}
				if sets, _ := sqlstore.BulkStats(s); sets == 0 {
					t.Errorf("%s %s: the batch did not run set-based", tc.cond.Column, tc.cond.Op)
				}
			}
		})
	}
}
