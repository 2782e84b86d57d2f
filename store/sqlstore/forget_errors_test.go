package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// TestForgetErrorsScrubbed: when the database fails a forget, the logged
// error names the statement's purpose and keeps the server's message
// (scrubbed of values), while the HTTP response says only "internal" and
// no value read from the row appears anywhere. A trigger's own message
// (MySQL's SIGNAL, PostgreSQL's and SQLite's RAISE) is the host's text, built here from
// the row, so it is never shown; the server's own message quoting the
// row's value is shown with the value replaced.
func TestForgetErrorsScrubbed(t *testing.T) {
	t.Parallel()
	const planted = "penicillin-7d3f9"
	type trigger struct {
		name string
		body map[sqlstore.Dialect]string // the trigger's action on OLD
		want map[sqlstore.Dialect]string // in the logged error
	}
	triggers := []trigger{
		{"raised", map[sqlstore.Dialect]string{
			sqlstore.SQLite:   `SELECT RAISE(ABORT, 'refused: ' || OLD.note);`,
			sqlstore.Postgres: `RAISE EXCEPTION 'refused: %', OLD.note;`,
			sqlstore.MySQL:    `SET m = CONCAT('refused: ', OLD.note); SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = m;`,
		}, map[sqlstore.Dialect]string{
			sqlstore.SQLite:   "raised by a trigger",
			sqlstore.Postgres: "raised by a trigger",
			sqlstore.MySQL:    "raised by a trigger",
		}},
		// A RAISE with an SQLSTATE of its own is still the host's text.
		{"raisedWithCode", map[sqlstore.Dialect]string{
			sqlstore.Postgres: `RAISE EXCEPTION USING ERRCODE = '23514', MESSAGE = 'refused: ' || OLD.note;`,
			sqlstore.MySQL:    `SET m = CONCAT('refused: ', OLD.note); SIGNAL SQLSTATE '45123' SET MESSAGE_TEXT = m;`,
		}, map[sqlstore.Dialect]string{
			sqlstore.Postgres: "raised by a trigger",
			sqlstore.MySQL:    "raised by a trigger",
		}},
		// The server's own message, quoting the row's value.
		{"server", map[sqlstore.Dialect]string{
			sqlstore.Postgres: `INSERT INTO err_sink (n) VALUES (OLD.note::integer);`,
			sqlstore.MySQL:    `INSERT INTO err_sink (n) VALUES (OLD.note);`,
		}, map[sqlstore.Dialect]string{
			sqlstore.Postgres: `invalid input syntax for type integer: `,
			sqlstore.MySQL:    `Incorrect integer value: `,
		}},
	}
	for _, e := range engines(t) {
		for _, tr := range triggers {
			if tr.body[e.dialect] == "" {
				continue // SQLite: no error code of a RAISE's own, no server message quoting a value
			}
			t.Run(e.name+"/"+tr.name, func(t *testing.T) {
				ctx := context.Background()
				b := newDefaultBackend(t, e, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
				if err := b.Seed(ctx, storetest.Fixtures()); err != nil {
					t.Fatal(err)
				}
				stmts := []string{
					`CREATE TABLE err_sink (n INTEGER)`,
					// The planted note is the only one of 101: the row that fails.
					`DELETE FROM member_note WHERE customer_id = 101`,
					`INSERT INTO member_note (customer_id, note) VALUES (101, '` + planted + `')`,
				}
				switch e.dialect {
				case sqlstore.SQLite:
					stmts = append(stmts, `CREATE TRIGGER note_guard BEFORE DELETE ON member_note WHEN OLD.customer_id = 101 BEGIN `+tr.body[e.dialect]+` END`)
				case sqlstore.Postgres:
					stmts = append(stmts,
						`CREATE FUNCTION note_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF OLD.customer_id = 101 THEN `+tr.body[e.dialect]+` END IF; RETURN OLD; END $$`,
						`CREATE TRIGGER note_guard BEFORE DELETE ON member_note FOR EACH ROW EXECUTE FUNCTION note_guard()`)
				case sqlstore.MySQL:
					stmts = append(stmts, `CREATE TRIGGER note_guard BEFORE DELETE ON member_note FOR EACH ROW BEGIN DECLARE m VARCHAR(255); IF OLD.customer_id = 101 THEN `+tr.body[e.dialect]+` END IF; END`)
				}
				for _, st := range stmts {
					if _, err := b.db.ExecContext(ctx, st); err != nil {
						t.Fatal(err)
					}
				}
				var logged bytes.Buffer
				f, err := forget.New(b, forget.WithLogger(slog.New(slog.NewJSONHandler(&logged, nil))))
				if err != nil {
					t.Fatal(err)
				}
				h, err := forget.NewHandler(f, forget.HostAuthenticated())
				if err != nil {
					t.Fatal(err)
				}
				req := httptest.NewRequest(http.MethodPatch, "/api/customer/forget", strings.NewReader("customer_id=101"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "internal") || strings.Contains(rec.Body.String(), "member_note") {
					t.Errorf("PATCH: %d %s, want 500 internal and nothing more", rec.Code, rec.Body)
				}
				log := logged.String()
				for _, want := range []string{"delete member_note", tr.want[e.dialect]} {
					if !strings.Contains(log, want) {
						t.Errorf("the log does not say %q:\n%s", want, log)
					}
				}
				// The set-based batch path, and its fall-back per customer.
				out := f.ForgetBatch(ctx, []forget.Request{{Lookup: forget.Lookup{CustomerID: "101"}}, {Lookup: forget.Lookup{CustomerID: "102"}}})
				if out[0].Err == nil || out[1].Err != nil {
					t.Fatalf("batch: %v, %v; want 101 to fail alone", out[0].Err, out[1].Err)
				}
				msg := out[0].Err.Error()
				if tr.name == "server" && !strings.Contains(msg, "…") {
					t.Errorf("the batch's error %q does not show where the value was", msg)
				}
				for _, want := range []string{"delete member_note", tr.want[e.dialect]} {
					if !strings.Contains(msg, want) {
						t.Errorf("the batch's error %q does not say %q", msg, want)
					}
				}
				if strings.Contains(log+msg+rec.Body.String(), planted) || strings.Contains(log+msg, "7d3f9") {
					t.Errorf("a value read from the row reached the log, an error or the response:\n%s\n%s", log, msg)
				}
			})
		}
	}
}

// raiseError stands for a pgconn.PgError raised by PL/pgSQL's RAISE with
// an ERRCODE of its own: only its Routine tells.
type raiseError struct {
	pgError
	Routine string
}

// TestHostMessagesDropped: without a database, a message the host's
// trigger or function wrote is dropped whole, whatever it quotes or not,
// and the error still wraps its cause.
func TestHostMessagesDropped(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("pgx", "postgres://nobody@127.0.0.1:1/none") // never connected
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := sqlstore.New(db, sqlstore.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	for name, cause := range map[string]error{
		"RaiseDefault": pgError{"refused: jane@example.com", "P0001"},
		"RaiseCode":    &raiseError{pgError{"refused: jane@example.com", "23514"}, "exec_stmt_raise"},
		"Signal":       &mysql.MySQLError{Number: 1644, SQLState: [5]byte{'4', '5', '0', '0', '0'}, Message: "refused: jane@example.com"},
		"SignalErrno":  &mysql.MySQLError{Number: 3999, SQLState: [5]byte{'4', '5', '1', '2', '3'}, Message: "refused: jane@example.com"},
	} {
		got := sqlstore.ScrubbedError(s, fmt.Errorf("wrapped: %w", cause))
		if strings.Contains(got.Error(), "jane") || !strings.Contains(got.Error(), "raised by a trigger") || !errors.Is(got, cause) {
			t.Errorf("%s: %q", name, got)
		}
	}
}
