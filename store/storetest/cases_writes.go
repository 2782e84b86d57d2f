// The conformance cases of what a forget writes: rules, dry runs,
// atomicity, batches and concurrent forgets.

package storetest

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/forgetkit/forget"
)

func testPseudonymsDistinct(t *testing.T, s *suite) {
	b, f, _ := s.setup(t)
	for _, id := range []string{s.id(101), s.id(102), s.id(103)} {
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
	if !rc.DryRun || rc.CustomerID != s.id(102) {
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
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(103)}}); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	after := snapshot(t, b)
	if got := after[s.id(103)].Fields[forget.Country]; got != (forget.Value{String: "XX"}) {
		t.Errorf("country = %+v, want XX", got)
	}
	checkUntouched(t, before, after, s.id(103))
}

func testNullRule(t *testing.T, s *suite) {
	// A store writes NULL where its column allows it; where a NOT
	// NULL constraint refuses it, the whole forget fails and nothing
	// changes.
	cat := forget.DefaultCatalogue()
	must(t, cat.SetRule(forget.Phone, forget.Null()))
	b, f, before := s.setup(t, forget.WithCatalogue(cat))
	_, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(103)}})
	after := snapshot(t, b)
	if err != nil {
		t.Logf("NULL refused: %v", err)
		checkUntouched(t, before, after, "")
		return
	}
	if got := after[s.id(103)].Fields[forget.Phone]; !got.Null {
		t.Errorf("phone = %+v, want NULL", got)
	}
	checkUntouched(t, before, after, s.id(103))
}

func testAtomicOnConstraintFailure(t *testing.T, s *suite) {
	// Giving 101 the username 102 holds breaks the unique index in the
	// middle of the transaction, after the lookup and lock: nothing
	// of 101 may change, its rows included.
	taken := s.byID[s.id(102)].Fields[forget.Username]
	cat := forget.DefaultCatalogue()
	must(t, cat.SetRule(forget.Username, forget.Fixed(taken)))
	b, f, before := s.setup(t, forget.WithCatalogue(cat))
	_, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101)}})
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
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101)}}); err == nil {
		t.Fatal("Forget succeeded though a rule failed")
	}
	checkUntouched(t, before, snapshot(t, b), "")
}

func testBatch(t *testing.T, s *suite) {
	b, f, before := s.setup(t)
	reqs := []forget.Request{
		{Lookup: forget.Lookup{CustomerID: s.id(101)}},
		{Lookup: forget.Lookup{CustomerID: s.id(999)}},                             // not found
		{Lookup: forget.Lookup{CustomerID: s.id(102)}, Keep: []string{"firstnme"}}, // invalid
		{Lookup: forget.Lookup{CustomerID: s.id(102), OrderID: "10301"}},           // conflict
		{Lookup: forget.Lookup{OrderID: "10203"}, Keep: []string{"member_note"}},   // 102
		{Lookup: forget.Lookup{SubscriptionID: "1011"}},                            // 101 again
		{Lookup: forget.Lookup{CustomerID: s.id(103)}, DryRun: true},               // changes nothing
		{Lookup: forget.Lookup{CustomerID: "abc"}},                                 // malformed
	}
	out := f.ForgetBatch(s.ctx, reqs)
	if len(out) != len(reqs) {
		t.Fatalf("%d outcomes for %d requests", len(out), len(reqs))
	}
	wantErr := []error{nil, forget.ErrNotFound, forget.ErrInvalid, forget.ErrConflict, nil, nil, nil, forget.ErrInvalid}
	wantID := []string{s.id(101), "", "", "", s.id(102), s.id(101), s.id(103), ""}
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
	checkForgotten(t, s.byID[s.id(101)], before[s.id(101)], after[s.id(101)], nil)
	checkForgotten(t, s.byID[s.id(102)], before[s.id(102)], after[s.id(102)], map[string]bool{"member_note": true})
	if !before[s.id(103)].Equal(after[s.id(103)]) {
		t.Error("customer 103 changed in a dry run")
	}
}

func testConcurrentForgets(t *testing.T, s *suite) {
	b, f, before := s.setup(t)
	reqs := []forget.Request{
		{Lookup: forget.Lookup{CustomerID: s.id(101)}},
		{Lookup: forget.Lookup{SubscriptionID: "1011"}},
		{Lookup: forget.Lookup{OrderID: "10102"}},
		{Lookup: forget.Lookup{CustomerID: s.id(101)}, DryRun: true},
		{Lookup: forget.Lookup{CustomerID: s.id(102)}},
		{Lookup: forget.Lookup{OrderID: "10203"}},
		{Lookup: forget.Lookup{CustomerID: s.id(102)}, DryRun: true},
		{Lookup: forget.Lookup{CustomerID: s.id(101), OrderID: "10201"}}, // conflict
	}
	const rounds = 3
	var wg sync.WaitGroup
	errs := make(chan error, len(reqs)*rounds)
	for range rounds {
		for _, req := range reqs {
			wg.Go(func() {
				_, err := f.Forget(s.ctx, req)
				if req.Lookup.CustomerID == s.id(101) && req.Lookup.OrderID == "10201" {
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
	checkForgotten(t, s.byID[s.id(101)], before[s.id(101)], after[s.id(101)], nil)
	checkForgotten(t, s.byID[s.id(102)], before[s.id(102)], after[s.id(102)], nil)
	if !before[s.id(103)].Equal(after[s.id(103)]) {
		t.Error("customer 103 changed")
	}
}
