package sqlstore_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestRailsStyleKeys: every table keyed by its own "id", customers too,
// and a products table that holds no customer. The customers key's name
// is in every table, so no table may count as the customer's by that
// name alone: Verify passes, a forget erases, and the dry run's
// inventory names no product row as the customer's.
func TestRailsStyleKeys(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := schemaDB(t, e)
			seedCustomers(t, db, e, 1, 2)
			idType := map[sqlstore.Dialect]string{sqlstore.SQLite: "INTEGER", sqlstore.Postgres: "BIGINT", sqlstore.MySQL: "BIGINT"}[e.dialect]
			execAll(t, db, "ALTER TABLE customers RENAME COLUMN customer_id TO id",
				"ALTER TABLE subscriptions RENAME COLUMN subscription_id TO id",
				"ALTER TABLE transactions RENAME COLUMN orderid TO id",
				"CREATE TABLE products (id "+idType+" PRIMARY KEY, title VARCHAR(64))",
				"INSERT INTO products (id, title) VALUES (1, 'kettle'), (2, 'mug')")
			schema := sqlstore.DefaultSchema()
			schema.Customers.Key = "id"
			schema.Subscriptions.Key = "id"
			schema.Orders.Key = "id"
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, s)
			if err := f.Verify(ctx); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, DryRun: true})
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			for _, tb := range rc.Inventory.Tables {
				if tb.Table == "products" {
					t.Errorf("the inventory counts %d products rows as customer 1's", tb.Rows)
				}
			}
			sub := countRows(t, db, "SELECT MIN(id) FROM subscriptions WHERE customer_id = 1")
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{SubscriptionID: strconv.Itoa(sub)}}); err != nil {
				t.Fatalf("forget by subscription: %v", err)
			}
			if n := countRows(t, db, "SELECT COUNT(*) FROM products"); n != 2 {
				t.Fatalf("%d products after the forget, want 2", n)
			}
		})
	}
}
