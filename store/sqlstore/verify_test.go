package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// verify builds a Forgetter over db with the schema and catalogue and
// returns what Verify says.
func verify(t *testing.T, db *sql.DB, d sqlstore.Dialect, schema sqlstore.Schema, cat forget.Catalogue, opts ...sqlstore.Option) error {
	t.Helper()
	s, err := sqlstore.New(db, d, append([]sqlstore.Option{sqlstore.WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatalf("sqlstore.New: %v", err)
	}
	f := quietForgetter(t, s, forget.WithCatalogue(cat))
	return f.Verify(context.Background())
}

func execAll(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, st := range stmts {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
}

func wantVerifyError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Verify succeeded; want an error saying %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("Verify error %q does not say %q", err, p)
		}
	}
}

// TestVerifyDefaultSchema: the schema DDL creates verifies on every engine.
func TestVerifyDefaultSchema(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			db, _ := e.open(t)
			if err := sqlstore.CreateSchema(context.Background(), db, e.dialect); err != nil {
				t.Fatal(err)
			}
			if err := verify(t, db, e.dialect, sqlstore.DefaultSchema(), forget.DefaultCatalogue(), sqlstore.WithAudit(sqlstore.DefaultAuditTable)); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// TestVerifyRefuses: each mapping below passes sqlstore.New and
// forget.New, and fails on its first forget (or worse, succeeds wrongly);
// Verify refuses it at start-up with a message naming the problem.
func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			fresh := func(t *testing.T) *sql.DB {
				db, _ := e.open(t)
				if err := sqlstore.CreateSchema(context.Background(), db, e.dialect); err != nil {
					t.Fatal(err)
				}
				return db
			}
			t.Run("MissingColumn", func(t *testing.T) {
				s := sqlstore.DefaultSchema()
				s.Fields[forget.Phone] = sqlstore.Column{Column: "no_such_column"}
				wantVerifyError(t, verify(t, fresh(t), e.dialect, s, forget.DefaultCatalogue()), "field phone", "customers.no_such_column does not exist")
			})
			t.Run("MissingTable", func(t *testing.T) {
				s := sqlstore.DefaultSchema()
				s.Tables[forget.MemberNote] = sqlstore.RelatedTable{Table: "member_notes", CustomerKey: "customer_id"}
				wantVerifyError(t, verify(t, fresh(t), e.dialect, s, forget.DefaultCatalogue()), "table member_notes does not exist")
			})
			t.Run("MissingAuditTable", func(t *testing.T) {
				wantVerifyError(t, verify(t, fresh(t), e.dialect, sqlstore.DefaultSchema(), forget.DefaultCatalogue(), sqlstore.WithAudit("no_audit")),
					"audit table", "no_audit does not exist")
			})
			t.Run("UniqueColumnEmptyRule", func(t *testing.T) {
				db := fresh(t)
				execAll(t, db, "CREATE TABLE contacts (customer_id BIGINT NOT NULL, email VARCHAR(100) NOT NULL)",
					"CREATE UNIQUE INDEX contacts_customer ON contacts (customer_id)",
					"CREATE UNIQUE INDEX contacts_email ON contacts (email)")
				s := sqlstore.DefaultSchema()
				s.Joined = map[string]string{"contacts": "customer_id"}
				s.Fields["email"] = sqlstore.Column{Table: "contacts", Column: "email"}
				cat := forget.DefaultCatalogue()
				cat.Fields = append(cat.Fields, forget.FieldSpec{Name: "email", Rule: forget.Empty()})
				wantVerifyError(t, verify(t, db, e.dialect, s, cat), "field email", "contacts.email is unique", "use Pseudonym()")
				cat.Fields[len(cat.Fields)-1].Rule = forget.Null()
				wantVerifyError(t, verify(t, db, e.dialect, s, cat), "writes NULL, but contacts.email is NOT NULL")
				cat.Fields[len(cat.Fields)-1].Rule = forget.Pseudonym()
				if err := verify(t, db, e.dialect, s, cat); err != nil {
					t.Errorf("Verify with a pseudonym on the unique email: %v", err)
				}
			})
			t.Run("CustomersKeyNotUnique", func(t *testing.T) {
				db := fresh(t)
				execAll(t, db, "CREATE TABLE people (login VARCHAR(40) NOT NULL, username VARCHAR(32) NOT NULL DEFAULT '')")
				s := sqlstore.DefaultSchema()
				s.Customers = sqlstore.CustomerTable{Table: "people", Key: "login", KeyType: sqlstore.KeyText}
				s.Subscriptions, s.Orders = nil, nil
				s.Fields = map[forget.Field]sqlstore.Column{forget.Username: {Column: "username"}}
				s.Tables = nil
				for _, f := range forget.DefaultCatalogue().Fields[1:] {
					s.Absent = append(s.Absent, string(f.Name))
				}
				s.Absent = append(s.Absent, "member_auth", "member_note")
				wantVerifyError(t, verify(t, db, e.dialect, s, forget.DefaultCatalogue()), "customers key people.login has no primary key or unique index")
			})
			if e.dialect == sqlstore.SQLite {
				return // SQLite enforces neither declared lengths nor column types
			}
			t.Run("ColumnTooShort", func(t *testing.T) {
				db := fresh(t)
				alter := "ALTER TABLE customers ALTER COLUMN username TYPE VARCHAR(10)"
				if e.dialect == sqlstore.MySQL {
					alter = "ALTER TABLE customers MODIFY username VARCHAR(10) NOT NULL DEFAULT ''"
				}
				execAll(t, db, alter)
				wantVerifyError(t, verify(t, db, e.dialect, sqlstore.DefaultSchema(), forget.DefaultCatalogue()), "field username", "writes 32 characters, but customers.username holds 10")
			})
			t.Run("TextRuleOnIntColumn", func(t *testing.T) {
				db := fresh(t)
				execAll(t, db, "ALTER TABLE customers ADD COLUMN zip_code INTEGER")
				s := sqlstore.DefaultSchema()
				s.Fields[forget.Zip] = sqlstore.Column{Column: "zip_code"}
				wantVerifyError(t, verify(t, db, e.dialect, s, forget.DefaultCatalogue()), "field zip: its rule writes text, but customers.zip_code is")
			})
			t.Run("KeyTypeMismatch", func(t *testing.T) {
				s := sqlstore.DefaultSchema()
				s.Customers.KeyType = sqlstore.KeyText
				wantVerifyError(t, verify(t, fresh(t), e.dialect, s, forget.DefaultCatalogue()), "customer_id column customers.customer_id is bigint", "but the mapping declares a text key")
			})
		})
	}
}

// TestVerifySQLiteForeignKeys: a SQLite connection that does not enforce
// the foreign keys its database declares is refused: RESTRICT would not
// protect rows and CASCADE would leave orphans holding personal text.
func TestVerifySQLiteForeignKeys(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "fk.db")
	for _, tc := range []struct {
		pragma string
		ok     bool
	}{{"", false}, {"&_pragma=foreign_keys(1)", true}} {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)"+tc.pragma)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := sqlstore.CreateSchema(context.Background(), db, sqlstore.SQLite); err != nil {
			t.Fatal(err)
		}
		execAll(t, db, "CREATE TABLE IF NOT EXISTS note_replies (reply_id INTEGER PRIMARY KEY, note_id INTEGER NOT NULL REFERENCES member_note(note_id) ON DELETE CASCADE, body TEXT)")
		err = verify(t, db, sqlstore.SQLite, sqlstore.DefaultSchema(), forget.DefaultCatalogue())
		if tc.ok && err != nil {
			t.Errorf("Verify with foreign keys enforced: %v", err)
		}
		if !tc.ok {
			wantVerifyError(t, err, "does not enforce them", "_pragma=foreign_keys(1)")
		}
	}
}

// TestVerifyMySQLStrict: a non-strict MySQL session truncates a pseudonym
// to fit a short column instead of failing; Verify refuses it.
func TestVerifyMySQLStrict(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		if e.dialect != sqlstore.MySQL {
			continue
		}
		t.Run(e.name, func(t *testing.T) {
			db, _ := e.open(t)
			if err := sqlstore.CreateSchema(context.Background(), db, e.dialect); err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(1) // the session setting must be the one Verify reads
			execAll(t, db, "SET SESSION sql_mode = ''")
			wantVerifyError(t, verify(t, db, e.dialect, sqlstore.DefaultSchema(), forget.DefaultCatalogue()), "not strict")
		})
	}
}

// TestVerifyLearnsKeyRanges: on PostgreSQL an orderid past a 32-bit
// column's range used to be a 500 (the driver cannot encode it); once
// Verify has read the column's type it is an invalid key on every engine.
func TestVerifyLearnsKeyRanges(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := e.open(t)
			if err := sqlstore.CreateSchema(ctx, db, e.dialect); err != nil {
				t.Fatal(err)
			}
			execAll(t, db, "CREATE TABLE orders32 (orderid INTEGER PRIMARY KEY, customer_id BIGINT NOT NULL)")
			s := sqlstore.DefaultSchema()
			s.Orders = &sqlstore.LookupTable{Table: "orders32", Key: "orderid", KeyType: sqlstore.KeyInt, CustomerKey: "customer_id"}
			st, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(s))
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, st)
			if err := f.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			_, err = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{OrderID: "99999999999999"}})
			want := forget.ErrInvalid
			if e.dialect == sqlstore.SQLite {
				want = forget.ErrNotFound // SQLite's INTEGER holds 64 bits
			}
			if !errors.Is(err, want) {
				t.Errorf("Forget(orderid past the column's range) = %v, want %v", err, want)
			}
		})
	}
}

// TestVerifyThenForget: a store that passed Verify forgets as before.
func TestVerifyThenForget(t *testing.T) {
	t.Parallel()
	e := engines(t)[0]
	b := newDefaultBackend(t, e, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err := b.Seed(context.Background(), storetest.Fixtures()); err != nil {
		t.Fatal(err)
	}
	f := quietForgetter(t, b.Store)
	if err := f.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "101"}}); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyActivity: activity columns must exist and hold times; one
// without an index is a warning, not a refusal.
func TestVerifyActivity(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			db, _ := e.open(t)
			if err := sqlstore.CreateSchema(context.Background(), db, e.dialect); err != nil {
				t.Fatal(err)
			}
			timeType := map[sqlstore.Dialect]string{sqlstore.SQLite: "TEXT", sqlstore.Postgres: "TIMESTAMP", sqlstore.MySQL: "DATETIME"}[e.dialect]
			execAll(t, db,
				"ALTER TABLE customers ADD COLUMN last_seen "+timeType,
				"ALTER TABLE customers ADD COLUMN login_count INTEGER",
				"ALTER TABLE customers ADD COLUMN seen_note VARCHAR(40)")
			check := func(columns ...string) (string, error) {
				t.Helper()
				s := sqlstore.DefaultSchema()
				for _, c := range columns {
					s.Activity = append(s.Activity, sqlstore.Column{Column: c})
				}
				var logs strings.Builder
				err := verify(t, db, e.dialect, s, forget.DefaultCatalogue(),
					sqlstore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
				return logs.String(), err
			}

			logs, err := check("last_seen")
			if err != nil {
				t.Fatalf("a time column: %v", err)
			}
			if !strings.Contains(logs, "activity column customers.last_seen has no index") {
				t.Errorf("no warning of the missing index; logs: %s", logs)
			}
			execAll(t, db, "CREATE INDEX customers_last_seen ON customers (last_seen)")
			if logs, err := check("last_seen"); err != nil || strings.Contains(logs, "activity column") {
				t.Errorf("an indexed time column: %v; logs: %s", err, logs)
			}

			_, err = check("login_count")
			wantVerifyError(t, err, "activity column customers.login_count is", "not a time")
			_, err = check("no_such_column")
			wantVerifyError(t, err, "activity column: column customers.no_such_column does not exist")

			// SQLite keeps times as text, so a text column is right there
			// and wrong on the servers.
			_, err = check("seen_note")
			if e.dialect == sqlstore.SQLite {
				if err != nil {
					t.Errorf("a text column on SQLite: %v", err)
				}
			} else {
				wantVerifyError(t, err, "activity column customers.seen_note is", "not a time")
			}
		})
	}
}
