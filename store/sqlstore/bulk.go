package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// Set-based erasure: the customers of one batch group are resolved and
// locked, their holds checked, and then erased with a few multi-row
// statements per plan shape instead of a round of statements each:
//
//	SQLite      WITH v(k, c1, …) AS (VALUES (?, ?, …), …) UPDATE t SET c = v.c1 … FROM v WHERE t.key = v.k
//	PostgreSQL  UPDATE t SET c = v.c1 … FROM (VALUES (…), …) AS v(k, c1, …) WHERE t.key = v.k
//	MariaDB     UPDATE t JOIN (SELECT ? AS k, ? AS c1 UNION ALL SELECT ?, ? …) AS v ON t.key = v.k SET t.c = v.c1 …
//	purges      DELETE FROM t WHERE key IN (…) RETURNING key   (MySQL: SELECT key, COUNT(*) … FOR UPDATE, then DELETE)
//	audit       INSERT INTO forget_audit (…) VALUES (…), (…), …
//
// Every row still gets its own plan's values (its own pseudonyms and
// random credentials). Lookups and holds stay exact, customer by
// customer. When anything of a group fails, the whole transaction is
// rolled back and the group runs again on the per-customer path, a
// savepoint each, so that only the failing customer is refused.

// bulkState is the store's set-based machinery: whether it is on, and the
// statement shapes it has built.
type bulkState struct {
	off    bool
	mu     sync.Mutex
	shapes map[string]*bulkShape // by shapeKey
	// Groups committed set-based, and sent to the per-customer path
	// after a set-based attempt: for tests and benchmarks.
	sets, fallbacks atomic.Int64
}

// WithSetBased turns set-based batch erasure on (the default) or off. Off,
// every customer of a batch runs its own statements in a savepoint of the
// shared transaction: the same outcome, more statements.
func WithSetBased(on bool) Option { return func(st *Store) { st.bulk.off = !on } }

// maxParams bounds the parameters of one statement: SQLite allows 32,766,
// PostgreSQL and MySQL 65,535.
func (d Dialect) maxParams() int {
	if d == SQLite {
		return 32000
	}
	return 65000
}

// bulkShape is a plan shape's set-based statements, built once.
type bulkShape struct {
	updates []bulkUpdate
	tables  []bulkTable
	// off is set once its statements failed where the per-customer ones
	// then succeeded: something of this shape (a column type, a
	// collation) the set-based statements do not handle.
	off     atomic.Bool
	strikes atomic.Int32

	mu  sync.Mutex
	sql map[bulkSQLKey]string
}

type bulkSQLKey struct {
	kind, index, rows int
}

// bulkUpdate writes fields of one table that has a row per customer.
type bulkUpdate struct {
	table, key string
	cols       []string
	refs       []valueRef
}

// bulkTable purges (or scrubs) a catalogue table.
type bulkTable struct {
	name       forget.Table
	table, key string
	cols       []string // scrubbed columns; none for a purge
	refs       []valueRef
	step       int // index of its statement in the per-customer script
}

const maxBulkShapes = 256

// bulkShapeOf returns the set-based statements of p's shape.
func (s *Store) bulkShapeOf(p forget.Plan) (*bulkShape, error) {
	key := shapeKey(p)
	s.bulk.mu.Lock()
	defer s.bulk.mu.Unlock()
	if sh, ok := s.bulk.shapes[key]; ok {
		return sh, nil
	}
	sh := &bulkShape{sql: make(map[bulkSQLKey]string)}
	var tables []string
	byTable := map[string]*bulkUpdate{}
	for i, a := range p.Fields {
		col, ok := s.schema.Fields[a.Field]
		if !ok {
			if s.absent[string(a.Field)] {
				continue
			}
			return nil, fmt.Errorf("sqlstore: field %s is not mapped", a.Field)
		}
		u, seen := byTable[col.Table]
		if !seen {
			key := s.schema.Customers.Key
			if col.Table != s.schema.Customers.Table {
				key = s.schema.Joined[col.Table]
			}
			u = &bulkUpdate{table: col.Table, key: key}
			byTable[col.Table] = u
			tables = append(tables, col.Table)
		}
		u.cols = append(u.cols, col.Column)
		u.refs = append(u.refs, valueRef{table: -1, index: i})
	}
	for _, t := range tables {
		sh.updates = append(sh.updates, *byTable[t])
	}
	step := len(sh.updates)
	for ti, t := range p.Tables {
		rt, ok := s.schema.Tables[t.Table]
		if !ok {
			if s.absent[string(t.Table)] {
				continue
			}
			return nil, fmt.Errorf("sqlstore: table %s is not mapped", t.Table)
		}
		bt := bulkTable{name: t.Table, table: rt.Table, key: rt.CustomerKey, step: step}
		step++
		for ci, c := range t.Scrub {
			bt.cols = append(bt.cols, c.Column)
			bt.refs = append(bt.refs, valueRef{table: ti, index: ci})
		}
		sh.tables = append(sh.tables, bt)
	}
	if s.bulk.shapes == nil {
		s.bulk.shapes = make(map[string]*bulkShape)
	}
	if len(s.bulk.shapes) < maxBulkShapes {
		s.bulk.shapes[key] = sh
	}
	return sh, nil
}

// rowsPerStatement is how many customers one statement of the shape may
// carry within the dialect's parameter limit.
func (sh *bulkShape) rowsPerStatement(d Dialect) int {
	widest := len(auditColumns)
	for _, u := range sh.updates {
		widest = max(widest, 1+len(u.cols))
	}
	for _, t := range sh.tables {
		widest = max(widest, 1+len(t.cols))
	}
	return max(1, d.maxParams()/widest)
}

// Kinds of set-based statements, for the cache of their SQL.
const (
	sqlUpdate = iota
	sqlTable
	sqlCount
)

// cached returns the SQL of one statement for n rows, building it once.
func (sh *bulkShape) cached(k bulkSQLKey, build func() string) string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if q, ok := sh.sql[k]; ok {
		return q
	}
	q := build()
	if len(sh.sql) < 64 {
		sh.sql[k] = q
	}
	return q
}

// qmarks renders n comma-separated parameters.
func qmarks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// render turns ? into the dialect's placeholders.
func (s *Store) render(query string) string {
	if s.dialect != Postgres {
		return query
	}
	q, err := sq.Dollar.ReplacePlaceholders(query)
	if err != nil {
		return query // cannot happen: the statements hold no literal '?'
	}
	return q
}

// updateSQL writes one table's fields for n customers, each row of the
// VALUES list the customer key and its new values.
func (s *Store) updateSQL(u bulkUpdate, n int) string {
	q := s.dialect.quote
	var b strings.Builder
	row := func(first bool) string {
		key := "?"
		if first && s.dialect == Postgres && s.schema.Customers.KeyType != KeyText {
			key = "CAST(? AS BIGINT)" // a VALUES column of parameters is text otherwise
		}
		return key + strings.Repeat(", ?", len(u.cols))
	}
	names := make([]string, len(u.cols))
	for i := range u.cols {
		names[i] = fmt.Sprintf("c%d", i+1)
	}
	target := q(u.table) + "." + q(u.key)
	switch s.dialect {
	case MySQL:
		fmt.Fprintf(&b, "UPDATE %s JOIN (", q(u.table))
		for i := range n {
			if i > 0 {
				b.WriteString(" UNION ALL ")
			}
			b.WriteString("SELECT ")
			if i == 0 {
				parts := []string{"? AS k"}
				if s.schema.Customers.KeyType != KeyText {
					parts[0] = "CAST(? AS SIGNED) AS k"
				}
				for _, nm := range names {
					parts = append(parts, "? AS "+nm)
				}
				b.WriteString(strings.Join(parts, ", "))
			} else {
				b.WriteString(qmarks(1 + len(u.cols)))
			}
		}
		fmt.Fprintf(&b, ") AS v ON %s = v.k SET ", target)
		for i, c := range u.cols {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s.%s = v.%s", q(u.table), q(c), names[i])
		}
	default:
		values := make([]string, n)
		for i := range values {
			values[i] = "(" + row(i == 0) + ")"
		}
		cols := "k, " + strings.Join(names, ", ")
		if s.dialect == SQLite {
			fmt.Fprintf(&b, "WITH v(%s) AS (VALUES %s) UPDATE %s SET ", cols, strings.Join(values, ", "), q(u.table))
		} else {
			fmt.Fprintf(&b, "UPDATE %s SET ", q(u.table))
		}
		for i, c := range u.cols {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s = v.%s", q(c), names[i])
		}
		if s.dialect == SQLite {
			b.WriteString(" FROM v")
		} else {
			fmt.Fprintf(&b, " FROM (VALUES %s) AS v(%s)", strings.Join(values, ", "), cols)
		}
		fmt.Fprintf(&b, " WHERE %s = v.k", target)
	}
	return s.render(b.String())
}

// tableSQL purges (or scrubs) a table's rows of n customers and, but on
// MySQL, returns the customer key of every row it touched, so that each
// customer's receipt gets its own count.
func (s *Store) tableSQL(t bulkTable, n int) string {
	q := s.dialect.quote
	in := fmt.Sprintf("%s IN (%s)", q(t.key), qmarks(n))
	returning := " RETURNING " + q(t.key)
	if s.dialect == MySQL {
		returning = ""
	}
	if len(t.cols) == 0 {
		return s.render(fmt.Sprintf("DELETE FROM %s WHERE %s%s", q(t.table), in, returning))
	}
	// A scrub: the customer key first in each VALUES row, then the values.
	u := bulkUpdate{table: t.table, key: t.key, cols: t.cols}
	query := s.updateSQL(u, n)
	if s.dialect != MySQL {
		query += returning
	}
	return query
}

// countSQL counts, and locks, a table's rows of n customers (MySQL, which
// has no RETURNING).
func (s *Store) countSQL(t bulkTable, n int) string {
	q := s.dialect.quote
	return s.render(fmt.Sprintf("SELECT %s, COUNT(*) FROM %s WHERE %s IN (%s) GROUP BY %s FOR UPDATE",
		q(t.key), q(t.table), q(t.key), qmarks(n), q(t.key)))
}

// lockSQL resolves and locks n customers by their keys.
func (s *Store) lockSQL(n int) string {
	q := s.dialect.quote
	c := s.schema.Customers
	query := fmt.Sprintf("SELECT %s FROM %s WHERE %s IN (%s)", q(c.Key), q(c.Table), q(c.Key), qmarks(n))
	if suffix := s.dialect.lockSuffix(); suffix != "" {
		query += " " + suffix
	}
	return s.render(query)
}

// auditSQL inserts n audit records.
func (s *Store) auditSQL(n int) string {
	cols := make([]string, len(auditColumns))
	for i, c := range auditColumns {
		cols[i] = s.dialect.quote(c)
	}
	row := "(" + qmarks(len(auditColumns)) + ")"
	return s.render(fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", s.dialect.quote(s.auditTable), strings.Join(cols, ", "),
		strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")))
}

// forgetChunk forgets one group of a batch, set-based when it can: then
// lookups and holds are checked customer by customer, and the writes of
// customers sharing a plan shape are a few statements. Should anything
// fail there, the group runs again on the per-customer path.
func (s *Store) forgetChunk(ctx context.Context, items []forget.BatchItem, group []batchItem, out []forget.BatchResult) {
	group = append([]batchItem(nil), group...) // the caller reuses its slice
	for len(group) > 0 {
		if s.bulk.off || len(group) < 2 {
			s.forgetGroup(ctx, items, group, out)
			return
		}
		rest, ok, failed := s.bulkGroup(ctx, items, group, out)
		if !ok {
			s.bulk.fallbacks.Add(1)
			s.forgetGroup(ctx, items, group, out)
			s.judgeShape(items, group, out, failed)
			return
		}
		group = rest
	}
}

// errNoBulk sends a group to the per-customer path.
var errNoBulk = errors.New("sqlstore: per-customer path")

// bulkGroup runs group set-based. It returns the items it left for a later
// round (a second forget of a customer the group already forgets), and
// false when the group must run on the per-customer path instead, nothing
// of it being committed.
func (s *Store) bulkGroup(ctx context.Context, items []forget.BatchItem, group []batchItem, out []forget.BatchResult) (rest []batchItem, ok bool, failed *bulkShape) {
	dryRun := items[group[0].at].Plan.DryRun
	shapes := make([]*bulkShape, len(group))
	for j, it := range group {
		sh, err := s.bulkShapeOf(items[it.at].Plan)
		if err != nil || sh.off.Load() {
			return nil, false, nil
		}
		shapes[j] = sh
	}
	results := make([]forget.BatchResult, len(group))
	var later []int
	err := s.retry(ctx, func() error {
		clear(results)
		later, failed = later[:0], nil
		tx, err := s.begin(ctx, dryRun)
		if err != nil {
			return err
		}
		defer func() {
			if err != nil || dryRun {
				tx.rollback(ctx)
			}
			tx.close()
		}()
		if s.dialect != Postgres {
			// Statements run per customer are prepared once (pgx
			// caches its statements itself).
			tx.reusePrepared()
		}
		b := bulkRun{s: s, tx: tx, items: items, group: group, shapes: shapes, results: results}
		if err = b.run(ctx); err != nil {
			failed = b.failed
			return err
		}
		later = b.later
		if dryRun {
			return nil
		}
		if err = tx.commit(ctx); err != nil {
			return &commitError{fmt.Errorf("sqlstore: commit: %w", safeError(err))}
		}
		return nil
	})
	switch {
	case err == nil:
		rest = make([]batchItem, 0, len(later))
		isLater := make(map[int]bool, len(later))
		for _, j := range later {
			isLater[j] = true
			rest = append(rest, group[j])
		}
		for j, it := range group {
			if !isLater[j] {
				out[it.at] = results[j]
			}
		}
		s.bulk.sets.Add(1)
		return rest, true, nil
	case ctx.Err() != nil:
		// Nothing committed. A request's own refusal (no such customer,
		// a conflict) stands; the others carry the interruption.
		cerr := fmt.Errorf("sqlstore: not committed: %w", ctx.Err())
		for j, it := range group {
			out[it.at] = forget.BatchResult{Err: cerr}
			if forget.Refused(results[j].Err) && standsAlone(results[j].Err) {
				out[it.at] = results[j]
			}
		}
		return nil, true, nil
	}
	if s.dialect.retryable(err) || errors.Is(err, errNoBulk) {
		failed = nil
	}
	return nil, false, failed
}

// judgeShape is told how the per-customer path did with a group whose
// set-based statement of shape sh failed. When every customer of that
// shape then succeeded (or was refused on its own), the failure was the
// set-based statements' (a column type or collation they do not handle):
// after the second such time, the shape runs per customer for good.
func (s *Store) judgeShape(items []forget.BatchItem, group []batchItem, out []forget.BatchResult, sh *bulkShape) {
	if sh == nil {
		return
	}
	for _, it := range group {
		if o := out[it.at].Err; o != nil && !forget.Refused(o) {
			if shape, err := s.bulkShapeOf(items[it.at].Plan); err == nil && shape == sh {
				return // a customer failed: the set did not fail for nothing
			}
		}
	}
	if sh.strikes.Add(1) == 2 {
		sh.off.Store(true)
		s.log.Warn("sqlstore: the set-based statements of a plan shape failed where per-customer ones succeeded; that shape now runs per customer")
	}
}

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
}

func (b *bulkRun) plan(j int) forget.Plan { return b.items[b.group[j].at].Plan }

func (b *bulkRun) run(ctx context.Context) error {
	n := len(b.group)
	b.ids, b.texts, b.held = make([]any, n), make([]string, n), make([]string, n)
	if err := b.resolve(ctx); err != nil {
		return err
	}
	if err := b.holds(ctx); err != nil {
		return err
	}
	if err := b.write(ctx); err != nil {
		return err
	}
	return b.audit(ctx)
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
			return fmt.Errorf("sqlstore: resolve customers: %w", safeError(err))
		}
		found := make(map[string]int, len(part))
		for rows.Next() {
			var got string
			if err := rows.Scan(&got); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: resolve customers: %w", safeError(err))
			}
			found[got]++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: resolve customers: %w", ctxCause(ctx, safeError(err)))
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
			query, args, err := s.sb.Select("DISTINCT " + s.dialect.quote(h.CustomerKey)).From(s.dialect.quote(h.Table)).
				Where(sq.And{sq.Eq{s.dialect.quote(h.CustomerKey): keys}, holdCondition(s.dialect, h, now)}).ToSql()
			if err != nil {
				return fmt.Errorf("sqlstore: build hold %s: %w", h.Name, err)
			}
			rows, err := b.tx.query(ctx, query, args...)
			if err != nil {
				return fmt.Errorf("sqlstore: hold %s: %w", h.Name, safeError(err))
			}
			for rows.Next() {
				var got string
				if err := rows.Scan(&got); err != nil {
					rows.Close()
					return fmt.Errorf("sqlstore: hold %s: %w", h.Name, safeError(err))
				}
				j, ok := byText[got]
				if !ok {
					// Another spelling of a key (a collation): let the
					// per-customer path decide.
					rows.Close()
					return errNoBulk
				}
				b.held[j] = s.holds[hi].name
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("sqlstore: hold %s: %w", h.Name, ctxCause(ctx, safeError(err)))
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
				return fmt.Errorf("sqlstore: hold %s: %w", g.name, safeError(err))
			}
			if on {
				b.held[j] = g.name
			}
		}
	}
	return nil
}

// holdCondition renders a mapped hold's conditions as its single-customer
// statement does (see buildHolds), with relative times bound as of now.
func holdCondition(d Dialect, h Hold, now time.Time) sq.And {
	conds := sq.And{}
	for _, c := range h.Where {
		col := d.quote(c.Column)
		var cond sq.Sqlizer
		switch c.Op {
		case "=":
			cond = sq.Eq{col: c.Value}
		case "!=":
			cond = sq.NotEq{col: c.Value}
		case "<":
			cond = sq.Lt{col: c.Value}
		case "<=":
			cond = sq.LtOrEq{col: c.Value}
		case ">":
			cond = sq.Gt{col: c.Value}
		case ">=":
			cond = sq.GtOrEq{col: c.Value}
		case "in":
			cond = sq.Eq{col: c.Value.([]any)}
		case "is_null":
			cond = sq.Eq{col: nil}
		case "not_null":
			cond = sq.NotEq{col: nil}
		case "newer_than", "older_than":
			ago, _ := parseAgo(c.Value)
			at := d.timeArg(now.Add(-ago))
			if c.Op == "newer_than" {
				cond = sq.Gt{col: at}
			} else {
				cond = sq.Lt{col: at}
			}
		}
		conds = append(conds, cond)
	}
	return conds
}

// write erases every resolved, unheld customer: per shape, one statement
// per table for up to rowsPerStatement customers.
func (b *bulkRun) write(ctx context.Context) error {
	b.rows = make([]map[forget.Table]int64, len(b.group))
	var order []*bulkShape
	members := map[*bulkShape][]int{}
	for j := range b.group {
		if b.ids[j] == nil || b.held[j] != "" {
			continue
		}
		sh := b.shapes[j]
		if _, ok := members[sh]; !ok {
			order = append(order, sh)
		}
		members[sh] = append(members[sh], j)
		b.rows[j] = make(map[forget.Table]int64, len(sh.tables))
	}
	for _, sh := range order {
		all := members[sh]
		per := sh.rowsPerStatement(b.s.dialect)
		for start := 0; start < len(all); start += per {
			if err := b.writeShape(ctx, sh, all[start:min(start+per, len(all))]); err != nil {
				b.failed = sh
				return err
			}
		}
	}
	return nil
}

func (b *bulkRun) writeShape(ctx context.Context, sh *bulkShape, js []int) error {
	s := b.s
	n := len(js)
	for ui, u := range sh.updates {
		if s.dialect == SQLite {
			// A statement here is a function call, not a round trip:
			// one UPDATE prepared for the transaction and run per
			// customer costs less than parsing a VALUES list of
			// thousands of parameters for each group.
			for _, j := range js {
				if err := b.rowStatement(ctx, j, ui, nil); err != nil {
					return err
				}
			}
			continue
		}
		query := sh.cached(bulkSQLKey{sqlUpdate, ui, n}, func() string { return s.updateSQL(u, n) })
		args := make([]any, 0, n*(1+len(u.refs)))
		for _, j := range js {
			p := b.plan(j)
			args = append(args, b.ids[j])
			for _, ref := range u.refs {
				args = append(args, ref.value(p))
			}
		}
		if _, err := b.tx.q.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("sqlstore: update %s: %w", u.table, ctxCause(ctx, safeError(err)))
		}
	}
	byText := make(map[string]int, n)
	keys := make([]any, n)
	for i, j := range js {
		byText[b.texts[j]] = j
		keys[i] = b.ids[j]
	}
	for ti, t := range sh.tables {
		if s.dialect == MySQL {
			if err := b.writeTableMySQL(ctx, sh, ti, t, js, byText, keys); err != nil {
				return err
			}
			continue
		}
		query := sh.cached(bulkSQLKey{sqlTable, ti, n}, func() string { return s.tableSQL(t, n) })
		args := keys
		if len(t.cols) > 0 {
			args = b.scrubArgs(t, js)
		}
		rows, err := b.tx.q.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("sqlstore: %s %s: %w", verb(query), t.table, ctxCause(ctx, safeError(err)))
		}
		for _, j := range js {
			b.rows[j][t.name] = 0
		}
		for rows.Next() {
			var got string
			if err := rows.Scan(&got); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: %s: %w", t.table, safeError(err))
			}
			j, ok := byText[got]
			if !ok {
				rows.Close()
				return errNoBulk // a row under another spelling of a key
			}
			b.rows[j][t.name]++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", t.table, ctxCause(ctx, safeError(err)))
		}
	}
	return nil
}

// rowStatement runs statement step of customer j's own script, prepared
// once for the transaction; counted names the table whose rows it counts.
func (b *bulkRun) rowStatement(ctx context.Context, j, step int, counted *forget.Table) error {
	st := b.group[j].sc.stmts[step]
	p := b.plan(j)
	args := make([]any, 0, len(st.from)+1)
	for _, ref := range st.from {
		args = append(args, ref.value(p))
	}
	args = append(args, b.ids[j])
	r, err := b.tx.exec(ctx, st.sql, args...)
	var n int64
	if err == nil && counted != nil {
		n, err = r.RowsAffected()
	}
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", verb(st.sql), safeError(err))
	}
	if counted != nil {
		b.rows[j][*counted] = n
	}
	return nil
}

func (b *bulkRun) scrubArgs(t bulkTable, js []int) []any {
	args := make([]any, 0, len(js)*(1+len(t.refs)))
	for _, j := range js {
		p := b.plan(j)
		args = append(args, b.ids[j])
		for _, ref := range t.refs {
			args = append(args, ref.value(p))
		}
	}
	return args
}

// writeTableMySQL purges a table on MySQL, which has no RETURNING: the
// rows are counted, and locked, first. A scrub runs each customer's own
// UPDATE, since MySQL counts only the rows an UPDATE changes, and the
// receipts must count as a single forget does.
func (b *bulkRun) writeTableMySQL(ctx context.Context, sh *bulkShape, ti int, t bulkTable, js []int, byText map[string]int, keys []any) error {
	s := b.s
	if len(t.cols) > 0 {
		for _, j := range js {
			if err := b.rowStatement(ctx, j, t.step, &t.name); err != nil {
				return err
			}
		}
		return nil
	}
	n := len(js)
	rows, err := b.tx.q.QueryContext(ctx, sh.cached(bulkSQLKey{sqlCount, ti, n}, func() string { return s.countSQL(t, n) }), keys...)
	if err != nil {
		return fmt.Errorf("sqlstore: count %s: %w", t.table, ctxCause(ctx, safeError(err)))
	}
	for _, j := range js {
		b.rows[j][t.name] = 0
	}
	var total int64
	for rows.Next() {
		var got string
		var c int64
		if err := rows.Scan(&got, &c); err != nil {
			rows.Close()
			return fmt.Errorf("sqlstore: count %s: %w", t.table, safeError(err))
		}
		j, ok := byText[got]
		if !ok {
			rows.Close()
			return errNoBulk
		}
		b.rows[j][t.name] += c
		total += c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: count %s: %w", t.table, ctxCause(ctx, safeError(err)))
	}
	r, err := b.tx.q.ExecContext(ctx, sh.cached(bulkSQLKey{sqlTable, ti, n}, func() string { return s.tableSQL(t, n) }), keys...)
	var deleted int64
	if err == nil {
		deleted, err = r.RowsAffected()
	}
	if err != nil {
		return fmt.Errorf("sqlstore: delete %s: %w", t.table, ctxCause(ctx, safeError(err)))
	}
	if deleted != total {
		return errNoBulk // cannot happen with the rows locked; be exact anyway
	}
	return nil
}

// audit records every forget and refusal of the group, in request order,
// with one multi-row INSERT, and sets the outcomes.
func (b *bulkRun) audit(ctx context.Context) error {
	s := b.s
	var records []forget.Receipt
	for j := range b.group {
		if b.ids[j] == nil {
			continue
		}
		p := b.plan(j)
		if b.held[j] != "" {
			b.results[j] = forget.BatchResult{
				Result: forget.Result{CustomerID: b.texts[j], Rows: make(map[forget.Table]int64, len(p.Tables))},
				Err:    &forget.HeldError{Hold: b.held[j]},
			}
			if s.auditTable != "" && !p.DryRun {
				records = append(records, refusal(p.Receipt(forget.Result{CustomerID: b.texts[j]}), b.held[j]))
			}
			continue
		}
		res := forget.Result{CustomerID: b.texts[j], Rows: b.rows[j]}
		b.results[j] = forget.BatchResult{Result: res}
		if s.auditTable != "" {
			records = append(records, p.Receipt(res))
		}
	}
	if s.dialect == SQLite {
		// As for the field updates: on SQLite, the single-record INSERT
		// prepared for the transaction beats parsing thousands of
		// parameters.
		for _, rc := range records {
			vals, err := auditValues(rc)
			if err != nil {
				return err
			}
			if _, err := b.tx.exec(ctx, s.auditInsert, vals...); err != nil {
				return fmt.Errorf("sqlstore: audit: %w", ctxCause(ctx, safeError(err)))
			}
		}
		return nil
	}
	per := max(1, s.dialect.maxParams()/len(auditColumns))
	for start := 0; start < len(records); start += per {
		part := records[start:min(start+per, len(records))]
		args := make([]any, 0, len(part)*len(auditColumns))
		for _, rc := range part {
			vals, err := auditValues(rc)
			if err != nil {
				return err
			}
			args = append(args, vals...)
		}
		if _, err := b.tx.q.ExecContext(ctx, s.auditSQL(len(part)), args...); err != nil {
			return fmt.Errorf("sqlstore: audit: %w", ctxCause(ctx, safeError(err)))
		}
	}
	return nil
}

// auditValues are rc's values for the audit INSERT, in auditColumns
// order, as [Store.audit] writes them.
func auditValues(rc forget.Receipt) ([]any, error) {
	deleted, err := json.Marshal(rc.RowsDeleted)
	if err != nil {
		return nil, err
	}
	scrubbed, err := json.Marshal(rc.RowsScrubbed)
	if err != nil {
		return nil, err
	}
	at := rc.At.UTC().Format(auditTimeFormat)
	var published any // NULL: the relay's to publish
	if rc.Held != "" {
		published = at
	}
	return []any{rc.EventID, rc.CustomerID, at, rc.Principal, rc.RequestID,
		joinNames(rc.FieldsErased), joinNames(rc.FieldsKept), joinNames(rc.TablesKept),
		string(deleted), string(scrubbed), joinNames(rc.HoldsIgnored), rc.Held, published}, nil
}
