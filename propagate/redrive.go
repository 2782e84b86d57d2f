package propagate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Parked is an event a destination gave up on.
type Parked struct {
	EventID     string    `json:"event_id"`
	Destination string    `json:"destination"`
	LastError   string    `json:"last_error"`
	Attempts    int       `json:"attempts"`
	ParkedAt    time.Time `json:"parked_at"`
	seq         uint64
}

// ListParked returns the events parked for destination name, oldest
// first.
//
// Where the event's status record says it is parked, its time, attempts
// and error class are the record's, which [Status] shows: one reader,
// one answer. The parked copy's headers stand in where there is no
// record (an unreadable event, or a record that failed to be written).
// Options: [WithNamespace].
func ListParked(ctx context.Context, js jetstream.JetStream, name string, opts ...Option) ([]Parked, error) {
	set, err := readerSettings(opts)
	if err != nil {
		return nil, err
	}
	n := set.names
	kv, err := statusBucket(ctx, js, n.Bucket, false)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("propagate: status bucket: %w", err)
	}
	var out []Parked
	err = eachParked(ctx, js, n, name, func(p Parked, _ *jetstream.RawStreamMsg) error {
		if kv != nil && validEventID(p.EventID) {
			d, found, err := readDelivery(ctx, kv, p.EventID, name)
			if err != nil {
				return fmt.Errorf("propagate: status: %w", err)
			}
			if found && d.State == StateParked {
				p.LastError, p.Attempts, p.ParkedAt = d.LastError, d.Attempts, d.ParkedAt
			}
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// Redrive sends every event parked for destination name back to it: the
// destination's Consume offers each again, with a fresh count of
// attempts, and parks it again should it fail as often. It first lifts
// the destination's gone mark (a 410 answer), if any, so that its
// events are attempted again. It returns how many it sent. An event is
// removed from the parked ones only once the broker holds its copy, so
// a Redrive that dies midway may be run again. Options: [WithNamespace].
func Redrive(ctx context.Context, js jetstream.JetStream, name string, opts ...Option) (int, error) {
	set, err := readerSettings(opts)
	if err != nil {
		return 0, err
	}
	names := set.names
	if !validName(name) {
		return 0, badDestination(name)
	}
	kv, err := statusBucket(ctx, js, names.Bucket, true)
	if err != nil {
		return 0, fmt.Errorf("propagate: status bucket: %w", err)
	}
	s, err := ensureStream(ctx, js, names.ParkedStreamConfig())
	if err != nil {
		return 0, err
	}
	// Before the copies, which a gone destination would park again.
	if err := liftGone(ctx, kv, name); err != nil {
		return 0, fmt.Errorf("propagate: redrive: destination status: %w", err)
	}
	n := 0
	err = eachParked(ctx, js, names, name, func(p Parked, raw *jetstream.RawStreamMsg) error {
		m := nats.NewMsg(names.redriveSubject(name))
		m.Data = raw.Data
		for _, h := range []string{headerEventID, headerDestination, headerError, headerAttempts, headerParkedAt} {
			m.Header.Set(h, raw.Header.Get(h))
		}
		// The record first: Consume counts the failures it holds, and
		// would park the copy again at once were they still there.
		if p.EventID != "" {
			if err := updateDelivery(ctx, kv, p.EventID, name, func(d *Delivery) {
				d.Parked, d.ParkedAt, d.Failures, d.Throttled = false, time.Time{}, 0, 0
			}); err != nil {
				return fmt.Errorf("propagate: redrive: status: %w", err)
			}
		}
		// The parked copy's sequence makes a second Redrive of the same
		// copy a repeat the stream drops.
		id := "redrive." + name + "." + strconv.FormatUint(p.seq, 10)
		if _, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(id), jetstream.WithExpectStream(names.ParkedStream)); err != nil {
			return fmt.Errorf("propagate: redrive: %w", err)
		}
		if err := s.DeleteMsg(ctx, p.seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("propagate: redrive: %w", err)
		}
		n++
		return nil
	})
	return n, err
}

// eachParked calls fn with each event parked for name, oldest first.
func eachParked(ctx context.Context, js jetstream.JetStream, names Names, name string, fn func(Parked, *jetstream.RawStreamMsg) error) error {
	if !validName(name) {
		return badDestination(name)
	}
	s, err := js.Stream(ctx, names.ParkedStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("propagate: stream %s: %w", names.ParkedStream, err)
	}
	subject := names.parkedSubject(name)
	for seq := uint64(1); ; {
		raw, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("propagate: read parked events: %w", err)
		}
		p := Parked{
			EventID:     raw.Header.Get(headerEventID),
			Destination: name,
			LastError:   raw.Header.Get(headerError),
			ParkedAt:    raw.Time.UTC(),
			seq:         raw.Sequence,
		}
		if at, err := time.Parse(time.RFC3339Nano, raw.Header.Get(headerParkedAt)); err == nil {
			p.ParkedAt = at.UTC()
		}
		p.Attempts, _ = strconv.Atoi(raw.Header.Get(headerAttempts))
		if err := fn(p, raw); err != nil {
			return err
		}
		seq = raw.Sequence + 1
	}
}

func badDestination(name string) error {
	return fmt.Errorf("propagate: destination name %q: want 1 to 64 letters, digits, - or _", name)
}
