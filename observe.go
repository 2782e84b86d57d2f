package forget

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Observer is told of every forget a Forgetter finishes, as names and
// numbers only, for metrics: observe/prometheus and observe/otel adapt it.
// It must be safe for concurrent use and quick: it runs before Forget
// returns. A panic in it is recovered and logged.
type Observer interface {
	// ForgetDone reports one forget, or one request of a batch. ctx is the
	// request's, and may be done.
	ForgetDone(ctx context.Context, s ForgetStats)
}

// ObserverFunc is an Observer that is a function.
type ObserverFunc func(ctx context.Context, s ForgetStats)

// ForgetDone calls fn.
func (fn ObserverFunc) ForgetDone(ctx context.Context, s ForgetStats) { fn(ctx, s) }

// Outcomes of a forget, in ForgetStats.Outcome.
const (
	OutcomeForgotten = "forgotten" // erased and committed
	OutcomeDryRun    = "dry_run"   // a dry run that could have been done
	OutcomeRefused   = "refused"   // see [Refused]: nothing changed
	OutcomeFailed    = "failed"    // any other error: nothing changed
)

// ForgetStats describes one forget without saying who was forgotten: it
// holds no customer id, key, principal, request id or value, so that any
// field can be a metric label or be summed without growing with the
// customers.
type ForgetStats struct {
	// Outcome is one of OutcomeForgotten, OutcomeDryRun, OutcomeRefused
	// and OutcomeFailed.
	Outcome string
	// Code is the error's [Problem] code ([ProblemOf]), or [CodeCanceled]
	// for a failure because the request's context was cancelled; empty
	// when there is no error.
	Code string
	// Duration is how long the call took, hooks included, on the
	// monotonic clock (not WithClock's). For a request of a batch the
	// store handled together, it is the request's share of that call.
	Duration time.Duration
	// Batch is set when the request shared a store's batch call.
	Batch bool
	// Attempts is how many transactions the store tried (see
	// [Result.Attempts]); 0 when the store does not say or was not
	// reached. Retries are Attempts-1.
	Attempts int
	// FieldsErased counts the fields erased, or that a dry run would
	// erase; 0 for a refusal or failure.
	FieldsErased int
	// Tables has the rows of each purged or scrubbed table, in catalogue
	// order (for a dry run, those it would touch). Empty for a refusal or
	// failure.
	Tables []TableRows
	// HookFailures names the after-forget hooks that failed, and how.
	HookFailures []HookFailure
}

// TableRows counts the rows of one table a forget purged or scrubbed.
type TableRows struct {
	Table    Table
	Scrubbed bool // the rows were overwritten, not deleted
	Rows     int64
}

// WithObserver adds an observer; each one added is told of every forget.
// A nil observer is ignored. Without any, nothing is measured.
func WithObserver(o Observer) Option {
	return func(cfg *config) {
		if o != nil {
			cfg.observers = append(cfg.observers, o)
		}
	}
}

// observe tells the observers of one forget that took d. err is its
// error, rc its receipt when it has one, res what the store reported.
func (f *Forgetter) observe(ctx context.Context, d time.Duration, batch bool, err error, pr *prepared, res Result, rc *Receipt, hooks []HookFailure) {
	if len(f.observers) == 0 {
		return
	}
	s := ForgetStats{Duration: d, Batch: batch, Attempts: res.Attempts, HookFailures: hooks}
	switch {
	case err == nil && rc.DryRun:
		s.Outcome = OutcomeDryRun
	case err == nil:
		s.Outcome = OutcomeForgotten
	case Refused(err):
		s.Outcome, s.Code = OutcomeRefused, ProblemOf(err).Code
	default:
		s.Outcome, s.Code = OutcomeFailed, ProblemOf(err).Code
		if s.Code == CodeInternal && errors.Is(ctx.Err(), context.Canceled) {
			s.Code = CodeCanceled // as the handler answers it
		}
	}
	if err == nil {
		s.FieldsErased = len(rc.FieldsErased)
		if len(pr.plan.Tables) > 0 {
			s.Tables = make([]TableRows, len(pr.plan.Tables))
			for i, t := range pr.plan.Tables {
				s.Tables[i] = TableRows{Table: t.Table, Scrubbed: len(t.Scrub) > 0, Rows: res.Rows[t.Table]}
			}
		}
	}
	for i, o := range f.observers {
		f.tell(ctx, i, o, s)
	}
}

// tell calls one observer; its panic must not fail a forget that is done.
// The panic's value is not logged: it may quote anything.
func (f *Forgetter) tell(ctx context.Context, i int, o Observer, s ForgetStats) {
	defer func() {
		if recover() != nil {
			f.log.LogAttrs(ctx, slog.LevelError, "forget: observer panicked", slog.Int("observer", i+1))
		}
	}()
	o.ForgetDone(ctx, s)
}

// HandlerObserver is an Observer that is also told of the requests a
// [Handler] answers without a forget: failed authentications, the
// limiter's 429s, and its 400, 405, 413 and 415 answers (a forget's own
// refusals go to ForgetDone). A Handler finds it among its Forgetter's
// observers ([WithObserver]) by type assertion, so an Observer without
// the method keeps working. The same rules hold: safe for concurrent use,
// quick, a panic recovered and logged.
type HandlerObserver interface {
	Observer
	// HandlerRefused reports one refused request. ctx is the request's.
	HandlerRefused(ctx context.Context, s RefusalStats)
}

// Reasons of a failed authentication, in RefusalStats.AuthReason.
const (
	AuthMissing     = "missing_credentials" // no api-username or no api-key header
	AuthUnknownUser = "unknown_user"        // APIKeys has no such username
	AuthWrongKey    = "wrong_key"           // not one of the username's keys
	AuthRejected    = "rejected"            // another Authenticator refused
	AuthLimited     = "limited"             // 429: too many failures, not authenticated
)

// RefusalStats describes a request the handler refused without a
// forget, as names and numbers only: no username, key, address or
// request id, so that every field can be a metric label.
type RefusalStats struct {
	Status int    // 400, 401, 405, 413, 415 or 429
	Code   string // the error body's code
	// AuthReason is one of AuthMissing, AuthUnknownUser, AuthWrongKey,
	// AuthRejected and AuthLimited for a 401 or 429; empty otherwise.
	AuthReason string
}

// handlerObservers returns the observers that want refusals.
func handlerObservers(obs []Observer) []HandlerObserver {
	var hs []HandlerObserver
	for _, o := range obs {
		if ho, ok := o.(HandlerObserver); ok {
			hs = append(hs, ho)
		}
	}
	return hs
}

// refused tells the handler observers of one refusal, each panic
// recovered as tell does.
func (h *Handler) refused(ctx context.Context, s RefusalStats) {
	for i, o := range h.observers {
		func() {
			defer func() {
				if recover() != nil {
					h.log.LogAttrs(ctx, slog.LevelError, "forget: observer panicked", slog.Int("observer", i+1))
				}
			}()
			o.HandlerRefused(ctx, s)
		}()
	}
}
