// The conformance cases of lookups, keep sets and refusals, one function
// each; Run lists every case in cases.

package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
)

func testLookup(t *testing.T, s *suite) {
	lookups := []struct {
		name   string
		lookup forget.Lookup
	}{
		{"CustomerID", forget.Lookup{CustomerID: s.id(101)}},
		{"SubscriptionID", forget.Lookup{SubscriptionID: "1012"}},
		{"OrderID", forget.Lookup{OrderID: "10103"}},
		{"AllKeysAgree", forget.Lookup{CustomerID: s.id(101), SubscriptionID: "1011", OrderID: "10102"}},
		{"SpacesTrimmed", forget.Lookup{CustomerID: " " + s.id(101) + " ", SubscriptionID: "\t"}},
	}
	for _, tc := range lookups {
		t.Run(tc.name, func(t *testing.T) {
			rc := s.forget101(t, forget.Request{Lookup: tc.lookup}, nil)
			if rc.CustomerID != s.id(101) {
				t.Errorf("receipt customer_id = %q, want 101", rc.CustomerID)
			}
			wantRows := map[forget.Table]int64{forget.MemberAuth: 2, forget.MemberNote: 3}
			if !maps.Equal(rc.RowsDeleted, wantRows) {
				t.Errorf("rows deleted = %v, want %v", rc.RowsDeleted, wantRows)
			}
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
			kept := make(map[string]bool)
			for _, n := range tc.want {
				kept[n] = true
			}
			rc := s.forget101(t, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101)}, Keep: tc.keep}, kept)
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
		{"UnknownKeep", forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101)}, Keep: []string{"firstnme,member_notes,phone"}}, forget.ErrInvalid},
		{"CustomerNotFound", forget.Request{Lookup: forget.Lookup{CustomerID: s.id(999)}}, forget.ErrNotFound},
		{"SubscriptionNotFound", forget.Request{Lookup: forget.Lookup{SubscriptionID: "999"}}, forget.ErrNotFound},
		{"OrderNotFound", forget.Request{Lookup: forget.Lookup{OrderID: "999"}}, forget.ErrNotFound},
		{"OneKeyNotFound", forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101), OrderID: "999"}}, forget.ErrNotFound},
		{"ConflictCustomerOrder", forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101), OrderID: "10201"}}, forget.ErrConflict},
		{"ConflictSubscriptionOrder", forget.Request{Lookup: forget.Lookup{SubscriptionID: "1031", OrderID: "10201"}}, forget.ErrConflict},
	}
	for i, v := range s.keys.Malformed {
		refusals = append(refusals, struct {
			name string
			req  forget.Request
			want error
		}{fmt.Sprintf("MalformedForKeyType%d", i+1), forget.Request{Lookup: forget.Lookup{CustomerID: v}}, forget.ErrInvalid})
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
	_, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101)}, Keep: []string{"firstnme, Phone ,member_notes", "bogus"}})
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
	if rc.CustomerID != s.id(101) || rc.RowsDeleted[forget.MemberNote] != 0 || rc.RowsDeleted[forget.MemberAuth] != 0 {
		t.Errorf("second receipt = %+v, want customer 101 with no rows left to delete", rc)
	}
	after := snapshot(t, b)
	checkForgotten(t, s.byID[s.id(101)], before[s.id(101)], after[s.id(101)], nil)
	checkUntouched(t, before, after, s.id(101))
}

func testAmbiguousOrderIsConflict(t *testing.T, s *suite) {
	b, f, _ := s.setup(t)
	sharer, ok := b.(OrderSharer)
	if !ok {
		t.Skip("the backend cannot hold an orderid shared by two customers")
	}
	// 10101 is 101's; give it to 102 as well.
	if err := sharer.ShareOrder(s.ctx, "10101", s.id(102)); err != nil {
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
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101), OrderID: "10101"}}); !errors.Is(err, forget.ErrConflict) {
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
	if rc.CustomerID != s.id(101) {
		t.Errorf("receipt customer_id = %q, want the key 101", rc.CustomerID)
	}
	after := snapshot(t, b)
	if _, ok := after[s.id(101)]; !ok {
		t.Fatal("customer 101 is gone: the customer key was erased")
	}
	checkUntouched(t, before, after, s.id(101))
	// Every lookup key still names the customer.
	for _, l := range []forget.Lookup{{CustomerID: s.id(101)}, {SubscriptionID: "1012"}, {OrderID: "10103"}} {
		rc, err := f.Forget(s.ctx, forget.Request{Lookup: l, DryRun: true})
		if err != nil || rc.CustomerID != s.id(101) {
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
	rc, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(102)}, Keep: []string{strings.Join(fields, ",")}})
	if err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if len(rc.FieldsErased) != 0 {
		t.Errorf("receipt erased %v, want no field", rc.FieldsErased)
	}
	after := snapshot(t, b)
	if !maps.Equal(before[s.id(102)].Fields, after[s.id(102)].Fields) {
		t.Error("a forget that kept every field changed a field")
	}
	for _, ts := range forget.DefaultCatalogue().Tables {
		if after[s.id(102)].Rows[ts.Name] != 0 {
			t.Errorf("table %s not purged", ts.Name)
		}
	}
	checkUntouched(t, before, after, s.id(102))
}
