package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestVerifyRefusesHoldsThatNeverMatch: a hold on a missing table or
// column, or with a value its column cannot compare with, would let the
// customers it protects be erased; Verify names each, on every engine.
func TestVerifyRefusesHoldsThatNeverMatch(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			db := schemaDB(t, e)
			hold := func(table, key string, c sqlstore.Condition) sqlstore.Schema {
				s := sqlstore.DefaultSchema()
				s.Holds = []sqlstore.Hold{{Name: "h", Table: table, CustomerKey: key, Where: []sqlstore.Condition{c}}}
				return s
			}
			for _, ok := range []sqlstore.Schema{
				hold("subscriptions", "customer_id", sqlstore.Condition{Column: "status", Op: "=", Value: "chargeback"}),
				hold("transactions", "customer_id", sqlstore.Condition{Column: "amount_cents", Op: ">", Value: float64(100)}),
				hold("transactions", "customer_id", sqlstore.Condition{Column: "amount_cents", Op: "in", Value: []any{float64(1), 2}}),
				hold("subscriptions", "customer_id", sqlstore.Condition{Column: "status", Op: "is_null"}),
			} {
				if err := verify(t, db, e.dialect, ok, forget.DefaultCatalogue()); err != nil {
					t.Errorf("Verify of a good hold %+v: %v", ok.Holds[0], err)
				}
			}
			for _, tc := range []struct {
				schema sqlstore.Schema
				want   string
			}{
				{hold("chargebacks", "customer_id", sqlstore.Condition{Column: "status", Op: "=", Value: "open"}), "hold 1 (h): table chargebacks does not exist"},
				{hold("subscriptions", "customer", sqlstore.Condition{Column: "status", Op: "=", Value: "open"}), "hold 1 (h) customer_key: column subscriptions.customer does not exist"},
				{hold("subscriptions", "customer_id", sqlstore.Condition{Column: "stauts", Op: "=", Value: "chargeback"}), "hold 1 (h) condition 1: column subscriptions.stauts does not exist"},
				{hold("subscriptions", "customer_id", sqlstore.Condition{Column: "status", Op: "=", Value: float64(3)}), "hold 1 (h) condition 1: subscriptions.status is"},
				{hold("subscriptions", "customer_id", sqlstore.Condition{Column: "status", Op: "in", Value: []any{"a", true}}), "the in list holds a bool"},
				{hold("transactions", "customer_id", sqlstore.Condition{Column: "amount_cents", Op: "=", Value: "100"}), "but the value is a string"},
				{hold("transactions", "customer_id", sqlstore.Condition{Column: "amount_cents", Op: "newer_than", Value: "10y"}), "newer_than compares transactions.amount_cents with a time"},
			} {
				err := verify(t, db, e.dialect, tc.schema, forget.DefaultCatalogue())
				wantVerifyError(t, err, tc.want)
			}
		})
	}
}

// TestMisspeltHoldColumnIsAnError: a store whose host skipped Verify must
// still not read a misspelt hold column as a string literal (SQLite does
// so for a double-quoted name): the forget fails, nothing is erased.
func TestMisspeltHoldColumnIsAnError(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := schemaDB(t, e)
			seedCustomers(t, db, e, 1, 1)
			schema := sqlstore.DefaultSchema()
			// "stauts" = 'stauts' is true on SQLite for a double-quoted name.
			schema.Holds = []sqlstore.Hold{{Name: "h", Table: "subscriptions", CustomerKey: "customer_id",
				Where: []sqlstore.Condition{{Column: "stauts", Op: "!=", Value: "stauts"}}}}
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema))
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, s, forget.WithoutVerify())
			_, err = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
			if err == nil || errors.Is(err, forget.ErrHeld) {
				t.Fatalf("Forget with a misspelt hold column: %v; want a database error", err)
			}
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM subscriptions WHERE customer_id = 1").Scan(&n); err != nil || n == 0 {
				t.Fatalf("customer 1's subscriptions: %d rows, %v; want them kept", n, err)
			}
		})
	}
}
