// The conformance cases of receipts and audit records: they say what
// happened and nothing more.

package storetest

import (
	"errors"
	"testing"

	"github.com/forgetkit/forget"
)

// testReceipts runs the receipt cases, each a subtest.
func testReceipts(t *testing.T, s *suite) {
	t.Run("RefusalHasNoEvent", func(t *testing.T) { testRefusalHasNoEvent(t, s) })
}

// testRefusalHasNoEvent: a refusal by a hold is audited, but no event
// exists, so its record carries no event id nor a publication, in a
// single forget and in a batch alike; the erasure beside it has its id.
func testRefusalHasNoEvent(t *testing.T, s *suite) {
	b, f, _ := s.holdSetup(t)
	ab, ok := b.(AuditBackend)
	if !ok {
		t.Skip("the backend keeps no audit trail")
	}
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(101)}}); !errors.Is(err, forget.ErrHeld) {
		t.Fatalf("Forget(held customer) = %v, want ErrHeld", err)
	}
	out := f.ForgetBatch(s.ctx, []forget.Request{{Lookup: forget.Lookup{CustomerID: s.id(101)}}, {Lookup: forget.Lookup{CustomerID: s.id(102)}}})
	if !errors.Is(out[0].Err, forget.ErrHeld) || out[1].Err != nil {
		t.Fatalf("batch = %v, %v; want held, then forgotten", out[0].Err, out[1].Err)
	}
	recs, err := ab.AuditRecords(s.ctx)
	if err != nil {
		t.Fatal(err)
	}
	refusals := 0
	for _, r := range recs {
		switch {
		case r.Held != "":
			refusals++
			if r.EventID != "" {
				t.Errorf("refusal record of %s has event id %q; a refusal is no event", r.CustomerID, r.EventID)
			}
		case r.EventID == "":
			t.Errorf("erasure record of %s has no event id", r.CustomerID)
		}
	}
	if refusals != 2 || len(recs) != 3 {
		t.Errorf("%d audit records, %d refusals; want 3 records, 2 refusals", len(recs), refusals)
	}
	if ob, ok := b.(forget.Outbox); ok {
		claim, err := ob.ClaimEvents(s.ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		defer claim.Release()
		if evs := claim.Events(); len(evs) != 1 || evs[0].CustomerID != s.id(102) {
			t.Errorf("outbox claims %d events (%+v); want the one erasure of 102", len(evs), evs)
		}
	}
}
