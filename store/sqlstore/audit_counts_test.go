package sqlstore_test

import (
	"context"
	"maps"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestAuditKeepsSharedRows: the rows a forget left shared with another
// customer are in its audit record and its erasure event as in its
// receipt (version 4's rows_shared), not only in what the caller got.
func TestAuditKeepsSharedRows(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			shop := newViaShop(t, e, viaShopOpts{})
			for _, st := range sqlstore.AuditDDL(e.dialect, sqlstore.DefaultAuditTable) {
				if _, err := shop.db.ExecContext(ctx, st); err != nil {
					t.Fatal(err)
				}
			}
			f, err := shop.forgetter(t, viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep}), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
			if err != nil {
				t.Fatal(err)
			}
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(1)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(rc.RowsShared) == 0 {
				t.Fatalf("the receipt has no shared rows: %+v", rc)
			}
			st, err := sqlstore.New(shop.db, e.dialect, sqlstore.WithSchema(viaShopSchema(nil)), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
			if err != nil {
				t.Fatal(err)
			}
			trail, err := st.AuditTrail(ctx, rc.At.Add(-1))
			if err != nil || len(trail) != 1 {
				t.Fatalf("audit trail %d records, %v", len(trail), err)
			}
			if !maps.Equal(trail[0].RowsShared, rc.RowsShared) || len(trail[0].Redactions) != 0 {
				t.Errorf("audit record shared %v redactions %v; receipt shared %v", trail[0].RowsShared, trail[0].Redactions, rc.RowsShared)
			}
			evs, err := st.CustomerEvents(ctx, rc.CustomerID)
			if err != nil || len(evs) != 1 {
				t.Fatalf("events %d, %v", len(evs), err)
			}
			if !maps.Equal(evs[0].RowsShared, rc.RowsShared) {
				t.Errorf("event shared %v; receipt shared %v", evs[0].RowsShared, rc.RowsShared)
			}
		})
	}
}
