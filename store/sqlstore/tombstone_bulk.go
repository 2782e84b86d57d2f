package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// tombstones writes the tombstones of every customer of the group that
// is resolved, not held and not refused: each identity table read once
// for the group (WHERE key IN (...)), and the tombstones written with a
// few multi-row INSERTs. A key read back under another spelling than
// the group's (a collation) sends the group to the per-customer path, as
// elsewhere in the set-based run; a dry run reads per customer, as a
// single one does.
func (b *bulkRun) tombstones(ctx context.Context) error {
	s := b.s
	t := &s.tomb
	if !t.on() {
		return nil
	}
	var js []int
	for j := range b.group {
		if b.ids[j] != nil && b.held[j] == "" && b.results[j].Err == nil {
			js = append(js, j)
		}
	}
	if len(js) == 0 {
		return nil
	}
	if b.plan(js[0]).DryRun { // a group is all dry runs or none
		for _, j := range js {
			if err := s.tombstones(ctx, b.tx, b.plan(j), b.ids[j]); err != nil {
				return err
			}
		}
		return nil
	}
	erased := make(map[int]map[forget.Field]bool, len(js))
	seen := make(map[int]map[string]bool, len(js))
	for _, j := range js {
		erased[j], seen[j] = erasedFields(b.plan(j)), map[string]bool{}
	}
	var stones []stone
	for _, r := range t.reads {
		var need []int
		for _, j := range js {
			if r.needs(erased[j]) {
				need = append(need, j)
			}
		}
		per := s.dialect.maxParams()
		for start := 0; start < len(need); start += per {
			part := need[start:min(start+per, len(need))]
			keys := make([]any, len(part))
			byText := make(map[string]int, len(part))
			for i, j := range part {
				keys[i] = b.ids[j]
				byText[b.texts[j]] = j
			}
			query, args, err := s.sb.Select(append([]string{r.key}, r.cols...)...).From(r.table).Where(sq.Eq{r.key: keys}).ToSql()
			if err != nil {
				return fmt.Errorf("sqlstore: build tombstone read: %w", err)
			}
			var err2 error
			stones, err2 = b.readStones(ctx, r, query, args, byText, erased, seen, stones)
			if err2 != nil {
				return err2
			}
		}
	}
	return s.insertStones(ctx, b.tx, stones)
}

// readStones runs one set-based read of r and appends each customer's
// tombstones.
func (b *bulkRun) readStones(ctx context.Context, r tombRead, query string, args []any, byText map[string]int,
	erased map[int]map[forget.Field]bool, seen map[int]map[string]bool, stones []stone) ([]stone, error) {
	s := b.s
	rows, err := b.tx.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read identities: %w", s.scrubbedError(err, args...))
	}
	defer rows.Close()
	var key string
	vals := make([]sql.NullString, len(r.identities))
	dest := append([]any{&key}, make([]any, len(vals))...)
	for i := range vals {
		dest[i+1] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("sqlstore: read identities: %w", s.scrubbedError(err, args...))
		}
		j, ok := byText[key]
		if !ok {
			return nil, errNoBulk
		}
		stones = s.tomb.stonesOf(r, vals, erased[j], b.plan(j), seen[j], stones)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read identities: %w", ctxCause(ctx, s.scrubbedError(err, args...)))
	}
	return stones, nil
}
