package sqlstore_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/go-sql-driver/mysql"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// step is one statement of a forget's transaction as the driver sees it.
type step struct {
	kind string // begin, query, exec, commit, rollback
	sql  string
	args []driver.Value
	rows []string // a query's single-column result rows
	n    int64    // an exec's rows affected
}

// pseudonymArg and randomArg match the values the default rules make.
type pseudonymArg struct{}

func (pseudonymArg) Match(v driver.Value) bool {
	s, ok := v.(string)
	return ok && len(s) == forget.Pseudonym().Output().MaxLen && strings.HasPrefix(s, "forgot-")
}

type randomArg struct{}

func (randomArg) Match(v driver.Value) bool {
	s, ok := v.(string)
	return ok && len(s) == forget.Random().Output().MaxLen
}

// dialectSQL renders the statements of each dialect from one template:
// Q is the identifier quote, P(n) the n-th placeholder.
type dialectSQL struct {
	d    sqlstore.Dialect
	q    string
	lock string
}

var dialects = []dialectSQL{
	{sqlstore.SQLite, `"`, ""},
	{sqlstore.Postgres, `"`, " FOR UPDATE"},
	{sqlstore.MySQL, "`", " FOR UPDATE"},
}

func (ds dialectSQL) ph(n int) string {
	if ds.d == sqlstore.Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

func (ds dialectSQL) id(s string) string { return ds.q + s + ds.q }

// begin takes the write lock on SQLite for dry runs too: they run the
// real statements and roll them back.
func (ds dialectSQL) begin() step {
	if ds.d != sqlstore.SQLite {
		return step{kind: "begin"}
	}
	return step{kind: "exec", sql: "BEGIN IMMEDIATE"}
}

func (ds dialectSQL) commit() step {
	if ds.d == sqlstore.SQLite {
		return step{kind: "exec", sql: "COMMIT"}
	}
	return step{kind: "commit"}
}

func (ds dialectSQL) rollback() step {
	if ds.d == sqlstore.SQLite {
		return step{kind: "exec", sql: "ROLLBACK"}
	}
	return step{kind: "rollback"}
}

// lookup reads at most two rows, so that a key naming two customers is a
// conflict; the customers table's row is locked.
func (ds dialectSQL) lookup(col, table, key string, v int64, result string) step {
	sql := fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s", ds.id(col), ds.id(table), ds.id(key), ds.ph(1))
	if table == "customers" {
		sql += " LIMIT 2" + ds.lock
	} else {
		sql += fmt.Sprintf(" AND %s IS NOT NULL LIMIT 2", ds.id(col))
	}
	st := step{kind: "query", sql: sql, args: []driver.Value{v}}
	if result != "" {
		st.rows = []string{result}
	}
	return st
}

// update is the UPDATE of every default field of customers.
func (ds dialectSQL) update(id int64) step {
	var sets []string
	var args []driver.Value
	for i, f := range forget.DefaultCatalogue().Fields {
		sets = append(sets, fmt.Sprintf("%s = %s", ds.id(string(f.Name)), ds.ph(i+1)))
		switch out := f.Rule.Output(); {
		case out.Distinct && f.Name == forget.Username || f.Name == forget.OriginalUsername:
			args = append(args, pseudonymArg{})
		case out.Distinct:
			args = append(args, randomArg{})
		default:
			args = append(args, "")
		}
	}
	args = append(args, id)
	return step{kind: "exec", n: 1, args: args,
		sql: fmt.Sprintf("UPDATE %s SET %s WHERE %s = %s", ds.id("customers"), strings.Join(sets, ", "), ds.id("customer_id"), ds.ph(len(sets)+1))}
}

func (ds dialectSQL) del(table string, id, n int64) step {
	return step{kind: "exec", n: n, args: []driver.Value{id},
		sql: fmt.Sprintf("DELETE FROM %s WHERE %s = %s", ds.id(table), ds.id("customer_id"), ds.ph(1))}
}

// expect registers steps on mock; the step at fail (if in range) returns
// injected instead, and the store must then roll back.
func expect(mock sqlmock.Sqlmock, ds dialectSQL, steps []step, fail int, injected error) {
	for i, st := range steps {
		var err error
		if i == fail {
			err = injected
		}
		switch st.kind {
		case "begin":
			e := mock.ExpectBegin()
			if err != nil {
				e.WillReturnError(err)
			}
		case "commit":
			e := mock.ExpectCommit()
			if err != nil {
				e.WillReturnError(err)
			}
		case "rollback":
			mock.ExpectRollback()
		case "query":
			e := mock.ExpectQuery(st.sql).WithArgs(st.args...)
			if err != nil {
				e.WillReturnError(err)
			} else {
				rows := sqlmock.NewRows([]string{"c"})
				for _, r := range st.rows {
					rows.AddRow(r)
				}
				e.WillReturnRows(rows)
			}
		case "exec":
			e := mock.ExpectExec(st.sql)
			if st.args != nil {
				e = e.WithArgs(st.args...)
			} else {
				e = e.WithoutArgs()
			}
			if err != nil {
				e.WillReturnError(err)
			} else {
				e.WillReturnResult(sqlmock.NewResult(0, st.n))
			}
		}
		if i == fail {
			// A failed begin leaves nothing to roll back, and database/sql
			// ends a *sql.Tx whose Commit failed itself.
			if i > 0 && st.kind != "commit" {
				r := ds.rollback()
				if r.kind == "rollback" {
					mock.ExpectRollback()
				} else {
					mock.ExpectExec(r.sql).WithoutArgs().WillReturnResult(sqlmock.NewResult(0, 0))
				}
			}
			return
		}
	}
}

func newMockForgetter(t *testing.T, d sqlstore.Dialect, opts ...sqlstore.Option) (*forget.Forgetter, sqlmock.Sqlmock) {
	t.Helper()
	db, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.New(db, d, opts...)
	if err != nil {
		t.Fatal(err)
	}
	// Unverified: Verify reads the live catalogue, which a mock can only
	// echo, and the scripts pin the forget's own statements. A dry run
	// then counts no inventory, so its script has no counting statements;
	// the inventory is checked on real engines (TestBulkMatchesPerCustomer
	// compares both paths' dry-run receipts, inventory included).
	f, err := forget.New(s, forget.WithLogger(slog.New(slog.DiscardHandler)), forget.WithoutVerify())
	if err != nil {
		t.Fatal(err)
	}
	return f, mock
}

// scripts are the exact transactions of the main request shapes.
func scripts(ds dialectSQL) []struct {
	name string
	req  forget.Request
	rows map[forget.Table]int64
	st   []step
} {
	return []struct {
		name string
		req  forget.Request
		rows map[forget.Table]int64
		st   []step
	}{
		{"ByCustomerID", forget.Request{Lookup: forget.Lookup{CustomerID: "101"}},
			map[forget.Table]int64{forget.MemberAuth: 2, forget.MemberNote: 3},
			[]step{
				ds.begin(),
				ds.lookup("customer_id", "customers", "customer_id", 101, "101"),
				ds.update(101),
				ds.del("member_auth", 101, 2),
				ds.del("member_note", 101, 3),
				ds.commit(),
			}},
		{"BySubscriptionKeepingNotes", forget.Request{Lookup: forget.Lookup{SubscriptionID: "1011"}, Keep: []string{"member_note"}},
			map[forget.Table]int64{forget.MemberAuth: 1},
			[]step{
				ds.begin(),
				ds.lookup("customer_id", "subscriptions", "subscription_id", 1011, "101"),
				ds.lookup("customer_id", "customers", "customer_id", 101, "101"),
				ds.update(101),
				ds.del("member_auth", 101, 1),
				ds.commit(),
			}},
		{"AllThreeKeys", forget.Request{Lookup: forget.Lookup{CustomerID: "101", SubscriptionID: "1011", OrderID: "10101"}},
			map[forget.Table]int64{forget.MemberAuth: 0, forget.MemberNote: 0},
			[]step{
				ds.begin(),
				ds.lookup("customer_id", "customers", "customer_id", 101, "101"),
				ds.lookup("customer_id", "subscriptions", "subscription_id", 1011, "101"),
				ds.lookup("customer_id", "transactions", "orderid", 10101, "101"),
				ds.update(101),
				ds.del("member_auth", 101, 0),
				ds.del("member_note", 101, 0),
				ds.commit(),
			}},
		{"DryRunByOrder", forget.Request{Lookup: forget.Lookup{OrderID: "10101"}, DryRun: true},
			map[forget.Table]int64{forget.MemberAuth: 2, forget.MemberNote: 3},
			[]step{
				ds.begin(),
				ds.lookup("customer_id", "transactions", "orderid", 10101, "101"),
				ds.lookup("customer_id", "customers", "customer_id", 101, "101"),
				ds.update(101),
				ds.del("member_auth", 101, 2),
				ds.del("member_note", 101, 3),
				ds.rollback(),
			}},
	}
}

// TestStatements pins the exact SQL of each dialect: one statement per
// lookup key, at most one lock, one UPDATE per table of fields, one DELETE
// per purged table, all in one transaction.
func TestStatements(t *testing.T) {
	t.Parallel()
	for _, ds := range dialects {
		t.Run(ds.d.String(), func(t *testing.T) {
			for _, sc := range scripts(ds) {
				t.Run(sc.name, func(t *testing.T) {
					f, mock := newMockForgetter(t, ds.d)
					expect(mock, ds, sc.st, -1, nil)
					rc, err := f.Forget(context.Background(), sc.req)
					if err != nil {
						t.Fatalf("Forget: %v", err)
					}
					if rc.CustomerID != "101" || fmt.Sprint(rc.RowsDeleted) != fmt.Sprint(sc.rows) {
						t.Errorf("receipt: customer %s, rows %v; want 101, %v", rc.CustomerID, rc.RowsDeleted, sc.rows)
					}
					if err := mock.ExpectationsWereMet(); err != nil {
						t.Error(err)
					}
				})
			}
		})
	}
}

// TestFailureAtEveryStatement injects a failure at each statement of each
// script in turn: the store must roll back and return the error.
func TestFailureAtEveryStatement(t *testing.T) {
	t.Parallel()
	injected := errors.New("injected failure")
	for _, ds := range dialects {
		t.Run(ds.d.String(), func(t *testing.T) {
			for _, sc := range scripts(ds) {
				last := len(sc.st) - 1
				if sc.req.DryRun {
					last-- // a dry run's final step is its rollback
				}
				for i := 0; i <= last; i++ {
					t.Run(fmt.Sprintf("%s/step%d", sc.name, i), func(t *testing.T) {
						f, mock := newMockForgetter(t, ds.d)
						expect(mock, ds, sc.st, i, injected)
						_, err := f.Forget(context.Background(), sc.req)
						if !errors.Is(err, injected) {
							t.Fatalf("Forget = %v, want the injected failure", err)
						}
						if err := mock.ExpectationsWereMet(); err != nil {
							t.Errorf("not rolled back as expected: %v", err)
						}
					})
				}
			}
		})
	}
}

func TestNotFoundAndConflictRollBack(t *testing.T) {
	t.Parallel()
	for _, ds := range dialects {
		t.Run(ds.d.String(), func(t *testing.T) {
			f, mock := newMockForgetter(t, ds.d)
			expect(mock, ds, []step{
				ds.begin(),
				ds.lookup("customer_id", "customers", "customer_id", 101, "101"),
				ds.lookup("customer_id", "transactions", "orderid", 10201, "102"),
				ds.rollback(),
			}, -1, nil)
			_, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "101", OrderID: "10201"}})
			if !errors.Is(err, forget.ErrConflict) {
				t.Errorf("Forget = %v, want ErrConflict", err)
			}
			if err := mock.ExpectationsWereMet(); err != nil {
				t.Error(err)
			}

			f, mock = newMockForgetter(t, ds.d)
			expect(mock, ds, []step{
				ds.begin(),
				ds.lookup("customer_id", "subscriptions", "subscription_id", 9, ""),
				ds.rollback(),
			}, -1, nil)
			_, err = f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{SubscriptionID: "9"}})
			if !errors.Is(err, forget.ErrNotFound) {
				t.Errorf("Forget = %v, want ErrNotFound", err)
			}
			if err := mock.ExpectationsWereMet(); err != nil {
				t.Error(err)
			}

			// An order id held by two customers names neither: conflict,
			// and no statement after the lookup.
			f, mock = newMockForgetter(t, ds.d)
			ambiguous := ds.lookup("customer_id", "transactions", "orderid", 500, "101")
			ambiguous.rows = []string{"101", "102"}
			expect(mock, ds, []step{ds.begin(), ambiguous, ds.rollback()}, -1, nil)
			_, err = f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{OrderID: "500"}})
			if !errors.Is(err, forget.ErrConflict) {
				t.Errorf("Forget(ambiguous orderid) = %v, want ErrConflict", err)
			}
			if err := mock.ExpectationsWereMet(); err != nil {
				t.Error(err)
			}

			// Two rows of the customers table with one key: conflict too,
			// since the UPDATE would erase both.
			f, mock = newMockForgetter(t, ds.d)
			twice := ds.lookup("customer_id", "customers", "customer_id", 101, "101")
			twice.rows = []string{"101", "101"}
			expect(mock, ds, []step{ds.begin(), twice, ds.rollback()}, -1, nil)
			_, err = f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "101"}})
			if !errors.Is(err, forget.ErrConflict) {
				t.Errorf("Forget(duplicated customer key) = %v, want ErrConflict", err)
			}
			if err := mock.ExpectationsWereMet(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestMalformedKeyNeverReachesDatabase: "abc" for an integer key is
// invalid before any statement, on every dialect.
func TestMalformedKeyNeverReachesDatabase(t *testing.T) {
	t.Parallel()
	for _, ds := range dialects {
		t.Run(ds.d.String(), func(t *testing.T) {
			f, mock := newMockForgetter(t, ds.d)
			for _, l := range []forget.Lookup{{CustomerID: "abc"}, {SubscriptionID: "1 OR 1=1"}, {OrderID: "0x10"}, {CustomerID: "101", OrderID: "1e3"}} {
				_, err := f.Forget(context.Background(), forget.Request{Lookup: l})
				var ke *forget.KeyError
				if !errors.As(err, &ke) || !errors.Is(err, forget.ErrInvalid) {
					t.Errorf("Forget(%+v) = %v, want a KeyError", l, err)
				}
			}
			if err := mock.ExpectationsWereMet(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRetriesDeadlock: a deadlock aborts the first attempt; the store
// rolls back and runs the whole transaction again.
func TestRetriesDeadlock(t *testing.T) {
	t.Parallel()
	ds := dialects[2] // MySQL reports deadlocks as error 1213
	f, mock := newMockForgetter(t, ds.d)
	sc := scripts(ds)[0]
	expect(mock, ds, sc.st, 2, &mysql.MySQLError{Number: 1213, Message: "Deadlock found when trying to get lock"})
	expect(mock, ds, sc.st, -1, nil)
	if _, err := f.Forget(context.Background(), sc.req); err != nil {
		t.Fatalf("Forget after a deadlock: %v", err)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Error(err)
	}

	// A store told to try once gives the deadlock back, as an internal
	// error whose message quotes nothing from MySQL.
	f, mock = newMockForgetter(t, ds.d, sqlstore.WithAttempts(1))
	expect(mock, ds, sc.st, 2, &mysql.MySQLError{Number: 1062, Message: "Duplicate entry 'forgot-abc' for key 'username'"})
	_, err := f.Forget(context.Background(), sc.req)
	var my *mysql.MySQLError
	if !errors.As(err, &my) || strings.Contains(err.Error(), "forgot-abc") {
		t.Errorf("Forget = %v, want the MySQL error without its message", err)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Error(err)
	}
}
