package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// TestUUIDKey: on a schema keyed by uuid (PostgreSQL's uuid, MariaDB's
// UUID, TEXT on SQLite), Verify learns the key type, an integer id is
// invalid before it reaches the database, inventories count every table,
// set-based batches stay set-based, the audit trail holds the key, and a
// sweep skips the customers it erased.
func TestUUIDKey(t *testing.T) {
	t.Parallel()
	keys := storetest.UUIDKeys()
	for _, e := range engines(t) {
		for _, native := range []bool{true, false} {
			name := e.name
			switch {
			case !native && e.dialect == sqlstore.SQLite:
				continue // TEXT either way
			case !native:
				name += "/char36"
			}
			t.Run(name, func(t *testing.T) { testUUIDKey(t, e, native, keys) })
		}
	}
}

func testUUIDKey(t *testing.T, e engine, native bool, keys storetest.Keys) {
	ctx := context.Background()
	b := newUUIDBackend(t, e, native, func(db *sql.DB, s *sqlstore.Schema) {
		typ := "TIMESTAMP NULL"
		if e.dialect == sqlstore.SQLite {
			typ = "TEXT"
		}
		if _, err := db.ExecContext(ctx, "ALTER TABLE customers ADD last_login "+typ); err != nil {
			t.Fatal(err)
		}
		s.Activity = []sqlstore.Column{{Column: "last_login"}}
	})
	var cs []storetest.Customer
	for _, n := range []int{101, 102, 103} {
		c := storetest.NewCustomer(n)
		c.ID = keys.Customer(n)
		cs = append(cs, c)
	}
	if err := b.Seed(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.ExecContext(ctx, "UPDATE customers SET last_login = '2020-01-01 00:00:00'"); err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(b, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(ctx); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	// Offerit's own integer id, and a uuid's other spellings.
	for _, v := range []string{"191", "5b0e6a3c1d2e4f008a1b000000000101", "5b0e6a3c-1d2e-4f00-8a1b-00000000010g"} {
		if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: v}}); !errors.Is(err, forget.ErrInvalid) {
			t.Errorf("customer_id %s: %v, want ErrInvalid", v, err)
		}
	}
	// Over HTTP, as Offerit's own clients send it: 400, not 500.
	h, err := forget.NewHandler(f, forget.HostAuthenticated())
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPatch, "/api/customer/forget", strings.NewReader("customer_id=191"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "invalid") {
		t.Errorf("PATCH customer_id=191: %d %s, want 400 invalid", rec.Code, rec.Body)
	}

	// Either case names the customer in a uuid column; a TEXT
	// column compares as text.
	id103 := keys.Customer(103)
	if native && e.dialect != sqlstore.SQLite || e.dialect == sqlstore.MySQL {
		id103 = strings.ToUpper(id103) // MariaDB's collations ignore case
	}
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: id103}, DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if rc.Inventory == nil {
		t.Fatal("dry run without an inventory")
	}
	want := map[string]int64{"customers": 1, "subscriptions": 2, "transactions": 3, "member_auth": 2, "member_note": 3}
	for _, tb := range rc.Inventory.Tables {
		if w, ok := want[tb.Table]; ok && (tb.Uncounted || tb.Rows != w) {
			t.Errorf("dry-run inventory of %s: uncounted %v, %d rows, want %d", tb.Table, tb.Uncounted, tb.Rows, w)
		}
	}
	inv, err := b.Inventory(ctx, forget.Lookup{CustomerID: keys.Customer(101)}, forget.DefaultCatalogue())
	if err != nil {
		t.Fatalf("Inventory: %v", err)
	}
	for _, tb := range inv.Tables {
		if w, ok := want[tb.Table]; ok && (tb.Uncounted || tb.Rows != w) {
			t.Errorf("inventory of %s: uncounted %v, %d rows, want %d", tb.Table, tb.Uncounted, tb.Rows, w)
		}
	}

	// A page at a time: the cursor carries a uuid, and the three
	// share one activity time (a page of ties, by key).
	var all []string
	for cursor, pages := "", 0; pages == 0 || cursor != ""; pages++ {
		page, next, err := b.Inactive(ctx, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), cursor, 1)
		if err != nil || pages > 5 {
			t.Fatalf("Inactive page %d: %v", pages, err)
		}
		all, cursor = append(all, page...), next
	}
	if strings.Join(all, ",") != keys.Customer(101)+","+keys.Customer(102)+","+keys.Customer(103) {
		t.Errorf("inactive %q, want 101, 102 and 103", all)
	}

	before, _ := sqlstore.BulkStats(b.Store)
	out := f.ForgetBatch(ctx, []forget.Request{{Lookup: forget.Lookup{CustomerID: keys.Customer(101)}}, {Lookup: forget.Lookup{CustomerID: keys.Customer(102)}}})
	for i, o := range out {
		if o.Err != nil {
			t.Fatalf("batch request %d: %v", i, o.Err)
		}
	}
	if sets, fallbacks := sqlstore.BulkStats(b.Store); sets == before || fallbacks != 0 {
		t.Errorf("%d groups set-based, %d fell back per customer; want the batch set-based", sets-before, fallbacks)
	}
	snap, err := b.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{101, 102} {
		if st := snap[keys.Customer(n)]; st.Rows[forget.MemberNote] != 0 || st.Fields[forget.Firstname].String != "" {
			t.Errorf("customer %d not forgotten: %+v", n, st)
		}
	}
	if st := snap[keys.Customer(103)]; st.Rows[forget.MemberNote] != 3 {
		t.Errorf("customer 103 changed by its dry run")
	}

	recs, err := b.AuditRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.CustomerID)
	}
	if strings.Join(got, ",") != keys.Customer(101)+","+keys.Customer(102) {
		t.Errorf("audit records of %q, want 101 and 102", got)
	}

	inactive, _, err := b.Inactive(ctx, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "", 10)
	if err != nil {
		t.Fatalf("Inactive: %v", err)
	}
	if len(inactive) != 1 || inactive[0] != keys.Customer(103) {
		t.Errorf("inactive %q, want only 103 (101 and 102 are erased)", inactive)
	}
}

// TestUUIDKeyTypeVerify: Verify refuses an int key_type for a uuid
// column, and a uuid key_type for an integer one.
func TestUUIDKeyTypeVerify(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		if e.dialect == sqlstore.SQLite {
			continue // no uuid type; SQLite compares across affinities
		}
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			b := newUUIDConformanceBackend(t, e)
			s := sqlstore.DefaultSchema() // key_type int
			s.Holds = nil
			st, err := sqlstore.New(b.db, e.dialect, sqlstore.WithSchema(s), sqlstore.WithAudit(sqlstore.DefaultAuditTable), sqlstore.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			wantVerifyError(t, st.Verify(ctx, forget.DefaultCatalogue()), "customer_id column customers.customer_id is uuid, but the mapping declares an int key")

			db := schemaDB(t, e) // bigint keys
			s = sqlstore.DefaultSchema()
			s.Customers.KeyType = sqlstore.KeyUUID
			if st, err = sqlstore.New(db, e.dialect, sqlstore.WithSchema(s), sqlstore.WithLogger(slog.New(slog.DiscardHandler))); err != nil {
				t.Fatal(err)
			}
			wantVerifyError(t, st.Verify(ctx, forget.DefaultCatalogue()), "customer_id column customers.customer_id is bigint", "but the mapping declares a uuid key")
		})
	}
}

// TestUUIDLookupKey: an orderid in a uuid column is learned as a uuid
// key: an integer is invalid, a uuid names its customer.
func TestUUIDLookupKey(t *testing.T) {
	t.Parallel()
	keys := storetest.UUIDKeys()
	for _, e := range engines(t) {
		if e.dialect == sqlstore.SQLite {
			continue // no uuid type
		}
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			b := newUUIDConformanceBackend(t, e, func(db *sql.DB, s *sqlstore.Schema) {
				for _, st := range []string{
					"DROP TABLE transactions",
					"CREATE TABLE transactions (orderid UUID PRIMARY KEY, customer_id UUID NOT NULL, amount_cents BIGINT NOT NULL DEFAULT 0)",
				} {
					if _, err := db.ExecContext(ctx, st); err != nil {
						t.Fatal(err)
					}
				}
				s.Orders.KeyType = ""
			})
			c := storetest.NewCustomer(101)
			c.ID, c.Orders = keys.Customer(101), nil
			if err := b.Seed(ctx, []storetest.Customer{c}); err != nil {
				t.Fatal(err)
			}
			order := "0f0e6a3c-1d2e-4f00-8a1b-000000000001"
			if err := b.ShareOrder(ctx, order, c.ID); err != nil {
				t.Fatal(err)
			}
			f, err := forget.New(b, forget.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{OrderID: "10101"}}); !errors.Is(err, forget.ErrInvalid) {
				t.Errorf("orderid 10101: %v, want ErrInvalid", err)
			}
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{OrderID: order}, DryRun: true})
			if err != nil || rc.CustomerID != c.ID {
				t.Errorf("orderid %s: %v, %v; want customer 101", order, rc, err)
			}
		})
	}
}
