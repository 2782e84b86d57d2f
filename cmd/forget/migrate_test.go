package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
)

// oldRelease makes, in a fresh database of e, the schema of an earlier
// release (sqlstore's testdata/migrate fixtures) with n demo customers.
func oldRelease(t *testing.T, e testdb.Engine, release string, n int) testdb.DB {
	t.Helper()
	tdb := e.Open(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "store", "sqlstore", "testdata", "migrate", release, e.Name+".sql"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, st := range strings.Split(string(raw), ";\n") {
		if strings.TrimSpace(st) == "" {
			continue
		}
		if _, err := tdb.ExecContext(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	if err := seedDemo(ctx, tdb.DB, e.Dialect, n); err != nil {
		t.Fatal(err)
	}
	return tdb
}

// dbArgs names tdb on the command line.
func dbArgs(e testdb.Engine, tdb testdb.DB) []string {
	if e.Dialect == sqlstore.SQLite {
		return []string{"-db", tdb.URL}
	}
	return []string{"-dsn", tdb.URL}
}

// TestMigrateCommand: every command refuses a database of an earlier
// release, naming forget migrate; -dry-run prints the steps and changes
// nothing; forget migrate brings it up to date, again is a no-op, and the
// commands then run.
func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			tdb := oldRelease(t, e, "v0.1.0", 3)
			args := dbArgs(e, tdb)
			keys := filepath.Join(t.TempDir(), "keys")
			if err := os.WriteFile(keys, []byte("ops:0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range [][]string{
				{"audit"},
				{"relay", "-nats", "nats://127.0.0.1:1"},
				{"status", "-customer-id", "1", "-nats", "nats://127.0.0.1:1"},
				{"serve", "-keys", keys, "-addr", "127.0.0.1:0"},
			} {
				code, _, errOut := runMain(append(cmd, args...)...)
				if code != exitFailed || !strings.Contains(errOut, "forget migrate") || !strings.Contains(errOut, "schema version 2") {
					t.Fatalf("%s before migrate: exit %d: %s", cmd[0], code, errOut)
				}
			}
			code, out, errOut := runMain(append([]string{"migrate", "-dry-run"}, args...)...)
			if code != exitOK || !strings.Contains(out, "version 3:") || !strings.Contains(out, "version 4: erasure certificates") || !strings.Contains(out, "would migrate from schema version 2 to 4") {
				t.Fatalf("migrate -dry-run: exit %d: %s%s", code, out, errOut)
			}
			code, out, errOut = runMain(append([]string{"migrate", "-dry-run", "-json"}, args...)...)
			var dry struct {
				From, To int
				DryRun   bool `json:"dry_run"`
				UpToDate bool `json:"up_to_date"`
				Steps    []struct {
					Version    int
					Statements []string
				}
			}
			if err := json.Unmarshal([]byte(out), &dry); code != exitOK || err != nil {
				t.Fatalf("migrate -dry-run -json: exit %d, %v: %s%s", code, err, out, errOut)
			}
			if !dry.DryRun || dry.UpToDate || dry.From != 2 || dry.To != 4 || len(dry.Steps) != 2 || len(dry.Steps[0].Statements) == 0 || len(dry.Steps[1].Statements) == 0 {
				t.Fatalf("migrate -dry-run -json: %+v", dry)
			}
			if v, err := sqlstore.SchemaVersionOf(ctx, tdb.DB, e.Dialect, ""); err != nil || v != 2 {
				t.Fatalf("after -dry-run: version %d, %v; want 2", v, err)
			}
			code, out, errOut = runMain(append([]string{"migrate"}, args...)...)
			if code != exitOK || !strings.Contains(out, "migrated from schema version 2 to 4") {
				t.Fatalf("migrate: exit %d: %s%s", code, out, errOut)
			}
			code, out, errOut = runMain(append([]string{"migrate"}, args...)...)
			if code != exitOK || !strings.Contains(out, "schema version 4: up to date") {
				t.Fatalf("migrate again: exit %d: %s%s", code, out, errOut)
			}
			code, out, errOut = runMain(append([]string{"migrate", "-json"}, args...)...)
			if err := json.Unmarshal([]byte(out), &dry); code != exitOK || err != nil || !dry.UpToDate || dry.DryRun || len(dry.Steps) != 0 {
				t.Fatalf("migrate -json when current: exit %d, %v: %+v %s", code, err, dry, errOut)
			}
			if code, _, errOut := runMain(append([]string{"audit"}, args...)...); code != exitOK {
				t.Fatalf("audit after migrate: exit %d: %s", code, errOut)
			}
			if code, _, errOut := runMain("migrate"); code != exitUsage {
				t.Fatalf("migrate without a database: exit %d: %s", code, errOut)
			}
		})
	}
}

// TestInitMigrates: forget init on a database made before erasure events
// brings its audit table to the latest version and records it, and keeps
// its records.
func TestInitMigrates(t *testing.T) {
	t.Parallel()
	e := testdb.Engines(t)[0] // SQLite: init takes -db only
	tdb := oldRelease(t, e, "pre-events", 2)
	if _, err := tdb.Exec("INSERT INTO forget_audit (customer_id, at, principal, request_id, fields_erased, fields_kept, tables_kept, rows_deleted, rows_scrubbed) VALUES ('9', '2026-01-01T00:00:00.000000000Z', 'ops', 'r', 'email', '', '', '{}', '{}')"); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runMain("audit", "-db", tdb.URL); code != exitFailed || !strings.Contains(errOut, "forget migrate") {
		t.Fatalf("audit before init: exit %d: %s", code, errOut)
	}
	if code, out, errOut := runMain("init", "-db", tdb.URL); code != exitOK {
		t.Fatalf("init: exit %d: %s%s", code, out, errOut)
	}
	if got := sqlq(t, tdb.URL, "SELECT audit_table, version FROM forget_schema_version"); strings.TrimSpace(got) != "forget_audit|4" {
		t.Fatalf("version rows: %q", got)
	}
	if got := sqlq(t, tdb.URL, "SELECT customer_id, principal FROM forget_audit"); strings.TrimSpace(got) != "9|ops" {
		t.Fatalf("records: %q", got)
	}
	if code, _, errOut := runMain("audit", "-db", tdb.URL); code != exitOK {
		t.Fatalf("audit after init: exit %d: %s", code, errOut)
	}
}
