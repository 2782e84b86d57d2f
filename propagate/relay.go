package propagate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
)

// Relay publishes the events of an outbox to the events stream. It is
// safe for concurrent use; several relays, in one process or many, may
// run against one outbox (see the outbox's ClaimEvents for what each
// store guarantees).
type Relay struct {
	outbox  forget.Outbox
	js      jetstream.JetStream
	set     *settings
	subject string
	wake    chan struct{}

	mu        sync.Mutex
	stream    bool            // the stream is known to exist
	malformed map[string]bool // customers whose malformed event was reported
}

// NewRelay returns a relay from outbox to the stream js reaches. Options:
// [WithPreset], [WithBatch], [WithPollInterval], [WithPublishTimeout],
// [WithDuplicateWindow], [WithRelayObserver], [WithNamespace],
// [WithLogger], [WithClock].
func NewRelay(outbox forget.Outbox, js jetstream.JetStream, opts ...RelayOption) (*Relay, error) {
	if outbox == nil || js == nil {
		return nil, errors.New("propagate: NewRelay needs an outbox and a JetStream")
	}
	set, err := relaySettings(opts)
	if err != nil {
		return nil, err
	}
	return &Relay{outbox: outbox, js: js, set: set, subject: set.names.Subject(set.preset), wake: make(chan struct{}, 1)}, nil
}

// Wake makes a waiting Run look for events at once rather than at its
// next poll. A host calls it after a commit (from a [forget.WithHook]
// hook, say) to cut latency; missing a wake costs at most a poll interval.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes events until ctx ends, and returns nil then, or an
// [UnsupportedServerError] at once for a broker older than
// [MinServerVersion]. It outlives
// the broker and the database going away: it logs, waits, and tries
// again, up to 5 seconds apart.
func (r *Relay) Run(ctx context.Context) error {
	failures := 0
	var measured time.Time
	for ctx.Err() == nil {
		if r.set.relayObs != nil && time.Since(measured) >= BacklogInterval {
			measured = time.Now()
			r.measureBacklog(ctx)
		}
		n, err := r.publishClaim(ctx)
		var old *UnsupportedServerError
		switch {
		case errors.As(err, &old):
			return err // waiting will not make the broker newer
		case err != nil && ctx.Err() == nil:
			failures++
			r.set.log.LogAttrs(ctx, slog.LevelWarn, "propagate: relay: events wait in the outbox", slog.String("error", err.Error()), slog.Int("failures", failures))
			sleep(ctx, backOffDelay(failures), nil)
		case n > 0:
			failures = 0 // maybe more: claim again at once
		default:
			failures = 0
			sleep(ctx, r.set.poll, r.wake)
		}
	}
	return nil
}

// Drain publishes until the outbox has nothing to claim, and returns how
// many events it published. Tests and one-off runs use it; a service runs
// Run.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := r.publishClaim(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// publishClaim publishes a claim's events and tells the observer.
func (r *Relay) publishClaim(ctx context.Context) (int, error) {
	n, err := r.publishClaimed(ctx)
	if o := r.set.relayObs; o != nil {
		if n > 0 {
			o.RelayPublished(n)
		}
		if err != nil && ctx.Err() == nil {
			o.RelayFailed()
		}
	}
	return n, err
}

// measureBacklog tells the observer what waits in the outbox, when the
// outbox can count it. A failure is the database's, which the next claim
// reports.
func (r *Relay) measureBacklog(ctx context.Context) {
	st, ok := r.outbox.(forget.OutboxStats)
	if !ok {
		return
	}
	bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if b, err := st.Backlog(bctx); err == nil {
		r.set.relayObs.RelayBacklog(b)
	}
}

// publishClaimed claims events, publishes them, and marks those the
// broker acknowledged. It returns how many it marked.
func (r *Relay) publishClaimed(ctx context.Context) (int, error) {
	if err := r.ensureStream(ctx); err != nil {
		return 0, err
	}
	c, err := r.outbox.ClaimEvents(ctx, r.set.batch)
	if err != nil {
		return 0, err
	}
	defer c.Release()
	events := c.Events()
	if len(events) == 0 {
		return 0, nil
	}
	acked, pubErr := r.publish(ctx, events)
	if len(acked) == 0 {
		return 0, pubErr
	}
	// The broker has the events: record it even when ctx has just ended,
	// or they are published again (and dropped as repeats) later.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.MarkPublished(mctx, acked, r.set.now()); err != nil {
		return 0, fmt.Errorf("propagate: relay: mark published: %w", err)
	}
	return len(acked), pubErr
}

// maxInFlight bounds a relay's publications awaiting their ack.
const maxInFlight = 128

// publish publishes events at once and returns the ids the broker
// acknowledged, and the first error.
func (r *Relay) publish(ctx context.Context, events []forget.Event) ([]string, error) {
	pctx, cancel := context.WithTimeout(ctx, r.set.publishTimeout)
	defer cancel()
	var (
		mu       sync.Mutex
		acked    []string
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, maxInFlight)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for i := range events {
		ev := &events[i]
		if !validEventID(ev.EventID) {
			// Not written by a Forgetter: published without a usable
			// message id it could repeat. It stays in the outbox, holding
			// back its customer's later events, and is reported once; the
			// other customers' events go on.
			r.reportMalformed(ctx, ev)
			continue
		}
		data, err := json.Marshal(ev.Receipt)
		if err != nil {
			fail(fmt.Errorf("propagate: encode event %s: %w", ev.EventID, err))
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			msg := &nats.Msg{Subject: r.subject, Data: data, Header: nats.Header{}}
			msg.Header.Set(headerEventID, ev.EventID)
			// A repeat (ack.Duplicate) is acknowledged too: the stream
			// has the event.
			if _, err := r.js.PublishMsg(pctx, msg, jetstream.WithMsgID(ev.EventID), jetstream.WithExpectStream(r.set.names.Stream)); err != nil {
				fail(fmt.Errorf("propagate: publish: %w", err))
				return
			}
			mu.Lock()
			acked = append(acked, ev.EventID)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return acked, firstErr
}

// ensureStream creates the events stream once, when it does not exist.
func (r *Relay) ensureStream(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stream {
		return nil
	}
	if err := checkServer(r.js); err != nil {
		return err
	}
	if _, err := ensureStream(ctx, r.js, r.set.names.StreamConfig(r.set.duplicates)); err != nil {
		return err
	}
	r.stream = true
	return nil
}

// reportMalformed logs, once per customer, an event whose id no
// Forgetter made.
func (r *Relay) reportMalformed(ctx context.Context, ev *forget.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.malformed == nil {
		r.malformed = make(map[string]bool)
	}
	if r.malformed[ev.CustomerID] || len(r.malformed) >= 1000 {
		return
	}
	r.malformed[ev.CustomerID] = true
	r.set.log.LogAttrs(ctx, slog.LevelError, "propagate: relay: an event with a malformed id stays in the outbox, and its customer's later events behind it; fix or remove its audit record",
		slog.String("customer_id", ev.CustomerID), slog.Time("at", ev.At))
}

// headerEventID carries the event id for consumers, which do not see
// Nats-Msg-Id's value through every API.
const headerEventID = "Forget-Event-Id"

// backOffDelay is how long Run waits after n failures in a row.
func backOffDelay(n int) time.Duration {
	d := 100 * time.Millisecond << min(n-1, 6)
	return min(d, 5*time.Second)
}

// sleep waits for d, ctx's end or a wake.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
	}
}
