// The conformance cases, one function each; Run lists them in cases.

package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/forgetkit/forget"
)

func testLookup(t *testing.T, s *suite) {
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
		t.Run(tc.name, func(t *testing.T) {
			b, f, before := s.setup(t)
			rc, err := f.Forget(s.ctx, forget.Request{Lookup: tc.lookup})
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
			checkForgotten(t, s.byID["101"], before["101"], after["101"], nil)
			checkUntouched(t, before, after, "101")
		})
	}
}

func testKeep(t *testing.T, s *suite) {
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
		t.Run(tc.name, func(t *testing.T) {
			b, f, before := s.setup(t)
			rc, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Keep: tc.keep})
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
			checkForgotten(t, s.byID["101"], before["101"], after["101"], kept)
			checkUntouched(t, before, after, "101")
		})
	}
}

func testRefusal(t *testing.T, s *suite) {
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
			b, f, before := s.setup(t)
			for _, dry := range []bool{false, true} {
				req := tc.req
				req.DryRun = dry
				rc, err := f.Forget(s.ctx, req)
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
}

func testUnknownKeepListsEveryName(t *testing.T, s *suite) {
	_, f, _ := s.setup(t)
	_, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Keep: []string{"firstnme, Phone ,member_notes", "bogus"}})
	var un *forget.UnknownNamesError
	if !errors.As(err, &un) {
		t.Fatalf("error = %v, want *UnknownNamesError", err)
	}
	if want := []string{"firstnme", "member_notes", "bogus"}; !slices.Equal(un.Names, want) {
		t.Errorf("unknown names = %q, want %q", un.Names, want)
	}
}

func testIdempotentSecondForget(t *testing.T, s *suite) {
	b, f, before := s.setup(t)
	req := forget.Request{Lookup: forget.Lookup{OrderID: "10101"}}
	if _, err := f.Forget(s.ctx, req); err != nil {
		t.Fatalf("first Forget: %v", err)
	}
	rc, err := f.Forget(s.ctx, req)
	if err != nil {
		t.Fatalf("second Forget: %v", err)
	}
	if rc.CustomerID != "101" || rc.RowsDeleted[forget.MemberNote] != 0 || rc.RowsDeleted[forget.MemberAuth] != 0 {
		t.Errorf("second receipt = %+v, want customer 101 with no rows left to delete", rc)
	}
	after := snapshot(t, b)
	checkForgotten(t, s.byID["101"], before["101"], after["101"], nil)
	checkUntouched(t, before, after, "101")
}

func testAmbiguousOrderIsConflict(t *testing.T, s *suite) {
	b, f, _ := s.setup(t)
	sharer, ok := b.(OrderSharer)
	if !ok {
		t.Skip("the backend cannot hold an orderid shared by two customers")
	}
	// 10101 is 101's; give it to 102 as well.
	if err := sharer.ShareOrder(s.ctx, "10101", "102"); err != nil {
		t.Fatalf("ShareOrder: %v", err)
	}
	before := snapshot(t, b)
	for _, dry := range []bool{false, true} {
		_, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{OrderID: "10101"}, DryRun: dry})
		if !errors.Is(err, forget.ErrConflict) {
			t.Errorf("Forget(orderid held by two customers, dry run %v) = %v, want ErrConflict", dry, err)
		}
	}
	// With the customer named too, the order still names two.
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101", OrderID: "10101"}}); !errors.Is(err, forget.ErrConflict) {
		t.Errorf("Forget(customer_id and ambiguous orderid) = %v, want ErrConflict", err)
	}
	checkUntouched(t, before, snapshot(t, b), "")
}

func testKeyNeverErased(t *testing.T, s *suite) {
	b, f, before := s.setup(t)
	rc, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{SubscriptionID: "1011"}})
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
		rc, err := f.Forget(s.ctx, forget.Request{Lookup: l, DryRun: true})
		if err != nil || rc.CustomerID != "101" {
			t.Errorf("Forget(%+v) after the forget = %v, %v; want customer 101 still found", l, rc, err)
		}
	}
}

func testKeptValueNeverWritten(t *testing.T, s *suite) {
	var fields []string
	for _, fs := range forget.DefaultCatalogue().Fields {
		fields = append(fields, string(fs.Name))
	}
	b, f, before := s.setup(t)
	rc, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "102"}, Keep: []string{strings.Join(fields, ",")}})
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
}

func testHeldRefusedAndAudited(t *testing.T, s *suite) {
	b, f, before := s.holdSetup(t)
	for _, l := range []forget.Lookup{{CustomerID: "101"}, {OrderID: "10102"}} {
		for _, dry := range []bool{true, false} {
			_, err := f.Forget(s.ctx, forget.Request{Lookup: l, DryRun: dry, Principal: "ops"})
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
		recs, err := ab.AuditRecords(s.ctx)
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
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "102"}}); err != nil {
		t.Errorf("Forget(102): %v", err)
	}
}

func testHoldIgnoredByOperator(t *testing.T, s *suite) {
	b, f, before := s.holdSetup(t)
	rc, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, IgnoreHolds: []string{HoldName}})
	if err != nil {
		t.Fatalf("Forget ignoring the hold: %v", err)
	}
	if !slices.Equal(rc.HoldsIgnored, []string{HoldName}) {
		t.Errorf("receipt holds ignored = %v, want [%s]", rc.HoldsIgnored, HoldName)
	}
	after := snapshot(t, b)
	checkForgotten(t, s.byID["101"], before["101"], after["101"], nil)
	checkUntouched(t, before, after, "101")
	if ab, ok := b.(AuditBackend); ok {
		recs, err := ab.AuditRecords(s.ctx)
		if err != nil || len(recs) != 1 || !slices.Equal(recs[0].HoldsIgnored, []string{HoldName}) {
			t.Errorf("audit = %+v, %v; want one record listing the ignored hold", recs, err)
		}
	}
}

func testUnknownHoldToIgnore(t *testing.T, s *suite) {
	b, f, before := s.holdSetup(t)
	_, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, IgnoreHolds: []string{"open_chargebak"}})
	var uh *forget.UnknownHoldError
	if !errors.As(err, &uh) || !errors.Is(err, forget.ErrInvalid) {
		t.Errorf("Forget ignoring a misspelt hold = %v, want an UnknownHoldError", err)
	}
	checkUntouched(t, before, snapshot(t, b), "")
}

func testHeldInBatch(t *testing.T, s *suite) {
	b, f, before := s.holdSetup(t)
	out := f.ForgetBatch(s.ctx, []forget.Request{
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
	checkForgotten(t, s.byID["102"], before["102"], after["102"], nil)
	checkForgotten(t, s.byID["103"], before["103"], after["103"], nil)
	if ab, ok := b.(AuditBackend); ok {
		recs, err := ab.AuditRecords(s.ctx)
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
}

func testPseudonymsDistinct(t *testing.T, s *suite) {
	b, f, _ := s.setup(t)
	for _, id := range []string{"101", "102", "103"} {
		if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: id}}); err != nil {
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
}

func testDryRunChangesNothing(t *testing.T, s *suite) {
	b, f, before := s.setup(t)
	rc, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{SubscriptionID: "1021"}, Keep: []string{"member_auth"}, DryRun: true})
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
}

func testFixedRule(t *testing.T, s *suite) {
	cat := forget.DefaultCatalogue()
	must(t, cat.SetRule(forget.Country, forget.Fixed("XX")))
	b, f, before := s.setup(t, forget.WithCatalogue(cat))
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "103"}}); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	after := snapshot(t, b)
	if got := after["103"].Fields[forget.Country]; got != (forget.Value{String: "XX"}) {
		t.Errorf("country = %+v, want XX", got)
	}
	checkUntouched(t, before, after, "103")
}

func testNullRule(t *testing.T, s *suite) {
	// A store writes NULL where its column allows it; where a NOT
	// NULL constraint refuses it, the whole forget fails and nothing
	// changes.
	cat := forget.DefaultCatalogue()
	must(t, cat.SetRule(forget.Phone, forget.Null()))
	b, f, before := s.setup(t, forget.WithCatalogue(cat))
	_, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "103"}})
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
}

func testAtomicOnConstraintFailure(t *testing.T, s *suite) {
	// Giving 101 the username 102 holds breaks the unique index in the
	// middle of the transaction, after the lookup and lock: nothing
	// of 101 may change, its rows included.
	taken := s.byID["102"].Fields[forget.Username]
	cat := forget.DefaultCatalogue()
	must(t, cat.SetRule(forget.Username, forget.Fixed(taken)))
	b, f, before := s.setup(t, forget.WithCatalogue(cat))
	_, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}})
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
}

func testAtomicOnRuleFailure(t *testing.T, s *suite) {
	cat := forget.DefaultCatalogue()
	must(t, cat.SetRule(forget.Phone, forget.Func(func(forget.RuleInput) (forget.Value, error) {
		return forget.Value{}, errors.New("rule broke")
	})))
	b, f, before := s.setup(t, forget.WithCatalogue(cat))
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}}); err == nil {
		t.Fatal("Forget succeeded though a rule failed")
	}
	checkUntouched(t, before, snapshot(t, b), "")
}

func testBatch(t *testing.T, s *suite) {
	b, f, before := s.setup(t)
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
	out := f.ForgetBatch(s.ctx, reqs)
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
	checkForgotten(t, s.byID["101"], before["101"], after["101"], nil)
	checkForgotten(t, s.byID["102"], before["102"], after["102"], map[string]bool{"member_note": true})
	if !before["103"].Equal(after["103"]) {
		t.Error("customer 103 changed in a dry run")
	}
}

func testConcurrentForgets(t *testing.T, s *suite) {
	b, f, before := s.setup(t)
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
				_, err := f.Forget(s.ctx, req)
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
	checkForgotten(t, s.byID["101"], before["101"], after["101"], nil)
	checkForgotten(t, s.byID["102"], before["102"], after["102"], nil)
	if !before["103"].Equal(after["103"]) {
		t.Error("customer 103 changed")
	}
}
