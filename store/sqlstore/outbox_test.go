package sqlstore_test

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/outboxtest"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// outboxBackend is a store with the default audit table (the outbox) and
// customers first..first+n-1.
func outboxBackend(t testing.TB, e engine, n int) defaultBackend {
	t.Helper()
	b := newDefaultBackend(t, e, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	cs := make([]storetest.Customer, n)
	for i := range cs {
		cs[i] = storetest.NewCustomer(101 + i)
	}
	if err := b.Seed(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
	return b
}

func claim(t testing.TB, o forget.Outbox, limit int) forget.EventClaim {
	t.Helper()
	c, err := o.ClaimEvents(context.Background(), limit)
	if err != nil {
		t.Fatalf("ClaimEvents(%d): %v", limit, err)
	}
	// Before the database is dropped, should the test stop early: an
	// open claim would hold its locks for ever.
	t.Cleanup(c.Release)
	return c
}

// TestOutboxEventPerCommittedForget: a single forget, each forget of a
// batch and each forget of a replay leaves one unpublished event, the
// receipt under its event id, in the outbox; a dry run, a forget that
// fails and one that finds nobody leave none.
func TestOutboxEventPerCommittedForget(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := forget.WithPrincipal(context.Background(), "ops")
			b := outboxBackend(t, e, 4)
			refuseNoteDeletes(t, b.db, e.dialect, 104)
			f := quietForgetter(t, b)
			var want []*forget.Receipt
			want = append(want, outboxtest.Forget(t, f, "101"))
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "102"}, DryRun: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "104"}}); err == nil {
				t.Fatal("the trigger should have failed the forget of 104")
			}
			out := f.ForgetBatch(ctx, []forget.Request{
				{Lookup: forget.Lookup{CustomerID: "102"}, Keep: []string{"firstname"}},
				{Lookup: forget.Lookup{CustomerID: "999"}},
				{Lookup: forget.Lookup{CustomerID: "104"}},
				{Lookup: forget.Lookup{CustomerID: "103"}, RequestID: "r-3"},
			})
			if out[0].Err != nil || out[1].Err == nil || out[2].Err == nil || out[3].Err != nil {
				t.Fatalf("batch outcomes: %v %v %v %v", out[0].Err, out[1].Err, out[2].Err, out[3].Err)
			}
			want = append(want, out[0].Receipt, out[3].Receipt)
			replayed := f.Replay(ctx, []forget.Receipt{*want[0]})
			if replayed[0].Err != nil {
				t.Fatal(replayed[0].Err)
			}
			want = append(want, replayed[0].Receipt)

			c := claim(t, b, 100)
			defer c.Release()
			got := c.Events()
			// One event per customer at a time: 101's replay waits for its
			// first event.
			if len(got) != 3 {
				t.Fatalf("claimed %d events, want 3 (101, 102, 103): %+v", len(got), got)
			}
			for i, w := range want[:3] {
				g := got[i]
				if g.EventID != w.EventID || len(g.EventID) != forget.EventIDLen || g.CustomerID != w.CustomerID ||
					!g.At.Equal(w.At) || g.RequestID != w.RequestID || g.Principal != w.Principal ||
					!slices.Equal(g.FieldsErased, w.FieldsErased) || !slices.Equal(g.FieldsKept, w.FieldsKept) ||
					!g.PublishedAt.IsZero() || g.DryRun {
					t.Errorf("event %d = %+v\nwant receipt %+v", i, g, w)
				}
			}
			if err := c.MarkPublished(ctx, outboxtest.EventIDs(got), time.Now()); err != nil {
				t.Fatal(err)
			}
			c2 := claim(t, b, 100)
			if ids := outboxtest.EventIDs(c2.Events()); !slices.Equal(ids, []string{want[3].EventID}) {
				t.Fatalf("second claim = %v, want the replay's event %s", ids, want[3].EventID)
			}
			if err := c2.MarkPublished(ctx, outboxtest.EventIDs(c2.Events()), time.Now()); err != nil {
				t.Fatal(err)
			}
			if n := len(claim(t, b, 100).Events()); n != 0 {
				t.Fatalf("%d events left after all were published", n)
			}
			evs, err := b.CustomerEvents(ctx, "101")
			if err != nil || len(evs) != 2 || evs[0].EventID != want[0].EventID || evs[1].EventID != want[3].EventID || evs[0].PublishedAt.IsZero() {
				t.Fatalf("CustomerEvents(101) = %+v, %v", evs, err)
			}
			for _, id := range []string{"104", "999", "no such customer", strings.Repeat("9", 300)} {
				if evs, err := b.CustomerEvents(ctx, id); err != nil || len(evs) != 0 {
					t.Errorf("CustomerEvents(%.20q) = %+v, %v, want none", id, evs, err)
				}
			}
		})
	}
}

// TestOutboxCustomerOrder: a customer's second event is not claimable
// while the first is unpublished, claimed or not; releasing a claim or
// failing to mark it leaves the events for the next claim.
func TestOutboxCustomerOrder(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			b := outboxBackend(t, e, 2)
			f := quietForgetter(t, b)
			first, second := outboxtest.Forget(t, f, "101"), outboxtest.Forget(t, f, "101")
			other := outboxtest.Forget(t, f, "102")

			c := claim(t, b, 1)
			if ids := outboxtest.EventIDs(c.Events()); !slices.Equal(ids, []string{first.EventID}) {
				t.Fatalf("claim(1) = %v, want 101's first event", ids)
			}
			if e.dialect != sqlstore.SQLite {
				// A second relay skips the claimed event and must not take
				// 101's second one either.
				c2 := claim(t, b, 10)
				if ids := outboxtest.EventIDs(c2.Events()); !slices.Equal(ids, []string{other.EventID}) {
					t.Fatalf("concurrent claim = %v, want only 102's event %s", ids, other.EventID)
				}
				c2.Release()
			}
			c.Release()
			c.Release() // twice is harmless
			if err := c.MarkPublished(ctx, nil, time.Now()); err == nil {
				t.Error("MarkPublished after Release succeeded")
			}

			// A mark that fails marks nothing: the claim ends, the events stay.
			c = claim(t, b, 10)
			if err := c.MarkPublished(ctx, []string{first.EventID, "not-an-event-of-this-claim"}, time.Now()); !errors.Is(err, forget.ErrInvalid) {
				t.Fatalf("MarkPublished with a foreign id = %v, want ErrInvalid", err)
			}
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			c = claim(t, b, 10)
			if ids := outboxtest.EventIDs(c.Events()); !slices.Equal(ids, []string{first.EventID, other.EventID}) {
				t.Fatalf("claim after a failed mark = %v", ids)
			}
			if err := c.MarkPublished(cancelled, outboxtest.EventIDs(c.Events()), time.Now()); err == nil {
				t.Fatal("MarkPublished with a cancelled context succeeded")
			}
			// Partly published: 101's first event only.
			c = claim(t, b, 10)
			if ids := outboxtest.EventIDs(c.Events()); !slices.Equal(ids, []string{first.EventID, other.EventID}) {
				t.Fatalf("claim after a cancelled mark = %v", ids)
			}
			at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
			if err := c.MarkPublished(ctx, []string{first.EventID}, at); err != nil {
				t.Fatal(err)
			}
			c = claim(t, b, 10)
			if ids := outboxtest.EventIDs(c.Events()); !slices.Equal(ids, []string{second.EventID, other.EventID}) {
				t.Fatalf("claim after marking 101's first = %v, want 101's second and 102's", ids)
			}
			c.Release()
			evs, err := b.CustomerEvents(ctx, "101")
			if err != nil || len(evs) != 2 || !evs[0].PublishedAt.Equal(at) || !evs[1].PublishedAt.IsZero() {
				t.Fatalf("CustomerEvents(101) = %+v, %v", evs, err)
			}
		})
	}
}

// TestOutboxBadInput: limits out of range, a store without an audit
// table, an empty customer id and a cancelled context are errors that
// change nothing.
func TestOutboxBadInput(t *testing.T) {
	t.Parallel()
	e := engines(t)[0]
	ctx := context.Background()
	b := outboxBackend(t, e, 1)
	outboxtest.Forget(t, quietForgetter(t, b), "101")
	for _, limit := range []int{0, -1, 10001, int(^uint(0) >> 1)} {
		if c, err := b.ClaimEvents(ctx, limit); err == nil || !errors.Is(err, forget.ErrInvalid) {
			t.Errorf("ClaimEvents(%d) = %v, %v, want ErrInvalid", limit, c, err)
		}
	}
	if _, err := b.CustomerEvents(ctx, ""); !errors.Is(err, forget.ErrInvalid) {
		t.Errorf("CustomerEvents(\"\") = %v, want ErrInvalid", err)
	}
	for _, id := range []string{"\xff\xfe", "101\x00", "'; DROP TABLE forget_audit; --"} {
		if evs, err := b.CustomerEvents(ctx, id); err != nil || len(evs) != 0 {
			t.Errorf("CustomerEvents(%q) = %v, %v", id, evs, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.ClaimEvents(cancelled, 10); err == nil {
		t.Error("ClaimEvents with a cancelled context succeeded")
	}
	plain, err := sqlstore.New(b.db, e.dialect)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.ClaimEvents(ctx, 10); err == nil {
		t.Error("ClaimEvents on a store without audit table succeeded")
	}
	if _, err := plain.CustomerEvents(ctx, "101"); err == nil {
		t.Error("CustomerEvents on a store without audit table succeeded")
	}
	c := claim(t, b, 10)
	if n := len(c.Events()); n != 1 {
		t.Fatalf("after the bad calls %d events are claimable, want 1", n)
	}
	if err := c.MarkPublished(ctx, outboxtest.EventIDs(c.Events()), time.Now()); err != nil {
		t.Fatal(err)
	}
	// A claim of nothing may be ended either way.
	if err := claim(t, b, 10).MarkPublished(ctx, nil, time.Now()); err != nil {
		t.Errorf("MarkPublished(nil) on an empty claim: %v", err)
	}
	claim(t, b, 10).Release()
}

// TestOutboxRelaysShareWork: four relays claim and mark at once while
// forgets go on, several of each customer. Every event is marked, in
// each customer's commit order; on PostgreSQL and MariaDB no event is
// ever in two claims at once.
func TestOutboxRelaysShareWork(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			const customers, rounds, relays = 8, 6, 4
			ctx := context.Background()
			b := outboxBackend(t, e, customers)
			f := quietForgetter(t, b)
			var (
				mu      sync.Mutex
				held    = map[string]bool{}
				marked  []string // in marking order
				overlap int
				gaveUps int // marks that gave up waiting (MariaDB)
			)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for r := range relays {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rnd := rand.New(rand.NewPCG(uint64(r), 7))
					idle := 0
					for {
						c, err := b.ClaimEvents(ctx, 1+rnd.IntN(3))
						if err != nil {
							t.Error(err)
							return
						}
						evs := c.Events()
						if len(evs) == 0 {
							c.Release()
							select {
							case <-stop:
								if idle++; idle > 3 {
									return
								}
							default:
							}
							time.Sleep(2 * time.Millisecond)
							continue
						}
						idle = 0
						mu.Lock()
						for _, ev := range evs {
							if held[ev.EventID] {
								overlap++
							}
							held[ev.EventID] = true
						}
						mu.Unlock()
						time.Sleep(time.Duration(rnd.IntN(2000)) * time.Microsecond) // "publishing"
						// Hold the lock while marking, so that the order of
						// `marked` is the order marks commit.
						mu.Lock()
						ids := outboxtest.EventIDs(evs)
						if rnd.IntN(5) == 0 {
							ids = ids[:len(ids)/2] // the broker acknowledged some only
						}
						// On MariaDB a mark can wait for the locks of another
						// relay's claim, and that relay may be waiting for mu:
						// a wait the database cannot see. The mark gives up
						// after a while instead, and its events, still
						// unpublished, are claimed again.
						mctx, cancel := context.WithTimeout(ctx, 2*time.Second)
						err = c.MarkPublished(mctx, ids, time.Now())
						gaveUp := err != nil && mctx.Err() != nil && e.dialect == sqlstore.MySQL
						cancel()
						if err != nil && !gaveUp {
							t.Error(err)
						}
						for _, ev := range evs {
							delete(held, ev.EventID)
						}
						if err == nil {
							marked = append(marked, ids...)
						} else {
							gaveUps++
						}
						mu.Unlock()
					}
				}()
			}
			var committed []*forget.Receipt
			for range rounds {
				for c := range customers {
					committed = append(committed, outboxtest.Forget(t, f, strconv.Itoa(101+c)))
				}
			}
			close(stop)
			wg.Wait()
			if e.dialect != sqlstore.SQLite && overlap > 0 {
				t.Errorf("%d events were in two claims at once", overlap)
			}
			if gaveUps > 0 {
				t.Logf("%d marks gave up waiting for another relay's claim", gaveUps)
			}
			outboxtest.CheckMarked(t, marked, committed, e.dialect == sqlstore.SQLite)
			if len(claim(t, b, 100).Events()) != 0 {
				t.Error("events left unpublished")
			}
		})
	}
}

// TestOutboxAuditIndexes: the audit table has exactly the indexes its
// reads need (customer_id: status; at: AuditTrail; unpublished: relays),
// since every index costs each forget a B-tree insert in its transaction
// (BenchmarkOutboxCostSQLite). Event ids are unique by construction and
// never looked up, so they have none.
func TestOutboxAuditIndexes(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	if err := sqlstore.CreateSchema(context.Background(), db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name", sqlstore.DefaultAuditTable)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		got = append(got, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"forget_audit_at", "forget_audit_customer_id", "forget_audit_unpublished"}
	if !slices.Equal(got, want) {
		t.Errorf("audit table indexes %v, want %v", got, want)
	}
}

// BenchmarkForgetOutboxSQLite: the cost of the outbox, a forget WithAudit
// (the event written in the forget's transaction) against one without an
// audit table, alternating on one database so that both see the same
// state. Reports each side's mean, the means' ratio and the medians'.
// Run with
// -benchtime=450x or less (each iteration forgets two fresh customers).
func BenchmarkForgetOutboxSQLite(b *testing.B) {
	bd := sqliteBench(b, 1000, 2*b.N, "NORMAL")
	plain := benchForgetter(b, bd.db, sqlstore.SQLite)
	s, err := sqlstore.New(bd.db, sqlstore.SQLite, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		b.Fatal(err)
	}
	audited, err := forget.New(s, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	first := bd.take(2 * b.N)
	ctx := context.Background()
	var withOutbox, without time.Duration
	sides := [2][]time.Duration{make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)}
	b.ResetTimer()
	for i := range b.N {
		fs := []*forget.Forgetter{audited, plain}
		if i%2 == 1 {
			fs[0], fs[1] = plain, audited // neither always goes first
		}
		for j, f := range fs {
			start := time.Now()
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(first + 2*i + j)}}); err != nil {
				b.Fatal(err)
			}
			d := time.Since(start)
			if f == audited {
				withOutbox += d
				sides[0] = append(sides[0], d)
			} else {
				without += d
				sides[1] = append(sides[1], d)
			}
		}
	}
	b.ReportMetric(float64(withOutbox.Nanoseconds())/float64(b.N), "ns/forget-outbox")
	b.ReportMetric(float64(without.Nanoseconds())/float64(b.N), "ns/forget-plain")
	b.ReportMetric(float64(withOutbox)/float64(without), "outbox/plain")
	// The medians' ratio: a busy machine's stalls land on either side
	// and swamp the means.
	for _, s := range sides {
		slices.Sort(s)
	}
	b.ReportMetric(float64(sides[0][b.N/2])/float64(sides[1][b.N/2]), "p50-outbox/plain")
}
