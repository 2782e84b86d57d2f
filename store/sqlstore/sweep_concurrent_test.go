package sqlstore_test

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// barrierStore holds every sweep's first page until all sweeps have read
// theirs, so that they start on the same customers, as two sweeps
// started at once do.
type barrierStore struct {
	*sqlstore.Store
	wg *sync.WaitGroup
}

func (b barrierStore) Inactive(ctx context.Context, cutoff time.Time, cursor string, limit int) ([]string, string, error) {
	ids, next, err := b.Store.Inactive(ctx, cutoff, cursor, limit)
	if cursor == "" {
		b.wg.Done()
		b.wg.Wait()
	}
	return ids, next, err
}

// reopen opens db's database a second time, on a pool of its own, as a
// second process would.
func reopen(t *testing.T, e engine, db *sql.DB) *sql.DB {
	t.Helper()
	var name string
	var err error
	driver := map[sqlstore.Dialect]string{sqlstore.SQLite: "sqlite", sqlstore.Postgres: "pgx", sqlstore.MySQL: "mysql"}[e.dialect]
	switch e.dialect {
	case sqlstore.SQLite:
		err = db.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&name)
	case sqlstore.Postgres:
		err = db.QueryRow(`SELECT current_schema()`).Scan(&name)
	default:
		err = db.QueryRow(`SELECT DATABASE()`).Scan(&name)
	}
	if err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open(driver, e.dsn(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return other
}

// TestConcurrentSweeps: two sweeps at once on one database, each on a
// pool of its own as two processes would be, share the work on every
// engine, set-based or per customer: every inactive customer is forgotten
// exactly once (one audit record, so one event), and what one sweep
// forgot the other counts as already forgotten, not failed.
func TestConcurrentSweeps(t *testing.T) {
	t.Parallel()
	all := func(int) (login, order *time.Time) {
		old := sweepClock.AddDate(-4, 0, 0)
		return &old, nil
	}
	for _, e := range engines(t) {
		for _, setBased := range []bool{true, false} {
			name := e.name + "/SetBased"
			if !setBased {
				name = e.name + "/PerCustomer"
			}
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				const n = 300
				db, _, _ := sweepFixture(t, e, n, all)
				schema := sqlstore.DefaultSchema()
				schema.Activity = []sqlstore.Column{{Column: "last_login"}, {Column: "last_order_at"}}
				var first sync.WaitGroup
				first.Add(2)
				reps := make([]forget.SweepReport, 2)
				errs := make([]error, 2)
				var run sync.WaitGroup
				for i, pool := range []*sql.DB{db, reopen(t, e, db)} {
					s, err := sqlstore.New(pool, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable), sqlstore.WithSetBased(setBased))
					if err != nil {
						t.Fatal(err)
					}
					f, err := forget.New(barrierStore{s, &first}, forget.WithClock(func() time.Time { return sweepClock }), forget.WithLogger(slog.New(slog.DiscardHandler)))
					if err != nil {
						t.Fatal(err)
					}
					run.Add(1)
					go func() {
						defer run.Done()
						reps[i], errs[i] = f.Sweep(ctx, forget.SweepOptions{InactiveSince: sweepClock.AddDate(-3, 0, 0), Chunk: 25})
					}()
				}
				run.Wait()
				for i := range 2 {
					if errs[i] != nil || reps[i].Failed != 0 {
						t.Fatalf("sweep %d: %+v, %v", i, reps[i], errs[i])
					}
				}
				rows, err := db.QueryContext(ctx, "SELECT customer_id, COUNT(*) FROM forget_audit WHERE held = '' GROUP BY customer_id")
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				customers := 0
				for rows.Next() {
					var id string
					var records int
					if err := rows.Scan(&id, &records); err != nil {
						t.Fatal(err)
					}
					customers++
					if records != 1 {
						t.Errorf("customer %s: %d audit records", id, records)
					}
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				if customers != n {
					t.Errorf("%d customers forgotten, want %d", customers, n)
				}
				if got := reps[0].Forgotten + reps[1].Forgotten; got != n {
					t.Errorf("the sweeps report %d forgotten between them, want %d: %+v, %+v", got, n, reps[0], reps[1])
				}
				if reps[0].AlreadyForgotten+reps[1].AlreadyForgotten == 0 {
					t.Errorf("no customer counted as already forgotten: %+v, %+v", reps[0], reps[1])
				}
			})
		}
	}
}
