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
	"strings"
	"sync"
	"time"
)

// Store finds customers and applies erasure plans. Implementations must be
// safe for concurrent use.
type Store interface {
	// Forget resolves l, which has at least one key and no surrounding
	// spaces, and applies p to that customer in one transaction: every
	// field of p.Fields set, every table of p.Tables purged or scrubbed.
	// All of it happens or none of it does. When p.DryRun is set it
	// changes nothing and counts the rows it would touch. Two forgets of
	// one customer are serialised.
	//
	// It returns a *KeyError (wrapping ErrInvalid) for a key of the wrong
	// form, an error wrapping ErrNotFound when any key matches no
	// customer, and one wrapping ErrConflict when the keys name different
	// customers. Any other error is internal. No error may hold the value
	// of a field, old or new.
	Forget(ctx context.Context, l Lookup, p Plan) (Result, error)
}

// CatalogueChecker is implemented by stores that can tell at construction
// whether they can erase every entry of a catalogue (a SQL store checks its
// schema mapping). [New] calls it and fails when it returns an error.
type CatalogueChecker interface {
	CheckCatalogue(Catalogue) error
}

// BatchStore is implemented by stores that can forget many customers with
// fewer commits. Each item must still be all or nothing on its own: a
// failed item leaves its customer as it was and does not affect the
// others. [Forgetter.ForgetBatch] uses it when the store has it.
type BatchStore interface {
	Store
	// ForgetBatch applies each item's plan to the customer its lookup
	// names and returns one outcome per item, in order, with the errors
	// Forget documents. Items are applied in order; every plan of one
	// call has the same DryRun. An outcome is final only when
	// ForgetBatch returns: until then nothing need be committed.
	ForgetBatch(ctx context.Context, items []BatchItem) []BatchOutcome
}

// BatchItem is one forget of a batch.
type BatchItem struct {
	Lookup Lookup
	Plan   Plan
}

// BatchOutcome is the result of one BatchItem.
type BatchOutcome struct {
	Result Result
	Err    error
}

// Plan is what a Store must do to one customer. Fields and tables are in
// catalogue order, so the same request always yields the same plan.
type Plan struct {
	Fields []Assignment
	Tables []TableAction
	DryRun bool
	// Receipt makes the receipt of this forget from the store's Result. A
	// store that keeps an audit trail calls it inside the forget's
	// transaction and records what it returns, so that there is never an
	// erasure without its record nor a record without its erasure. It is
	// nil in plans not made by a Forgetter.
	Receipt func(Result) *Receipt
}

// Assignment sets a field to a new value.
type Assignment struct {
	Field Field
	Value Value
}

// TableAction purges the customer's rows from Table, or, when Scrub is not
// empty, overwrites those columns of the rows instead.
type TableAction struct {
	Table Table
	Scrub []ColumnAssignment
}

// ColumnAssignment sets a column of a scrubbed table.
type ColumnAssignment struct {
	Column string
	Value  Value
}

// Result is what a Store reports of a forget.
type Result struct {
	CustomerID string
	// Rows counts, per table of the plan, the rows deleted (or scrubbed, or
	// in a dry run that would be).
	Rows map[Table]int64
}

// Request asks to forget one customer.
type Request struct {
	Lookup Lookup
	// Keep lists the fields and tables to preserve. Each item may itself
	// be a comma-separated list; see [Catalogue.ParseKeep].
	Keep []string
	// DryRun resolves the customer and reports what would be erased
	// without changing anything.
	DryRun bool
	// Principal is who asked, for the receipt. When empty, the principal
	// stored in the context by [WithPrincipal] is used.
	Principal string
	// RequestID ties the receipt to logs and responses.
	RequestID string
}

// Receipt says what a forget did. It never holds a field's value.
type Receipt struct {
	CustomerID   string          `json:"customer_id"`
	FieldsErased []Field         `json:"fields_erased"`
	FieldsKept   []Field         `json:"fields_kept"`
	RowsDeleted  map[Table]int64 `json:"rows_deleted"`
	RowsScrubbed map[Table]int64 `json:"rows_scrubbed,omitempty"`
	TablesKept   []Table         `json:"tables_kept"`
	DryRun       bool            `json:"dry_run"`
	At           time.Time       `json:"at"`
	Principal    string          `json:"principal,omitempty"`
	RequestID    string          `json:"request_id,omitempty"`
	// HooksFailed names the after-forget hooks that failed. The erasure
	// stands: it was committed before any hook ran.
	HooksFailed []string `json:"hooks_failed,omitempty"`
}

// Forgetter erases customers. It is safe for concurrent use.
type Forgetter struct {
	store       Store
	cat         *catalogue
	log         *slog.Logger
	now         func() time.Time
	rand        io.Reader
	fields      []Field // catalogue field names, shared read-only by receipts
	hooks       []namedHook
	hookTimeout time.Duration
}

// Option configures a Forgetter.
type Option func(*config)

type config struct {
	cat         *Catalogue
	log         *slog.Logger
	now         func() time.Time
	rand        io.Reader
	hooks       []namedHook
	hookTimeout time.Duration
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
	if store == nil {
		return nil, errors.New("forget: New needs a Store")
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
	if cfg.hookTimeout <= 0 {
		cfg.hookTimeout = 10 * time.Second
	}
	// Options left unset (or set to nil) get the defaults.
	f := &Forgetter{store: store, cat: cat, log: cfg.log, now: cfg.now, rand: rand.Reader, hooks: cfg.hooks, hookTimeout: cfg.hookTimeout}
	if f.log == nil {
		f.log = slog.Default()
	}
	if f.now == nil {
		f.now = time.Now
	}
	if cfg.rand != nil {
		f.rand = &lockedReader{r: cfg.rand}
	}
	if cc, ok := store.(CatalogueChecker); ok {
		if err := cc.CheckCatalogue(f.Catalogue()); err != nil {
			return nil, err
		}
	}
	f.fields = make([]Field, len(cat.Fields))
	for i, fs := range cat.Fields {
		f.fields[i] = fs.Name
	}
	return f, nil
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
	pr, err := f.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	res, err := f.store.Forget(ctx, pr.lookup, pr.plan)
	if err != nil {
		if isRequestError(err) {
			return nil, err
		}
		return nil, redact(err, pr.plan)
	}
	return f.finish(ctx, pr, res), nil
}

// prepared is a checked request and its plan.
type prepared struct {
	lookup Lookup
	plan   Plan
}

func (f *Forgetter) prepare(ctx context.Context, req Request) (prepared, error) {
	lookup, err := req.Lookup.Normalize()
	if err != nil {
		return prepared{}, err
	}
	keep, err := f.cat.parseKeep(req.Keep)
	if err != nil {
		return prepared{}, err
	}
	now := f.now()
	plan, err := f.plan(keep, req.DryRun, now)
	if err != nil {
		return prepared{}, err
	}
	principal := req.Principal
	if principal == "" {
		principal = PrincipalFrom(ctx)
	}
	plan.Receipt = func(res Result) *Receipt {
		return f.receipt(keep, res, req.DryRun, now, principal, req.RequestID)
	}
	return prepared{lookup: lookup, plan: plan}, nil
}

// finish makes the receipt of a forget the store has done, runs the hooks
// of a real one, and logs it.
func (f *Forgetter) finish(ctx context.Context, pr prepared, res Result) *Receipt {
	rc := pr.plan.Receipt(res)
	if !rc.DryRun && len(f.hooks) > 0 {
		rc.HooksFailed = f.runHooks(ctx, rc)
	}
	f.log.LogAttrs(ctx, slog.LevelInfo, "forget",
		slog.String("customer_id", rc.CustomerID),
		slog.Int("fields_erased", len(rc.FieldsErased)),
		slog.Int("tables_purged", len(pr.plan.Tables)),
		slog.Bool("dry_run", rc.DryRun),
		slog.String("principal", rc.Principal),
		slog.String("request_id", rc.RequestID),
	)
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
	bs, ok := f.store.(BatchStore)
	if !ok {
		for i, req := range reqs {
			out[i].Receipt, out[i].Err = f.Forget(ctx, req)
		}
		return out
	}
	// A store's batch has one DryRun for all its items.
	for _, dry := range []bool{false, true} {
		var items []BatchItem
		var at []int
		var preps []prepared
		for i, req := range reqs {
			if req.DryRun != dry {
				continue
			}
			pr, err := f.prepare(ctx, req)
			if err != nil {
				out[i].Err = err
				continue
			}
			items = append(items, BatchItem{Lookup: pr.lookup, Plan: pr.plan})
			at = append(at, i)
			preps = append(preps, pr)
		}
		if len(items) == 0 {
			continue
		}
		for j, o := range bs.ForgetBatch(ctx, items) {
			i := at[j]
			switch {
			case o.Err == nil:
				out[i].Receipt = f.finish(ctx, preps[j], o.Result)
			case isRequestError(o.Err):
				out[i].Err = o.Err
			default:
				out[i].Err = redact(o.Err, preps[j].plan)
			}
		}
	}
	return out
}

func isRequestError(err error) bool {
	return errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict)
}

func (f *Forgetter) plan(keep keepSet, dryRun bool, now time.Time) (Plan, error) {
	// One read of the randomness source serves every pseudonym and
	// random value of the plan: reads are system calls.
	need := 0
	for i, fs := range f.cat.Fields {
		if !keep.hasPos(i) {
			need += fs.Rule.entropyBytes()
		}
	}
	base := len(f.cat.Fields)
	for i, ts := range f.cat.Tables {
		if !keep.hasPos(base + i) {
			for _, cr := range ts.Scrub {
				need += cr.Rule.entropyBytes()
			}
		}
	}
	var stack [256]byte
	var entropy []byte
	if need > len(stack) {
		entropy = make([]byte, need)
	} else {
		entropy = stack[:need]
	}
	if _, err := io.ReadFull(f.rand, entropy); err != nil {
		return Plan{}, fmt.Errorf("forget: read randomness: %w", err)
	}

	p := Plan{DryRun: dryRun, Fields: make([]Assignment, 0, len(f.cat.Fields))}
	for i, fs := range f.cat.Fields {
		if keep.hasPos(i) {
			continue
		}
		v, err := fs.Rule.apply(string(fs.Name), &entropy, f.rand, now)
		if err != nil {
			return Plan{}, err
		}
		p.Fields = append(p.Fields, Assignment{Field: fs.Name, Value: v})
	}
	for i, ts := range f.cat.Tables {
		if keep.hasPos(base + i) {
			continue
		}
		a := TableAction{Table: ts.Name}
		for _, cr := range ts.Scrub {
			v, err := cr.Rule.apply(string(ts.Name)+"."+cr.Column, &entropy, f.rand, now)
			if err != nil {
				return Plan{}, err
			}
			a.Scrub = append(a.Scrub, ColumnAssignment{Column: cr.Column, Value: v})
		}
		p.Tables = append(p.Tables, a)
	}
	return p, nil
}

func (f *Forgetter) receipt(keep keepSet, res Result, dryRun bool, now time.Time, principal, requestID string) *Receipt {
	rc := &Receipt{
		CustomerID:   res.CustomerID,
		FieldsErased: make([]Field, 0, len(f.fields)),
		FieldsKept:   []Field{},
		RowsDeleted:  map[Table]int64{},
		TablesKept:   []Table{},
		DryRun:       dryRun,
		At:           now.UTC(),
		Principal:    principal,
		RequestID:    requestID,
	}
	for i, name := range f.fields {
		if keep.hasPos(i) {
			rc.FieldsKept = append(rc.FieldsKept, name)
		} else {
			rc.FieldsErased = append(rc.FieldsErased, name)
		}
	}
	base := len(f.fields)
	for i, ts := range f.cat.Tables {
		switch {
		case keep.hasPos(base + i):
			rc.TablesKept = append(rc.TablesKept, ts.Name)
		case len(ts.Scrub) > 0:
			if rc.RowsScrubbed == nil {
				rc.RowsScrubbed = map[Table]int64{}
			}
			rc.RowsScrubbed[ts.Name] = res.Rows[ts.Name]
		default:
			rc.RowsDeleted[ts.Name] = res.Rows[ts.Name]
		}
	}
	return rc
}

// redact removes the plan's new values from an internal error's message:
// a driver may quote the value that broke a constraint. Values shorter
// than four characters are left, since they identify nobody and would
// garble the message. errors.Is and errors.As still see the cause.
func redact(err error, p Plan) error {
	msg := err.Error()
	for _, a := range p.Fields {
		msg = redactValue(msg, a.Value)
	}
	for _, t := range p.Tables {
		for _, c := range t.Scrub {
			msg = redactValue(msg, c.Value)
		}
	}
	return &redactedError{msg: msg, err: err}
}

func redactValue(msg string, v Value) string {
	if len(v.String) < 4 {
		return msg
	}
	return strings.ReplaceAll(msg, v.String, "[redacted]")
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

type principalKey struct{}

// WithPrincipal returns a context naming who makes the request. Host
// middleware that authenticates callers itself uses it to fill receipts.
func WithPrincipal(ctx context.Context, principal string) context.Context {
	return context.WithValue(ctx, principalKey{}, principal)
}

// PrincipalFrom returns the principal stored by WithPrincipal, or "".
func PrincipalFrom(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(string)
	return p
}
