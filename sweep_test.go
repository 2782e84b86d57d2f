package forget_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/memseed"
	"github.com/forgetkit/forget/store/memstore"
)

const lastLogin forget.Field = "last_login"

var sweepNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// sweepStore holds customers 1..n: odd ones last active four years ago,
// even ones last month, every tenth with no activity at all, and 7 under
// a hold.
func sweepStore(t *testing.T, n int) (*memstore.Store, *forget.Forgetter) {
	t.Helper()
	cs := memseed.Users(1, n)
	for i, c := range cs {
		id := i + 1
		c.Fields[forget.Firstname] = "Ann"
		switch {
		case id%10 == 0:
		case id%2 == 1:
			c.Fields[lastLogin] = sweepNow.AddDate(-4, 0, -id).Format(time.RFC3339)
		default:
			c.Fields[lastLogin] = sweepNow.AddDate(0, -1, 0).Format(time.RFC3339)
		}
	}
	s := memseed.New(t, cs, memstore.WithAudit(), memstore.WithActivity(lastLogin), memstore.WithHold("chargeback", func(id string) bool { return id == "7" }))
	f, err := forget.New(s, forget.WithClock(func() time.Time { return sweepNow }), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return s, f
}

func TestSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, f := sweepStore(t, 50)
	cutoff := sweepNow.AddDate(-3, 0, 0)
	var progress []forget.SweepReport
	seen := map[string]bool{}
	rep, err := f.Sweep(ctx, forget.SweepOptions{InactiveSince: cutoff, Chunk: 4,
		Progress:  func(r forget.SweepReport) { progress = append(progress, r) },
		OnOutcome: func(id string, o forget.Outcome) { seen[id] = true },
	})
	if err != nil {
		t.Fatal(err)
	}
	// 25 odd customers: 7 is held, the rest forgotten.
	if rep.Tried != 25 || rep.Forgotten != 24 || rep.Held != 1 || rep.HeldBy["chargeback"] != 1 || rep.Failed != 0 || rep.NotFound != 0 {
		t.Fatalf("report %+v", rep)
	}
	if len(progress) != 7 || progress[len(progress)-1].Tried != 25 {
		t.Errorf("progress after every chunk of 4: got %d calls, last %+v", len(progress), progress[len(progress)-1])
	}
	for id := 1; id <= 50; id++ {
		c, _ := s.Customer(strconv.Itoa(id))
		wantGone := id%2 == 1 && id != 7
		if gone := c.Fields[forget.Firstname] == ""; gone != wantGone {
			t.Errorf("customer %d: forgotten %v, want %v", id, gone, wantGone)
		}
		if seen[strconv.Itoa(id)] != (id%2 == 1) {
			t.Errorf("customer %d: outcome reported %v", id, seen[strconv.Itoa(id)])
		}
		if c.Fields[lastLogin] == "" && id%10 != 0 {
			t.Errorf("customer %d lost its activity column, which is no catalogue field", id)
		}
	}
	records := len(auditOf(t, s))

	// Run again: nobody is forgotten twice; the held one is tried again
	// (its hold may have been lifted) and refused again.
	rep, err = f.Sweep(ctx, forget.SweepOptions{InactiveSince: cutoff})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tried != 1 || rep.Held != 1 || rep.Forgotten != 0 {
		t.Fatalf("second sweep: %+v, want only the held customer tried", rep)
	}
	if got := len(auditOf(t, s)); got != records+1 {
		t.Errorf("second sweep wrote %d audit records, want 1 (the refusal)", got-records)
	}
}

func TestSweepLimitAndDryRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, f := sweepStore(t, 50)
	cutoff := sweepNow.AddDate(-3, 0, 0)
	rep, err := f.Sweep(ctx, forget.SweepOptions{InactiveSince: cutoff, DryRun: true, Chunk: 3})
	if err != nil || rep.Tried != 25 || rep.Forgotten != 24 || !rep.DryRun {
		t.Fatalf("dry run: %+v, %v", rep, err)
	}
	if len(auditOf(t, s)) != 0 {
		t.Fatal("a dry run recorded something")
	}
	rep, err = f.Sweep(ctx, forget.SweepOptions{InactiveSince: cutoff, Limit: 10, Chunk: 4})
	if err != nil || rep.Tried != 10 {
		t.Fatalf("limit 10: %+v, %v", rep, err)
	}
	rep, err = f.Sweep(ctx, forget.SweepOptions{InactiveSince: cutoff})
	if err != nil || rep.Tried != 15 || rep.Forgotten != 14 {
		t.Fatalf("the rest: %+v, %v", rep, err)
	}
}

// A customer forgotten earlier with something kept is swept all the
// same: retention erases everything.
func TestSweepAfterPartialForget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, f := sweepStore(t, 5)
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "3"}, Keep: []string{"firstname"}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Customer("3"); c.Fields[forget.Firstname] != "Ann" {
		t.Fatal("the keep list was not kept")
	}
	rep, err := f.Sweep(ctx, forget.SweepOptions{InactiveSince: sweepNow.AddDate(-3, 0, 0)})
	if err != nil || rep.Forgotten != 3 { // 1, 3 and 5
		t.Fatalf("%+v, %v", rep, err)
	}
	if c, _ := s.Customer("3"); c.Fields[forget.Firstname] != "" {
		t.Error("the sweep skipped a customer forgotten with a keep list")
	}
}

func TestSweepRefusesBadOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, f := sweepStore(t, 5)
	for _, tc := range []struct {
		name string
		opt  forget.SweepOptions
	}{
		{"NoCutoff", forget.SweepOptions{}},
		{"FutureCutoff", forget.SweepOptions{InactiveSince: sweepNow.Add(time.Hour)}},
		{"NegativeLimit", forget.SweepOptions{InactiveSince: sweepNow.AddDate(-1, 0, 0), Limit: -1}},
		{"HugeChunk", forget.SweepOptions{InactiveSince: sweepNow.AddDate(-1, 0, 0), Chunk: 1 << 20}},
		{"ControlInPrincipal", forget.SweepOptions{InactiveSince: sweepNow.AddDate(-1, 0, 0), Principal: "ops\njane"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := f.Sweep(ctx, tc.opt)
			if !errors.Is(err, forget.ErrInvalid) || rep.Tried != 0 {
				t.Fatalf("%+v, %v; want ErrInvalid and nothing tried", rep, err)
			}
		})
	}
	if len(auditOf(t, s)) != 0 {
		t.Error("a refused sweep changed something")
	}
	// A store that cannot sweep (no activity fields) says so.
	plain, _ := forget.New(memstore.New(), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if _, err := plain.Sweep(ctx, forget.SweepOptions{InactiveSince: sweepNow}); err == nil {
		t.Error("a store without activity fields swept")
	}
	// So does a store with activity but without an audit trail.
	if _, _, err := memstore.New(memstore.WithActivity(lastLogin)).Inactive(ctx, sweepNow, "", 10); err == nil {
		t.Error("a store without an audit trail found inactive customers")
	}
}

func TestSweepCancelled(t *testing.T) {
	t.Parallel()
	s, f := sweepStore(t, 40)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	rep, err := f.Sweep(ctx, forget.SweepOptions{InactiveSince: sweepNow.AddDate(-3, 0, 0), Chunk: 5,
		Progress: func(forget.SweepReport) {
			if calls++; calls == 2 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) || rep.Tried != 10 {
		t.Fatalf("%+v, %v; want 10 tried and context.Canceled", rep, err)
	}
	forgotten := 0
	for id := 1; id <= 40; id++ {
		if c, _ := s.Customer(fmt.Sprint(id)); c.Fields[forget.Firstname] == "" {
			forgotten++
		}
	}
	if forgotten != rep.Forgotten {
		t.Errorf("%d customers forgotten, the report says %d", forgotten, rep.Forgotten)
	}
}

func auditOf(t *testing.T, s *memstore.Store) []forget.Receipt {
	t.Helper()
	rcs, err := s.AuditTrail(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return rcs
}
