package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/forgetkit/forget"
)

// viaChunk bounds the values one statement binds in its IN list.
const viaChunk = 500

// viaRun reads and writes the Via tables of one customer's forget, inside
// its transaction. Every value it holds was read from the database: none
// may reach an error, a log or a receipt.
type viaRun struct {
	s    *Store
	tx   *txn
	id   any
	l    *viaLearned
	plan forget.Plan
	set  map[forget.Table]*viaSet
}

// viaSet is what a Via table's rows are matched by: the (normalised)
// values of From's column in the customer's rows, less the values other
// customers' rows hold too.
type viaSet struct {
	values []any
	keys   map[string]bool // values, as valueKey
	shared []any           // left out: other customers' rows hold them too
}

// valueKey is a value read from the database as a map key. Drivers
// return text as string or []byte, integers as int64.
func valueKey(v any) string { return fmt.Sprintf("%T\x00%v", v, v) }

// readValue turns a scanned value into one that binds again.
func readValue(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// runWithVias runs sc for customer id with its Via tables: first every
// value the Via tables are matched by is read (and the rows holding them
// locked), before any statement writes, then the steps in sc.order.
func (s *Store) runWithVias(ctx context.Context, tx *txn, sc *script, p forget.Plan, id any, res *forget.Result) (map[forget.Table]*viaSet, error) {
	l := s.vias.Load()
	if l == nil {
		return nil, errViaUnverified
	}
	r := &viaRun{s: s, tx: tx, id: id, l: l, plan: p, set: map[forget.Table]*viaSet{}}
	for _, pv := range sc.layout.vias {
		if _, err := r.values(ctx, pv.name); err != nil {
			return nil, err
		}
	}
	args := make([]any, 0, len(p.Fields)+1)
	for _, step := range sc.order {
		if step.stmt < 0 {
			if err := r.write(ctx, sc.layout.vias[step.via], p, res); err != nil {
				return nil, err
			}
			continue
		}
		st := sc.stmts[step.stmt]
		args = args[:0]
		for _, ref := range st.from {
			args = append(args, ref.value(p))
		}
		args = append(args, id)
		n, err := s.runStatement(ctx, tx, st, args, tx.exec)
		if err != nil {
			return nil, err
		}
		countWritten(res, sc, step.stmt, n, p)
	}
	if p.DryRun && res.Inventory != nil {
		r.countInventory(sc, res)
	}
	return r.set, nil // the rows store-side rules write: derive.go
}

// countInventory fills in a dry run's inventory the rows of each Via
// table of the plan that the coverage could not count by key: the rows
// the forget reached, those it would delete or scrub and the shared ones
// it would leave.
func (r *viaRun) countInventory(sc *script, res *forget.Result) {
	for _, pv := range sc.layout.vias {
		table := r.l.canonical(pv.table)
		for i := range res.Inventory.Tables {
			it := &res.Inventory.Tables[i]
			if it.Uncounted && strings.EqualFold(it.Table, table) {
				it.Rows, it.Uncounted = res.Rows[pv.name]+res.Shared[pv.name], false
			}
		}
	}
}

// values returns the set that matches table name's rows, reading it (and
// its parents') once.
func (r *viaRun) values(ctx context.Context, name forget.Table) (*viaSet, error) {
	if vs, ok := r.set[name]; ok {
		return vs, nil
	}
	s := r.s
	rt := s.schema.Tables[name]
	f, err := s.schema.resolveFrom(rt.Via)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: table %s: via %w", name, err)
	}
	q := s.dialect.quote
	norm := rt.Via.Normalize
	col := normExpr(norm, q(f.column))
	vs := &viaSet{keys: map[string]bool{}}
	add := func(v any) {
		if k := valueKey(v); !vs.keys[k] {
			vs.keys[k] = true
			vs.values = append(vs.values, v)
		}
	}
	// The customer's rows of From's table, locked: nothing may change
	// what they hold before the forget is done.
	lock := ""
	if suffix := s.dialect.lockSuffix(); suffix != "" {
		lock = " " + suffix
	}
	var parent *viaSet
	var parentCol string
	if f.kind == fromVia {
		if parent, err = r.values(ctx, f.via); err != nil {
			return nil, err
		}
		prt := s.schema.Tables[f.via]
		parentCol = normExpr(prt.Via.Normalize, q(prt.Via.Column))
		err = chunks(parent.values, func(part []any) error {
			query := fmt.Sprintf("SELECT %s FROM %s WHERE %s IN (%s) AND %s IS NOT NULL%s", col, q(f.table), parentCol, marks(len(part)), q(f.column), lock)
			return r.scan(ctx, query, part, func(v any) { add(v) })
		})
	} else {
		query := fmt.Sprintf("SELECT %s FROM %s WHERE %s = ? AND %s IS NOT NULL%s", col, q(f.table), q(f.key), q(f.column), lock)
		err = r.scan(ctx, query, []any{r.id}, func(v any) { add(v) })
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read %s for table %s: %w", f.table, name, ctxCause(ctx, err))
	}
	if !r.l.exclusive[name] || rt.Shared != "" {
		if err := r.leaveShared(ctx, name, rt, f, col, parent, parentCol, vs); err != nil {
			return nil, err
		}
	}
	r.set[name] = vs
	return vs, nil
}

// leaveShared removes from vs the values that other customers' rows of
// From's table hold too, and refuses the forget when the mapping says so.
func (r *viaRun) leaveShared(ctx context.Context, name forget.Table, rt RelatedTable, f viaFrom, col string, parent *viaSet, parentCol string, vs *viaSet) error {
	s := r.s
	q := s.dialect.quote
	share := s.dialect.engine().shareLock
	shared := map[string]bool{}
	// Lock the rows the values reach before asking who else holds them:
	// two customers who share one, forgotten at once, would each see the
	// other still holding it and both keep it. The second now waits for
	// the first to commit its detach, and then sees it (each statement of
	// a READ COMMITTED transaction reads what is committed when it runs).
	if suffix := s.dialect.lockSuffix(); suffix != "" {
		target := normExpr(rt.Via.Normalize, q(rt.Via.Column))
		err := chunks(vs.values, func(part []any) error {
			query := fmt.Sprintf("SELECT 1 FROM %s WHERE %s IN (%s) %s", q(rt.Table), target, marks(len(part)), suffix)
			return r.scan(ctx, query, part, func(any) {})
		})
		if err != nil {
			return fmt.Errorf("sqlstore: lock the rows of table %s: %w", name, ctxCause(ctx, err))
		}
	}
	err := chunks(vs.values, func(part []any) error {
		args := append([]any(nil), part...)
		var query string
		switch f.kind {
		case fromVia:
			// Another customer's row is one the parent's values do not
			// match: told apart here, as the parent's set was.
			query = fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IN (%s)%s", col, parentCol, q(f.table), col, marks(len(part)), share)
			return r.scanPairs(ctx, query, args, func(v, owner any) {
				if owner == nil || !parent.keys[valueKey(owner)] {
					shared[valueKey(v)] = true
				}
			})
		case fromCustomers:
			query = fmt.Sprintf("SELECT %s FROM %s WHERE %s IN (%s) AND %s <> ?%s", col, q(f.table), col, marks(len(part)), q(f.key), share)
		default:
			query = fmt.Sprintf("SELECT %s FROM %s WHERE %s IN (%s) AND (%s IS NULL OR %s <> ?)%s", col, q(f.table), col, marks(len(part)), q(f.key), q(f.key), share)
		}
		return r.scan(ctx, query, append(args, r.id), func(v any) { shared[valueKey(v)] = true })
	})
	if err != nil {
		return fmt.Errorf("sqlstore: read other customers' rows of %s for table %s: %w", f.table, name, ctxCause(ctx, err))
	}
	if len(shared) == 0 {
		return nil
	}
	// A table the request keeps is only a step on the way to another:
	// its shared rows are left out of the way on, as with keep.
	if rt.Shared == SharedRefuse && r.inPlan(name) {
		return fmt.Errorf("sqlstore: table %s: a row the customer reaches through %s.%s is another customer's too, and the mapping says to refuse (shared: refuse): %w", name, f.table, f.column, forget.ErrConflict)
	}
	kept := vs.values[:0]
	for _, v := range vs.values {
		if k := valueKey(v); shared[k] {
			delete(vs.keys, k)
			vs.shared = append(vs.shared, v)
		} else {
			kept = append(kept, v)
		}
	}
	vs.values = kept
	return nil
}

// write detaches, then deletes or scrubs the customer's rows of one Via
// table, and counts them (and the shared rows it left) in res.
func (r *viaRun) write(ctx context.Context, pv planTable, p forget.Plan, res *forget.Result) error {
	s := r.s
	q := s.dialect.quote
	vs := r.set[pv.name]
	match := normExpr(pv.via.Normalize, q(pv.via.Column))
	res.Rows[pv.name] = 0
	if len(vs.shared) > 0 {
		var n int64
		err := chunks(vs.shared, func(part []any) error {
			var c int64
			query := fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s IN (%s)", q(pv.table), match, marks(len(part)))
			err := r.tx.queryRow(ctx, s.render(query), part...).Scan(&c)
			n += c
			return s.scrubbedError(err, part...)
		})
		if err != nil {
			return fmt.Errorf("sqlstore: count shared rows of %s: %w", pv.name, ctxCause(ctx, err))
		}
		if n > 0 {
			if res.Shared == nil {
				res.Shared = map[forget.Table]int64{}
			}
			res.Shared[pv.name] = n
		}
	}
	if pv.derivedOnly {
		return nil // the rows are kept and written by derive.go
	}
	if len(pv.cols) == 0 && r.l.pointer[pv.name] {
		if err := r.detach(ctx, pv); err != nil {
			return err
		}
	}
	if len(vs.values) == 0 {
		return nil
	}
	var set []string
	var setArgs []any
	for i, c := range pv.cols {
		set = append(set, q(c)+" = ?")
		setArgs = append(setArgs, pv.refs[i].value(p))
	}
	changed := s.dialect.engine().changedRows
	verb := "delete"
	if len(pv.cols) > 0 {
		verb = "update"
	}
	return chunks(vs.values, func(part []any) error {
		where := fmt.Sprintf("%s IN (%s)", match, marks(len(part)))
		var n int64
		var result sql.Result
		var err error
		switch {
		case len(pv.cols) == 0:
			result, err = r.tx.exec(ctx, s.render(fmt.Sprintf("DELETE FROM %s WHERE %s", q(pv.table), where)), part...)
		case changed:
			// MySQL counts changed rows: count (and lock) the matched ones.
			if err = r.tx.queryRow(ctx, s.render(fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s FOR UPDATE", q(pv.table), where)), part...).Scan(&n); err == nil {
				_, err = r.tx.exec(ctx, s.render(fmt.Sprintf("UPDATE %s SET %s WHERE %s", q(pv.table), strings.Join(set, ", "), where)), append(append([]any(nil), setArgs...), part...)...)
			}
		default:
			result, err = r.tx.exec(ctx, s.render(fmt.Sprintf("UPDATE %s SET %s WHERE %s", q(pv.table), strings.Join(set, ", "), where)), append(append([]any(nil), setArgs...), part...)...)
		}
		if err == nil && result != nil {
			n, err = result.RowsAffected()
		}
		if err != nil {
			return fmt.Errorf("sqlstore: %s %s: %w", verb, pv.name, ctxCause(ctx, s.scrubbedError(err, append(append([]any(nil), setArgs...), part...)...)))
		}
		res.Rows[pv.name] += n
		return nil
	})
}

// detach makes the customer's rows of From's table, which stay, stop
// pointing at the Via table's rows the forget deletes (and at the shared
// ones it leaves): their column is set NULL. When From's rows are
// deleted by the forget too, there is nothing to detach.
func (r *viaRun) detach(ctx context.Context, pv planTable) error {
	s := r.s
	q := s.dialect.quote
	f, err := s.schema.resolveFrom(pv.via)
	if err != nil {
		return err
	}
	if f.kind != fromCustomers && !r.fromStays(f) {
		return nil
	}
	if f.kind == fromVia {
		prt := s.schema.Tables[f.via]
		parentCol := normExpr(prt.Via.Normalize, q(prt.Via.Column))
		return chunks(r.set[f.via].values, func(part []any) error {
			query := fmt.Sprintf("UPDATE %s SET %s = NULL WHERE %s IN (%s) AND %s IS NOT NULL", q(f.table), q(f.column), parentCol, marks(len(part)), q(f.column))
			if _, err := r.tx.exec(ctx, s.render(query), part...); err != nil {
				return fmt.Errorf("sqlstore: detach %s from %s: %w", f.table, pv.name, ctxCause(ctx, s.scrubbedError(err, part...)))
			}
			return nil
		})
	}
	query := fmt.Sprintf("UPDATE %s SET %s = NULL WHERE %s = ? AND %s IS NOT NULL", q(f.table), q(f.column), q(f.key), q(f.column))
	if _, err := r.tx.exec(ctx, s.render(query), r.id); err != nil {
		return fmt.Errorf("sqlstore: detach %s from %s: %w", f.table, pv.name, ctxCause(ctx, s.scrubbedError(err, r.id)))
	}
	return nil
}

// fromStays reports whether the customer's rows of From's table stay
// after the forget: a joined or lookup table's, a scrubbed table's. A
// kept catalogue table's are refused before (viaOrder).
func (r *viaRun) fromStays(f viaFrom) bool {
	name := r.s.catalogueOf(f)
	if name == "" {
		return true
	}
	for _, pt := range r.plan.Tables {
		if pt.Table == name {
			return len(pt.Scrub) > 0
		}
	}
	return true
}

// inPlan reports whether the plan erases table name.
func (r *viaRun) inPlan(name forget.Table) bool {
	for _, t := range r.plan.Tables {
		if t.Table == name {
			return true
		}
	}
	return false
}

// scan runs query (with ? placeholders) and calls fn with the first
// column of every row that is not NULL.
func (r *viaRun) scan(ctx context.Context, query string, args []any, fn func(any)) error {
	rows, err := r.tx.query(ctx, r.s.render(query), args...)
	if err != nil {
		return r.s.scrubbedError(err, args...)
	}
	defer rows.Close()
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return r.s.scrubbedError(err, args...)
		}
		if v != nil {
			fn(readValue(v))
		}
	}
	return r.s.scrubbedError(rows.Err(), args...)
}

// scanPairs is scan for two columns; the second may be NULL.
func (r *viaRun) scanPairs(ctx context.Context, query string, args []any, fn func(v, owner any)) error {
	rows, err := r.tx.query(ctx, r.s.render(query), args...)
	if err != nil {
		return r.s.scrubbedError(err, args...)
	}
	defer rows.Close()
	for rows.Next() {
		var v, owner any
		if err := rows.Scan(&v, &owner); err != nil {
			return r.s.scrubbedError(err, args...)
		}
		if v != nil {
			fn(readValue(v), readValue(owner))
		}
	}
	return r.s.scrubbedError(rows.Err(), args...)
}

// chunks calls fn with values in parts of at most viaChunk.
func chunks(values []any, fn func([]any) error) error {
	for start := 0; start < len(values); start += viaChunk {
		if err := fn(values[start:min(start+viaChunk, len(values))]); err != nil {
			return err
		}
	}
	return nil
}

// marks is n comma-separated placeholders.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
