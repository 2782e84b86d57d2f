package propagate_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/integration/internal/natstest"
	"github.com/forgetkit/forget/propagate"
)

// TestNamespacesDoNotMix: two environments on one server, the default
// names and namespace staging, each with its own database, relay and a
// destination named crm. Each crm gets its own environment's events and
// none of the other's; Status, Destinations, ListParked and Redrive each
// see one environment. The default names are today's.
func TestNamespacesDoNotMix(t *testing.T) {
	ctx := context.Background()
	ns := natstest.Start(t)
	js := ns.Connect(t)
	staging := propagate.WithNamespace("staging")

	_, prodStore, prodF := newStore(t, sqlite(t), 3)
	_, stagingStore, stagingF := newStore(t, sqlite(t), 3)
	var prodEvents, stagingEvents []string
	for id := 1; id <= 3; id++ {
		prodEvents = append(prodEvents, forgetID(t, prodF, id).EventID)
	}
	for id := 1; id <= 2; id++ {
		stagingEvents = append(stagingEvents, forgetID(t, stagingF, id).EventID)
	}
	prodRelay, err := propagate.NewRelay(prodStore, js, propagate.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	stagingRelay, err := propagate.NewRelay(stagingStore, js, propagate.WithLogger(quiet()), staging)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := prodRelay.Drain(ctx); n != 3 || err != nil {
		t.Fatalf("default relay: Drain = %d, %v", n, err)
	}
	if n, err := stagingRelay.Drain(ctx); n != 2 || err != nil {
		t.Fatalf("staging relay: Drain = %d, %v", n, err)
	}

	// The default names are today's, and staging's are its own.
	for name, subjects := range map[string][]string{
		"FORGET":         {"forget.erased.>"},
		"FORGET-staging": {"staging.forget.erased.>"},
	} {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		if got := s.CachedInfo().Config.Subjects; !slices.Equal(got, subjects) {
			t.Errorf("stream %s subjects %v, want %v", name, got, subjects)
		}
	}
	if got := streamSubjects(t, js, "FORGET"); !allEqual(got, "forget.erased.offerit") || len(got) != 3 {
		t.Errorf("stream FORGET holds subjects %v", got)
	}
	if got := streamSubjects(t, js, "FORGET-staging"); !allEqual(got, "staging.forget.erased.offerit") || len(got) != 2 {
		t.Errorf("stream FORGET-staging holds subjects %v", got)
	}

	prodCRM, stagingCRM := newReceiver(t), newReceiver(t)
	// Both crm destinations fail their environment's first event, to
	// park one each.
	prodCRM.setAnswer(func(id string, _ int) int {
		if id == prodEvents[0] {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	stagingCRM.setAnswer(func(id string, _ int) int {
		if id == stagingEvents[0] {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	opts := []propagate.ConsumerOption{propagate.WithLogger(quiet()), propagate.WithBackOff(100 * time.Millisecond), propagate.WithMaxDeliver(2)}
	consume(t, js, "crm", prodCRM.webhook(t, time.Second).Deliver, opts...)
	consume(t, js, "crm", stagingCRM.webhook(t, time.Second).Deliver, append(opts, staging)...)
	// A destination only staging has.
	consume(t, js, "search", func(context.Context, forget.Receipt) error { return nil }, append(opts, staging)...)

	waitFor(t, 20*time.Second, "each environment's events delivered or parked", func() bool {
		p1, err1 := propagate.ListParked(ctx, js, "crm")
		p2, err2 := propagate.ListParked(ctx, js, "crm", staging)
		return err1 == nil && err2 == nil && len(p1) == 1 && len(p2) == 1 && prodCRM.count(prodEvents[2]) > 0 && stagingCRM.count(stagingEvents[1]) > 0
	})
	time.Sleep(200 * time.Millisecond) // anything crossing over would arrive by now
	for _, id := range stagingEvents {
		if n := prodCRM.count(id); n != 0 {
			t.Errorf("the default crm got staging's event %s %d time(s)", id, n)
		}
	}
	for _, id := range prodEvents {
		if n := stagingCRM.count(id); n != 0 {
			t.Errorf("staging's crm got the default event %s %d time(s)", id, n)
		}
	}
	if p, _ := propagate.ListParked(ctx, js, "crm"); p[0].EventID != prodEvents[0] {
		t.Errorf("parked by the default crm: %+v", p)
	}
	if p, _ := propagate.ListParked(ctx, js, "crm", staging); p[0].EventID != stagingEvents[0] {
		t.Errorf("parked by staging's crm: %+v", p)
	}
	if d, err := propagate.Destinations(ctx, js); err != nil || strings.Join(d, ",") != "crm" {
		t.Errorf("default Destinations = %v, %v", d, err)
	}
	if d, err := propagate.Destinations(ctx, js, staging); err != nil || strings.Join(d, ",") != "crm,search" {
		t.Errorf("staging Destinations = %v, %v", d, err)
	}
	// Customer 1 was forgotten in both environments: each Status shows
	// its own event and destinations.
	st, err := propagate.Status(ctx, js, stagingStore, "1", staging)
	if err != nil || len(st) != 1 || st[0].EventID != stagingEvents[0] || len(st[0].Destinations) != 2 {
		t.Fatalf("staging Status = %+v, %v", st, err)
	}
	if d := st[0].Destinations[0]; d.Destination != "crm" || d.State != propagate.StateParked || d.Attempts < 2 {
		t.Errorf("staging status at crm: %+v", d)
	}
	st, err = propagate.Status(ctx, js, prodStore, "2")
	if err != nil || len(st) != 1 || len(st[0].Destinations) != 1 || st[0].Destinations[0].State != propagate.StateDelivered {
		t.Errorf("default Status = %+v, %v", st, err)
	}
	// Status records are in each environment's own bucket.
	for bucket, events := range map[string][]string{"forget_delivery": prodEvents, "forget_delivery-staging": stagingEvents} {
		kv, err := js.KeyValue(ctx, bucket)
		if err != nil {
			t.Fatalf("bucket %s: %v", bucket, err)
		}
		keys, err := kv.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if !slices.Contains(events, strings.SplitN(k, ".", 2)[0]) {
				t.Errorf("bucket %s holds %s, another environment's", bucket, k)
			}
		}
	}

	// Redriving staging's crm leaves the default crm's parked event alone.
	stagingCRM.setAnswer(nil)
	prodArrivals, stagingArrivals := prodCRM.count(prodEvents[0]), stagingCRM.count(stagingEvents[0])
	if n, err := propagate.Redrive(ctx, js, "crm", staging); n != 1 || err != nil {
		t.Fatalf("staging Redrive = %d, %v", n, err)
	}
	waitFor(t, 10*time.Second, "staging's parked event delivered", func() bool { return stagingCRM.count(stagingEvents[0]) > stagingArrivals })
	if p, _ := propagate.ListParked(ctx, js, "crm"); len(p) != 1 {
		t.Errorf("the default crm has %d parked events after staging's redrive, want 1", len(p))
	}
	if n := prodCRM.count(prodEvents[0]); n != prodArrivals {
		t.Errorf("the default crm's parked event arrived again after staging's redrive (%d times, %d before)", n, prodArrivals)
	}
}

// TestNamespaceRefused: a namespace that cannot name streams, subjects
// and buckets, or could collide with another's, is refused by every
// entry point, before anything is created.
func TestNamespaceRefused(t *testing.T) {
	ctx := context.Background()
	js := natstest.Start(t).Connect(t)
	_, s, _ := newStore(t, sqlite(t), 1)
	h := func(context.Context, forget.Receipt) error { return nil }
	for _, bad := range []string{"Staging", "a.b", "a b", "st*", "st>", "-x", "_x", "a/b", strings.Repeat("x", 33), "ü", "prod\n"} {
		opt := propagate.WithNamespace(bad)
		if _, err := propagate.NamesOf(bad); err == nil {
			t.Errorf("NamesOf(%q) accepted", bad)
		}
		if _, err := propagate.NewRelay(s, js, opt); err == nil || !strings.Contains(err.Error(), "namespace") {
			t.Errorf("NewRelay(%q) = %v", bad, err)
		}
		if err := propagate.Consume(ctx, js, "crm", h, opt); err == nil || !strings.Contains(err.Error(), "namespace") {
			t.Errorf("Consume(%q) = %v", bad, err)
		}
		if _, err := propagate.Status(ctx, js, s, "1", opt); err == nil {
			t.Errorf("Status(%q) succeeded", bad)
		}
		if _, err := propagate.Destinations(ctx, js, opt); err == nil {
			t.Errorf("Destinations(%q) succeeded", bad)
		}
		if _, err := propagate.ListParked(ctx, js, "crm", opt); err == nil {
			t.Errorf("ListParked(%q) succeeded", bad)
		}
		if _, err := propagate.Redrive(ctx, js, "crm", opt); err == nil {
			t.Errorf("Redrive(%q) succeeded", bad)
		}
	}
	l := js.StreamNames(ctx)
	for name := range l.Name() {
		t.Errorf("stream %s was created", name)
	}
	for _, good := range []string{"staging", "shop-2", "eu_west", "0", strings.Repeat("x", 32)} {
		n, err := propagate.NamesOf(good)
		if err != nil || n.Stream != "FORGET-"+good || n.ParkedStream != "FORGET_PARKED-"+good || n.Bucket != "forget_delivery-"+good || n.Subject("offerit") != good+".forget.erased.offerit" {
			t.Errorf("NamesOf(%q) = %+v, %v", good, n, err)
		}
	}
	if n, err := propagate.NamesOf(""); err != nil || n.Stream != propagate.StreamName || n.ParkedStream != propagate.ParkedStreamName ||
		n.Bucket != propagate.StatusBucket || n.Subject("offerit") != propagate.Subject("offerit") || propagate.Subject("offerit") != "forget.erased.offerit" {
		t.Errorf("NamesOf(\"\") = %+v, %v", n, err)
	}
}

// streamSubjects returns the subject of each message of a stream.
func streamSubjects(t testing.TB, js jetstream.JetStream, stream string) []string {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m.Subject)
	}
	return out
}

func allEqual(ss []string, want string) bool {
	for _, s := range ss {
		if s != want {
			return false
		}
	}
	return true
}
