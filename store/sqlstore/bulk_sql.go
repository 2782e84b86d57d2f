package sqlstore

import (
	"fmt"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// The text of the set-based statements, per dialect (see bulk.go).

// maxParams bounds the parameters of one statement: SQLite allows 32,766,
// PostgreSQL and MySQL 65,535.
func (d Dialect) maxParams() int {
	if d == SQLite {
		return 32000
	}
	return 65000
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
// VALUES list the customer key and its new values. A column fixed (the
// same value for all n, as an empty or fixed rule writes) is set from one
// parameter instead: a third of the parameters for the default catalogue.
// Parameters come in text order: on PostgreSQL the fixed ones (in SET)
// before the rows (in FROM), elsewhere after them.
func (s *Store) updateSQL(u planUpdate, n int, fixed []bool) string {
	q := s.dialect.quote
	var b strings.Builder
	var names []string // of the VALUES columns, by column; "" for a fixed one
	width := 0
	for i := range u.cols {
		if fixed != nil && fixed[i] {
			names = append(names, "")
			continue
		}
		width++
		names = append(names, fmt.Sprintf("c%d", i+1))
	}
	set := func(prefix string) {
		for i, c := range u.cols {
			if i > 0 {
				b.WriteString(", ")
			}
			if names[i] == "" {
				fmt.Fprintf(&b, "%s%s = ?", prefix, q(c))
			} else {
				fmt.Fprintf(&b, "%s%s = v.%s", prefix, q(c), names[i])
			}
		}
	}
	var carried []string
	for _, nm := range names {
		if nm != "" {
			carried = append(carried, nm)
		}
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
				if s.keyType(forget.KeyCustomerID) == KeyInt {
					parts[0] = "CAST(? AS SIGNED) AS k"
				}
				for _, nm := range carried {
					parts = append(parts, "? AS "+nm)
				}
				b.WriteString(strings.Join(parts, ", "))
			} else {
				b.WriteString(qmarks(1 + width))
			}
		}
		fmt.Fprintf(&b, ") AS v ON %s = v.k SET ", target)
		set(q(u.table) + ".")
	default:
		values := make([]string, n)
		for i := range values {
			key := "?"
			if i == 0 && s.dialect == Postgres {
				key = s.valuesKeyCast() // a VALUES column of parameters is text otherwise
			}
			values[i] = "(" + key + strings.Repeat(", ?", width) + ")"
		}
		cols := strings.Join(append([]string{"k"}, carried...), ", ")
		if s.dialect == SQLite {
			// OR FAIL: the statement's own rows need no journal of
			// their own (SQLite keeps one for a multi-row statement
			// that may abort), since any failure rolls back the whole
			// transaction.
			fmt.Fprintf(&b, "WITH v(%s) AS (VALUES %s) UPDATE OR FAIL %s SET ", cols, strings.Join(values, ", "), q(u.table))
		} else {
			fmt.Fprintf(&b, "UPDATE %s SET ", q(u.table))
		}
		set("")
		if s.dialect == SQLite {
			b.WriteString(" FROM v")
		} else {
			fmt.Fprintf(&b, " FROM (VALUES %s) AS v(%s)", strings.Join(values, ", "), cols)
		}
		fmt.Fprintf(&b, " WHERE %s = v.k", target)
	}
	return s.render(b.String())
}

// valuesKeyCast is the first customer key of a PostgreSQL VALUES list,
// cast to the type the key column compares with: there is no bigint =
// text, nor uuid = text.
func (s *Store) valuesKeyCast() string {
	switch {
	case s.keyType(forget.KeyCustomerID) == KeyInt:
		return "CAST(? AS BIGINT)"
	case s.uuidColumn():
		return "CAST(? AS uuid)"
	}
	return "?"
}

// tableSQL purges (or scrubs) a table's rows of n customers and, on
// PostgreSQL, returns the customer key of every row it touched, so that
// each customer's receipt gets its own count (SQLite runs each customer's
// own statement instead: see writeShape).
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
	u := planUpdate{table: t.table, key: t.key, cols: t.cols}
	query := s.updateSQL(u, n, nil)
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

// auditSQL inserts n audit records; on SQLite the columns fixed are bound
// once, after the rows (see updateSQL).
func (s *Store) auditSQL(n int, fixed []bool) string {
	key := bulkSQLKey{rows: n, fixed: string(mask(fixed))}
	s.bulk.mu.Lock()
	defer s.bulk.mu.Unlock()
	if q, ok := s.bulk.audit[key]; ok {
		return q
	}
	cols := make([]string, len(auditColumns))
	for i, c := range auditColumns {
		cols[i] = s.dialect.quote(c)
	}
	var query string
	if s.dialect == SQLite {
		var carried, selected []string
		for i := range auditColumns {
			if fixed[i] {
				selected = append(selected, "?")
				continue
			}
			name := fmt.Sprintf("c%d", i+1)
			carried = append(carried, name)
			selected = append(selected, "v."+name)
		}
		row := "(" + qmarks(len(carried)) + ")"
		if len(carried) == 0 {
			carried, row = []string{"c0"}, "(NULL)" // one record: every column fixed
		}
		query = fmt.Sprintf("WITH v(%s) AS (VALUES %s) INSERT OR FAIL INTO %s (%s) SELECT %s FROM v", // OR FAIL: as updateSQL's
			strings.Join(carried, ", "), strings.TrimSuffix(strings.Repeat(row+", ", n), ", "),
			s.dialect.quote(s.auditTable), strings.Join(cols, ", "), strings.Join(selected, ", "))
	} else {
		row := "(" + qmarks(len(auditColumns)) + ")"
		query = s.render(fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", s.dialect.quote(s.auditTable), strings.Join(cols, ", "),
			strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")))
	}
	if s.bulk.audit == nil {
		s.bulk.audit = make(map[bulkSQLKey]string)
	}
	if len(s.bulk.audit) < 64 {
		s.bulk.audit[key] = query
	}
	return query
}

// mask renders fixed columns as 0s and 1s, for a key of a statement cache.
func mask(fixed []bool) []byte {
	m := make([]byte, len(fixed))
	for i, f := range fixed {
		m[i] = "01"[b2i(f)]
	}
	return m
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sqliteRows is how many customers one SQLite statement carries,
// prepared once for the transaction and run again for every sqliteRows
// customers. There a statement is a function call, not a round trip: a
// sweep's CPU time is the same as with one statement per customer
// (measured), and a VALUES list of thousands of parameters costs more to
// parse for each group than it saves.
const sqliteRows = 64
