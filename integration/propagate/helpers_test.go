package propagate_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/outboxtest"
	"github.com/forgetkit/forget/internal/streamtest"
	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
)

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// secretValue is in every seeded customer's fields: no event, webhook
// body or log may ever hold it.
const secretValue = "qzx-personal"

// sqlite is the engine of the tests that need only one.
func sqlite(t testing.TB) testdb.Engine { return testdb.Engines(t)[0] }

// newStore creates the default schema on a fresh database of e, with
// customers 1..n, and returns the store (with its outbox) and a quiet
// Forgetter on it.
func newStore(t testing.TB, e testdb.Engine, n int, opts ...forget.Option) (*sql.DB, *sqlstore.Store, *forget.Forgetter) {
	t.Helper()
	ctx := context.Background()
	db := e.Open(t).DB
	if err := sqlstore.CreateSchema(ctx, db, e.Dialect); err != nil {
		t.Fatal(err)
	}
	seed(t, db, 1, n)
	s, err := sqlstore.New(db, e.Dialect, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(s, append([]forget.Option{forget.WithLogger(quiet())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return db, s, f
}

// seed inserts customers first..last with a personal value in each.
func seed(t testing.TB, db *sql.DB, first, last int) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for id := first; id <= last; id++ {
		if _, err := tx.Exec(fmt.Sprintf("INSERT INTO customers (customer_id, username, firstname, phone) VALUES (%d, 'user%d', '%s', '%s')", id, id, secretValue, secretValue)); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(fmt.Sprintf("INSERT INTO member_note (customer_id, note) VALUES (%d, '%s')", id, secretValue)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func forgetID(t testing.TB, f *forget.Forgetter, id int) *forget.Receipt {
	t.Helper()
	return outboxtest.Forget(t, f, strconv.Itoa(id))
}

// unpublished counts the events waiting in the outbox.
func unpublished(t testing.TB, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM forget_audit WHERE published_at IS NULL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkStream checks that the stream holds each event of the audit table
// exactly once, nothing else, and each customer's events in commit order.
func checkStream(t testing.TB, db *sql.DB, js jetstream.JetStream) {
	t.Helper()
	all, byCustomer, _ := outboxtest.AuditEvents(t, db)
	want := make(map[string]bool, len(all))
	for _, id := range all {
		want[id] = true
	}
	got := streamtest.Receipts(t, js)
	seen := map[string]bool{}
	streamOrder := map[string][]string{}
	for _, rc := range got {
		if seen[rc.EventID] {
			t.Errorf("event %s is in the stream twice", rc.EventID)
		}
		seen[rc.EventID] = true
		if !want[rc.EventID] {
			t.Errorf("event %s is in the stream but was never committed", rc.EventID)
		}
		streamOrder[rc.CustomerID] = append(streamOrder[rc.CustomerID], rc.EventID)
	}
	for _, id := range all {
		if !seen[id] {
			t.Errorf("committed event %s is not in the stream", id)
		}
	}
	for c, ids := range byCustomer {
		if got := streamOrder[c]; strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Errorf("customer %s: stream order %v, commit order %v", c, got, ids)
		}
	}
	if t.Failed() {
		t.Fatalf("stream: %d messages, audit table: %d events", len(got), len(all))
	}
}
