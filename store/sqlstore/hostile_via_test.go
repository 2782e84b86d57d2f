package sqlstore_test

import (
	"context"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestHostileViaChainThroughSharedRow: phone_notes hangs (via) under
// phones, and phone 602 is shared by customers 1 and 2 (kept). Forgetting
// customer 1 must delete the note of her own phone 601 and leave the note
// of 602, which customer 2 still reaches; without "shared" Verify must
// refuse the mapping.
func TestHostileViaChainThroughSharedRow(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			for _, shared := range []string{"", sqlstore.SharedKeep} {
				shop := newViaShop(t, e, viaShopOpts{})
				k := map[sqlstore.Dialect]string{sqlstore.SQLite: "INTEGER", sqlstore.Postgres: "uuid", sqlstore.MySQL: "UUID"}[e.dialect]
				execAll(t, shop.db,
					"CREATE TABLE phone_notes (id "+k+" PRIMARY KEY, phone_id "+k+" NOT NULL, body VARCHAR(100) NOT NULL, FOREIGN KEY (phone_id) REFERENCES phones (id))",
					"CREATE INDEX phone_notes_phone ON phone_notes (phone_id)",
					"INSERT INTO phone_notes (id, phone_id, body) VALUES ("+shop.lit(901)+", "+shop.lit(601)+", 'ann only'), ("+shop.lit(902)+", "+shop.lit(602)+", 'shared with bob')")
				shop.extra = []forget.Table{"phone_notes"}
				schema := viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep})
				schema.Tables["phone_notes"] = sqlstore.RelatedTable{Table: "phone_notes", Via: &sqlstore.Via{Column: "phone_id", From: "phones.id"}, Shared: shared}
				f, err := shop.forgetter(t, schema)
				if shared == "" {
					if err == nil {
						t.Error("Verify accepted a via under a shared via without shared")
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(1)}}); err != nil {
					t.Fatalf("forget 1: %v", err)
				}
				var ids []string
				rows, err := shop.db.Query("SELECT id FROM phone_notes")
				if err != nil {
					t.Fatal(err)
				}
				_, vals := scanAll(t, rows)
				for _, r := range vals {
					ids = append(ids, r[0].String)
				}
				if len(ids) != 1 || ids[0] != shop.key(902) {
					t.Errorf("phone_notes left %v, want only %s (customer 2's shared phone)", ids, shop.key(902))
				}
			}
		})
	}
}
