package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/forgetkit/forget/store/sqlstore"
)

// TestMigrateSQLiteRebuildKeepsHostObjects: on SQLite, version 3 rebuilds
// an audit table made by v0.1.0 (event_id NOT NULL cannot be dropped in
// place). A host that added a column, an index and a trigger to the table,
// and a table of its own whose rows reference audit records with ON
// DELETE CASCADE, keeps all of them: the rebuild's DROP TABLE would
// otherwise delete the referencing rows and drop the rest.
func TestMigrateSQLiteRebuildKeepsHostObjects(t *testing.T) {
	t.Parallel()
	e := engines(t)[0]
	db := oldDatabase(t, e, "v0.1.0", true)
	ctx := context.Background()
	for _, st := range []string{
		"ALTER TABLE forget_audit ADD COLUMN ticket_ref TEXT NOT NULL DEFAULT 'none'",
		"UPDATE forget_audit SET ticket_ref = 'T-' || audit_id",
		"CREATE INDEX host_audit_by_ticket ON forget_audit (ticket_ref)",
		"CREATE TABLE host_audit_log (audit_id INTEGER, what TEXT)",
		"CREATE TRIGGER host_audit_logged AFTER INSERT ON forget_audit BEGIN INSERT INTO host_audit_log VALUES (NEW.audit_id, 'inserted'); END",
		"CREATE TABLE host_tickets (ticket_id INTEGER PRIMARY KEY, audit_id INTEGER NOT NULL REFERENCES forget_audit (audit_id) ON DELETE CASCADE)",
		"INSERT INTO host_tickets (audit_id) SELECT audit_id FROM forget_audit",
	} {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	var fk int
	if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("the test database must enforce foreign keys: %d, %v", fk, err)
	}
	before := oldRows(t, db)
	tickets := func() int {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM host_tickets").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ticketsBefore := tickets()
	dry, err := sqlstore.Migrate(ctx, db, e.dialect, sqlstore.MigrateOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sqlstore.Migrate(ctx, db, e.dialect, sqlstore.MigrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.To != sqlstore.SchemaVersion {
		t.Fatalf("migrated to %d", res.To)
	}
	if got := oldRows(t, db); !slices.EqualFunc(got, before, slices.Equal) {
		t.Errorf("records changed:\n%q\n%q", got, before)
	}
	if n := tickets(); n != ticketsBefore || n == 0 {
		t.Errorf("host_tickets rows %d, want %d: the rebuild deleted rows that reference audit records", n, ticketsBefore)
	}
	var refs int
	if err := db.QueryRow("SELECT COUNT(*) FROM forget_audit WHERE ticket_ref = 'T-' || audit_id").Scan(&refs); err != nil {
		t.Fatalf("the host's column is gone: %v", err)
	}
	if refs != len(before) {
		t.Errorf("ticket_ref kept in %d of %d records", refs, len(before))
	}
	objects := func(kind string) []string {
		rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = ? AND tbl_name = 'forget_audit' ORDER BY name", kind)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	if got := objects("index"); !slices.Contains(got, "host_audit_by_ticket") {
		t.Errorf("indexes after the rebuild: %q", got)
	}
	if got := objects("trigger"); !slices.Equal(got, []string{"host_audit_logged"}) {
		t.Errorf("triggers after the rebuild: %q", got)
	}
	// The trigger still fires, and event_id may now be NULL (the point of
	// version 3).
	if _, err := db.ExecContext(ctx, "INSERT INTO forget_audit (event_id, customer_id, at, principal, request_id, fields_erased, fields_kept, tables_kept, rows_deleted, rows_scrubbed, holds_ignored, held) VALUES (NULL, '9', '2026-02-01T00:00:00.000000000Z', 'ops', 'r3', '', '', '', '{}', '{}', '', 'open_chargeback')"); err != nil {
		t.Fatal(err)
	}
	var logged int
	if err := db.QueryRow("SELECT COUNT(*) FROM host_audit_log").Scan(&logged); err != nil || logged != 1 {
		t.Errorf("trigger fired %d times (%v), want 1", logged, err)
	}
	var violations int
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		violations++
	}
	rows.Close()
	if violations != 0 {
		t.Errorf("%d foreign key violations after the rebuild", violations)
	}
	// The dry run printed what the run ran: the same steps, the same
	// statements but for the time each version row records.
	if len(dry.Steps) != len(res.Steps) {
		t.Fatalf("dry run %d steps, run %d", len(dry.Steps), len(res.Steps))
	}
	for i := range dry.Steps {
		want := stripTimes(res.Steps[i].Statements)
		got := stripTimes(dry.Steps[i].Statements)
		// The dry run lists each step's closing version row, which the
		// run records apart.
		got = got[:min(len(got), len(want))]
		if !slices.Equal(got, want) {
			t.Errorf("step %d: dry run\n%s\nrun\n%s", dry.Steps[i].Version, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	var fkAfter int
	if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fkAfter); err != nil || fkAfter != 1 {
		t.Errorf("foreign keys left %d after the migration (%v)", fkAfter, err)
	}
	_ = sql.ErrNoRows
}

// stripTimes blanks the quoted times version rows record.
func stripTimes(sts []string) []string {
	out := make([]string, len(sts))
	for i, s := range sts {
		if j := strings.LastIndex(s, ", '20"); j >= 0 && strings.HasPrefix(s, "INSERT INTO") {
			s = s[:j]
		}
		out[i] = s
	}
	return out
}

// TestMigrateTwoAuditTables: two audit tables in one database, one of
// them in another schema (database on MySQL), at different versions:
// migrating one leaves the other at its version, and each records its
// own.
func TestMigrateTwoAuditTables(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := oldDatabase(t, e, "v0.1.0", true)
			raw, err := os.ReadFile(filepath.Join("testdata", "migrate", "pre-events", e.name+".sql"))
			if err != nil {
				t.Fatal(err)
			}
			// ledger_audit: the pre-events release's audit table under another name.
			for _, st := range strings.Split(string(raw), ";\n") {
				if !strings.Contains(st, "forget_audit") {
					continue
				}
				if _, err := db.ExecContext(ctx, strings.ReplaceAll(st, "forget_audit", "ledger_audit")); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			version := func(table string) int {
				t.Helper()
				v, err := sqlstore.SchemaVersionOf(ctx, db, e.dialect, table)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			if a, l := version(""), version("ledger_audit"); a != 2 || l != 1 {
				t.Fatalf("versions %d and %d, want 2 and 1", a, l)
			}
			if _, err := sqlstore.Migrate(ctx, db, e.dialect, sqlstore.MigrateOptions{AuditTable: "ledger_audit"}); err != nil {
				t.Fatal(err)
			}
			if a, l := version(""), version("ledger_audit"); a != 2 || l != sqlstore.SchemaVersion {
				t.Fatalf("after migrating ledger_audit: versions %d and %d", a, l)
			}
			if err := sqlstore.CheckSchemaVersion(ctx, db, e.dialect, ""); err == nil {
				t.Error("forget_audit, still behind, passes the version check")
			}
			if _, err := sqlstore.Migrate(ctx, db, e.dialect, sqlstore.MigrateOptions{}); err != nil {
				t.Fatal(err)
			}
			if a, l := version(""), version("ledger_audit"); a != sqlstore.SchemaVersion || l != sqlstore.SchemaVersion {
				t.Fatalf("after both: versions %d and %d", a, l)
			}
			if e.dialect == sqlstore.SQLite {
				return // one schema
			}
			// A qualified audit table in a schema of its own: created at
			// the latest version, its version row beside it.
			other := randomName("crm")
			if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+other); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				drop := "DROP SCHEMA " + other + " CASCADE"
				if e.dialect == sqlstore.MySQL {
					drop = "DROP DATABASE " + other
				}
				db.Exec(drop)
			})
			qualified := other + ".forget_audit"
			if v := version(qualified); v != 0 {
				t.Fatalf("%s at version %d before it exists", qualified, v)
			}
			res, err := sqlstore.Migrate(ctx, db, e.dialect, sqlstore.MigrateOptions{AuditTable: qualified})
			if err != nil {
				t.Fatal(err)
			}
			if res.From != 0 || res.To != sqlstore.SchemaVersion || version(qualified) != sqlstore.SchemaVersion {
				t.Fatalf("qualified: %+v, version %d", res, version(qualified))
			}
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+other+"."+sqlstore.SchemaVersionTable).Scan(&n); err != nil || n != 1 {
				t.Errorf("version rows in %s: %d (%v), want 1", other, n, err)
			}
		})
	}
}

// TestMigrateResumesCutShort: MySQL commits each DDL statement on its
// own, so a migrator killed mid-step leaves the step half done. For every
// point a step can be cut at, the next Migrate finishes it and the
// records are intact.
func TestMigrateResumesCutShort(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		if e.dialect != sqlstore.MySQL {
			continue // PostgreSQL and SQLite run each step in one transaction
		}
		ctx := context.Background()
		probe := oldDatabase(t, e, "pre-events", false)
		dry, err := sqlstore.Migrate(ctx, probe, e.dialect, sqlstore.MigrateOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		steps := dry.Steps
		for si, step := range steps {
			for cut := 1; cut < len(step.Statements); cut++ {
				t.Run(fmt.Sprintf("v%d_after_%d", step.Version, cut), func(t *testing.T) {
					t.Parallel()
					db := oldDatabase(t, e, "pre-events", false)
					before := oldRows(t, db)
					for _, done := range steps[:si] {
						for _, st := range done.Statements {
							if _, err := db.ExecContext(ctx, st); err != nil {
								t.Fatalf("%s: %v", st, err)
							}
						}
					}
					for _, st := range step.Statements[:cut] {
						if _, err := db.ExecContext(ctx, st); err != nil {
							t.Fatalf("%s: %v", st, err)
						}
					}
					if _, err := sqlstore.Migrate(ctx, db, e.dialect, sqlstore.MigrateOptions{}); err != nil {
						t.Fatalf("after a cut at statement %d of version %d: %v", cut, step.Version, err)
					}
					if v := schemaVersion(t, db, e.dialect); v != sqlstore.SchemaVersion {
						t.Errorf("version %d", v)
					}
					if got := oldRows(t, db); !slices.EqualFunc(got, before, slices.Equal) {
						t.Errorf("records changed:\n%q\n%q", got, before)
					}
				})
			}
		}
	}
}
