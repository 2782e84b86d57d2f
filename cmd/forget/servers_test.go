package main

import (
	"context"
	"strings"
	"testing"

	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestRunOnServers runs `forget run -dsn` against PostgreSQL and MariaDB,
// each in a database of its own seeded with demo customers: the URL forms
// the README shows, and the MySQL URL's translation to the driver's DSN.
func TestRunOnServers(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Servers(t) {
		t.Run(e.Name, func(t *testing.T) {
			tdb := e.Open(t)
			db, cliURL := tdb.DB, tdb.URL
			ctx := context.Background()
			if err := sqlstore.CreateSchema(ctx, db, e.Dialect); err != nil {
				t.Fatal(err)
			}
			if err := seedDemo(ctx, db, e.Dialect, 200); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr strings.Builder
			code := Main([]string{"run", "-dsn", cliURL, "-orderid", "19101", "-keep", "firstname"}, nil, &stdout, &stderr)
			if code != exitOK || !strings.Contains(stdout.String(), `"customer_id": "191"`) {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
			}
			var username, firstname, lastname string
			var notes, audits int
			q := "SELECT username, firstname, lastname FROM customers WHERE customer_id = 191"
			if err := db.QueryRow(q).Scan(&username, &firstname, &lastname); err != nil {
				t.Fatal(err)
			}
			db.QueryRow("SELECT COUNT(*) FROM member_note WHERE customer_id = 191").Scan(&notes)
			db.QueryRow("SELECT COUNT(*) FROM forget_audit WHERE customer_id = '191'").Scan(&audits)
			if !strings.HasPrefix(username, "forgot-") || firstname == "" || lastname != "" || notes != 0 || audits != 1 {
				t.Errorf("after forget: pseudonym %v, firstname kept %v, lastname erased %v, notes %d, audit records %d",
					strings.HasPrefix(username, "forgot-"), firstname != "", lastname == "", notes, audits)
			}
			stdout.Reset()
			stderr.Reset()
			if code := Main([]string{"audit", "-dsn", cliURL}, nil, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), `"customer_id":"191"`) {
				t.Errorf("audit: exit %d, %s %s", code, stdout.String(), stderr.String())
			}
		})
	}
}
