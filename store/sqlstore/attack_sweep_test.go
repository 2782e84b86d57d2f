package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestTwoSweepsAndABatch: two sweeps and a batch naming every customer,
// at once, each on a pool of its own. The batch is an explicit request
// and may forget a customer a sweep forgot; but no sweep forgets a
// customer twice, nor one anybody forgot before it, nothing fails (no
// deadlock reaches a caller), and every customer is forgotten.
func TestTwoSweepsAndABatch(t *testing.T) {
	// Not parallel: beside other tests its forgets hold their locks
	// longer, and on PostgreSQL (under -race, load 14) a group of the
	// batch deadlocked more than its 5 attempts.
	all := func(int) (login, order *time.Time) {
		old := sweepClock.AddDate(-4, 0, 0)
		return &old, nil
	}
	for _, e := range engines(t) {
		for _, setBased := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/setBased=%v", e.name, setBased), func(t *testing.T) {
				ctx := context.Background()
				const n = 200
				db, _, _ := sweepFixture(t, e, n, all)
				schema := sqlstore.DefaultSchema()
				schema.Activity = []sqlstore.Column{{Column: "last_login"}, {Column: "last_order_at"}}
				var first sync.WaitGroup
				first.Add(2)
				var run sync.WaitGroup
				reps := make([]forget.SweepReport, 2)
				errs := make([]error, 2)
				var batch []forget.Outcome
				for i, pool := range []*sql.DB{db, reopen(t, e, db), reopen(t, e, db)} {
					s, err := sqlstore.New(pool, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable), sqlstore.WithSetBased(setBased))
					if err != nil {
						t.Fatal(err)
					}
					var st forget.Store = s
					if i < 2 {
						st = barrierStore{s, &first}
					}
					f, err := forget.New(st, forget.WithClock(func() time.Time { return sweepClock }), forget.WithLogger(slog.New(slog.DiscardHandler)))
					if err != nil {
						t.Fatal(err)
					}
					run.Add(1)
					go func() {
						defer run.Done()
						if i == 2 {
							reqs := make([]forget.Request, n)
							for j := range reqs {
								reqs[j] = forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(n - j)}, Principal: "batch"}
							}
							batch = f.ForgetBatch(ctx, reqs)
							return
						}
						reps[i], errs[i] = f.Sweep(ctx, forget.SweepOptions{InactiveSince: sweepClock.AddDate(-3, 0, 0), Chunk: 20})
					}()
				}
				run.Wait()
				for i := range 2 {
					if errs[i] != nil || reps[i].Failed != 0 {
						t.Errorf("sweep %d: %+v, %v", i, reps[i], errs[i])
					}
				}
				for j, o := range batch {
					if o.Err != nil {
						t.Errorf("batch request %d: %v", j, o.Err)
					}
				}
				rows, err := db.QueryContext(ctx, "SELECT customer_id, principal FROM forget_audit WHERE held = '' ORDER BY audit_id")
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				seen := map[string]bool{}
				for rows.Next() {
					var id, principal string
					if err := rows.Scan(&id, &principal); err != nil {
						t.Fatal(err)
					}
					if principal == "sweep" && seen[id] {
						t.Errorf("customer %s: a sweep forgot them after another forget", id)
					}
					seen[id] = true
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				if len(seen) != n {
					t.Errorf("%d customers forgotten, want %d", len(seen), n)
				}
			})
		}
	}
}
