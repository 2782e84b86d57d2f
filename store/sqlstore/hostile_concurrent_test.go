package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestConcurrentForgetsDeleteSharedAddress forgets customers 3 and 4,
// who share address 103 (shared "keep"), at the same time, several
// rounds. Each forget keeps the address while the other customer still
// points at it; when both ran at once each may see the other's committed
// pointer and keep it, so "3 Shared St" outlives both its owners, held by
// nobody: personal data of two forgotten customers left behind. Run one
// after the other, the second forget deletes it.
func TestConcurrentForgetsDeleteSharedAddress(t *testing.T) {
	t.Parallel()
	raceSharedRow(t, [2]int{3, 4}, func(shop *viaShop) string {
		var holders int
		if err := shop.db.QueryRow("SELECT COUNT(*) FROM customers WHERE home_address_id = " + shop.lit(103)).Scan(&holders); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("address 103 of forgotten customers 3 and 4 survives (held by %d customers)", holders)
	}, "SELECT COUNT(*) FROM addresses WHERE id = %s", 103)
}

// TestConcurrentForgetsDeleteSharedNewsletter: the same race by value.
// Customers 1 (' Ann@Example.com') and 2 ('ann@example.com') share
// newsletter row 701 under lower_trim (shared keep). Forgotten at once,
// each may keep the row for the other, and it outlives both.
func TestConcurrentForgetsDeleteSharedNewsletter(t *testing.T) {
	t.Parallel()
	raceSharedRow(t, [2]int{1, 2}, func(*viaShop) string {
		return "newsletter row ann@example.com of forgotten customers 1 and 2 survives"
	}, "SELECT COUNT(*) FROM newsletter WHERE id = %s", 701)
}

// raceSharedRow forgets the two customers at once, 20 rounds on every
// engine, and fails, saying why, when row (counted by query) survives.
func raceSharedRow(t *testing.T, customers [2]int, why func(*viaShop) string, query string, row int) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			for round := 0; round < 20; round++ {
				shop := newViaShop(t, e, viaShopOpts{})
				f, err := shop.forgetter(t, viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep}))
				if err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				start := make(chan struct{})
				errs := make([]error, 2)
				for i, n := range customers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						_, errs[i] = f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(n)}})
					}()
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("round %d: forget %d: %v", round, customers[i], err)
					}
				}
				var n int
				if err := shop.db.QueryRow(fmt.Sprintf(query, shop.lit(row))).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Fatalf("round %d: %s", round, why(shop))
				}
			}
		})
	}
}
