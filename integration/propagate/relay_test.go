package propagate_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/integration/internal/natstest"
	"github.com/forgetkit/forget/internal/memseed"
	"github.com/forgetkit/forget/internal/streamtest"
	"github.com/forgetkit/forget/internal/syncbuf"
	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/propagate"
	"github.com/forgetkit/forget/store/memstore"
)

// forgetfulOutbox loses the relay's marks, as a relay killed between the
// broker's ack and its mark would: the events stay unpublished.
type forgetfulOutbox struct {
	forget.Outbox
	lose atomic.Bool
}

func (o *forgetfulOutbox) ClaimEvents(ctx context.Context, limit int) (forget.EventClaim, error) {
	c, err := o.Outbox.ClaimEvents(ctx, limit)
	if err != nil || !o.lose.Load() {
		return c, err
	}
	return losingClaim{c}, nil
}

type losingClaim struct{ forget.EventClaim }

func (c losingClaim) MarkPublished(context.Context, []string, time.Time) error {
	c.Release()
	return errors.New("killed before the mark")
}

// TestRelayPublishesEachEventOnce: each committed forget is published
// once, under its event id as Nats-Msg-Id; nothing a dry run or a failed
// forget did is published; a relay that publishes and dies before its
// mark publishes again, and the stream still holds each event once.
func TestRelayPublishesEachEventOnce(t *testing.T) {
	ctx := context.Background()
	js := natstest.Start(t).Connect(t)
	db, s, f := newStore(t, sqlite(t), 20)
	for id := 1; id <= 10; id++ {
		forgetID(t, f, id)
	}
	forgetID(t, f, 3) // a customer's second event
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "11"}, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "999"}}); !errors.Is(err, forget.ErrNotFound) {
		t.Fatal(err)
	}
	outbox := &forgetfulOutbox{Outbox: s}
	outbox.lose.Store(true)
	r, err := propagate.NewRelay(outbox, js, propagate.WithLogger(quiet()), propagate.WithBatch(4))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Drain(ctx); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Drain with lost marks = %v", err)
	}
	if n := len(streamtest.Receipts(t, js)); n != 4 {
		t.Fatalf("the stream has %d events after one claim of 4", n)
	}
	if n := unpublished(t, db); n != 11 {
		t.Fatalf("%d events unpublished after the lost marks, want all 11", n)
	}
	outbox.lose.Store(false)
	n, err := r.Drain(ctx)
	if err != nil || n != 11 {
		t.Fatalf("Drain = %d, %v; want 11 (4 of them repeats the stream drops)", n, err)
	}
	if n, err := r.Drain(ctx); n != 0 || err != nil {
		t.Fatalf("second Drain = %d, %v", n, err)
	}
	checkStream(t, db, js)
	s2, err := js.Stream(ctx, propagate.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s2.Info(ctx)
	if info.Config.Duplicates != propagate.DefaultDuplicateWindow || info.Config.Subjects[0] != "forget.erased.>" {
		t.Errorf("stream config: duplicates %s, subjects %v", info.Config.Duplicates, info.Config.Subjects)
	}
	for _, rc := range streamtest.Receipts(t, js) {
		if rc.DryRun || rc.CustomerID == "11" || rc.CustomerID == "999" {
			t.Errorf("published an event that was never committed: %+v", rc)
		}
	}
}

// TestRelayMemstore: the relay works on the memory store's outbox too.
func TestRelayMemstore(t *testing.T) {
	ctx := context.Background()
	js := natstest.Start(t).Connect(t)
	s := memseed.New(t, memseed.Users(1, 2), memstore.WithAudit())
	f, _ := forget.New(s, forget.WithLogger(quiet()))
	want := []string{forgetID(t, f, 1).EventID, forgetID(t, f, 2).EventID, forgetID(t, f, 1).EventID}
	r, _ := propagate.NewRelay(s, js, propagate.WithLogger(quiet()), propagate.WithPreset("host_2"))
	if n, err := r.Drain(ctx); n != 3 || err != nil {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	// One claim's events of different customers are published at once,
	// in any order; each customer's are in commit order.
	var ones []string
	got := streamtest.Receipts(t, js)
	for _, rc := range got {
		if rc.CustomerID == "1" {
			ones = append(ones, rc.EventID)
		}
	}
	if len(got) != 3 || len(ones) != 2 || ones[0] != want[0] || ones[1] != want[2] {
		t.Fatalf("stream = %+v, want %v", got, want)
	}
	s2, _ := js.Stream(ctx, propagate.StreamName)
	if m, err := s2.GetMsg(ctx, 1); err != nil || m.Subject != "forget.erased.host_2" {
		t.Fatalf("subject: %v, %v", m, err)
	}
}

// TestRelayBrokerDown: with the broker away, forgets go on and their
// events wait in the outbox; when it comes back (same port, same store)
// they flow, each once.
func TestRelayBrokerDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := natstest.Start(t)
	js := ns.Connect(t)
	db, s, f := newStore(t, sqlite(t), 60)
	var logs syncbuf.Buffer
	r, err := propagate.NewRelay(s, js, propagate.WithLogger(logs.Logger()), propagate.WithPublishTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	for id := 1; id <= 20; id++ {
		forgetID(t, f, id)
	}
	waitFor(t, 10*time.Second, "the first 20 events", func() bool { return unpublished(t, db) == 0 })

	ns.Stop()
	start := time.Now()
	for id := 21; id <= 60; id++ {
		forgetID(t, f, id) // the broker's absence never reaches a forget
	}
	forgetID(t, f, 5)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("41 forgets took %s with the broker down", d)
	}
	time.Sleep(500 * time.Millisecond) // the relay tries, and fails
	if n := unpublished(t, db); n != 41 {
		t.Fatalf("%d events wait in the outbox, want 41", n)
	}
	ns.Start() // back on the same port and store
	waitFor(t, 30*time.Second, "the events to flow after the outage", func() bool { return unpublished(t, db) == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkStream(t, db, js)
	if strings.Contains(logs.String(), secretValue) {
		t.Error("a personal value reached the relay's log")
	}
	if !strings.Contains(logs.String(), "events wait in the outbox") {
		t.Error("the outage was not logged")
	}
}

// TestThreeRelays: three relays at once against one database while
// forgets go on, several per customer: every event in the stream once,
// none missing, each customer's in commit order.
func TestThreeRelays(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			const customers, writers, perWriter = 15, 3, 40
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ns := natstest.Start(t)
			db, s, f := newStore(t, e, customers)
			var wg sync.WaitGroup
			for range 3 {
				// Each relay its own connection, as separate processes.
				r, err := propagate.NewRelay(s, ns.Connect(t), propagate.WithLogger(quiet()), propagate.WithBatch(7), propagate.WithPollInterval(2*time.Millisecond))
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() { defer wg.Done(); r.Run(ctx) }()
			}
			var fw sync.WaitGroup
			for w := range writers {
				fw.Add(1)
				go func() {
					defer fw.Done()
					for i := range perWriter {
						id := 1 + (w*7+i*3)%customers
						// Repropagate: a customer forgotten again is a repeat, an event only so.
						if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(id)}, Repropagate: true}); err != nil {
							t.Errorf("forget %d: %v", id, err)
							return
						}
					}
				}()
			}
			fw.Wait()
			waitFor(t, 60*time.Second, "the relays to publish every event", func() bool { return unpublished(t, db) == 0 })
			cancel()
			wg.Wait()
			checkStream(t, db, ns.Connect(t))
			if n := len(streamtest.Receipts(t, ns.Connect(t))); n != writers*perWriter {
				t.Fatalf("%d events in the stream, want %d", n, writers*perWriter)
			}
		})
	}
}

// TestRelayBadInput: construction refuses what cannot work.
func TestRelayBadInput(t *testing.T) {
	js := natstest.Start(t).Connect(t)
	o := memstore.New(memstore.WithAudit())
	for name, opts := range map[string][]propagate.RelayOption{
		"preset with a dot":  {propagate.WithPreset("a.b")},
		"preset with a star": {propagate.WithPreset("*")},
		"empty preset":       {propagate.WithPreset("")},
		"batch 0":            {propagate.WithBatch(0)},
		"batch huge":         {propagate.WithBatch(1 << 30)},
		"poll 0":             {propagate.WithPollInterval(0)},
		"window 0":           {propagate.WithDuplicateWindow(0)},
		"nil clock":          {propagate.WithClock(nil)},
	} {
		if _, err := propagate.NewRelay(o, js, opts...); err == nil {
			t.Errorf("%s: NewRelay succeeded", name)
		}
	}
	if _, err := propagate.NewRelay(nil, js); err == nil {
		t.Error("NewRelay(nil outbox) succeeded")
	}
	var nilJS jetstream.JetStream
	if _, err := propagate.NewRelay(o, nilJS); err == nil {
		t.Error("NewRelay(nil js) succeeded")
	}
}

// TestRelayMalformedEvent: an audit record whose event id no Forgetter
// made (edited by hand, say) stays in the outbox and holds back its
// customer's later events, reported once; every other customer's events
// flow, without the relay backing off.
func TestRelayMalformedEvent(t *testing.T) {
	ctx := context.Background()
	js := natstest.Start(t).Connect(t)
	db, s, f := newStore(t, sqlite(t), 5)
	forgetID(t, f, 1)
	if _, err := db.Exec(`INSERT INTO forget_audit (event_id, customer_id, at, principal, request_id, fields_erased, fields_kept, tables_kept, rows_deleted, rows_scrubbed, holds_ignored, held)
		VALUES ('bad id!', '2', '2026-01-01T00:00:00.000000000Z', '', '', '', '', '', '{}', 'null', '', '')`); err != nil {
		t.Fatal(err)
	}
	later := forgetID(t, f, 2)
	for id := 3; id <= 5; id++ {
		forgetID(t, f, id)
	}
	var logs syncbuf.Buffer
	r, _ := propagate.NewRelay(s, js, propagate.WithLogger(logs.Logger()))
	for range 3 {
		if _, err := r.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := streamtest.Receipts(t, js)
	if len(got) != 4 {
		t.Fatalf("%d events published, want 4 (customers 1, 3, 4, 5)", len(got))
	}
	for _, rc := range got {
		if rc.CustomerID == "2" || rc.EventID == later.EventID {
			t.Errorf("customer 2's event went past the malformed one before it: %+v", rc)
		}
	}
	if n := strings.Count(logs.String(), "malformed id"); n != 1 {
		t.Errorf("the malformed event was reported %d times, want once:\n%s", n, logs.String())
	}
}
