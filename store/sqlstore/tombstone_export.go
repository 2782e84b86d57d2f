package sqlstore

import (
	"context"
	"errors"
	"fmt"

	sq "github.com/Masterminds/squirrel"
)

// EachTombstone calls fn with every distinct tombstone of the store's
// table, in (key id, identity, hash) order: the identity's name, the key's
// id and the hash, never more (a suppression list; see
// forget suppression export). keyID, when not empty, keeps that key's
// alone. It stops at fn's first error and returns it.
func (s *Store) EachTombstone(ctx context.Context, keyID string, fn func(identity, keyID, hash string) error) error {
	t := &s.tomb
	if !t.on() {
		return errors.New("sqlstore: the store has no tombstone keys (WithTombstoneKeys)")
	}
	q := s.dialect.quote
	b := s.sb.Select(q("identity"), q("key_id"), q("hash")).Distinct().From(q(t.table))
	if keyID != "" {
		b = b.Where(sq.Eq{q("key_id"): keyID})
	}
	query, args, err := b.OrderBy(q("key_id"), q("identity"), q("hash")).ToSql()
	if err != nil {
		return fmt.Errorf("sqlstore: build tombstone export: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlstore: read tombstones: %w", ctxCause(ctx, s.scrubbedError(err, args...)))
	}
	defer rows.Close()
	for rows.Next() {
		var id, key, hash string
		if err := rows.Scan(&id, &key, &hash); err != nil {
			return fmt.Errorf("sqlstore: read tombstones: %w", s.scrubbedError(err))
		}
		if err := fn(id, key, hash); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: read tombstones: %w", ctxCause(ctx, s.scrubbedError(err)))
	}
	return nil
}
