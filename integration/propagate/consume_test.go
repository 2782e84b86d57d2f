package propagate_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/integration/internal/natstest"
	"github.com/forgetkit/forget/internal/syncbuf"
	"github.com/forgetkit/forget/propagate"
)

// receiver is a webhook receiver that verifies each request, records
// when each webhook-id arrived, and answers as told.
type receiver struct {
	t      testing.TB
	secret string
	srv    *httptest.Server

	mu       sync.Mutex
	arrivals map[string][]time.Time     // webhook-id → each arrival
	answer   func(id string, n int) int // status for the n-th arrival (1-based); 0 hangs
	retry    string                     // the Retry-After of answers other than 2xx, if any
	bodies   []string
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{t: t, secret: propagate.NewSecret(), arrivals: map[string][]time.Time{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id, err := propagate.Verify(r.secret, req.Header, body, time.Now(), 5*time.Minute)
	if err != nil {
		r.t.Errorf("receiver: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	r.arrivals[id] = append(r.arrivals[id], time.Now())
	r.bodies = append(r.bodies, string(body))
	n := len(r.arrivals[id])
	answer, retry := r.answer, r.retry
	r.mu.Unlock()
	status := http.StatusOK
	if answer != nil {
		status = answer(id, n)
	}
	if status == 0 {
		select {
		case <-req.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	}
	if retry != "" && (status < 200 || status > 299) {
		w.Header().Set("Retry-After", retry)
	}
	w.WriteHeader(status)
}

func (r *receiver) setAnswer(f func(id string, n int) int) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}

func (r *receiver) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.arrivals[id])
}

func (r *receiver) times(id string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.arrivals[id]...)
}

func (r *receiver) webhook(t testing.TB, timeout time.Duration) *propagate.Webhook {
	wh, err := propagate.NewWebhook(r.srv.URL+"/hook", r.secret, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

// consume runs propagate.Consume until the test ends.
func consume(t testing.TB, js jetstream.JetStream, name string, h propagate.Handler, opts ...propagate.ConsumerOption) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- propagate.Consume(ctx, js, name, h, opts...) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Consume(%s): %v", name, err)
		}
	})
}

func statusOf(t testing.TB, js jetstream.JetStream, o forget.Outbox, customer, eventID, dest string) propagate.Delivery {
	t.Helper()
	st, err := propagate.Status(context.Background(), js, o, customer)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range st {
		if ev.EventID != eventID {
			continue
		}
		for _, d := range ev.Destinations {
			if d.Destination == dest {
				return d
			}
		}
	}
	t.Fatalf("no status for event %s at %s", eventID, dest)
	return propagate.Delivery{}
}

// TestDeliverRetriesParksRedrives: a webhook that answers 500 and one
// that times out are retried after growing delays, parked after
// MaxDeliver attempts, shown as parked by Status with the class of their
// last failure, and delivered by Redrive once the receiver recovers.
// Another destination gets everything meanwhile. No log, status or body
// holds a personal value.
func TestDeliverRetriesParksRedrives(t *testing.T) {
	ctx := context.Background()
	ns := natstest.Start(t)
	js := ns.Connect(t)
	_, s, f := newStore(t, sqlite(t), 5)
	events := make([]*forget.Receipt, 5)
	for i := range events {
		events[i] = forgetID(t, f, i+1)
	}
	failing, timingOut := events[1].EventID, events[3].EventID
	r, _ := propagate.NewRelay(s, js, propagate.WithLogger(quiet()))
	if _, err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}

	crm, search := newReceiver(t), newReceiver(t)
	crm.setAnswer(func(id string, n int) int {
		switch id {
		case failing:
			return http.StatusInternalServerError
		case timingOut:
			return 0
		}
		return http.StatusOK
	})
	var logs syncbuf.Buffer
	backoff := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
	opts := []propagate.ConsumerOption{propagate.WithLogger(logs.Logger()), propagate.WithBackOff(backoff...), propagate.WithMaxDeliver(4)}
	consume(t, js, "crm", crm.webhook(t, 150*time.Millisecond).Deliver, opts...)
	consume(t, js, "search", search.webhook(t, time.Second).Deliver, opts...)

	waitFor(t, 20*time.Second, "both failing events parked", func() bool {
		p, err := propagate.ListParked(ctx, js, "crm")
		return err == nil && len(p) == 2
	})
	for _, id := range []string{failing, timingOut} {
		times := crm.times(id)
		if len(times) != 4 {
			t.Fatalf("event %s reached crm %d times, want 4 (MaxDeliver)", id, len(times))
		}
		for i := 1; i < len(times); i++ {
			// The retry after attempt i waits backoff[i-1] at least.
			if gap := times[i].Sub(times[i-1]); gap < backoff[min(i, len(backoff))-1] {
				t.Errorf("event %s: retry %d came %s after the last attempt, before its back-off %s", id, i, gap, backoff[i-1])
			}
		}
	}
	for _, rc := range events {
		if n := search.count(rc.EventID); n < 1 {
			t.Errorf("search never got event %s", rc.EventID)
		}
	}
	p, _ := propagate.ListParked(ctx, js, "crm")
	classes := map[string]string{p[0].EventID: p[0].LastError, p[1].EventID: p[1].LastError}
	if classes[failing] != "http_500" || classes[timingOut] != "timeout" || p[0].Attempts != 4 {
		t.Errorf("parked: %+v", p)
	}
	d := statusOf(t, js, s, events[1].CustomerID, failing, "crm")
	if d.State != propagate.StateParked || d.Attempts != 4 || d.LastError != "http_500" || !d.Parked || d.ParkedAt.IsZero() {
		t.Errorf("status of the failing event at crm: %+v", d)
	}
	if d := statusOf(t, js, s, events[3].CustomerID, timingOut, "crm"); d.State != propagate.StateParked || d.LastError != "timeout" {
		t.Errorf("status of the timing-out event at crm: %+v", d)
	}
	if d := statusOf(t, js, s, events[1].CustomerID, failing, "search"); d.State != propagate.StateDelivered || d.Attempts != 1 || d.DeliveredAt.IsZero() {
		t.Errorf("status of the failing event at search: %+v", d)
	}
	if d := statusOf(t, js, s, events[0].CustomerID, events[0].EventID, "crm"); d.State != propagate.StateDelivered {
		t.Errorf("status of a delivered event: %+v", d)
	}

	crm.setAnswer(nil) // the receiver is fixed
	n, err := propagate.Redrive(ctx, js, "crm")
	if err != nil || n != 2 {
		t.Fatalf("Redrive = %d, %v", n, err)
	}
	if n, err := propagate.Redrive(ctx, js, "crm"); err != nil || n != 0 {
		t.Fatalf("second Redrive = %d, %v", n, err)
	}
	waitFor(t, 10*time.Second, "the redriven events delivered", func() bool {
		return crm.count(failing) == 5 && crm.count(timingOut) == 5
	})
	waitFor(t, 5*time.Second, "status delivered", func() bool {
		return statusOf(t, js, s, events[1].CustomerID, failing, "crm").State == propagate.StateDelivered
	})
	d = statusOf(t, js, s, events[1].CustomerID, failing, "crm")
	if d.Attempts != 5 || d.Parked || d.LastError != "http_500" {
		t.Errorf("status after redrive: %+v", d)
	}
	if p, _ := propagate.ListParked(ctx, js, "crm"); len(p) != 0 {
		t.Errorf("%d events still parked after redrive", len(p))
	}
	all := logs.String() + strings.Join(crm.bodies, "") + strings.Join(search.bodies, "")
	if strings.Contains(all, secretValue) || strings.Contains(logs.String(), "/hook") {
		t.Error("a personal value or the webhook's path reached a log or a body")
	}
	if !strings.Contains(logs.String(), "class=http_500") || !strings.Contains(logs.String(), "event parked") {
		t.Errorf("the failures were not logged:\n%s", logs.String())
	}
}

// TestConsumeSharesWork: two processes consuming under one name share the
// events; a third name gets them all; an unreadable message is parked,
// not retried for ever; a handler that panics is retried.
func TestConsumeSharesWork(t *testing.T) {
	ctx := context.Background()
	ns := natstest.Start(t)
	_, s, f := newStore(t, sqlite(t), 40)
	for id := 1; id <= 40; id++ {
		forgetID(t, f, id)
	}
	r, _ := propagate.NewRelay(s, ns.Connect(t), propagate.WithLogger(quiet()))
	if n, err := r.Drain(ctx); n != 40 || err != nil {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	type seen struct {
		mu   sync.Mutex
		byID map[string]int
	}
	count := func(sn *seen) propagate.Handler {
		return func(_ context.Context, rc forget.Receipt) error {
			time.Sleep(2 * time.Millisecond)
			sn.mu.Lock()
			defer sn.mu.Unlock()
			sn.byID[rc.EventID]++
			return nil
		}
	}
	a, b, other := &seen{byID: map[string]int{}}, &seen{byID: map[string]int{}}, &seen{byID: map[string]int{}}
	panicked := false
	var pmu sync.Mutex
	opts := []propagate.ConsumerOption{propagate.WithLogger(quiet()), propagate.WithBackOff(50 * time.Millisecond)}
	consume(t, ns.Connect(t), "crm", count(a), opts...)
	consume(t, ns.Connect(t), "crm", count(b), opts...)
	consume(t, ns.Connect(t), "index", func(ctx context.Context, rc forget.Receipt) error {
		pmu.Lock()
		if !panicked {
			panicked = true
			pmu.Unlock()
			panic("a host's bug")
		}
		pmu.Unlock()
		return count(other)(ctx, rc)
	}, opts...)
	js := ns.Connect(t)
	if _, err := js.Publish(ctx, propagate.Subject("offerit"), []byte("not an event")); err != nil {
		t.Fatal(err)
	}
	total := func(sn *seen) int {
		sn.mu.Lock()
		defer sn.mu.Unlock()
		return len(sn.byID)
	}
	waitFor(t, 20*time.Second, "every event at both destinations", func() bool {
		a.mu.Lock()
		union := map[string]bool{}
		for id := range a.byID {
			union[id] = true
		}
		a.mu.Unlock()
		b.mu.Lock()
		for id := range b.byID {
			union[id] = true
		}
		b.mu.Unlock()
		return len(union) == 40 && total(other) == 40
	})
	if total(a) == 0 || total(b) == 0 {
		t.Errorf("the work was not shared: %d and %d", total(a), total(b))
	}
	waitFor(t, 10*time.Second, "the unreadable message parked for both", func() bool {
		p1, _ := propagate.ListParked(ctx, js, "crm")
		p2, _ := propagate.ListParked(ctx, js, "index")
		return len(p1) == 1 && len(p2) == 1 && p1[0].LastError == "bad_event"
	})
	dests, err := propagate.Destinations(ctx, js)
	if err != nil || strings.Join(dests, ",") != "crm,index" {
		t.Errorf("Destinations = %v, %v", dests, err)
	}
}

// TestConsumeBadInput: a bad name or option is an error at once.
func TestConsumeBadInput(t *testing.T) {
	js := natstest.Start(t).Connect(t)
	h := func(context.Context, forget.Receipt) error { return nil }
	ctx := context.Background()
	for _, name := range []string{"", "a.b", "crm*", "crm>", strings.Repeat("x", 65), "crm name", "ü"} {
		if err := propagate.Consume(ctx, js, name, h); err == nil {
			t.Errorf("Consume(%q) started", name)
		}
		if _, err := propagate.Redrive(ctx, js, name); err == nil {
			t.Errorf("Redrive(%q) succeeded", name)
		}
	}
	for name, opt := range map[string]propagate.ConsumerOption{
		"no back-off":       propagate.WithBackOff(),
		"negative back-off": propagate.WithBackOff(-time.Second),
		"max deliver 0":     propagate.WithMaxDeliver(0),
		"workers 0":         propagate.WithWorkers(0),
		"timeout 0":         propagate.WithAttemptTimeout(0),
	} {
		if err := propagate.Consume(ctx, js, "crm", h, opt); err == nil {
			t.Errorf("%s: Consume started", name)
		}
	}
	if err := propagate.Consume(ctx, js, "crm", nil); err == nil {
		t.Error("Consume with a nil handler started")
	}
	if _, err := propagate.Status(ctx, js, nil, "1"); err == nil {
		t.Error("Status without an outbox succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := propagate.Consume(cancelled, js, "crm", h); err != nil {
		t.Errorf("Consume with a cancelled context = %v, want nil at once", err)
	}
}

// TestConsumeNoRepeatBehindSlowDelivery: with one worker busy for longer
// than the ack wait, the events behind it are not offered twice: a
// worker takes a message only when it is free.
func TestConsumeNoRepeatBehindSlowDelivery(t *testing.T) {
	ctx := context.Background()
	ns := natstest.Start(t)
	js := ns.Connect(t)
	_, s, f := newStore(t, sqlite(t), 4)
	for id := 1; id <= 4; id++ {
		forgetID(t, f, id)
	}
	r, _ := propagate.NewRelay(s, js, propagate.WithLogger(quiet()))
	if _, err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	calls := map[string]int{}
	consume(t, js, "slow", func(ctx context.Context, rc forget.Receipt) error {
		time.Sleep(250 * time.Millisecond) // longer than the ack wait
		mu.Lock()
		calls[rc.EventID]++
		mu.Unlock()
		return nil
	}, propagate.WithLogger(quiet()), propagate.WithWorkers(1), propagate.WithBackOff(80*time.Millisecond))
	waitFor(t, 10*time.Second, "all four delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(calls) == 4
	})
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for id, n := range calls {
		if n != 1 {
			t.Errorf("event %s handled %d times", id, n)
		}
	}
}

// TestParkedOneAnswer: Status and ListParked read one record, so they
// show the same time, attempts and error class for a parked event, also
// after a redrive parks it again. The consumer's clock is far from the
// server's, as a host's may be.
func TestParkedOneAnswer(t *testing.T) {
	ctx := context.Background()
	ns := natstest.Start(t)
	js := ns.Connect(t)
	_, s, f := newStore(t, sqlite(t), 1)
	rc := forgetID(t, f, 1)
	r, _ := propagate.NewRelay(s, js, propagate.WithLogger(quiet()))
	if _, err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	crm := newReceiver(t)
	crm.setAnswer(func(string, int) int { return http.StatusBadGateway })
	clock := func() time.Time { return time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC) }
	consume(t, js, "crm", crm.webhook(t, time.Second).Deliver, propagate.WithLogger(quiet()), propagate.WithClock(clock),
		propagate.WithBackOff(100*time.Millisecond), propagate.WithMaxDeliver(2))
	for round := 1; round <= 2; round++ {
		var p []propagate.Parked
		waitFor(t, 20*time.Second, "the event parked", func() bool {
			p, _ = propagate.ListParked(ctx, js, "crm")
			return len(p) == 1 && statusOf(t, js, s, rc.CustomerID, rc.EventID, "crm").State == propagate.StateParked
		})
		// Under load the broker may offer the message to two workers at
		// once, and both attempts park it: read until the record is still.
		var d propagate.Delivery
		for try := 0; ; try++ {
			d = statusOf(t, js, s, rc.CustomerID, rc.EventID, "crm")
			p, _ = propagate.ListParked(ctx, js, "crm")
			if len(p) == 1 && p[0].ParkedAt.Equal(d.ParkedAt) && p[0].Attempts == d.Attempts && p[0].LastError == d.LastError {
				break
			}
			if try == 20 {
				t.Fatalf("round %d: ListParked says %+v; Status says %s, %d, %s", round, p, d.ParkedAt, d.Attempts, d.LastError)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !d.ParkedAt.Equal(clock()) || d.Attempts < 2*round || d.LastError != "http_502" {
			t.Fatalf("round %d: status %+v", round, d)
		}
		if round == 1 {
			if n, err := propagate.Redrive(ctx, js, "crm"); err != nil || n != 1 {
				t.Fatalf("Redrive = %d, %v", n, err)
			}
		}
	}
}
