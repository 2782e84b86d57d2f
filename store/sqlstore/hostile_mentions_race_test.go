package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/forgetkit/forget"
)

// TestHostileMentionsConcurrentLostUpdate: tickets name both customer 1
// (Alice Liddell) and customer 2 (Robert Builder). Both are forgotten at
// once. Each forget reads a ticket's body, redacts its own customer in Go
// and writes the body back by primary key; unless the rows are locked
// when read, the second write puts back the name the first removed.
func TestHostileMentionsConcurrentLostUpdate(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			for round := 0; round < 10; round++ {
				db, _ := e.open(t)
				seedRules(t, ctx, db, e)
				execAll(t, db, "UPDATE people SET firstname = 'Robert' WHERE id = 2")
				for i := 10; i < 40; i++ {
					execAll(t, db, fmt.Sprintf("INSERT INTO tickets VALUES (%d, 'Alice Liddell met Robert Builder, ticket %d')", i, i))
				}
				f := rulesForgetter(t, db, e)
				var wg sync.WaitGroup
				errs := make([]error, 2)
				start := make(chan struct{})
				for i, id := range []string{"1", "2"} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						_, errs[i] = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: id}})
					}()
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("round %d: forget %d: %v", round, i+1, err)
					}
				}
				for _, r := range dumpRows(t, ctx, db, "SELECT id, body FROM tickets WHERE id >= 10") {
					if strings.Contains(r[1].String, "Alice") || strings.Contains(r[1].String, "Liddell") || strings.Contains(r[1].String, "Robert") || strings.Contains(r[1].String, "Builder") {
						t.Fatalf("round %d: ticket %s is %q after both forgets", round, r[0].String, r[1].String)
					}
				}
			}
		})
	}
}
