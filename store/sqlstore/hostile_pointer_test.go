package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestHostileSecondPointerIntoViaTable: customers has a second pointer
// into addresses, work_address_id, that the mapping does not mention.
// Customer 2's work address is customer 1's home (address 101). The
// addresses via (from customers.home_address_id, shared keep) looks for
// other holders in home_address_id only, so forgetting customer 1 deletes
// address 101 although customer 2 still uses it: with ON DELETE SET NULL
// customer 2's row is silently changed (another customer's row touched);
// with NO ACTION the forget fails after Verify passed. Either Verify
// refuses, or address 101 stays and customer 2's row is unchanged.
func TestHostileSecondPointerIntoViaTable(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			for _, action := range []string{"SET NULL", "NO ACTION"} {
				t.Run(action, func(t *testing.T) {
					ctx := context.Background()
					shop := newViaShop(t, e, viaShopOpts{})
					k := map[sqlstore.Dialect]string{sqlstore.SQLite: "INTEGER", sqlstore.Postgres: "uuid", sqlstore.MySQL: "UUID"}[e.dialect]
					if e.dialect == sqlstore.SQLite {
						// SQLite cannot add a foreign key to a table: a side table instead.
						execAll(t, shop.db, "CREATE TABLE work (customer_id INTEGER PRIMARY KEY REFERENCES customers (id), work_address_id INTEGER NULL REFERENCES addresses (id) ON DELETE "+action+")",
							"INSERT INTO work VALUES (2, 101)")
					} else {
						execAll(t, shop.db, "ALTER TABLE customers ADD COLUMN work_address_id "+k+" NULL",
							"ALTER TABLE customers ADD FOREIGN KEY (work_address_id) REFERENCES addresses (id) ON DELETE "+action,
							"UPDATE customers SET work_address_id = "+shop.lit(101)+" WHERE id = "+shop.lit(2))
					}
					f, err := shop.forgetter(t, viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep}))
					if err != nil {
						// The safe outcome: Verify names the second pointer.
						if !strings.Contains(err.Error(), "work") || !strings.Contains(err.Error(), "work_address_id") {
							t.Fatalf("Verify refused, but not for the second pointer work_address_id: %v", err)
						}
						t.Logf("refused by Verify: %v", err)
						return
					}
					_, err = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(1)}})
					if err != nil {
						t.Fatalf("Verify passed, and the forget fails: %v", err)
					}
					q := "SELECT work_address_id FROM customers WHERE id = " + shop.lit(2)
					if e.dialect == sqlstore.SQLite {
						q = "SELECT work_address_id FROM work WHERE customer_id = 2"
					}
					var work *string
					if err := shop.db.QueryRow(q).Scan(&work); err != nil {
						t.Fatal(err)
					}
					if work == nil || *work != shop.key(101) {
						t.Errorf("forgetting customer 1 changed customer 2's work address to %v (address 101 deleted)", work)
					}
				})
			}
		})
	}
}
