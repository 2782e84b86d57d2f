package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// addFK adds column col to child referencing parent(ref) with the action.
func addFK(t *testing.T, db *sql.DB, d sqlstore.Dialect, child, col, parent, ref, action string) {
	t.Helper()
	if d == sqlstore.MySQL {
		execAll(t, db, "ALTER TABLE "+child+" ADD COLUMN "+col+" BIGINT NULL, ADD CONSTRAINT "+child+"_"+col+"_fk FOREIGN KEY ("+col+") REFERENCES "+parent+" ("+ref+") ON DELETE "+action)
		return
	}
	typ := "BIGINT"
	if d == sqlstore.SQLite {
		typ = "INTEGER"
	}
	execAll(t, db, "ALTER TABLE "+child+" ADD COLUMN "+col+" "+typ+" NULL REFERENCES "+parent+" ("+ref+") ON DELETE "+action)
}

func countRows(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestKeepRefusedWhenACascadeWouldBreakIt: member_note rows referencing
// member_auth rows by ON DELETE CASCADE, directly or through a table the
// mapping does not name, and by ON DELETE SET NULL: keep=member_note
// while member_auth is erased is refused (400-class, naming both tables,
// in the dry run too), nothing erased; keeping both erases the rest.
func TestKeepRefusedWhenACascadeWouldBreakIt(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		for _, shape := range []string{"cascade", "two hops", "set null"} {
			t.Run(e.name+"/"+shape, func(t *testing.T) {
				ctx := context.Background()
				db := schemaDB(t, e)
				seedCustomers(t, db, e, 1, 1)
				switch shape {
				case "cascade":
					addFK(t, db, e.dialect, "member_note", "auth_id", "member_auth", "auth_id", "CASCADE")
					execAll(t, db, "UPDATE member_note SET auth_id = (SELECT MIN(auth_id) FROM member_auth)")
				case "two hops":
					idType := map[sqlstore.Dialect]string{sqlstore.SQLite: "INTEGER", sqlstore.Postgres: "BIGINT", sqlstore.MySQL: "BIGINT"}[e.dialect]
					execAll(t, db, "CREATE TABLE auth_session (session_id "+idType+" PRIMARY KEY)")
					addFK(t, db, e.dialect, "auth_session", "auth_id", "member_auth", "auth_id", "CASCADE")
					addFK(t, db, e.dialect, "member_note", "session_id", "auth_session", "session_id", "CASCADE")
					execAll(t, db, "INSERT INTO auth_session (session_id, auth_id) SELECT MIN(auth_id), MIN(auth_id) FROM member_auth",
						"UPDATE member_note SET session_id = (SELECT MIN(session_id) FROM auth_session)")
				case "set null":
					addFK(t, db, e.dialect, "member_note", "auth_id", "member_auth", "auth_id", "SET NULL")
					execAll(t, db, "UPDATE member_note SET auth_id = (SELECT MIN(auth_id) FROM member_auth)")
				}
				notes := countRows(t, db, "SELECT COUNT(*) FROM member_note WHERE customer_id = 1")
				s, err := sqlstore.New(db, e.dialect)
				if err != nil {
					t.Fatal(err)
				}
				f := quietForgetter(t, s)
				for _, dry := range []bool{true, false} {
					_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, Keep: []string{"member_note"}, DryRun: dry})
					var ce *forget.CascadeError
					if !errors.As(err, &ce) || !errors.Is(err, forget.ErrInvalid) {
						t.Fatalf("keep=member_note (dry run %v): %v; want a CascadeError", dry, err)
					}
					if p := forget.ProblemOf(err); p.Status != 400 || !strings.Contains(p.Message, "member_note cannot be kept while member_auth is erased") {
						t.Errorf("problem %+v", p)
					}
				}
				if n := countRows(t, db, "SELECT COUNT(*) FROM member_note WHERE customer_id = 1"); n != notes {
					t.Fatalf("member_note rows after the refusals: %d, want %d", n, notes)
				}
				if n := countRows(t, db, "SELECT COUNT(*) FROM member_auth WHERE customer_id = 1"); n == 0 {
					t.Fatal("member_auth rows erased by a refused forget")
				}
				rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, Keep: []string{"member_note", "member_auth"}})
				if err != nil {
					t.Fatalf("keep=member_note,member_auth: %v", err)
				}
				if n := countRows(t, db, "SELECT COUNT(*) FROM member_note WHERE customer_id = 1"); n != notes || len(rc.TablesKept) != 2 {
					t.Fatalf("after keeping both: %d notes (want %d), tables kept %v", n, notes, rc.TablesKept)
				}
			})
		}
	}
}

// TestVerifyRefusesRetainBrokenByCascade: a column the mapping retains
// on purpose, in rows a forget deletes (or in a column it sets to NULL)
// through a foreign key from a mapped table, is never kept; the mapping
// alone makes that certain, so Verify refuses it.
func TestVerifyRefusesRetainBrokenByCascade(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			db := schemaDB(t, e)
			if err := verify(t, db, e.dialect, sqlstore.DefaultSchema(), forget.DefaultCatalogue()); err != nil {
				t.Fatalf("Verify before the foreign keys: %v", err)
			}
			addFK(t, db, e.dialect, "transactions", "auth_id", "member_auth", "auth_id", "CASCADE")
			err := verify(t, db, e.dialect, sqlstore.DefaultSchema(), forget.DefaultCatalogue())
			wantVerifyError(t, err, "retain transactions.amount_cents: ", "erases table member_auth", "member_auth -(ON DELETE CASCADE)-> transactions")
			addFK(t, db, e.dialect, "subscriptions", "auth_id", "member_auth", "auth_id", "SET NULL")
			schema := sqlstore.DefaultSchema()
			delete(schema.Retain, "transactions.amount_cents")
			schema.Retain["subscriptions.auth_id"] = "which login opened it"
			err = verify(t, db, e.dialect, schema, forget.DefaultCatalogue())
			wantVerifyError(t, err, "retain subscriptions.auth_id: ", "member_auth -(ON DELETE SET NULL)-> subscriptions")
		})
	}
}

// TestKeepRefusedWhenAnUpdateCascadeWouldBreakIt: notes referencing the
// customer's username by ON UPDATE CASCADE change when the username is
// pseudonymised; keeping member_note but not username is refused.
func TestKeepRefusedWhenAnUpdateCascadeWouldBreakIt(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := schemaDB(t, e)
			seedCustomers(t, db, e, 1, 1)
			if e.dialect == sqlstore.MySQL {
				execAll(t, db, "ALTER TABLE member_note ADD COLUMN username VARCHAR(32) NULL, ADD CONSTRAINT member_note_username_fk FOREIGN KEY (username) REFERENCES customers (username) ON UPDATE CASCADE")
			} else {
				execAll(t, db, "ALTER TABLE member_note ADD COLUMN username VARCHAR(32) NULL REFERENCES customers (username) ON UPDATE CASCADE")
			}
			execAll(t, db, "UPDATE member_note SET username = (SELECT username FROM customers WHERE customers.customer_id = member_note.customer_id)")
			s, err := sqlstore.New(db, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, s)
			_, err = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, Keep: []string{"member_note"}, DryRun: true})
			var ce *forget.CascadeError
			if !errors.As(err, &ce) || ce.Erased != "username" || !strings.Contains(err.Error(), "customers -(ON UPDATE CASCADE)-> member_note") {
				t.Fatalf("keep=member_note erasing username: %v; want a CascadeError naming username", err)
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, Keep: []string{"member_note", "username"}, DryRun: true}); err != nil {
				t.Fatalf("keep=member_note,username: %v", err)
			}
		})
	}
}

// TestKeptFieldRefusedWhenACascadeWouldSetIt: a kept field whose column
// refers to member_auth by ON DELETE SET NULL would be emptied by the
// member_auth rows' deletion; the keep list is refused.
func TestKeptFieldRefusedWhenACascadeWouldSetIt(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := schemaDB(t, e)
			seedCustomers(t, db, e, 1, 1)
			addFK(t, db, e.dialect, "customers", "last_auth", "member_auth", "auth_id", "SET NULL")
			execAll(t, db, "UPDATE customers SET last_auth = (SELECT MIN(auth_id) FROM member_auth)")
			cat := forget.DefaultCatalogue()
			cat.Fields = append(cat.Fields, forget.FieldSpec{Name: "last_auth", Rule: forget.Null()})
			schema := sqlstore.DefaultSchema()
			schema.Fields["last_auth"] = sqlstore.Column{Table: "customers", Column: "last_auth"}
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema))
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, s, forget.WithCatalogue(cat))
			_, err = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, Keep: []string{"last_auth"}})
			var ce *forget.CascadeError
			if !errors.As(err, &ce) || ce.Kept != "last_auth" || ce.Erased != "member_auth" {
				t.Fatalf("keep=last_auth: %v; want a CascadeError keeping last_auth", err)
			}
			if n := countRows(t, db, "SELECT COUNT(*) FROM customers WHERE last_auth IS NOT NULL"); n != 1 {
				t.Fatalf("customers with last_auth after the refusal: %d, want 1", n)
			}
		})
	}
}
