package forget_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

// recorder is an Observer that keeps every report.
type recorder struct {
	mu    sync.Mutex
	stats []forget.ForgetStats
}

func (r *recorder) ForgetDone(_ context.Context, s forget.ForgetStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats = append(r.stats, s)
}

func (r *recorder) take() []forget.ForgetStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	r.stats = nil
	return s
}

// retriedStore fails every forget as a SQL store that retried does.
type retriedStore struct{ forget.Store }

func (retriedStore) Forget(context.Context, forget.Lookup, forget.Plan) (forget.Result, error) {
	return forget.Result{Attempts: 3}, errors.New("deadlock on customer 101-of-qzx")
}

// batchStore gives memstore a ForgetBatch, one Forget per item, so that
// the Forgetter takes its batch path.
type batchStore struct{ *memstore.Store }

func (b batchStore) ForgetBatch(ctx context.Context, items []forget.BatchItem) []forget.BatchResult {
	time.Sleep(time.Millisecond)
	out := make([]forget.BatchResult, len(items))
	for i, it := range items {
		out[i].Result, out[i].Err = b.Forget(ctx, it.Lookup, it.Plan)
		out[i].Result.Attempts = 2
	}
	return out
}

type obsCase struct {
	name    string
	req     forget.Request
	outcome string
	code    string
}

var obsCases = []obsCase{
	{name: "Forgotten", req: forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Keep: []string{"firstname"}}, outcome: forget.OutcomeForgotten},
	{name: "DryRun", req: forget.Request{Lookup: forget.Lookup{CustomerID: "102"}, DryRun: true}, outcome: forget.OutcomeDryRun},
	{name: "Invalid", req: forget.Request{Lookup: forget.Lookup{CustomerID: "102"}, Keep: []string{"no-such-field-qzx"}}, outcome: forget.OutcomeRefused, code: forget.CodeInvalid},
	{name: "NotFound", req: forget.Request{Lookup: forget.Lookup{CustomerID: "999"}}, outcome: forget.OutcomeRefused, code: forget.CodeNotFound},
	{name: "Conflict", req: forget.Request{Lookup: forget.Lookup{CustomerID: "102", SubscriptionID: "1031"}}, outcome: forget.OutcomeRefused, code: forget.CodeConflict},
	{name: "Held", req: forget.Request{Lookup: forget.Lookup{CustomerID: "103"}}, outcome: forget.OutcomeRefused, code: forget.CodeHeld},
}

func heldStore(t testing.TB) *memstore.Store {
	return seeded(t, memstore.WithHold("chargeback", func(id string) bool { return id == "103" }))
}

// TestObserverOutcomes: each kind of forget is reported once, with its
// outcome, code and counts, and a request's labels never reach it.
func TestObserverOutcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range obsCases {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			f := newForgetter(t, heldStore(t), forget.WithObserver(&rec))
			tc.req.Principal, tc.req.RequestID = "principal-qzx", "request-qzx"
			rc, err := f.Forget(context.Background(), tc.req)
			got := rec.take()
			if len(got) != 1 {
				t.Fatalf("%d reports, want 1", len(got))
			}
			s := got[0]
			if s.Outcome != tc.outcome || s.Code != tc.code || s.Batch || s.Duration <= 0 {
				t.Errorf("stats %+v (err %v), want outcome %q code %q", s, err, tc.outcome, tc.code)
			}
			if err != nil {
				if s.FieldsErased != 0 || s.Tables != nil {
					t.Errorf("a refusal reports %d fields and tables %v", s.FieldsErased, s.Tables)
				}
				return
			}
			if s.FieldsErased != len(rc.FieldsErased) || s.FieldsErased == 0 {
				t.Errorf("FieldsErased %d, receipt %d", s.FieldsErased, len(rc.FieldsErased))
			}
			want := []forget.TableRows{{Table: forget.MemberAuth, Rows: 2}, {Table: forget.MemberNote, Rows: 3}}
			if !slices.Equal(s.Tables, want) {
				t.Errorf("Tables %v, want %v", s.Tables, want)
			}
			noIdentifiers(t, s)
		})
	}
}

// noIdentifiers fails when a report holds anything of the customer or
// the request.
func noIdentifiers(t *testing.T, s forget.ForgetStats) {
	t.Helper()
	s.Duration = 0 // its digits may spell an id
	text := fmt.Sprintf("%#v", s)
	for _, v := range []string{"qzx", "101", "102", "103", "principal", "request-"} {
		if strings.Contains(text, v) {
			t.Errorf("the report holds %q: %s", v, text)
		}
	}
}

// TestObserverFailures: a store's failure is reported as failed/internal
// with the attempts the store reports, a cancelled request as
// failed/canceled, and neither report quotes the error.
func TestObserverFailures(t *testing.T) {
	t.Parallel()
	var rec recorder
	f := newForgetter(t, retriedStore{seeded(t)}, forget.WithObserver(&rec))
	if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "101"}}); err == nil {
		t.Fatal("no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}})
	got := rec.take()
	if len(got) != 2 {
		t.Fatalf("%d reports, want 2", len(got))
	}
	if s := got[0]; s.Outcome != forget.OutcomeFailed || s.Code != forget.CodeInternal || s.Attempts != 3 {
		t.Errorf("failure reported as %+v, want failed/internal after 3 attempts", s)
	}
	if s := got[1]; s.Outcome != forget.OutcomeFailed || s.Code != forget.CodeCanceled {
		t.Errorf("cancelled forget reported as %+v, want failed/canceled", s)
	}
	for _, s := range got {
		noIdentifiers(t, s)
	}
}

// TestObserverHooks: hooks that fail, panic or outlast the timeout are
// reported by name and reason; the receipt still names them.
func TestObserverHooks(t *testing.T) {
	t.Parallel()
	var rec recorder
	block := make(chan struct{})
	defer close(block)
	f := newForgetter(t, seeded(t), forget.WithObserver(&rec),
		forget.WithHookTimeout(50*time.Millisecond),
		forget.WithHook("fine", func(context.Context, forget.Receipt) error { return nil }),
		forget.WithHook("cache", func(context.Context, forget.Receipt) error { return errors.New("cache of 101-qzx down") }),
		forget.WithHook("index", func(context.Context, forget.Receipt) error { panic("index of 101-qzx") }),
		forget.WithHook("crm", func(context.Context, forget.Receipt) error { <-block; return nil }),
	)
	rc, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "101"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rc.HooksFailed, []string{"cache", "index", "crm"}) {
		t.Errorf("receipt names %v", rc.HooksFailed)
	}
	got := rec.take()
	want := []forget.HookFailure{{Hook: "cache", Reason: forget.HookError}, {Hook: "index", Reason: forget.HookPanic}, {Hook: "crm", Reason: forget.HookTimeout}}
	if len(got) != 1 || got[0].Outcome != forget.OutcomeForgotten || !slices.Equal(got[0].HookFailures, want) {
		t.Fatalf("reports %+v, want one forgotten with hook failures %v", got, want)
	}
	if got[0].Duration < 50*time.Millisecond {
		t.Errorf("duration %v does not include the hooks' wait", got[0].Duration)
	}
	noIdentifiers(t, got[0])
}

// TestObserverBatch: a batch reports once per request, refusals found
// before the store included; the store's items carry Batch, its
// attempts and a share of its time.
func TestObserverBatch(t *testing.T) {
	t.Parallel()
	var rec recorder
	f := newForgetter(t, batchStore{heldStore(t)}, forget.WithObserver(&rec))
	var reqs []forget.Request
	for _, tc := range obsCases {
		reqs = append(reqs, tc.req)
	}
	outs := f.ForgetBatch(context.Background(), reqs)
	got := rec.take()
	if len(got) != len(reqs) {
		t.Fatalf("%d reports for %d requests", len(got), len(reqs))
	}
	count := map[string]int{}
	for _, s := range got {
		count[s.Outcome+"/"+s.Code]++
		noIdentifiers(t, s)
		if s.Code == forget.CodeInvalid {
			if s.Batch {
				t.Errorf("a request refused before the store is reported as batched: %+v", s)
			}
			continue
		}
		if !s.Batch || s.Attempts != 2 || s.Duration <= 0 {
			t.Errorf("batched item reported as %+v", s)
		}
	}
	for i, tc := range obsCases {
		if count[tc.outcome+"/"+tc.code] == 0 {
			t.Errorf("%s: no report %s/%s (outcome err %v); got %v", tc.name, tc.outcome, tc.code, outs[i].Err, count)
		}
	}
}

// TestObserverPanics: a panicking observer fails nothing and the panic's
// value is not logged; the other observers are still told.
func TestObserverPanics(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var rec recorder
	st := seeded(t)
	f, err := forget.New(st,
		forget.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		forget.WithObserver(forget.ObserverFunc(func(context.Context, forget.ForgetStats) { panic("secret-qzx") })),
		forget.WithObserver(nil),
		forget.WithObserver(&rec))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "101"}})
	if err != nil || rc == nil {
		t.Fatalf("Forget: %v %v", rc, err)
	}
	if c, _ := st.Customer("101"); c.Fields[forget.Phone] != "" {
		t.Error("the forget did not happen")
	}
	if len(rec.take()) != 1 {
		t.Error("the second observer was not told")
	}
	if !strings.Contains(logs.String(), "observer panicked") || strings.Contains(logs.String(), "secret-qzx") {
		t.Errorf("log: %s", logs.String())
	}
}

// TestObserverConcurrent: concurrent forgets each report once (run with
// -race).
func TestObserverConcurrent(t *testing.T) {
	t.Parallel()
	var rec recorder
	f := newForgetter(t, seeded(t), forget.WithObserver(&rec))
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			id := []string{"101", "102", "103", "999"}[i%4]
			f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: id}})
		})
	}
	wg.Wait()
	if n := len(rec.take()); n != 32 {
		t.Errorf("%d reports for 32 forgets", n)
	}
}

// Count forgets by outcome and code, for a host's own metrics (the
// observe/prometheus package does this for Prometheus).
func ExampleWithObserver() {
	store := memstore.New()
	store.Add(memstore.Customer{ID: "191", Fields: map[forget.Field]string{forget.Username: "jdoe"}})

	var mu sync.Mutex
	counts := map[string]int{}
	obs := forget.ObserverFunc(func(_ context.Context, s forget.ForgetStats) {
		mu.Lock()
		defer mu.Unlock()
		counts[s.Outcome+" "+s.Code]++
	})
	f, err := forget.New(store, forget.WithObserver(obs), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "191"}, DryRun: true})
	f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "191"}})
	f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "404"}})
	fmt.Println(counts)
	// Output:
	// map[dry_run :1 forgotten :1 refused not_found:1]
}
