package memstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/forgetkit/forget"
)

// Outbox is a forget.Outbox over a Store's audit trail: every receipt the
// store records WithAudit, in the same step as its erasure, is an event
// (refusals apart). It keeps which events are published itself, in
// memory, as the SQL store keeps them in its audit table; it behaves as
// the SQL store does on PostgreSQL, claims excluding one another. Make
// one Outbox per Store.
type Outbox struct {
	s         *Store
	mu        sync.Mutex
	published map[string]time.Time // event id → when
	claimed   map[string]bool
	// done is how many audit records from the start are published or
	// are not events: claims start after them.
	done int
}

var _ forget.Outbox = (*Outbox)(nil)

// Bounds, as the SQL store's.
const (
	maxClaim          = 10000
	maxCustomerEvents = 1000
)

// NewOutbox returns the outbox of s, which must keep an audit trail
// (WithAudit).
func NewOutbox(s *Store) (*Outbox, error) {
	if s == nil {
		return nil, errors.New("memstore: NewOutbox needs a Store")
	}
	s.mu.Lock()
	auditing := s.auditing
	s.mu.Unlock()
	if !auditing {
		return nil, errors.New("memstore: the store keeps no audit trail, which is its outbox (see WithAudit)")
	}
	return &Outbox{s: s, published: make(map[string]time.Time), claimed: make(map[string]bool)}, nil
}

func isEvent(rc *forget.Receipt) bool { return rc.EventID != "" && rc.Held == "" && !rc.DryRun }

// ClaimEvents implements forget.Outbox.
func (o *Outbox) ClaimEvents(ctx context.Context, limit int) (forget.EventClaim, error) {
	if limit < 1 || limit > maxClaim {
		return nil, fmt.Errorf("memstore: claim between 1 and %d events, not %d: %w", maxClaim, limit, forget.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	trail := o.s.audit
	for o.done < len(trail) {
		rc := &trail[o.done]
		if _, ok := o.published[rc.EventID]; isEvent(rc) && !ok {
			break
		}
		o.done++
	}
	c := &claim{o: o}
	waiting := make(map[string]bool) // customers with an older unpublished event
	for i := o.done; i < len(trail) && len(c.events) < limit; i++ {
		rc := &trail[i]
		if _, ok := o.published[rc.EventID]; ok || !isEvent(rc) {
			continue
		}
		first := !waiting[rc.CustomerID]
		waiting[rc.CustomerID] = true
		if !first || o.claimed[rc.EventID] {
			continue
		}
		o.claimed[rc.EventID] = true
		c.events = append(c.events, forget.Event{Receipt: cloneReceipt(*rc)})
	}
	return c, nil
}

// CustomerEvents implements forget.Outbox: at most the latest 1,000.
func (o *Outbox) CustomerEvents(ctx context.Context, customerID string) ([]forget.Event, error) {
	if customerID == "" {
		return nil, fmt.Errorf("memstore: customer events: no customer id: %w", forget.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	var out []forget.Event
	for i := len(o.s.audit) - 1; i >= 0 && len(out) < maxCustomerEvents; i-- {
		rc := &o.s.audit[i]
		if rc.CustomerID != customerID || !isEvent(rc) {
			continue
		}
		out = append(out, forget.Event{Receipt: cloneReceipt(*rc), PublishedAt: o.published[rc.EventID]})
	}
	slices.Reverse(out)
	return out, nil
}

// cloneReceipt copies rc so that a caller cannot change the audit trail.
func cloneReceipt(rc forget.Receipt) forget.Receipt {
	rc.FieldsErased = slices.Clone(rc.FieldsErased)
	rc.FieldsKept = slices.Clone(rc.FieldsKept)
	rc.TablesKept = slices.Clone(rc.TablesKept)
	rc.Absent = slices.Clone(rc.Absent)
	rc.HoldsIgnored = slices.Clone(rc.HoldsIgnored)
	rc.HooksFailed = slices.Clone(rc.HooksFailed)
	rc.RowsDeleted = maps.Clone(rc.RowsDeleted)
	rc.RowsScrubbed = maps.Clone(rc.RowsScrubbed)
	return rc
}

type claim struct {
	o      *Outbox
	events []forget.Event
	ended  bool
}

func (c *claim) Events() []forget.Event { return c.events }

func (c *claim) Release() {
	if c.ended {
		return
	}
	c.ended = true
	c.o.mu.Lock()
	defer c.o.mu.Unlock()
	for _, ev := range c.events {
		delete(c.o.claimed, ev.EventID)
	}
}

func (c *claim) MarkPublished(ctx context.Context, eventIDs []string, at time.Time) error {
	if c.ended {
		if len(c.events) == 0 {
			return nil
		}
		return errors.New("memstore: mark published: the claim has ended")
	}
	defer c.Release()
	mine := make(map[string]bool, len(c.events))
	for _, ev := range c.events {
		mine[ev.EventID] = true
	}
	for _, id := range eventIDs {
		if !mine[id] {
			return fmt.Errorf("memstore: mark published: an event id is not of this claim: %w", forget.ErrInvalid)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.o.mu.Lock()
	defer c.o.mu.Unlock()
	for _, id := range eventIDs {
		if _, ok := c.o.published[id]; !ok {
			c.o.published[id] = at
		}
	}
	return nil
}
