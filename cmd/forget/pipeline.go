package main

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/propagate"
)

// pipelineMetrics are the propagation pipeline's metrics on an admin
// registry: the outbox's backlog and the relay's publications, as a
// propagate.RelayObserver hears them, and the deliveries, as a
// propagate.ConsumerObserver does.
type pipelineMetrics struct {
	published     prometheus.Counter
	relayFailures prometheus.Counter
	pending       prometheus.Gauge
	oldest        atomic.Int64 // the oldest pending event's Unix nanoseconds; 0 for none
	deliveries    *prometheus.CounterVec
}

var (
	_ propagate.RelayObserver    = (*pipelineMetrics)(nil)
	_ propagate.ConsumerObserver = (*pipelineMetrics)(nil)
)

func newPipelineMetrics(reg prometheus.Registerer, now func() time.Time) (*pipelineMetrics, error) {
	m := &pipelineMetrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forget_relay_published_total", Help: "Erasure events the relay published and marked published.",
		}),
		relayFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forget_relay_failures_total", Help: "Claims, publications or marks of the relay that failed; their events wait in the outbox.",
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "forget_outbox_pending", Help: "Erasure events waiting unpublished in the outbox (the audit table), as the relay last counted them, once a second.",
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forget_deliveries_total", Help: "Finished delivery attempts by destination and outcome (delivered, failed), and events parked (parked).",
		}, []string{"destination", "outcome"}),
	}
	// The age grows between the relay's counts: it is computed at each
	// scrape, so that a relay stuck on its database still shows the age
	// rising.
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "forget_outbox_oldest_age_seconds", Help: "Age of the oldest erasure event waiting unpublished in the outbox; 0 when none waits.",
	}, func() float64 {
		ns := m.oldest.Load()
		if ns == 0 {
			return 0
		}
		return max(now().Sub(time.Unix(0, ns)).Seconds(), 0)
	})
	for _, c := range []prometheus.Collector{m.published, m.relayFailures, m.pending, age, m.deliveries} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *pipelineMetrics) RelayPublished(n int) { m.published.Add(float64(n)) }
func (m *pipelineMetrics) RelayFailed()         { m.relayFailures.Inc() }

func (m *pipelineMetrics) RelayBacklog(b forget.Backlog) {
	m.pending.Set(float64(b.Pending))
	var ns int64
	if b.Pending > 0 && !b.Oldest.IsZero() {
		ns = b.Oldest.UnixNano()
	}
	m.oldest.Store(ns)
}

func (m *pipelineMetrics) Delivery(dest, outcome string) {
	m.deliveries.WithLabelValues(dest, outcome).Inc()
}

// destination makes dest's series exist at 0 from the start, so that a
// rate over them is defined before the first failure.
func (m *pipelineMetrics) destination(dest string) {
	for _, o := range []string{propagate.OutcomeDelivered, propagate.OutcomeFailed, propagate.OutcomeParked} {
		m.deliveries.WithLabelValues(dest, o)
	}
}

// pipeline returns the admin's pipeline metrics, made and registered on
// the first call; nil for a nil admin.
func (a *admin) pipeline() (*pipelineMetrics, error) {
	if a == nil {
		return nil, nil
	}
	if a.pipe == nil {
		m, err := newPipelineMetrics(a.reg, time.Now)
		if err != nil {
			return nil, err
		}
		a.pipe = m
	}
	return a.pipe, nil
}

// relayOptions are the relay's options that feed the metrics.
func (a *admin) relayOptions() ([]propagate.RelayOption, error) {
	m, err := a.pipeline()
	if m == nil {
		return nil, err
	}
	return []propagate.RelayOption{propagate.WithRelayObserver(m)}, nil
}

// consumerOptions are the consumer's options that feed the metrics of
// destination dest.
func (a *admin) consumerOptions(dest string) ([]propagate.ConsumerOption, error) {
	m, err := a.pipeline()
	if m == nil {
		return nil, err
	}
	m.destination(dest)
	return []propagate.ConsumerOption{propagate.WithConsumerObserver(m)}, nil
}

// parkedCollector is forget_parked{destination}, counted on the parked
// stream at each scrape: a redrive elsewhere lowers it, which no counter
// of this process could know.
type parkedCollector struct {
	js     jetstream.JetStream
	opts   []propagate.Option
	only   string // one destination's (deliver's), or "" for all (relay's)
	desc   *prometheus.Desc
	logger *slog.Logger
}

func (a *admin) countParked(js jetstream.JetStream, only string, logger *slog.Logger, opts ...propagate.Option) error {
	if a == nil {
		return nil
	}
	return a.reg.Register(&parkedCollector{js: js, opts: opts, only: only, logger: logger,
		desc: prometheus.NewDesc("forget_parked", "Erasure events parked for a destination, waiting for 'forget redrive'.", []string{"destination"}, nil)})
}

func (p *parkedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }

// Collect reports nothing when the broker does not answer: a missing
// series, not a false 0, and /readyz says why.
func (p *parkedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
	defer cancel()
	counts, err := propagate.ParkedCounts(ctx, p.js, p.opts...)
	if err != nil {
		p.logger.LogAttrs(ctx, slog.LevelDebug, "metrics: could not count parked events", slog.String("error", err.Error()))
		return
	}
	if p.only != "" {
		counts = map[string]int{p.only: counts[p.only]}
	}
	for dest, n := range counts {
		ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(n), dest)
	}
}

// brokerReady is /readyz's check of the NATS connection: connected, and
// answering a ping within the probe's time. A client reconnecting fails
// at once, rather than after its ping interval.
func brokerReady(nc *nats.Conn) readyCheck {
	return readyCheck{"broker", func(ctx context.Context) error {
		if s := nc.Status(); s != nats.CONNECTED {
			return &brokerStatusError{s}
		}
		return nc.FlushWithContext(ctx)
	}}
}

type brokerStatusError struct{ status nats.Status }

func (e *brokerStatusError) Error() string { return "NATS connection " + e.status.String() }
