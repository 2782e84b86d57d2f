// Package forgetotel records a Forgetter's forgets as OpenTelemetry
// metrics, through the metric API only: the host brings the SDK and its
// exporter.
//
//	obs, err := forgetotel.New(otel.GetMeterProvider())
//	f, err := forget.New(store, forget.WithObserver(obs))
//
// Its instruments, every attribute from a bounded set (no customer, key,
// principal or request id is ever an attribute); a Prometheus exporter
// shows them under the names of observe/prometheus:
//
//	forget.requests       {forget}  outcome, code
//	forget.duration       s         outcome (hooks included)
//	forget.fields_erased  {field}   committed forgets only
//	forget.rows           {row}     table, action (deleted, scrubbed); committed forgets only
//	forget.retries        {transaction}
//	forget.hook_failures  {failure} hook, reason (error, panic, timeout)
//	forget.auth_failures  {failure} reason (missing_credentials, unknown_user, wrong_key, rejected, limited)
//	forget.http_refusals  {request} code (invalid, method_not_allowed, too_large, unsupported_media_type)
//
// The last two come from the Handler ([forget.HandlerObserver]): failed
// authentications, the limiter's 429s among them, and the other requests
// it refused without a forget.
package forgetotel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/forgetkit/forget"
)

// Scope is the instrumentation scope of the Meter New asks for.
const Scope = "github.com/forgetkit/forget"

// Observer is a forget.Observer that records OpenTelemetry metrics. It is
// safe for concurrent use.
type Observer struct {
	requests metric.Int64Counter
	duration metric.Float64Histogram
	fields   metric.Int64Counter
	rows     metric.Int64Counter
	retries  metric.Int64Counter
	hooks    metric.Int64Counter
	auth     metric.Int64Counter
	refusals metric.Int64Counter
}

var _ forget.HandlerObserver = (*Observer)(nil)

// New returns an Observer whose instruments come from mp's Meter named
// [Scope]. It fails when mp is nil or refuses an instrument.
func New(mp metric.MeterProvider) (*Observer, error) {
	if mp == nil {
		return nil, errors.New("forgetotel: New needs a metric.MeterProvider, not nil")
	}
	m := mp.Meter(Scope)
	var o Observer
	var errs [8]error
	o.requests, errs[0] = m.Int64Counter("forget.requests", metric.WithUnit("{forget}"),
		metric.WithDescription("Forgets by outcome (forgotten, dry_run, refused, failed) and error code."))
	o.duration, errs[1] = m.Float64Histogram("forget.duration", metric.WithUnit("s"),
		metric.WithDescription("How long a forget took, after-forget hooks included, by outcome."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	o.fields, errs[2] = m.Int64Counter("forget.fields_erased", metric.WithUnit("{field}"),
		metric.WithDescription("Fields erased by committed forgets."))
	o.rows, errs[3] = m.Int64Counter("forget.rows", metric.WithUnit("{row}"),
		metric.WithDescription("Rows of catalogue tables that committed forgets deleted or scrubbed."))
	o.retries, errs[4] = m.Int64Counter("forget.retries", metric.WithUnit("{transaction}"),
		metric.WithDescription("Transactions a store tried again after a deadlock, serialisation failure or busy lock."))
	o.hooks, errs[5] = m.Int64Counter("forget.hook_failures", metric.WithUnit("{failure}"),
		metric.WithDescription("After-forget hooks that failed, by hook and reason (error, panic, timeout); the erasures stood."))
	o.auth, errs[6] = m.Int64Counter("forget.auth_failures", metric.WithUnit("{failure}"),
		metric.WithDescription("Failed authentications, by reason (missing_credentials, unknown_user, wrong_key, rejected, limited: answered 429 without comparing the key)."))
	o.refusals, errs[7] = m.Int64Counter("forget.http_refusals", metric.WithUnit("{request}"),
		metric.WithDescription("Requests the handler refused without a forget, authentication aside, by code (invalid, method_not_allowed, too_large, unsupported_media_type)."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, errors.Join(errors.New("forgetotel: instruments"), err)
	}
	return &o, nil
}

// ForgetDone implements forget.Observer.
func (o *Observer) ForgetDone(ctx context.Context, s forget.ForgetStats) {
	// The request's context may be done; the measurement still counts.
	ctx = context.WithoutCancel(ctx)
	outcome := attribute.String("outcome", s.Outcome)
	o.requests.Add(ctx, 1, metric.WithAttributes(outcome, attribute.String("code", s.Code)))
	o.duration.Record(ctx, s.Duration.Seconds(), metric.WithAttributes(outcome))
	if s.Attempts > 1 {
		o.retries.Add(ctx, int64(s.Attempts-1))
	}
	for _, hf := range s.HookFailures {
		o.hooks.Add(ctx, 1, metric.WithAttributes(attribute.String("hook", hf.Hook), attribute.String("reason", hf.Reason)))
	}
	if s.Outcome != forget.OutcomeForgotten {
		return // a dry run's counts are what would have been
	}
	if s.FieldsErased > 0 {
		o.fields.Add(ctx, int64(s.FieldsErased))
	}
	for _, t := range s.Tables {
		if t.Rows < 0 {
			continue
		}
		action := "deleted"
		if t.Scrubbed {
			action = "scrubbed"
		}
		o.rows.Add(ctx, t.Rows, metric.WithAttributes(attribute.String("table", string(t.Table)), attribute.String("action", action)))
	}
}

// HandlerRefused implements forget.HandlerObserver.
func (o *Observer) HandlerRefused(ctx context.Context, s forget.RefusalStats) {
	ctx = context.WithoutCancel(ctx)
	if s.AuthReason != "" {
		o.auth.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", s.AuthReason)))
		return
	}
	o.refusals.Add(ctx, 1, metric.WithAttributes(attribute.String("code", s.Code)))
}
