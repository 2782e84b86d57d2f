package forget

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Verifier is implemented by stores that can check, against the live
// database, that every plan the catalogue can produce would run: tables
// and columns exist, each column can hold what its rule writes, unique
// columns get a rule that can be written twice, the audit table exists.
// [Forgetter.Verify] calls it; hosts call that before serving.
type Verifier interface {
	Verify(ctx context.Context, cat Catalogue) error
}

// Verify checks the store against the live database, when the store can
// (a [Verifier]): call it once at start-up so that a mapping that cannot
// run is found before the first request, not by it. Stores that cannot
// check return nil. A Forgetter verifies on its own before its first
// forget anyway (unless built [WithoutVerify]) and refuses to erase until
// the store passes; a success here counts for that.
func (f *Forgetter) Verify(ctx context.Context) error {
	v, ok := f.store.(Verifier)
	if !ok {
		return nil
	}
	if err := v.Verify(ctx, f.Catalogue()); err != nil {
		return err
	}
	f.gate.done.Store(true)
	return nil
}

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
