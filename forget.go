// Package forget erases a customer's identifying details on request — the
// "right to be forgotten" — compatible with Offerit's
// PATCH /api/customer/forget.
//
// A [Forgetter] turns a [Request] (who to forget, what to keep) into a
// [Plan] over its [Catalogue] of fields and tables and hands the plan to a
// [Store], which applies it in one transaction. The result is a [Receipt]
// that says what was erased, never what the values were. [NewHandler]
// serves the same over HTTP with Offerit's contract.
//
// Stores live in subpackages: store/sqlstore over database/sql (SQLite,
// PostgreSQL, MySQL/MariaDB) and store/memstore in memory. Every store
// passes the conformance suite in store/storetest.
//
// This package imports only the standard library and keeps no
// package-level mutable state: two Forgetters never share anything.
package forget

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"time"
)

// Forgetter erases customers. It is safe for concurrent use.
type Forgetter struct {
	store       Store
	cat         *catalogue
	log         *slog.Logger
	now         func() time.Time
	rand        io.Reader
	absent      []bool   // by catalogue position: the store lacks the entry
	absentNames []string // the same, named, shared read-only by receipts
	hooks       []namedHook
	hookTimeout time.Duration
	observers   []Observer
	gate        verifyGate
}

// Option configures a Forgetter.
type Option func(*config)

type config struct {
	cat            *Catalogue
	log            *slog.Logger
	now            func() time.Time
	rand           io.Reader
	hooks          []namedHook
	hookTimeout    time.Duration
	hookTimeoutSet bool
	observers      []Observer
	noVerify       bool
}

// WithCatalogue replaces Offerit's default catalogue. [New] validates it.
func WithCatalogue(c Catalogue) Option {
	return func(cfg *config) { cfg.cat = &c }
}

// WithLogger sets the logger; the default is slog.Default(). Nothing
// logged holds a field's value.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) { cfg.log = l }
}

// WithClock sets the clock that stamps receipts; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(cfg *config) { cfg.now = now }
}

// WithRand sets the source of randomness for pseudonyms and random values;
// the default is crypto/rand. A predictable source makes predictable
// pseudonyms: use one only in tests. It need not be safe for concurrent
// use; the Forgetter serialises reads.
func WithRand(r io.Reader) Option {
	return func(cfg *config) { cfg.rand = r }
}

type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// New returns a Forgetter over store. It fails when store is nil, the
// catalogue is invalid, or the store cannot erase some catalogue entry.
func New(store Store, opts ...Option) (*Forgetter, error) {
	if isNil(store) {
		return nil, errors.New("forget: New needs a Store, not nil")
	}
	var cfg config
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.cat == nil {
		def := DefaultCatalogue()
		cfg.cat = &def
	}
	cat, err := compile(*cfg.cat)
	if err != nil {
		return nil, err
	}
	for i, h := range cfg.hooks {
		if h.name == "" || h.fn == nil {
			return nil, fmt.Errorf("forget: hook %d needs a name and a function", i+1)
		}
		for _, other := range cfg.hooks[:i] {
			if other.name == h.name {
				return nil, fmt.Errorf("forget: two hooks are named %q", h.name)
			}
		}
	}
	if cfg.hookTimeoutSet && cfg.hookTimeout <= 0 {
		return nil, fmt.Errorf("forget: hook timeout must be positive, not %v", cfg.hookTimeout)
	}
	if cfg.hookTimeout <= 0 {
		cfg.hookTimeout = 10 * time.Second
	}
	// Options left unset (or set to nil) get the defaults.
	f := &Forgetter{store: store, cat: cat, log: cfg.log, now: cfg.now, rand: rand.Reader, hooks: cfg.hooks, hookTimeout: cfg.hookTimeout, observers: cfg.observers}
	f.gate.off = cfg.noVerify
	if f.log == nil {
		f.log = slog.Default()
	}
	if f.now == nil {
		f.now = time.Now
	}
	if cfg.rand != nil {
		f.rand = &lockedReader{r: cfg.rand}
	}
	f.absent = make([]bool, len(cat.index))
	if cc, ok := store.(CatalogueChecker); ok {
		absent, err := cc.CheckCatalogue(f.Catalogue())
		if err != nil {
			return nil, err
		}
		for _, name := range absent {
			pos, ok := cat.index[name]
			if !ok {
				return nil, fmt.Errorf("forget: the store lists %q as absent, but the catalogue has no such entry", name)
			}
			if !f.absent[pos] {
				f.absent[pos] = true
				f.absentNames = append(f.absentNames, name)
			}
		}
	}
	return f, nil
}

// isNil reports whether s is nil or a typed nil pointer (a nil
// *sqlstore.Store in an interface), whose first use would panic.
func isNil(s Store) bool {
	if s == nil {
		return true
	}
	v := reflect.ValueOf(s)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Interface, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// Catalogue returns a copy of the catalogue the Forgetter erases.
func (f *Forgetter) Catalogue() Catalogue {
	c := Catalogue{Fields: append([]FieldSpec(nil), f.cat.Fields...)}
	for _, t := range f.cat.Tables {
		c.Tables = append(c.Tables, TableSpec{Name: t.Name, Scrub: append([]ColumnRule(nil), t.Scrub...)})
	}
	return c
}

// Forget erases the customer req names, keeping what req.Keep lists.
//
// It returns an error wrapping ErrInvalid (an *UnknownNamesError for a bad
// keep list, a *KeyError for a malformed key), ErrNotFound or ErrConflict
// when the request cannot be honoured; nothing was changed then. Any other
// error is internal; its message holds no field value.
func (f *Forgetter) Forget(ctx context.Context, req Request) (*Receipt, error) {
	start := time.Now()
	pr, err := f.prepare(ctx, req)
	if err != nil {
		f.observe(ctx, time.Since(start), false, err, nil, Result{}, nil, nil)
		return nil, err
	}
	res, err := f.store.Forget(ctx, pr.lookup, pr.plan)
	if err != nil {
		if !Refused(err) {
			err = redact(err, pr.plan)
		}
		f.observe(ctx, time.Since(start), false, err, &pr, res, nil, nil)
		return nil, err
	}
	return f.finish(ctx, start, 0, false, pr, res), nil
}

// finish makes the receipt of a forget the store has done, runs the hooks
// of a real one, logs it and tells the observers that it took before
// plus the time since start.
func (f *Forgetter) finish(ctx context.Context, start time.Time, before time.Duration, batch bool, pr prepared, res Result) *Receipt {
	receipt := pr.plan.Receipt(res)
	rc := &receipt
	if rc.DryRun {
		rc.EventID = "" // nothing was committed, so no event exists
	}
	var hooks []HookFailure
	if !rc.DryRun && len(f.hooks) > 0 {
		hooks = f.runHooks(ctx, rc)
		for _, h := range hooks {
			rc.HooksFailed = append(rc.HooksFailed, h.Hook)
		}
	}
	f.log.LogAttrs(ctx, slog.LevelInfo, "forget",
		slog.String("customer_id", rc.CustomerID),
		slog.Int("fields_erased", len(rc.FieldsErased)),
		slog.Int("tables_purged", len(pr.plan.Tables)),
		slog.Bool("dry_run", rc.DryRun),
		slog.String("principal", rc.Principal),
		slog.String("request_id", rc.RequestID),
	)
	f.observe(ctx, before+time.Since(start), batch, nil, &pr, res, rc, hooks)
	return rc
}

// Outcome is the result of one request of a batch: a receipt, or the
// error Forget would have returned.
type Outcome struct {
	Receipt *Receipt
	Err     error
}

// ForgetBatch forgets every request, each all or nothing on its own, and
// returns one outcome per request, in order. With a [BatchStore] (the SQL
// store is one) requests share transactions, a savepoint each, so a batch
// pays for far fewer commits; a crash loses only requests whose outcomes
// were not yet returned, and forgetting is idempotent, so re-running the
// batch is safe. Other stores get one Forget per request.
func (f *Forgetter) ForgetBatch(ctx context.Context, reqs []Request) []Outcome {
	out := make([]Outcome, len(reqs))
	if err := f.ensureVerified(ctx); err != nil {
		for i := range out {
			out[i].Err = err
			f.observe(ctx, 0, false, err, nil, Result{}, nil, nil)
		}
		return out
	}
	bs, ok := f.store.(BatchStore)
	if !ok {
		for i, req := range reqs {
			out[i].Receipt, out[i].Err = f.Forget(ctx, req)
		}
		return out
	}
	// A store's batch has one DryRun for all its items. Sized once: a
	// prepared request is large, and growing these slices was a third of
	// a batch's allocations.
	items := make([]BatchItem, 0, len(reqs))
	at := make([]int, 0, len(reqs))
	preps := make([]prepared, 0, len(reqs))
	took := make([]time.Duration, 0, len(reqs)) // preparing each item
	for _, dry := range []bool{false, true} {
		items, at, preps, took = items[:0], at[:0], preps[:0], took[:0]
		for i, req := range reqs {
			if req.DryRun != dry {
				continue
			}
			start := time.Now()
			pr, err := f.prepare(ctx, req)
			if err != nil {
				out[i].Err = err
				f.observe(ctx, time.Since(start), false, err, nil, Result{}, nil, nil)
				continue
			}
			items = append(items, BatchItem{Lookup: pr.lookup, Plan: pr.plan})
			at = append(at, i)
			preps = append(preps, pr)
			took = append(took, time.Since(start))
		}
		if len(items) == 0 {
			continue
		}
		start := time.Now()
		outcomes := bs.ForgetBatch(ctx, items)
		share := time.Since(start) / time.Duration(len(items)) // each item's part of the call
		for j, o := range outcomes {
			i := at[j]
			start := time.Now()
			switch {
			case o.Err == nil:
				out[i].Receipt = f.finish(ctx, start, took[j]+share, true, preps[j], o.Result)
				continue
			case Refused(o.Err):
				out[i].Err = o.Err
			default:
				out[i].Err = redact(o.Err, preps[j].plan)
			}
			f.observe(ctx, took[j]+share, true, out[i].Err, &preps[j], o.Result, nil, nil)
		}
	}
	return out
}

// Verify checks the store against the live database, when the store can
// (a [Verifier]): call it once at start-up so that a mapping that cannot
// run is found before the first request, not by it. Stores that cannot
// check return nil. A Forgetter verifies on its own before its first
// forget anyway (unless built [WithoutVerify]) and refuses to erase until
// the store passes; a success here counts for that.
func (f *Forgetter) Verify(ctx context.Context) error {
	v, ok := f.store.(Verifier)
	if !ok {
		return nil
	}
	if err := v.Verify(ctx, f.Catalogue()); err != nil {
		return err
	}
	f.gate.done.Store(true)
	return nil
}
