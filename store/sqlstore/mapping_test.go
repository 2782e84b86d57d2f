package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// TestMappingsLegalButWrong: mappings whose every entry is valid alone but
// that together would destroy a kept value, erase a key, or purge the rows
// that hold fields are refused when the Forgetter is built.
func TestMappingsLegalButWrong(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	withKey := func(m func(*sqlstore.Schema)) sqlstore.Schema {
		s := sqlstore.DefaultSchema()
		m(&s)
		return s
	}
	for _, tc := range []struct {
		name   string
		schema sqlstore.Schema
		cat    func(*forget.Catalogue)
		want   string
	}{
		{"TwoFieldsOneColumn", withKey(func(s *sqlstore.Schema) {
			s.Fields[forget.ShippingFirstname] = sqlstore.Column{Column: "firstname"}
		}), nil, "field firstname and field shipping_firstname both write customers.firstname"},
		{"TwoFieldsOneColumnCaseFolded", withKey(func(s *sqlstore.Schema) {
			s.Fields[forget.ShippingFirstname] = sqlstore.Column{Column: "FirstName"}
		}), nil, "both write customers.FirstName"},
		{"FieldOnCustomerKey", withKey(func(s *sqlstore.Schema) {
			s.Customers.Key = "login"
			s.Fields[forget.Username] = sqlstore.Column{Column: "login"}
		}), nil, "field username would erase customers.login, which is the customers key"},
		{"FieldOnLookupKey", withKey(func(s *sqlstore.Schema) {
			s.Joined = map[string]string{"transactions": "customer_id"}
			s.Fields[forget.Zip] = sqlstore.Column{Table: "transactions", Column: "orderid"}
		}), nil, "which is the orderid lookup key"},
		{"FieldOnJoinedKey", withKey(func(s *sqlstore.Schema) {
			s.Joined = map[string]string{"profiles": "owner"}
			s.Fields[forget.Phone] = sqlstore.Column{Table: "profiles", Column: "owner"}
		}), nil, "which is the customer key of joined table profiles"},
		{"TablePurgesCustomers", withKey(func(s *sqlstore.Schema) {
			s.Tables[forget.MemberNote] = sqlstore.RelatedTable{Table: "customers", CustomerKey: "customer_id"}
		}), nil, "table member_note is mapped to customers, which is the customers table"},
		{"TablePurgesLookups", withKey(func(s *sqlstore.Schema) {
			s.Tables[forget.MemberAuth] = sqlstore.RelatedTable{Table: "transactions", CustomerKey: "customer_id"}
		}), nil, "which is the orderid lookup table"},
		{"TwoTablesOneTable", withKey(func(s *sqlstore.Schema) {
			s.Tables[forget.MemberAuth] = sqlstore.RelatedTable{Table: "member_note", CustomerKey: "customer_id"}
		}), nil, "tables member_auth and member_note are both mapped to member_note"},
		{"ScrubOnCustomerKey", withKey(func(s *sqlstore.Schema) {}), func(c *forget.Catalogue) {
			c.Tables[1].Scrub = []forget.ColumnRule{{Column: "customer_id", Rule: forget.Null()}}
		}, "table member_note column customer_id would erase member_note.customer_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(tc.schema))
			if err != nil {
				t.Fatalf("sqlstore.New: %v", err)
			}
			cat := forget.DefaultCatalogue()
			if tc.cat != nil {
				tc.cat(&cat)
			}
			_, err = forget.New(s, forget.WithCatalogue(cat))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("forget.New = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestReceiptListsOnlyWhatWasErased: entries the schema declares absent
// are neither erased nor kept in the receipt, the audit record or the
// log; they are listed apart.
func TestReceiptListsOnlyWhatWasErased(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := engines(t)[0]
	schema := sqlstore.DefaultSchema()
	absent := []string{"token_hash", "city", "shipping_city", "member_auth"}
	for _, a := range absent {
		delete(schema.Fields, forget.Field(a))
		delete(schema.Tables, forget.Table(a))
	}
	schema.Absent = absent
	b := newDefaultBackend(t, e, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err := b.Seed(ctx, storetest.Fixtures()); err != nil {
		t.Fatal(err)
	}
	f := quietForgetter(t, b.Store)
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Keep: []string{"city,firstname"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rc.Absent, absent) {
		t.Errorf("receipt absent = %v, want %v", rc.Absent, absent)
	}
	if want := len(forget.DefaultCatalogue().Fields) - 3 - 1; len(rc.FieldsErased) != want {
		t.Errorf("receipt erased %d fields %v, want %d", len(rc.FieldsErased), rc.FieldsErased, want)
	}
	for _, a := range absent {
		if slices.Contains(rc.FieldsErased, forget.Field(a)) || slices.Contains(rc.FieldsKept, forget.Field(a)) || slices.Contains(rc.TablesKept, forget.Table(a)) {
			t.Errorf("absent %s is listed as erased or kept", a)
		}
		if _, ok := rc.RowsDeleted[forget.Table(a)]; ok {
			t.Errorf("absent table %s has a row count", a)
		}
	}
	if !slices.Equal(rc.FieldsKept, []forget.Field{forget.Firstname}) {
		t.Errorf("receipt kept %v, want [firstname]", rc.FieldsKept)
	}
	trail, err := b.AuditTrail(ctx, rc.At.Add(-1))
	if err != nil || len(trail) != 1 {
		t.Fatalf("audit trail = %v, %v", trail, err)
	}
	if !slices.Equal(trail[0].FieldsErased, rc.FieldsErased) {
		t.Errorf("audit erased %v, receipt %v", trail[0].FieldsErased, rc.FieldsErased)
	}
}

// TestDryRunFailsWhenForgetWould: a dry run runs the real statements and
// rolls them back, so a column the mapping names but the database lacks,
// or a trigger that refuses, fails the dry run as it fails the forget.
func TestDryRunFailsWhenForgetWould(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			schema := sqlstore.DefaultSchema()
			schema.Fields[forget.Phone] = sqlstore.Column{Column: "no_such_column"}
			b := newDefaultBackend(t, e, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
			if err := b.Seed(ctx, storetest.Fixtures()); err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, b.Store)
			for _, dry := range []bool{true, false} {
				_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, DryRun: dry})
				if err == nil || errors.Is(err, forget.ErrInvalid) {
					t.Errorf("Forget(dry run %v) with a missing column = %v, want an internal error", dry, err)
				}
			}
			// The trigger refuses 102's notes; a dry run says so too.
			good := newDefaultBackend(t, e, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
			if err := good.Seed(ctx, storetest.Fixtures()); err != nil {
				t.Fatal(err)
			}
			refuseNoteDeletes(t, good.db, e.dialect, 102)
			before, _ := good.Snapshot(ctx)
			g := quietForgetter(t, good.Store)
			if _, err := g.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "102"}, DryRun: true}); err == nil {
				t.Error("dry run succeeded where the forget fails")
			}
			rc, err := g.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, DryRun: true})
			if err != nil || rc.RowsDeleted[forget.MemberNote] != 3 {
				t.Errorf("dry run of 101 = %+v, %v; want 3 notes counted", rc, err)
			}
			after, _ := good.Snapshot(ctx)
			for id, st := range before {
				if !st.Equal(after[id]) {
					t.Errorf("dry runs changed customer %s", id)
				}
			}
			if trail, _ := good.AuditTrail(ctx, rc.At.Add(-1)); len(trail) != 0 {
				t.Errorf("dry runs left %d audit records", len(trail))
			}
		})
	}
}

// TestTypedNilStore: a nil *sqlstore.Store or *memstore.Store in the
// Store interface is refused by New, not a panic on the first forget.
func TestTypedNilStore(t *testing.T) {
	t.Parallel()
	var s *sqlstore.Store
	if _, err := forget.New(s); err == nil {
		t.Error("New accepted a nil *sqlstore.Store")
	}
	var m *memstore.Store
	if _, err := forget.New(m); err == nil {
		t.Error("New accepted a nil *memstore.Store")
	}
}

// TestDryRunReceiptInventory: once Verify has read the schema, a dry run's
// receipt carries the customer's inventory: every table that reaches the
// customer with its row count and action, the retained columns with their
// reasons; a real forget carries none.
func TestDryRunReceiptInventory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newDefaultBackend(t, engines(t)[0], sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err := b.Seed(ctx, storetest.Fixtures()); err != nil {
		t.Fatal(err)
	}
	f := quietForgetter(t, b.Store)
	if err := f.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Keep: []string{"member_note"}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Inventory == nil {
		t.Fatal("dry run receipt has no inventory")
	}
	byTable := map[string]forget.InventoryTable{}
	for _, it := range rc.Inventory.Tables {
		byTable[it.Table] = it
	}
	if it := byTable["member_auth"]; it.Rows != 2 || it.Action != "deleted" {
		t.Errorf("member_auth = %+v, want 2 rows deleted", it)
	}
	if it := byTable["member_note"]; it.Rows != 3 || it.Action != "kept" {
		t.Errorf("member_note = %+v, want 3 rows kept", it)
	}
	if it := byTable["transactions"]; it.Rows != 3 || len(it.Retained) != 1 || it.Retained[0].Column != "amount_cents" {
		t.Errorf("transactions = %+v, want 3 rows and amount_cents retained", it)
	}
	done, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}})
	if err != nil || done.Inventory != nil {
		t.Errorf("real forget: %v, inventory %+v; want none", err, done.Inventory)
	}
}
