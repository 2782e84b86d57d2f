package forget_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

// firstPageBarrier holds every sweep's first page until n sweeps have
// read theirs: then all of them start on the same customers, which is
// what two sweeps started at once do.
type firstPageBarrier struct {
	forget.InactiveFinder
	wg *sync.WaitGroup
}

func (b firstPageBarrier) Inactive(ctx context.Context, cutoff time.Time, cursor string, limit int) ([]string, string, error) {
	ids, next, err := b.InactiveFinder.Inactive(ctx, cutoff, cursor, limit)
	if cursor == "" {
		b.wg.Done()
		b.wg.Wait()
	}
	return ids, next, err
}

// barrierSweeper is a memstore Store whose first pages wait for each
// other.
type barrierSweeper struct {
	*memstore.Store
	firstPageBarrier
}

func (b barrierSweeper) Inactive(ctx context.Context, cutoff time.Time, cursor string, limit int) ([]string, string, error) {
	return b.firstPageBarrier.Inactive(ctx, cutoff, cursor, limit)
}

// TestConcurrentSweepsForgetOnce: two sweeps at once over one store
// share the work: every inactive customer is forgotten once, with one
// audit record, and the other sweep counts it as already forgotten.
func TestConcurrentSweepsForgetOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := sweepStore(t, 200)
	var wg sync.WaitGroup
	wg.Add(2)
	reps := make([]forget.SweepReport, 2)
	errs := make([]error, 2)
	var run sync.WaitGroup
	for i := range 2 {
		f, err := forget.New(barrierSweeper{s, firstPageBarrier{s, &wg}}, forget.WithClock(func() time.Time { return sweepNow }), forget.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		run.Add(1)
		go func() {
			defer run.Done()
			reps[i], errs[i] = f.Sweep(ctx, forget.SweepOptions{InactiveSince: sweepNow.AddDate(-3, 0, 0), Chunk: 7})
		}()
	}
	run.Wait()
	for i := range 2 {
		if errs[i] != nil || reps[i].Failed != 0 {
			t.Fatalf("sweep %d: %+v, %v", i, reps[i], errs[i])
		}
	}
	trail, err := s.AuditTrail(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	erasures := map[string]int{}
	for _, rc := range trail {
		if rc.Held == "" {
			erasures[rc.CustomerID]++
		}
	}
	// The 100 odd customers are inactive; 7 is held.
	if len(erasures) != 99 {
		t.Errorf("%d customers forgotten, want 99", len(erasures))
	}
	for id, n := range erasures {
		if n != 1 {
			t.Errorf("customer %s forgotten %d times", id, n)
		}
	}
	if got := reps[0].Forgotten + reps[1].Forgotten; got != len(erasures) {
		t.Errorf("the sweeps report %d forgotten between them, the audit trail %d", got, len(erasures))
	}
	if reps[0].AlreadyForgotten+reps[1].AlreadyForgotten == 0 {
		t.Errorf("no customer counted as already forgotten: %+v, %+v", reps[0], reps[1])
	}
}
