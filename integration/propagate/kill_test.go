package propagate_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/integration/internal/natstest"
	"github.com/forgetkit/forget/propagate"
)

// killedDeliverer runs Consume as name on a connection of its own, with
// a handler that reaches the receiver through wh and then dies as a
// killed process does: its connection is gone before the attempt is
// recorded or acknowledged. It returns once one attempt died so.
func killedDeliverer(t *testing.T, ns *natstest.Server, name string, wh *propagate.Webhook, opts []propagate.ConsumerOption) {
	t.Helper()
	js := ns.Connect(t)
	nc := js.Conn()
	killed := make(chan struct{})
	var once sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- propagate.Consume(ctx, js, name, func(ctx context.Context, rc forget.Receipt) error {
			err := wh.Deliver(ctx, rc)
			nc.Close()
			once.Do(func() { close(killed) })
			return err
		}, opts...)
	}()
	select {
	case <-killed:
	case <-time.After(20 * time.Second):
		p, _ := propagate.ListParked(context.Background(), js, name)
		t.Fatalf("%s: no attempt within 20s; parked: %+v", name, p)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Consume(%s): %v", name, err)
	}
}

// TestKilledDeliverersDoNotPark: deliverers killed mid-attempt, again
// and again, more often than max-deliver, use up none of the event's
// attempts: a healthy receiver then gets it and it is not parked; a
// failing one still parks it after max-deliver finished failures, with
// their class. A message offered 50 times without an attempt ever
// finishing (the backstop) is parked as gave_up without another.
func TestKilledDeliverersDoNotPark(t *testing.T) {
	ctx := context.Background()
	ns := natstest.Start(t)
	js := ns.Connect(t)
	_, s, f := newStore(t, sqlite(t), 1)
	rc := forgetID(t, f, 1)
	r, _ := propagate.NewRelay(s, js, propagate.WithLogger(quiet()))
	if _, err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	const maxDeliver, kills = 3, 7
	opts := []propagate.ConsumerOption{propagate.WithLogger(quiet()), propagate.WithBackOff(30 * time.Millisecond), propagate.WithMaxDeliver(maxDeliver), propagate.WithWorkers(1)}

	healthy, failing := newReceiver(t), newReceiver(t)
	failing.setAnswer(func(string, int) int { return http.StatusInternalServerError })
	for _, c := range []struct {
		name string
		r    *receiver
	}{{"healthy", healthy}, {"failing", failing}} {
		wh := c.r.webhook(t, time.Second)
		for range kills {
			killedDeliverer(t, ns, c.name, wh, opts)
		}
		if n := c.r.count(rc.EventID); n != kills {
			t.Fatalf("%s: %d arrivals from the killed deliverers, want %d", c.name, n, kills)
		}
		if d := statusOf(t, js, s, rc.CustomerID, rc.EventID, c.name); d.State != propagate.StatePending || d.Failures != 0 {
			t.Fatalf("%s: status after the kills: %+v", c.name, d)
		}
		consume(t, js, c.name, wh.Deliver, opts...)
	}

	waitFor(t, 20*time.Second, "the healthy receiver's delivery", func() bool {
		return statusOf(t, js, s, rc.CustomerID, rc.EventID, "healthy").State == propagate.StateDelivered
	})
	if d := statusOf(t, js, s, rc.CustomerID, rc.EventID, "healthy"); d.Attempts != 1 || d.Failures != 0 || d.Parked {
		t.Errorf("healthy: status %+v, want one finished attempt", d)
	}
	if p, err := propagate.ListParked(ctx, js, "healthy"); err != nil || len(p) != 0 {
		t.Errorf("healthy: parked %+v, %v", p, err)
	}

	var p []propagate.Parked
	waitFor(t, 20*time.Second, "the failing receiver's event parked", func() bool {
		p, _ = propagate.ListParked(ctx, js, "failing")
		return len(p) == 1
	})
	if n := failing.count(rc.EventID); n != kills+maxDeliver {
		t.Errorf("failing: %d arrivals, want %d killed and %d finished", n, kills, maxDeliver)
	}
	d := statusOf(t, js, s, rc.CustomerID, rc.EventID, "failing")
	if d.State != propagate.StateParked || d.Attempts != maxDeliver || d.Failures != maxDeliver || d.LastError != "http_500" ||
		p[0].LastError != "http_500" || p[0].Attempts != maxDeliver {
		t.Errorf("failing: status %+v, parked %+v", d, p[0])
	}

	// The backstop: a message taken 50 times and never finished.
	var calls atomic.Int32
	killedDeliverer(t, ns, "poison", healthy.webhook(t, time.Second), opts)
	cons, err := js.Consumer(ctx, propagate.StreamName, "poison")
	if err != nil {
		t.Fatal(err)
	}
	for delivered := uint64(1); delivered < 50; {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("after %d deliveries: %v", delivered, err)
		}
		md, _ := m.Metadata()
		delivered = md.NumDelivered // not acknowledged: it comes again
	}
	consume(t, js, "poison", func(context.Context, forget.Receipt) error { calls.Add(1); return nil }, opts...)
	waitFor(t, 20*time.Second, "the poison message parked", func() bool {
		p, _ = propagate.ListParked(ctx, js, "poison")
		return len(p) == 1
	})
	if p[0].LastError != "gave_up" || calls.Load() != 0 {
		t.Errorf("poison: parked %+v after %d calls, want gave_up and none", p[0], calls.Load())
	}
}
