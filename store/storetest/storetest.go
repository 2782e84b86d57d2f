// Package storetest is the conformance suite every forget.Store must pass.
//
// A store's own test adapts it to [Backend] (seeding and snapshotting are
// store-specific) and calls [Run]:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Backend { return newBackend(t) })
//	}
//
// The suite seeds the customers of [Fixtures] into a fresh Backend for
// every case, and checks the default catalogue's semantics: every lookup
// path, keep sets, invalid input, not found, conflict, idempotence,
// distinct pseudonyms, dry runs, atomicity under a real constraint
// failure, and concurrent forgets (run it with -race).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/forgetkit/forget"
)

// Backend is a Store under test, with the means to seed and inspect it.
type Backend interface {
	forget.Store
	// Seed stores the customers, with Rows[t] rows of each table t.
	Seed(ctx context.Context, customers []Customer) error
	// Snapshot returns every customer's catalogue fields and row counts.
	Snapshot(ctx context.Context) (Snapshot, error)
}

// OrderSharer is implemented by backends whose database can hold an
// orderid that two customers share, as a host's order table without a
// unique index can. The suite then checks that forgetting by such an
// orderid is a conflict that erases nothing.
type OrderSharer interface {
	ShareOrder(ctx context.Context, orderID, customerID string) error
}

// HoldName is the hold a HoldBackend declares.
const HoldName = "open_chargeback"

// HoldBackend is implemented by backends built with a hold named
// HoldName that protects a customer once PlaceHold was called for it. The
// suite then checks that a held customer is refused and untouched, that
// the refusal is audited (with AuditBackend), that an operator can ignore
// the hold, and that a batch refuses the held customer alone.
type HoldBackend interface {
	PlaceHold(ctx context.Context, customerID string) error
}

// AuditBackend is implemented by backends that keep an audit trail.
type AuditBackend interface {
	// AuditRecords returns every audit record, oldest first.
	AuditRecords(ctx context.Context) ([]forget.Receipt, error)
}

// Customer is a customer to seed.
type Customer struct {
	ID            string
	Fields        map[forget.Field]string
	Subscriptions []string
	Orders        []string
	Rows          map[forget.Table]int
}

// Snapshot is a store's state by customer id.
type Snapshot map[string]State

// State is one customer's catalogue fields (NULL as Value.Null) and how
// many rows it has in each catalogue table.
type State struct {
	Fields map[forget.Field]forget.Value
	Rows   map[forget.Table]int
}

// Equal reports whether two states are the same.
func (s State) Equal(o State) bool {
	return maps.Equal(s.Fields, o.Fields) && maps.Equal(s.Rows, o.Rows)
}

// Fixtures returns the three customers every case starts from:
// NewCustomer(101), NewCustomer(102) and NewCustomer(103).
func Fixtures() []Customer {
	return []Customer{NewCustomer(101), NewCustomer(102), NewCustomer(103)}
}

// NewCustomer returns customer id with two subscriptions (id*10+1,
// id*10+2), three orders (id*100+1 …), two member_auth and three
// member_note rows, and a distinctive value in every field of the default
// catalogue.
func NewCustomer(id int) Customer {
	c := Customer{
		ID:            fmt.Sprint(id),
		Fields:        make(map[forget.Field]string),
		Subscriptions: []string{fmt.Sprint(id*10 + 1), fmt.Sprint(id*10 + 2)},
		Orders:        []string{fmt.Sprint(id*100 + 1), fmt.Sprint(id*100 + 2), fmt.Sprint(id*100 + 3)},
		Rows:          map[forget.Table]int{forget.MemberAuth: 2, forget.MemberNote: 3},
	}
	for _, f := range forget.DefaultCatalogue().Fields {
		c.Fields[f.Name] = fmt.Sprintf("%s-of-%d-qzx", f.Name, id)
	}
	return c
}

// Run runs the suite. newBackend must return an empty Backend of its own
// for every call: cases seed and change it.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	t.Helper()
	ctx := context.Background()
	fix := Fixtures()
	byID := make(map[string]Customer)
	for _, c := range fix {
		byID[c.ID] = c
	}

	setup := func(t *testing.T, opts ...forget.Option) (Backend, *forget.Forgetter, Snapshot) {
		t.Helper()
		b := newBackend(t)
		if err := b.Seed(ctx, fix); err != nil {
			t.Fatalf("Seed: %v", err)
		}
		f, err := forget.New(b, append([]forget.Option{forget.WithLogger(discard())}, opts...)...)
		if err != nil {
			t.Fatalf("forget.New: %v", err)
		}
		return b, f, snapshot(t, b)
	}

	lookups := []struct {
		name   string
		lookup forget.Lookup
	}{
		{"CustomerID", forget.Lookup{CustomerID: "101"}},
		{"SubscriptionID", forget.Lookup{SubscriptionID: "1012"}},
		{"OrderID", forget.Lookup{OrderID: "10103"}},
		{"AllKeysAgree", forget.Lookup{CustomerID: "101", SubscriptionID: "1011", OrderID: "10102"}},
		{"SpacesTrimmed", forget.Lookup{CustomerID: " 101 ", SubscriptionID: "\t"}},
	}
	for _, tc := range lookups {
		t.Run("Lookup"+tc.name, func(t *testing.T) {
			b, f, before := setup(t)
			rc, err := f.Forget(ctx, forget.Request{Lookup: tc.lookup})
			if err != nil {
				t.Fatalf("Forget: %v", err)
			}
			if rc.CustomerID != "101" {
				t.Errorf("receipt customer_id = %q, want 101", rc.CustomerID)
			}
			wantRows := map[forget.Table]int64{forget.MemberAuth: 2, forget.MemberNote: 3}
			if !maps.Equal(rc.RowsDeleted, wantRows) {
				t.Errorf("rows deleted = %v, want %v", rc.RowsDeleted, wantRows)
			}
			after := snapshot(t, b)
			checkForgotten(t, byID["101"], before["101"], after["101"], nil)
			checkUntouched(t, before, after, "101")
		})
	}

	keeps := []struct {
		name string
		keep []string
		want []string // kept names, catalogue order
	}{
		{"Fields", []string{"firstname,lastname"}, []string{"firstname", "lastname"}},
		{"Tables", []string{"member_note"}, []string{"member_note"}},
		{"Mixed", []string{" Firstname , ,MEMBER_AUTH,firstname,", "phone"}, []string{"firstname", "phone", "member_auth"}},
		{"Everything", []string{allNames()}, strings.Split(allNames(), ",")},
		{"EmptyItems", []string{" , ,", ""}, nil},
	}
	for _, tc := range keeps {
		t.Run("Keep"+tc.name, func(t *testing.T) {
			b, f, before := setup(t)
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Keep: tc.keep})
			if err != nil {
				t.Fatalf("Forget: %v", err)
			}
			kept := make(map[string]bool)
			for _, n := range tc.want {
				kept[n] = true
			}
			var gotKept []string
			for _, f := range rc.FieldsKept {
				gotKept = append(gotKept, string(f))
			}
			for _, tb := range rc.TablesKept {
				gotKept = append(gotKept, string(tb))
			}
			if !slices.Equal(gotKept, tc.want) {
				t.Errorf("receipt kept %v, want %v", gotKept, tc.want)
			}
			after := snapshot(t, b)
			checkForgotten(t, byID["101"], before["101"], after["101"], kept)
			checkUntouched(t, before, after, "101")
		})
	}

	refusals := []struct {
		name string
		req  forget.Request
		want error
	}{
		{"NoKey", forget.Request{}, forget.ErrInvalid},
		{"BlankKeys", forget.Request{Lookup: forget.Lookup{CustomerID: " ", OrderID: "\t"}}, forget.ErrInvalid},
		{"MalformedCustomerID", forget.Request{Lookup: forget.Lookup{CustomerID: "abc"}}, forget.ErrInvalid},
		{"MalformedSubscriptionID", forget.Request{Lookup: forget.Lookup{SubscriptionID: "1; DROP TABLE customers"}}, forget.ErrInvalid},
		{"MalformedOrderID", forget.Request{Lookup: forget.Lookup{OrderID: "1.5"}}, forget.ErrInvalid},
		{"OutOfRangeID", forget.Request{Lookup: forget.Lookup{CustomerID: "99999999999999999999999"}}, forget.ErrInvalid},
		{"UnknownKeep", forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Keep: []string{"firstnme,member_notes,phone"}}, forget.ErrInvalid},
		{"CustomerNotFound", forget.Request{Lookup: forget.Lookup{CustomerID: "999"}}, forget.ErrNotFound},
		{"SubscriptionNotFound", forget.Request{Lookup: forget.Lookup{SubscriptionID: "999"}}, forget.ErrNotFound},
		{"OrderNotFound", forget.Request{Lookup: forget.Lookup{OrderID: "999"}}, forget.ErrNotFound},
		{"OneKeyNotFound", forget.Request{Lookup: forget.Lookup{CustomerID: "101", OrderID: "999"}}, forget.ErrNotFound},
		{"ConflictCustomerOrder", forget.Request{Lookup: forget.Lookup{CustomerID: "101", OrderID: "10201"}}, forget.ErrConflict},
		{"ConflictSubscriptionOrder", forget.Request{Lookup: forget.Lookup{SubscriptionID: "1031", OrderID: "10201"}}, forget.ErrConflict},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			b, f, before := setup(t)
			for _, dry := range []bool{false, true} {
				req := tc.req
				req.DryRun = dry
				rc, err := f.Forget(ctx, req)
				if !errors.Is(err, tc.want) {
					t.Fatalf("Forget(dry run %v) = %v, %v; want %v", dry, rc, err, tc.want)
				}
				for _, other := range []error{forget.ErrInvalid, forget.ErrNotFound, forget.ErrConflict} {
					if other != tc.want && errors.Is(err, other) {
						t.Errorf("error %v is also %v", err, other)
					}
				}
			}
			checkUntouched(t, before, snapshot(t, b), "")
		})
	}

	t.Run("UnknownKeepListsEveryName", func(t *testing.T) {
		_, f, _ := setup(t)
		_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Keep: []string{"firstnme, Phone ,member_notes", "bogus"}})
		var un *forget.UnknownNamesError
		if !errors.As(err, &un) {
			t.Fatalf("error = %v, want *UnknownNamesError", err)
		}
		if want := []string{"firstnme", "member_notes", "bogus"}; !slices.Equal(un.Names, want) {
			t.Errorf("unknown names = %q, want %q", un.Names, want)
		}
	})

	t.Run("IdempotentSecondForget", func(t *testing.T) {
		b, f, before := setup(t)
		req := forget.Request{Lookup: forget.Lookup{OrderID: "10101"}}
		if _, err := f.Forget(ctx, req); err != nil {
			t.Fatalf("first Forget: %v", err)
		}
		rc, err := f.Forget(ctx, req)
		if err != nil {
			t.Fatalf("second Forget: %v", err)
		}
		if rc.CustomerID != "101" || rc.RowsDeleted[forget.MemberNote] != 0 || rc.RowsDeleted[forget.MemberAuth] != 0 {
			t.Errorf("second receipt = %+v, want customer 101 with no rows left to delete", rc)
		}
		after := snapshot(t, b)
		checkForgotten(t, byID["101"], before["101"], after["101"], nil)
		checkUntouched(t, before, after, "101")
	})

	t.Run("AmbiguousOrderIsConflict", func(t *testing.T) {
		b, f, _ := setup(t)
		sharer, ok := b.(OrderSharer)
		if !ok {
			t.Skip("the backend cannot hold an orderid shared by two customers")
		}
		// 10101 is 101's; give it to 102 as well.
		if err := sharer.ShareOrder(ctx, "10101", "102"); err != nil {
			t.Fatalf("ShareOrder: %v", err)
		}
		before := snapshot(t, b)
		for _, dry := range []bool{false, true} {
			_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{OrderID: "10101"}, DryRun: dry})
			if !errors.Is(err, forget.ErrConflict) {
				t.Errorf("Forget(orderid held by two customers, dry run %v) = %v, want ErrConflict", dry, err)
			}
		}
		// With the customer named too, the order still names two.
		if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101", OrderID: "10101"}}); !errors.Is(err, forget.ErrConflict) {
			t.Errorf("Forget(customer_id and ambiguous orderid) = %v, want ErrConflict", err)
		}
		checkUntouched(t, before, snapshot(t, b), "")
	})

	t.Run("KeyNeverErased", func(t *testing.T) {
		b, f, before := setup(t)
		rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{SubscriptionID: "1011"}})
		if err != nil {
			t.Fatalf("Forget: %v", err)
		}
		if rc.CustomerID != "101" {
			t.Errorf("receipt customer_id = %q, want the key 101", rc.CustomerID)
		}
		after := snapshot(t, b)
		if _, ok := after["101"]; !ok {
			t.Fatal("customer 101 is gone: the customer key was erased")
		}
		checkUntouched(t, before, after, "101")
		// Every lookup key still names the customer.
		for _, l := range []forget.Lookup{{CustomerID: "101"}, {SubscriptionID: "1012"}, {OrderID: "10103"}} {
			rc, err := f.Forget(ctx, forget.Request{Lookup: l, DryRun: true})
			if err != nil || rc.CustomerID != "101" {
				t.Errorf("Forget(%+v) after the forget = %v, %v; want customer 101 still found", l, rc, err)
			}
		}
	})

	t.Run("KeptValueNeverWritten", func(t *testing.T) {
		var fields []string
		for _, fs := range forget.DefaultCatalogue().Fields {
			fields = append(fields, string(fs.Name))
		}
		b, f, before := setup(t)
		rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "102"}, Keep: []string{strings.Join(fields, ",")}})
		if err != nil {
			t.Fatalf("Forget: %v", err)
		}
		if len(rc.FieldsErased) != 0 {
			t.Errorf("receipt erased %v, want no field", rc.FieldsErased)
		}
		after := snapshot(t, b)
		if !maps.Equal(before["102"].Fields, after["102"].Fields) {
			t.Error("a forget that kept every field changed a field")
		}
		for _, ts := range forget.DefaultCatalogue().Tables {
			if after["102"].Rows[ts.Name] != 0 {
				t.Errorf("table %s not purged", ts.Name)
			}
		}
		checkUntouched(t, before, after, "102")
	})

	holdSetup := func(t *testing.T) (Backend, *forget.Forgetter, Snapshot) {
		t.Helper()
		b, f, _ := setup(t)
		hb, ok := b.(HoldBackend)
		if !ok {
			t.Skip("the backend declares no hold")
		}
		if err := hb.PlaceHold(ctx, "101"); err != nil {
			t.Fatalf("PlaceHold: %v", err)
		}
		return b, f, snapshot(t, b)
	}

	t.Run("HeldRefusedAndAudited", func(t *testing.T) {
		b, f, before := holdSetup(t)
		for _, l := range []forget.Lookup{{CustomerID: "101"}, {OrderID: "10102"}} {
			for _, dry := range []bool{true, false} {
				_, err := f.Forget(ctx, forget.Request{Lookup: l, DryRun: dry, Principal: "ops"})
				var he *forget.HeldError
				if !errors.As(err, &he) || he.Hold != HoldName || !errors.Is(err, forget.ErrHeld) {
					t.Fatalf("Forget(held customer, dry run %v) = %v, want a HeldError naming %s", dry, err, HoldName)
				}
				for _, other := range []error{forget.ErrInvalid, forget.ErrNotFound, forget.ErrConflict} {
					if errors.Is(err, other) {
						t.Errorf("held error is also %v", other)
					}
				}
			}
		}
		checkUntouched(t, before, snapshot(t, b), "")
		if ab, ok := b.(AuditBackend); ok {
			recs, err := ab.AuditRecords(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 {
				t.Fatalf("%d audit records, want the 2 refusals (dry runs are not recorded)", len(recs))
			}
			for _, r := range recs {
				if r.Held != HoldName || r.CustomerID != "101" || r.Principal != "ops" || len(r.FieldsErased) != 0 || len(r.RowsDeleted) != 0 {
					t.Errorf("refusal record = %+v, want hold %s, customer 101, principal ops, nothing erased", r, HoldName)
				}
			}
		}
		// Another customer is not held.
		if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "102"}}); err != nil {
			t.Errorf("Forget(102): %v", err)
		}
	})

	t.Run("HoldIgnoredByOperator", func(t *testing.T) {
		b, f, before := holdSetup(t)
		rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, IgnoreHolds: []string{HoldName}})
		if err != nil {
			t.Fatalf("Forget ignoring the hold: %v", err)
		}
		if !slices.Equal(rc.HoldsIgnored, []string{HoldName}) {
			t.Errorf("receipt holds ignored = %v, want [%s]", rc.HoldsIgnored, HoldName)
		}
		after := snapshot(t, b)
		checkForgotten(t, byID["101"], before["101"], after["101"], nil)
		checkUntouched(t, before, after, "101")
		if ab, ok := b.(AuditBackend); ok {
			recs, err := ab.AuditRecords(ctx)
			if err != nil || len(recs) != 1 || !slices.Equal(recs[0].HoldsIgnored, []string{HoldName}) {
				t.Errorf("audit = %+v, %v; want one record listing the ignored hold", recs, err)
			}
		}
	})

	t.Run("UnknownHoldToIgnore", func(t *testing.T) {
		b, f, before := holdSetup(t)
		_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, IgnoreHolds: []string{"open_chargebak"}})
		var uh *forget.UnknownHoldError
		if !errors.As(err, &uh) || !errors.Is(err, forget.ErrInvalid) {
			t.Errorf("Forget ignoring a misspelt hold = %v, want an UnknownHoldError", err)
		}
		checkUntouched(t, before, snapshot(t, b), "")
	})

	t.Run("HeldInBatch", func(t *testing.T) {
		b, f, before := holdSetup(t)
		out := f.ForgetBatch(ctx, []forget.Request{
			{Lookup: forget.Lookup{CustomerID: "102"}},
			{Lookup: forget.Lookup{CustomerID: "101"}},
			{Lookup: forget.Lookup{CustomerID: "103"}},
		})
		if !errors.Is(out[1].Err, forget.ErrHeld) {
			t.Errorf("held customer in a batch: %v, want ErrHeld", out[1].Err)
		}
		if out[0].Err != nil || out[2].Err != nil {
			t.Errorf("others: %v, %v", out[0].Err, out[2].Err)
		}
		after := snapshot(t, b)
		if !before["101"].Equal(after["101"]) {
			t.Error("the held customer changed")
		}
		checkForgotten(t, byID["102"], before["102"], after["102"], nil)
		checkForgotten(t, byID["103"], before["103"], after["103"], nil)
		if ab, ok := b.(AuditBackend); ok {
			recs, err := ab.AuditRecords(ctx)
			held := 0
			for _, r := range recs {
				if r.Held == HoldName && r.CustomerID == "101" {
					held++
				}
			}
			if err != nil || len(recs) != 3 || held != 1 {
				t.Errorf("audit = %d records (%d refusals of 101), %v; want 2 erasures and 1 refusal", len(recs), held, err)
			}
		}
	})

	t.Run("PseudonymsDistinct", func(t *testing.T) {
		b, f, _ := setup(t)
		for _, id := range []string{"101", "102", "103"} {
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: id}}); err != nil {
				t.Fatalf("Forget %s: %v", id, err)
			}
		}
		after := snapshot(t, b)
		seen := make(map[string]string)
		for id, st := range after {
			for _, field := range []forget.Field{forget.Username, forget.OriginalUsername, forget.Password, forget.Session} {
				v := st.Fields[field].String
				if prev, dup := seen[v]; dup {
					t.Errorf("%s of %s repeats a value of %s", field, id, prev)
				}
				seen[v] = id + "." + string(field)
			}
		}
	})

	t.Run("DryRunChangesNothing", func(t *testing.T) {
		b, f, before := setup(t)
		rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{SubscriptionID: "1021"}, Keep: []string{"member_auth"}, DryRun: true})
		if err != nil {
			t.Fatalf("Forget: %v", err)
		}
		if !rc.DryRun || rc.CustomerID != "102" {
			t.Errorf("receipt = %+v, want a dry run for 102", rc)
		}
		if want := map[forget.Table]int64{forget.MemberNote: 3}; !maps.Equal(rc.RowsDeleted, want) {
			t.Errorf("rows that would be deleted = %v, want %v", rc.RowsDeleted, want)
		}
		if len(rc.FieldsErased) != len(forget.DefaultCatalogue().Fields) {
			t.Errorf("fields that would be erased = %d, want %d", len(rc.FieldsErased), len(forget.DefaultCatalogue().Fields))
		}
		checkUntouched(t, before, snapshot(t, b), "")
	})

	t.Run("FixedRule", func(t *testing.T) {
		cat := forget.DefaultCatalogue()
		must(t, cat.SetRule(forget.Country, forget.Fixed("XX")))
		b, f, before := setup(t, forget.WithCatalogue(cat))
		if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "103"}}); err != nil {
			t.Fatalf("Forget: %v", err)
		}
		after := snapshot(t, b)
		if got := after["103"].Fields[forget.Country]; got != (forget.Value{String: "XX"}) {
			t.Errorf("country = %+v, want XX", got)
		}
		checkUntouched(t, before, after, "103")
	})

	t.Run("NullRule", func(t *testing.T) {
		// A store writes NULL where its column allows it; where a NOT
		// NULL constraint refuses it, the whole forget fails and nothing
		// changes.
		cat := forget.DefaultCatalogue()
		must(t, cat.SetRule(forget.Phone, forget.Null()))
		b, f, before := setup(t, forget.WithCatalogue(cat))
		_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "103"}})
		after := snapshot(t, b)
		if err != nil {
			t.Logf("NULL refused: %v", err)
			checkUntouched(t, before, after, "")
			return
		}
		if got := after["103"].Fields[forget.Phone]; !got.Null {
			t.Errorf("phone = %+v, want NULL", got)
		}
		checkUntouched(t, before, after, "103")
	})

	t.Run("AtomicOnConstraintFailure", func(t *testing.T) {
		// Giving 101 the username 102 holds breaks the unique index in the
		// middle of the transaction, after the lookup and lock: nothing
		// of 101 may change, its rows included.
		taken := byID["102"].Fields[forget.Username]
		cat := forget.DefaultCatalogue()
		must(t, cat.SetRule(forget.Username, forget.Fixed(taken)))
		b, f, before := setup(t, forget.WithCatalogue(cat))
		_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}})
		if err == nil {
			t.Fatal("Forget succeeded though the new username is taken")
		}
		for _, sentinel := range []error{forget.ErrInvalid, forget.ErrNotFound, forget.ErrConflict} {
			if errors.Is(err, sentinel) {
				t.Errorf("error %v is %v; a store failure is internal", err, sentinel)
			}
		}
		if strings.Contains(err.Error(), taken) {
			t.Errorf("error message %q holds the new value", err)
		}
		checkUntouched(t, before, snapshot(t, b), "")
	})

	t.Run("AtomicOnRuleFailure", func(t *testing.T) {
		cat := forget.DefaultCatalogue()
		must(t, cat.SetRule(forget.Phone, forget.Func(func(forget.RuleInput) (forget.Value, error) {
			return forget.Value{}, errors.New("rule broke")
		})))
		b, f, before := setup(t, forget.WithCatalogue(cat))
		if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}}); err == nil {
			t.Fatal("Forget succeeded though a rule failed")
		}
		checkUntouched(t, before, snapshot(t, b), "")
	})

	t.Run("Batch", func(t *testing.T) {
		b, f, before := setup(t)
		reqs := []forget.Request{
			{Lookup: forget.Lookup{CustomerID: "101"}},
			{Lookup: forget.Lookup{CustomerID: "999"}},                               // not found
			{Lookup: forget.Lookup{CustomerID: "102"}, Keep: []string{"firstnme"}},   // invalid
			{Lookup: forget.Lookup{CustomerID: "102", OrderID: "10301"}},             // conflict
			{Lookup: forget.Lookup{OrderID: "10203"}, Keep: []string{"member_note"}}, // 102
			{Lookup: forget.Lookup{SubscriptionID: "1011"}},                          // 101 again
			{Lookup: forget.Lookup{CustomerID: "103"}, DryRun: true},                 // changes nothing
			{Lookup: forget.Lookup{CustomerID: "abc"}},                               // malformed
		}
		out := f.ForgetBatch(ctx, reqs)
		if len(out) != len(reqs) {
			t.Fatalf("%d outcomes for %d requests", len(out), len(reqs))
		}
		wantErr := []error{nil, forget.ErrNotFound, forget.ErrInvalid, forget.ErrConflict, nil, nil, nil, forget.ErrInvalid}
		wantID := []string{"101", "", "", "", "102", "101", "103", ""}
		for i, o := range out {
			switch {
			case wantErr[i] != nil && !errors.Is(o.Err, wantErr[i]):
				t.Errorf("request %d: error %v, want %v", i, o.Err, wantErr[i])
			case wantErr[i] == nil && o.Err != nil:
				t.Errorf("request %d: %v", i, o.Err)
			case wantErr[i] == nil && (o.Receipt == nil || o.Receipt.CustomerID != wantID[i]):
				t.Errorf("request %d: receipt %+v, want customer %s", i, o.Receipt, wantID[i])
			case wantErr[i] != nil && o.Receipt != nil:
				t.Errorf("request %d: a receipt and an error", i)
			}
		}
		if rc := out[6].Receipt; rc == nil || !rc.DryRun || rc.RowsDeleted[forget.MemberNote] != 3 {
			t.Errorf("dry run receipt = %+v", rc)
		}
		after := snapshot(t, b)
		checkForgotten(t, byID["101"], before["101"], after["101"], nil)
		checkForgotten(t, byID["102"], before["102"], after["102"], map[string]bool{"member_note": true})
		if !before["103"].Equal(after["103"]) {
			t.Error("customer 103 changed in a dry run")
		}
	})

	t.Run("ConcurrentForgets", func(t *testing.T) {
		b, f, before := setup(t)
		reqs := []forget.Request{
			{Lookup: forget.Lookup{CustomerID: "101"}},
			{Lookup: forget.Lookup{SubscriptionID: "1011"}},
			{Lookup: forget.Lookup{OrderID: "10102"}},
			{Lookup: forget.Lookup{CustomerID: "101"}, DryRun: true},
			{Lookup: forget.Lookup{CustomerID: "102"}},
			{Lookup: forget.Lookup{OrderID: "10203"}},
			{Lookup: forget.Lookup{CustomerID: "102"}, DryRun: true},
			{Lookup: forget.Lookup{CustomerID: "101", OrderID: "10201"}}, // conflict
		}
		const rounds = 3
		var wg sync.WaitGroup
		errs := make(chan error, len(reqs)*rounds)
		for range rounds {
			for _, req := range reqs {
				wg.Go(func() {
					_, err := f.Forget(ctx, req)
					if req.Lookup.CustomerID == "101" && req.Lookup.OrderID == "10201" {
						if !errors.Is(err, forget.ErrConflict) {
							errs <- fmt.Errorf("conflicting lookup: %v, want ErrConflict", err)
						}
						return
					}
					if err != nil {
						errs <- fmt.Errorf("Forget(%+v): %w", req.Lookup, err)
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		after := snapshot(t, b)
		checkForgotten(t, byID["101"], before["101"], after["101"], nil)
		checkForgotten(t, byID["102"], before["102"], after["102"], nil)
		if !before["103"].Equal(after["103"]) {
			t.Error("customer 103 changed")
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func snapshot(t *testing.T, b Backend) Snapshot {
	t.Helper()
	s, err := b.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return s
}

func allNames() string {
	var names []string
	c := forget.DefaultCatalogue()
	for _, f := range c.Fields {
		names = append(names, string(f.Name))
	}
	for _, t := range c.Tables {
		names = append(names, string(t.Name))
	}
	return strings.Join(names, ",")
}

// checkForgotten checks one customer's state after a forget that kept the
// names in kept: kept entries unchanged, the rest erased by the default
// rules.
func checkForgotten(t *testing.T, seeded Customer, before, after State, kept map[string]bool) {
	t.Helper()
	for _, fs := range forget.DefaultCatalogue().Fields {
		name := fs.Name
		old, now := before.Fields[name], after.Fields[name]
		if kept[string(name)] {
			if now != old {
				t.Errorf("kept field %s changed", name)
			}
			continue
		}
		if now.Null {
			t.Errorf("%s is NULL; the default rule never writes NULL", name)
			continue
		}
		switch out := fs.Rule.Output(); {
		case !out.Distinct:
			if now.String != "" {
				t.Errorf("%s = %d characters, want empty", name, len(now.String))
			}
		default: // a pseudonym or a random value
			if len(now.String) < 22 || len(now.String) > 32 {
				t.Errorf("%s has %d characters, want 22..32 (128 bits that fit a 32-character column)", name, len(now.String))
			}
			if old := seeded.Fields[name]; old != "" && strings.Contains(now.String, old) {
				t.Errorf("%s holds something of the old value", name)
			}
		}
		if now.String == seeded.Fields[name] && seeded.Fields[name] != "" {
			t.Errorf("%s still holds its old value", name)
		}
	}
	for _, ts := range forget.DefaultCatalogue().Tables {
		if kept[string(ts.Name)] {
			if after.Rows[ts.Name] != before.Rows[ts.Name] {
				t.Errorf("kept table %s went from %d to %d rows", ts.Name, before.Rows[ts.Name], after.Rows[ts.Name])
			}
		} else if after.Rows[ts.Name] != 0 {
			t.Errorf("table %s still has %d rows", ts.Name, after.Rows[ts.Name])
		}
	}
}

// checkUntouched checks that every customer but except is as it was.
func checkUntouched(t *testing.T, before, after Snapshot, except string) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("store had %d customers, now %d", len(before), len(after))
	}
	for id, st := range before {
		if id == except {
			continue
		}
		if !st.Equal(after[id]) {
			t.Errorf("customer %s changed", id)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
