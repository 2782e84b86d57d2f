package sqlstore_test

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// TestUpperCaseUUIDForgetThenSweep: a customer forgotten by an upper-case
// spelling of their uuid key is audited under the key as the database
// prints it, so a sweep after it (the same cutoff) skips them rather than
// forgetting them a second time.
func TestUpperCaseUUIDForgetThenSweep(t *testing.T) {
	keys := storetest.UUIDKeys()
	for _, e := range engines(t) {
		if e.dialect == sqlstore.SQLite {
			continue // TEXT: another spelling is another key
		}
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			b := newUUIDBackend(t, e, true, func(db *sql.DB, s *sqlstore.Schema) {
				execAll(t, db, "ALTER TABLE customers ADD last_login TIMESTAMP NULL")
				s.Activity = []sqlstore.Column{{Column: "last_login"}}
			})
			var cs []storetest.Customer
			for _, n := range []int{101, 102} {
				c := storetest.NewCustomer(n)
				c.ID = keys.Customer(n)
				cs = append(cs, c)
			}
			if err := b.Seed(ctx, cs); err != nil {
				t.Fatal(err)
			}
			execAll(t, b.db, "UPDATE customers SET last_login = '2020-01-01 00:00:00'")
			f, err := forget.New(b, forget.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			cutoff := time.Now().Add(-time.Hour)
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: strings.ToUpper(keys.Customer(101))}})
			if err != nil {
				t.Fatal(err)
			}
			if rc.CustomerID != keys.Customer(101) {
				t.Errorf("receipt names %s, want %s", rc.CustomerID, keys.Customer(101))
			}
			rep, err := f.Sweep(ctx, forget.SweepOptions{InactiveSince: cutoff})
			if err != nil {
				t.Fatal(err)
			}
			var records int
			if err := b.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM forget_audit WHERE held = ''").Scan(&records); err != nil {
				t.Fatal(err)
			}
			if records != 2 {
				t.Errorf("sweep %+v; %d erasure records, want 2 (101 once, 102 once)", rep, records)
			}
		})
	}
}
