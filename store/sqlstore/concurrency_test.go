package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

const (
	concCustomers   = 12
	concForgetters  = 12
	concInserters   = 4
	concBatchers    = 4
	concOpsPerGorou = 25
)

// concFixtures: customers 201..212, shaped like the suite's fixtures.
func concFixtures() []storetest.Customer {
	var cs []storetest.Customer
	for i := range concCustomers {
		cs = append(cs, storetest.NewCustomer(201+i))
	}
	return cs
}

// isDeadlock reports whether the database aborted one of the test's own
// inserts for a deadlock or a busy lock (the store retries its own
// transactions; the test retries its inserts).
func isDeadlock(err error) bool {
	var state interface{ SQLState() string }
	var my *mysql.MySQLError
	var lite interface{ Code() int }
	switch {
	case errors.As(err, &state):
		return state.SQLState() == "40P01" || state.SQLState() == "40001"
	case errors.As(err, &my):
		return my.Number == 1213 || my.Number == 1205
	case errors.As(err, &lite):
		return lite.Code()&0xff == 5 || lite.Code()&0xff == 6
	}
	return false
}

// TestConcurrentForgetsAndInserts: 12 goroutines forget overlapping
// customers by every key (with dry runs and deliberate conflicts), 4 more
// forget batches of them that lock several customers in one transaction,
// while 4 insert notes and auth rows for the same customers. No error but
// conflict reaches a caller (deadlocks are retried inside the store); the
// rows add up: seeded + inserted = deleted (as receipts report) +
// remaining; and a final forget leaves every customer fully forgotten.
func TestConcurrentForgetsAndInserts(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("concurrency stress")
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			b := newDefaultBackend(t, e, sqlstore.WithAttempts(20), sqlstore.WithBatchSize(4))
			fix := concFixtures()
			if err := b.Seed(ctx, fix); err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, b)
			var deleted, inserted [2]atomic.Int64 // member_auth, member_note
			var wg sync.WaitGroup
			errs := make(chan error, (concForgetters+concBatchers)*concOpsPerGorou+concInserters)
			for g := range concForgetters {
				wg.Go(func() {
					rnd := rand.New(rand.NewPCG(uint64(g), 7))
					for range concOpsPerGorou {
						id := 201 + rnd.IntN(concCustomers)
						var l forget.Lookup
						switch rnd.IntN(4) {
						case 0:
							l.CustomerID = strconv.Itoa(id)
						case 1:
							l.SubscriptionID = strconv.Itoa(id*10 + 1 + rnd.IntN(2))
						case 2:
							l.OrderID = strconv.Itoa(id*100 + 1 + rnd.IntN(3))
						case 3: // a conflict, on purpose
							l.CustomerID, l.OrderID = strconv.Itoa(id), strconv.Itoa((201+(id-201+1)%concCustomers)*100+1)
						}
						dry := rnd.IntN(5) == 0
						rc, err := f.Forget(ctx, forget.Request{Lookup: l, DryRun: dry})
						switch {
						case l.OrderID != "" && l.CustomerID != "":
							if !errors.Is(err, forget.ErrConflict) {
								errs <- fmt.Errorf("conflicting lookup %+v: %v", l, err)
							}
						case err != nil:
							errs <- fmt.Errorf("forget %+v: %w", l, err)
						case !dry:
							deleted[0].Add(rc.RowsDeleted[forget.MemberAuth])
							deleted[1].Add(rc.RowsDeleted[forget.MemberNote])
						}
					}
				})
			}
			// Batches lock several customers in one transaction, in
			// different orders: the database will find deadlocks, abort
			// one side, and the store must retry it, not report it.
			for g := range concBatchers {
				wg.Go(func() {
					rnd := rand.New(rand.NewPCG(uint64(200+g), 3))
					for range concOpsPerGorou / 5 {
						ids := rnd.Perm(concCustomers)[:4]
						reqs := make([]forget.Request, len(ids))
						for k, i := range ids {
							reqs[k] = forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(201 + i)}}
						}
						for k, o := range f.ForgetBatch(ctx, reqs) {
							if o.Err != nil {
								errs <- fmt.Errorf("batch forget %+v: %w", reqs[k].Lookup, o.Err)
								continue
							}
							deleted[0].Add(o.Receipt.RowsDeleted[forget.MemberAuth])
							deleted[1].Add(o.Receipt.RowsDeleted[forget.MemberNote])
						}
					}
				})
			}
			for g := range concInserters {
				wg.Go(func() {
					rnd := rand.New(rand.NewPCG(uint64(100+g), 9))
					for k := range concOpsPerGorou {
						id := 201 + rnd.IntN(concCustomers)
						table, which := "member_note", 1
						cols := []string{"customer_id", "note"}
						if k%2 == 0 {
							table, which, cols = "member_auth", 0, []string{"customer_id", "kind"}
						}
						for attempt := 0; ; attempt++ {
							_, err := b.sb.Insert(table).Columns(cols...).Values(id, "added concurrently").RunWith(b.db).ExecContext(ctx)
							if err == nil {
								inserted[which].Add(1)
								break
							}
							if !isDeadlock(err) || attempt > 50 {
								errs <- fmt.Errorf("insert into %s: %w", table, err)
								return
							}
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}

			snap, err := b.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i, table := range []forget.Table{forget.MemberAuth, forget.MemberNote} {
				remaining := 0
				for _, st := range snap {
					remaining += st.Rows[table]
				}
				seededRows := int64(concCustomers * fix[0].Rows[table])
				if got := deleted[i].Load() + int64(remaining); got != seededRows+inserted[i].Load() {
					t.Errorf("%s: deleted %d + remaining %d != seeded %d + inserted %d", table, deleted[i].Load(), remaining, seededRows, inserted[i].Load())
				}
			}
			byID := map[string]storetest.Customer{}
			for _, c := range fix {
				byID[c.ID] = c
				if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: c.ID}}); err != nil {
					t.Fatal(err)
				}
			}
			final, _ := b.Snapshot(ctx)
			for id, st := range final {
				for _, fs := range forget.DefaultCatalogue().Fields {
					if v := st.Fields[fs.Name].String; v == byID[id].Fields[fs.Name] {
						t.Errorf("customer %s still holds its %s", id, fs.Name)
					}
				}
				if st.Rows[forget.MemberAuth]+st.Rows[forget.MemberNote] != 0 {
					t.Errorf("customer %s still has rows: %v", id, st.Rows)
				}
			}
			t.Logf("%d goroutines (%d forgetting, %d batching, %d inserting), %d operations each; rows inserted concurrently: %d auth, %d notes",
				concForgetters+concBatchers+concInserters, concForgetters, concBatchers, concInserters, concOpsPerGorou, inserted[0].Load(), inserted[1].Load())
		})
	}
}
