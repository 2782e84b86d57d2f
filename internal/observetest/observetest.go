// Package observetest is the scenario every observer adapter is tested
// on: customers holding planted values, and one forget of every kind.
// An adapter's test records Run with its observer and checks what it
// collected, and that no planted value is in it.
package observetest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/memseed"
	"github.com/forgetkit/forget/store/memstore"
	"github.com/forgetkit/forget/store/storetest"
)

// Planted are the values and ids of Store and Run: no metric may ever
// show one.
var Planted = []string{"Zebulon", "zq-user-7731", "zq-phone-5550199", "zq-note-secret", "777001", "777002", "zq-principal", "zq-request", "88811"}

// Store returns customers 777001 (under the hold "chargeback") and
// 777002, with planted values and a member_note row each.
func Store(tb testing.TB) *memstore.Store {
	tb.Helper()
	var cs []storetest.Customer
	for i, id := range []string{"777001", "777002"} {
		cs = append(cs, storetest.Customer{ID: id, Subscriptions: []string{[]string{"88811", "88812"}[i]},
			Fields: map[forget.Field]string{forget.Username: "zq-user-7731" + id, forget.Firstname: "Zebulon", forget.Phone: "zq-phone-5550199"}})
	}
	st := memseed.New(tb, cs, memstore.WithHold("chargeback", func(id string) bool { return id == "777001" }))
	for _, id := range []string{"777001", "777002"} {
		// A planted value in a row too: rows are counted, never shown.
		if err := st.AddRow(forget.MemberNote, id, memstore.Row{"note": "zq-note-secret"}); err != nil {
			tb.Fatal(err)
		}
	}
	return st
}

// brokenStore fails every forget as a store that retried a deadlock
// three times, quoting a planted value as a driver may.
type brokenStore struct{ forget.Store }

func (brokenStore) Forget(context.Context, forget.Lookup, forget.Plan) (forget.Result, error) {
	return forget.Result{Attempts: 3}, errors.New("deadlock on zq-user-7731")
}

// Observe reports the scenario to obs: Run on Store with a hook "crm"
// that fails, then two forgets on a store that fails after three
// attempts, the first with its context cancelled. An adapter then holds
// one forget of each outcome and code, with the code canceled and
// internal among the failures, 22 fields erased, one member_note row
// deleted, four retries and one hook failure.
func Observe(tb testing.TB, obs forget.Observer) {
	tb.Helper()
	st := Store(tb)
	Run(newForgetter(tb, st, forget.WithObserver(obs),
		forget.WithHook("crm", func(context.Context, forget.Receipt) error { return errors.New("zq-user-7731 down") })))
	broken := newForgetter(tb, brokenStore{st}, forget.WithObserver(obs))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	broken.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "777002"}})
	broken.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "777002"}})
}

// ObserveConcurrently runs Run on one Forgetter of Store from n
// goroutines at once, reporting to obs (run it with -race): an adapter
// then holds n of each refusal, dry run and forget.
func ObserveConcurrently(tb testing.TB, obs forget.Observer, n int) {
	tb.Helper()
	f := newForgetter(tb, Store(tb), forget.WithObserver(obs))
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { Run(f) })
	}
	wg.Wait()
}

func newForgetter(tb testing.TB, s forget.Store, opts ...forget.Option) *forget.Forgetter {
	tb.Helper()
	f, err := forget.New(s, append([]forget.Option{forget.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// Run does one forget of every kind on a Forgetter of Store: a dry run,
// a forget, then refusals held, not found, conflict and invalid.
func Run(f *forget.Forgetter) {
	ctx := context.Background()
	for _, req := range []forget.Request{
		{Lookup: forget.Lookup{CustomerID: "777002"}, DryRun: true},
		{Lookup: forget.Lookup{CustomerID: "777002"}, Keep: []string{"firstname"}, Principal: "zq-principal", RequestID: "zq-request"},
		{Lookup: forget.Lookup{CustomerID: "777001"}},                                   // held
		{Lookup: forget.Lookup{CustomerID: "777003"}},                                   // not found
		{Lookup: forget.Lookup{CustomerID: "777002", SubscriptionID: "88811"}},          // conflict
		{Lookup: forget.Lookup{CustomerID: "777002"}, Keep: []string{"zq-note-secret"}}, // invalid
	} {
		f.Forget(ctx, req)
	}
}
