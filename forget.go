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
	cert        *certifying // WithCertifier; nil certifies nothing
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
	certifier      Certifier
	certifierSet   bool
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
	if cfg.certifierSet {
		if f.cert, err = newCertifying(cfg.certifier, store); err != nil {
			return nil, err
		}
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

// isNil reports whether v is nil or a typed nil pointer (a nil
// *sqlstore.Store in an interface), whose first use would panic.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Interface, reflect.Chan:
		return rv.IsNil()
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
	receipt, certErr := pr.plan.receipt(res)
	rc := &receipt
	if rc.DryRun {
		rc.EventID = "" // nothing was committed, so no event exists
	}
	if certErr != nil {
		f.log.LogAttrs(ctx, slog.LevelError, "forget: the erasure is committed without its certificate",
			slog.String("event_id", rc.EventID), slog.String("error", certErr.Error()))
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
		slog.Bool("repeat", rc.Repeat),
		slog.String("principal", rc.Principal),
		slog.String("request_id", rc.RequestID),
	)
	f.observe(ctx, before+time.Since(start), batch, nil, &pr, res, rc, hooks)
	return rc
}
