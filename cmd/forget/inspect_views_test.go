package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgetkit/forget/store/sqlstore"
)

// TestInspectFollowsEverything: inspect shows the table a customer row
// points to and a view over customers, with how each reaches a
// customer; lint fails on their columns until they are retained; the
// summary counts the view.
func TestInspectFollowsEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.CreateSchema(ctx, db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{
		"CREATE TABLE addresses (address_id INTEGER PRIMARY KEY, street TEXT NOT NULL)",
		"ALTER TABLE customers ADD COLUMN home_address_id INTEGER NULL REFERENCES addresses (address_id)",
		"CREATE VIEW customer_directory AS SELECT firstname, phone FROM customers",
		"INSERT INTO addresses VALUES (1, '1 Planted Road 7q2x')",
	} {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	code, out, errOut := runCLI(t, "inspect", "-db", path, "-sample", "10")
	if code != exitOK {
		t.Fatalf("inspect: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"addresses (referred to by customers.home_address_id)\n",
		"  street ", "LIKELY PERSONAL: its name contains street",
		"customer_directory (view over customers: it shows what they hold)\n",
		"  phone ", " in 7 tables and 1 view reach a customer",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect shows no %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "addresses ("), strings.Index(out, "customer_directory ("); i < 0 || j < i {
		t.Errorf("views are not listed after the tables:\n%s", out)
	}

	code, out, _ = runCLI(t, "lint", "-db", path, "-personal-only")
	for _, want := range []string{"addresses.street: unclassified, likely personal", "customer_directory.phone: unclassified, likely personal"} {
		if code != exitFailed || !strings.Contains(out, want) {
			t.Errorf("lint: exit %d, no %q:\n%s", code, want, out)
		}
	}
	s := sqlstore.DefaultSchema()
	s.Retain = map[string]string{"addresses.street": "the shop's own address book", "customer_directory.firstname": "a view: erased with customers",
		"customer_directory.phone": "a view: erased with customers"}
	file := filepath.Join(t.TempDir(), "mapping.json")
	writeJSON(t, file, s)
	code, out, _ = runCLI(t, "lint", "-db", path, "-personal-only", "-schema", file)
	if code != exitOK {
		t.Errorf("lint with the view and the address retained: exit %d:\n%s", code, out)
	}
}
