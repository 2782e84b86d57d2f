// Package forgetprom records a Forgetter's forgets as Prometheus metrics.
//
//	reg := prometheus.NewRegistry()
//	obs, err := forgetprom.New(reg)
//	f, err := forget.New(store, forget.WithObserver(obs))
//
// Its metrics, every label from a bounded set (no customer, key,
// principal or request id is ever a label):
//
//	forget_requests_total{outcome,code}      forgets by outcome and error code
//	forget_duration_seconds{outcome}         how long each forget took, hooks included
//	forget_fields_erased_total               fields erased by committed forgets
//	forget_rows_total{table,action}          rows deleted or scrubbed, by catalogue table
//	forget_retries_total                     transactions a store tried again
//	forget_hook_failures_total{hook,reason}  after-forget hooks that failed
//	forget_auth_failures_total{reason}       failed authentications, by reason
//	forget_http_refusals_total{code}         other requests the handler refused without a forget
//
// [RegisterGuard] adds a [forget.Guard]'s forget_guard_checked_total,
// forget_guard_matched_total and forget_guard_failed_total.
//
// outcome is forgotten, dry_run, refused or failed; code is the error's
// code (empty when there is none); action is deleted or scrubbed; reason
// is error, panic or timeout. An auth failure's reason is
// missing_credentials, unknown_user, wrong_key, rejected (a host's
// Authenticator) or limited (429: too many failures, the key not
// compared); the refusals' code is invalid (a query string, an
// undecodable body), method_not_allowed, too_large (413) or
// unsupported_media_type (415): the Handler reports both
// ([forget.HandlerObserver]). Rows count committed forgets only, not dry
// runs. A host that builds two Forgetters registers each on its own
// registry, or each on a prometheus.WrapRegistererWith of one registry
// with a label that tells them apart.
package forgetprom

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forgetkit/forget"
)

// Observer is a forget.Observer that records Prometheus metrics. It is
// safe for concurrent use.
type Observer struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	fields   prometheus.Counter
	rows     *prometheus.CounterVec
	retries  prometheus.Counter
	hooks    *prometheus.CounterVec
	auth     *prometheus.CounterVec
	refusals *prometheus.CounterVec
}

var _ forget.HandlerObserver = (*Observer)(nil)

// Option configures an Observer.
type Option func(*config)

type config struct {
	buckets []float64
}

// WithBuckets sets the duration histogram's upper bounds, in seconds,
// strictly increasing; the default is prometheus.DefBuckets (5 ms to 10 s).
func WithBuckets(b []float64) Option {
	return func(c *config) { c.buckets = append([]float64(nil), b...) }
}

// outcomeCodes are the series that exist from the start, at zero, so
// that a rate over them is defined before the first refusal.
var outcomeCodes = [][2]string{
	{forget.OutcomeForgotten, ""},
	{forget.OutcomeDryRun, ""},
	{forget.OutcomeRefused, forget.CodeInvalid},
	{forget.OutcomeRefused, forget.CodeNotFound},
	{forget.OutcomeRefused, forget.CodeConflict},
	{forget.OutcomeRefused, forget.CodeHeld},
	{forget.OutcomeFailed, forget.CodeInternal},
	{forget.OutcomeFailed, forget.CodeCanceled},
}

// New returns an Observer whose metrics are registered on reg. It fails,
// registering nothing, when reg is nil, the buckets are not strictly
// increasing, or reg already holds these metrics.
func New(reg prometheus.Registerer, opts ...Option) (*Observer, error) {
	if reg == nil {
		return nil, errors.New("forgetprom: New needs a prometheus.Registerer, not nil")
	}
	cfg := config{buckets: prometheus.DefBuckets}
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := checkBuckets(cfg.buckets); err != nil {
		return nil, err
	}
	o := &Observer{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forget_requests_total",
			Help: "Forgets by outcome (forgotten, dry_run, refused, failed) and error code.",
		}, []string{"outcome", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "forget_duration_seconds",
			Help:    "How long a forget took, after-forget hooks included, by outcome.",
			Buckets: cfg.buckets,
		}, []string{"outcome"}),
		fields: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forget_fields_erased_total",
			Help: "Fields erased by committed forgets.",
		}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forget_rows_total",
			Help: "Rows of catalogue tables that committed forgets deleted or scrubbed.",
		}, []string{"table", "action"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forget_retries_total",
			Help: "Transactions a store tried again after a deadlock, serialisation failure or busy lock; a batch's shared transaction counts once per forget in it.",
		}),
		hooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forget_hook_failures_total",
			Help: "After-forget hooks that failed, by hook and reason (error, panic, timeout); the erasures stood.",
		}, []string{"hook", "reason"}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forget_auth_failures_total",
			Help: "Failed authentications, by reason (missing_credentials, unknown_user, wrong_key, rejected, limited: answered 429 without comparing the key).",
		}, []string{"reason"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forget_http_refusals_total",
			Help: "Requests the handler refused without a forget, authentication aside, by code (invalid, method_not_allowed, too_large, unsupported_media_type).",
		}, []string{"code"}),
	}
	for _, oc := range outcomeCodes {
		o.requests.WithLabelValues(oc[0], oc[1])
	}
	for _, out := range []string{forget.OutcomeForgotten, forget.OutcomeDryRun, forget.OutcomeRefused, forget.OutcomeFailed} {
		o.duration.WithLabelValues(out)
	}
	for _, r := range []string{forget.AuthMissing, forget.AuthUnknownUser, forget.AuthWrongKey, forget.AuthRejected, forget.AuthLimited} {
		o.auth.WithLabelValues(r)
	}
	for _, c := range []string{forget.CodeInvalid, forget.CodeMethodNotAllowed, forget.CodeTooLarge, forget.CodeUnsupportedMediaType} {
		o.refusals.WithLabelValues(c)
	}
	cs := []prometheus.Collector{o.requests, o.duration, o.fields, o.rows, o.retries, o.hooks, o.auth, o.refusals}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
				return nil, fmt.Errorf("forgetprom: the registry already has the forget metrics (a second Forgetter needs its own registry, or each one a prometheus.WrapRegistererWith label): %w", err)
			}
			return nil, fmt.Errorf("forgetprom: register: %w", err)
		}
	}
	return o, nil
}

func checkBuckets(b []float64) error {
	if len(b) == 0 {
		return errors.New("forgetprom: WithBuckets needs at least one bucket")
	}
	for i, v := range b {
		if math.IsNaN(v) || (i > 0 && v <= b[i-1]) {
			return errors.New("forgetprom: buckets must be numbers in strictly increasing order")
		}
	}
	return nil
}

// ForgetDone implements forget.Observer. A label value Prometheus refuses
// (a hook name that is not UTF-8) drops that one sample, never panics.
func (o *Observer) ForgetDone(_ context.Context, s forget.ForgetStats) {
	if c, err := o.requests.GetMetricWithLabelValues(s.Outcome, s.Code); err == nil {
		c.Inc()
	}
	if h, err := o.duration.GetMetricWithLabelValues(s.Outcome); err == nil {
		h.Observe(s.Duration.Seconds())
	}
	if s.Attempts > 1 {
		o.retries.Add(float64(s.Attempts - 1))
	}
	for _, hf := range s.HookFailures {
		if c, err := o.hooks.GetMetricWithLabelValues(hf.Hook, hf.Reason); err == nil {
			c.Inc()
		}
	}
	if s.Outcome != forget.OutcomeForgotten {
		return // a dry run's counts are what would have been
	}
	if s.FieldsErased > 0 {
		o.fields.Add(float64(s.FieldsErased))
	}
	for _, t := range s.Tables {
		action := "deleted"
		if t.Scrubbed {
			action = "scrubbed"
		}
		if c, err := o.rows.GetMetricWithLabelValues(string(t.Table), action); err == nil && t.Rows >= 0 {
			c.Add(float64(t.Rows))
		}
	}
}

// HandlerRefused implements forget.HandlerObserver.
func (o *Observer) HandlerRefused(_ context.Context, s forget.RefusalStats) {
	vec, label := o.refusals, s.Code
	if s.AuthReason != "" {
		vec, label = o.auth, s.AuthReason
	}
	if c, err := vec.GetMetricWithLabelValues(label); err == nil {
		c.Inc()
	}
}
