// Package memstore is a forget.Store in memory, for hosts' tests and demos.
// It behaves as the SQL store does: a forget is atomic, unique fields stay
// unique, lookups resolve through subscriptions and orders, and dry runs
// change nothing.
//
// Seed it with [Store.Add] and [Store.AddRow]; read it back with
// [Store.Customer] and [Store.Rows].
//
// Its optional capabilities are methods configured by options, as the SQL
// store's are: WithAudit makes its audit trail a [forget.Outbox] for a
// relay, and WithActivity (with WithAudit) makes it a
// [forget.InactiveFinder] for [forget.Forgetter.Sweep].
package memstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/forgetkit/forget"
)

// Customer is one customer as the store holds it.
type Customer struct {
	ID string
	// Fields maps field names to values. A field set to NULL is absent.
	Fields        map[forget.Field]string
	Subscriptions []string // subscription ids
	Orders        []string // transaction event ids (orderid)
}

// Row is one row of a customer's related table, column → value. A column
// set to NULL is absent.
type Row map[string]string

// Store holds customers and their related rows. The zero value is not
// usable; call New. It is safe for concurrent use.
type Store struct {
	mu        sync.Mutex
	textKeys  bool
	unique    []forget.Field
	customers map[string]*Customer               // by id
	subs      map[string]string                  // subscription id → customer id
	orders    map[string]string                  // orderid → customer id
	shared    map[string][]string                // orderid → every customer id, when AddOrder shared it
	rows      map[forget.Table]map[string][]Row  // table → customer id → rows
	holders   map[forget.Field]map[string]string // unique field → value → customer id
	auditing  bool
	audit     []forget.Receipt
	holds     []hold
	activity  []forget.Field // WithActivity
	hashKey   []byte         // WithHashKey
	outbox    outbox
	tomb      tombstones // WithIdentity, WithTombstoneKeys; see tombstone.go
}

type hold struct {
	name string
	fn   func(customerID string) bool
}

var (
	_ forget.Store           = (*Store)(nil)
	_ forget.Outbox          = (*Store)(nil)
	_ forget.InactiveFinder  = (*Store)(nil)
	_ forget.InactiveCounter = (*Store)(nil)
)

// customersTable names the customer's record in receipts' rows_updated,
// as the SQL store's default schema names its table.
const customersTable = "customers"

// Option configures a Store.
type Option func(*Store)

// WithTextKeys accepts any non-empty string as a customer, subscription or
// order id. By default ids are integers, as in the default SQL schema, and
// a value such as "abc" is refused as invalid.
func WithTextKeys() Option { return func(s *Store) { s.textKeys = true } }

// WithAudit makes the store keep the receipt of every forget it applies,
// recorded in the same step as the erasure; read them with
// [Store.AuditTrail]. The trail is also the store's outbox
// ([Store.ClaimEvents]), as the SQL store's audit table is.
func WithAudit() Option { return func(s *Store) { s.auditing = true } }

// WithActivity names the fields that hold when each customer was last
// active, as RFC 3339 times, the latest counting: [Store.Inactive] reads
// them, for [forget.Forgetter.Sweep], as the SQL store reads
// Schema.Activity. A sweep also needs WithAudit, to tell whom it has
// already forgotten.
func WithActivity(fields ...forget.Field) Option {
	return func(s *Store) { s.activity = slices.Clone(fields) }
}

// WithHold declares a hold: while fn reports true for a customer, a
// forget of that customer is refused with a *forget.HeldError naming it,
// and (WithAudit) the refusal is recorded. fn runs under the store's lock
// and must not call the store.
func WithHold(name string, fn func(customerID string) bool) Option {
	return func(s *Store) { s.holds = append(s.holds, hold{name: name, fn: fn}) }
}

// WithUnique sets the fields whose values must be unique among customers,
// as a unique index would. The default is username.
func WithUnique(fields ...forget.Field) Option {
	return func(s *Store) { s.unique = slices.Clone(fields) }
}

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{
		unique:    []forget.Field{forget.Username},
		customers: make(map[string]*Customer),
		subs:      make(map[string]string),
		orders:    make(map[string]string),
		shared:    make(map[string][]string),
		rows:      make(map[forget.Table]map[string][]Row),
		holders:   make(map[forget.Field]map[string]string),
		outbox:    outbox{published: make(map[string]time.Time), claimed: make(map[string]bool)},
	}
	for _, opt := range opts {
		opt(s)
	}
	for _, f := range s.unique {
		s.holders[f] = make(map[string]string)
	}
	return s
}

// ErrUnique is returned when a write would give two customers the same
// value of a unique field.
var ErrUnique = errors.New("memstore: unique field already taken")

// Add stores a new customer. It fails, changing nothing, when an id is
// malformed or already used, or a unique field's value is taken.
func (s *Store) Add(c Customer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.key(forget.KeyCustomerID, c.ID)
	if err != nil {
		return err
	}
	if _, dup := s.customers[id]; dup {
		return fmt.Errorf("memstore: customer_id %s already exists", id)
	}
	subs, err := s.newKeys(forget.KeySubscriptionID, c.Subscriptions, s.subs)
	if err != nil {
		return err
	}
	orders, err := s.newKeys(forget.KeyOrderID, c.Orders, s.orders)
	if err != nil {
		return err
	}
	for _, f := range s.unique {
		if v, ok := c.Fields[f]; ok {
			if _, taken := s.holders[f][v]; taken {
				return fmt.Errorf("%w: %s", ErrUnique, f)
			}
		}
	}
	stored := &Customer{ID: id, Fields: maps.Clone(c.Fields), Subscriptions: subs, Orders: orders}
	if stored.Fields == nil {
		stored.Fields = make(map[forget.Field]string)
	}
	s.customers[id] = stored
	for _, k := range subs {
		s.subs[k] = id
	}
	for _, k := range orders {
		s.orders[k] = id
	}
	for _, f := range s.unique {
		if v, ok := stored.Fields[f]; ok {
			s.holders[f][v] = id
		}
	}
	return nil
}

func (s *Store) newKeys(name string, given []string, index map[string]string) ([]string, error) {
	out := make([]string, 0, len(given))
	for _, g := range given {
		k, err := s.key(name, g)
		if err != nil {
			return nil, err
		}
		if _, dup := index[k]; dup || slices.Contains(out, k) {
			return nil, fmt.Errorf("memstore: %s %s already exists", name, k)
		}
		out = append(out, k)
	}
	return out, nil
}

// AddOrder gives the customer one more order. Unlike [Store.Add] it
// accepts an orderid another customer already has, as a host's order
// table without a unique index would: a forget by that orderid is then a
// conflict, since it names more than one customer.
func (s *Store) AddOrder(customerID, orderID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.key(forget.KeyCustomerID, customerID)
	if err != nil {
		return err
	}
	c, ok := s.customers[id]
	if !ok {
		return fmt.Errorf("memstore: customer_id %s: %w", id, forget.ErrNotFound)
	}
	k, err := s.key(forget.KeyOrderID, orderID)
	if err != nil {
		return err
	}
	if slices.Contains(c.Orders, k) {
		return nil
	}
	c.Orders = append(c.Orders, k)
	if prev, ok := s.orders[k]; ok && len(s.shared[k]) == 0 {
		s.shared[k] = []string{prev}
	}
	if _, ok := s.orders[k]; ok {
		s.shared[k] = append(s.shared[k], id)
		return nil
	}
	s.orders[k] = id
	return nil
}

// AddRow adds a row to a customer's related table.
func (s *Store) AddRow(table forget.Table, customerID string, row Row) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.key(forget.KeyCustomerID, customerID)
	if err != nil {
		return err
	}
	if _, ok := s.customers[id]; !ok {
		return fmt.Errorf("memstore: customer_id %s: %w", id, forget.ErrNotFound)
	}
	byCustomer := s.rows[table]
	if byCustomer == nil {
		byCustomer = make(map[string][]Row)
		s.rows[table] = byCustomer
	}
	byCustomer[id] = append(byCustomer[id], maps.Clone(row))
	return nil
}

// Customer returns a copy of the customer with that id.
func (s *Store) Customer(id string) (Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, err := s.key(forget.KeyCustomerID, id); err == nil {
		id = k
	}
	c, ok := s.customers[id]
	if !ok {
		return Customer{}, false
	}
	return Customer{
		ID:            c.ID,
		Fields:        maps.Clone(c.Fields),
		Subscriptions: slices.Clone(c.Subscriptions),
		Orders:        slices.Clone(c.Orders),
	}, true
}

// CustomerIDs returns every customer id, sorted.
func (s *Store) CustomerIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := slices.Collect(maps.Keys(s.customers))
	slices.Sort(ids)
	return ids
}

// Rows returns copies of the customer's rows in table.
func (s *Store) Rows(table forget.Table, customerID string) []Row {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, err := s.key(forget.KeyCustomerID, customerID); err == nil {
		customerID = k
	}
	var out []Row
	for _, r := range s.rows[table][customerID] {
		out = append(out, maps.Clone(r))
	}
	return out
}

// key checks and canonicalises an id: integers lose leading zeros, as they
// would in an integer column.
func (s *Store) key(name, v string) (string, error) {
	if s.textKeys {
		if v == "" {
			return "", &forget.KeyError{Key: name, Reason: "must not be empty"}
		}
		return v, nil
	}
	n, err := forget.ParseIntKey(name, v)
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(n, 10), nil
}

// Forget implements forget.Store. It works on copies and swaps them in
// only when every step has succeeded.
func (s *Store) Forget(ctx context.Context, l forget.Lookup, p forget.Plan) (forget.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return forget.Result{}, err
	}
	if s.tomb.err != nil {
		return forget.Result{}, s.tomb.err
	}
	id, err := s.resolve(l)
	if err != nil {
		return forget.Result{}, err
	}
	for _, n := range p.IgnoreHolds {
		if !slices.ContainsFunc(s.holds, func(h hold) bool { return h.name == n }) {
			return forget.Result{}, &forget.UnknownHoldError{Hold: n}
		}
	}
	if !p.UnlessForgottenSince.IsZero() && s.forgottenSince(id, p.UnlessForgottenSince) {
		return forget.Result{}, forget.ErrAlreadyForgotten // by another sweep, meanwhile
	}
	c := s.customers[id]
	res := forget.Result{CustomerID: id, Rows: make(map[forget.Table]int64, len(p.Tables))}
	for _, h := range s.holds {
		if slices.Contains(p.IgnoreHolds, h.name) || !h.fn(id) {
			continue
		}
		if s.auditing && !p.DryRun {
			rc := p.Receipt(forget.Result{CustomerID: id})
			// A refusal is no event: it has no event id.
			rc.Held, rc.EventID, rc.FieldsErased, rc.RowsDeleted, rc.RowsScrubbed = h.name, "", []forget.Field{}, map[forget.Table]int64{}, nil
			rc.Certificate = nil // a certificate is of an erasure
			s.audit = append(s.audit, rc)
		}
		return res, &forget.HeldError{Hold: h.name}
	}

	if len(p.Fields) > 0 {
		res.Updated = map[string]int64{customersTable: 1} // every field lives in the customer's one record
	}
	fields := maps.Clone(c.Fields)
	derive := s.deriver(c, p, &res)
	for _, a := range p.Fields {
		if err := assign(fields, a.Field, a.Value, customersTable+"."+string(a.Field), derive); err != nil {
			return forget.Result{}, err
		}
	}
	for _, f := range s.unique {
		v, ok := fields[f]
		if !ok {
			continue
		}
		if holder, taken := s.holders[f][v]; taken && holder != id {
			return forget.Result{}, fmt.Errorf("%w: %s", ErrUnique, f)
		}
	}
	newRows := make(map[forget.Table][]Row, len(p.Tables))
	for _, t := range p.Tables {
		rows := s.rows[t.Table][id]
		res.Rows[t.Table] = int64(len(rows))
		if len(t.Scrub) == 0 || len(rows) == 0 {
			newRows[t.Table] = nil
			continue
		}
		scrubbed := make([]Row, len(rows))
		for i, r := range rows {
			r = maps.Clone(r)
			for _, col := range t.Scrub {
				if err := assign(r, col.Column, col.Value, string(t.Table)+"."+col.Column, derive); err != nil {
					return forget.Result{}, err
				}
			}
			scrubbed[i] = r
		}
		newRows[t.Table] = scrubbed
	}
	res.Repeat = s.repeat(id, c, p, res)
	if p.DryRun {
		return res, nil
	}
	stones := s.tomb.pending(c, p) // read before c.Fields is replaced

	// Every step has succeeded: swap the copies in, and record the
	// receipt with them.
	if s.auditing {
		rc := p.Receipt(res)
		s.audit = append(s.audit, rc)
		if res.Repeat && !p.Repropagate {
			s.outbox.published[rc.EventID] = rc.At // nothing changed: nothing to send
		}
	}
	for _, f := range s.unique {
		if v, ok := c.Fields[f]; ok && s.holders[f][v] == id {
			delete(s.holders[f], v)
		}
		if v, ok := fields[f]; ok {
			s.holders[f][v] = id
		}
	}
	c.Fields = fields
	s.tomb.add(stones)
	for t, rows := range newRows {
		if rows == nil {
			delete(s.rows[t], id)
		} else {
			s.rows[t][id] = rows
		}
	}
	return res, nil
}

// repeat reports whether the forget of customer id (c before it) by p is
// a repeat (see forget.Result.Repeat), res counting its rows.
func (s *Store) repeat(id string, c *Customer, p forget.Plan, res forget.Result) bool {
	if !s.auditing || len(p.Record.FieldsKept) > 0 || len(p.Record.TablesKept) > 0 {
		return false
	}
	for _, n := range res.Rows {
		if n > 0 {
			return false
		}
	}
	for _, a := range p.Fields {
		if a.Fresh {
			continue
		}
		v, ok := c.Fields[a.Field]
		if a.Value.Null && ok || !a.Value.Null && (!ok || v != a.Value.String) {
			return false
		}
	}
	return s.forgottenSince(id, time.Time{})
}

// resolve finds the one customer every given key names.
func (s *Store) resolve(l forget.Lookup) (string, error) {
	var found string
	err := l.Keys(func(name, v string) error {
		k, err := s.key(name, v)
		if err != nil {
			return err
		}
		var id string
		var ok bool
		switch name {
		case forget.KeyCustomerID:
			_, ok = s.customers[k]
			id = k
		case forget.KeySubscriptionID:
			id, ok = s.subs[k]
		case forget.KeyOrderID:
			id, ok = s.orders[k]
			if len(s.shared[k]) > 1 {
				return fmt.Errorf("memstore: %s names more than one customer: %w", name, forget.ErrConflict)
			}
		}
		if !ok {
			return fmt.Errorf("memstore: %s: %w", name, forget.ErrNotFound)
		}
		if found != "" && found != id {
			return fmt.Errorf("memstore: %s: %w", name, forget.ErrConflict)
		}
		found = id
		return nil
	})
	return found, err
}
