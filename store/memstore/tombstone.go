package memstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/forgetkit/forget"
)

// Tombstones in memory, as the SQL store keeps them: a forget that erases
// an identity's field remembers the keyed hash of its normalised value,
// in the same step as the erasure, and Forgotten answers from them.

var _ forget.TombstoneChecker = (*Store)(nil)

type tombstones struct {
	identities []identity
	keys       []forget.TombstoneKey
	hashes     map[string]bool // the hash; retired keys' included
	err        error           // a bad option: every Forget and Forgotten returns it
}

type identity struct {
	name  string
	field forget.Field
	norm  forget.Normalization
}

// WithIdentity declares that field names a person (an e-mail address, a
// phone number), compared after normalisation n, under name; with
// WithTombstoneKeys a forget that erases the field leaves its tombstone.
func WithIdentity(name string, field forget.Field, n forget.Normalization) Option {
	return func(s *Store) {
		if err := n.Validate(); err != nil && s.tomb.err == nil {
			s.tomb.err = fmt.Errorf("memstore: identity %s: %w", name, err)
		}
		s.tomb.identities = append(s.tomb.identities, identity{name: name, field: field, norm: n})
	}
}

// WithTombstoneKeys makes every forget leave tombstones of the identities
// it erases, one per key that is not retired; Forgotten matches under
// every key. A bad key makes every Forget and Forgotten fail.
func WithTombstoneKeys(keys ...forget.TombstoneKey) Option {
	return func(s *Store) {
		if err := forget.CheckTombstoneKeys(keys); err != nil && s.tomb.err == nil {
			s.tomb.err = fmt.Errorf("memstore: %w", err)
		}
		s.tomb.keys = slices.Clone(keys)
	}
}

// pending returns the tombstones a forget by p writes of c.
func (t *tombstones) pending(c *Customer, p forget.Plan) []string {
	if len(t.keys) == 0 {
		return nil
	}
	var out []string
	for _, id := range t.identities {
		if !slices.ContainsFunc(p.Fields, func(a forget.Assignment) bool { return a.Field == id.field }) {
			continue // kept
		}
		n := id.norm.Normalize(c.Fields[id.field])
		if n == "" {
			continue
		}
		for _, k := range t.keys {
			if !k.Retired {
				out = append(out, k.Hash(id.name, n))
			}
		}
	}
	return out
}

func (t *tombstones) add(hashes []string) {
	if len(hashes) == 0 {
		return
	}
	if t.hashes == nil {
		t.hashes = make(map[string]bool)
	}
	for _, h := range hashes {
		t.hashes[h] = true
	}
}

// Forgotten implements forget.TombstoneChecker.
func (s *Store) Forgotten(ctx context.Context, id forget.Identity) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tomb.err != nil {
		return false, s.tomb.err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	i := slices.IndexFunc(s.tomb.identities, func(x identity) bool { return x.name == id.Name })
	if i < 0 || len(s.tomb.keys) == 0 {
		return false, &forget.UnknownIdentityError{Name: id.Name}
	}
	d := s.tomb.identities[i]
	n := d.norm.Normalize(id.Value)
	if n == "" {
		return false, nil
	}
	for _, k := range s.tomb.keys {
		if s.tomb.hashes[k.Hash(d.name, n)] {
			return true, nil
		}
	}
	return false, nil
}
