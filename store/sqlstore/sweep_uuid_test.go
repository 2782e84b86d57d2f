package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/forgetkit/forget"

	"github.com/forgetkit/forget/store/sqlstore"
)

// TestSweepUUIDKey: a sweep over a uuid customers key compares it with
// the audit table's TEXT customer_id; PostgreSQL has no uuid = text.
func TestSweepUUIDKey(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		if e.dialect != sqlstore.Postgres {
			continue
		}
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := schemaDB(t, e)
			if _, err := db.ExecContext(ctx, "CREATE TABLE ucustomers (customer_id uuid PRIMARY KEY, email TEXT, last_login TIMESTAMP NULL)"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO ucustomers VALUES ('5b0e6a3c-1d2e-4f00-8a1b-000000000001', 'a@example.com', '2020-01-01')"); err != nil {
				t.Fatal(err)
			}
			schema := sqlstore.DefaultSchema()
			schema.Customers = sqlstore.CustomerTable{Table: "ucustomers", Key: "customer_id", KeyType: sqlstore.KeyText}
			schema.Activity = []sqlstore.Column{{Column: "last_login"}}
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
			if err != nil {
				t.Fatal(err)
			}
			keys, _, err := s.Inactive(ctx, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 1 || keys[0] != "5b0e6a3c-1d2e-4f00-8a1b-000000000001" {
				t.Errorf("inactive %q", keys)
			}
			inv, err := s.Inventory(ctx, forget.Lookup{CustomerID: keys[0]}, forget.DefaultCatalogue())
			if err != nil {
				t.Fatal(err)
			}
			for _, tb := range inv.Tables {
				if tb.Table == "ucustomers" && (tb.Uncounted || tb.Rows != 1) {
					t.Errorf("inventory of ucustomers: %+v", tb)
				}
			}
		})
	}
}
