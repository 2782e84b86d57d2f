package sqlstore

import (
	"context"

	"github.com/forgetkit/forget"
)

// PersonalHint exposes personalHint to the tests.
var PersonalHint = personalHint

// SampleLooks reports what the samplers see in one value.
func SampleLooks(v []byte) (email, phone, ip bool) { return looksEmail(v), looksPhone(v), looksIP(v) }

// DryRunInventory runs dryRunInventory for p in a transaction of its
// own, as apply would at the end of a dry run.
func DryRunInventory(ctx context.Context, s *Store, l forget.Lookup, p forget.Plan) (*forget.Inventory, error) {
	keys, err := s.lookupKeys(l)
	if err != nil {
		return nil, err
	}
	return s.readCustomer(ctx, keys, func(tx *txn, id any, idText string) (*forget.Inventory, error) {
		return s.dryRunInventory(ctx, tx, p, id, idText)
	})
}
