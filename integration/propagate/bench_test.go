package propagate_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/integration/internal/natstest"
	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/propagate"
	"github.com/forgetkit/forget/store/sqlstore"
)

// fillOutbox writes n unpublished events straight into the audit table,
// each of a customer of its own, as n committed forgets would have.
func fillOutbox(b *testing.B, db *sql.DB, d sqlstore.Dialect, n int) {
	b.Helper()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	q := "?"
	if d == sqlstore.Postgres {
		q = "$1"
	}
	cols := "event_id, customer_id, at, principal, request_id, fields_erased, fields_kept, tables_kept, rows_deleted, rows_scrubbed, holds_ignored, held"
	if d == sqlstore.MySQL {
		cols = strings.ReplaceAll(cols, "at,", "`at`,")
	}
	st, err := tx.Prepare(fmt.Sprintf("INSERT INTO forget_audit (%s) VALUES (%s, %s, '2026-01-02T03:04:05.000000000Z', 'bench', '', 'phone,city', '', '', '{\"member_note\":3}', 'null', '', '')", cols, q, strings.Replace(q, "1", "2", 1)))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for i := range n {
		if _, err := st.Exec(strings.ToLower(rand.Text()), strconv.Itoa(1000000+i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRelay: events published per second, from a full outbox to the
// broker's ack and the mark, on each engine (an in-process NATS server
// with file storage). Each iteration is one event: run with
// -benchtime=20000x.
func BenchmarkRelay(b *testing.B) {
	for _, e := range testdb.Engines(b) {
		b.Run("engine="+e.Name, func(b *testing.B) {
			ctx := context.Background()
			js := natstest.Start(b).Connect(b)
			db, s, _ := newStore(b, e, 0)
			fillOutbox(b, db, e.Dialect, b.N)
			r, err := propagate.NewRelay(s, js, propagate.WithLogger(quiet()))
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			b.ResetTimer()
			n, err := r.Drain(ctx)
			b.StopTimer()
			if err != nil || n != b.N {
				b.Fatalf("Drain = %d, %v; want %d", n, err, b.N)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkCommitToWebhook: forgets at 200 a second on SQLite, with a
// relay woken by a hook and a destination consuming into an HTTP
// receiver; reports the time from each forget's commit (its return) to
// the webhook's arrival, p50 and p99. Each iteration is one forget: run
// with -benchtime=2000x (ten seconds).
func BenchmarkCommitToWebhook(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := natstest.Start(b)
	var relay *propagate.Relay
	_, s, f := newStore(b, sqlite(b), b.N, forget.WithHook("relay", func(context.Context, forget.Receipt) error {
		relay.Wake()
		return nil
	}))
	var err error
	relay, err = propagate.NewRelay(s, ns.Connect(b), propagate.WithLogger(quiet()))
	if err != nil {
		b.Fatal(err)
	}
	go relay.Run(ctx)
	recv := newReceiver(b)
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	recv.setAnswer(func(id string, n int) int {
		mu.Lock()
		if _, ok := arrived[id]; !ok {
			arrived[id] = time.Now()
		}
		mu.Unlock()
		return 200
	})
	consume(b, ns.Connect(b), "crm", recv.webhook(b, time.Second).Deliver, propagate.WithLogger(quiet()))
	committed := make(map[string]time.Time, b.N)
	tick := time.NewTicker(5 * time.Millisecond) // 200 a second
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(i + 1)}})
		if err != nil {
			b.Fatal(err)
		}
		committed[rc.EventID] = time.Now()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(arrived)
		mu.Unlock()
		if n >= b.N {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d events reached the webhook", n, b.N)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	lat := make([]time.Duration, 0, b.N)
	mu.Lock()
	for id, c := range committed {
		lat = append(lat, arrived[id].Sub(c))
	}
	mu.Unlock()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}
