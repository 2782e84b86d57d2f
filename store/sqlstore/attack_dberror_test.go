package sqlstore_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/forgetkit/forget/store/sqlstore"
)

// hostileValues are values a host's rows hold that a server's message
// may quote: quotes of either kind, a newline, non-ASCII text, a value
// that looks like a known name in quotes. None may survive scrubbing.
var hostileValues = []struct{ value, secret string }{
	{`ab"cd`, "cd"},
	{`a'b`, "b"},
	{`O'Brien-Smith`, "Brien"},
	{"line one\nline two", "line"},
	{"Zoë 🐈 Ünïcode", "Ünïcode"},
	{`x "username" leak`, "leak"},
	{`x 'username' leak`, "leak"},
	{`"`, `"""`},
}

// TestScrubbedErrorsSurviveHostileValues: a value quoted in a server's
// message, and given to the statement as no argument (it was read from
// a row), leaves no part of itself in the scrubbed error, however it
// quotes; the mapping's names quoted around it still show.
func TestScrubbedErrorsSurviveHostileValues(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("pgx", "postgres://nobody@127.0.0.1:1/none") // never connected
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range hostileValues {
		for _, e := range []error{
			pgError{`invalid input syntax for type integer: "` + v.value + `"`, "22P02"},
			&mysql.MySQLError{Number: 1062, SQLState: [5]byte{'2', '3', '0', '0', '0'}, Message: "Duplicate entry '" + v.value + "' for key 'customers.username'"},
		} {
			got := sqlstore.ScrubbedError(s, e).Error()
			if strings.Contains(got, v.secret) {
				t.Errorf("%q: %q quotes %q", v.value, got, v.secret)
			}
			if _, isMy := e.(*mysql.MySQLError); isMy && !strings.Contains(got, "'customers.username'") {
				t.Errorf("%q: %q lost the key's name", v.value, got)
			}
			// The statements that run without the mapping's names at hand
			// (connect, lookups, the outbox) scrub every quoted part.
			if got := sqlstore.SafeError(e).Error(); strings.Contains(got, v.secret) {
				t.Errorf("safeError: %q: %q quotes %q", v.value, got, v.secret)
			}
		}
	}
}

// TestScrubbedServerErrorsSurviveHostileValues: the same with the
// messages real servers write, on each engine, of a value read from a
// row (a cast that fails; a duplicate key).
func TestScrubbedServerErrorsSurviveHostileValues(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		if e.dialect == sqlstore.SQLite {
			continue // SQLite's messages quote no value
		}
		t.Run(e.name, func(t *testing.T) {
			db := schemaDB(t, e)
			s, err := sqlstore.New(db, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			execAll(t, db, "CREATE TABLE hostile (v VARCHAR(64))", "CREATE TABLE hostile_u (v VARCHAR(64) UNIQUE)")
			for _, v := range hostileValues {
				if _, err := db.Exec("DELETE FROM hostile"); err != nil {
					t.Fatal(err)
				}
				ins := "INSERT INTO hostile (v) VALUES ($1)"
				query := "SELECT CAST(v AS INTEGER) FROM hostile"
				if e.dialect == sqlstore.MySQL {
					ins = "INSERT INTO hostile (v) VALUES (?)"
					query = "INSERT INTO hostile_u (v) SELECT v FROM hostile UNION ALL SELECT v FROM hostile"
				}
				if _, err := db.Exec(ins, v.value); err != nil {
					t.Fatal(err)
				}
				var n any
				err := db.QueryRowContext(context.Background(), query).Scan(&n)
				if e.dialect == sqlstore.MySQL {
					_, err = db.Exec(query)
				}
				if err == nil {
					t.Fatalf("%q: %s did not fail", v.value, query)
				}
				got := sqlstore.ScrubbedError(s, err).Error()
				if strings.Contains(got, v.secret) || v.secret != `"""` && strings.Contains(got, v.value) {
					t.Errorf("%q: %q quotes %q", v.value, got, v.secret)
				}
			}
		})
	}
}
