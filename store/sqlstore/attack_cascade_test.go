package sqlstore_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestKeepRefusedWhenACascadeFollowsASetNull: an unmapped table reached
// first by ON DELETE SET NULL, straight from member_auth, and then by ON
// DELETE CASCADE through another table, loses its rows, and member_note
// rows cascading from it go too. The shorter SET NULL path must not hide
// the longer one that deletes: keep=member_note is refused.
func TestKeepRefusedWhenACascadeFollowsASetNull(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := schemaDB(t, e)
			seedCustomers(t, db, e, 1, 1)
			idType := map[sqlstore.Dialect]string{sqlstore.SQLite: "INTEGER", sqlstore.Postgres: "BIGINT", sqlstore.MySQL: "BIGINT"}[e.dialect]
			execAll(t, db, "CREATE TABLE auth_session (session_id "+idType+" PRIMARY KEY)",
				"CREATE TABLE auth_log (log_id "+idType+" PRIMARY KEY)")
			addFK(t, db, e.dialect, "auth_session", "auth_id", "member_auth", "auth_id", "CASCADE")
			addFK(t, db, e.dialect, "auth_log", "auth_id", "member_auth", "auth_id", "SET NULL")
			addFK(t, db, e.dialect, "auth_log", "session_id", "auth_session", "session_id", "CASCADE")
			addFK(t, db, e.dialect, "member_note", "log_id", "auth_log", "log_id", "CASCADE")
			execAll(t, db, "INSERT INTO auth_session (session_id, auth_id) SELECT MIN(auth_id), MIN(auth_id) FROM member_auth",
				"INSERT INTO auth_log (log_id, auth_id, session_id) SELECT 1, MIN(auth_id), MIN(auth_id) FROM member_auth",
				"UPDATE member_note SET log_id = 1")
			notes := countRows(t, db, "SELECT COUNT(*) FROM member_note WHERE customer_id = 1")
			s, err := sqlstore.New(db, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, s)
			for _, dry := range []bool{true, false} {
				_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, Keep: []string{"member_note"}, DryRun: dry})
				var ce *forget.CascadeError
				if !errors.As(err, &ce) || ce.Kept != "member_note" {
					t.Fatalf("keep=member_note (dry run %v): %v; want a CascadeError keeping member_note", dry, err)
				}
			}
			if n := countRows(t, db, "SELECT COUNT(*) FROM member_note WHERE customer_id = 1"); n != notes {
				t.Fatalf("member_note rows after the refusal: %d, want %d", n, notes)
			}
		})
	}
}

// TestKeepRefusedThroughCyclesAndCompositeKeys: a cycle of cascading
// keys (member_auth -> member_note -> member_auth), a self-referencing
// key, and a composite key (customer_id, auth_id): the walk ends, and
// keep=member_note while member_auth is erased is refused.
func TestKeepRefusedThroughCyclesAndCompositeKeys(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		for _, shape := range []string{"cycle", "self", "composite"} {
			if shape == "composite" && e.dialect == sqlstore.SQLite {
				continue // SQLite adds no table constraint to an existing table
			}
			t.Run(e.name+"/"+shape, func(t *testing.T) {
				ctx := context.Background()
				db := schemaDB(t, e)
				seedCustomers(t, db, e, 1, 2)
				switch shape {
				case "cycle":
					addFK(t, db, e.dialect, "member_note", "auth_id", "member_auth", "auth_id", "CASCADE")
					addFK(t, db, e.dialect, "member_auth", "note_ref", "member_note", "note_id", "CASCADE")
					execAll(t, db, "UPDATE member_note SET auth_id = (SELECT MIN(auth_id) FROM member_auth WHERE customer_id = 1) WHERE customer_id = 1")
				case "self":
					addFK(t, db, e.dialect, "member_auth", "parent_auth", "member_auth", "auth_id", "CASCADE")
					addFK(t, db, e.dialect, "member_note", "auth_id", "member_auth", "auth_id", "CASCADE")
					execAll(t, db, "UPDATE member_note SET auth_id = (SELECT MIN(auth_id) FROM member_auth WHERE customer_id = 1) WHERE customer_id = 1")
				case "composite":
					execAll(t, db, "ALTER TABLE member_auth ADD CONSTRAINT member_auth_cust_auth UNIQUE (customer_id, auth_id)",
						"ALTER TABLE member_note ADD COLUMN auth_id BIGINT NULL",
						"ALTER TABLE member_note ADD CONSTRAINT member_note_cust_auth FOREIGN KEY (customer_id, auth_id) REFERENCES member_auth (customer_id, auth_id) ON DELETE CASCADE",
						"UPDATE member_note SET auth_id = (SELECT MIN(auth_id) FROM member_auth WHERE customer_id = 1) WHERE customer_id = 1")
				}
				notes := countRows(t, db, "SELECT COUNT(*) FROM member_note")
				s, err := sqlstore.New(db, e.dialect)
				if err != nil {
					t.Fatal(err)
				}
				f := quietForgetter(t, s)
				_, err = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, Keep: []string{"member_note"}})
				var ce *forget.CascadeError
				if !errors.As(err, &ce) || ce.Kept != "member_note" {
					t.Fatalf("keep=member_note: %v; want a CascadeError keeping member_note", err)
				}
				if n := countRows(t, db, "SELECT COUNT(*) FROM member_note"); n != notes {
					t.Fatalf("member_note rows after the refusal: %d, want %d", n, notes)
				}
				if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
					t.Fatalf("a whole forget: %v", err)
				}
				if n := countRows(t, db, "SELECT COUNT(*) FROM member_note WHERE customer_id = 2"); n == 0 {
					t.Fatal("customer 2's notes went with customer 1's")
				}
			})
		}
	}
}

// TestVerifyWarnsOfSelfCascade: notes that reply to notes by a
// self-referencing ON DELETE CASCADE key: deleting customer 1's notes
// deletes customer 2's replies to them. The store cannot tell whose rows
// the database deletes, so Verify says so at start, naming the key.
func TestVerifyWarnsOfSelfCascade(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			db := schemaDB(t, e)
			addFK(t, db, e.dialect, "member_note", "reply_to", "member_note", "note_id", "CASCADE")
			var logs strings.Builder
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			if err != nil {
				t.Fatal(err)
			}
			if err := quietForgetter(t, s).Verify(context.Background()); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !strings.Contains(logs.String(), "member_note -(ON DELETE CASCADE)-> member_note") {
				t.Errorf("Verify logged %q; want a warning naming the self-referencing cascade", logs.String())
			}
		})
	}
}
