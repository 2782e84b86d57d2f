package propagate

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/forgetkit/forget"
)

// RelayOption configures a [Relay]. Options are typed by what they
// configure, so that an option passed to a part it does not apply to
// does not compile:
//
//   - [RelayOption] configures [NewRelay]: WithPreset, WithBatch,
//     WithPollInterval, WithPublishTimeout, WithDuplicateWindow,
//     WithRelayObserver;
//   - [ConsumerOption] configures [Consume]: WithMaxDeliver, WithBackOff,
//     WithAttemptTimeout, WithWorkers, WithConsumerObserver;
//   - a [SharedOption] is both: WithLogger, WithClock;
//   - an [Option] is both, and also configures the functions that read or
//     redrive ([Status], [Destinations], [ListParked], [Redrive]):
//     WithNamespace.
type RelayOption interface{ applyRelay(*settings) }

// ConsumerOption configures [Consume].
type ConsumerOption interface{ applyConsumer(*settings) }

// SharedOption configures a [Relay] and [Consume] alike.
type SharedOption func(*settings)

// Option configures every part that names the streams, subjects and
// bucket: a [Relay], [Consume], and the functions that read or redrive.
type Option func(*settings)

type relayOption func(*settings)
type consumerOption func(*settings)

func (o relayOption) applyRelay(s *settings)       { o(s) }
func (o consumerOption) applyConsumer(s *settings) { o(s) }
func (o SharedOption) applyRelay(s *settings)      { o(s) }
func (o SharedOption) applyConsumer(s *settings)   { o(s) }
func (o Option) applyRelay(s *settings)            { o(s) }
func (o Option) applyConsumer(s *settings)         { o(s) }

func relaySettings(opts []RelayOption) (*settings, error) {
	return newSettings(func(s *settings) {
		for _, o := range opts {
			o.applyRelay(s)
		}
	})
}

func consumerSettings(opts []ConsumerOption) (*settings, error) {
	return newSettings(func(s *settings) {
		for _, o := range opts {
			o.applyConsumer(s)
		}
	})
}

func readerSettings(opts []Option) (*settings, error) {
	return newSettings(func(s *settings) {
		for _, o := range opts {
			o(s)
		}
	})
}

type settings struct {
	log            *slog.Logger
	now            func() time.Time
	preset         string
	batch          int
	poll           time.Duration
	publishTimeout time.Duration
	duplicates     time.Duration
	maxDeliver     int
	backOff        []time.Duration
	attemptTimeout time.Duration
	workers        int
	namespace      string
	names          Names
	relayObs       RelayObserver
	consumerObs    ConsumerObserver
}

// newSettings returns the defaults as apply changes them, checked.
func newSettings(apply func(*settings)) (*settings, error) {
	s := &settings{
		now:            time.Now,
		preset:         DefaultPreset,
		batch:          500,
		poll:           20 * time.Millisecond,
		publishTimeout: 5 * time.Second,
		duplicates:     DefaultDuplicateWindow,
		maxDeliver:     DefaultMaxDeliver,
		backOff:        DefaultBackOff(),
		attemptTimeout: DefaultAttemptTimeout,
		workers:        4,
	}
	apply(s)
	if s.log == nil {
		s.log = slog.Default()
	}
	names, err := NamesOf(s.namespace)
	if err != nil {
		return nil, err
	}
	s.names = names
	switch {
	case s.now == nil:
		return nil, errors.New("propagate: WithClock(nil)")
	case !validName(s.preset):
		return nil, fmt.Errorf("propagate: preset %q: want 1 to 64 letters, digits, - or _", s.preset)
	case s.batch < 1 || s.batch > 10000:
		return nil, fmt.Errorf("propagate: batch %d: want 1 to 10000", s.batch)
	case s.poll <= 0 || s.publishTimeout <= 0 || s.attemptTimeout <= 0:
		return nil, errors.New("propagate: intervals and timeouts must be positive")
	case s.duplicates < time.Second:
		return nil, fmt.Errorf("propagate: duplicate window %s: want at least a second", s.duplicates)
	case s.maxDeliver < 1:
		return nil, fmt.Errorf("propagate: max deliver %d: want at least 1", s.maxDeliver)
	case len(s.backOff) == 0:
		return nil, errors.New("propagate: WithBackOff needs at least one delay")
	case s.workers < 1 || s.workers > 1024:
		return nil, fmt.Errorf("propagate: workers %d: want 1 to 1024", s.workers)
	}
	for _, d := range s.backOff {
		if d <= 0 {
			return nil, fmt.Errorf("propagate: back-off delay %s: want a positive delay", d)
		}
	}
	return s, nil
}

// WithLogger sets where a Relay or Consume logs; the default is
// slog.Default(). Logs name events by id and destinations by name, never
// a value.
func WithLogger(l *slog.Logger) SharedOption { return func(s *settings) { s.log = l } }

// WithClock sets the clock that stamps publications and delivery status.
func WithClock(now func() time.Time) SharedOption { return func(s *settings) { s.now = now } }

// WithPreset sets the Relay's subject, forget.erased.<preset>; the
// default is offerit.
func WithPreset(p string) RelayOption { return relayOption(func(s *settings) { s.preset = p }) }

// WithBatch sets how many events a Relay claims at once; the default is
// 500.
func WithBatch(n int) RelayOption { return relayOption(func(s *settings) { s.batch = n }) }

// WithPollInterval sets how often an idle Relay looks for new events; the
// default is 20ms. [Relay.Wake] makes it look at once.
func WithPollInterval(d time.Duration) RelayOption {
	return relayOption(func(s *settings) { s.poll = d })
}

// WithPublishTimeout bounds how long a Relay waits for the broker's
// acknowledgement of a claim's events; the default is 5s.
func WithPublishTimeout(d time.Duration) RelayOption {
	return relayOption(func(s *settings) { s.publishTimeout = d })
}

// WithDuplicateWindow sets the duplicate window of the stream a Relay
// creates; the default is [DefaultDuplicateWindow].
func WithDuplicateWindow(d time.Duration) RelayOption {
	return relayOption(func(s *settings) { s.duplicates = d })
}

// WithMaxDeliver sets how many times Consume offers an event before it
// parks it; the default is [DefaultMaxDeliver].
func WithMaxDeliver(n int) ConsumerOption {
	return consumerOption(func(s *settings) { s.maxDeliver = n })
}

// WithBackOff sets the delays before each retry of a failed delivery
// (each lengthened by up to a tenth, at random), and, each cut to a
// minute, the consumer's BackOff (the redelivery delays when a consumer
// dies mid-attempt); the default is [DefaultBackOff].
func WithBackOff(d ...time.Duration) ConsumerOption {
	return consumerOption(func(s *settings) { s.backOff = append([]time.Duration(nil), d...) })
}

// WithAttemptTimeout bounds one call of Consume's handler; the default is
// [DefaultAttemptTimeout].
func WithAttemptTimeout(d time.Duration) ConsumerOption {
	return consumerOption(func(s *settings) { s.attemptTimeout = d })
}

// WithWorkers sets how many events one Consume handles at once; the
// default is 4.
func WithWorkers(n int) ConsumerOption { return consumerOption(func(s *settings) { s.workers = n }) }

// WithNamespace sets the namespace ([NamesOf]) of the streams, subjects
// and bucket; every Relay, Consume, [Status], [Destinations],
// [ListParked] and [Redrive] of one environment must be given the same.
// The default, "", is the default names.
func WithNamespace(ns string) Option { return func(s *settings) { s.namespace = ns } }

// RelayObserver hears what a [Relay] does, for a host's metrics (a
// Prometheus registry, say). Its methods are called from the relay's
// goroutines: they must be safe for concurrent use and quick.
type RelayObserver interface {
	// RelayPublished is called after each claim the broker acknowledged
	// events of, with how many were marked published.
	RelayPublished(n int)
	// RelayFailed is called when a claim, a publication or a mark fails:
	// its events wait in the outbox and are tried again.
	RelayFailed()
	// RelayBacklog is called by Run at most every [BacklogInterval] with
	// what waits in the outbox, when the outbox is a [forget.OutboxStats].
	RelayBacklog(forget.Backlog)
}

// BacklogInterval is how often a running [Relay] measures its outbox's
// backlog for its [RelayObserver]: one indexed count a second.
const BacklogInterval = time.Second

// ConsumerObserver hears what [Consume] does, for a host's metrics. Its
// methods are called from the consumer's workers: they must be safe for
// concurrent use and quick.
type ConsumerObserver interface {
	// Delivery is called after each finished attempt at one event, with
	// [OutcomeDelivered] or [OutcomeFailed], and once more with
	// [OutcomeParked] when the event is parked.
	Delivery(destination, outcome string)
}

// Outcomes of an attempt, as a [ConsumerObserver] hears them.
const (
	OutcomeDelivered = "delivered"
	OutcomeFailed    = "failed"
	OutcomeParked    = "parked"
)

// WithRelayObserver sets who hears what a Relay publishes and how large
// its backlog is; by default nobody.
func WithRelayObserver(o RelayObserver) RelayOption {
	return relayOption(func(s *settings) { s.relayObs = o })
}

// WithConsumerObserver sets who hears Consume's deliveries, failures and
// parks; by default nobody.
func WithConsumerObserver(o ConsumerObserver) ConsumerOption {
	return consumerOption(func(s *settings) { s.consumerObs = o })
}

// observeDelivery tells the consumer's observer, if any, of an outcome.
func (s *settings) observeDelivery(dest, outcome string) {
	if s.consumerObs != nil {
		s.consumerObs.Delivery(dest, outcome)
	}
}
