package propagate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
)

// Delivery is what one destination has done with one event, as
// [StatusBucket] records it. It holds ids, times, counts and an error
// class: never a response body, an error's text or a value.
type Delivery struct {
	EventID     string `json:"event_id"`
	Destination string `json:"destination"`
	// State is delivered, parked, retrying (attempted, not yet delivered)
	// or pending (not attempted yet).
	State string `json:"state"`
	// Attempts counts the attempts that finished, failed or not.
	Attempts int `json:"attempts"`
	// Failures counts the failed attempts since the event was last
	// delivered or redriven; at max-deliver it is parked. An attempt cut
	// off by its deliverer's death counts in neither.
	Failures int `json:"failures,omitempty"`
	// Throttled counts, since the same, the answers that asked to slow
	// down (429, 502, 503, 504): attempts, but not failures.
	Throttled     int       `json:"throttled,omitempty"`
	LastAttemptAt time.Time `json:"last_attempt_at,omitzero"`
	DeliveredAt   time.Time `json:"delivered_at,omitzero"`
	// LastError is the class of the last failure (http_500, timeout,
	// connection_refused, ...), kept after a later success.
	LastError string    `json:"last_error,omitempty"`
	Parked    bool      `json:"parked,omitempty"`
	ParkedAt  time.Time `json:"parked_at,omitzero"`
}

// Delivery states.
const (
	StateDelivered = "delivered"
	StateParked    = "parked"
	StateRetrying  = "retrying"
	StatePending   = "pending"
)

func (d *Delivery) setState() {
	switch {
	case !d.DeliveredAt.IsZero():
		d.State = StateDelivered
	case d.Parked:
		d.State = StateParked
	case d.Attempts > 0:
		d.State = StateRetrying
	default:
		d.State = StatePending
	}
}

func statusKey(eventID, dest string) string { return eventID + "." + dest }

// updateDelivery applies update to the record of (eventID, dest),
// compare-and-set, so that concurrent attempts do not undo each other.
func updateDelivery(ctx context.Context, kv jetstream.KeyValue, eventID, dest string, update func(*Delivery)) error {
	key := statusKey(eventID, dest)
	for try := 0; ; try++ {
		d := Delivery{EventID: eventID, Destination: dest}
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case err == nil:
			if err := json.Unmarshal(e.Value(), &d); err != nil {
				d = Delivery{EventID: eventID, Destination: dest} // unreadable: start afresh
			}
			rev = e.Revision()
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return err
		}
		update(&d)
		d.setState()
		data, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if rev == 0 {
			_, err = kv.Create(ctx, key, data)
		} else {
			_, err = kv.Update(ctx, key, data, rev)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) || try >= 10 {
			return err
		}
		// Another attempt wrote first: read again.
	}
}

// readDelivery reads the record of (eventID, dest), with its state; an
// absent or unreadable record is a fresh one, found false.
func readDelivery(ctx context.Context, kv jetstream.KeyValue, eventID, dest string) (Delivery, bool, error) {
	d := Delivery{EventID: eventID, Destination: dest}
	e, err := kv.Get(ctx, statusKey(eventID, dest))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		err = nil
	case err == nil:
		if json.Unmarshal(e.Value(), &d) != nil {
			d = Delivery{EventID: eventID, Destination: dest}
		} else {
			d.EventID, d.Destination = eventID, dest
			d.setState()
			return d, true, nil
		}
	}
	d.setState()
	return d, false, err
}

// EventStatus is one erasure event and where it has reached.
type EventStatus struct {
	forget.Event
	// Destinations has one entry per destination the stream knows (its
	// durable consumers), by name.
	Destinations []Delivery `json:"destinations"`
}

// Status returns the customer's erasure events, oldest first, each with
// its publication time (zero while it waits in the outbox) and its status
// at every destination. Destinations are the durable consumers of the
// events stream: a destination that has not started yet is not listed.
// Options: [WithNamespace].
func Status(ctx context.Context, js jetstream.JetStream, outbox forget.Outbox, customerID string, opts ...Option) ([]EventStatus, error) {
	if js == nil || outbox == nil {
		return nil, errors.New("propagate: Status needs a JetStream and an outbox")
	}
	set, err := readerSettings(opts)
	if err != nil {
		return nil, err
	}
	events, err := outbox.CustomerEvents(ctx, customerID)
	if err != nil {
		return nil, err
	}
	dests, err := destinations(ctx, js, set.names)
	if err != nil {
		return nil, err
	}
	kv, err := statusBucket(ctx, js, set.names.Bucket, false)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = nil, nil // nothing delivered yet
	}
	if err != nil {
		return nil, fmt.Errorf("propagate: status bucket: %w", err)
	}
	out := make([]EventStatus, len(events))
	for i, ev := range events {
		out[i] = EventStatus{Event: ev, Destinations: make([]Delivery, 0, len(dests))}
		for _, dest := range dests {
			d := Delivery{EventID: ev.EventID, Destination: dest}
			if kv != nil && validEventID(ev.EventID) {
				if d, _, err = readDelivery(ctx, kv, ev.EventID, dest); err != nil {
					return nil, fmt.Errorf("propagate: status: %w", err)
				}
			}
			d.setState()
			out[i].Destinations = append(out[i].Destinations, d)
		}
	}
	return out, nil
}

// Destinations returns the names of the events stream's durable
// consumers, sorted: the destinations events are delivered to. Options:
// [WithNamespace].
func Destinations(ctx context.Context, js jetstream.JetStream, opts ...Option) ([]string, error) {
	set, err := readerSettings(opts)
	if err != nil {
		return nil, err
	}
	return destinations(ctx, js, set.names)
}

func destinations(ctx context.Context, js jetstream.JetStream, n Names) ([]string, error) {
	s, err := js.Stream(ctx, n.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("propagate: stream %s: %w", n.Stream, err)
	}
	var names []string
	l := s.ListConsumers(ctx)
	for ci := range l.Info() {
		if ci.Config.Durable != "" {
			names = append(names, ci.Config.Durable)
		}
	}
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("propagate: list destinations: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

// ParkedCounts returns how many events are parked for each destination
// that has any, from the parked stream's per-subject counts: one request,
// however many are parked. Options: [WithNamespace].
func ParkedCounts(ctx context.Context, js jetstream.JetStream, opts ...Option) (map[string]int, error) {
	set, err := readerSettings(opts)
	if err != nil {
		return nil, err
	}
	n := set.names
	out := make(map[string]int)
	s, err := js.Stream(ctx, n.ParkedStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("propagate: stream %s: %w", n.ParkedStream, err)
	}
	prefix := n.parkedSubject("")
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(prefix+">"))
	if err != nil {
		return nil, fmt.Errorf("propagate: count parked events: %w", err)
	}
	for subject, count := range info.State.Subjects {
		if dest := strings.TrimPrefix(subject, prefix); dest != subject && validName(dest) {
			out[dest] = int(count)
		}
	}
	return out, nil
}

// maxListed bounds what [ListDeliveries] returns: an operator's listing,
// not an export.
const maxListed = 10000

// ListDeliveries returns the delivery records of every event, across
// customers, whose state is one of states (delivered, parked, retrying;
// pending events have no record yet), at destination dest or, with dest
// "", at every destination; sorted by destination, then by last attempt.
// It reads the status bucket, every record of the destination (or of
// all): the cost of a listing, not of a probe. At most 10,000 are
// returned, and truncated says when more matched. Options:
// [WithNamespace].
func ListDeliveries(ctx context.Context, js jetstream.JetStream, dest string, states []string, opts ...Option) (out []Delivery, truncated bool, err error) {
	set, err := readerSettings(opts)
	if err != nil {
		return nil, false, err
	}
	if dest != "" && !validName(dest) {
		return nil, false, badDestination(dest)
	}
	want := make(map[string]bool, len(states))
	for _, s := range states {
		switch s {
		case StateDelivered, StateParked, StateRetrying:
			want[s] = true
		default:
			return nil, false, fmt.Errorf("propagate: list deliveries: state %q: want delivered, parked or retrying", s)
		}
	}
	kv, err := statusBucket(ctx, js, set.names.Bucket, false)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, false, nil // nothing attempted yet
	}
	if err != nil {
		return nil, false, fmt.Errorf("propagate: status bucket: %w", err)
	}
	keys := ">"
	if dest != "" {
		keys = "*." + dest // event ids hold no dot
	}
	w, err := kv.Watch(ctx, keys, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, false, fmt.Errorf("propagate: list deliveries: %w", err)
	}
	defer w.Stop()
	for {
		var e jetstream.KeyValueEntry
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case e = <-w.Updates():
		}
		if e == nil {
			break // every record present when the watch began
		}
		eventID, d, ok := strings.Cut(e.Key(), ".")
		if !ok || !validEventID(eventID) || !validName(d) {
			continue
		}
		rec := Delivery{EventID: eventID, Destination: d}
		if json.Unmarshal(e.Value(), &rec) != nil {
			continue
		}
		rec.EventID, rec.Destination = eventID, d
		rec.setState()
		if !want[rec.State] {
			continue
		}
		if len(out) == maxListed {
			truncated = true
			break
		}
		out = append(out, rec)
	}
	slices.SortStableFunc(out, func(a, b Delivery) int {
		if c := strings.Compare(a.Destination, b.Destination); c != 0 {
			return c
		}
		if c := a.LastAttemptAt.Compare(b.LastAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.EventID, b.EventID)
	})
	return out, truncated, nil
}
