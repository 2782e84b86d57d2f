package sqlstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/forgetkit/forget"
)

var _ forget.MappingDigester = (*Store)(nil)

// SchemaDigest returns "sha256:" and the hex SHA-256 of s's canonical
// JSON: s as a store holds it (a field's table filled in where the
// mapping leaves it to the customers table), in encoding/json's form,
// whose struct fields come in declaration order, map keys sorted and raw
// JSON compacted. An erasure certificate states
// the digest of the mapping in force, so that whoever holds the mapping
// file can check it was the one (forget certificate digest).
func SchemaDigest(s Schema) (string, error) {
	b, err := json.Marshal(s.clone())
	if err != nil {
		return "", fmt.Errorf("sqlstore: the mapping has no JSON form: %w", err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// MappingDigest is [SchemaDigest] of the store's Schema ("" in the
// unlikely case it has no JSON form: a hold's value of a type JSON does
// not know).
func (s *Store) MappingDigest() string {
	d, err := SchemaDigest(s.schema)
	if err != nil {
		return ""
	}
	return d
}
