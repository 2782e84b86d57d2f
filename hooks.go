package forget

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"
)

// Hook runs after a forget has been committed, with a copy of its receipt:
// to purge a cache, say, or to wake a relay. It is never called for a dry
// run or a failed forget.
//
// Hooks are in-process and best effort: a crash between the commit and
// the hook loses the call for ever, and a hook that fails is logged, never
// retried. Anything that must not be lost (telling the CRM, the e-mail
// provider, the search index that a customer is forgotten) belongs to the
// erasure event instead: the store writes it in the forget's own
// transaction (see [Outbox]), and package propagate relays it to NATS
// JetStream and delivers it to each destination at least once, with
// retries and status.
type Hook func(ctx context.Context, rc Receipt) error

type namedHook struct {
	name string
	fn   Hook
}

// WithHook registers an after-forget hook under a name that logs and
// receipts use. Hooks of one forget run concurrently. A hook that fails,
// panics or outlasts the hook timeout is logged and named in the receipt's
// HooksFailed; it never undoes the erasure and never stops another hook.
// It is not retried: for a downstream system that must be told, use the
// erasure event and its relay (see [Hook]).
func WithHook(name string, h Hook) Option {
	return func(cfg *config) { cfg.hooks = append(cfg.hooks, namedHook{name, h}) }
}

// WithHookTimeout sets how long a forget waits for its hooks; the default
// is 10 seconds. A hook still running then is reported as failed and left
// to finish on its own.
func WithHookTimeout(d time.Duration) Option {
	return func(cfg *config) { cfg.hookTimeout, cfg.hookTimeoutSet = d, true }
}

// runHooks runs every hook and returns those that failed.
// Their context is not cancelled with the request's: the erasure is
// committed, and the hooks should see it through.
func (f *Forgetter) runHooks(ctx context.Context, rc *Receipt) []HookFailure {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.hookTimeout)
	defer cancel()
	type result struct {
		i        int
		err      error
		panicked bool
	}
	results := make(chan result, len(f.hooks))
	for i, h := range f.hooks {
		copyRC := *rc
		copyRC.FieldsErased = append([]Field(nil), rc.FieldsErased...)
		copyRC.FieldsKept = append([]Field(nil), rc.FieldsKept...)
		copyRC.TablesKept = append([]Table(nil), rc.TablesKept...)
		copyRC.RowsDeleted = maps.Clone(rc.RowsDeleted)
		copyRC.RowsScrubbed = maps.Clone(rc.RowsScrubbed)
		copyRC.RowsShared = maps.Clone(rc.RowsShared)
		copyRC.Certificate = slices.Clone(rc.Certificate)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					results <- result{i, fmt.Errorf("panicked: %v", p), true}
				}
			}()
			results <- result{i, h.fn(hctx, copyRC), false}
		}()
	}
	errs := make([]error, len(f.hooks))
	done := make([]bool, len(f.hooks))
	panicked := make([]bool, len(f.hooks))
	for range f.hooks {
		select {
		case r := <-results:
			errs[r.i], done[r.i], panicked[r.i] = r.err, true, r.panicked
		case <-hctx.Done():
		}
		if hctx.Err() != nil {
			break
		}
	}
	var failed []HookFailure
	for i, h := range f.hooks {
		err, reason := errs[i], HookError
		switch {
		case !done[i]:
			err, reason = fmt.Errorf("did not finish within %s", f.hookTimeout), HookTimeout
		case panicked[i]:
			reason = HookPanic
		}
		if err == nil {
			continue
		}
		failed = append(failed, HookFailure{Hook: h.name, Reason: reason})
		f.log.LogAttrs(ctx, slog.LevelError, "forget: hook failed; the erasure stands",
			slog.String("hook", h.name),
			slog.String("customer_id", rc.CustomerID),
			slog.String("request_id", rc.RequestID),
			slog.String("error", err.Error()),
		)
	}
	return failed
}

// How a hook failed, in HookFailure.Reason.
const (
	HookError   = "error"
	HookPanic   = "panic"
	HookTimeout = "timeout"
)

// HookFailure is a hook that failed: its name as given to [WithHook], and
// HookError, HookPanic or HookTimeout.
type HookFailure struct {
	Hook   string
	Reason string
}
