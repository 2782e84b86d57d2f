package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// TestUpperCaseUUIDForgetThenSweep: a customer forgotten by an upper-case
// spelling of their uuid key is audited under the key as the database
// prints it, so a sweep after it (the same cutoff) skips them rather than
// forgetting them a second time.
func TestUpperCaseUUIDForgetThenSweep(t *testing.T) {
	t.Parallel()
	keys := storetest.UUIDKeys()
	for _, e := range engines(t) {
		if e.dialect == sqlstore.SQLite {
			continue // TEXT: another spelling is another key
		}
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			b := newUUIDBackend(t, e, true, func(db *sql.DB, s *sqlstore.Schema) {
				execAll(t, db, "ALTER TABLE customers ADD last_login TIMESTAMP NULL")
				s.Activity = []sqlstore.Column{{Column: "last_login"}}
			})
			var cs []storetest.Customer
			for _, n := range []int{101, 102} {
				c := storetest.NewCustomer(n)
				c.ID = keys.Customer(n)
				cs = append(cs, c)
			}
			if err := b.Seed(ctx, cs); err != nil {
				t.Fatal(err)
			}
			execAll(t, b.db, "UPDATE customers SET last_login = '2020-01-01 00:00:00'")
			f, err := forget.New(b, forget.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			cutoff := time.Now().Add(-time.Hour)
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: strings.ToUpper(keys.Customer(101))}})
			if err != nil {
				t.Fatal(err)
			}
			if rc.CustomerID != keys.Customer(101) {
				t.Errorf("receipt names %s, want %s", rc.CustomerID, keys.Customer(101))
			}
			rep, err := f.Sweep(ctx, forget.SweepOptions{InactiveSince: cutoff})
			if err != nil {
				t.Fatal(err)
			}
			var records int
			if err := b.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM forget_audit WHERE held = ''").Scan(&records); err != nil {
				t.Fatal(err)
			}
			if records != 2 {
				t.Errorf("sweep %+v; %d erasure records, want 2 (101 once, 102 once)", rep, records)
			}
		})
	}
}

// TestUUIDOrderKeyWithBigintCustomers: transactions keyed by a uuid
// orderid while customers keep a bigint key (a shop that moved orders to
// uuids first). An integer orderid is invalid, not a database error; a
// uuid in either case names the customer; the dry run counts every
// table; a batch of order lookups forgets each customer once.
func TestUUIDOrderKeyWithBigintCustomers(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		if e.dialect == sqlstore.SQLite {
			continue // no uuid type
		}
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := schemaDB(t, e)
			seedCustomers(t, db, e, 1, 3)
			execAll(t, db, "DROP TABLE transactions",
				"CREATE TABLE transactions (orderid UUID PRIMARY KEY, customer_id BIGINT NOT NULL, amount_cents BIGINT NOT NULL DEFAULT 0)",
				"INSERT INTO transactions (orderid, customer_id) VALUES ('0f0e6a3c-1d2e-4f00-8a1b-000000000001', 1), ('0f0e6a3c-1d2e-4f00-8a1b-000000000002', 2), ('0f0e6a3c-1d2e-4f00-8a1b-000000000003', 3)")
			schema := sqlstore.DefaultSchema()
			schema.Orders.KeyType = ""
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, s)
			if err := f.Verify(ctx); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{OrderID: "191"}}); !errors.Is(err, forget.ErrInvalid) {
				t.Errorf("orderid 191: %v, want ErrInvalid", err)
			}
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{OrderID: "0F0E6A3C-1D2E-4F00-8A1B-000000000001"}, DryRun: true})
			if err != nil {
				t.Fatalf("dry run by upper-case orderid: %v", err)
			}
			if rc.CustomerID != "1" {
				t.Errorf("dry run names customer %q, want 1", rc.CustomerID)
			}
			for _, tb := range rc.Inventory.Tables {
				if tb.Uncounted {
					t.Errorf("inventory: table %s uncounted", tb.Table)
				}
			}
			before, _ := sqlstore.BulkStats(s)
			out := f.ForgetBatch(ctx, []forget.Request{
				{Lookup: forget.Lookup{OrderID: "0f0e6a3c-1d2e-4f00-8a1b-000000000002"}},
				{Lookup: forget.Lookup{OrderID: "42"}},
				{Lookup: forget.Lookup{OrderID: "0F0E6A3C-1D2E-4F00-8A1B-000000000003"}},
			})
			if out[0].Err != nil || out[2].Err != nil || !errors.Is(out[1].Err, forget.ErrInvalid) {
				t.Fatalf("batch: %v, %v, %v; want forgotten, invalid, forgotten", out[0].Err, out[1].Err, out[2].Err)
			}
			if sets, fallbacks := sqlstore.BulkStats(s); sets == before || fallbacks != 0 {
				t.Errorf("%d groups set-based, %d fell back per customer; want the batch set-based", sets-before, fallbacks)
			}
			if out[0].Receipt.CustomerID != "2" || out[2].Receipt.CustomerID != "3" {
				t.Errorf("batch forgot %q and %q, want 2 and 3", out[0].Receipt.CustomerID, out[2].Receipt.CustomerID)
			}
			if n := countRows(t, db, "SELECT COUNT(*) FROM forget_audit WHERE held = ''"); n != 2 {
				t.Errorf("%d erasure records, want 2", n)
			}
		})
	}
}
