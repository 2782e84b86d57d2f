// The conformance cases of holds: refused and audited, ignored by an
// operator, and in a batch.

package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/forgetkit/forget"
)

func testHeldRefusedAndAudited(t *testing.T, s *suite) {
	b, f, before := s.holdSetup(t)
	for _, l := range []forget.Lookup{{CustomerID: s.id(101)}, {OrderID: "10102"}} {
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
			if r.Held != HoldName || r.CustomerID != s.id(101) || r.Principal != "ops" || len(r.FieldsErased) != 0 || len(r.RowsDeleted) != 0 {
				t.Errorf("refusal record = %+v, want hold %s, customer 101, principal ops, nothing erased", r, HoldName)
			}
		}
	}
	// Another customer is not held.
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(102)}}); err != nil {
		t.Errorf("Forget(102): %v", err)
	}
}

func testHoldIgnoredByOperator(t *testing.T, s *suite) {
	b, f, before := s.holdSetup(t)
	rc, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101)}, IgnoreHolds: []string{HoldName}})
	if err != nil {
		t.Fatalf("Forget ignoring the hold: %v", err)
	}
	if !slices.Equal(rc.HoldsIgnored, []string{HoldName}) {
		t.Errorf("receipt holds ignored = %v, want [%s]", rc.HoldsIgnored, HoldName)
	}
	after := snapshot(t, b)
	checkForgotten(t, s.byID[s.id(101)], before[s.id(101)], after[s.id(101)], nil)
	checkUntouched(t, before, after, s.id(101))
	if ab, ok := b.(AuditBackend); ok {
		recs, err := ab.AuditRecords(s.ctx)
		if err != nil || len(recs) != 1 || !slices.Equal(recs[0].HoldsIgnored, []string{HoldName}) {
			t.Errorf("audit = %+v, %v; want one record listing the ignored hold", recs, err)
		}
	}
}

func testUnknownHoldToIgnore(t *testing.T, s *suite) {
	b, f, before := s.holdSetup(t)
	_, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101)}, IgnoreHolds: []string{"open_chargebak"}})
	var uh *forget.UnknownHoldError
	if !errors.As(err, &uh) || !errors.Is(err, forget.ErrInvalid) {
		t.Errorf("Forget ignoring a misspelt hold = %v, want an UnknownHoldError", err)
	}
	checkUntouched(t, before, snapshot(t, b), "")
}

func testHeldInBatch(t *testing.T, s *suite) {
	b, f, before := s.holdSetup(t)
	out := f.ForgetBatch(s.ctx, []forget.Request{
		{Lookup: forget.Lookup{CustomerID: s.id(102)}},
		{Lookup: forget.Lookup{CustomerID: s.id(101)}},
		{Lookup: forget.Lookup{CustomerID: s.id(103)}},
	})
	if !errors.Is(out[1].Err, forget.ErrHeld) {
		t.Errorf("held customer in a batch: %v, want ErrHeld", out[1].Err)
	}
	if out[0].Err != nil || out[2].Err != nil {
		t.Errorf("others: %v, %v", out[0].Err, out[2].Err)
	}
	after := snapshot(t, b)
	if !before[s.id(101)].Equal(after[s.id(101)]) {
		t.Error("the held customer changed")
	}
	checkForgotten(t, s.byID[s.id(102)], before[s.id(102)], after[s.id(102)], nil)
	checkForgotten(t, s.byID[s.id(103)], before[s.id(103)], after[s.id(103)], nil)
	if ab, ok := b.(AuditBackend); ok {
		recs, err := ab.AuditRecords(s.ctx)
		held := 0
		for _, r := range recs {
			if r.Held == HoldName && r.CustomerID == s.id(101) {
				held++
			}
		}
		if err != nil || len(recs) != 3 || held != 1 {
			t.Errorf("audit = %d records (%d refusals of 101), %v; want 2 erasures and 1 refusal", len(recs), held, err)
		}
	}
}
