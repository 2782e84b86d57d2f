package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"slices"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// Hashed lists: identifiers hashed with SHA-256 after normalisation (the
// lists California's Delete Act sends data brokers), matched in one pass
// over the identity's table, and against the tombstones, without any
// value being written anywhere.

// HashedMatch is what the store holds of one hashed identifier.
type HashedMatch struct {
	// Customers are the keys of the customers whose identity column, once
	// normalised, has this SHA-256: each is to be forgotten (or is held).
	Customers []string
	// Forgotten is set when a tombstone of it exists: a forget erased it.
	Forgotten bool
}

// MatchHashed matches digests, SHA-256 hashes of normalised values of the
// named identity, against the identity's column in one pass (it reads
// every row of its table: the one scan a hashed list needs, as the
// values are not indexed by their hash), and each digest no customer
// holds against the tombstones. out[i] answers digests[i]. Memory grows
// with the list, not with the table. It needs tombstone keys
// ([WithTombstoneKeys]): without them every identity is unknown.
func (s *Store) MatchHashed(ctx context.Context, identity string, digests [][sha256.Size]byte) ([]HashedMatch, error) {
	t := &s.tomb
	ti, ok := t.byName[identity]
	if !ok {
		return nil, &forget.UnknownIdentityError{Name: identity}
	}
	out := make([]HashedMatch, len(digests))
	want := make(map[[sha256.Size]byte][]int32, len(digests))
	for i, d := range digests {
		want[d] = append(want[d], int32(i))
	}
	table := ti.table(s.schema)
	key := s.schema.Customers.Key
	if table != s.schema.Customers.Table {
		key = s.schema.Joined[table]
	}
	q := s.dialect.quote
	query, _, err := s.sb.Select(q(key), q(ti.Column)).From(q(table)).ToSql()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: build hashed match: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: match hashed %s: %w", identity, ctxCause(ctx, s.scrubbedError(err)))
	}
	defer rows.Close()
	var id string
	var v sql.NullString
	for rows.Next() {
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("sqlstore: match hashed %s: %w", identity, s.scrubbedError(err))
		}
		if !v.Valid {
			continue
		}
		n := ti.norm.Normalize(v.String)
		if n == "" {
			continue
		}
		for _, i := range want[sha256.Sum256([]byte(n))] {
			out[i].Customers = append(out[i].Customers, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: match hashed %s: %w", identity, ctxCause(ctx, s.scrubbedError(err)))
	}
	rows.Close()
	for i := range out {
		slices.Sort(out[i].Customers) // the scan's order is the engine's
	}
	return out, s.matchTombstones(ctx, ti, digests, out)
}

// matchTombstones sets Forgotten for the digests a tombstone names, a
// few hundred hashes a statement.
func (s *Store) matchTombstones(ctx context.Context, ti tombIdentity, digests [][sha256.Size]byte, out []HashedMatch) error {
	t := &s.tomb
	per := max(1, min(500, s.dialect.maxParams()/len(t.keys)))
	q := s.dialect.quote
	for start := 0; start < len(digests); start += per {
		end := min(start+per, len(digests))
		byHash := make(map[string]int, (end-start)*len(t.keys))
		hashes := make([]string, 0, (end-start)*len(t.keys))
		for i := start; i < end; i++ {
			for _, k := range t.keys {
				h := k.HashDigest(ti.Name, digests[i])
				byHash[h] = i
				hashes = append(hashes, h)
			}
		}
		query, args, err := s.sb.Select("DISTINCT " + q("hash")).From(q(t.table)).Where(sq.Eq{q("hash"): hashes}).ToSql()
		if err != nil {
			return fmt.Errorf("sqlstore: build tombstone match: %w", err)
		}
		rows, err := s.db.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("sqlstore: match tombstones: %w", ctxCause(ctx, s.scrubbedError(err, args...)))
		}
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: match tombstones: %w", s.scrubbedError(err))
			}
			if i, ok := byHash[h]; ok {
				out[i].Forgotten = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: match tombstones: %w", ctxCause(ctx, s.scrubbedError(err)))
		}
	}
	return nil
}
