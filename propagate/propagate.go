// Package propagate carries erasure events from a store's outbox to NATS
// JetStream, and from there to every downstream system that holds a copy
// of a customer's data (GDPR Art. 19), at least once, with status an
// operator can show.
//
// A [Relay] claims the events each committed forget wrote to the store's
// outbox (its audit table, in the forget's own transaction), publishes
// them to the stream [StreamName] on subject forget.erased.<preset> with
// the event id as Nats-Msg-Id, and marks them published only once the
// broker has acknowledged them. A relay killed at any point publishes the
// unmarked events again when it restarts; the stream drops the repeats
// (within its duplicate window, [DefaultDuplicateWindow]).
//
// [Consume] runs a durable consumer, one per destination name: many
// processes consuming under one name share its events. A handler that
// fails is retried after the back-off delays, by the broker; an event that
// fails [DefaultMaxDeliver] times (attempts that finished: a deliverer
// killed mid-attempt uses none up) is parked on the stream [ParkedStreamName],
// where [Redrive] sends it back to its destination. [Webhook] is a handler
// that POSTs each event to a URL, signed as Standard Webhooks prescribe.
// Every attempt is recorded in the key-value bucket [StatusBucket];
// [Status] reads it, with the outbox, for one customer.
//
// [WithNamespace] keeps one environment's streams, subjects and bucket
// apart from another's on a shared account (see [Names]).
//
// For metrics, [WithRelayObserver] hears a relay's publications, failures
// and outbox backlog, [WithConsumerObserver] a destination's deliveries,
// failures and parks; [ParkedCounts] counts the parked events and
// [ListDeliveries] lists deliveries by state across customers.
//
// Events, status records and logs hold what receipts hold (ids, field and
// table names, counts, times), never a value read from the database.
package propagate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
)

// Names on the broker.
const (
	// StreamName is the stream of erasure events, subjects forget.erased.>.
	StreamName = "FORGET"
	// ParkedStreamName holds the events a destination gave up on
	// (forget.parked.<destination>) and those an operator sends back to it
	// (forget.redrive.<destination>).
	ParkedStreamName = "FORGET_PARKED"
	// StatusBucket is the key-value bucket of delivery status, one key
	// <event id>.<destination>.
	StatusBucket = "forget_delivery"
	// DefaultPreset is the subject's last token: forget.erased.offerit.
	DefaultPreset = "offerit"
)

// Defaults.
const (
	// DefaultDuplicateWindow is how long the stream remembers an event id
	// to drop a repeat: a relay that died between the broker's ack and its
	// mark publishes the event again when it restarts, and the stream
	// holds it once if that happens within the window. An hour covers any
	// restart and a database outage of that length, and costs the server
	// one entry per event of the last hour. Repeats beyond it reach
	// destinations twice under one webhook-id, which receivers drop.
	DefaultDuplicateWindow = time.Hour
	// DefaultMaxDeliver is how many failed attempts an event may have at a
	// destination before it is parked: the first and one after each delay
	// of [DefaultBackOff].
	DefaultMaxDeliver = 10
	// DefaultAttemptTimeout bounds one attempt of a handler.
	DefaultAttemptTimeout = 30 * time.Second
)

// defaultBackOff is the delay before each retry of a failed delivery: the
// n-th retry waits defaultBackOff[n-1], the last one every later retry.
// It is the Standard Webhooks spec's example schedule: with
// DefaultMaxDeliver it spans 75h35m5s (more with jitter), so a receiver
// down for a day or two parks nothing.
var defaultBackOff = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour}

// DefaultBackOff returns the default retry delays: 5s, 5m, 30m, 2h, 5h,
// 10h, 14h, 20h, 24h.
func DefaultBackOff() []time.Duration { return append([]time.Duration(nil), defaultBackOff...) }

// Subject returns the subject events of preset are published on, under
// the default names.
func Subject(preset string) string { return defaultNames.Subject(preset) }

// StreamConfig returns the configuration a relay creates the events
// stream with when it does not exist, under the default names: file
// storage, every event kept, and the duplicate window. A host that wants
// replicas or an age limit creates the stream itself, with subjects
// forget.erased.>, before the first relay starts; relays use it as it is.
// [Names.StreamConfig] is the same for a namespace.
func StreamConfig(duplicates time.Duration) jetstream.StreamConfig {
	return defaultNames.StreamConfig(duplicates)
}

// ParkedStreamConfig returns the configuration of the parked stream,
// under the default names.
func ParkedStreamConfig() jetstream.StreamConfig { return defaultNames.ParkedStreamConfig() }

// Names are the stream, subject and bucket names of one namespace, so
// that environments (or shops) sharing a NATS account never see each
// other's events. The default names, namespace "", are [StreamName],
// forget.erased.<preset>, [ParkedStreamName] and [StatusBucket];
// namespace staging has FORGET-staging, staging.forget.erased.<preset>,
// FORGET_PARKED-staging and forget_delivery-staging. The "-" before the
// namespace is in no default name, so a namespace can never name another
// namespace's streams or the default ones.
type Names struct {
	Namespace    string // "" for the default names
	Stream       string // the events stream
	ParkedStream string // parked and redriven events
	Bucket       string // delivery status
}

var defaultNames = Names{Stream: StreamName, ParkedStream: ParkedStreamName, Bucket: StatusBucket}

// NamesOf returns the names of namespace: "" (the default names), or 1 to
// 32 lower-case letters, digits, - and _, starting with a letter or a
// digit. Lower case only: a server on a case-insensitive file system
// would store Staging's and staging's streams in one directory.
func NamesOf(namespace string) (Names, error) {
	if namespace == "" {
		return defaultNames, nil
	}
	if !validNamespace(namespace) {
		return Names{}, fmt.Errorf("propagate: namespace %q: want 1 to 32 lower-case letters, digits, - or _, starting with a letter or a digit", namespace)
	}
	return Names{
		Namespace:    namespace,
		Stream:       StreamName + "-" + namespace,
		ParkedStream: ParkedStreamName + "-" + namespace,
		Bucket:       StatusBucket + "-" + namespace,
	}, nil
}

func validNamespace(s string) bool {
	if s == "" || len(s) > 32 || s[0] == '-' || s[0] == '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// prefix is the namespace's first subject token, with its dot.
func (n Names) prefix() string {
	if n.Namespace == "" {
		return ""
	}
	return n.Namespace + "."
}

// Subject returns the subject events of preset are published on.
func (n Names) Subject(preset string) string { return n.prefix() + "forget.erased." + preset }

func (n Names) parkedSubject(dest string) string  { return n.prefix() + "forget.parked." + dest }
func (n Names) redriveSubject(dest string) string { return n.prefix() + "forget.redrive." + dest }

// StreamConfig returns the configuration a relay creates the
// namespace's events stream with, as the package's StreamConfig does.
func (n Names) StreamConfig(duplicates time.Duration) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        n.Stream,
		Description: "erasure events (github.com/forgetkit/forget)",
		Subjects:    []string{n.prefix() + "forget.erased.>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Duplicates:  duplicates,
	}
}

// ParkedStreamConfig returns the configuration of the namespace's
// parked stream.
func (n Names) ParkedStreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        n.ParkedStream,
		Description: "erasure events a destination gave up on, and those sent back to it",
		Subjects:    []string{n.prefix() + "forget.parked.>", n.prefix() + "forget.redrive.>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Duplicates:  DefaultDuplicateWindow,
	}
}

// ensureStream returns the stream, creating it with cfg when it does not
// exist. An existing stream is used as it is.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, cfg.Name)
	if err == nil {
		return s, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("propagate: stream %s: %w", cfg.Name, err)
	}
	s, err = js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		s, err = js.Stream(ctx, cfg.Name) // another process created it meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("propagate: create stream %s: %w", cfg.Name, err)
	}
	return s, nil
}

// statusBucket returns the status bucket, creating it when create is set.
func statusBucket(ctx context.Context, js jetstream.JetStream, bucket string, create bool) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err == nil || !create || !errors.Is(err, jetstream.ErrBucketNotFound) {
		return kv, err
	}
	kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "delivery status of erasure events, per destination",
		History:     1,
		Storage:     jetstream.FileStorage,
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, bucket)
	}
	return kv, err
}

// validName reports whether s can be a preset or a destination name: it
// becomes a subject token, a consumer name and part of a key.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validEventID reports whether id can be a message id and a key token.
// The Forgetter makes 26 lower-case letters and digits; anything else did
// not come from it.
func validEventID(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

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
