package forget

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// ErrUnverified: the store failed its check against the live database
// ([Verifier]), so the Forgetter refuses to erase. It is an internal
// (500-class) error: the host's mapping or database is at fault, not the
// request. The cause is logged and wrapped.
var ErrUnverified = errors.New("the store failed verification; nothing was erased")

// WithoutVerify stops the Forgetter from verifying its store before the
// first forget. Use it only for a store whose database is known to differ
// from what Verify accepts (a mock, a test fixture), or when the host has
// verified by other means.
func WithoutVerify() Option {
	return func(cfg *config) { cfg.noVerify = true }
}

// verifyGate runs the store's Verify once before the first forget. A
// success is remembered; a failure is not, so the next call tries again
// (the host may have fixed its database meanwhile).
type verifyGate struct {
	off  bool
	done atomic.Bool
	mu   sync.Mutex // one Verify at a time; the others wait for its answer
}

// ensureVerified returns nil once the store has passed Verify (or has no
// Verify, or the host opted out), and an error wrapping ErrUnverified
// otherwise.
func (f *Forgetter) ensureVerified(ctx context.Context) error {
	g := &f.gate
	if g.off || g.done.Load() {
		return nil
	}
	v, ok := f.store.(Verifier)
	if !ok {
		g.done.Store(true)
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done.Load() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := v.Verify(ctx, f.Catalogue()); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Verify's errors name tables and columns, never values.
		f.log.LogAttrs(ctx, slog.LevelError, "forget: store failed verification; refusing to erase", slog.String("error", err.Error()))
		return fmt.Errorf("forget: %w: %w", ErrUnverified, err)
	}
	g.done.Store(true)
	return nil
}
