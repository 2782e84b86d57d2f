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
	"time"

	"github.com/nats-io/nats.go/jetstream"
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
