package main

import (
	"context"
	"crypto/rand"
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

// TestInspectNamesSkippedSchemas: on PostgreSQL and MariaDB, inspect
// names a schema (database) it did not read that holds tables, and reads
// it when -in names it; on PostgreSQL a materialized view over customers
// is shown with what the host must do, and lint fails on it.
func TestInspectNamesSkippedSchemas(t *testing.T) {
	t.Parallel()
	for _, e := range coverEngines(t) {
		if e.dialect == sqlstore.SQLite {
			continue
		}
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			if err := sqlstore.CreateSchema(ctx, e.db, e.dialect); err != nil {
				t.Fatal(err)
			}
			create, drop := "CREATE SCHEMA ", "DROP SCHEMA %s CASCADE"
			if e.dialect == sqlstore.MySQL {
				create, drop = "CREATE DATABASE ", "DROP DATABASE %s"
			}
			// Not named after the test's own schema: the command masks
			// the DSN's names.
			arch := "forget_arch_" + strings.ToLower(rand.Text()[:10])
			t.Cleanup(func() { e.db.Exec(strings.Replace(drop, "%s", arch, 1)) })
			stmts := []string{create + arch, "CREATE TABLE " + arch + ".old_customers (customer_id BIGINT PRIMARY KEY, email VARCHAR(100))"}
			if e.dialect == sqlstore.Postgres {
				stmts = append(stmts, "CREATE MATERIALIZED VIEW customer_copy AS SELECT customer_id, firstname FROM customers")
			}
			for _, st := range stmts {
				if _, err := e.db.Exec(st); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			code, out, errOut := runCLI(t, append([]string{"inspect"}, e.args...)...)
			if code != exitOK || !strings.Contains(out, "skipped schemas, not read: ") || !strings.Contains(out, arch+" (1 table)") {
				t.Errorf("inspect (exit %d) does not name %s as skipped:\n%s\n%s", code, arch, out, errOut)
			}
			code, out, _ = runCLI(t, append([]string{"inspect", "-in", arch}, e.args...)...)
			if code != exitOK || strings.Contains(out, arch+" (1 table)") || !strings.Contains(out, arch+".old_customers (column customer_id)") {
				t.Errorf("inspect -in %s (exit %d) still skips it:\n%s", arch, code, out)
			}
			if e.dialect != sqlstore.Postgres {
				return
			}
			if !strings.Contains(out, "customer_copy (materialized view over customers: refresh it after a forget)\n") {
				t.Errorf("inspect shows no materialized view:\n%s", out)
			}
			code, out, _ = runCLI(t, append([]string{"lint", "-personal-only"}, e.args...)...)
			if code != exitFailed || !strings.Contains(out, "customer_copy.customer_id: unclassified, likely personal (a materialized view holds a copy") {
				t.Errorf("lint -personal-only: exit %d, the materialized view passes:\n%s", code, out)
			}
		})
	}
}
