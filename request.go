package forget

import (
	"context"
	"time"
)

// Request asks to forget one customer.
type Request struct {
	Lookup Lookup
	// Keep lists the fields and tables to preserve. Each item may itself
	// be a comma-separated list; see [Catalogue.ParseKeep].
	Keep []string
	// DryRun resolves the customer and reports what would be erased
	// without changing anything.
	DryRun bool
	// Principal is who asked, for the receipt. When empty, the principal
	// stored in the context by [WithPrincipal] is used.
	Principal string
	// RequestID ties the receipt to logs and responses.
	RequestID string
	// IgnoreHolds names holds an operator has cleared for this request:
	// the store does not check them, and the receipt and audit record
	// list them. A name the store does not declare is invalid.
	IgnoreHolds []string
	// Repropagate sends the erasure event of a repeat too (see
	// [Receipt.Repeat]), for a downstream system that lost the first.
	Repropagate bool

	// sweptSince, set by Sweep only, becomes Plan.UnlessForgottenSince.
	sweptSince time.Time
}

type principalKey struct{}

// WithPrincipal returns a context naming who makes the request. Host
// middleware that authenticates callers itself uses it to fill receipts.
func WithPrincipal(ctx context.Context, principal string) context.Context {
	return context.WithValue(ctx, principalKey{}, principal)
}

// principalFrom returns the principal stored by WithPrincipal, or "".
func principalFrom(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(string)
	return p
}
