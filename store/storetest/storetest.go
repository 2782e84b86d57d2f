// Package storetest is the conformance suite every forget.Store must pass.
//
// A store's own test adapts it to [Backend] (seeding and snapshotting are
// store-specific) and calls [Run]:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Backend { return newBackend(t) })
//	}
//
// The suite seeds the customers of [Fixtures] into a fresh Backend for
// every case, and checks the default catalogue's semantics: every lookup
// path, keep sets, invalid input, not found, conflict, idempotence,
// distinct pseudonyms, dry runs, atomicity under a real constraint
// failure, and concurrent forgets (run it with -race). A store that is a
// [forget.Outbox] has its claims checked too, and a backend that is an
// [ActivityBackend] its [forget.InactiveFinder]; the cases of a
// capability a store lacks are skipped, saying so.
package storetest

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget"
)

// Backend is a Store under test, with the means to seed and inspect it.
type Backend interface {
	forget.Store
	// Seed stores the customers, with Rows[t] rows of each table t.
	Seed(ctx context.Context, customers []Customer) error
	// Snapshot returns every customer's catalogue fields and row counts.
	Snapshot(ctx context.Context) (Snapshot, error)
}

// OrderSharer is implemented by backends whose database can hold an
// orderid that two customers share, as a host's order table without a
// unique index can. The suite then checks that forgetting by such an
// orderid is a conflict that erases nothing.
type OrderSharer interface {
	ShareOrder(ctx context.Context, orderID, customerID string) error
}

// HoldName is the hold a HoldBackend declares.
const HoldName = "open_chargeback"

// HoldBackend is implemented by backends built with a hold named
// HoldName that protects a customer once PlaceHold was called for it. The
// suite then checks that a held customer is refused and untouched, that
// the refusal is audited (with AuditBackend), that an operator can ignore
// the hold, and that a batch refuses the held customer alone.
type HoldBackend interface {
	PlaceHold(ctx context.Context, customerID string) error
}

// AuditBackend is implemented by backends that keep an audit trail.
type AuditBackend interface {
	// AuditRecords returns every audit record, oldest first.
	AuditRecords(ctx context.Context) ([]forget.Receipt, error)
}

// ActivityBackend is implemented by backends whose store finds inactive
// customers (a [forget.InactiveFinder]) and whose Seed records each
// customer's [Customer.LastActive] where Inactive reads it (an activity
// column, an activity field). The suite then checks the inactive
// customers found, their pages and cursors, and a sweep.
type ActivityBackend interface {
	forget.InactiveFinder
	// SeedsLastActive says that Seed records Customer.LastActive.
	SeedsLastActive()
}

// ClaimOverlapper is implemented by backends whose outbox claims lock
// nothing, so that two claims open at once may hold the same event (the
// SQL store on SQLite, which has one writer); ClaimsOverlap reports
// whether they may. The suite then checks no exclusion between open
// claims, only that published events are not claimed again.
type ClaimOverlapper interface {
	ClaimsOverlap() bool
}

// Customer is a customer to seed.
type Customer struct {
	ID            string
	Fields        map[forget.Field]string
	Subscriptions []string
	Orders        []string
	Rows          map[forget.Table]int
	// LastActive is when the customer was last active, to the second,
	// for an ActivityBackend; zero is no recorded activity (NULL).
	LastActive time.Time
}

// Snapshot is a store's state by customer id.
type Snapshot map[string]State

// State is one customer's catalogue fields (NULL as Value.Null) and how
// many rows it has in each catalogue table.
type State struct {
	Fields map[forget.Field]forget.Value
	Rows   map[forget.Table]int
}

// Equal reports whether two states are the same.
func (s State) Equal(o State) bool {
	return maps.Equal(s.Fields, o.Fields) && maps.Equal(s.Rows, o.Rows)
}

// Fixtures returns the three customers every case starts from:
// NewCustomer(101), NewCustomer(102) and NewCustomer(103).
func Fixtures() []Customer {
	return []Customer{NewCustomer(101), NewCustomer(102), NewCustomer(103)}
}

// NewCustomer returns customer id with two subscriptions (id*10+1,
// id*10+2), three orders (id*100+1 …), two member_auth and three
// member_note rows, and a distinctive value in every field of the default
// catalogue.
func NewCustomer(id int) Customer {
	c := Customer{
		ID:            fmt.Sprint(id),
		Fields:        make(map[forget.Field]string),
		Subscriptions: []string{fmt.Sprint(id*10 + 1), fmt.Sprint(id*10 + 2)},
		Orders:        []string{fmt.Sprint(id*100 + 1), fmt.Sprint(id*100 + 2), fmt.Sprint(id*100 + 3)},
		Rows:          map[forget.Table]int{forget.MemberAuth: 2, forget.MemberNote: 3},
	}
	for _, f := range forget.DefaultCatalogue().Fields {
		c.Fields[f.Name] = fmt.Sprintf("%s-of-%d-qzx", f.Name, id)
	}
	return c
}

// Keys says how the backend's customer keys spell the fixtures' numbers
// (101, 102, 103, and 999 for a customer who does not exist).
// Subscription and order ids stay integers.
type Keys struct {
	// Customer returns the customer key of fixture number n.
	Customer func(n int) string
	// Malformed are customer ids the key type refuses as invalid
	// (besides "abc", which every key type refuses).
	Malformed []string
}

// IntKeys are the default: customer n's key is n.
func IntKeys() Keys {
	return Keys{Customer: func(n int) string { return fmt.Sprint(n) }}
}

// UUIDKeys spell customer n's key as a UUID (lower case, as PostgreSQL
// and MariaDB print it); Offerit's integer ids are then malformed.
func UUIDKeys() Keys {
	return Keys{
		Customer:  func(n int) string { return fmt.Sprintf("5b0e6a3c-1d2e-4f00-8a1b-%012d", n) },
		Malformed: []string{"191", "5b0e6a3c1d2e4f008a1b000000000101"},
	}
}

// Run runs the suite with integer customer keys. newBackend must return
// an empty Backend of its own for every call: cases seed and change it.
// Each case is a function of its own, listed in [cases]; a new case is a
// new function and a line.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	t.Helper()
	RunKeys(t, IntKeys(), newBackend)
}

// RunKeys runs the suite with the customer keys keys spells: the
// backend's Seed gets the fixtures under those keys.
func RunKeys(t *testing.T, keys Keys, newBackend func(t *testing.T) Backend) {
	t.Helper()
	s := &suite{ctx: context.Background(), newBackend: newBackend, keys: keys, byID: make(map[string]Customer)}
	for _, c := range s.fixtures() {
		s.byID[c.ID] = c
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, s) })
	}
}

// cases are the suite's cases, in the order they run.
var cases = []struct {
	name string
	fn   func(*testing.T, *suite)
}{
	{"Lookup", testLookup},
	{"Keep", testKeep},
	{"Refusal", testRefusal},
	{"UnknownKeepListsEveryName", testUnknownKeepListsEveryName},
	{"IdempotentSecondForget", testIdempotentSecondForget},
	{"AmbiguousOrderIsConflict", testAmbiguousOrderIsConflict},
	{"KeyNeverErased", testKeyNeverErased},
	{"KeptValueNeverWritten", testKeptValueNeverWritten},
	{"HeldRefusedAndAudited", testHeldRefusedAndAudited},
	{"HoldIgnoredByOperator", testHoldIgnoredByOperator},
	{"UnknownHoldToIgnore", testUnknownHoldToIgnore},
	{"HeldInBatch", testHeldInBatch},
	{"PseudonymsDistinct", testPseudonymsDistinct},
	{"DryRunChangesNothing", testDryRunChangesNothing},
	{"FixedRule", testFixedRule},
	{"NullRule", testNullRule},
	{"AtomicOnConstraintFailure", testAtomicOnConstraintFailure},
	{"AtomicOnRuleFailure", testAtomicOnRuleFailure},
	{"Batch", testBatch},
	{"ConcurrentForgets", testConcurrentForgets},
	{"Receipts", testReceipts},             // cases_receipts.go
	{"Outbox", testOutbox},                 // cases_outbox.go
	{"Repeat", testRepeat},                 // cases_repeat.go
	{"InactiveFinder", testInactiveFinder}, // cases_inactive.go
}

// suite is what every case shares: how to make a fresh, seeded backend.
type suite struct {
	ctx        context.Context
	newBackend func(t *testing.T) Backend
	keys       Keys
	byID       map[string]Customer // the fixtures
}

// id is the customer key of fixture number n.
func (s *suite) id(n int) string { return s.keys.Customer(n) }

// fixtures are Fixtures under the suite's customer keys.
func (s *suite) fixtures() []Customer {
	cs := Fixtures()
	for i := range cs {
		var n int
		fmt.Sscan(cs[i].ID, &n)
		cs[i].ID = s.id(n)
	}
	return cs
}

// setup returns a fresh backend seeded with the fixtures, a Forgetter on
// it that logs nothing, and its state before the case.
func (s *suite) setup(t *testing.T, opts ...forget.Option) (Backend, *forget.Forgetter, Snapshot) {
	t.Helper()
	b := s.newBackend(t)
	if err := b.Seed(s.ctx, s.fixtures()); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	f, err := forget.New(b, append([]forget.Option{forget.WithLogger(discard())}, opts...)...)
	if err != nil {
		t.Fatalf("forget.New: %v", err)
	}
	return b, f, snapshot(t, b)
}

// forget101 forgets customer 101 with req on a fresh backend and checks
// that 101 is forgotten but for the names in kept, and that nobody else
// changed.
func (s *suite) forget101(t *testing.T, req forget.Request, kept map[string]bool) *forget.Receipt {
	t.Helper()
	b, f, before := s.setup(t)
	rc, err := f.Forget(s.ctx, req)
	if err != nil {
		t.Fatalf("Forget: %v", err)
	}
	after := snapshot(t, b)
	checkForgotten(t, s.byID[s.id(101)], before[s.id(101)], after[s.id(101)], kept)
	checkUntouched(t, before, after, s.id(101))
	return rc
}

// holdSetup is setup with customer 101 under the backend's hold; cases
// that need it skip backends that declare none.
func (s *suite) holdSetup(t *testing.T) (Backend, *forget.Forgetter, Snapshot) {
	t.Helper()
	b, f, _ := s.setup(t)
	hb, ok := b.(HoldBackend)
	if !ok {
		t.Skip("the backend declares no hold")
	}
	if err := hb.PlaceHold(s.ctx, s.id(101)); err != nil {
		t.Fatalf("PlaceHold: %v", err)
	}
	return b, f, snapshot(t, b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func snapshot(t *testing.T, b Backend) Snapshot {
	t.Helper()
	s, err := b.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return s
}

func allNames() string {
	var names []string
	c := forget.DefaultCatalogue()
	for _, f := range c.Fields {
		names = append(names, string(f.Name))
	}
	for _, t := range c.Tables {
		names = append(names, string(t.Name))
	}
	return strings.Join(names, ",")
}

// checkForgotten checks one customer's state after a forget that kept the
// names in kept: kept entries unchanged, the rest erased by the default
// rules.
func checkForgotten(t *testing.T, seeded Customer, before, after State, kept map[string]bool) {
	t.Helper()
	for _, fs := range forget.DefaultCatalogue().Fields {
		name := fs.Name
		old, now := before.Fields[name], after.Fields[name]
		if kept[string(name)] {
			if now != old {
				t.Errorf("kept field %s changed", name)
			}
			continue
		}
		if now.Null {
			t.Errorf("%s is NULL; the default rule never writes NULL", name)
			continue
		}
		switch out := fs.Rule.Output(); {
		case !out.Distinct:
			if now.String != "" {
				t.Errorf("%s = %d characters, want empty", name, len(now.String))
			}
		default: // a pseudonym or a random value
			if len(now.String) < 22 || len(now.String) > 32 {
				t.Errorf("%s has %d characters, want 22..32 (128 bits that fit a 32-character column)", name, len(now.String))
			}
			if old := seeded.Fields[name]; old != "" && strings.Contains(now.String, old) {
				t.Errorf("%s holds something of the old value", name)
			}
		}
		if now.String == seeded.Fields[name] && seeded.Fields[name] != "" {
			t.Errorf("%s still holds its old value", name)
		}
	}
	for _, ts := range forget.DefaultCatalogue().Tables {
		if kept[string(ts.Name)] {
			if after.Rows[ts.Name] != before.Rows[ts.Name] {
				t.Errorf("kept table %s went from %d to %d rows", ts.Name, before.Rows[ts.Name], after.Rows[ts.Name])
			}
		} else if after.Rows[ts.Name] != 0 {
			t.Errorf("table %s still has %d rows", ts.Name, after.Rows[ts.Name])
		}
	}
}

// checkUntouched checks that every customer but except is as it was.
func checkUntouched(t *testing.T, before, after Snapshot, except string) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("store had %d customers, now %d", len(before), len(after))
	}
	for id, st := range before {
		if id == except {
			continue
		}
		if !st.Equal(after[id]) {
			t.Errorf("customer %s changed", id)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
