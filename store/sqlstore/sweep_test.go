package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// TestActivityValidation: activity columns are plain columns of the
// customers table, named once, never its key.
func TestActivityValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		activity []sqlstore.Column
		want     string
	}{
		{"Fine", []sqlstore.Column{{Column: "last_login"}, {Table: "customers", Column: "last_order_at"}}, ""},
		{"OtherTable", []sqlstore.Column{{Table: "transactions", Column: "created_at"}}, "not the customers table"},
		{"Injection", []sqlstore.Column{{Column: "last_login; DROP TABLE customers"}}, "not a plain identifier"},
		{"Qualified", []sqlstore.Column{{Column: "customers.last_login"}}, "not a plain identifier"},
		{"Twice", []sqlstore.Column{{Column: "last_login"}, {Column: "LAST_LOGIN"}}, "named twice"},
		{"Key", []sqlstore.Column{{Column: "customer_id"}}, "customers key"},
		{"TooMany", make([]sqlstore.Column, 9), "at most 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sqlstore.DefaultSchema()
			s.Activity = tc.activity
			err := s.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// schemaDB is a fresh database of the engine with the default schema.
func schemaDB(t testing.TB, e engine) *sql.DB {
	t.Helper()
	db, _ := e.open(t)
	if err := sqlstore.CreateSchema(context.Background(), db, e.dialect); err != nil {
		t.Fatal(err)
	}
	return db
}

// seedCustomers seeds the storetest customers first to last and returns
// the engine's placeholder for the i-th parameter.
func seedCustomers(t testing.TB, db *sql.DB, e engine, first, last int) func(i int) string {
	t.Helper()
	b := defaultBackend{db: db, sb: statementBuilder(e.dialect)}
	var cs []storetest.Customer
	for id := first; id <= last; id++ {
		cs = append(cs, storetest.NewCustomer(id))
	}
	if err := b.Seed(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
	return func(i int) string {
		if e.dialect == sqlstore.Postgres {
			return fmt.Sprintf("$%d", i)
		}
		return "?"
	}
}

var sweepClock = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// sweepFixture: the default schema with two activity columns, last_login
// and last_order_at, indexed; customers 1..n with activity decided by
// activityOf; a hold on subscriptions in chargeback.
func sweepFixture(t *testing.T, e engine, n int, activityOf func(id int) (login, order *time.Time), opts ...sqlstore.Option) (*sql.DB, *sqlstore.Store, *forget.Forgetter) {
	t.Helper()
	ctx := context.Background()
	db := schemaDB(t, e)
	typ := map[sqlstore.Dialect]string{sqlstore.SQLite: "TEXT", sqlstore.Postgres: "TIMESTAMP", sqlstore.MySQL: "DATETIME(6)"}[e.dialect]
	for _, st := range []string{
		"ALTER TABLE customers ADD COLUMN last_login " + typ + " NULL",
		"ALTER TABLE customers ADD COLUMN last_order_at " + typ + " NULL",
		"CREATE INDEX customers_last_login ON customers (last_login, customer_id)",
		"CREATE INDEX customers_last_order_at ON customers (last_order_at, customer_id)",
	} {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	ph := seedCustomers(t, db, e, 1, n)
	arg := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		if e.dialect == sqlstore.SQLite {
			return t.UTC().Format("2006-01-02 15:04:05")
		}
		return t.UTC()
	}
	for id := 1; id <= n; id++ {
		login, order := activityOf(id)
		if _, err := db.ExecContext(ctx, fmt.Sprintf("UPDATE customers SET last_login = %s, last_order_at = %s WHERE customer_id = %s", ph(1), ph(2), ph(3)), arg(login), arg(order), id); err != nil {
			t.Fatal(err)
		}
	}
	schema := sqlstore.DefaultSchema()
	schema.Activity = []sqlstore.Column{{Column: "last_login"}, {Column: "last_order_at"}}
	schema.Holds = []sqlstore.Hold{{Name: "chargeback", Table: "subscriptions", CustomerKey: "customer_id",
		Where: []sqlstore.Condition{{Column: "status", Op: "=", Value: "chargeback"}}}}
	s, err := sqlstore.New(db, e.dialect, append([]sqlstore.Option{sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(s, forget.WithClock(func() time.Time { return sweepClock }), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return db, s, f
}

// sweepActivity: every customer's activity by its id mod 8. Many share
// one instant, so that pages end inside runs of equal values.
func sweepActivity(id int) (login, order *time.Time) {
	old := sweepClock.AddDate(-4, 0, 0)
	older := sweepClock.AddDate(-5, 0, 0)
	recent := sweepClock.AddDate(0, -2, 0)
	switch id % 8 {
	case 0:
		return &old, nil // inactive
	case 1:
		return &old, &recent // ordered lately: active
	case 2:
		return nil, nil // never active: never swept
	case 3:
		return nil, &older // inactive, found through the second column
	case 4:
		return &recent, nil // active
	case 5:
		return &older, &old // inactive
	case 6:
		return nil, &recent // active
	default:
		return &old, &old // inactive
	}
}

func wantSwept(id int) bool { m := id % 8; return m == 0 || m == 3 || m == 5 || m == 7 }

// TestSweepSQL: a sweep forgets exactly the inactive customers, on every
// engine, through both activity columns, across pages that end inside
// runs of equal activity; held customers are refused and counted; a
// second run forgets nobody again.
func TestSweepSQL(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			const n = 60
			db, _, f := sweepFixture(t, e, n, sweepActivity)
			// 15 is inactive but held.
			if _, err := db.ExecContext(ctx, "UPDATE subscriptions SET status = 'chargeback' WHERE customer_id = 15"); err != nil {
				t.Fatal(err)
			}
			want := 0
			for id := 1; id <= n; id++ {
				if wantSwept(id) {
					want++
				}
			}
			tried := map[string]int{}
			rep, err := f.Sweep(ctx, forget.SweepOptions{InactiveSince: sweepClock.AddDate(-3, 0, 0), Chunk: 4,
				OnOutcome: func(id string, o forget.Outcome) { tried[id]++ }})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Tried != want || rep.Forgotten != want-1 || rep.HeldBy["chargeback"] != 1 || rep.Failed != 0 {
				t.Fatalf("report %+v, want %d tried, one held", rep, want)
			}
			for id := 1; id <= n; id++ {
				if got := tried[strconv.Itoa(id)]; got != map[bool]int{true: 1}[wantSwept(id)] {
					t.Errorf("customer %d tried %d times", id, got)
				}
				var first string
				if err := db.QueryRow(fmt.Sprintf("SELECT firstname FROM customers WHERE customer_id = %d", id)).Scan(&first); err != nil {
					t.Fatal(err)
				}
				if gone := first == ""; gone != (wantSwept(id) && id != 15) {
					t.Errorf("customer %d: forgotten %v", id, gone)
				}
			}
			rep, err = f.Sweep(ctx, forget.SweepOptions{InactiveSince: sweepClock.AddDate(-3, 0, 0), Chunk: 1})
			if err != nil || rep.Tried != 1 || rep.Held != 1 {
				t.Fatalf("second sweep: %+v, %v; want only the held customer", rep, err)
			}
		})
	}
}

func TestSweepSQLRefuses(t *testing.T) {
	t.Parallel()
	e := engines(t)[0]
	ctx := context.Background()
	db, s, _ := sweepFixture(t, e, 3, sweepActivity)
	cutoff := sweepClock.AddDate(-3, 0, 0)
	for _, c := range []string{"x", "9", "0.s.AAA", "0.q.AA.AA", "0.s.!!.AA", "0.s.AA.YWJj", strings.Repeat("0", 3000)} {
		if _, _, err := s.Inactive(ctx, cutoff, c, 10); !errors.Is(err, forget.ErrInvalid) {
			t.Errorf("cursor %q: %v, want ErrInvalid", c, err)
		}
	}
	for _, limit := range []int{0, -1, 10001} {
		if _, _, err := s.Inactive(ctx, cutoff, "", limit); !errors.Is(err, forget.ErrInvalid) {
			t.Errorf("limit %d: %v, want ErrInvalid", limit, err)
		}
	}
	noAudit, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(func() sqlstore.Schema {
		sc := sqlstore.DefaultSchema()
		sc.Activity = []sqlstore.Column{{Column: "last_login"}}
		return sc
	}()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := noAudit.Inactive(ctx, cutoff, "", 10); err == nil || !strings.Contains(err.Error(), "audit") {
		t.Errorf("no audit trail: %v", err)
	}
	noActivity, _ := sqlstore.New(db, e.dialect, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if _, _, err := noActivity.Inactive(ctx, cutoff, "", 10); err == nil || !strings.Contains(err.Error(), "activity") {
		t.Errorf("no activity column: %v", err)
	}
	// Unix times in a SQLite column would compare below any text cutoff.
	if _, err := db.Exec("UPDATE customers SET last_login = 1600000000 WHERE customer_id = 1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Inactive(ctx, cutoff, "", 10); err == nil || !strings.Contains(err.Error(), "not times as text") {
		t.Errorf("numbers in an activity column: %v", err)
	}
}

// TestSweepUsesIndex: on SQLite every page statement of a sweep is an
// index range scan on its activity column, probing the audit trail by
// its index: never a scan of a table. The customers sharing the cursor's
// activity value are found by their key in the index, not read from the
// first of them on: a million customers last seen at one instant must
// not make a sweep quadratic.
func TestSweepUsesIndex(t *testing.T) {
	t.Parallel()
	e := engines(t)[0]
	db, s, _ := sweepFixture(t, e, 3, sweepActivity)
	for part, col := range []string{"last_login", "last_order_at"} {
		for _, cursor := range []string{"none", "after", "ties"} {
			query, args := sqlstore.InactiveSQL(s, part, sweepClock, cursor == "after")
			if cursor == "ties" {
				query, args = sqlstore.InactiveTiesSQL(s, part, sweepClock)
			}
			rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
			if err != nil {
				t.Fatal(err)
			}
			_, plan := scanAll(t, rows)
			var text []string
			for _, r := range plan {
				text = append(text, r[len(r)-1].String)
			}
			joined := strings.Join(text, "; ")
			if !strings.Contains(joined, "INDEX customers_"+col+" ") {
				t.Errorf("%s (cursor %v): plan %q does not use the activity index", col, cursor, joined)
			}
			if strings.Contains(joined, "SCAN customers") || strings.Contains(joined, "SCAN forget_audit") || strings.Contains(joined, "TEMP B-TREE") {
				t.Errorf("%s (cursor %v): plan %q scans or sorts", col, cursor, joined)
			}
			if want := "(" + col + "=? AND customer_id>?)"; cursor == "ties" && !strings.Contains(joined, want) {
				t.Errorf("%s: plan %q does not seek %s", col, joined, want)
			}
		}
	}
}

// pgError stands for pgconn.PgError: its Error() is its message and
// SQLSTATE.
type pgError struct{ msg, state string }

func (e pgError) Error() string    { return "ERROR: " + e.msg + " (SQLSTATE " + e.state + ")" }
func (e pgError) SQLState() string { return e.state }

// TestSweepErrorsQuoteNoValue: a failing statement of a sweep reports the
// server's message, so that the operator learns what failed, but every
// quoted part that is not a name of the mapping (a value the statement
// was given, or read) is scrubbed, and so is every argument's text.
func TestSweepErrorsQuoteNoValue(t *testing.T) {
	t.Parallel()
	schema := sqlstore.DefaultSchema()
	schema.Activity = []sqlstore.Column{{Column: "last_login"}}
	db, err := sql.Open("pgx", "postgres://nobody@127.0.0.1:1/none") // never connected
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		args []any
		want []string
		not  []string
	}{
		{"UUIDOperator", pgError{"operator does not exist: text = uuid", "42883"}, nil,
			[]string{"postgres error: ERROR: operator does not exist: text = uuid (SQLSTATE 42883)"}, nil},
		{"QuotedValue", pgError{`invalid input syntax for type timestamp: "2022-06-01 10:00:00"`, "22007"}, nil,
			[]string{`invalid input syntax for type timestamp: "…"`, "22007"}, []string{"2022"}},
		{"KnownName", pgError{`column "last_login" does not exist`, "42703"}, nil,
			[]string{`column "last_login" does not exist`}, nil},
		{"UnknownName", pgError{`invalid input syntax for type integer: "jane"`, "22P02"}, nil,
			[]string{`type integer: "…"`}, []string{"jane"}},
		{"Argument", pgError{"could not compare to 2025-01-01T10:00:00Z", "XX000"}, []any{"2025-01-01T10:00:00Z"},
			[]string{"could not compare to …", "XX000"}, []string{"2025"}},
		{"MySQL", &mysql.MySQLError{Number: 1062, SQLState: [5]byte{'2', '3', '0', '0', '0'}, Message: "Duplicate entry 'jane@example.com' for key 'customers.username'"}, nil,
			[]string{"mysql error 1062 (SQLSTATE 23000): Duplicate entry '…' for key 'customers.username'"}, []string{"jane"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sqlstore.ScrubbedError(s, tc.err, tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(got.Error(), w) {
					t.Errorf("%q, want it to say %q", got, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got.Error(), n) {
					t.Errorf("%q quotes %q", got, n)
				}
			}
			if !errors.Is(got, tc.err) {
				t.Error("the cause is lost")
			}
		})
	}
}
