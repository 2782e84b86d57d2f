package propagate_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/integration/internal/natstest"
	"github.com/forgetkit/forget/internal/syncbuf"
	"github.com/forgetkit/forget/propagate"
	"github.com/forgetkit/forget/store/sqlstore"
)

// published returns n events, forgotten and relayed to a fresh broker,
// with the store that holds them.
func published(t *testing.T, ns *natstest.Server, n int) (*sqlstore.Store, []*forget.Receipt) {
	t.Helper()
	_, s, f := newStore(t, sqlite(t), n)
	events := make([]*forget.Receipt, n)
	for i := range events {
		events[i] = forgetID(t, f, i+1)
	}
	r, _ := propagate.NewRelay(s, ns.Connect(t), propagate.WithLogger(quiet()))
	if got, err := r.Drain(context.Background()); got != n || err != nil {
		t.Fatalf("Drain = %d, %v", got, err)
	}
	return s, events
}

// stateAt is the event's state at dest; "" while dest is not listed yet
// (its Consume has not started).
func stateAt(t testing.TB, js jetstream.JetStream, o forget.Outbox, rc *forget.Receipt, dest string) string {
	t.Helper()
	st, err := propagate.Status(context.Background(), js, o, rc.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range st {
		for _, d := range ev.Destinations {
			if ev.EventID == rc.EventID && d.Destination == dest {
				return d.State
			}
		}
	}
	return ""
}

// TestReceiverDownADayParksNothing: a receiver that is down for a third
// of the schedule's span (the default schedule spans three days; this
// one, shortened, 9.5s, and the receiver is down for 3.5s, as for a day)
// gets every event once it is back, without a redrive: none is parked,
// and each status says delivered, its failures behind it.
func TestReceiverDownADayParksNothing(t *testing.T) {
	ctx := context.Background()
	ns := natstest.Start(t)
	js := ns.Connect(t)
	s, events := published(t, ns, 5)
	backoff := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond}
	const maxDeliver = propagate.DefaultMaxDeliver
	const down = 3500 * time.Millisecond
	if span := propagate.Span(maxDeliver, backoff); span < 2*down {
		t.Fatalf("the shortened schedule spans %s: not long enough to stand for three days", span)
	}
	if span := propagate.Span(maxDeliver, propagate.DefaultBackOff()); span < 72*time.Hour {
		t.Fatalf("the default schedule spans %s, want three days", span)
	}
	crm := newReceiver(t)
	back := time.Now().Add(down)
	crm.setAnswer(func(string, int) int {
		if time.Now().Before(back) {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	consume(t, js, "crm", crm.webhook(t, time.Second).Deliver, propagate.WithLogger(quiet()), propagate.WithBackOff(backoff...), propagate.WithMaxDeliver(maxDeliver))
	waitFor(t, 30*time.Second, "every event delivered after the outage", func() bool {
		for _, rc := range events {
			if stateAt(t, js, s, rc, "crm") != propagate.StateDelivered {
				return false
			}
		}
		return true
	})
	for _, rc := range events {
		times := crm.times(rc.EventID)
		if len(times) < 3 || times[len(times)-1].Before(back) {
			t.Errorf("event %s: %d arrivals, the last at %s, want several, the last after the outage", rc.EventID, len(times), times[len(times)-1].Sub(back))
		}
		if d := statusOf(t, js, s, rc.CustomerID, rc.EventID, "crm"); d.Failures != 0 || d.Parked || d.LastError != "http_500" || d.Attempts != len(times) {
			t.Errorf("event %s: status %+v after %d arrivals", rc.EventID, d, len(times))
		}
	}
	if p, err := propagate.ListParked(ctx, js, "crm"); err != nil || len(p) != 0 {
		t.Errorf("parked: %+v, %v", p, err)
	}
}

// TestGoneStopsDestination: a receiver that answers 410 Gone gets one
// attempt, and no more: the destination is marked gone, its events are
// parked (the attempted one with http_410, the others gone, without an
// attempt), a loud log says so, and another destination is not
// affected. Redrive lifts the mark and delivers them once the
// receiver wants them again.
func TestGoneStopsDestination(t *testing.T) {
	ctx := context.Background()
	ns := natstest.Start(t)
	js := ns.Connect(t)
	s, events := published(t, ns, 6)
	crm, search := newReceiver(t), newReceiver(t)
	crm.setAnswer(func(string, int) int { return http.StatusGone })
	var logs syncbuf.Buffer
	opts := []propagate.ConsumerOption{propagate.WithBackOff(100 * time.Millisecond), propagate.WithMaxDeliver(5)}
	// One worker: once the first answer is in, no other attempt is.
	consume(t, js, "crm", crm.webhook(t, time.Second).Deliver, append(opts, propagate.WithLogger(logs.Logger()), propagate.WithWorkers(1))...)
	consume(t, js, "search", search.webhook(t, time.Second).Deliver, append(opts, propagate.WithLogger(quiet()))...)
	var p []propagate.Parked
	waitFor(t, 20*time.Second, "every event parked for crm", func() bool {
		p, _ = propagate.ListParked(ctx, js, "crm")
		return len(p) == len(events)
	})
	time.Sleep(time.Second) // ten back-offs: any retry would have come
	attempted := 0
	for _, rc := range events {
		n := crm.count(rc.EventID)
		if n > 1 {
			t.Errorf("event %s reached the gone receiver %d times", rc.EventID, n)
		}
		attempted += n
		if search.count(rc.EventID) < 1 {
			t.Errorf("search never got event %s", rc.EventID)
		}
	}
	if attempted != 1 {
		t.Fatalf("%d events reached the gone receiver, want the first only", attempted)
	}
	http410 := 0
	for _, pk := range p {
		switch pk.LastError {
		case "http_410":
			http410++
		case "gone":
		default:
			t.Errorf("parked %+v, want class http_410 or gone", pk)
		}
	}
	if http410 != attempted {
		t.Errorf("%d parked as http_410, %d attempted", http410, attempted)
	}
	d, err := propagate.DestinationStatus(ctx, js, "crm")
	if err != nil || !d.Gone || d.GoneAt.IsZero() || d.GoneEventID == "" {
		t.Errorf("DestinationStatus(crm) = %+v, %v", d, err)
	}
	if d, err := propagate.DestinationStatus(ctx, js, "search"); err != nil || d.Gone {
		t.Errorf("DestinationStatus(search) = %+v, %v", d, err)
	}
	if st := statusOf(t, js, s, events[0].CustomerID, events[0].EventID, "crm"); st.State != propagate.StateParked {
		t.Errorf("status at crm: %+v", st)
	}
	if got := logs.String(); strings.Count(got, "DESTINATION IS GONE") != 1 || !strings.Contains(got, "level=ERROR") {
		t.Errorf("the stop was not logged loudly, once:\n%s", got)
	}

	crm.setAnswer(nil) // it wants events again
	if n, err := propagate.Redrive(ctx, js, "crm"); err != nil || n != len(events) {
		t.Fatalf("Redrive = %d, %v", n, err)
	}
	if d, err := propagate.DestinationStatus(ctx, js, "crm"); err != nil || d.Gone {
		t.Errorf("after Redrive, DestinationStatus(crm) = %+v, %v", d, err)
	}
	waitFor(t, 20*time.Second, "the redriven events delivered", func() bool {
		for _, rc := range events {
			if stateAt(t, js, s, rc, "crm") != propagate.StateDelivered {
				return false
			}
		}
		return true
	})
}

// TestThrottleHonoursRetryAfter: a 429 with Retry-After: 2 is retried no
// sooner than two seconds later, and counts no failure: with max-deliver
// 1, a failure would park the event at once. 503s without Retry-After
// are retried after the schedule's delays, and are bounded: the event is
// parked after 50 of them (10 x max-deliver, at least 50).
func TestThrottleHonoursRetryAfter(t *testing.T) {
	ctx := context.Background()
	ns := natstest.Start(t)
	js := ns.Connect(t)
	s, events := published(t, ns, 2)
	limited, busy := events[0], events[1]
	crm := newReceiver(t)
	crm.retry = "2"
	crm.setAnswer(func(id string, n int) int {
		if id == limited.EventID && n == 1 {
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	})
	consume(t, js, "crm", crm.webhook(t, time.Second).Deliver, propagate.WithLogger(quiet()), propagate.WithBackOff(50*time.Millisecond), propagate.WithMaxDeliver(1))
	waitFor(t, 20*time.Second, "the throttled event delivered", func() bool {
		return stateAt(t, js, s, limited, "crm") == propagate.StateDelivered
	})
	times := crm.times(limited.EventID)
	if len(times) != 2 {
		t.Fatalf("%d arrivals, want the throttled one and the delivery", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < 2*time.Second {
		t.Errorf("the retry after Retry-After: 2 came %s later", gap)
	}
	if d := statusOf(t, js, s, limited.CustomerID, limited.EventID, "crm"); d.Attempts != 2 || d.Failures != 0 || d.Throttled != 0 || d.LastError != "http_429" || d.Parked {
		t.Errorf("status: %+v", d)
	}

	other := newReceiver(t)
	other.setAnswer(func(string, int) int { return http.StatusServiceUnavailable })
	// One worker: under load the broker may offer a message to a second
	// one while the first is still at it, an attempt more.
	consume(t, js, "busy", other.webhook(t, time.Second).Deliver, propagate.WithLogger(quiet()), propagate.WithBackOff(30*time.Millisecond, 60*time.Millisecond), propagate.WithMaxDeliver(1), propagate.WithWorkers(1))
	waitFor(t, 30*time.Second, "the always-busy receiver's events parked", func() bool {
		p, _ := propagate.ListParked(ctx, js, "busy")
		return len(p) == 2
	})
	for _, rc := range []*forget.Receipt{limited, busy} {
		// 50, and one more should the broker offer the event again
		// while its attempt runs (its ack wait is 30ms).
		if n := other.count(rc.EventID); n < 50 || n > 51 {
			t.Errorf("event %s: %d throttled attempts, want 50", rc.EventID, n)
		}
		if d := statusOf(t, js, s, rc.CustomerID, rc.EventID, "busy"); d.State != propagate.StateParked || d.Throttled < 50 || d.Throttled != d.Attempts || d.Failures != 0 || d.LastError != "http_503" {
			t.Errorf("event %s: status %+v", rc.EventID, d)
		}
	}
}

// TestRotationTwoSecrets: a webhook that signs under two secrets while
// one is rotated: a receiver that knows only the old one and one that
// knows only the new one both verify every event (the receiver fails
// the test on any request it cannot verify).
func TestRotationTwoSecrets(t *testing.T) {
	ns := natstest.Start(t)
	js := ns.Connect(t)
	s, events := published(t, ns, 3)
	oldSecret, newSecret := propagate.NewSecret(), propagate.NewSecret()
	both := oldSecret + "\n" + newSecret + "\n"
	for name, secret := range map[string]string{"old": oldSecret, "new": newSecret} {
		r := newReceiver(t)
		r.secret = secret
		wh, err := propagate.NewWebhook(r.srv.URL+"/hook", both, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		consume(t, js, name, wh.Deliver, propagate.WithLogger(quiet()))
		waitFor(t, 20*time.Second, "every event at the receiver with the "+name+" secret", func() bool {
			for _, rc := range events {
				if stateAt(t, js, s, rc, name) != propagate.StateDelivered {
					return false
				}
			}
			return true
		})
		for _, rc := range events {
			if n := r.count(rc.EventID); n != 1 {
				t.Errorf("%s secret: event %s arrived %d times (verified)", name, rc.EventID, n)
			}
		}
	}
}
