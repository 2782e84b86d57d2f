package memstore_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/memseed"
	"github.com/forgetkit/forget/internal/outboxtest"
	"github.com/forgetkit/forget/store/memstore"
)

func outboxStore(t testing.TB, n int, opts ...memstore.Option) (*memstore.Store, forget.Outbox, *forget.Forgetter) {
	t.Helper()
	s := memseed.New(t, memseed.Users(101, 100+n), append([]memstore.Option{memstore.WithAudit()}, opts...)...)
	f, err := forget.New(s, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return s, s, f
}

// TestOutboxEvents: single forgets, batches and replays are events, dry
// runs, failures and refusals are not; a customer's second event waits
// for the first; marks stick, releases and failed marks leave events.
func TestOutboxEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, o, f := outboxStore(t, 3, memstore.WithHold("chargeback", func(id string) bool { return id == "103" }))
	first := outboxtest.Forget(t, f, "101")
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "102"}, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "103"}}); !errors.Is(err, forget.ErrHeld) {
		t.Fatalf("held customer: %v", err)
	}
	out := f.ForgetBatch(ctx, []forget.Request{{Lookup: forget.Lookup{CustomerID: "102"}}, {Lookup: forget.Lookup{CustomerID: "999"}}})
	if out[0].Err != nil || out[1].Err == nil {
		t.Fatalf("batch: %v, %v", out[0].Err, out[1].Err)
	}
	replay := f.Replay(ctx, []forget.Receipt{*first})
	if replay[0].Err != nil {
		t.Fatal(replay[0].Err)
	}

	c, err := o.ClaimEvents(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := outboxtest.EventIDs(c.Events()), []string{first.EventID, out[0].Receipt.EventID}; !slices.Equal(got, want) {
		t.Fatalf("claim = %v, want %v", got, want)
	}
	c.Events()[0].FieldsErased[0] = "tampered"
	if again, _ := o.ClaimEvents(ctx, 10); len(again.Events()) != 0 {
		t.Fatalf("a second claim took %v while the first holds them", outboxtest.EventIDs(again.Events()))
	}
	if err := c.MarkPublished(ctx, []string{"foreign"}, time.Now()); !errors.Is(err, forget.ErrInvalid) {
		t.Fatalf("foreign id: %v", err)
	}
	c, _ = o.ClaimEvents(ctx, 10)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.MarkPublished(cancelled, outboxtest.EventIDs(c.Events()), time.Now()); err == nil {
		t.Fatal("MarkPublished with a cancelled context succeeded")
	}
	c, _ = o.ClaimEvents(ctx, 10)
	at := time.Unix(1700000000, 0)
	if err := c.MarkPublished(ctx, []string{first.EventID}, at); err != nil {
		t.Fatal(err)
	}
	if err := c.MarkPublished(ctx, []string{first.EventID}, at); err == nil {
		t.Fatal("MarkPublished twice succeeded")
	}
	c, _ = o.ClaimEvents(ctx, 10)
	if got, want := outboxtest.EventIDs(c.Events()), []string{out[0].Receipt.EventID, replay[0].Receipt.EventID}; !slices.Equal(got, want) {
		t.Fatalf("claim after marking 101's first = %v, want %v", got, want)
	}
	c.Release()
	evs, err := o.CustomerEvents(ctx, "101")
	if err != nil || len(evs) != 2 || !evs[0].PublishedAt.Equal(at) || !evs[1].PublishedAt.IsZero() || evs[0].FieldsErased[0] == "tampered" {
		t.Fatalf("CustomerEvents(101) = %+v, %v", evs, err)
	}
	if evs, err := o.CustomerEvents(ctx, "103"); err != nil || len(evs) != 0 {
		t.Fatalf("a refusal is not an event: %+v, %v", evs, err)
	}
	for _, limit := range []int{0, -5, 10001} {
		if _, err := o.ClaimEvents(ctx, limit); !errors.Is(err, forget.ErrInvalid) {
			t.Errorf("ClaimEvents(%d) = %v", limit, err)
		}
	}
	if _, err := o.CustomerEvents(ctx, ""); !errors.Is(err, forget.ErrInvalid) {
		t.Errorf("CustomerEvents(\"\") = %v", err)
	}
	if _, err := o.ClaimEvents(cancelled, 1); err == nil {
		t.Error("ClaimEvents with a cancelled context succeeded")
	}
	if _, err := memstore.New().ClaimEvents(ctx, 1); err == nil {
		t.Error("ClaimEvents on a store without audit trail succeeded")
	}
	if _, err := memstore.New().CustomerEvents(ctx, "101"); err == nil {
		t.Error("CustomerEvents on a store without audit trail succeeded")
	}
}

// TestOutboxConcurrent: relays and forgets at once, under -race; every
// event is marked once, in each customer's order.
func TestOutboxConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, o, f := outboxStore(t, 5)
	var mu sync.Mutex
	var marked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := o.ClaimEvents(ctx, 2)
				if err != nil {
					t.Error(err)
					return
				}
				if len(c.Events()) == 0 {
					select {
					case <-stop:
						return
					default:
						time.Sleep(time.Millisecond)
						continue
					}
				}
				mu.Lock()
				if err := c.MarkPublished(ctx, outboxtest.EventIDs(c.Events()), time.Now()); err != nil {
					t.Error(err)
				}
				marked = append(marked, outboxtest.EventIDs(c.Events())...)
				mu.Unlock()
			}
		}()
	}
	var committed []*forget.Receipt
	for range 20 {
		for i := range 5 {
			committed = append(committed, outboxtest.Forget(t, f, strconv.Itoa(101+i)))
		}
	}
	// Let the relays drain before they stop.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(marked)
		mu.Unlock()
		if n >= len(committed) {
			break
		}
	}
	close(stop)
	wg.Wait()
	outboxtest.CheckMarked(t, marked, committed, false)
}
