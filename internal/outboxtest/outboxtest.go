// Package outboxtest holds what the outbox tests of every store share:
// forgetting a customer by id and reading a claim's event ids.
package outboxtest

import (
	"context"
	"testing"

	"github.com/forgetkit/forget"
)

// Forget forgets customer id with f, or fails the test.
func Forget(tb testing.TB, f *forget.Forgetter, id string) *forget.Receipt {
	tb.Helper()
	rc, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: id}})
	if err != nil {
		tb.Fatalf("forget %s: %v", id, err)
	}
	return rc
}

// EventIDs returns the events' ids, in order.
func EventIDs(evs []forget.Event) []string {
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.EventID
	}
	return ids
}
