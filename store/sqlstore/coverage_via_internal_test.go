package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/forgetkit/forget"
)

// TestInventoryCountsThroughVia: a customer's inventory counts the rows
// of a table reached by a value link (order_items.order_id from
// orders.id, no foreign key) and of a table below it, by joining along
// the link; a normalised link is not counted. The mapping is set on the
// store directly: Validate does not take a Via yet on this branch.
func TestInventoryCountsThroughVia(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "d.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, st := range []string{
		`CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, email TEXT)`,
		`CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL)`,
		`CREATE TABLE order_items (item_id INTEGER PRIMARY KEY, order_ref INTEGER NOT NULL, gift TEXT)`,
		`CREATE TABLE item_notes (note_id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES order_items (item_id), body TEXT)`,
		`CREATE TABLE newsletter (email TEXT PRIMARY KEY)`,
		`INSERT INTO customers VALUES (1, 'a@example.org'), (2, 'b@example.org')`,
		`INSERT INTO orders VALUES (10, 1), (11, 1), (20, 2)`,
		`INSERT INTO order_items VALUES (100, 10, 'x'), (101, 10, 'y'), (102, 11, 'z'), (200, 20, 'w')`,
		`INSERT INTO item_notes VALUES (1, 100, 'n'), (2, 200, 'm')`,
		`INSERT INTO newsletter VALUES ('a@example.org')`,
	} {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	s, err := New(db, SQLite, WithSchema(Schema{
		Customers: CustomerTable{Table: "customers", Key: "customer_id", KeyType: KeyInt},
		Fields:    map[forget.Field]Column{},
		Tables:    map[forget.Table]RelatedTable{"orders": {Table: "orders", CustomerKey: "customer_id"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	s.schema.Tables["order_items"] = RelatedTable{Table: "order_items", Via: &Via{Column: "order_ref", From: "orders.order_id"}}
	s.schema.Tables["newsletter"] = RelatedTable{Table: "newsletter", Via: &Via{Column: "email", From: "customers.email", Normalize: "lower"}}
	cat := forget.Catalogue{Tables: []forget.TableSpec{{Name: "orders"}, {Name: "order_items"}, {Name: "newsletter"}}}
	inv, err := s.Inventory(ctx, forget.Lookup{CustomerID: "1"}, cat)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range inv.Tables {
		n := "?"
		if !it.Uncounted {
			n = string(rune('0' + it.Rows))
		}
		got[it.Table] = n + " " + it.Action
	}
	for table, want := range map[string]string{"orders": "2 deleted", "order_items": "3 deleted", "item_notes": "1 none", "newsletter": "? deleted"} {
		if got[table] != want {
			t.Errorf("%s: %q, want %q (all: %v)", table, got[table], want, got)
		}
	}
}
