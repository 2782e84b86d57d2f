package sqlstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestProposeCoversAndForgets: on the coverage host schema, Propose's
// mapping survives JSON as a mapping file does (unknown keys refused),
// extends the catalogue from the file alone, verifies with every column
// classified, and forgets the customer: the unmapped email and IP gone,
// the tickets (holding the customer key) and the attachments (through a
// foreign-key chain) deleted, the other customer untouched.
func TestProposeCoversAndForgets(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := createCoverHost(t, e)
			audit := sqlstore.WithAudit(sqlstore.DefaultAuditTable)
			s0, err := sqlstore.New(db, e.dialect, audit)
			if err != nil {
				t.Fatal(err)
			}
			prop, err := s0.Propose(ctx, forget.DefaultCatalogue())
			if err != nil {
				t.Fatal(err)
			}
			sc := prop.Schema
			if sc.Customers != (sqlstore.CustomerTable{Table: "customers", Key: "customer_id", KeyType: sqlstore.KeyInt}) {
				t.Errorf("customers %+v", sc.Customers)
			}
			if sc.Orders == nil || *sc.Orders != (sqlstore.LookupTable{Table: "orders", Key: "order_id", KeyType: sqlstore.KeyInt, CustomerKey: "customer_id"}) || sc.Subscriptions != nil {
				t.Errorf("lookups %+v %+v", sc.Subscriptions, sc.Orders)
			}
			var fields []string
			for f := range sc.Fields {
				fields = append(fields, string(f))
			}
			slices.Sort(fields)
			if want := []string{"email", "firstname", "last_ip", "lastname", "password", "phone", "username"}; !slices.Equal(fields, want) {
				t.Errorf("fields %q, want %q", fields, want)
			}
			if rt := sc.Tables["support_tickets"]; !reflect.DeepEqual(rt, sqlstore.RelatedTable{Table: "support_tickets", CustomerKey: "customer_id"}) {
				t.Errorf("support_tickets %+v", rt)
			}
			if _, ok := sc.Tables["forget_audit"]; ok {
				t.Error("the audit table is proposed for purging")
			}
			var retained []string
			for k, why := range sc.Retain {
				retained = append(retained, k)
				if !strings.HasPrefix(why, sqlstore.ReviewPrefix) {
					t.Errorf("retain %s: reason %q is not marked for review", k, why)
				}
			}
			slices.Sort(retained)
			if want := []string{"customers.created_at", "customers.status", "order_notes.body", "orders.amount_cents"}; !slices.Equal(retained, want) {
				t.Errorf("retained %q, want %q", retained, want)
			}
			if why := sc.Retain["order_notes.body"]; !strings.Contains(why, "looks personal") || !strings.Contains(why, "through orders") {
				t.Errorf("order_notes.body's reason %q", why)
			}
			review := strings.Join(prop.Review, "\n")
			noPlanted(t, "the review", review)
			for _, want := range []string{"customers: table customers keyed by customer_id", "field email: customers.email looks personal", "table support_tickets: its rows are deleted", "field city: no column named like it; listed absent"} {
				if !strings.Contains(review, want) {
					t.Errorf("review does not say %q:\n%s", want, review)
				}
			}
			if len(prop.Problems) > 0 || strings.Contains(review, "does not load") {
				t.Errorf("the proposal does not verify:\n%s", review)
			}

			// As a mapping file: JSON, unknown keys refused.
			file, err := json.MarshalIndent(sc, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			noPlanted(t, "the proposed mapping", string(file))
			dec := json.NewDecoder(bytes.NewReader(file))
			dec.DisallowUnknownFields()
			var loaded sqlstore.Schema
			if err := dec.Decode(&loaded); err != nil {
				t.Fatal(err)
			}
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(loaded), audit, sqlstore.WithCoverage(sqlstore.EveryColumn))
			if err != nil {
				t.Fatal(err)
			}
			cat, err := s.ExtendCatalogue(ctx, forget.DefaultCatalogue())
			if err != nil {
				t.Fatal(err)
			}
			rules := map[forget.Field]forget.Rule{}
			for _, f := range cat.Fields {
				rules[f.Name] = f.Rule
			}
			// Rules hold no function here, so DeepEqual compares them as values.
			if !reflect.DeepEqual(rules["email"], forget.Null()) || !reflect.DeepEqual(rules["last_ip"], forget.Null()) || len(cat.Fields) != 25 || len(cat.Tables) != 3 {
				t.Errorf("extended catalogue: %d fields (email %s, last_ip %s), %d tables", len(cat.Fields), rules["email"], rules["last_ip"], len(cat.Tables))
			}
			f := quietForgetter(t, s, forget.WithCatalogue(cat))
			if err := f.Verify(ctx); err != nil {
				t.Fatalf("Verify with every column required: %v", err)
			}
			cov, err := s.Coverage(ctx, cat)
			if err != nil {
				t.Fatal(err)
			}
			if cov.Summary.Unclassified != 0 || cov.Summary.ToReview != 4 {
				t.Errorf("summary %+v: want nothing unclassified, 4 to review", cov.Summary)
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Fatal(err)
			}
			for _, q := range []struct{ query, want string }{
				{"SELECT COUNT(*) FROM customers WHERE customer_id = 1 AND email IS NULL AND last_ip IS NULL AND firstname = ''", "1"},
				{"SELECT COUNT(*) FROM customers WHERE customer_id = 2 AND email IS NOT NULL AND firstname = 'Plantedfirst'", "1"},
				{"SELECT COUNT(*) FROM support_tickets WHERE customer_id = 1", "0"},
				{"SELECT COUNT(*) FROM support_tickets WHERE customer_id = 2", "1"},
				{"SELECT COUNT(*) FROM member_note WHERE customer_id = 1", "0"},
				{"SELECT COUNT(*) FROM note_attachments", "0"},
				{"SELECT COUNT(*) FROM orders WHERE customer_id = 1", "2"},
			} {
				var got string
				if err := db.QueryRow(q.query).Scan(&got); err != nil || got != q.want {
					t.Errorf("%s: %s, %v; want %s", q.query, got, err, q.want)
				}
			}
		})
	}
}

// TestProposeNothingToMap: a schema with no customers-like table is an
// error that says what to do; a nil Introspection and a bad catalogue
// are errors too.
func TestProposeNothingToMap(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	execAll(t, db, `CREATE TABLE products (product_id INTEGER PRIMARY KEY, title TEXT)`)
	in, err := sqlstore.Introspect(context.Background(), db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.Propose(in, forget.DefaultCatalogue()); err == nil || !strings.Contains(err.Error(), "no table looks like the customers table") {
		t.Errorf("Propose: %v", err)
	}
	if _, err := sqlstore.Propose(nil, forget.DefaultCatalogue()); err == nil {
		t.Error("Propose(nil) succeeded")
	}
	if _, err := sqlstore.Propose(in, forget.Catalogue{}); err == nil || !strings.Contains(err.Error(), "catalogue is empty") {
		t.Errorf("Propose with an empty catalogue: %v", err)
	}
}

// TestProposeDefaultSchema: on the schema DDL creates (no foreign keys),
// seeded, the proposal is the default mapping (no review of a field),
// subscriptions and transactions for lookups, each customer_id column
// taken by its name and values, and retains the two non-key columns of
// the lookup tables.
func TestProposeDefaultSchema(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	ctx := context.Background()
	if err := sqlstore.CreateSchema(ctx, db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	seedMany(t, db, sqlstore.SQLite, 3)
	in, err := sqlstore.Introspect(ctx, db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	// The schema has no foreign key: reading no value, Propose takes no
	// customer_id column for the customer key, and says so.
	blind, err := sqlstore.Propose(in, forget.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	if len(blind.Schema.Tables) != 0 || blind.Schema.Orders != nil || blind.Schema.Subscriptions != nil ||
		!strings.Contains(strings.Join(blind.Review, "\n"), "table member_note: column customer_id is named like the customer key, but no foreign key, and its values were not read") {
		t.Errorf("Propose without values: tables %v, lookups %v %v; review:\n%s", blind.Schema.Tables, blind.Schema.Orders, blind.Schema.Subscriptions, strings.Join(blind.Review, "\n"))
	}
	s, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	prop, err := s.Propose(ctx, forget.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	def := sqlstore.DefaultSchema()
	got := prop.Schema
	if got.Customers != def.Customers || *got.Subscriptions != *def.Subscriptions || *got.Orders != *def.Orders || len(got.Absent) != 0 {
		t.Errorf("proposal %+v", got)
	}
	for f, c := range def.Fields {
		if got.Fields[f] != c {
			t.Errorf("field %s: %+v, want %+v", f, got.Fields[f], c)
		}
	}
	for tb, rt := range def.Tables {
		if !reflect.DeepEqual(got.Tables[tb], rt) {
			t.Errorf("table %s: %+v, want %+v", tb, got.Tables[tb], rt)
		}
	}
	if len(got.Tables) != 2 || len(got.Fields) != 23 {
		t.Errorf("%d fields, %d tables: nothing extra expected", len(got.Fields), len(got.Tables))
	}
	var retained []string
	for k := range got.Retain {
		retained = append(retained, k)
	}
	slices.Sort(retained)
	if want := []string{"subscriptions.status", "transactions.amount_cents"}; !slices.Equal(retained, want) {
		t.Errorf("retained %q, want %q", retained, want)
	}
}

// TestProposeOddNames: a table whose name no mapping can hold is left
// unclassified and said so; the rest of the proposal still verifies.
func TestProposeOddNames(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	execAll(t, db, append(append(coverDDL(sqlstore.SQLite), coverData(sqlstore.SQLite)...),
		`CREATE TABLE "odd table" ("e mail" TEXT, customer_id BIGINT)`,
		`CREATE TABLE notes2 (id INTEGER PRIMARY KEY, customer_id BIGINT, "x""y" TEXT)`,
		`INSERT INTO "odd table" (customer_id) VALUES (1)`,
		`INSERT INTO notes2 (id, customer_id) VALUES (7, 2)`)...)
	s, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	prop, err := s.Propose(context.Background(), forget.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	review := strings.Join(prop.Review, "\n")
	for _, want := range []string{
		"table odd table holds the customer key but its name cannot be written in a mapping; it stays unclassified",
		"odd table.e mail cannot be named in a mapping (not a plain identifier); it stays unclassified",
		"table notes2: its rows are deleted",
	} {
		if !strings.Contains(review, want) {
			t.Errorf("review does not say %q:\n%s", want, review)
		}
	}
	if len(prop.Problems) > 0 || strings.Contains(review, "does not load") {
		t.Errorf("the proposal does not verify:\n%s", review)
	}
	if err := prop.Schema.Validate(); err != nil {
		t.Error(err)
	}
}
