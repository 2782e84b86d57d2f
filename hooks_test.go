package forget_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

func TestHooks(t *testing.T) {
	t.Parallel()
	store := seeded(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	var seen []forget.Receipt
	release := make(chan struct{})
	defer close(release)
	f, err := forget.New(store,
		forget.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		forget.WithHookTimeout(200*time.Millisecond),
		forget.WithHook("search-index", func(ctx context.Context, rc forget.Receipt) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, rc)
			rc.FieldsErased[0] = "tampered" // a hook's copy: the caller's receipt must not change
			return nil
		}),
		forget.WithHook("cache", func(context.Context, forget.Receipt) error { return errors.New("cache unreachable") }),
		forget.WithHook("crashy", func(context.Context, forget.Receipt) error { panic("boom") }),
		forget.WithHook("slow", func(ctx context.Context, _ forget.Receipt) error { <-release; return nil }),
	)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, RequestID: "req-1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cache", "crashy", "slow"}; !slices.Equal(rc.HooksFailed, want) {
		t.Errorf("hooks failed = %v, want %v", rc.HooksFailed, want)
	}
	if rc.FieldsErased[0] != forget.Username {
		t.Error("a hook changed the caller's receipt")
	}
	if c, _ := store.Customer("101"); c.Fields[forget.Firstname] != "" {
		t.Error("a failing hook undid the erasure")
	}
	mu.Lock()
	if len(seen) != 1 || seen[0].CustomerID != "101" || seen[0].RequestID != "req-1" {
		t.Errorf("the good hook saw %+v", seen)
	}
	mu.Unlock()
	for _, want := range []string{`hook=cache`, `hook=crashy`, `panicked: boom`, `hook=slow`, `did not finish within 200ms`, `request_id=req-1`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}

	// No hook runs for a dry run or a failed forget.
	if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "102"}, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "999"}}); !errors.Is(err, forget.ErrNotFound) {
		t.Fatal(err)
	}
	mu.Lock()
	if len(seen) != 1 {
		t.Errorf("hooks ran %d times, want once", len(seen))
	}
	mu.Unlock()
}

func TestHookValidation(t *testing.T) {
	t.Parallel()
	ok := func(context.Context, forget.Receipt) error { return nil }
	for _, opts := range [][]forget.Option{
		{forget.WithHook("", ok)},
		{forget.WithHook("a", nil)},
		{forget.WithHook("a", ok), forget.WithHook("a", ok)},
		// A bad value is refused, as sqlstore.WithAttempts(0) is, rather
		// than silently replaced by the default.
		{forget.WithHook("a", ok), forget.WithHookTimeout(-time.Second)},
		{forget.WithHookTimeout(0)},
	} {
		if _, err := forget.New(memstore.New(), opts...); err == nil {
			t.Error("New accepted a bad hook")
		}
	}
}

// TestAuditTrailMatchesErasures: memstore records a receipt with each
// erasure it applies, and none for dry runs or failures.
func TestAuditTrailMatchesErasures(t *testing.T) {
	t.Parallel()
	store := seeded(t, memstore.WithAudit())
	f := newForgetter(t, store)
	ctx := forget.WithPrincipal(context.Background(), "ops")
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Keep: []string{"firstname"}, RequestID: "r-1"})
	if err != nil {
		t.Fatal(err)
	}
	f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "102"}, DryRun: true})
	f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "102", OrderID: "10301"}})
	trail := mustTrail(t, store)
	if len(trail) != 1 {
		t.Fatalf("audit trail has %d records, want 1", len(trail))
	}
	got := trail[0]
	if got.CustomerID != "101" || got.Principal != "ops" || got.RequestID != "r-1" || !got.At.Equal(rc.At) ||
		!slices.Equal(got.FieldsKept, rc.FieldsKept) || !slices.Equal(got.FieldsErased, rc.FieldsErased) {
		t.Errorf("audit record %+v does not match receipt %+v", got, rc)
	}
}

// TestReplayAfterRestore: a restored backup brings a forgotten customer
// back; replaying the audit trail forgets it again, keeping what was kept.
func TestReplayAfterRestore(t *testing.T) {
	t.Parallel()
	live := seeded(t, memstore.WithAudit())
	f := newForgetter(t, live)
	ctx := context.Background()
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Keep: []string{"firstname,member_note"}}); err != nil {
		t.Fatal(err)
	}
	f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "102"}, DryRun: true})
	trail := mustTrail(t, live)

	restored := seeded(t) // the backup, taken before the forget
	rf := newForgetter(t, restored)
	if c, _ := restored.Customer("101"); c.Fields[forget.Lastname] == "" {
		t.Fatal("the restore should have brought customer 101 back")
	}
	out := rf.Replay(ctx, trail)
	if len(out) != 1 || out[0].Err != nil || out[0].Receipt.CustomerID != "101" {
		t.Fatalf("replay = %+v", out)
	}
	c, _ := restored.Customer("101")
	if c.Fields[forget.Lastname] != "" || c.Fields[forget.Firstname] == "" || len(restored.Rows(forget.MemberNote, "101")) != 3 || len(restored.Rows(forget.MemberAuth, "101")) != 0 {
		t.Error("replay did not forget 101 again as it was forgotten")
	}
	if !strings.HasPrefix(out[0].Receipt.Principal, "replay") {
		t.Errorf("replay principal = %q", out[0].Receipt.Principal)
	}
}

// TestReplayKeepsIgnoredHolds: a customer forgotten with a hold ignored
// (an operator cleared it) is forgotten again by the replay after a
// restore, the hold still ignored and the replay's receipt saying so;
// without that the hold refuses the replay and the customer comes back
// for good.
func TestReplayKeepsIgnoredHolds(t *testing.T) {
	t.Parallel()
	held := memstore.WithHold("chargeback", func(id string) bool { return id == "101" })
	live := seeded(t, memstore.WithAudit(), held)
	ctx := context.Background()
	if _, err := newForgetter(t, live).Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, IgnoreHolds: []string{"chargeback"}}); err != nil {
		t.Fatal(err)
	}
	trail := mustTrail(t, live)
	if len(trail) != 1 || !slices.Equal(trail[0].HoldsIgnored, []string{"chargeback"}) {
		t.Fatalf("audit trail = %+v, want one record with the hold ignored", trail)
	}

	restored := seeded(t, memstore.WithAudit(), held) // the backup, taken before the forget
	out := newForgetter(t, restored).Replay(ctx, trail)
	if len(out) != 1 || out[0].Err != nil {
		t.Fatalf("replay = %+v, want the customer forgotten again", out)
	}
	if !slices.Equal(out[0].Receipt.HoldsIgnored, []string{"chargeback"}) {
		t.Errorf("replay receipt holds_ignored = %v, want [chargeback]", out[0].Receipt.HoldsIgnored)
	}
	if c, _ := restored.Customer("101"); c.Fields[forget.Lastname] != "" {
		t.Error("customer 101 is back after the replay")
	}
	again := mustTrail(t, restored)
	if len(again) != 1 || again[0].Held != "" || !slices.Equal(again[0].HoldsIgnored, []string{"chargeback"}) {
		t.Errorf("restored audit trail = %+v, want the erasure with the hold ignored", again)
	}

	// A hold the restored store no longer declares is refused, not
	// silently dropped: nothing is erased.
	other := seeded(t, memstore.WithAudit())
	out = newForgetter(t, other).Replay(ctx, trail)
	var uh *forget.UnknownHoldError
	if !errors.As(out[0].Err, &uh) {
		t.Errorf("replay onto a store without the hold: %v, want an *UnknownHoldError", out[0].Err)
	}
	if c, _ := other.Customer("101"); c.Fields[forget.Lastname] == "" {
		t.Error("customer 101 erased though the hold to ignore is unknown")
	}
}
