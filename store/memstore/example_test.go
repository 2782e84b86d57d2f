package memstore_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

// Seed a store for a host's tests, forget a customer, and read it back.
func ExampleStore() {
	store := memstore.New(memstore.WithAudit())
	if err := store.Add(memstore.Customer{
		ID:            "42",
		Fields:        map[forget.Field]string{forget.Username: "jdoe", forget.City: "Cork"},
		Subscriptions: []string{"4201"},
	}); err != nil {
		log.Fatal(err)
	}
	store.AddRow(forget.MemberAuth, "42", memstore.Row{"kind": "totp"})

	f, err := forget.New(store, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{SubscriptionID: "4201"}}); err != nil {
		log.Fatal(err)
	}
	c, _ := store.Customer("42")
	trail, _ := store.AuditTrail(context.Background(), time.Time{})
	fmt.Printf("city %q, auth rows %d, audit records %d\n", c.Fields[forget.City], len(store.Rows(forget.MemberAuth, "42")), len(trail))
	// Output:
	// city "", auth rows 0, audit records 1
}

// A store made WithAudit is an outbox: each forget's event waits in its
// audit trail until a relay marks it published.
func ExampleStore_ClaimEvents() {
	ctx := context.Background()
	store := memstore.New(memstore.WithAudit())
	store.Add(memstore.Customer{ID: "42", Fields: map[forget.Field]string{forget.Username: "jdoe"}})
	f, _ := forget.New(store, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "42"}}); err != nil {
		log.Fatal(err)
	}
	claim, err := store.ClaimEvents(ctx, 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("claimed", len(claim.Events()), "event of customer", claim.Events()[0].CustomerID)
	if err := claim.MarkPublished(ctx, []string{claim.Events()[0].EventID}, time.Now()); err != nil {
		log.Fatal(err)
	}
	again, _ := store.ClaimEvents(ctx, 10)
	fmt.Println("claimed after publishing:", len(again.Events()))
	// Output:
	// claimed 1 event of customer 42
	// claimed after publishing: 0
}

// A store made WithActivity and WithAudit finds inactive customers, so a
// Forgetter on it can sweep them.
func ExampleWithActivity() {
	const lastLogin forget.Field = "last_login"
	store := memstore.New(memstore.WithAudit(), memstore.WithActivity(lastLogin))
	store.Add(memstore.Customer{ID: "1", Fields: map[forget.Field]string{forget.Username: "old", lastLogin: "2020-01-02T10:00:00Z"}})
	store.Add(memstore.Customer{ID: "2", Fields: map[forget.Field]string{forget.Username: "recent", lastLogin: "2026-01-02T10:00:00Z"}})
	store.Add(memstore.Customer{ID: "3", Fields: map[forget.Field]string{forget.Username: "never"}})

	f, _ := forget.New(store, forget.WithLogger(slog.New(slog.DiscardHandler)))
	rep, err := f.Sweep(context.Background(), forget.SweepOptions{InactiveSince: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		log.Fatal(err)
	}
	c, _ := store.Customer("1")
	fmt.Printf("tried %d, forgotten %d, customer 1 still \"old\": %v\n", rep.Tried, rep.Forgotten, c.Fields[forget.Username] == "old")
	// Output:
	// tried 1, forgotten 1, customer 1 still "old": false
}
