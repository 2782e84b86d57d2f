package sqlstore_test

import (
	"context"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestHostileBatchSharedAddress: one batch forgets customers 3 and 4, who
// share address 103 (shared keep). As a dry run it changes nothing; for
// real it leaves the address to nobody (deleted), both detached.
func TestHostileBatchSharedAddress(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			shop := newViaShop(t, e, viaShopOpts{})
			f, err := shop.forgetter(t, viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep}))
			if err != nil {
				t.Fatal(err)
			}
			before := shop.dump(t)
			reqs := func(dry bool) []forget.Request {
				return []forget.Request{{Lookup: forget.Lookup{CustomerID: shop.key(3)}, DryRun: dry}, {Lookup: forget.Lookup{CustomerID: shop.key(4)}, DryRun: dry}}
			}
			var dryDeleted int64
			for i, o := range f.ForgetBatch(ctx, reqs(true)) {
				if o.Err != nil {
					t.Fatalf("dry batch item %d: %v", i, o.Err)
				}
				dryDeleted += o.Receipt.RowsDeleted["addresses"]
			}
			sameDump(t, "after a dry batch", shop.dump(t), before)
			var deleted int64
			for i, o := range f.ForgetBatch(ctx, reqs(false)) {
				if o.Err != nil {
					t.Fatalf("batch item %d: %v", i, o.Err)
				}
				deleted += o.Receipt.RowsDeleted["addresses"]
			}
			var n int
			if err := shop.db.QueryRow("SELECT COUNT(*) FROM addresses WHERE id = " + shop.lit(103)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 || deleted != 1 {
				t.Errorf("after the batch address 103 rows %d, deleted %d; want gone, deleted once", n, deleted)
			}
			if dryDeleted != deleted {
				t.Errorf("dry batch counted %d address deletes, the batch %d", dryDeleted, deleted)
			}
		})
	}
}

// TestHostileBatchCancelled: a batch of via customers under a context
// cancelled before it starts, and one cancelled while it runs, changes
// nothing for the items that report an error, and every item reports.
func TestHostileBatchCancelled(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			shop := newViaShop(t, e, viaShopOpts{})
			f, err := shop.forgetter(t, viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep}))
			if err != nil {
				t.Fatal(err)
			}
			before := shop.dump(t)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var reqs []forget.Request
			for _, n := range []int{1, 2, 3, 4} {
				reqs = append(reqs, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(n)}})
			}
			out := f.ForgetBatch(ctx, reqs)
			if len(out) != len(reqs) {
				t.Fatalf("%d outcomes for %d requests", len(out), len(reqs))
			}
			for i, o := range out {
				if o.Err == nil {
					t.Errorf("item %d succeeded under a cancelled context", i)
				}
			}
			sameDump(t, "after a cancelled batch", shop.dump(t), before)
		})
	}
}
