package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// TestAuditTrailInTransaction: the audit table holds exactly the erasures
// that were committed, each with its receipt, on every engine.
func TestAuditTrailInTransaction(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := forget.WithPrincipal(context.Background(), "ops")
			b := newDefaultBackend(t, e, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
			if err := b.Seed(ctx, storetest.Fixtures()); err != nil {
				t.Fatal(err)
			}
			refuseNoteDeletes(t, b.db, e.dialect, 103)
			f := quietForgetter(t, b)
			rc1, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Keep: []string{"firstname"}, RequestID: "r-1"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "102"}, DryRun: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "103"}}); err == nil {
				t.Fatal("the trigger should have failed the forget of 103")
			}
			out := f.ForgetBatch(ctx, []forget.Request{{Lookup: forget.Lookup{OrderID: "10201"}}, {Lookup: forget.Lookup{CustomerID: "999"}}})
			if out[0].Err != nil {
				t.Fatal(out[0].Err)
			}
			trail, err := b.AuditTrail(ctx, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if len(trail) != 2 {
				t.Fatalf("audit trail has %d records, want 2 (101, then 102): %+v", len(trail), trail)
			}
			for i, want := range []*forget.Receipt{rc1, out[0].Receipt} {
				got := trail[i]
				if got.CustomerID != want.CustomerID || got.Principal != "ops" || got.RequestID != want.RequestID || !got.At.Equal(want.At) ||
					!slices.Equal(got.FieldsErased, want.FieldsErased) || !slices.Equal(got.FieldsKept, want.FieldsKept) ||
					!slices.Equal(got.TablesKept, want.TablesKept) || !maps.Equal(got.RowsDeleted, want.RowsDeleted) {
					t.Errorf("audit record %d = %+v, want %+v", i, got, want)
				}
			}
			if later, err := b.AuditTrail(ctx, rc1.At.Add(time.Nanosecond)); err != nil || len(later) != 1 || later[0].CustomerID != "102" {
				t.Errorf("AuditTrail since after the first forget = %+v, %v", later, err)
			}
		})
	}
}

// TestAuditFailureUndoesErasure: when the audit record cannot be written,
// the erasure is rolled back with it.
func TestAuditFailureUndoesErasure(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			b := newDefaultBackend(t, e, sqlstore.WithAudit("no_such_audit_table"))
			if err := b.Seed(ctx, storetest.Fixtures()); err != nil {
				t.Fatal(err)
			}
			before, _ := b.Snapshot(ctx)
			if _, err := quietForgetter(t, b).Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}}); err == nil {
				t.Fatal("Forget succeeded without its audit record")
			}
			after, _ := b.Snapshot(ctx)
			if !before["101"].Equal(after["101"]) {
				t.Error("an erasure was committed without its audit record")
			}
		})
	}
}

// TestReplayAfterRestore: restore a SQLite backup taken before a forget,
// replay the exported audit trail, and the customer is forgotten again.
func TestReplayAfterRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	open := func(path string) (*sql.DB, *sqlstore.Store, *forget.Forgetter) {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
		if err != nil {
			t.Fatal(err)
		}
		return db, s, quietForgetter(t, s)
	}
	db, s, _ := open(live)
	if err := sqlstore.CreateSchema(ctx, db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	b := defaultBackend{Store: s, db: db, sb: statementBuilder(sqlstore.SQLite)}
	if err := b.Seed(ctx, storetest.Fixtures()); err != nil {
		t.Fatal(err)
	}
	seeded, _ := b.Snapshot(ctx)
	db.Close()
	backup := filepath.Join(dir, "backup.db")
	if err := copyFile(live, backup); err != nil {
		t.Fatal(err)
	}
	db, s, f := open(live)
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "102"}, Keep: []string{"member_note"}}); err != nil {
		t.Fatal(err)
	}
	trail, err := s.AuditTrail(ctx, time.Time{})
	if err != nil || len(trail) != 1 {
		t.Fatalf("trail = %v, %v", trail, err)
	}
	db.Close()

	// Disaster: the backup is restored over the live database.
	os.Remove(live + "-wal")
	os.Remove(live + "-shm")
	if err := copyFile(backup, live); err != nil {
		t.Fatal(err)
	}
	db, s, f = open(live)
	defer db.Close()
	b = defaultBackend{Store: s, db: db, sb: statementBuilder(sqlstore.SQLite)}
	restored, _ := b.Snapshot(ctx)
	if !restored["102"].Equal(seeded["102"]) {
		t.Fatal("the backup should hold customer 102 as seeded")
	}
	out := f.Replay(ctx, trail)
	if out[0].Err != nil {
		t.Fatal(out[0].Err)
	}
	after, _ := b.Snapshot(ctx)
	if after["102"].Fields[forget.Lastname].String != "" || after["102"].Rows[forget.MemberNote] != 3 || after["102"].Rows[forget.MemberAuth] != 0 {
		t.Errorf("customer 102 after replay: %+v", after["102"])
	}
	if again, _ := s.AuditTrail(ctx, time.Time{}); len(again) != 1 || again[0].CustomerID != "102" {
		t.Errorf("the restored database's audit trail after replay = %+v", again)
	}
}

// TestReplayKeepsIgnoredHolds: an erasure with a mapped hold ignored is
// recorded with it, and its replay onto the restored database (here, a
// database seeded alike) ignores it again, on every engine: the hold
// would otherwise refuse the replay and the customer stay back for good.
func TestReplayKeepsIgnoredHolds(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			live := newBulkFixture(t, e)
			if _, err := live.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "121"}, IgnoreHolds: []string{"chargeback"}}); err != nil {
				t.Fatal(err)
			}
			trail, err := live.s.AuditTrail(ctx, time.Time{})
			if err != nil || len(trail) != 1 || !slices.Equal(trail[0].HoldsIgnored, []string{"chargeback"}) {
				t.Fatalf("audit trail = %+v, %v; want one record with the hold ignored", trail, err)
			}
			restored := newBulkFixture(t, e)
			out := restored.f.Replay(ctx, trail)
			if out[0].Err != nil {
				t.Fatalf("replay: %v", out[0].Err)
			}
			if !slices.Equal(out[0].Receipt.HoldsIgnored, []string{"chargeback"}) {
				t.Errorf("replay receipt holds_ignored = %v", out[0].Receipt.HoldsIgnored)
			}
			var lastname string
			if err := restored.db.QueryRowContext(ctx, "SELECT lastname FROM customers WHERE customer_id = 121").Scan(&lastname); err != nil || lastname != "" {
				t.Errorf("customer 121 after the replay: lastname %d characters, %v", len(lastname), err)
			}
			again, err := restored.s.AuditTrail(ctx, time.Time{})
			if err != nil || len(again) != 1 || again[0].Held != "" || !slices.Equal(again[0].HoldsIgnored, []string{"chargeback"}) {
				t.Errorf("restored audit trail = %+v, %v; want the erasure, the hold ignored", again, err)
			}
		})
	}
}

// TestRefusalRecordHasNoEvent: a refusal by a hold is audited with no
// event id and no publication time, in a single forget and in a
// set-based batch alike, on every engine; on an audit table made before
// (event_id NOT NULL) its record carries a unique placeholder, marked
// published so that no relay takes it for an event, and the audit trail
// still shows no event id.
func TestRefusalRecordHasNoEvent(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		for _, legacy := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/notNullEventID=%v", e.name, legacy), func(t *testing.T) {
				ctx := context.Background()
				fx := newBulkFixture(t, e)
				if legacy {
					ddl := sqlstore.AuditDDL(e.dialect, sqlstore.DefaultAuditTable)
					notNull := regexp.MustCompile(`(.event_id. (TEXT|VARCHAR\(255\)))`).ReplaceAllString(ddl[0], "$1 NOT NULL")
					if notNull == ddl[0] {
						t.Fatalf("no event_id column in %s", ddl[0])
					}
					ddl[0] = notNull
					for _, st := range append([]string{"DROP TABLE " + sqlstore.DefaultAuditTable}, ddl...) {
						if _, err := fx.db.ExecContext(ctx, st); err != nil {
							t.Fatalf("%s: %v", st, err)
						}
					}
				}
				if err := fx.f.Verify(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := fx.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "121"}}); !errors.Is(err, forget.ErrHeld) {
					t.Fatalf("Forget(121) = %v, want held", err)
				}
				out := fx.f.ForgetBatch(ctx, []forget.Request{{Lookup: forget.Lookup{CustomerID: "121"}}, {Lookup: forget.Lookup{CustomerID: "125"}}, {Lookup: forget.Lookup{CustomerID: "101"}}})
				if !errors.Is(out[0].Err, forget.ErrHeld) || !errors.Is(out[1].Err, forget.ErrHeld) || out[2].Err != nil {
					t.Fatalf("batch = %v, %v, %v; want held, held, forgotten", out[0].Err, out[1].Err, out[2].Err)
				}
				var refusals, noEvent, erasures int
				q := "SELECT COUNT(*), COUNT(CASE WHEN event_id IS NULL AND published_at IS NULL THEN 1 END) FROM forget_audit WHERE held <> ''"
				if err := fx.db.QueryRowContext(ctx, q).Scan(&refusals, &noEvent); err != nil {
					t.Fatal(err)
				}
				if err := fx.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM forget_audit WHERE held = '' AND event_id IS NOT NULL AND published_at IS NULL").Scan(&erasures); err != nil {
					t.Fatal(err)
				}
				want := 3
				if legacy {
					want = 0
				}
				if refusals != 3 || noEvent != want || erasures != 1 {
					t.Errorf("%d refusal records, %d without event id and publication (want %d); %d unpublished erasures (want 1)", refusals, noEvent, want, erasures)
				}
				trail, err := fx.s.AuditTrail(ctx, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				for _, rc := range trail {
					if (rc.Held != "") != (rc.EventID == "") {
						t.Errorf("audit trail: record of %s, held %q, has event id %q", rc.CustomerID, rc.Held, rc.EventID)
					}
				}
				claim, err := fx.s.ClaimEvents(ctx, 100)
				if err != nil {
					t.Fatal(err)
				}
				defer claim.Release()
				if evs := claim.Events(); len(evs) != 1 || evs[0].CustomerID != "101" {
					t.Errorf("claimed %d events (%+v), want the erasure of 101", len(evs), evs)
				}
			})
		}
	}
}
