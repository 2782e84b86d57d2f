package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestHostileCascadeFromViaTableIntoOtherCustomer: deliveries is mapped by
// customer_key (each customer's own deliveries are deleted) and its
// address_id references addresses ON DELETE CASCADE. Customer 2 had a
// delivery sent to customer 1's home (address 101). Forgetting customer 1
// deletes address 101, and the cascade deletes customer 2's delivery: a
// forget erasing another customer's row. Verify should refuse (the via
// table's rows are referenced by rows of other customers), or the forget
// must leave customer 2's delivery.
func TestHostileCascadeFromViaTableIntoOtherCustomer(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			shop := newViaShop(t, e, viaShopOpts{})
			k := map[sqlstore.Dialect]string{sqlstore.SQLite: "INTEGER", sqlstore.Postgres: "uuid", sqlstore.MySQL: "UUID"}[e.dialect]
			execAll(t, shop.db,
				"CREATE TABLE deliveries (id "+k+" PRIMARY KEY, customer_id "+k+" NOT NULL, address_id "+k+" NOT NULL, FOREIGN KEY (customer_id) REFERENCES customers (id), FOREIGN KEY (address_id) REFERENCES addresses (id) ON DELETE CASCADE)",
				"CREATE INDEX deliveries_customer ON deliveries (customer_id)",
				"CREATE INDEX deliveries_address ON deliveries (address_id)",
				"INSERT INTO deliveries (id, customer_id, address_id) VALUES ("+shop.lit(951)+", "+shop.lit(1)+", "+shop.lit(101)+"), ("+shop.lit(952)+", "+shop.lit(2)+", "+shop.lit(101)+")")
			shop.extra = []forget.Table{"deliveries"}
			schema := viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep})
			schema.Tables["deliveries"] = sqlstore.RelatedTable{Table: "deliveries", CustomerKey: "customer_id"}
			f, err := shop.forgetter(t, schema)
			if err != nil {
				// The safe outcome: Verify names the cascading key.
				if !strings.Contains(err.Error(), "deliveries(address_id) -> addresses(id) (ON DELETE CASCADE)") {
					t.Fatalf("Verify refused, but not for deliveries' cascading key: %v", err)
				}
				t.Logf("refused by Verify: %v", err)
				return
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(1)}}); err != nil {
				t.Fatalf("Verify passed, and the forget fails: %v", err)
			}
			var n int
			if err := shop.db.QueryRow("SELECT COUNT(*) FROM deliveries WHERE id = " + shop.lit(952)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Error("forgetting customer 1 deleted customer 2's delivery (ON DELETE CASCADE from the addresses via)")
			}
		})
	}
}
