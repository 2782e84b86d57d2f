package forget

import (
	"context"
	"time"
)

// Event is the erasure event of one committed forget: its receipt, under
// the receipt's EventID, as an [Outbox] holds it until a relay has
// published it.
type Event struct {
	Receipt
	// PublishedAt is when a relay's broker acknowledged the event; zero
	// while the event waits in the outbox.
	PublishedAt time.Time `json:"published_at,omitzero"`
}

// Outbox is implemented by stores that write each committed forget's
// event in the forget's own transaction (the SQL store's audit table, the
// memory store's audit trail) and hand them to a relay. A relay claims a
// few events, publishes them, and marks published those the broker has
// acknowledged; an event not marked stays in the outbox and is claimed
// again, so a relay that dies at any point loses nothing. Events reach
// the broker at least once: the broker drops repeats by event id.
//
// Refusals (a forget a hold refused) are audited but are not events.
type Outbox interface {
	// ClaimEvents claims up to limit unpublished events, oldest first,
	// and at most one of any customer: the oldest of that customer's
	// unpublished events, so that one customer's events are published in
	// the order they were committed. Events another claim holds are
	// skipped. It returns a claim with no events when there is nothing to
	// publish. The caller must end every claim, with MarkPublished or
	// Release.
	ClaimEvents(ctx context.Context, limit int) (EventClaim, error)
	// CustomerEvents returns the events of one customer, oldest first,
	// published or not; none (and no error) for a customer never
	// forgotten.
	CustomerEvents(ctx context.Context, customerID string) ([]Event, error)
}

// EventClaim is a claim on some of an outbox's events. It is used by one
// goroutine.
type EventClaim interface {
	// Events returns the claimed events.
	Events() []Event
	// MarkPublished records the named events, which must be of this
	// claim, as published at the given time, and ends the claim; the
	// claim's other events stay unpublished. Call it only once the broker
	// has acknowledged each of them. When it fails, nothing is marked and
	// the claim is ended all the same: the events are published again
	// later, and the broker drops the repeats.
	MarkPublished(ctx context.Context, eventIDs []string, at time.Time) error
	// Release ends the claim without marking anything. It may be called
	// after MarkPublished, and more than once.
	Release()
}

// OutboxStats is implemented by outboxes that can measure their backlog
// cheaply (an indexed count), for a relay's metrics. It is optional: a
// relay checks for it by type assertion, and a Store without it relays
// all the same.
type OutboxStats interface {
	// Backlog returns how many events wait unpublished (refusals are no
	// events), and when the oldest of them was committed.
	Backlog(ctx context.Context) (Backlog, error)
}

// Backlog is what waits in an outbox.
type Backlog struct {
	// Pending counts the unpublished events, claimed or not.
	Pending int
	// Oldest is when the oldest unpublished event was committed; zero
	// when none waits.
	Oldest time.Time
}
