// The conformance cases of repeats (forget.Result.Repeat): a full forget
// of a customer fully forgotten before, with nothing left to erase, is
// audited as a repeat and, unless asked to propagate it, is no event to
// send. Stores that keep no audit trail (no AuditBackend) are skipped.

package storetest

import (
	"slices"
	"testing"

	"github.com/forgetkit/forget"
)

func testRepeat(t *testing.T, s *suite) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *suite, Backend, *forget.Forgetter)
	}{
		{"SecondFullForget", testRepeatSecond},
		{"KeptIsNoRepeat", testRepeatKept},
		{"Batch", testRepeatBatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, f, _ := s.setup(t)
			if _, ok := b.(AuditBackend); !ok {
				t.Skip("the backend keeps no audit trail (no AuditBackend): no repeat can be told")
			}
			c.fn(t, s, b, f)
		})
	}
}

func (s *suite) forgetReq(t *testing.T, f *forget.Forgetter, req forget.Request) *forget.Receipt {
	t.Helper()
	rc, err := f.Forget(s.ctx, req)
	if err != nil {
		t.Fatalf("Forget(%+v): %v", req.Lookup, err)
	}
	return rc
}

// testRepeatSecond: the second full forget is a repeat that deletes
// nothing, is audited and (an Outbox) is born published; one asked to
// repropagate is a repeat too, and an event to send; a dry run says
// whether the real forget would be one.
func testRepeatSecond(t *testing.T, s *suite, b Backend, f *forget.Forgetter) {
	id := s.id(101)
	first := s.forgetID(t, f, id)
	if first.Repeat {
		t.Fatal("the first forget of customer 101 is marked a repeat")
	}
	dry := s.forgetReq(t, f, forget.Request{Lookup: forget.Lookup{CustomerID: id}, DryRun: true})
	second := s.forgetID(t, f, id)
	if !second.Repeat || !dry.Repeat {
		t.Fatalf("forgetting 101 again: repeat = %v (dry run %v), want true", second.Repeat, dry.Repeat)
	}
	if second.EventID == "" || second.EventID == first.EventID {
		t.Errorf("a repeat's event id = %q, want its own (the first's is %q)", second.EventID, first.EventID)
	}
	for table, n := range second.RowsDeleted {
		if n != 0 {
			t.Errorf("a repeat deleted %d rows of %s", n, table)
		}
	}
	if !slices.Equal(second.FieldsErased, first.FieldsErased) {
		t.Errorf("a repeat's fields erased = %v, want the first's %v", second.FieldsErased, first.FieldsErased)
	}
	records, err := b.(AuditBackend).AuditRecords(s.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := auditedEvents(records, id); !slices.Equal(got, ids(first, second)) {
		t.Errorf("audit records of 101 = %v, want both forgets %v", got, ids(first, second))
	}
	o, ok := b.(forget.Outbox)
	if !ok {
		return
	}
	c := s.claim(t, o, 10)
	got := eventIDs(c)
	if !slices.Equal(got, ids(first)) {
		c.Release()
		t.Fatalf("ClaimEvents = %v, want the first forget's event alone %v: a repeat sends none", got, ids(first))
	}
	must(t, c.MarkPublished(s.ctx, got, first.At))
	evs, err := o.CustomerEvents(s.ctx, id)
	if err != nil || len(evs) != 2 || evs[1].EventID != second.EventID || evs[1].PublishedAt.IsZero() {
		t.Fatalf("CustomerEvents(101) = %d events, %v; want the repeat's second, published already", len(evs), err)
	}
	again := s.forgetReq(t, f, forget.Request{Lookup: forget.Lookup{CustomerID: id}, Repropagate: true})
	if !again.Repeat {
		t.Error("a repropagated repeat is not marked a repeat")
	}
	c = s.claim(t, o, 10)
	defer c.Release()
	if got := eventIDs(c); !slices.Equal(got, ids(again)) {
		t.Fatalf("ClaimEvents = %v, want the repropagated repeat's event %v", got, ids(again))
	}
}

// auditedEvents returns the event ids of customer id's audit records.
func auditedEvents(records []forget.Receipt, id string) []string {
	var out []string
	for _, rc := range records {
		if rc.CustomerID == id {
			out = append(out, rc.EventID)
		}
	}
	return out
}

// testRepeatKept: a forget that keeps something is never a repeat, and
// a full forget after it is not either while a kept field still holds
// its value; the next full forget is.
func testRepeatKept(t *testing.T, s *suite, _ Backend, f *forget.Forgetter) {
	id := s.id(102)
	keep := forget.Request{Lookup: forget.Lookup{CustomerID: id}, Keep: []string{"firstname"}}
	for i := range 2 {
		if rc := s.forgetReq(t, f, keep); rc.Repeat {
			t.Fatalf("forget %d keeping firstname is marked a repeat", i+1)
		}
	}
	if rc := s.forgetID(t, f, id); rc.Repeat {
		t.Fatal("the full forget that erased the kept firstname is marked a repeat")
	}
	if rc := s.forgetID(t, f, id); !rc.Repeat {
		t.Fatal("the full forget after a full forget is not marked a repeat")
	}
}

// testRepeatBatch: a batch run again is all repeats, and (an Outbox) no
// new event.
func testRepeatBatch(t *testing.T, s *suite, b Backend, f *forget.Forgetter) {
	reqs := []forget.Request{{Lookup: forget.Lookup{CustomerID: s.id(101)}}, {Lookup: forget.Lookup{CustomerID: s.id(102)}}}
	var first []*forget.Receipt
	for run := range 2 {
		for i, o := range f.ForgetBatch(s.ctx, reqs) {
			if o.Err != nil {
				t.Fatalf("run %d, item %d: %v", run+1, i, o.Err)
			}
			if o.Receipt.Repeat != (run == 1) {
				t.Errorf("run %d, item %d: repeat = %v, want %v", run+1, i, o.Receipt.Repeat, run == 1)
			}
			if run == 0 {
				first = append(first, o.Receipt)
			}
		}
	}
	o, ok := b.(forget.Outbox)
	if !ok {
		return
	}
	c := s.claim(t, o, 10)
	defer c.Release()
	if got := eventIDs(c); !slices.Equal(got, ids(first...)) {
		t.Fatalf("ClaimEvents = %v, want the first run's events alone %v", got, ids(first...))
	}
}
