package sqlstore

// What a migration reads of the live audit table: its shape and its
// recorded version.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	sq "github.com/Masterminds/squirrel"
)

// auditShape is what a migration needs to know of a table: its columns,
// nullable or not, and its indexes' names and definitions (lower case;
// "" where the engine gives none).
type auditShape struct {
	nullable map[string]bool
	indexes  map[string]string
	// host is what a host added to the table, where a step must rebuild
	// it (SQLite): a rebuild that dropped it would lose data.
	host hostObjects
}

// hostObjects are a host's additions to the audit table: its columns'
// quoted names and definitions, and the CREATE statements of its indexes
// and triggers, which a rebuild carries over.
type hostObjects struct {
	names, columns, objects []string
}

func (sh auditShape) exists() bool { return len(sh.nullable) > 0 }

func (sh auditShape) has(col string) bool { _, ok := sh.nullable[col]; return ok }

func (sh auditShape) hasIndex(name string) bool {
	_, ok := sh.indexes[strings.ToLower(name)]
	return ok
}

// eventColumnsAdded are the columns version 2 added.
var eventColumnsAdded = []string{"event_id", "holds_ignored", "held", "published_at"}

// version is the version a table's shape shows, for a table without a
// version row: 0 absent, 1 without the event columns, 2 with event_id
// NOT NULL, 3 without the certificate column, 4 the latest.
func (sh auditShape) version() int {
	if !sh.exists() {
		return 0
	}
	for _, c := range eventColumnsAdded {
		if !sh.has(c) {
			return 1
		}
	}
	if sh.nullable["held"] || sh.nullable["holds_ignored"] {
		return 1 // by hand: the columns are there, their constraints not
	}
	if !sh.nullable["event_id"] {
		return 2
	}
	if !sh.has("certificate") {
		return 3
	}
	return 4
}

// needsRebuild: a NOT NULL constraint differs from the latest shape's,
// which only a rebuild changes on SQLite.
func (sh auditShape) needsRebuild() bool {
	return !sh.nullable["event_id"] || sh.nullable["held"] || sh.nullable["holds_ignored"]
}

// after is the shape a dry run expects once step to has run.
func (sh auditShape) after(to int, bare string) auditShape {
	out := auditShape{nullable: map[string]bool{}, indexes: map[string]string{}, host: sh.host}
	for k, v := range sh.nullable {
		out.nullable[k] = v
	}
	for k, v := range sh.indexes {
		out.indexes[k] = v
	}
	switch to {
	case 2:
		for _, c := range eventColumnsAdded {
			if !out.has(c) {
				out.nullable[c] = c == "event_id" || c == "published_at"
			}
		}
		out.indexes[strings.ToLower(bare+"_event_id")] = ""
		out.indexes[strings.ToLower(bare+"_unpublished")] = ""
	case 3:
		out.nullable["event_id"] = true
	case 4:
		out.nullable["certificate"] = true
	}
	return out
}

// migrateSQL is how Migrate runs on an engine (see engine).
type migrateSQL struct {
	// begin starts a step on c, holding the lock that keeps two
	// migrators apart, and returns what runs the step's statements; end
	// commits (ok) or rolls back, and releases the lock.
	begin func(ctx context.Context, c *sql.Conn, key string) (x migrateExec, end func(ok bool) error, err error)
	// columnsSQL selects (name, 'YES' or 'NO' for nullable) and
	// indexesSQL (name, definition) of a table, given its schema ("": the
	// connection's) and name, or its name alone where schemaArg is false.
	columnsSQL, indexesSQL string
	schemaArg              bool
	// host, where set, reads what a host added to table (see hostObjects).
	host func(ctx context.Context, c queryer, d Dialect, table string) (hostObjects, error)
	// step returns the statements that bring table, of shape sh, to
	// version to, each safe to run again (MySQL resumes a step whose DDL
	// committed halfway).
	step func(d Dialect, table string, sh auditShape, to int) []string
}

// splitTable splits a qualified name into its schema and bare name.
func splitTable(table string) (schema, bare string) {
	if i := strings.LastIndexByte(table, '.'); i >= 0 {
		return table[:i], table[i+1:]
	}
	return "", table
}

// sibling is name in table's schema.
func sibling(table, name string) string {
	if schema, _ := splitTable(table); schema != "" {
		return schema + "." + name
	}
	return name
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// migrateExec is a connection or a transaction.
type migrateExec interface {
	queryer
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func readShape(ctx context.Context, c queryer, d Dialect, table string) (auditShape, error) {
	m := d.engine().migrate
	schema, bare := splitTable(table)
	args := []any{bare}
	if m.schemaArg {
		args = []any{schema, bare}
	}
	sh := auditShape{nullable: map[string]bool{}, indexes: map[string]string{}}
	read := func(query string, put func(a, b string)) error {
		rows, err := c.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a, b sql.NullString
			if err := rows.Scan(&a, &b); err != nil {
				return err
			}
			put(strings.ToLower(a.String), strings.ToLower(b.String))
		}
		return rows.Err()
	}
	if err := read(m.columnsSQL, func(name, null string) { sh.nullable[name] = null == "yes" }); err != nil {
		return sh, fmt.Errorf("read the columns of %s: %w", table, safeError(err))
	}
	if err := read(m.indexesSQL, func(name, def string) { sh.indexes[name] = def }); err != nil {
		return sh, fmt.Errorf("read the indexes of %s: %w", table, safeError(err))
	}
	if m.host != nil && sh.exists() {
		h, err := m.host(ctx, c, d, table)
		if err != nil {
			return sh, err
		}
		sh.host = h
	}
	return sh, nil
}

// recordedVersion reads table's version row (0, false without one).
func recordedVersion(ctx context.Context, c queryer, d Dialect, table string) (int, bool, error) {
	e := d.engine()
	vt := sibling(table, SchemaVersionTable)
	vsh, err := readShape(ctx, c, d, vt)
	if err != nil || !vsh.exists() {
		return 0, false, err
	}
	_, bare := splitTable(table)
	query, args, err := sq.Select(d.quote("version")).From(d.quote(vt)).Where(sq.Eq{d.quote("audit_table"): bare}).PlaceholderFormat(e.placeholder).ToSql()
	if err != nil {
		return 0, false, err
	}
	rows, err := c.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, false, fmt.Errorf("read %s: %w", vt, safeError(err))
	}
	defer rows.Close()
	if !rows.Next() {
		return 0, false, safeError(rows.Err())
	}
	var v int
	if err := rows.Scan(&v); err != nil {
		return 0, false, fmt.Errorf("read %s: %w", vt, safeError(err))
	}
	return v, true, rows.Close()
}

// schemaState is table's version: its row's, else its shape's.
func schemaState(ctx context.Context, c queryer, d Dialect, table string) (int, auditShape, error) {
	sh, err := readShape(ctx, c, d, table)
	if err != nil {
		return 0, sh, err
	}
	v, ok, err := recordedVersion(ctx, c, d, table)
	if err != nil {
		return 0, sh, err
	}
	if !ok || !sh.exists() {
		v = sh.version()
		if v >= 2 {
			stuck, err := unsendable(ctx, c, d, table)
			if err != nil {
				return 0, sh, err
			}
			if stuck {
				v = 1 // a table completed by hand: step 2 repairs its records
			}
		}
	}
	return v, sh, nil
}

// unsendable reports whether the audit table holds a record that no relay
// can send and that hides its customer's later events: an erasure without
// an event id, or one whose held is NULL (an audit table completed by
// hand rather than migrated). Only a table without a version row is read.
func unsendable(ctx context.Context, c queryer, d Dialect, table string) (bool, error) {
	q := d.quote
	query := fmt.Sprintf("SELECT 1 FROM %s WHERE %s IS NULL OR ((%s IS NULL OR %s = '') AND %s = '')%s",
		q(table), q("held"), q("event_id"), q("event_id"), q("held"), d.engine().limit(1))
	rows, err := c.QueryContext(ctx, query)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", table, safeError(err))
	}
	defer rows.Close()
	found := rows.Next()
	return found, safeError(rows.Err())
}
