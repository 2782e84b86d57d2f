package propagate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
)

// Handler tells one destination of one erasure event. It must be
// idempotent: an event may come more than once (rc.EventID tells
// repeats). An error makes the broker offer the event again later; its
// class, never its text, is recorded (see [ErrorClass]).
type Handler func(ctx context.Context, rc forget.Receipt) error

// Consume hands every event of the events stream to h, as the durable
// destination name, until ctx ends; it returns nil then, and an error only
// for bad arguments or a broker older than [MinServerVersion]. While the broker is away it waits, and tries again.
// Processes consuming under one name share its events;
// each name gets every event, from the first the stream holds.
//
// An event h fails is offered again after the back-off delays
// ([WithBackOff]), by the broker: a Consume that dies mid-attempt loses
// nothing. After [WithMaxDeliver] failed attempts the event is parked:
// copied to forget.parked.<name> on [ParkedStreamName], where [Redrive]
// finds it. Failed attempts are those h returned an error from (or
// timed out, or panicked), as the status record counts them: a
// deliverer killed mid-attempt uses none up, however often. As a
// backstop, an event the broker has offered ten times WithMaxDeliver
// (and at least 50 times) without that many failures, a message that
// kills its deliverer every time, say, is parked with class gave_up.
// The consumer's own MaxDeliver is out of reach, so that the broker never
// drops an event silently: parking is Consume's decision, and a park that
// fails is retried. Each attempt is recorded in [StatusBucket].
//
// Options: [WithMaxDeliver], [WithBackOff], [WithAttemptTimeout],
// [WithWorkers], [WithConsumerObserver], [WithNamespace], [WithLogger],
// [WithClock].
func Consume(ctx context.Context, js jetstream.JetStream, name string, h Handler, opts ...ConsumerOption) error {
	if js == nil || h == nil {
		return errors.New("propagate: Consume needs a JetStream and a handler")
	}
	if !validName(name) {
		return fmt.Errorf("propagate: destination name %q: want 1 to 64 letters, digits, - or _", name)
	}
	set, err := consumerSettings(opts)
	if err != nil {
		return err
	}
	c := &consumer{js: js, name: name, h: h, set: set}
	// The broker may be away when Consume starts: wait for it, as Run
	// does.
	var main, redrive jetstream.Consumer
	for failures := 1; ; failures++ {
		if main, redrive, err = c.start(ctx); err == nil {
			break
		}
		var old *UnsupportedServerError
		if errors.As(err, &old) {
			return err // waiting will not make the broker newer
		}
		if ctx.Err() != nil {
			return nil
		}
		set.log.LogAttrs(ctx, slog.LevelWarn, "propagate: consume: cannot start; trying again", slog.String("destination", name), slog.String("error", err.Error()))
		sleep(ctx, backOffDelay(failures), nil)
	}
	// Each worker pulls one message when it is free: a message buffered
	// behind a slow delivery would see its ack wait run out, and come
	// twice. Redrives are rare: one worker.
	var wg sync.WaitGroup
	work := func(cons jetstream.Consumer) {
		defer wg.Done()
		for ctx.Err() == nil {
			fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			m, err := cons.Next(jetstream.FetchContext(fctx))
			cancel()
			if err == nil {
				c.handle(ctx, m)
				continue
			}
			if ctx.Err() == nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
				// The broker is away, or the consumer was removed: the
				// client reconnects on its own.
				set.log.LogAttrs(ctx, slog.LevelDebug, "propagate: consume: waiting for the broker", slog.String("destination", name), slog.String("error", err.Error()))
				sleep(ctx, 250*time.Millisecond, nil)
			}
		}
	}
	for range set.workers {
		wg.Add(1)
		go work(main)
	}
	wg.Add(1)
	go work(redrive)
	wg.Wait()
	return nil
}

// serverMaxDeliver is the consumer's MaxDeliver on the broker: out of
// reach, since parking is Consume's decision (the broker would drop the
// event silently). Not -1, which servers before 2.10 refuse with BackOff.
const serverMaxDeliver = 1 << 30

// start creates what the consumer needs on the broker: the status
// bucket, the streams, and its consumers on both.
func (c *consumer) start(ctx context.Context) (main, redrive jetstream.Consumer, err error) {
	if err := checkServer(c.js); err != nil {
		return nil, nil, err
	}
	n := c.set.names
	if c.kv, err = statusBucket(ctx, c.js, n.Bucket, true); err != nil {
		return nil, nil, fmt.Errorf("propagate: status bucket: %w", err)
	}
	if _, err := ensureStream(ctx, c.js, n.StreamConfig(DefaultDuplicateWindow)); err != nil {
		return nil, nil, err
	}
	if _, err := ensureStream(ctx, c.js, n.ParkedStreamConfig()); err != nil {
		return nil, nil, err
	}
	if main, err = c.js.CreateOrUpdateConsumer(ctx, n.Stream, consumerConfig(c.name, n.Subject(">"), c.set)); err != nil {
		return nil, nil, fmt.Errorf("propagate: consumer %s on %s: %w", c.name, n.Stream, err)
	}
	if redrive, err = c.js.CreateOrUpdateConsumer(ctx, n.ParkedStream, consumerConfig(c.name, n.redriveSubject(c.name), c.set)); err != nil {
		return nil, nil, fmt.Errorf("propagate: consumer %s on %s: %w", c.name, n.ParkedStream, err)
	}
	return main, redrive, nil
}

// consumerConfig is a destination's durable consumer on one stream.
func consumerConfig(name, subject string, set *settings) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "forget destination " + name,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		BackOff:       set.backOff,
		MaxDeliver:    serverMaxDeliver,
		FilterSubject: subject,
		MaxAckPending: 4 * set.workers,
	}
}

type consumer struct {
	js   jetstream.JetStream
	kv   jetstream.KeyValue
	name string
	h    Handler
	set  *settings
}

// handle makes one attempt at one message. An attempt in progress
// finishes even when ctx ends: its outcome is recorded and acknowledged.
//
// Whether an event is given up on is decided by the failed attempts its
// status record counts (Delivery.Failures), not by the broker's count of
// deliveries: that one also counts the deliveries of a deliverer killed
// mid-attempt, which say nothing of the receiver. The broker's count is
// only the backstop of [maxDeliveries].
func (c *consumer) handle(ctx context.Context, m jetstream.Msg) {
	ctx = context.WithoutCancel(ctx)
	md, err := m.Metadata()
	if err != nil {
		m.Term() // not a JetStream message
		return
	}
	var rc forget.Receipt
	if err := json.Unmarshal(m.Data(), &rc); err != nil || !validEventID(rc.EventID) || rc.CustomerID == "" {
		// Not an event a relay published: nobody can deliver it.
		c.park(ctx, m, md, "", "bad_event", int(md.NumDelivered))
		return
	}
	log := c.set.log.With(slog.String("destination", c.name), slog.String("event_id", rc.EventID))
	// From here the broker hears that the message is in hand: reading
	// the record takes some of its ack wait.
	stop := keepAlive(m, c.set.backOff[0])
	prior, err := c.read(ctx, rc.EventID)
	if err != nil {
		// Attempt anyway: the record's update counts this one if it
		// can, and the backstop bounds the rest.
		log.LogAttrs(ctx, slog.LevelWarn, "propagate: could not read delivery status", slog.String("error", err.Error()))
	}
	switch {
	case prior.Failures >= c.set.maxDeliver && prior.DeliveredAt.IsZero():
		stop()
		// The last attempt failed, and its park did not finish.
		c.park(ctx, m, md, rc.EventID, prior.LastError, prior.Attempts)
		return
	case int(md.NumDelivered) > maxDeliveries(c.set.maxDeliver):
		// Offered that often without its attempts finishing: a message
		// that kills its deliverer, say.
		stop()
		c.park(ctx, m, md, rc.EventID, "gave_up", prior.Attempts)
		return
	}
	hctx, cancel := context.WithTimeout(ctx, c.set.attemptTimeout)
	err = safeCall(hctx, c.h, rc)
	cancel()
	stop() // before the ack or nak, which a later "in progress" would undo
	if err == nil {
		c.record(ctx, rc.EventID, func(d *Delivery) {
			d.Attempts++
			d.Failures = 0
			d.LastAttemptAt = c.set.now().UTC()
			if d.DeliveredAt.IsZero() {
				d.DeliveredAt = d.LastAttemptAt
			}
			d.Parked, d.ParkedAt = false, time.Time{}
		})
		c.set.observeDelivery(c.name, OutcomeDelivered)
		if err := m.Ack(); err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "propagate: ack failed; the event will come again", slog.String("error", err.Error()))
		}
		return
	}
	class := ErrorClass(err)
	// Should the record fail to be written, the count read before the
	// attempt goes on.
	failures, attempts := prior.Failures+1, prior.Attempts+1
	c.record(ctx, rc.EventID, func(d *Delivery) {
		d.Attempts++
		d.Failures++
		d.LastAttemptAt = c.set.now().UTC()
		d.LastError = class
		failures, attempts = d.Failures, d.Attempts
	})
	c.set.observeDelivery(c.name, OutcomeFailed)
	log.LogAttrs(ctx, slog.LevelWarn, "propagate: delivery failed", slog.Int("attempt", failures), slog.String("class", class))
	if failures >= c.set.maxDeliver {
		c.park(ctx, m, md, rc.EventID, class, attempts)
		return
	}
	m.NakWithDelay(c.delay(failures))
}

// maxDeliveries is how often the broker may offer one event to a
// destination before it is parked as gave_up, however few of its
// attempts finished: ten times max-deliver, and at least 50. Deliverers
// killed mid-attempt do not come near it; a message that kills its
// deliverer every time, or whose attempts can never be recorded, is
// stopped by it.
func maxDeliveries(maxDeliver int) int { return max(10*maxDeliver, 50) }

// read returns the event's status record for this destination; an
// absent one is fresh.
func (c *consumer) read(ctx context.Context, eventID string) (Delivery, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d, _, err := readDelivery(rctx, c.kv, eventID, c.name)
	return d, err
}

// delay is the wait before the retry that follows the n-th failure.
func (c *consumer) delay(n int) time.Duration {
	return c.set.backOff[min(max(n, 1), len(c.set.backOff))-1]
}

// park copies the event to the parked stream, records it, and ends its
// delivery. When the copy fails, the event is offered again later, and
// parked then. attempts is the finished attempts, as the copy records
// them.
func (c *consumer) park(ctx context.Context, m jetstream.Msg, md *jetstream.MsgMetadata, eventID, class string, attempts int) {
	pm := nats.NewMsg(c.set.names.parkedSubject(c.name))
	pm.Data = m.Data()
	pm.Header.Set(headerEventID, eventID)
	pm.Header.Set(headerDestination, c.name)
	pm.Header.Set(headerError, class)
	pm.Header.Set(headerAttempts, strconv.Itoa(attempts))
	// The status record and the parked copy carry one time, so that
	// Status and ListParked give one answer.
	at := c.set.now().UTC()
	pm.Header.Set(headerParkedAt, at.Format(time.RFC3339Nano))
	// One park per delivery of one stream message, however often it is
	// tried.
	id := fmt.Sprintf("park.%s.%s.%d", c.name, md.Stream, md.Sequence.Stream)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.js.PublishMsg(pctx, pm, jetstream.WithMsgID(id), jetstream.WithExpectStream(c.set.names.ParkedStream)); err != nil {
		c.set.log.LogAttrs(ctx, slog.LevelError, "propagate: could not park an event; it will come again", slog.String("destination", c.name), slog.String("error", err.Error()))
		m.NakWithDelay(c.set.backOff[len(c.set.backOff)-1])
		return
	}
	if eventID != "" {
		c.record(ctx, eventID, func(d *Delivery) {
			if class != "" {
				d.LastError = class
			}
			if d.DeliveredAt.IsZero() {
				d.Parked, d.ParkedAt = true, at
			}
		})
	}
	c.set.observeDelivery(c.name, OutcomeParked)
	c.set.log.LogAttrs(ctx, slog.LevelError, "propagate: event parked; 'forget redrive' sends it again", slog.String("destination", c.name), slog.String("event_id", eventID), slog.String("class", class))
	if err := endDelivery(m); err != nil {
		c.set.log.LogAttrs(ctx, slog.LevelWarn, "propagate: could not end a parked event's delivery; it will come again and be parked once", slog.String("destination", c.name), slog.String("error", err.Error()))
	}
}

// endDelivery tells the broker never to offer m again. A plain +TERM:
// servers before 2.10 ignore a terminate that carries a reason
// (TermWithReason), and the message would come back after every back-off.
func endDelivery(m jetstream.Msg) error { return m.Term() }

// record updates the event's status for this destination. Status is
// best effort: a failure is logged, and the delivery goes on.
func (c *consumer) record(ctx context.Context, eventID string, update func(*Delivery)) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := updateDelivery(rctx, c.kv, eventID, c.name, update); err != nil {
		c.set.log.LogAttrs(ctx, slog.LevelWarn, "propagate: could not record delivery status", slog.String("destination", c.name), slog.String("event_id", eventID), slog.String("error", err.Error()))
	}
}

// keepAlive tells the broker, while a long attempt runs, that it is in
// progress, so that it is not offered to another worker meanwhile.
func keepAlive(m jetstream.Msg, ackWait time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(max(ackWait/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				m.InProgress()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// safeCall calls h, turning a panic into an error.
func safeCall(ctx context.Context, h Handler, rc forget.Receipt) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = classError{class: "panic", msg: "propagate: the handler panicked"}
		}
	}()
	return h(ctx, rc)
}

// Headers of parked events.
const (
	headerDestination = "Forget-Destination"
	headerError       = "Forget-Error"
	headerAttempts    = "Forget-Attempts"
	headerParkedAt    = "Forget-Parked-At"
)
