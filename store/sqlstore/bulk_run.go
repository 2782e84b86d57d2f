package sqlstore

import (
	"context"
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/ago"
)

// One set-based attempt at a group: its customers resolved, locked and
// checked for holds (see bulk.go; the writes are in bulk_write.go).

// bulkRun is one set-based attempt at a group, in one transaction.
type bulkRun struct {
	s       *Store
	tx      *txn
	items   []forget.BatchItem
	group   []batchItem
	shapes  []*bulkShape
	results []forget.BatchResult

	ids    []any    // by group index: the customer key as bound, nil until resolved
	texts  []string // the key as text
	held   []string // the hold that refuses the customer
	later  []int    // a second forget of a customer: the next round's
	failed *bulkShape
	rows   []map[forget.Table]int64
	// updated and unwritten are each customer's Result.Updated and
	// Result.Unwritten (see written.go).
	updated   []map[string]int64
	unwritten [][]forget.Field
	// inventories are a dry run's, by group index, as a single forget's
	// receipt carries them.
	inventories []*forget.Inventory
	quiet       context.Context // ctx without its cancellation: see execPrepared
}

func (b *bulkRun) plan(j int) forget.Plan { return b.items[b.group[j].at].Plan }

func (b *bulkRun) run(ctx context.Context) error {
	n := len(b.group)
	b.ids, b.texts, b.held = make([]any, n), make([]string, n), make([]string, n)
	if err := b.resolve(ctx); err != nil {
		return err
	}
	if err := b.forgotten(ctx); err != nil {
		return err
	}
	if err := b.holds(ctx); err != nil {
		return err
	}
	if err := b.inventory(ctx); err != nil {
		return err
	}
	if err := b.write(ctx); err != nil {
		return err
	}
	if err := b.audit(ctx); err != nil {
		return err
	}
	for j, inv := range b.inventories {
		if inv != nil && b.results[j].Err == nil {
			b.results[j].Result.Inventory = inv
		}
	}
	return nil
}

// inventory counts, for a dry run, each customer's rows before the
// writes, customer by customer, as a single forget does: a preview says
// the same whichever path runs it. Held customers get none, as there.
// Duplicates never reach here (a dry run's second forget of a customer
// runs per customer).
func (b *bulkRun) inventory(ctx context.Context) error {
	if len(b.group) == 0 || !b.plan(0).DryRun {
		return nil
	}
	b.inventories = make([]*forget.Inventory, len(b.group))
	for j := range b.group {
		if b.ids[j] == nil || b.held[j] != "" {
			continue
		}
		inv, err := b.s.dryRunInventory(ctx, b.tx, b.plan(j), b.ids[j], b.texts[j])
		if err != nil {
			return err
		}
		b.inventories[j] = inv
	}
	return nil
}

// resolve resolves and locks every customer: those named by customer_id
// alone with one statement, the others (and any the set does not settle
// exactly) one by one, as a single forget does. A request whose
// customer is already in the group waits for the next round.
func (b *bulkRun) resolve(ctx context.Context) error {
	s := b.s
	var byID []int
	for j, it := range b.group {
		if len(it.keys) == 1 && it.keys[0].name == forget.KeyCustomerID {
			byID = append(byID, j)
		}
	}
	settled := make([]bool, len(b.group))
	per := s.dialect.maxParams()
	for start := 0; start < len(byID); start += per {
		part := byID[start:min(start+per, len(byID))]
		args := make([]any, len(part))
		want := make(map[string][]int, len(part))
		for i, j := range part {
			v := b.group[j].keys[0].value
			args[i] = v
			text := fmt.Sprint(v)
			want[text] = append(want[text], j)
		}
		rows, err := b.tx.query(ctx, s.lockSQL(len(part)), args...)
		if err != nil {
			return fmt.Errorf("sqlstore: resolve customers: %w", s.scrubbedError(err, args...))
		}
		found := make(map[string]int, len(part))
		for rows.Next() {
			var got string
			if err := rows.Scan(&got); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: resolve customers: %w", s.scrubbedError(err, args...))
			}
			found[got]++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: resolve customers: %w", ctxCause(ctx, s.scrubbedError(err, args...)))
		}
		// A key found exactly once, under exactly its own spelling, is
		// settled; anything else (not found, two rows, a collation that
		// matched another spelling) is resolved on its own below.
		for text, js := range want {
			if found[text] != 1 {
				continue
			}
			for _, j := range js {
				b.ids[j], b.texts[j], settled[j] = b.group[j].keys[0].value, text, true
			}
		}
	}
	for j, it := range b.group {
		if settled[j] {
			continue
		}
		id, text, err := s.resolve(ctx, b.tx, it.keys)
		if err != nil {
			if forget.Refused(err) && ctx.Err() == nil {
				b.results[j].Err = err
				continue
			}
			return err
		}
		b.ids[j], b.texts[j] = id, text
	}
	seen := make(map[string]bool, len(b.group))
	for j := range b.group {
		if b.ids[j] == nil {
			continue
		}
		if seen[b.texts[j]] && b.plan(j).DryRun {
			// A dry run's second forget of a customer must see the
			// first's changes, in the one transaction it rolls back.
			return errNoBulk
		}
		if seen[b.texts[j]] {
			b.later = append(b.later, j)
			b.ids[j] = nil
			continue
		}
		seen[b.texts[j]] = true
	}
	return nil
}

// holds finds, for every resolved customer, the first hold that protects
// it, in the order a single forget checks them: the mapping's holds, one
// statement each for the whole group, then the Go holds.
func (b *bulkRun) holds(ctx context.Context) error {
	s := b.s
	if len(s.holds) == 0 && len(s.goHolds) == 0 {
		return nil
	}
	now := time.Now()
	for hi, h := range s.schema.Holds {
		var cand []int
		for j := range b.group {
			if b.ids[j] != nil && b.held[j] == "" && !contains(b.plan(j).IgnoreHolds, h.Name) {
				cand = append(cand, j)
			}
		}
		per := s.dialect.maxParams() - 64
		for start := 0; start < len(cand); start += per {
			part := cand[start:min(start+per, len(cand))]
			keys := make([]any, len(part))
			byText := make(map[string]int, len(part))
			for i, j := range part {
				keys[i] = b.ids[j]
				byText[b.texts[j]] = j
			}
			query, args, err := s.sb.Select("DISTINCT " + s.dialect.holdQuote(h.CustomerKey)).From(s.dialect.holdQuote(h.Table)).
				Where(sq.And{sq.Eq{s.dialect.holdQuote(h.CustomerKey): keys}, holdWhere(s.dialect, h, func(span ago.Span) any { return s.dialect.timeArg(span.Before(now)) })}).ToSql()
			if err != nil {
				return fmt.Errorf("sqlstore: build hold %s: %w", h.Name, err)
			}
			rows, err := b.tx.query(ctx, query, args...)
			if err != nil {
				return fmt.Errorf("sqlstore: hold %s: %w", h.Name, s.scrubbedError(err, args...))
			}
			// A key under another spelling (a collation): the
			// per-customer path decides.
			if err := eachKey(rows, byText, func(j int) { b.held[j] = s.holds[hi].name }); err != nil {
				return fmt.Errorf("sqlstore: hold %s: %w", h.Name, ctxCause(ctx, err))
			}
		}
	}
	for _, g := range s.goHolds {
		for j := range b.group {
			if b.ids[j] == nil || b.held[j] != "" || contains(b.plan(j).IgnoreHolds, g.name) {
				continue
			}
			on, err := g.fn(ctx, b.tx.q, b.ids[j])
			if err != nil {
				return fmt.Errorf("sqlstore: hold %s: %w", g.name, s.scrubbedError(err, b.ids[j]))
			}
			if on {
				b.held[j] = g.name
			}
		}
	}
	return nil
}
