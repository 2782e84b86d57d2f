package memstore

import (
	"fmt"
	"slices"

	"github.com/forgetkit/forget"
)

// WithHashKey is the key of keyed_hash rules built without one
// (forget.KeyedHash(nil)), as sqlstore.WithHashKey.
func WithHashKey(key []byte) Option { return func(s *Store) { s.hashKey = slices.Clone(key) } }

// deriveFunc computes a store-side rule's value from the old one.
type deriveFunc func(what string, d *forget.Derivation, old string) (string, error)

// assign sets m[k] as v says: NULL deletes it (a NULL column is absent),
// a store-side rule derives it from the old value (an absent one stays
// absent), any other value is written.
func assign[K ~string](m map[K]string, k K, v forget.Value, what string, derive deriveFunc) error {
	switch {
	case v.Derive != nil:
		if old, ok := m[k]; ok {
			nv, err := derive(what, v.Derive, old)
			if err != nil {
				return err
			}
			m[k] = nv
		}
	case v.Null:
		delete(m, k)
	default:
		m[k] = v.String
	}
	return nil
}

// deriver returns the function that applies a store-side rule (keyed
// hash, redaction) to an old value of customer c under plan p, counting
// redactions in res. The customer's values before anything is erased are
// the pre-images redact_text removes.
func (s *Store) deriver(c *Customer, p forget.Plan, res *forget.Result) deriveFunc {
	in := forget.DeriveInput{Key: s.hashKey}
	for _, a := range p.Fields {
		if v, ok := c.Fields[a.Field]; ok && v != "" && forget.PreimageField(a.Field) && !a.Value.Derive.Redacts() {
			in.Preimages = append(in.Preimages, v)
		}
	}
	return func(what string, d *forget.Derivation, old string) (string, error) {
		v, n, err := d.Derive(old, in)
		if err != nil {
			return "", fmt.Errorf("memstore: %s: %w", what, err)
		}
		if n > 0 {
			if res.Redacted == nil {
				res.Redacted = map[string]int64{}
			}
			res.Redacted[what] += int64(n)
		}
		return v, nil
	}
}
