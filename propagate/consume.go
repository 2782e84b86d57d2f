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
// class, never its text, is recorded (see [ErrorClass]). An error may
// say more, as [HTTPStatusError] does: one with a method Gone() bool
// that returns true stops deliveries to the destination (see [Consume]);
// one with a method Throttled() (retryAfter time.Duration, ok bool) that
// returns ok asks for a later retry that counts no failure.
type Handler func(ctx context.Context, rc forget.Receipt) error

// Consume hands every event of the events stream to h, as the durable
// destination name, until ctx ends; it returns nil then, and an error only
// for bad arguments or a broker older than [MinServerVersion]. While the broker is away it waits, and tries again.
// Processes consuming under one name share its events;
// each name gets every event, from the first the stream holds.
//
// An event h fails is offered again after the back-off delays
// ([WithBackOff]; by default the Standard Webhooks schedule, 5s to 24h,
// spanning three days), each lengthened by up to a tenth at random so
// that retries after an outage do not all come at once, by the broker: a
// Consume that dies mid-attempt loses nothing. After [WithMaxDeliver]
// failed attempts the event is parked: copied to forget.parked.<name> on
// [ParkedStreamName], where [Redrive] finds it. Failed attempts are
// those h returned an error from (or timed out, or panicked), as the
// status record counts them: a deliverer killed mid-attempt uses none
// up, however often.
//
// Two answers are not failures like the others. An error that says the
// destination is gone (a webhook's 410) parks its event at once and
// marks the destination gone in [StatusBucket] ([DestinationStatus]):
// from then on its events are parked, class gone, without an attempt,
// until [Redrive] lifts the mark. An error that asks to slow down (a
// webhook's 429, 502, 503 or 504) is a throttled attempt: it counts no
// failure, so it never hastens parking; the next attempt comes after
// its Retry-After, held between 1s and 24h, or, without one, after the
// next delay of the schedule, which throttled attempts and failures
// move along together. Throttled attempts are bounded as the backstop
// below is: an event with ten times WithMaxDeliver (at least 50)
// throttled and failed attempts is parked, with the class of the last.
//
// As a backstop, an event the broker has offered ten times WithMaxDeliver
// (and at least 50 times) more often than its attempts finished, a
// message that kills its deliverer every time, say, is parked with class
// gave_up. The consumer's own MaxDeliver is out of reach, so that the
// broker never drops an event silently: parking is Consume's decision,
// and a park that fails is retried. Each attempt is recorded in
// [StatusBucket].
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

// maxRetrying is how many events may wait for a retry while others are
// delivered: the broker counts events waiting after a NakWithDelay as
// pending, and with retries days apart a few failing events would stop
// the destination's other events for days.
const maxRetrying = 1000

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
		BackOff:       redeliveryBackOff(set.backOff),
		MaxDeliver:    serverMaxDeliver,
		FilterSubject: subject,
		MaxAckPending: 4*set.workers + maxRetrying,
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
	stop := keepAlive(m, min(c.set.backOff[0], maxRedelivery))
	prior, err := c.read(ctx, rc.EventID)
	if err != nil {
		// Attempt anyway: the record's update counts this one if it
		// can, and the backstop bounds the rest.
		log.LogAttrs(ctx, slog.LevelWarn, "propagate: could not read delivery status", slog.String("error", err.Error()))
	}
	dest, err := c.destination(ctx)
	if err != nil {
		// Attempt anyway: a gone receiver answers 410 again.
		log.LogAttrs(ctx, slog.LevelWarn, "propagate: could not read the destination's status", slog.String("error", err.Error()))
	}
	switch {
	case prior.DeliveredAt.IsZero() && (prior.Failures >= c.set.maxDeliver || prior.Failures+prior.Throttled >= maxDeliveries(c.set.maxDeliver)):
		stop()
		// The last attempt failed, and its park did not finish.
		c.park(ctx, m, md, rc.EventID, prior.LastError, prior.Attempts)
		return
	case int(md.NumDelivered)-prior.Attempts > maxDeliveries(c.set.maxDeliver):
		// Offered that often without its attempts finishing: a message
		// that kills its deliverer, say.
		stop()
		c.park(ctx, m, md, rc.EventID, "gave_up", prior.Attempts)
		return
	case dest.Gone:
		stop()
		c.park(ctx, m, md, rc.EventID, classGone, prior.Attempts)
		return
	}
	hctx, cancel := context.WithTimeout(ctx, c.set.attemptTimeout)
	err = safeCall(hctx, c.h, rc)
	cancel()
	stop() // before the ack or nak, which a later "in progress" would undo
	if err == nil {
		c.record(ctx, rc.EventID, func(d *Delivery) {
			d.Attempts++
			d.Failures, d.Throttled = 0, 0
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
	isGone := gone(err)
	after, isThrottled := throttled(err)
	isThrottled = isThrottled && !isGone
	// Should the record fail to be written, the counts read before the
	// attempt go on.
	failures, throttles, attempts := prior.Failures, prior.Throttled, prior.Attempts+1
	if isThrottled {
		throttles++
	} else {
		failures++
	}
	c.record(ctx, rc.EventID, func(d *Delivery) {
		d.Attempts++
		if isThrottled {
			d.Throttled++
		} else {
			d.Failures++
		}
		d.LastAttemptAt = c.set.now().UTC()
		d.LastError = class
		failures, throttles, attempts = d.Failures, d.Throttled, d.Attempts
	})
	c.set.observeDelivery(c.name, OutcomeFailed)
	switch {
	case isGone:
		c.stopDestination(ctx, rc.EventID, class)
		c.park(ctx, m, md, rc.EventID, class, attempts)
		return
	case isThrottled:
		log.LogAttrs(ctx, slog.LevelWarn, "propagate: the receiver asks to slow down; retrying later", slog.Int("throttled", throttles), slog.String("class", class))
	default:
		log.LogAttrs(ctx, slog.LevelWarn, "propagate: delivery failed", slog.Int("attempt", failures), slog.String("class", class))
	}
	if failures >= c.set.maxDeliver || failures+throttles >= maxDeliveries(c.set.maxDeliver) {
		c.park(ctx, m, md, rc.EventID, class, attempts)
		return
	}
	m.NakWithDelay(c.retryDelay(failures+throttles, after))
}

// classGone is the class of the events parked, without an attempt,
// because their destination is gone.
const classGone = "gone"

// destination reads the destination's own status record.
func (c *consumer) destination(ctx context.Context) (Destination, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return readDestination(rctx, c.kv, c.name)
}

// stopDestination marks the destination gone, and says so loudly the
// first time: nothing more reaches it until an operator redrives.
func (c *consumer) stopDestination(ctx context.Context, eventID, class string) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	first, err := markGone(rctx, c.kv, c.name, eventID, c.set.now().UTC())
	if err != nil {
		// Each event then gets one attempt, answered 410, and is parked.
		c.set.log.LogAttrs(ctx, slog.LevelError, "propagate: the destination is gone but could not be marked so", slog.String("destination", c.name), slog.String("error", err.Error()))
		return
	}
	if first {
		c.set.log.LogAttrs(ctx, slog.LevelError, "propagate: THE DESTINATION IS GONE: it answered "+class+"; none of its events will be attempted any more, each is parked; once it wants events again, 'forget redrive -name "+c.name+"' resumes deliveries and sends the parked ones",
			slog.String("destination", c.name), slog.String("event_id", eventID), slog.String("class", class))
	}
}

// read returns the event's status record for this destination; an
// absent one is fresh.
func (c *consumer) read(ctx context.Context, eventID string) (Delivery, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d, _, err := readDelivery(rctx, c.kv, eventID, c.name)
	return d, err
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
		m.NakWithDelay(min(c.set.backOff[len(c.set.backOff)-1], maxRedelivery))
		return
	}
	if eventID != "" {
		c.record(ctx, eventID, func(d *Delivery) {
			// gone is why an event was never attempted: it must not hide
			// the class of an attempt that was (the 410 itself, when the
			// broker offered that event again).
			if class != "" && (class != classGone || d.LastError == "") {
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
