package main

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestShopForgetGoHost: a Go host loads docs/examples/shop.json as the
// docs tell it (sqlstore.LoadSchema, Schema.Catalogue, forget.New),
// forgets the customer, and leaves the database as the command does: the
// same receipt, none of the customer's values in the dump, the rest as it
// was.
func TestShopForgetGoHost(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := openShop(t, e)
			before := s.dump(t)

			file, err := os.Open(shopMapping)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			schema, err := sqlstore.LoadSchema(file)
			if err != nil {
				t.Fatalf("LoadSchema: %v", err)
			}
			cat, err := schema.Catalogue(forget.DefaultCatalogue())
			if err != nil {
				t.Fatalf("Catalogue: %v", err)
			}
			store, err := sqlstore.New(s.db, e.Dialect, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
			if err != nil {
				t.Fatalf("sqlstore.New: %v", err)
			}
			f, err := forget.New(store, forget.WithCatalogue(cat))
			if err != nil {
				t.Fatalf("forget.New: %v", err)
			}
			if err := f.Verify(ctx); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			id := s.idText(userID(shopForgotten))
			receipt, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: id}, Principal: "shop-host"})
			if err != nil {
				t.Fatalf("Forget: %v", err)
			}
			s.refresh(t)
			s.checkForgotten(t, before, s.dump(t))

			// The command, on a shop of its own, with the same file.
			other := openShop(t, e)
			code, out, errOut := shopCLI(t, append([]string{"run", "-schema", shopMapping, "-customer-id", id}, other.args...)...)
			if code != exitOK {
				t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
			}
			cmd := checkShopReceipt(t, "the command's receipt", out)
			slices.Sort(cmd.FieldsErased)
			slices.Sort(receipt.FieldsErased)
			if !slices.Equal(cmd.FieldsErased, receipt.FieldsErased) {
				t.Errorf("fields erased: the command %v, the Go host %v", cmd.FieldsErased, receipt.FieldsErased)
			}
			for what, m := range map[string][2]map[forget.Table]int64{
				"rows_deleted":  {cmd.RowsDeleted, receipt.RowsDeleted},
				"rows_scrubbed": {cmd.RowsScrubbed, receipt.RowsScrubbed},
			} {
				if !equalCounts(m[0], m[1]) {
					t.Errorf("%s: the command %v, the Go host %v", what, m[0], m[1])
				}
			}
			if !slices.Equal(cmd.Absent, receipt.Absent) {
				t.Errorf("absent: the command %v, the Go host %v", cmd.Absent, receipt.Absent)
			}
		})
	}
}

// equalCounts compares two row counts per table, a missing table as 0.
func equalCounts(a, b map[forget.Table]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
