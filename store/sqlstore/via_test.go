package sqlstore_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// ann's forget: what it deletes of every table, besides her customers row.
var annGone = map[string][]int{
	"addresses":       {101},
	"orders":          {201},
	"order_items":     {301, 302},
	"item_notes":      {401},
	"note_marks":      {501},
	"phones":          {601},
	"customer_phones": {1},
}

var annDeleted = map[forget.Table]int64{
	"orders": 1, "order_items": 2, "item_notes": 1, "note_marks": 1,
	"addresses": 1, "customer_phones": 2, "phones": 1, "newsletter": 0,
}

// TestViaForget forgets customer 1 of the shop: her order, its items
// under NO ACTION keys, a chain of three vias under them, the address her
// row points to (detached first), her phones but the one customer 2
// shares (kept, counted shared), and not the newsletter row whose e-mail
// customer 2 holds in another case. Every other row stays as it was.
func TestViaForget(t *testing.T) {
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

			dry, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(1)}, DryRun: true})
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			sameDump(t, "after the dry run", shop.dump(t), before)
			for _, it := range dry.Inventory.Tables {
				want, ok := map[string]int64{"addresses": 1, "order_items": 2, "item_notes": 1, "note_marks": 1, "phones": 2, "newsletter": 1}[it.Table]
				if ok && (it.Uncounted || it.Rows != want) {
					t.Errorf("dry run inventory: table %s has %d rows (uncounted %v), want %d", it.Table, it.Rows, it.Uncounted, want)
				}
			}

			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(1)}})
			if err != nil {
				t.Fatalf("forget: %v", err)
			}
			if !maps.Equal(rc.RowsDeleted, annDeleted) {
				t.Errorf("rows deleted %v, want %v", rc.RowsDeleted, annDeleted)
			}
			wantShared := map[forget.Table]int64{"phones": 1, "newsletter": 1}
			if !maps.Equal(rc.RowsShared, wantShared) {
				t.Errorf("rows shared %v, want %v", rc.RowsShared, wantShared)
			}
			if !maps.Equal(dry.RowsDeleted, rc.RowsDeleted) || !maps.Equal(dry.RowsShared, rc.RowsShared) {
				t.Errorf("dry run counted %v shared %v; the forget %v shared %v", dry.RowsDeleted, dry.RowsShared, rc.RowsDeleted, rc.RowsShared)
			}
			sameDump(t, "other customers' rows", shop.without(shop.dump(t), nil, 1), shop.without(before, annGone, 1))
			if got := shop.customer(t, 1); got != "||NULL" {
				t.Errorf("customer 1 is %q, want erased and detached", got)
			}

			// Customer 3's e-mail matches a newsletter row only after
			// lower(trim()): it is hers alone, and goes.
			rc, err = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(3)}})
			if err != nil {
				t.Fatalf("forget 3: %v", err)
			}
			if rc.RowsDeleted["newsletter"] != 1 || rc.RowsDeleted["addresses"] != 0 || rc.RowsShared["addresses"] != 1 {
				t.Errorf("customer 3: deleted %v shared %v; want the newsletter row deleted and the shared address kept", rc.RowsDeleted, rc.RowsShared)
			}
			if got := shop.customer(t, 4); !strings.HasSuffix(got, "|"+shop.key(103)) {
				t.Errorf("customer 4 is %q; the shared address must stay theirs", got)
			}
			if got := shop.customer(t, 3); got != "||NULL" {
				t.Errorf("customer 3 is %q, want erased and detached from the shared address", got)
			}
		})
	}
}

// TestViaSharedRefuse: with shared "refuse", forgetting a customer whose
// address another customer shares is a conflict that names the table and
// changes nothing; an address of their own is deleted all the same.
func TestViaSharedRefuse(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			shop := newViaShop(t, e, viaShopOpts{})
			f, err := shop.forgetter(t, viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedRefuse}))
			if err != nil {
				t.Fatal(err)
			}
			before := shop.dump(t)
			_, err = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(3)}})
			if !errors.Is(err, forget.ErrConflict) || !strings.Contains(err.Error(), "addresses") {
				t.Fatalf("forget 3: %v; want a conflict naming table addresses", err)
			}
			if strings.Contains(err.Error(), shop.key(103)) || strings.Contains(err.Error(), "Shared St") {
				t.Errorf("the error quotes a value: %v", err)
			}
			sameDump(t, "after the refusal", shop.dump(t), before)
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(1)}}); err != nil {
				t.Fatalf("forget 1: %v", err)
			}
			sameDump(t, "other customers' rows", shop.without(shop.dump(t), nil, 1), shop.without(before, annGone, 1))

			// In a batch, the refusal is the item's own: the others go on.
			other := newViaShop(t, e, viaShopOpts{})
			fb, err := other.forgetter(t, viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedRefuse}))
			if err != nil {
				t.Fatal(err)
			}
			out := fb.ForgetBatch(ctx, []forget.Request{{Lookup: forget.Lookup{CustomerID: other.key(3)}}, {Lookup: forget.Lookup{CustomerID: other.key(1)}}})
			if !errors.Is(out[0].Err, forget.ErrConflict) || out[1].Err != nil {
				t.Fatalf("batch: %v, %v; want a conflict for 3 and 1 forgotten", out[0].Err, out[1].Err)
			}
			sameDump(t, "after the batch", other.dump(t), shop.dump(t))
		})
	}
}

// TestViaVerify: Verify refuses a via that can reach another customer's
// rows unless it is declared shared, saying why and what to write; takes
// a pointer column with a unique index as exclusive; refuses values of
// different kinds, and a NOT NULL pointer to rows a forget deletes.
func TestViaVerify(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			shop := newViaShop(t, e, viaShopOpts{})
			noShared := viaShopSchema(nil)
			for _, name := range []forget.Table{"phones", "newsletter"} {
				rt := noShared.Tables[name]
				rt.Shared = ""
				noShared.Tables[name] = rt
			}
			_, err := shop.forgetter(t, noShared)
			wantVerifyError(t, err,
				"table addresses: via addresses.id = customers.home_address_id can reach another customer's rows: customers.home_address_id has no primary key or unique index",
				`"shared": "keep"`,
				"table phones: via phones.id = customer_phones.phone_id can reach another customer's rows",
				"table newsletter: via newsletter.email = customers.email can reach another customer's rows: it compares normalised values (lower_trim)")

			kinds := viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep})
			kinds.Tables["newsletter"] = sqlstore.RelatedTable{Table: "newsletter", Via: &sqlstore.Via{Column: "email", From: "customers.id"}, Shared: sqlstore.SharedKeep}
			_, err = shop.forgetter(t, kinds)
			wantVerifyError(t, err, "table newsletter: via column newsletter.email is", "but from column customers.id is")

			unique := newViaShop(t, e, viaShopOpts{uniqueHome: true})
			fu, err := unique.forgetter(t, viaShopSchema(nil))
			if err != nil {
				t.Fatalf("a pointer with a unique index is exclusive, but Verify says: %v", err)
			}
			ubefore := unique.dump(t)
			rc, err := fu.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: unique.key(4)}})
			if err != nil || rc.RowsDeleted["addresses"] != 1 {
				t.Fatalf("forget 4 with an exclusive address: %v, deleted %v", err, rc)
			}
			sameDump(t, "exclusive address: other customers' rows", unique.without(unique.dump(t), nil, 4), unique.without(ubefore, map[string][]int{"addresses": {104}}, 4))

			scrubbedChild := newViaShop(t, e, viaShopOpts{})
			scrubbedChild.scrub = map[forget.Table][]forget.ColumnRule{"order_items": {{Column: "gift", Rule: forget.Empty()}}}
			_, err = scrubbedChild.forgetter(t, viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep}))
			wantVerifyError(t, err, "table order_items: its rows stay (scrubbed), but they reference the rows of orders")

			notNull := newViaShop(t, e, viaShopOpts{uniqueHome: true, notNullHome: true})
			_, err = notNull.forgetter(t, viaShopSchema(nil))
			wantVerifyError(t, err, "customers.home_address_id points to the rows a forget deletes and stays, but it is NOT NULL", `scrub table addresses instead`)
		})
	}
}

// TestViaValidate: the mapping's own mistakes, before any database.
func TestViaValidate(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		edit func(s *sqlstore.Schema)
		want string
	}{
		"Both": {func(s *sqlstore.Schema) {
			rt := s.Tables["phones"]
			rt.CustomerKey = "customer_id"
			s.Tables["phones"] = rt
		}, "table phones has both customer_key and via"},
		"Neither":   {func(s *sqlstore.Schema) { rt := s.Tables["phones"]; rt.Via = nil; s.Tables["phones"] = rt }, "table phones needs customer_key or via"},
		"From":      {func(s *sqlstore.Schema) { s.Tables["phones"].Via.From = "phone_id" }, `from "phone_id" must be table.column`},
		"Unknown":   {func(s *sqlstore.Schema) { s.Tables["phones"].Via.From = "links.phone_id" }, "names table links, which is neither"},
		"Normalize": {func(s *sqlstore.Schema) { s.Tables["newsletter"].Via.Normalize = "upper" }, `via normalize "upper" must be`},
		"Shared":    {func(s *sqlstore.Schema) { rt := s.Tables["phones"]; rt.Shared = "share"; s.Tables["phones"] = rt }, `shared "share" must be`},
		"Cycle": {func(s *sqlstore.Schema) {
			s.Tables["orders"] = sqlstore.RelatedTable{Table: "orders", Via: &sqlstore.Via{Column: "id", From: "note_marks.note_id"}}
		}, "its via chain comes back"},
	} {
		t.Run(name, func(t *testing.T) {
			s := viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep})
			for k, rt := range s.Tables { // Via pointers of our own
				if rt.Via != nil {
					v := *rt.Via
					rt.Via = &v
					s.Tables[k] = rt
				}
			}
			tc.edit(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v; want %q", err, tc.want)
			}
		})
	}
}

// TestViaValidateAccepts: the shop's mapping is valid, and so is a table
// reached by mentions, with neither column nor from (redaction's).
func TestViaValidateAccepts(t *testing.T) {
	t.Parallel()
	s := viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep})
	if err := s.Validate(); err != nil {
		t.Fatalf("the shop's mapping: %v", err)
	}
	s.Tables["tickets"] = sqlstore.RelatedTable{Table: "tickets", Via: &sqlstore.Via{Mentions: true}}
	if err := s.Validate(); err != nil {
		t.Errorf("a table reached by mentions: %v", err)
	}
}

// cancelAfter is a context whose Done channel closes after n calls: the
// forget is cancelled mid-way, at every point in turn.
type cancelAfter struct {
	context.Context
	cancel context.CancelFunc
	n      atomic.Int64
}

func (c *cancelAfter) Done() <-chan struct{} {
	if c.n.Add(-1) < 0 {
		c.cancel()
	}
	return c.Context.Done()
}

// TestViaCancelled cancels the forget at every point where the database
// looks at its context, until it succeeds: each cancelled one leaves every
// row as it was.
func TestViaCancelled(t *testing.T) {
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
			cancelled := 0
			for n := int64(0); n < 2000; n++ {
				inner, cancel := context.WithCancel(context.Background())
				ctx := &cancelAfter{Context: inner, cancel: cancel}
				ctx.n.Store(n)
				_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(1)}})
				cancel()
				if err == nil {
					break
				}
				cancelled++
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled after %d: %v, want context.Canceled", n, err)
				}
				sameDump(t, "after a cancelled forget", shop.dump(t), before)
				if t.Failed() {
					t.Fatalf("cancelled after %d looks of the context", n)
				}
			}
			if cancelled < 5 {
				t.Errorf("only %d forgets were cancelled: the context is not seen mid-way", cancelled)
			}
			sameDump(t, "after the forget", shop.without(shop.dump(t), nil, 1), shop.without(before, annGone, 1))
		})
	}
}

// TestViaConcurrentShared forgets customers 3 and 4, who share an
// address, at once: both succeed, both are detached, the address is
// deleted at most once (by the one that found the other detached), and
// nobody else's rows change.
func TestViaConcurrentShared(t *testing.T) {
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
			var wg sync.WaitGroup
			rcs := make([]*forget.Receipt, 2)
			errs := make([]error, 2)
			for i, n := range []int{3, 4} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rcs[i], errs[i] = f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(n)}})
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("forget %d: %v", i+3, err)
				}
			}
			deleted := rcs[0].RowsDeleted["addresses"] + rcs[1].RowsDeleted["addresses"]
			if deleted > 1 {
				t.Errorf("the shared address was deleted %d times", deleted)
			}
			for _, n := range []int{3, 4} {
				if got := shop.customer(t, n); got != "||NULL" {
					t.Errorf("customer %d is %q, want erased and detached", n, got)
				}
			}
			gone := map[string][]int{"newsletter": {702}}
			if deleted == 1 {
				gone["addresses"] = []int{103}
			}
			sameDump(t, "other customers' rows", shop.without(shop.dump(t), nil, 3, 4), shop.without(before, gone, 3, 4))
		})
	}
}

// TestViaBatchMatchesPerCustomer: a batch gives each customer exactly
// what their own forget gives: receipts and rows.
func TestViaBatchMatchesPerCustomer(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			schema := viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep})
			one, batch := newViaShop(t, e, viaShopOpts{}), newViaShop(t, e, viaShopOpts{})
			f1, err := one.forgetter(t, schema)
			if err != nil {
				t.Fatal(err)
			}
			fb, err := batch.forgetter(t, schema)
			if err != nil {
				t.Fatal(err)
			}
			var reqs []forget.Request
			var single []*forget.Receipt
			for _, n := range []int{1, 3, 2} {
				reqs = append(reqs, forget.Request{Lookup: forget.Lookup{CustomerID: one.key(n)}})
				rc, err := f1.Forget(ctx, reqs[len(reqs)-1])
				if err != nil {
					t.Fatalf("forget %d: %v", n, err)
				}
				single = append(single, rc)
			}
			out := fb.ForgetBatch(ctx, reqs)
			for i, o := range out {
				if o.Err != nil {
					t.Fatalf("batch item %d: %v", i, o.Err)
				}
				if !maps.Equal(o.Receipt.RowsDeleted, single[i].RowsDeleted) || !maps.Equal(o.Receipt.RowsShared, single[i].RowsShared) {
					t.Errorf("batch item %d: deleted %v shared %v; alone %v shared %v", i, o.Receipt.RowsDeleted, o.Receipt.RowsShared, single[i].RowsDeleted, single[i].RowsShared)
				}
			}
			sameDump(t, "batch against one by one", batch.dump(t), one.dump(t))
		})
	}
}

// TestViaKeeps: a keep list that the keys between a Via table and its
// From table would break is refused, changing nothing: a link table kept
// while its targets go, children kept while their parent goes, and a
// kept table that an ON DELETE CASCADE from a Via table's rows would
// empty. Keeping the targets while the links go is fine.
func TestViaKeeps(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			shop := newViaShop(t, e, viaShopOpts{})
			k := map[sqlstore.Dialect]string{sqlstore.SQLite: "INTEGER", sqlstore.Postgres: "uuid", sqlstore.MySQL: "UUID"}[e.dialect]
			execAll(t, shop.db,
				"CREATE TABLE gift_cards (id "+k+" PRIMARY KEY, customer_id "+k+" NOT NULL, item_id "+k+" NULL, FOREIGN KEY (item_id) REFERENCES order_items (id) ON DELETE CASCADE)",
				"CREATE INDEX gift_cards_customer ON gift_cards (customer_id)",
				"INSERT INTO gift_cards (id, customer_id, item_id) VALUES ("+shop.lit(801)+", "+shop.lit(1)+", "+shop.lit(301)+")")
			shop.extra = []forget.Table{"gift_cards"}
			schema := viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep})
			// Reached through order_items: a gift_cards table keyed by
			// the customer is refused (another customer's card for the
			// customer's item would go with it; TestHostileCascadeFromViaTableIntoOtherCustomer).
			schema.Tables["gift_cards"] = sqlstore.RelatedTable{Table: "gift_cards", Via: &sqlstore.Via{Column: "item_id", From: "order_items.id"}}
			f, err := shop.forgetter(t, schema)
			if err != nil {
				t.Fatal(err)
			}
			before := shop.dump(t)
			for keep, want := range map[string]string{
				"customer_phones": "customer_phones cannot be kept while phones is erased",
				"order_items":     "order_items cannot be kept while orders is erased",
				"gift_cards":      "gift_cards cannot be kept while order_items is erased",
			} {
				_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(1)}, Keep: strings.Split(keep, ",")})
				var ce *forget.CascadeError
				if !errors.As(err, &ce) || !errors.Is(err, forget.ErrInvalid) || !strings.Contains(err.Error(), want) {
					t.Errorf("keep %s: %v; want a cascade refusal saying %q", keep, err, want)
				}
			}
			sameDump(t, "after the refusals", shop.dump(t), before)
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(1)}, Keep: []string{"phones"}})
			if err != nil {
				t.Fatalf("keep phones: %v", err)
			}
			if _, ok := rc.RowsDeleted["phones"]; ok || rc.RowsDeleted["customer_phones"] != 2 {
				t.Errorf("keep phones: deleted %v; want the links gone and the phones untouched", rc.RowsDeleted)
			}
			after := shop.dump(t)
			if !slices.Equal(after["phones"], before["phones"]) {
				t.Errorf("keep phones: phones %q, want %q", after["phones"], before["phones"])
			}
		})
	}
}

// TestViaScrub: a Via table scrubbed rather than purged keeps its rows
// and overwrites their columns, the customer's rows only: the address
// customer 1 points to (NOT NULL, so it could not be deleted) is scrubbed
// and still hers; a shared one is left and counted; a dry run counts
// the same and changes nothing.
func TestViaScrub(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			shop := newViaShop(t, e, viaShopOpts{notNullHome: true})
			shop.scrub = map[forget.Table][]forget.ColumnRule{"addresses": {{Column: "line", Rule: forget.Fixed("gone")}}}
			f, err := shop.forgetter(t, viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep}))
			if err != nil {
				t.Fatal(err)
			}
			before := shop.dump(t)
			for _, dryRun := range []bool{true, false} {
				rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(1)}, DryRun: dryRun})
				if err != nil {
					t.Fatalf("forget 1 (dry run %v): %v", dryRun, err)
				}
				if rc.RowsScrubbed["addresses"] != 1 {
					t.Errorf("forget 1 (dry run %v): scrubbed %v, want 1 address", dryRun, rc.RowsScrubbed)
				}
				if _, ok := rc.RowsDeleted["addresses"]; ok {
					t.Errorf("forget 1 (dry run %v): addresses counted as deleted: %v", dryRun, rc.RowsDeleted)
				}
				if dryRun {
					sameDump(t, "after the dry run", shop.dump(t), before)
				}
			}
			var line string
			if err := shop.db.QueryRow("SELECT line FROM addresses WHERE id = " + shop.lit(101)).Scan(&line); err != nil || line != "gone" {
				t.Errorf("address 101 holds %q (%v), want it scrubbed", line, err)
			}
			if got := shop.customer(t, 1); got != "||"+shop.key(101) {
				t.Errorf("customer 1 is %q; a scrubbed address is not detached", got)
			}
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(3)}})
			if err != nil {
				t.Fatal(err)
			}
			if rc.RowsScrubbed["addresses"] != 0 || rc.RowsShared["addresses"] != 1 {
				t.Errorf("forget 3: scrubbed %v shared %v; want the shared address left and counted", rc.RowsScrubbed, rc.RowsShared)
			}
			gone := map[string][]int{"orders": {201}, "order_items": {301, 302}, "item_notes": {401}, "note_marks": {501}, "phones": {601}, "customer_phones": {1}, "addresses": {101}, "newsletter": {702}}
			after := shop.without(shop.dump(t), map[string][]int{"addresses": {101}}, 1, 3)
			sameDump(t, "other customers' rows", after, shop.without(before, gone, 1, 3))
		})
	}
}

// TestViaChunks: a customer with more rows than one statement binds
// values for (1,200 items under one order, 700 notes under them) loses
// them all, in several statements, and nobody else loses any.
func TestViaChunks(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			shop := newViaShop(t, e, viaShopOpts{})
			var items, notes []string
			for n := 10000; n < 11200; n++ {
				items = append(items, "("+shop.lit(n)+", "+shop.lit(202)+", 'gift')")
				if n < 10700 {
					notes = append(notes, "("+shop.lit(n+10000)+", "+shop.lit(n)+", 'note')")
				}
			}
			execAll(t, shop.db,
				"INSERT INTO order_items (id, order_id, gift) VALUES "+strings.Join(items, ", "),
				"INSERT INTO item_notes (id, item_id, body) VALUES "+strings.Join(notes, ", "))
			f, err := shop.forgetter(t, viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep}))
			if err != nil {
				t.Fatal(err)
			}
			before := shop.dump(t)
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(2)}})
			if err != nil {
				t.Fatal(err)
			}
			if rc.RowsDeleted["order_items"] != 1201 || rc.RowsDeleted["item_notes"] != 701 || rc.RowsDeleted["note_marks"] != 1 {
				t.Errorf("deleted %v; want 1,201 items, 701 notes and 1 mark", rc.RowsDeleted)
			}
			after := shop.dump(t)
			for table, want := range map[string]int{"order_items": 2, "item_notes": 1, "note_marks": 1} {
				if len(after[table]) != want {
					t.Errorf("table %s has %d rows left, want customer 1's %d", table, len(after[table]), want)
				}
			}
			for _, table := range []string{"order_items", "item_notes", "note_marks", "addresses", "phones", "customer_phones"} {
				for _, row := range before[table] {
					if strings.HasPrefix(row, shop.key(301)+"|") || strings.HasPrefix(row, shop.key(401)+"|") || strings.HasPrefix(row, shop.key(501)+"|") {
						if !slices.Contains(after[table], row) {
							t.Errorf("customer 1's row %s of %s is gone", row, table)
						}
					}
				}
			}
		})
	}
}
