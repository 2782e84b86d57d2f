package sqlstore

import (
	"fmt"
	"strings"

	"github.com/forgetkit/forget"
)

// The text of the set-based statements, per dialect (see bulk.go).

// maxParams bounds the parameters of one statement.
func (d Dialect) maxParams() int { return d.engine().maxParams }

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
func (s *Store) render(query string) string { return s.dialect.render(query) }

// updateSQL writes one table's fields for n customers, each row of the
// VALUES list the customer key and its new values. A column fixed (the
// same value for all n, as an empty or fixed rule writes) is set from one
// parameter instead: a third of the parameters for the default catalogue.
// Parameters come in text order: where the engine says fixedFirst the
// fixed ones (in SET) before the rows (in FROM), elsewhere after them.
// The statement's form is the engine's (updateSQL).
func (s *Store) updateSQL(u planUpdate, n int, fixed []bool) string {
	up := multiUpdate{s: s, u: u, n: n}
	for i := range u.cols {
		if fixed != nil && fixed[i] {
			up.names = append(up.names, "")
			continue
		}
		up.width++
		name := fmt.Sprintf("c%d", i+1)
		up.names = append(up.names, name)
		up.carried = append(up.carried, name)
	}
	return s.render(s.dialect.engine().updateSQL(&up))
}

// multiUpdate is one multi-row UPDATE to build: each engine's updateSQL
// writes its own form from it.
type multiUpdate struct {
	s       *Store
	u       planUpdate
	n       int      // rows
	names   []string // of the VALUES columns, by column; "" for a fixed one
	carried []string // the names that are not ""
	width   int      // len(carried)
}

// set writes the SET list, each column from its VALUES column or, fixed,
// from a parameter.
func (up *multiUpdate) set(b *strings.Builder, prefix string) {
	q := up.s.dialect.quote
	for i, c := range up.u.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		if up.names[i] == "" {
			fmt.Fprintf(b, "%s%s = ?", prefix, q(c))
		} else {
			fmt.Fprintf(b, "%s%s = v.%s", prefix, q(c), up.names[i])
		}
	}
}

// target is the customer key the rows join on.
func (up *multiUpdate) target() string {
	q := up.s.dialect.quote
	return q(up.u.table) + "." + q(up.u.key)
}

// values returns the VALUES rows, the first one's key first as it.
func (up *multiUpdate) values(first string) []string {
	values := make([]string, up.n)
	for i := range values {
		key := "?"
		if i == 0 {
			key = first
		}
		values[i] = "(" + key + strings.Repeat(", ?", up.width) + ")"
	}
	return values
}

// columns names the VALUES columns: k, the key, then the carried ones.
func (up *multiUpdate) columns() string {
	return strings.Join(append([]string{"k"}, up.carried...), ", ")
}

// fromValuesUpdate is UPDATE ... SET ... FROM (VALUES ...) AS v(...).
func fromValuesUpdate(up *multiUpdate, firstKey string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "UPDATE %s SET ", up.s.dialect.quote(up.u.table))
	up.set(&b, "")
	fmt.Fprintf(&b, " FROM (VALUES %s) AS v(%s)", strings.Join(up.values(firstKey), ", "), up.columns())
	fmt.Fprintf(&b, " WHERE %s = v.k", up.target())
	return b.String()
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
	returning := ""
	if s.dialect.engine().returning {
		returning = " RETURNING " + q(t.key)
	}
	if len(t.cols) == 0 {
		return s.render(fmt.Sprintf("DELETE FROM %s WHERE %s%s", q(t.table), in, returning))
	}
	// A scrub: the customer key first in each VALUES row, then the values.
	u := planUpdate{table: t.table, key: t.key, cols: t.cols}
	return s.updateSQL(u, n, nil) + returning
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

// auditSQL inserts n audit records; where the engine's insertFixedOnce,
// the columns fixed are bound once, after the rows (see updateSQL).
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
	query := s.dialect.engine().insertSQL(s, s.dialect.quote(s.auditTable), cols, n, fixed)
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

// valuesInsertSQL inserts n rows of cols into table with one VALUES
// list.
func valuesInsertSQL(s *Store, table string, cols []string, n int, _ []bool) string {
	row := "(" + qmarks(len(cols)) + ")"
	return s.render(fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", table, strings.Join(cols, ", "),
		strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")))
}
