package propagate_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/integration/internal/natstest"
	"github.com/forgetkit/forget/internal/memseed"
	"github.com/forgetkit/forget/propagate"
	"github.com/forgetkit/forget/store/memstore"
)

// observer records what a relay and a consumer report.
type observer struct {
	mu        sync.Mutex
	published int
	failed    int
	backlogs  []forget.Backlog
	outcomes  map[string]int // destination/outcome → count
}

func (o *observer) RelayPublished(n int) { o.mu.Lock(); o.published += n; o.mu.Unlock() }
func (o *observer) RelayFailed()         { o.mu.Lock(); o.failed++; o.mu.Unlock() }
func (o *observer) RelayBacklog(b forget.Backlog) {
	o.mu.Lock()
	o.backlogs = append(o.backlogs, b)
	o.mu.Unlock()
}
func (o *observer) Delivery(dest, outcome string) {
	o.mu.Lock()
	o.outcomes[dest+"/"+outcome]++
	o.mu.Unlock()
}

func (o *observer) snapshot() (published int, backlogs []forget.Backlog, outcomes map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]int, len(o.outcomes))
	for k, v := range o.outcomes {
		out[k] = v
	}
	return o.published, append([]forget.Backlog(nil), o.backlogs...), out
}

// TestObservers: a running relay reports its backlog (the waiting events
// and the oldest's time, then none) and what it published; a consumer
// reports each delivery, failure and park; ParkedCounts counts the
// parked events per destination, and ListDeliveries lists the records by
// state across customers.
func TestObservers(t *testing.T) {
	ctx := context.Background()
	js := natstest.Start(t).Connect(t)
	s := memseed.New(t, memseed.Users(1, 3), memstore.WithAudit())
	f, _ := forget.New(s, forget.WithLogger(quiet()))
	first := forgetID(t, f, 1)
	forgetID(t, f, 2)
	failing := forgetID(t, f, 3).EventID

	obs := &observer{outcomes: map[string]int{}}
	r, err := propagate.NewRelay(s, js, propagate.WithLogger(quiet()), propagate.WithRelayObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 10*time.Second, "an empty backlog after the publication", func() bool {
		_, b, _ := obs.snapshot()
		return len(b) >= 2 && b[len(b)-1].Pending == 0
	})
	published, backlogs, _ := obs.snapshot()
	if published != 3 {
		t.Errorf("the relay reported %d events published, want 3", published)
	}
	if b := backlogs[0]; b.Pending != 3 || !b.Oldest.Equal(first.At) {
		t.Errorf("the first backlog = %+v, want 3 events, the oldest at %v", b, first.At)
	}
	if b := backlogs[len(backlogs)-1]; !b.Oldest.IsZero() {
		t.Errorf("an empty backlog has an oldest event: %+v", b)
	}

	h := func(_ context.Context, rc forget.Receipt) error {
		if rc.EventID == failing {
			return errors.New("down")
		}
		return nil
	}
	consume(t, js, "crm", h, propagate.WithLogger(quiet()), propagate.WithConsumerObserver(obs),
		propagate.WithBackOff(50*time.Millisecond), propagate.WithMaxDeliver(2))
	waitFor(t, 10*time.Second, "the failing event parked", func() bool {
		_, _, o := obs.snapshot()
		return o["crm/parked"] == 1
	})
	if _, _, o := obs.snapshot(); o["crm/delivered"] != 2 || o["crm/failed"] != 2 || len(o) != 3 {
		t.Errorf("outcomes = %v, want 2 delivered, 2 failed, 1 parked", o)
	}
	counts, err := propagate.ParkedCounts(ctx, js)
	if err != nil || len(counts) != 1 || counts["crm"] != 1 {
		t.Errorf("ParkedCounts = %v, %v; want crm: 1", counts, err)
	}
	if counts, err := propagate.ParkedCounts(ctx, js, propagate.WithNamespace("other")); err != nil || len(counts) != 0 {
		t.Errorf("ParkedCounts in another namespace = %v, %v; want none", counts, err)
	}

	list := func(dest string, states ...string) []propagate.Delivery {
		t.Helper()
		l, truncated, err := propagate.ListDeliveries(ctx, js, dest, states)
		if err != nil || truncated {
			t.Fatalf("ListDeliveries(%q, %v): truncated %v, %v", dest, states, truncated, err)
		}
		return l
	}
	if l := list("", propagate.StateParked, propagate.StateRetrying); len(l) != 1 || l[0].EventID != failing || l[0].Destination != "crm" ||
		l[0].State != propagate.StateParked || l[0].Attempts != 2 || l[0].LastError == "" || l[0].ParkedAt.IsZero() {
		t.Errorf("parked or retrying = %+v, want the failing event parked at crm", l)
	}
	if l := list("crm", propagate.StateDelivered); len(l) != 2 {
		t.Errorf("delivered at crm = %+v, want 2", l)
	}
	if l := list("search", propagate.StateDelivered, propagate.StateParked); len(l) != 0 {
		t.Errorf("at a destination never run = %+v, want none", l)
	}
	if _, _, err := propagate.ListDeliveries(ctx, js, "", []string{propagate.StatePending}); err == nil {
		t.Error("ListDeliveries(pending) succeeded: a pending event has no record")
	}
	if _, _, err := propagate.ListDeliveries(ctx, js, "crm.x", nil); err == nil {
		t.Error("ListDeliveries of a bad destination name succeeded")
	}
}
