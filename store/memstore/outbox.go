package memstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/forgetkit/forget"
)

// The audit trail is the outbox (WithAudit): every receipt the store
// records, in the same step as its erasure, is an event (refusals apart).
// The store keeps which events are published itself, in memory, as the
// SQL store keeps them in its audit table; it behaves as the SQL store
// does on PostgreSQL, claims excluding one another.

var _ forget.OutboxStats = (*Store)(nil)

// outbox is what the store knows of its events beyond the trail. Store.mu
// guards it.
type outbox struct {
	published map[string]time.Time // event id → when
	claimed   map[string]bool
	// done is how many audit records from the start are published or
	// are not events: claims start after them.
	done int
}

// Bounds, as the SQL store's.
const (
	maxClaim          = 10000
	maxCustomerEvents = 1000
)

// errNoOutbox is returned when the store keeps no audit trail.
var errNoOutbox = errors.New("memstore: the store keeps no outbox: events are its audit trail (see WithAudit)")

func isEvent(rc *forget.Receipt) bool { return rc.EventID != "" && rc.Held == "" && !rc.DryRun }

// ClaimEvents implements forget.Outbox. It fails unless the store keeps
// an audit trail (WithAudit).
func (s *Store) ClaimEvents(ctx context.Context, limit int) (forget.EventClaim, error) {
	if limit < 1 || limit > maxClaim {
		return nil, fmt.Errorf("memstore: claim between 1 and %d events, not %d: %w", maxClaim, limit, forget.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.auditing {
		return nil, errNoOutbox
	}
	o, trail := &s.outbox, s.audit
	for o.done < len(trail) {
		rc := &trail[o.done]
		if _, ok := o.published[rc.EventID]; isEvent(rc) && !ok {
			break
		}
		o.done++
	}
	c := &claim{s: s}
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

// CustomerEvents implements forget.Outbox: at most the latest 1,000. It
// fails unless the store keeps an audit trail (WithAudit).
func (s *Store) CustomerEvents(ctx context.Context, customerID string) ([]forget.Event, error) {
	if customerID == "" {
		return nil, fmt.Errorf("memstore: customer events: no customer id: %w", forget.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.auditing {
		return nil, errNoOutbox
	}
	var out []forget.Event
	for i := len(s.audit) - 1; i >= 0 && len(out) < maxCustomerEvents; i-- {
		rc := &s.audit[i]
		if rc.CustomerID != customerID || !isEvent(rc) {
			continue
		}
		out = append(out, forget.Event{Receipt: cloneReceipt(*rc), PublishedAt: s.outbox.published[rc.EventID]})
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
	rc.Certificate = slices.Clone(rc.Certificate)
	return rc
}

type claim struct {
	s      *Store
	events []forget.Event
	ended  bool
}

func (c *claim) Events() []forget.Event { return c.events }

func (c *claim) Release() {
	if c.ended {
		return
	}
	c.ended = true
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, ev := range c.events {
		delete(c.s.outbox.claimed, ev.EventID)
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
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, id := range eventIDs {
		if _, ok := c.s.outbox.published[id]; !ok {
			c.s.outbox.published[id] = at
		}
	}
	return nil
}

// Backlog implements forget.OutboxStats. It fails unless the store keeps
// an audit trail (WithAudit).
func (s *Store) Backlog(ctx context.Context) (forget.Backlog, error) {
	if err := ctx.Err(); err != nil {
		return forget.Backlog{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.auditing {
		return forget.Backlog{}, errNoOutbox
	}
	var b forget.Backlog
	// Records before done are published or no events.
	for i := s.outbox.done; i < len(s.audit); i++ {
		rc := &s.audit[i]
		if _, ok := s.outbox.published[rc.EventID]; ok || !isEvent(rc) {
			continue
		}
		if b.Pending == 0 {
			b.Oldest = rc.At
		}
		b.Pending++
	}
	return b, nil
}

// AuditTrail returns the records written at or after since, oldest first:
// the receipt of every forget the store has applied (and of every refusal
// by a hold), each recorded in the same step as the erasure. It is empty
// unless the store was made WithAudit; like sqlstore's, it fails when the
// store keeps no trail.
func (s *Store) AuditTrail(_ context.Context, since time.Time) ([]forget.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.auditing {
		return nil, errors.New("memstore: the store keeps no audit trail (see WithAudit)")
	}
	var out []forget.Receipt
	for _, rc := range s.audit {
		if !rc.At.Before(since) {
			out = append(out, rc)
		}
	}
	return out, nil
}
