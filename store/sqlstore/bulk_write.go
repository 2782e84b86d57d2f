package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/forgetkit/forget"
)

// The writes of a set-based attempt: the erasures, shape by shape, and
// the audit records (see bulk.go).

// write erases every resolved, unheld customer: per shape, one statement
// per table for up to rowsPerStatement customers.
func (b *bulkRun) write(ctx context.Context) error {
	b.rows = make([]map[forget.Table]int64, len(b.group))
	b.updated, b.unwritten = make([]map[string]int64, len(b.group)), make([][]forget.Field, len(b.group))
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
		if u.table != s.schema.Customers.Table {
			// A joined table: each customer's own statement, counted
			// as the per-customer path counts it (a customer may have
			// no row there, or several).
			for _, j := range js {
				if err := b.rowStatement(ctx, j, ui); err != nil {
					return err
				}
			}
			continue
		}
		for _, j := range js {
			if b.updated[j] == nil {
				b.updated[j] = make(map[string]int64, len(sh.updates))
			}
			b.updated[j][u.table] = 1 // the row resolved and locked
		}
		per := n
		if s.dialect == SQLite {
			per = sqliteRows
		}
		var args []any
		fixed := make([]bool, len(u.refs))
		for start := 0; start < n; start += per {
			part := js[start:min(start+per, n)]
			k := len(part)
			first := b.plan(part[0])
			for c, ref := range u.refs {
				v := ref.raw(first)
				fixed[c] = true
				for _, j := range part[1:] {
					if ref.raw(b.plan(j)) != v {
						fixed[c] = false
						break
					}
				}
			}
			query := sh.cached(bulkSQLKey{kind: sqlUpdate, index: ui, rows: k, fixed: string(mask(fixed)), cast: s.valuesKeyCast()}, func() string { return s.updateSQL(u, k, fixed) })
			args = args[:0]
			constants := func() {
				for c, ref := range u.refs {
					if fixed[c] {
						args = append(args, ref.value(first))
					}
				}
			}
			if s.dialect == Postgres {
				constants()
			}
			for _, j := range part {
				p := b.plan(j)
				args = append(args, b.ids[j])
				for c, ref := range u.refs {
					if !fixed[c] {
						args = append(args, ref.value(p))
					}
				}
			}
			if s.dialect != Postgres {
				constants()
			}
			if err := b.exec(ctx, query, args); err != nil {
				return fmt.Errorf("sqlstore: update %s: %w", u.table, ctxCause(ctx, b.s.scrubbedError(err, args...)))
			}
		}
	}
	if s.dialect == SQLite {
		return b.purgeEach(ctx, sh, js)
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
		query := sh.cached(bulkSQLKey{kind: sqlTable, index: ti, rows: n, cast: s.valuesKeyCast()}, func() string { return s.tableSQL(t, n) })
		args := keys
		if len(t.cols) > 0 {
			args = b.scrubArgs(t, js)
		}
		rows, err := b.tx.q.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("sqlstore: %s %s: %w", verb(query), t.table, ctxCause(ctx, b.s.scrubbedError(err, args...)))
		}
		for _, j := range js {
			b.rows[j][t.name] = 0
		}
		// A row under another spelling of a key: the per-customer path.
		if err := eachKey(rows, byText, func(j int) { b.rows[j][t.name]++ }); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", t.table, ctxCause(ctx, err))
		}
	}
	return nil
}

// purgeEach purges (or scrubs) the catalogue tables of customers js on
// SQLite with each customer's own statement, prepared once for the
// transaction, which counts its rows for free: a DELETE … IN (…)
// RETURNING cost 1.6 times as much there, where a statement is a call,
// not a round trip (measured: 20,000 demo customers, two purged tables,
// 81 ms against 133 ms).
func (b *bulkRun) purgeEach(ctx context.Context, sh *bulkShape, js []int) error {
	for _, t := range sh.tables {
		for _, j := range js {
			if err := b.rowStatement(ctx, j, t.step); err != nil {
				return err
			}
		}
	}
	return nil
}

// rowStatement runs statement step of customer j's own script, prepared
// once for the transaction, and counts what it wrote as the per-customer
// path does.
func (b *bulkRun) rowStatement(ctx context.Context, j, step int) error {
	sc := b.group[j].sc
	st := sc.stmts[step]
	p := b.plan(j)
	args := make([]any, 0, len(st.from)+1)
	for _, ref := range st.from {
		args = append(args, ref.value(p))
	}
	args = append(args, b.ids[j])
	n, err := b.s.runStatement(ctx, b.tx, st, args, func(ctx context.Context, query string, args ...any) (sql.Result, error) {
		return b.execPrepared(ctx, query, args)
	})
	if err != nil {
		return err
	}
	res := forget.Result{Rows: b.rows[j], Updated: b.updated[j], Unwritten: b.unwritten[j]}
	countWritten(&res, sc, step, n, p)
	b.updated[j], b.unwritten[j] = res.Updated, res.Unwritten
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
			if err := b.rowStatement(ctx, j, t.step); err != nil {
				return err
			}
		}
		return nil
	}
	n := len(js)
	rows, err := b.tx.q.QueryContext(ctx, sh.cached(bulkSQLKey{kind: sqlCount, index: ti, rows: n}, func() string { return s.countSQL(t, n) }), keys...)
	if err != nil {
		return fmt.Errorf("sqlstore: count %s: %w", t.table, ctxCause(ctx, b.s.scrubbedError(err, keys...)))
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
			return fmt.Errorf("sqlstore: count %s: %w", t.table, b.s.scrubbedError(err, keys...))
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
		return fmt.Errorf("sqlstore: count %s: %w", t.table, ctxCause(ctx, b.s.scrubbedError(err, keys...)))
	}
	r, err := b.tx.q.ExecContext(ctx, sh.cached(bulkSQLKey{kind: sqlTable, index: ti, rows: n, cast: s.valuesKeyCast()}, func() string { return s.tableSQL(t, n) }), keys...)
	var deleted int64
	if err == nil {
		deleted, err = r.RowsAffected()
	}
	if err != nil {
		return fmt.Errorf("sqlstore: delete %s: %w", t.table, ctxCause(ctx, b.s.scrubbedError(err, keys...)))
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
	var planIDs []string // each record's plan's event id, for a refusal's placeholder
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
				planIDs = append(planIDs, p.Record.EventID)
			}
			continue
		}
		res := forget.Result{CustomerID: b.texts[j], Rows: b.rows[j], Updated: b.updated[j], Unwritten: b.unwritten[j]}
		b.results[j] = forget.BatchResult{Result: res}
		if s.auditTable != "" {
			records = append(records, p.Receipt(res))
			planIDs = append(planIDs, p.Record.EventID)
		}
	}
	per := max(1, s.dialect.maxParams()/len(auditColumns))
	if s.dialect == SQLite {
		per = sqliteRows
	}
	width := len(auditColumns)
	var vals, args []any
	fixed := make([]bool, width)
	for start := 0; start < len(records); start += per {
		part := records[start:min(start+per, len(records))]
		vals = vals[:0]
		for r, rc := range part {
			v, err := s.auditRow(rc, planIDs[start+r])
			if err != nil {
				return err
			}
			vals = append(vals, v...)
		}
		// On SQLite, as for the field updates, a column the same in
		// every record (the principal, the lists of a plan shape) is
		// bound once.
		for c := range fixed {
			fixed[c] = s.dialect == SQLite
			for r := 1; fixed[c] && r < len(part); r++ {
				fixed[c] = vals[r*width+c] == vals[c]
			}
		}
		args = args[:0]
		for r := range part {
			for c := range width {
				if !fixed[c] {
					args = append(args, vals[r*width+c])
				}
			}
		}
		for c := range width {
			if fixed[c] {
				args = append(args, vals[c])
			}
		}
		if err := b.exec(ctx, s.auditSQL(len(part), fixed), args); err != nil {
			return fmt.Errorf("sqlstore: audit: %w", ctxCause(ctx, s.scrubbedError(err, args...)))
		}
	}
	return nil
}

// exec runs a set-based statement: on SQLite prepared once for the
// transaction (it runs again for every sqliteRows customers), elsewhere
// as it is, a round trip either way.
func (b *bulkRun) exec(ctx context.Context, query string, args []any) error {
	var err error
	if b.s.dialect == SQLite {
		_, err = b.execPrepared(ctx, query, args)
	} else {
		_, err = b.tx.q.ExecContext(ctx, query, args...)
	}
	return err
}

// execPrepared runs a statement prepared once for the transaction. On
// SQLite it gets ctx without its cancellation, checked here instead:
// modernc.org/sqlite starts a goroutine to watch a cancellable context
// for every statement, a fifth of the time of a customer's DELETE
// (measured), and these statements, a customer or a few dozen by key,
// end within a millisecond, after which the next one sees ctx end.
func (b *bulkRun) execPrepared(ctx context.Context, query string, args []any) (sql.Result, error) {
	if b.s.dialect != SQLite {
		return b.tx.exec(ctx, query, args...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if b.quiet == nil {
		b.quiet = context.WithoutCancel(ctx)
	}
	return b.tx.exec(b.quiet, query, args...)
}

// countsJSON is json.Marshal(m) for auditRow, written directly when no
// table name needs escaping, as catalogue names do not: it runs for every
// record.
func countsJSON(m map[forget.Table]int64) (string, error) {
	if m == nil {
		return "null", nil
	}
	names := make([]string, 0, len(m))
	for t := range m {
		if !plainJSON(string(t)) {
			b, err := json.Marshal(m)
			return string(b), err
		}
		names = append(names, string(t))
	}
	slices.Sort(names) // as json.Marshal orders a map's keys
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, n...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, m[forget.Table(n)], 10)
	}
	return string(append(b, '}')), nil
}

// plainJSON reports whether s is written in JSON as it is: ASCII letters,
// digits, '_', '.' and '-' (encoding/json escapes <, > and &, quotes,
// control and non-ASCII characters of some kinds).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// eachKey calls fn with the customer (in byText) of the key in the first
// column of every row, and closes rows. A key of no customer there, which
// another spelling of one (a collation) would be, is errNoBulk.
func eachKey(rows *sql.Rows, byText map[string]int, fn func(j int)) error {
	defer rows.Close()
	for rows.Next() {
		var got string
		if err := rows.Scan(&got); err != nil {
			return safeError(err)
		}
		j, ok := byText[got]
		if !ok {
			return errNoBulk
		}
		fn(j)
	}
	return safeError(rows.Err())
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
