// The conformance cases of a store that is a forget.Outbox: which
// forgets are events, claims that exclude one another, published events
// never claimed again, each customer's events in commit order, and the
// bounds.

package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/forgetkit/forget"
)

func testOutbox(t *testing.T, s *suite) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *suite, Backend, forget.Outbox, *forget.Forgetter)
	}{
		{"EventPerCommittedForget", testOutboxEvents},
		{"Empty", testOutboxEmpty},
		{"ClaimsExclude", testOutboxClaimsExclude},
		{"PublishedNotClaimedAgain", testOutboxPublished},
		{"CustomerOrder", testOutboxCustomerOrder},
		{"Bounds", testOutboxBounds},
		{"Backlog", testOutboxBacklog},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, f, _ := s.setup(t)
			o, ok := b.(forget.Outbox)
			if !ok {
				t.Skip("the store is no forget.Outbox")
			}
			c.fn(t, s, b, o, f)
		})
	}
}

// forgetID forgets customer id with f, or fails the test.
func (s *suite) forgetID(t *testing.T, f *forget.Forgetter, id string) *forget.Receipt {
	t.Helper()
	rc, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: id}})
	if err != nil {
		t.Fatalf("Forget(%s): %v", id, err)
	}
	return rc
}

// claim claims up to limit events, or fails the test.
func (s *suite) claim(t *testing.T, o forget.Outbox, limit int) forget.EventClaim {
	t.Helper()
	c, err := o.ClaimEvents(s.ctx, limit)
	if err != nil {
		t.Fatalf("ClaimEvents(%d): %v", limit, err)
	}
	if c == nil {
		t.Fatalf("ClaimEvents(%d) returned no claim", limit)
	}
	return c
}

// eventIDs returns the claim's event ids, in order.
func eventIDs(c forget.EventClaim) []string {
	var ids []string
	for _, ev := range c.Events() {
		ids = append(ids, ev.EventID)
	}
	return ids
}

func ids(rcs ...*forget.Receipt) []string {
	var out []string
	for _, rc := range rcs {
		out = append(out, rc.EventID)
	}
	return out
}

// testOutboxEvents: a committed forget is an event carrying its receipt;
// a dry run, a refusal by a hold and a failed forget are not.
func testOutboxEvents(t *testing.T, s *suite, b Backend, o forget.Outbox, f *forget.Forgetter) {
	rc := s.forgetID(t, f, s.id(101))
	if rc.EventID == "" {
		t.Fatal("a committed forget's receipt has no event id")
	}
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(102)}, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(999)}}); !errors.Is(err, forget.ErrNotFound) {
		t.Fatalf("Forget(999) = %v, want not found", err)
	}
	if hb, ok := b.(HoldBackend); ok {
		must(t, hb.PlaceHold(s.ctx, s.id(103)))
		if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(103)}}); !errors.Is(err, forget.ErrHeld) {
			t.Fatalf("Forget(held 103) = %v, want held", err)
		}
	}
	c := s.claim(t, o, 10)
	defer c.Release()
	if got := eventIDs(c); !slices.Equal(got, ids(rc)) {
		t.Fatalf("claimed %v, want only the committed forget's event %v", got, ids(rc))
	}
	ev := c.Events()[0]
	if ev.CustomerID != s.id(101) || !slices.Equal(ev.FieldsErased, rc.FieldsErased) || len(ev.RowsDeleted) != len(rc.RowsDeleted) || !ev.PublishedAt.IsZero() {
		t.Errorf("event = customer %s, %d fields erased, %d tables, published %v; want the receipt's (customer %s, %d, %d), unpublished",
			ev.CustomerID, len(ev.FieldsErased), len(ev.RowsDeleted), ev.PublishedAt, rc.CustomerID, len(rc.FieldsErased), len(rc.RowsDeleted))
	}
	for _, n := range []int{102, 103, 999} {
		evs, err := o.CustomerEvents(s.ctx, s.id(n))
		if err != nil || len(evs) != 0 {
			t.Errorf("CustomerEvents(%d) = %d events, %v; want none (dry run, refusal, never forgotten)", n, len(evs), err)
		}
	}
	evs, err := o.CustomerEvents(s.ctx, s.id(101))
	if err != nil || len(evs) != 1 || evs[0].EventID != rc.EventID || !evs[0].PublishedAt.IsZero() {
		t.Errorf("CustomerEvents(101) = %d events, %v; want its one unpublished event", len(evs), err)
	}
}

// testOutboxEmpty: nothing to publish is a claim of no events.
func testOutboxEmpty(t *testing.T, s *suite, _ Backend, o forget.Outbox, _ *forget.Forgetter) {
	c := s.claim(t, o, 10)
	if len(c.Events()) != 0 {
		t.Errorf("an empty outbox claimed %d events", len(c.Events()))
	}
	c.Release()
	c.Release()
}

// testOutboxClaimsExclude: events another open claim holds are skipped,
// oldest first; a released claim's events are claimed again.
func testOutboxClaimsExclude(t *testing.T, s *suite, b Backend, o forget.Outbox, f *forget.Forgetter) {
	r1, r2, r3 := s.forgetID(t, f, s.id(101)), s.forgetID(t, f, s.id(102)), s.forgetID(t, f, s.id(103))
	first := s.claim(t, o, 2)
	if got := eventIDs(first); !slices.Equal(got, ids(r1, r2)) {
		first.Release()
		t.Fatalf("ClaimEvents(2) = %v, want the two oldest %v", got, ids(r1, r2))
	}
	if co, ok := b.(ClaimOverlapper); ok && co.ClaimsOverlap() {
		t.Log("the backend's claims lock nothing: exclusion between open claims not checked")
	} else {
		second := s.claim(t, o, 10)
		got := eventIDs(second)
		second.Release()
		if !slices.Equal(got, ids(r3)) {
			first.Release()
			t.Fatalf("a second claim while the first is open = %v, want only %v", got, ids(r3))
		}
	}
	first.Release()
	again := s.claim(t, o, 10)
	defer again.Release()
	if got := eventIDs(again); !slices.Equal(got, ids(r1, r2, r3)) {
		t.Fatalf("after releasing, ClaimEvents = %v, want every event again %v", got, ids(r1, r2, r3))
	}
}

// testOutboxPublished: marked events are published, at the given time,
// and never claimed again; unmarked ones of the claim stay; a foreign id
// is refused and marks nothing.
func testOutboxPublished(t *testing.T, s *suite, _ Backend, o forget.Outbox, f *forget.Forgetter) {
	r1, r2 := s.forgetID(t, f, s.id(101)), s.forgetID(t, f, s.id(102))
	c := s.claim(t, o, 10)
	if err := c.MarkPublished(s.ctx, []string{r1.EventID, "notaneventofthisclaim"}, time.Now()); !errors.Is(err, forget.ErrInvalid) {
		t.Fatalf("MarkPublished(a foreign id) = %v, want ErrInvalid", err)
	}
	c.Release()
	c = s.claim(t, o, 10)
	if got := eventIDs(c); !slices.Equal(got, ids(r1, r2)) {
		c.Release()
		t.Fatalf("after a refused mark, ClaimEvents = %v, want %v unmarked", got, ids(r1, r2))
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := c.MarkPublished(s.ctx, ids(r1), at); err != nil {
		t.Fatalf("MarkPublished: %v", err)
	}
	c.Release() // harmless after MarkPublished
	c = s.claim(t, o, 10)
	got := eventIDs(c)
	c.Release()
	if !slices.Equal(got, ids(r2)) {
		t.Fatalf("after marking 101's event, ClaimEvents = %v, want only %v", got, ids(r2))
	}
	evs, err := o.CustomerEvents(s.ctx, s.id(101))
	if err != nil || len(evs) != 1 || !evs[0].PublishedAt.Equal(at) {
		t.Errorf("CustomerEvents(101) = %+v, %v; want its event published at %v", evs, err, at)
	}
	evs, err = o.CustomerEvents(s.ctx, s.id(102))
	if err != nil || len(evs) != 1 || !evs[0].PublishedAt.IsZero() {
		t.Errorf("CustomerEvents(102) = %+v, %v; want its event unpublished", evs, err)
	}
}

// testOutboxCustomerOrder: a customer's later event waits until the
// earlier one is published, so one customer's events go out in commit
// order.
func testOutboxCustomerOrder(t *testing.T, s *suite, _ Backend, o forget.Outbox, f *forget.Forgetter) {
	a1, b1 := s.forgetID(t, f, s.id(101)), s.forgetID(t, f, s.id(102))
	// 101's second forget is a repeat: asked to propagate, it is an event.
	a2, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101)}, Repropagate: true})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, want := range [][]string{ids(a1, b1), ids(a2), nil} {
		c := s.claim(t, o, 10)
		got := eventIDs(c)
		if !slices.Equal(got, want) {
			c.Release()
			t.Fatalf("ClaimEvents = %v, want %v (101's second event waits for its first)", got, want)
		}
		if err := c.MarkPublished(s.ctx, got, at); err != nil {
			t.Fatalf("MarkPublished: %v", err)
		}
	}
	evs, err := o.CustomerEvents(s.ctx, s.id(101))
	if err != nil || len(evs) != 2 || evs[0].EventID != a1.EventID || evs[1].EventID != a2.EventID {
		t.Fatalf("CustomerEvents(101) = %d events, %v; want both, oldest first", len(evs), err)
	}
	for _, ev := range evs {
		if !ev.PublishedAt.Equal(at) {
			t.Errorf("event %s published at %v, want %v", ev.EventID, ev.PublishedAt, at)
		}
	}
}

// testOutboxBounds: a claim's limit out of range and a customer events
// call without a customer are invalid.
func testOutboxBounds(t *testing.T, s *suite, _ Backend, o forget.Outbox, _ *forget.Forgetter) {
	for _, limit := range []int{0, -1} {
		c, err := o.ClaimEvents(s.ctx, limit)
		if !errors.Is(err, forget.ErrInvalid) {
			t.Errorf("ClaimEvents(%d) = %v, want ErrInvalid", limit, err)
		}
		if c != nil {
			c.Release()
		}
	}
	if _, err := o.CustomerEvents(s.ctx, ""); !errors.Is(err, forget.ErrInvalid) {
		t.Errorf("CustomerEvents(\"\") = %v, want ErrInvalid", err)
	}
}

// testOutboxBacklog: a store that is a forget.OutboxStats counts the
// unpublished events, claimed or not, and dates the oldest; an empty
// backlog has no oldest.
func testOutboxBacklog(t *testing.T, s *suite, _ Backend, o forget.Outbox, f *forget.Forgetter) {
	st, ok := o.(forget.OutboxStats)
	if !ok {
		t.Skip("the outbox is no forget.OutboxStats")
	}
	backlog := func() forget.Backlog {
		t.Helper()
		b, err := st.Backlog(s.ctx)
		if err != nil {
			t.Fatalf("Backlog: %v", err)
		}
		return b
	}
	if b := backlog(); b.Pending != 0 || !b.Oldest.IsZero() {
		t.Errorf("an empty outbox's backlog = %+v, want none", b)
	}
	// 101 twice: the second a repeat, whose event is asked for.
	r1, r2 := s.forgetID(t, f, s.id(101)), s.forgetID(t, f, s.id(102))
	r3 := s.forgetReq(t, f, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101)}, Repropagate: true})
	if b := backlog(); b.Pending != 3 || !b.Oldest.Equal(r1.At) {
		t.Errorf("backlog = %+v, want 3 events, the oldest at %v", b, r1.At)
	}
	c := s.claim(t, o, 10)
	if b := backlog(); b.Pending != 3 {
		t.Errorf("while claimed, backlog = %+v, want 3 events still", b)
	}
	if err := c.MarkPublished(s.ctx, ids(r1), time.Now()); err != nil {
		t.Fatalf("MarkPublished: %v", err)
	}
	if b := backlog(); b.Pending != 2 || !b.Oldest.Equal(r2.At) {
		t.Errorf("after publishing the oldest, backlog = %+v, want 2 events, the oldest at %v", b, r2.At)
	}
	c = s.claim(t, o, 10) // 102's and, 101's first published, its second
	if got := eventIDs(c); !slices.Equal(got, ids(r2, r3)) {
		c.Release()
		t.Fatalf("ClaimEvents = %v, want %v", got, ids(r2, r3))
	}
	if err := c.MarkPublished(s.ctx, eventIDs(c), time.Now()); err != nil {
		t.Fatalf("MarkPublished: %v", err)
	}
	if b := backlog(); b.Pending != 0 || !b.Oldest.IsZero() {
		t.Errorf("with everything published, backlog = %+v, want none", b)
	}
}
