package propagate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Destination is what [StatusBucket] holds of one destination as a
// whole, beside its events' records.
type Destination struct {
	Name string `json:"name"`
	// Gone is set once the destination answered 410 Gone (or its
	// handler's error said so): Consume attempts none of its events
	// any more, and parks them, until [Redrive] lifts it.
	Gone   bool      `json:"gone,omitempty"`
	GoneAt time.Time `json:"gone_at,omitzero"`
	// GoneEventID is the event whose attempt was answered so.
	GoneEventID string `json:"gone_event_id,omitempty"`
}

// destinationKey is the destination's own key: event ids have no _, so
// it is no event's key.
func destinationKey(name string) string { return "_destination." + name }

// DestinationStatus returns what the status bucket holds of destination
// name as a whole: whether it is gone. Options: [WithNamespace].
func DestinationStatus(ctx context.Context, js jetstream.JetStream, name string, opts ...Option) (Destination, error) {
	set, err := readerSettings(opts)
	if err != nil {
		return Destination{}, err
	}
	if !validName(name) {
		return Destination{}, badDestination(name)
	}
	kv, err := statusBucket(ctx, js, set.names.Bucket, false)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return Destination{Name: name}, nil
	}
	if err != nil {
		return Destination{}, fmt.Errorf("propagate: status bucket: %w", err)
	}
	return readDestination(ctx, kv, name)
}

// readDestination reads the destination's record; an absent one is a
// destination that is not gone.
func readDestination(ctx context.Context, kv jetstream.KeyValue, name string) (Destination, error) {
	d := Destination{Name: name}
	e, err := kv.Get(ctx, destinationKey(name))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return d, nil
	case err != nil:
		return d, err
	}
	if json.Unmarshal(e.Value(), &d) != nil {
		// Unreadable: gone is the safer reading of a record that exists
		// only to say so.
		d.Gone = true
	}
	d.Name = name
	return d, nil
}

// markGone records that the destination is gone. first is false when it
// already was.
func markGone(ctx context.Context, kv jetstream.KeyValue, name, eventID string, at time.Time) (first bool, err error) {
	data, err := json.Marshal(Destination{Name: name, Gone: true, GoneAt: at, GoneEventID: eventID})
	if err != nil {
		return false, err
	}
	if _, err := kv.Create(ctx, destinationKey(name), data); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// liftGone forgets that the destination is gone.
func liftGone(ctx context.Context, kv jetstream.KeyValue, name string) error {
	d, err := readDestination(ctx, kv, name)
	if err != nil || !d.Gone {
		return err
	}
	return kv.Delete(ctx, destinationKey(name))
}
