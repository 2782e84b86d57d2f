package sqlstore

import (
	"context"
	"fmt"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// Inventory returns the whole picture of what the database holds on the
// customer l names (see [forget.Inventory]): for every table that reaches
// a customer ([Cover]), the customer's rows, what a forget that keeps
// nothing would do with them, and the columns it would leave as they are.
// Rows in tables reached through foreign keys are counted by joining along
// the chain. It runs in a transaction it rolls back, locking the customer
// as a forget does, so that the counts are those a forget would meet.
//
// It returns the lookup errors of [Store.Forget] (ErrInvalid, ErrNotFound,
// ErrConflict); no error holds a value read from a table.
func (s *Store) Inventory(ctx context.Context, l forget.Lookup, cat forget.Catalogue) (*forget.Inventory, error) {
	l, err := l.Normalize()
	if err != nil {
		return nil, err
	}
	keys, err := s.lookupKeys(l)
	if err != nil {
		return nil, err
	}
	if err := s.schema.check(cat); err != nil {
		return nil, err
	}
	in := s.cover.last.Load()
	if in == nil {
		if in, err = Introspect(ctx, s.db, s.dialect, s.schema.qualifiers()...); err != nil {
			return nil, fmt.Errorf("sqlstore: inventory: %w", err)
		}
	}
	cov := cover(in, s.schema, cat, s.auditTable)
	return s.readCustomer(ctx, keys, func(tx *txn, id any, idText string) (*forget.Inventory, error) {
		return s.inventory(ctx, tx, in, cov, id, idText, nil)
	})
}

// readCustomer finds the customer keys name in a transaction of its own,
// which it rolls back after read has counted their rows.
func (s *Store) readCustomer(ctx context.Context, keys []lookupKey, read func(tx *txn, id any, idText string) (*forget.Inventory, error)) (*forget.Inventory, error) {
	tx, err := s.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer func() {
		tx.rollback(ctx)
		tx.close()
	}()
	id, idText, err := s.resolve(ctx, tx, keys)
	if err != nil {
		return nil, err
	}
	return read(tx, id, idText)
}

// dryRunInventory is the inventory of a dry run, counted in its
// transaction before its statements run (after them, deleted rows would
// count 0), from the schema the last Verify read: nil when Verify has not
// run, so that a dry run never reads the catalogue inside its transaction,
// and for real forgets, which never pay for it. What the plan keeps is
// listed as kept.
func (s *Store) dryRunInventory(ctx context.Context, tx *txn, p forget.Plan, id any, idText string) (*forget.Inventory, error) {
	in := s.cover.last.Load()
	if in == nil || !p.DryRun {
		return nil, nil
	}
	cat := forget.Catalogue{}
	for _, a := range p.Fields {
		cat.Fields = append(cat.Fields, forget.FieldSpec{Name: a.Field, Rule: forget.Empty()})
	}
	for _, f := range p.Record.FieldsKept {
		cat.Fields = append(cat.Fields, forget.FieldSpec{Name: f, Rule: forget.Empty()})
	}
	for _, t := range p.Tables {
		ts := forget.TableSpec{Name: t.Table}
		for _, c := range t.Scrub {
			ts.Scrub = append(ts.Scrub, forget.ColumnRule{Column: c.Column, Rule: forget.Empty()})
		}
		cat.Tables = append(cat.Tables, ts)
	}
	kept := map[string]bool{}
	for _, f := range p.Record.FieldsKept {
		kept[string(f)] = true
	}
	for _, t := range p.Record.TablesKept {
		kept[string(t)] = true
		cat.Tables = append(cat.Tables, forget.TableSpec{Name: t})
	}
	cov := cover(in, s.schema, cat, s.auditTable)
	return s.inventory(ctx, tx, in, cov, id, idText, kept)
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

// inventory counts the customer's rows in each table of cov, in tx, and
// sorts its columns by what the forget does with them.
func (s *Store) inventory(ctx context.Context, tx *txn, in *Introspection, cov *Coverage, id any, idText string, kept map[string]bool) (*forget.Inventory, error) {
	inv := &forget.Inventory{Tables: make([]forget.InventoryTable, 0, len(cov.Tables))}
	byInfo := make(map[*TableInfo]*TableCoverage, len(cov.Tables))
	for i := range cov.Tables {
		byInfo[cov.Tables[i].info] = &cov.Tables[i]
	}
	for i := range cov.Tables {
		tc := &cov.Tables[i]
		it := forget.InventoryTable{Table: tc.Table, Action: "none"}
		erased, keptCols, deleted := false, false, true
		for _, col := range tc.Columns {
			switch col.Class {
			case ClassErased:
				if kept[col.entry] {
					it.Kept = append(it.Kept, col.Column)
					keptCols = true
					continue
				}
				erased = true
				deleted = deleted && col.deleted
			case ClassRetained:
				it.Retained = append(it.Retained, forget.RetainedColumn{Column: col.Column, Reason: col.By})
				deleted = false
			case ClassUnclassified:
				it.Unclassified = append(it.Unclassified, col.Column)
				if col.LikelyPersonal {
					it.LikelyPersonal = append(it.LikelyPersonal, col.Column)
				}
				deleted = false
			default:
				deleted = deleted && col.Class != ClassKey
			}
		}
		switch {
		case erased && deleted:
			it.Action = "deleted"
		case erased:
			it.Action = "updated"
		case keptCols:
			it.Action = "kept"
		}
		q, args, ok := s.countQuery(in, byInfo, tc, id, idText)
		if !ok {
			it.Uncounted = true
		} else if err := tx.queryRow(ctx, q, args...).Scan(&it.Rows); err != nil {
			return nil, fmt.Errorf("sqlstore: inventory of %s: %w", tc.Table, s.scrubbedError(err, args...))
		}
		inv.Tables = append(inv.Tables, it)
	}
	return inv, nil
}

// countQuery builds the statement that counts the customer's rows of tc:
// by its customer-key column, or by joining along its foreign-key chain
// to a table that has one. ok is false when the rows cannot be counted:
// a text key and an integer column, a chain longer than the coverage
// lists, a foreign key whose columns the catalogue does not say, a name
// no quoting can carry.
func (s *Store) countQuery(in *Introspection, byInfo map[*TableInfo]*TableCoverage, tc *TableCoverage, id any, idText string) (query string, args []any, ok bool) {
	d := s.dialect
	alias := func(i int) string { return fmt.Sprintf("t%d", i) }
	from, err := quoteTable(d, tc.info)
	if err != nil || len(tc.Via) < tc.Depth {
		return "", nil, false
	}
	b := s.sb.Select("COUNT(*)").From(from + " AS " + alias(0))
	root, rootAlias := tc, alias(0)
	for i, hop := range tc.Via {
		ref := in.Table(hop.RefTable)
		if ref == nil || len(hop.Columns) != len(hop.RefColumns) || len(hop.Columns) == 0 {
			return "", nil, false
		}
		name, err := quoteTable(d, ref)
		if err != nil {
			return "", nil, false
		}
		var on []string
		for j := range hop.Columns {
			l, err1 := quoteAny(d, hop.Columns[j])
			r, err2 := quoteAny(d, hop.RefColumns[j])
			if err1 != nil || err2 != nil {
				return "", nil, false
			}
			on = append(on, alias(i)+"."+l+" = "+alias(i+1)+"."+r)
		}
		b = b.Join(name + " AS " + alias(i+1) + " ON " + strings.Join(on, " AND "))
		if root, rootAlias = byInfo[ref], alias(i+1); root == nil {
			return "", nil, false
		}
	}
	col := root.info.Column(root.keyCol)
	if root.keyCol == "" || col == nil {
		return "", nil, false
	}
	var v any = id
	kt := s.keyType(forget.KeyCustomerID)
	uuidCol := col.Kind == KindUUID && kt != KeyInt
	switch {
	case col.Kind == KindText, uuidCol:
		v = idText
	case kt != KeyInt && d != SQLite:
		return "", nil, false // a text key and an integer column
	}
	key, err := quoteAny(d, col.Name)
	if err != nil {
		return "", nil, false
	}
	var cond sq.Sqlizer = sq.Eq{rootAlias + "." + key: v}
	if uuidCol && d == Postgres {
		// PostgreSQL has no uuid = text; MariaDB's UUID compares with a string.
		cond = sq.Expr(rootAlias+"."+key+" = CAST(? AS uuid)", v)
	}
	query, args, err = b.Where(cond).ToSql()
	return query, args, err == nil
}
