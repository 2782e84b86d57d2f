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
