package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestSweepFailureSaysWhatFailed: a sweep whose selection fails says
// which statement failed and the server's message, and prints no
// summary that reads like a sweep that found nobody; nothing is erased.
// The selection is made to fail by a lock on the customers table and a
// statement timeout: PostgreSQL's 57014.
func TestSweepFailureSaysWhatFailed(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Servers(t) {
		if e.Dialect != sqlstore.Postgres {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			tdb, ctx := demoOn(t, e, 20), context.Background()
			for _, st := range []string{"ALTER TABLE customers ADD COLUMN last_seen TIMESTAMP", "UPDATE customers SET last_seen = '2001-01-01'", "CREATE INDEX customers_last_seen ON customers (last_seen, customer_id)"} {
				if _, err := tdb.Exec(st); err != nil {
					t.Fatal(err)
				}
			}
			lock, err := tdb.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Rollback()
			if _, err := lock.Exec("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE"); err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(tdb.URL)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("statement_timeout", "300")
			u.RawQuery = q.Encode()
			code, stdout, stderr := runSweep("-dsn", u.String(), "-activity", "last_seen", "-inactive", "3y", "-progress", "none")
			t.Logf("stdout: %s\nstderr: %s", stdout, stderr)
			if code != exitFailed {
				t.Errorf("exit %d, want %d", code, exitFailed)
			}
			if strings.Contains(stdout, "customers inactive since") || strings.Contains(stdout, "0 failed") {
				t.Errorf("a failed sweep printed a summary:\n%s", stdout)
			}
			for _, w := range []string{"sweep failed before forgetting anybody", "sweep: selecting inactive customers by customers.last_seen", "canceling statement due to statement timeout", "57014"} {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			lock.Rollback()
			var audits int
			if err := tdb.QueryRow("SELECT COUNT(*) FROM forget_audit").Scan(&audits); err != nil || audits != 0 {
				t.Errorf("%d audit records, %v", audits, err)
			}
		})
	}
}

// TestSweepConnectionKilledMidway: a sweep whose database connection is
// terminated part-way (a trigger kills its own backend at customer 100,
// as a failover or an operator's pg_terminate_backend would) exits
// non-zero and says how many failed and why; its summary never reads as
// a complete sweep, and the customers it reports forgotten are.
func TestSweepConnectionKilledMidway(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Servers(t) {
		if e.Dialect != sqlstore.Postgres {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			tdb := demoOn(t, e, 200)
			for _, st := range []string{
				"ALTER TABLE customers ADD COLUMN last_seen TIMESTAMP",
				"UPDATE customers SET last_seen = '2001-01-01'",
				`CREATE FUNCTION kill_own_backend() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NEW; END $$`,
				"CREATE TRIGGER kill_at_100 BEFORE UPDATE ON customers FOR EACH ROW WHEN (OLD.customer_id = 100) EXECUTE FUNCTION kill_own_backend()",
			} {
				if _, err := tdb.Exec(st); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			code, stdout, stderr := runSweep("-dsn", tdb.URL, "-activity", "last_seen", "-inactive", "3y", "-chunk", "10", "-progress", "none")
			t.Logf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			if code == exitOK {
				t.Errorf("exit 0 after the connection was killed")
			}
			var forgotten, audits int
			tdb.QueryRow("SELECT COUNT(*) FROM customers WHERE username LIKE 'forgot-%'").Scan(&forgotten)
			tdb.QueryRow("SELECT COUNT(*) FROM forget_audit WHERE held = ''").Scan(&audits)
			if forgotten != audits {
				t.Errorf("%d customers forgotten, %d audit records", forgotten, audits)
			}
			var custUser string
			tdb.QueryRow("SELECT username FROM customers WHERE customer_id = 100").Scan(&custUser)
			if strings.HasPrefix(custUser, "forgot-") {
				t.Error("customer 100 is forgotten though its forget was killed")
			}
			if strings.Contains(stdout, " 0 failed") {
				t.Errorf("the summary says 0 failed:\n%s", stdout)
			}
			if !strings.Contains(stdout+stderr, "terminat") {
				t.Errorf("the output does not say the connection was terminated:\n%s\n%s", stdout, stderr)
			}
		})
	}
}
