package sqlstore_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// detachShop: customers 1 and 2, each with two addresses (a catalogue
// table keyed by customer_id) and a home address its own row points to,
// under NO ACTION keys both ways.
func detachShop(t *testing.T, e engine, notNull bool) *sql.DB {
	t.Helper()
	db, _ := e.open(t)
	null := "NULL"
	if notNull {
		null = "NOT NULL"
	}
	var stmts []string
	if e.dialect == sqlstore.SQLite {
		stmts = []string{
			"CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, username TEXT NOT NULL, home_address_id INTEGER " + null + " REFERENCES addresses (id))",
			"CREATE TABLE addresses (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (customer_id), line TEXT NOT NULL)",
		}
	} else {
		stmts = []string{
			"CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, username VARCHAR(64) NOT NULL, home_address_id INTEGER " + null + ")",
			"CREATE TABLE addresses (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (customer_id), line VARCHAR(64) NOT NULL)",
		}
		if e.dialect == sqlstore.MySQL {
			stmts[1] = "CREATE TABLE addresses (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, line VARCHAR(64) NOT NULL, FOREIGN KEY (customer_id) REFERENCES customers (customer_id))"
		}
	}
	for _, st := range stmts {
		mustExec(t, db, st)
	}
	// The two keys point both ways: the rows go in in one transaction,
	// checked at its end on SQLite, before the pointer's key elsewhere.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	rows := []string{
		"INSERT INTO customers (customer_id, username, home_address_id) VALUES (1, 'ann', 11), (2, 'bob', 21)",
		"INSERT INTO addresses (id, customer_id, line) VALUES (11, 1, 'ann home'), (12, 1, 'ann work'), (21, 2, 'bob home'), (22, 2, 'bob work')",
	}
	if e.dialect == sqlstore.SQLite {
		rows = append([]string{"PRAGMA defer_foreign_keys = ON"}, rows...)
	}
	for _, st := range rows {
		if _, err := tx.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if e.dialect != sqlstore.SQLite {
		mustExec(t, db, "ALTER TABLE customers ADD CONSTRAINT customers_home FOREIGN KEY (home_address_id) REFERENCES addresses (id)")
	}
	return db
}

func mustExec(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	if _, err := db.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func detachSchema() (sqlstore.Schema, forget.Catalogue) {
	s := sqlstore.Schema{
		Customers: sqlstore.CustomerTable{Table: "customers", Key: "customer_id"},
		Fields:    map[forget.Field]sqlstore.Column{forget.Username: {Column: "username"}},
		Tables:    map[forget.Table]sqlstore.RelatedTable{"addresses": {Table: "addresses", CustomerKey: "customer_id"}},
		Retain:    map[string]string{"addresses.line": "test"},
	}
	cat := forget.Catalogue{Fields: []forget.FieldSpec{{Name: forget.Username, Rule: forget.Pseudonym()}}, Tables: []forget.TableSpec{{Name: "addresses"}}}
	return s, cat
}

// TestDetachOwnPointer: a purged table that the customer's own row
// points to under a NO ACTION key (customers.home_address_id ->
// addresses) is deleted after the pointer is set NULL, for one forget and
// in a batch, and nobody else's rows change; a NOT NULL pointer is
// refused by Verify, saying what to do.
func TestDetachOwnPointer(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := detachShop(t, e, false)
			schema, cat := detachSchema()
			st, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema))
			if err != nil {
				t.Fatal(err)
			}
			f, err := forget.New(st, forget.WithCatalogue(cat))
			if err != nil {
				t.Fatal(err)
			}
			cov, err := st.Coverage(ctx, cat)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, tc := range cov.Tables {
				for _, cc := range tc.Columns {
					if tc.Table == "customers" && cc.Column == "home_address_id" {
						found = true
						if cc.Class != sqlstore.ClassErased || !strings.Contains(cc.By, "detached") {
							t.Errorf("coverage of customers.home_address_id: %s, %q; want erased, detached", cc.Class, cc.By)
						}
					}
				}
			}
			if !found {
				t.Error("coverage does not list customers.home_address_id")
			}
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
			if err != nil {
				t.Fatalf("forget: %v", err)
			}
			if rc.RowsDeleted["addresses"] != 2 {
				t.Errorf("rows deleted %v, want 2 addresses", rc.RowsDeleted)
			}
			var home sql.NullInt64
			if err := db.QueryRow("SELECT home_address_id FROM customers WHERE customer_id = 1").Scan(&home); err != nil || home.Valid {
				t.Errorf("customer 1's home address %v (%v), want NULL", home, err)
			}
			var left, bobHome int
			if err := db.QueryRow("SELECT COUNT(*) FROM addresses WHERE customer_id = 2").Scan(&left); err != nil || left != 2 {
				t.Errorf("customer 2's addresses %d (%v), want 2", left, err)
			}
			if err := db.QueryRow("SELECT home_address_id FROM customers WHERE customer_id = 2").Scan(&bobHome); err != nil || bobHome != 21 {
				t.Errorf("customer 2's home %d (%v), want 21", bobHome, err)
			}
			res := f.ForgetBatch(ctx, []forget.Request{{Lookup: forget.Lookup{CustomerID: "2"}}, {Lookup: forget.Lookup{CustomerID: "1"}}})
			for i, r := range res {
				if r.Err != nil {
					t.Errorf("batch item %d: %v", i, r.Err)
				}
			}
			if err := db.QueryRow("SELECT COUNT(*) FROM addresses").Scan(&left); err != nil || left != 0 {
				t.Errorf("addresses left after the batch: %d (%v)", left, err)
			}

			strict := detachShop(t, e, true)
			st2, err := sqlstore.New(strict, e.dialect, sqlstore.WithSchema(schema))
			if err != nil {
				t.Fatal(err)
			}
			err = st2.Verify(ctx, cat)
			if err == nil || !strings.Contains(err.Error(), "cannot be detached") || !strings.Contains(err.Error(), "home_address_id") {
				t.Errorf("Verify of a NOT NULL pointer: %v", err)
			}
		})
	}
}
