// The conformance cases of an ActivityBackend's forget.InactiveFinder:
// who is inactive, pages and cursors, customers already forgotten, the
// bounds, and a sweep.

package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/forgetkit/forget"
)

// sweepNow is the clock of the inactive cases' Forgetters; sweepCutoff
// is their cutoff.
var (
	sweepNow    = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	sweepCutoff = sweepNow.AddDate(-1, 0, 0)
)

// activity is when each customer the inactive cases add was last
// active: 201..203 before the cutoff (inactive), 204 at it, 205 after
// it, and 206 never. The fixtures have no recorded activity either.
var activity = map[int]time.Time{
	201: sweepCutoff.AddDate(-3, 0, 0),
	202: sweepCutoff.AddDate(-2, 0, 0),
	203: sweepCutoff.Add(-time.Hour),
	204: sweepCutoff,
	205: sweepNow.AddDate(0, 0, -1),
	206: {},
}

func testInactiveFinder(t *testing.T, s *suite) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *suite, Backend, forget.InactiveFinder, *forget.Forgetter)
	}{
		{"InactiveFound", testInactiveFound},
		{"Paginated", testInactivePaginated},
		{"ForgottenNotReturned", testInactiveForgotten},
		{"Bounds", testInactiveBounds},
		{"Sweep", testInactiveSweep},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, f, _ := s.setup(t, forget.WithClock(func() time.Time { return sweepNow }))
			finder, ok := b.(ActivityBackend)
			if !ok {
				t.Skip("the backend is no ActivityBackend: its store finds no inactive customers, or Seed records no activity")
			}
			var cs []Customer
			for n := 201; n <= 206; n++ {
				c := NewCustomer(n)
				c.ID, c.LastActive = s.id(n), activity[n]
				cs = append(cs, c)
			}
			if err := b.Seed(s.ctx, cs); err != nil {
				t.Fatalf("Seed: %v", err)
			}
			c.fn(t, s, b, finder, f)
		})
	}
}

// inactive walks every page of Inactive from cutoff, limit ids a page,
// and returns the ids in the order found. A finder that is also a
// forget.InactiveCounter must count as many, by the same predicate.
func (s *suite) inactive(t *testing.T, finder forget.InactiveFinder, cutoff time.Time, limit int) []string {
	t.Helper()
	all := s.inactivePages(t, finder, cutoff, limit)
	if counter, ok := finder.(forget.InactiveCounter); ok {
		n, err := counter.CountInactive(s.ctx, cutoff)
		if err != nil || n != len(all) {
			t.Errorf("CountInactive = %d, %v; want %d, the customers Inactive returns", n, err, len(all))
		}
	}
	return all
}

func (s *suite) inactivePages(t *testing.T, finder forget.InactiveFinder, cutoff time.Time, limit int) []string {
	t.Helper()
	var all []string
	cursor := ""
	for range 100 {
		ids, next, err := finder.Inactive(s.ctx, cutoff, cursor, limit)
		if err != nil {
			t.Fatalf("Inactive(cursor %q, limit %d): %v", cursor, limit, err)
		}
		if len(ids) > limit {
			t.Fatalf("a page of limit %d holds %d ids", limit, len(ids))
		}
		all = append(all, ids...)
		if next == "" {
			return all
		}
		if next == cursor {
			t.Fatalf("Inactive returned its own cursor %q as the next one", cursor)
		}
		cursor = next
	}
	t.Fatalf("Inactive did not end after 100 pages of %d: %v", limit, all)
	return nil
}

// sorted returns ids sorted, for comparing sets.
func sorted(ids []string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

// ids returns the customer keys of fixture numbers ns, sorted.
func (s *suite) ids(ns ...int) []string {
	var out []string
	for _, n := range ns {
		out = append(out, s.id(n))
	}
	return sorted(out)
}

// testInactiveFound: customers whose latest activity is before the cutoff
// are found; one active at the cutoff or since, or never, is not.
func testInactiveFound(t *testing.T, s *suite, _ Backend, finder forget.InactiveFinder, _ *forget.Forgetter) {
	got := s.inactive(t, finder, sweepCutoff, 100)
	if want := s.ids(201, 202, 203); !slices.Equal(sorted(got), want) {
		t.Errorf("Inactive = %v, want %v (204 is active at the cutoff, 205 since, 206 and the fixtures never)", got, want)
	}
	// An earlier cutoff finds only those inactive since then.
	if got, want := sorted(s.inactive(t, finder, sweepCutoff.AddDate(-2, 0, -1), 100)), s.ids(201); !slices.Equal(got, want) {
		t.Errorf("Inactive(cutoff three years earlier) = %v, want %v", got, want)
	}
}

// testInactivePaginated: small pages, followed by their cursors, find
// every inactive customer once, in the same stable order as one page.
func testInactivePaginated(t *testing.T, s *suite, _ Backend, finder forget.InactiveFinder, _ *forget.Forgetter) {
	one := s.inactive(t, finder, sweepCutoff, 100)
	for _, limit := range []int{1, 2} {
		got := s.inactive(t, finder, sweepCutoff, limit)
		if !slices.Equal(got, one) {
			t.Errorf("pages of %d = %v, want %v, the order of one page", limit, got, one)
		}
	}
}

// testInactiveForgotten: a customer fully forgotten at or after the
// cutoff is not returned; one forgotten with a keep list, before the
// cutoff, in a dry run or refused by a hold still is.
func testInactiveForgotten(t *testing.T, s *suite, b Backend, finder forget.InactiveFinder, f *forget.Forgetter) {
	s.forgetID(t, f, s.id(201))
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(202)}, Keep: []string{"firstname"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(203)}, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	want := s.ids(202, 203)
	if got := sorted(s.inactive(t, finder, sweepCutoff, 100)); !slices.Equal(got, want) {
		t.Fatalf("after forgetting 201 (fully), 202 (keeping a field), 203 (dry run): Inactive = %v, want %v", got, want)
	}
	// Forgotten before the cutoff: still inactive since.
	early, err := forget.New(b, forget.WithClock(func() time.Time { return sweepCutoff.Add(-time.Minute) }), forget.WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	s.forgetID(t, early, s.id(203))
	if got := sorted(s.inactive(t, finder, sweepCutoff, 100)); !slices.Equal(got, want) {
		t.Fatalf("after forgetting 203 before the cutoff: Inactive = %v, want %v", got, want)
	}
	if hb, ok := b.(HoldBackend); ok {
		must(t, hb.PlaceHold(s.ctx, s.id(202)))
		if _, err := f.Forget(s.ctx, forget.Request{Lookup: forget.Lookup{CustomerID: s.id(202)}}); !errors.Is(err, forget.ErrHeld) {
			t.Fatalf("Forget(held 202) = %v, want held", err)
		}
		if got := sorted(s.inactive(t, finder, sweepCutoff, 100)); !slices.Equal(got, want) {
			t.Fatalf("after a refusal of 202: Inactive = %v, want %v", got, want)
		}
	}
}

// testInactiveBounds: a limit out of range and a malformed cursor are
// invalid.
func testInactiveBounds(t *testing.T, s *suite, _ Backend, finder forget.InactiveFinder, _ *forget.Forgetter) {
	for _, limit := range []int{0, -1} {
		if _, _, err := finder.Inactive(s.ctx, sweepCutoff, "", limit); !errors.Is(err, forget.ErrInvalid) {
			t.Errorf("Inactive(limit %d) = %v, want ErrInvalid", limit, err)
		}
	}
	for _, cursor := range []string{"not a cursor", "\x00"} {
		if _, _, err := finder.Inactive(s.ctx, sweepCutoff, cursor, 10); !errors.Is(err, forget.ErrInvalid) {
			t.Errorf("Inactive(cursor %q) = %v, want ErrInvalid", cursor, err)
		}
	}
}

// testInactiveSweep: a sweep forgets the inactive customers and nobody
// else; run again, it finds nobody.
func testInactiveSweep(t *testing.T, s *suite, b Backend, _ forget.InactiveFinder, f *forget.Forgetter) {
	before := snapshot(t, b)
	rep, err := f.Sweep(s.ctx, forget.SweepOptions{InactiveSince: sweepCutoff, Chunk: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tried != 3 || rep.Forgotten != 3 || rep.Failed != 0 {
		t.Fatalf("sweep = %+v, want 3 tried and forgotten", rep)
	}
	after := snapshot(t, b)
	for _, n := range []int{201, 202, 203} {
		c := NewCustomer(n)
		c.ID = s.id(n)
		checkForgotten(t, c, before[c.ID], after[c.ID], nil)
	}
	for _, id := range s.ids(201, 202, 203) {
		delete(before, id)
		delete(after, id)
	}
	checkUntouched(t, before, after, "")
	rep, err = f.Sweep(s.ctx, forget.SweepOptions{InactiveSince: sweepCutoff})
	if err != nil || rep.Tried != 0 {
		t.Fatalf("second sweep = %+v, %v; want nobody tried", rep, err)
	}
}
