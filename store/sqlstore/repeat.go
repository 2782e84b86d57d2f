package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/forgetkit/forget"
)

// A repeat (forget.Result.Repeat) is told in the forget's transaction,
// with the customer's row locked: before the statements run, the audit
// trail must show the customer fully forgotten and the row must hold every
// value of the plan that is not Fresh; after them, no table but the
// customers' own may have had a row written or deleted.

// repeatSince is the cutoff that finds any full forget in the audit trail
// (forgottenSince ignores a zero one).
var repeatSince = time.Unix(0, 0).UTC()

// repeatable reports whether p could be a repeat: a full forget by a store
// that keeps an audit trail.
func (s *Store) repeatable(p forget.Plan) bool {
	return s.auditTable != "" && len(p.Record.FieldsKept) == 0 && len(p.Record.TablesKept) == 0
}

// unchanged reports whether the customer's row (key id) already holds
// every value of p that is not Fresh and that sc writes there.
func (s *Store) unchanged(ctx context.Context, tx *txn, sc *script, p forget.Plan, id any) (bool, error) {
	q := s.dialect.quote
	var where []string
	args := []any{id}
	for _, u := range sc.layout.updates {
		if u.table != s.schema.Customers.Table {
			continue // its rows must be none: see wroteNothing
		}
		for i, ref := range u.refs {
			a := p.Fields[ref.index]
			switch {
			case a.Fresh:
			case a.Value.Null:
				where = append(where, q(u.cols[i])+" IS NULL")
			default:
				where = append(where, q(u.cols[i])+" = ?")
				args = append(args, a.Value.String)
			}
		}
	}
	query := fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s = ?", q(s.schema.Customers.Table), q(s.schema.Customers.Key))
	for _, w := range where {
		query += " AND " + w
	}
	// The row is this transaction's already: read its latest version.
	query += s.dialect.engine().currentRead
	var n int64
	if err := tx.queryRow(ctx, s.render(query), args...).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlstore: repeat: reading %s: %w", s.schema.Customers.Table, ctxCause(ctx, s.scrubbedError(err, args...)))
	}
	return n == 1, nil
}

// repeatCandidate reports whether the forget of customer id (key as text)
// by p is a repeat but for what its statements will count.
func (s *Store) repeatCandidate(ctx context.Context, tx *txn, sc *script, p forget.Plan, id any, text string) (bool, error) {
	if !s.repeatable(p) {
		return false, nil
	}
	done, err := s.fullyForgotten(ctx, tx, []string{text}, repeatSince, false)
	if err != nil || !done[text] {
		return false, err
	}
	return s.unchanged(ctx, tx, sc, p, id)
}

// wroteNothing reports whether res counts no row deleted or scrubbed and
// no row of a joined table written: only the customer's own row was.
func (s *Store) wroteNothing(res forget.Result) bool {
	for _, n := range res.Rows {
		if n > 0 {
			return false
		}
	}
	for table, n := range res.Updated {
		if n > 0 && table != s.schema.Customers.Table {
			return false
		}
	}
	return true
}

// repeats finds the repeat candidates of a batch group (see
// repeatCandidate): one read of the audit trail for the group, then each
// previously forgotten customer's row.
func (b *bulkRun) repeats(ctx context.Context) error {
	s := b.s
	b.repeat = make([]bool, len(b.group))
	var js []int
	var texts []string
	for j := range b.group {
		if b.ids[j] != nil && b.held[j] == "" && s.repeatable(b.plan(j)) {
			js = append(js, j)
			texts = append(texts, b.texts[j])
		}
	}
	done, err := s.fullyForgotten(ctx, b.tx, texts, repeatSince, false)
	if err != nil {
		return err
	}
	for _, j := range js {
		if !done[b.texts[j]] {
			continue
		}
		if b.repeat[j], err = s.unchanged(ctx, b.tx, b.group[j].sc, b.plan(j), b.ids[j]); err != nil {
			return err
		}
	}
	return nil
}

// quietRepeat reports whether a forget's record is born published: a
// repeat whose plan did not ask to propagate it again.
func quietRepeat(res forget.Result, p forget.Plan) bool {
	return res.Repeat && !p.Repropagate
}
