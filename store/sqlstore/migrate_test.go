package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// The releases whose DDL testdata/migrate keeps (generated once from each
// release's DDL: pre-events from the commit before 8b8c1b3, v0.1.0 from
// d3a9d43, v0.2.0 from 75a552c), and the version each shows.
var migrateFixtures = []struct {
	release string
	version int
	events  bool // the audit table has event columns
}{
	{"pre-events", 1, false},
	{"v0.1.0", 2, true},
	{"v0.2.0", 3, true},
}

// oldDatabase is a database made by release's DDL, with customers 101 to
// 103 and audit records of customers 7 and 8 written as that release did.
func oldDatabase(t *testing.T, e engine, release string, events bool) *sql.DB {
	t.Helper()
	ctx := context.Background()
	db, _ := e.open(t)
	raw, err := os.ReadFile(filepath.Join("testdata", "migrate", release, e.name+".sql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range strings.Split(string(raw), ";\n") {
		if strings.TrimSpace(st) == "" {
			continue
		}
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	stmts := []string{
		"INSERT INTO customers (customer_id, username) VALUES (101, 'ann'), (102, 'bob'), (103, 'cy')",
	}
	if events {
		stmts = append(stmts,
			"INSERT INTO forget_audit (event_id, customer_id, at, principal, request_id, fields_erased, fields_kept, tables_kept, rows_deleted, rows_scrubbed, holds_ignored, held, published_at) VALUES "+
				"('evold1', '7', '2026-01-01T00:00:00.000000000Z', 'ops', 'r1', 'email', '', '', '{}', '{}', '', '', '2026-01-01T00:00:01.000000000Z'), "+
				"('evold2', '8', '2026-01-02T00:00:00.000000000Z', 'ops', 'r2', 'email', '', '', '{}', '{}', '', '', NULL)")
	} else {
		stmts = append(stmts,
			"INSERT INTO forget_audit (customer_id, at, principal, request_id, fields_erased, fields_kept, tables_kept, rows_deleted, rows_scrubbed) VALUES "+
				"('7', '2026-01-01T00:00:00.000000000Z', 'ops', 'r1', 'email', '', '', '{}', '{}'), "+
				"('8', '2026-01-02T00:00:00.000000000Z', 'ops', 'r2', 'email', '', '', '{}', '{}')")
	}
	for _, st := range stmts {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	return db
}

// oldRows reads the columns every release wrote, in order.
func oldRows(t *testing.T, db *sql.DB) [][]string {
	t.Helper()
	rows, err := db.Query("SELECT audit_id, customer_id, at, principal, request_id, fields_erased, rows_deleted FROM forget_audit WHERE customer_id IN ('7', '8') ORDER BY audit_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		r := make([]string, 7)
		ptrs := make([]any, len(r))
		for i := range r {
			ptrs[i] = &r[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func schemaVersion(t *testing.T, db *sql.DB, d sqlstore.Dialect) int {
	t.Helper()
	v, err := sqlstore.SchemaVersionOf(context.Background(), db, d, "")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMigrateOldReleases: a populated database made by each earlier
// release's DDL is placed at its version by its columns, refused as
// behind, changed by no dry run, migrated, and migrated again as a no-op;
// its old records are intact, and afterwards a forget's event (and an
// unpublished one of the old release) is claimed and relayed through the
// outbox, while the records made before events are not.
func TestMigrateOldReleases(t *testing.T) {
	for _, e := range engines(t) {
		for _, fx := range migrateFixtures {
			t.Run(e.name+"/"+fx.release, func(t *testing.T) {
				ctx := forget.WithPrincipal(context.Background(), "ops")
				db := oldDatabase(t, e, fx.release, fx.events)
				before := oldRows(t, db)
				if len(before) != 2 {
					t.Fatalf("%d old records, want 2", len(before))
				}
				if got := schemaVersion(t, db, e.dialect); got != fx.version {
					t.Fatalf("SchemaVersionOf = %d, want %d", got, fx.version)
				}
				err := sqlstore.CheckSchemaVersion(ctx, db, e.dialect, "")
				var sv *sqlstore.SchemaVersionError
				if fx.version < sqlstore.SchemaVersion {
					if !errors.As(err, &sv) || sv.Have != fx.version || !strings.Contains(err.Error(), "forget migrate") {
						t.Fatalf("CheckSchemaVersion = %v, want behind at %d naming forget migrate", err, fx.version)
					}
				} else if err != nil {
					t.Fatalf("CheckSchemaVersion = %v", err)
				}
				if !fx.events {
					st, err := sqlstore.New(db, e.dialect, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
					if err != nil {
						t.Fatal(err)
					}
					err = quietForgetter(t, st).Verify(ctx)
					if !errors.As(err, &sv) || !strings.Contains(err.Error(), "forget migrate") {
						t.Fatalf("Verify = %v, want a schema version error", err)
					}
				}

				dry, err := sqlstore.Migrate(ctx, db, e.dialect, sqlstore.MigrateOptions{DryRun: true})
				if err != nil {
					t.Fatalf("dry run: %v", err)
				}
				if dry.From != fx.version || dry.To != sqlstore.SchemaVersion || len(dry.Steps) == 0 {
					t.Fatalf("dry run = %+v", dry)
				}
				if got := schemaVersion(t, db, e.dialect); got != fx.version {
					t.Fatalf("after the dry run SchemaVersionOf = %d, want %d", got, fx.version)
				}
				if got := oldRows(t, db); !reflect.DeepEqual(got, before) {
					t.Fatalf("the dry run changed the records: %v, was %v", got, before)
				}
				var tables int
				if err := db.QueryRow(tableCountSQL(e.dialect)).Scan(&tables); err != nil || tables != 0 {
					t.Fatalf("after the dry run %d version tables (%v), want 0", tables, err)
				}

				res, err := sqlstore.Migrate(ctx, db, e.dialect, sqlstore.MigrateOptions{})
				if err != nil {
					t.Fatalf("Migrate: %v", err)
				}
				if res.From != fx.version || res.To != sqlstore.SchemaVersion || len(res.Steps) != len(dry.Steps) {
					t.Fatalf("Migrate = %+v; dry run %+v", res, dry)
				}
				for i := range res.Steps {
					if res.Steps[i].Version != dry.Steps[i].Version {
						t.Errorf("step %d: version %d, dry run %d", i, res.Steps[i].Version, dry.Steps[i].Version)
					}
				}
				again, err := sqlstore.Migrate(ctx, db, e.dialect, sqlstore.MigrateOptions{})
				if err != nil || len(again.Steps) != 0 || again.From != sqlstore.SchemaVersion {
					t.Fatalf("Migrate again = %+v, %v; want a no-op", again, err)
				}
				if dry, err := sqlstore.Migrate(ctx, db, e.dialect, sqlstore.MigrateOptions{DryRun: true}); err != nil || len(dry.Steps) != 0 {
					t.Fatalf("dry run after = %+v, %v; want no steps", dry, err)
				}
				if err := sqlstore.CheckSchemaVersion(ctx, db, e.dialect, ""); err != nil {
					t.Fatalf("CheckSchemaVersion after = %v", err)
				}
				if got := oldRows(t, db); !reflect.DeepEqual(got, before) {
					t.Fatalf("records after Migrate: %v, were %v", got, before)
				}

				st, err := sqlstore.New(db, e.dialect, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
				if err != nil {
					t.Fatal(err)
				}
				f := quietForgetter(t, st)
				if err := f.Verify(ctx); err != nil {
					t.Fatalf("Verify after Migrate: %v", err)
				}
				rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}})
				if err != nil {
					t.Fatal(err)
				}
				want := []string{rc.EventID}
				if fx.events {
					want = append([]string{"evold2"}, want...)
				}
				c := claim(t, st, 10)
				var got []string
				for _, ev := range c.Events() {
					got = append(got, ev.EventID)
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("claimed %v, want %v", got, want)
				}
				if err := c.MarkPublished(ctx, got, time.Now()); err != nil {
					t.Fatal(err)
				}
				c.Release()
				if c := claim(t, st, 10); len(c.Events()) != 0 {
					t.Fatalf("claimed %d events after publishing them all", len(c.Events()))
				}
				evs, err := st.CustomerEvents(ctx, "7")
				if err != nil || len(evs) != 1 || evs[0].PublishedAt.IsZero() {
					t.Fatalf("CustomerEvents(7) = %+v, %v; want one published record", evs, err)
				}
			})
		}
	}
}

func tableCountSQL(d sqlstore.Dialect) string {
	if d == sqlstore.SQLite {
		return "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'forget_schema_version'"
	}
	return "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'forget_schema_version' AND table_schema = " + map[sqlstore.Dialect]string{sqlstore.Postgres: "current_schema()", sqlstore.MySQL: "DATABASE()"}[d]
}

// TestMigrateConcurrent: two migrators at once on a database made before
// events end in one correct state, each without an error.
func TestMigrateConcurrent(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := oldDatabase(t, e, "pre-events", false)
			before := oldRows(t, db)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = sqlstore.Migrate(ctx, db, e.dialect, sqlstore.MigrateOptions{})
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("migrator %d: %v", i, err)
				}
			}
			if got := schemaVersion(t, db, e.dialect); got != sqlstore.SchemaVersion {
				t.Fatalf("version %d, want %d", got, sqlstore.SchemaVersion)
			}
			if got := oldRows(t, db); !reflect.DeepEqual(got, before) {
				t.Fatalf("records %v, were %v", got, before)
			}
			var rows int
			if err := db.QueryRow("SELECT COUNT(*) FROM forget_schema_version").Scan(&rows); err != nil || rows != 1 {
				t.Fatalf("%d version rows (%v), want 1", rows, err)
			}
		})
	}
}

// TestMigrateCreatesAndRefusesNewer: an empty database gets the audit
// table at the latest version, recorded; a version row of a newer
// release is refused by Migrate, CheckSchemaVersion and Verify, naming
// both versions.
func TestMigrateCreatesAndRefusesNewer(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			b := newDefaultBackend(t, e, sqlstore.WithAudit("other_audit"))
			res, err := sqlstore.Migrate(ctx, b.db, e.dialect, sqlstore.MigrateOptions{AuditTable: "other_audit"})
			if err != nil || res.From != 0 || res.To != sqlstore.SchemaVersion {
				t.Fatalf("Migrate = %+v, %v", res, err)
			}
			if err := quietForgetter(t, b).Verify(ctx); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if _, err := b.db.Exec(fmt.Sprintf("UPDATE forget_schema_version SET version = %d WHERE audit_table = 'other_audit'", sqlstore.SchemaVersion+1)); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("schema version %d, newer than this release's %d", sqlstore.SchemaVersion+1, sqlstore.SchemaVersion)
			if _, err := sqlstore.Migrate(ctx, b.db, e.dialect, sqlstore.MigrateOptions{AuditTable: "other_audit"}); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Migrate = %v, want %q", err, want)
			}
			if err := sqlstore.CheckSchemaVersion(ctx, b.db, e.dialect, "other_audit"); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("CheckSchemaVersion = %v, want %q", err, want)
			}
			if err := quietForgetter(t, b).Verify(ctx); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Verify = %v, want %q", err, want)
			}
			// The default audit table, without a row of its own, is current.
			if err := sqlstore.CheckSchemaVersion(ctx, b.db, e.dialect, ""); err != nil {
				t.Errorf("CheckSchemaVersion(default) = %v", err)
			}
		})
	}
}

// TestMigrateHandFixed: an audit table of before events completed by hand
// (the columns added NOT NULL DEFAULT ” or NULL, no version row), to
// which a forget of customer 7 has written an event since, is taken for
// behind, not current: its old records, without an event id, would head
// customer 7's events in the outbox, and hide the new one from every
// relay. After Migrate the new event is claimed, and the old records are
// not.
func TestMigrateHandFixed(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := oldDatabase(t, e, "pre-events", false)
			before := oldRows(t, db)
			for _, st := range []string{
				"ALTER TABLE forget_audit ADD COLUMN event_id VARCHAR(255) NOT NULL DEFAULT ''",
				"ALTER TABLE forget_audit ADD COLUMN holds_ignored VARCHAR(4096)",
				"ALTER TABLE forget_audit ADD COLUMN held VARCHAR(255)",
				"ALTER TABLE forget_audit ADD COLUMN published_at VARCHAR(255)",
				"INSERT INTO forget_audit (event_id, customer_id, at, principal, request_id, fields_erased, fields_kept, tables_kept, rows_deleted, rows_scrubbed, holds_ignored, held, published_at) VALUES " +
					"('evnew', '7', '2026-02-01T00:00:00.000000000Z', 'ops', 'r3', 'email', '', '', '{}', '{}', '', '', NULL)",
			} {
				if _, err := db.ExecContext(ctx, st); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			var sv *sqlstore.SchemaVersionError
			if err := sqlstore.CheckSchemaVersion(ctx, db, e.dialect, ""); !errors.As(err, &sv) || sv.Have != 1 {
				t.Fatalf("CheckSchemaVersion = %v, want behind at 1", err)
			}
			if _, err := sqlstore.Migrate(ctx, db, e.dialect, sqlstore.MigrateOptions{}); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			if got := oldRows(t, db); !reflect.DeepEqual(got[:2], before) {
				t.Fatalf("records after Migrate: %v, were %v", got, before)
			}
			st, err := sqlstore.New(db, e.dialect, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
			if err != nil {
				t.Fatal(err)
			}
			if err := quietForgetter(t, st).Verify(ctx); err != nil {
				t.Fatalf("Verify after Migrate: %v", err)
			}
			c := claim(t, st, 10)
			if evs := c.Events(); len(evs) != 1 || evs[0].EventID != "evnew" {
				t.Fatalf("claimed %+v, want evnew alone", evs)
			}
		})
	}
}
