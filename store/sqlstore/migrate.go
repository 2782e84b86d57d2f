package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"
)

// Versioned migrations of the tables forget owns (the audit table, which
// is also the outbox). A small list in the manner of river's rivermigrate
// rather than goose or golang-migrate: the SQL differs per engine and per
// audit table name, and a step must read the table's shape to be
// resumable on MySQL, whose DDL commits implicitly; a library of numbered
// SQL files would fit neither.

// SchemaVersion is the version of the audit table this release writes.
const SchemaVersion = 3

// SchemaVersionTable records each audit table's version, one row per
// audit table (several may share a database), beside the audit table (in
// its schema, when its name is qualified).
const SchemaVersionTable = "forget_schema_version"

// schemaVersions names each version; versions[v-1] is version v.
var schemaVersions = []string{
	1: "before erasure events: the audit trail alone",
	2: "v0.1.0: erasure events (event_id, holds_ignored, held, published_at; event and unpublished indexes)",
	3: "v0.2.0: refusals carry no event (event_id may be NULL; the unpublished index skips refusals)",
}

// MigrateOptions says what Migrate migrates and how.
type MigrateOptions struct {
	// AuditTable is the audit table to migrate (DefaultAuditTable when
	// empty).
	AuditTable string
	// DryRun returns the statements without running any.
	DryRun bool
}

// MigrationStep is one version's statements.
type MigrationStep struct {
	Version    int
	Name       string
	Statements []string
}

// MigrateResult is what Migrate did, or would do on a dry run: the
// version found (0: no audit table), the version reached, the steps.
type MigrateResult struct {
	From, To int
	Steps    []MigrationStep
}

// SchemaVersionError is an audit table at another version than this
// release's: behind (run Migrate, or forget migrate) or ahead (made by a
// newer release).
type SchemaVersionError struct {
	Table      string
	Have, Want int
}

func (e *SchemaVersionError) Error() string {
	if e.Have > e.Want {
		return fmt.Sprintf("sqlstore: audit table %s is at schema version %d, newer than this release's %d: it was made by a newer release of forget; run that release", e.Table, e.Have, e.Want)
	}
	return fmt.Sprintf("sqlstore: audit table %s is at schema version %d, behind this release's %d: run 'forget migrate' (sqlstore.Migrate) first", e.Table, e.Have, e.Want)
}

// auditShape is what a migration needs to know of a table: its columns,
// nullable or not, and its indexes' names and definitions (lower case;
// "" where the engine gives none).
type auditShape struct {
	nullable map[string]bool
	indexes  map[string]string
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
// NOT NULL, 3 the latest.
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
	return 3
}

// needsRebuild: a NOT NULL constraint differs from the latest shape's,
// which only a rebuild changes on SQLite.
func (sh auditShape) needsRebuild() bool {
	return !sh.nullable["event_id"] || sh.nullable["held"] || sh.nullable["holds_ignored"]
}

// after is the shape a dry run expects once step to has run.
func (sh auditShape) after(to int, bare string) auditShape {
	out := auditShape{nullable: map[string]bool{}, indexes: map[string]string{}}
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

func readShape(ctx context.Context, c queryer, m migrateSQL, table string) (auditShape, error) {
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
	return sh, nil
}

// recordedVersion reads table's version row (0, false without one).
func recordedVersion(ctx context.Context, c queryer, d Dialect, table string) (int, bool, error) {
	e := d.engine()
	vt := sibling(table, SchemaVersionTable)
	vsh, err := readShape(ctx, c, e.migrate, vt)
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
	sh, err := readShape(ctx, c, d.engine().migrate, table)
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

// SchemaVersionOf returns the version of the audit table in db: its
// version row's, or, for a table made before version rows, the version
// its columns show; 0 when the table does not exist.
func SchemaVersionOf(ctx context.Context, db *sql.DB, d Dialect, table string) (int, error) {
	if d.engine() == nil {
		return 0, fmt.Errorf("sqlstore: unknown dialect %v", d)
	}
	if table == "" {
		table = DefaultAuditTable
	}
	if !validIdent(table) {
		return 0, fmt.Errorf("sqlstore: audit table %q is not a plain identifier", table)
	}
	v, _, err := schemaState(ctx, db, d, table)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: schema version: %w", err)
	}
	return v, nil
}

// CheckSchemaVersion returns a *SchemaVersionError when the audit table
// exists at another version than SchemaVersion, nil when it is current
// or does not exist (Verify reports a missing table).
func CheckSchemaVersion(ctx context.Context, db *sql.DB, d Dialect, table string) error {
	v, err := SchemaVersionOf(ctx, db, d, table)
	if err != nil || v == 0 || v == SchemaVersion {
		return err
	}
	if table == "" {
		table = DefaultAuditTable
	}
	return &SchemaVersionError{Table: table, Have: v, Want: SchemaVersion}
}

// Migrate brings the audit table in db to SchemaVersion, one version at a
// time, each in its own transaction where the engine has transactional
// DDL (PostgreSQL, SQLite) and under a lock two migrators share
// (pg_advisory_xact_lock, BEGIN IMMEDIATE, GET_LOCK), recording the
// version reached after each step. A missing table is created at the
// latest version. A table without a version row is placed by its
// columns. Running it again is a no-op; a table ahead of this release is
// refused. With DryRun it returns the statements and runs none.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, opts MigrateOptions) (MigrateResult, error) {
	e := d.engine()
	if e == nil {
		return MigrateResult{}, fmt.Errorf("sqlstore: unknown dialect %v", d)
	}
	table := opts.AuditTable
	if table == "" {
		table = DefaultAuditTable
	}
	if !validIdent(table) {
		return MigrateResult{}, fmt.Errorf("sqlstore: audit table %q is not a plain identifier", table)
	}
	if opts.DryRun {
		return dryRun(ctx, db, d, table)
	}
	c, err := db.Conn(ctx)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("sqlstore: migrate: %w", safeError(err))
	}
	defer c.Close()
	res := MigrateResult{From: -1}
	for {
		step, done, err := migrateOnce(ctx, c, d, table, &res)
		if err != nil {
			return res, fmt.Errorf("sqlstore: migrate %s: %w", table, err)
		}
		if done {
			return res, nil
		}
		res.Steps = append(res.Steps, step)
	}
}

// migrateOnce runs the next step under the lock, reading the version
// again inside it: another migrator may have run it meanwhile.
func migrateOnce(ctx context.Context, c *sql.Conn, d Dialect, table string, res *MigrateResult) (step MigrationStep, done bool, err error) {
	e := d.engine()
	x, end, err := e.migrate.begin(ctx, c, "forget_migrate:"+table)
	if err != nil {
		return step, false, safeError(err)
	}
	ok := false
	defer func() {
		if endErr := end(ok); endErr != nil && err == nil {
			err = safeError(endErr)
		}
	}()
	v, sh, err := schemaState(ctx, x, d, table)
	if err != nil {
		return step, false, err
	}
	if res.From < 0 {
		res.From = v
	}
	res.To = v
	if v > SchemaVersion {
		return step, false, &SchemaVersionError{Table: table, Have: v, Want: SchemaVersion}
	}
	_, recorded, err := recordedVersion(ctx, x, d, table)
	if err != nil {
		return step, false, err
	}
	if v == SchemaVersion && recorded {
		ok = true
		return step, true, nil
	}
	step = nextStep(d, table, sh, v, recorded)
	for _, st := range step.Statements {
		if _, err := x.ExecContext(ctx, st); err != nil {
			return step, false, fmt.Errorf("version %d: %w", step.Version, safeError(err))
		}
	}
	if err := recordVersion(ctx, x, d, table, step.Version); err != nil {
		return step, false, err
	}
	res.To = step.Version
	ok = true
	return step, false, nil
}

// nextStep is the step from version v: create the table at the latest
// version, record a current table's version, or migrate one version.
func nextStep(d Dialect, table string, sh auditShape, v int, recorded bool) MigrationStep {
	vt := []string{versionTableDDL(d, table)}
	switch {
	case v == 0:
		return MigrationStep{Version: SchemaVersion, Name: "create the audit table", Statements: append(vt, AuditDDL(d, table)...)}
	case v == SchemaVersion:
		return MigrationStep{Version: v, Name: "record the version", Statements: vt}
	}
	if !recorded {
		vt = append(vt, versionInsert(d, table, v)...) // a baseline, so that a step cut short resumes from it
	}
	return MigrationStep{Version: v + 1, Name: schemaVersions[v+1], Statements: append(vt, d.engine().migrate.step(d, table, sh, v+1)...)}
}

func dryRun(ctx context.Context, db *sql.DB, d Dialect, table string) (MigrateResult, error) {
	v, sh, err := schemaState(ctx, db, d, table)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("sqlstore: migrate %s: %w", table, err)
	}
	res := MigrateResult{From: v, To: v}
	if v > SchemaVersion {
		return res, &SchemaVersionError{Table: table, Have: v, Want: SchemaVersion}
	}
	_, recorded, err := recordedVersion(ctx, db, d, table)
	if err != nil {
		return res, fmt.Errorf("sqlstore: migrate %s: %w", table, err)
	}
	_, bare := splitTable(table)
	for !(v == SchemaVersion && recorded) {
		step := nextStep(d, table, sh, v, recorded)
		step.Statements = append(step.Statements, versionInsert(d, table, step.Version)...)
		res.Steps = append(res.Steps, step)
		if v > 0 && v < SchemaVersion {
			sh = sh.after(step.Version, bare)
		}
		v, recorded, res.To = step.Version, true, step.Version
	}
	return res, nil
}

func versionTableDDL(d Dialect, table string) string {
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s VARCHAR(255) NOT NULL PRIMARY KEY, %s INTEGER NOT NULL, %s VARCHAR(40) NOT NULL)%s",
		d.quote(sibling(table, SchemaVersionTable)), d.quote("audit_table"), d.quote("version"), d.quote("migrated_at"), d.engine().ddl.tail)
}

// versionInsert replaces table's version row (portable: no upsert is
// spelt alike on the three engines; the lock keeps it atomic).
func versionInsert(d Dialect, table string, v int) []string {
	vt := d.quote(sibling(table, SchemaVersionTable))
	_, bare := splitTable(table)
	lit := "'" + strings.ReplaceAll(bare, "'", "''") + "'" // a plain identifier (validIdent)
	at := time.Now().UTC().Format(auditTimeFormat)
	return []string{
		fmt.Sprintf("DELETE FROM %s WHERE %s = %s", vt, d.quote("audit_table"), lit),
		fmt.Sprintf("INSERT INTO %s (%s, %s, %s) VALUES (%s, %d, '%s')", vt, d.quote("audit_table"), d.quote("version"), d.quote("migrated_at"), lit, v, at),
	}
}

func recordVersion(ctx context.Context, c migrateExec, d Dialect, table string, v int) error {
	for _, st := range versionInsert(d, table, v) {
		if _, err := c.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("record version %d: %w", v, safeError(err))
		}
	}
	return nil
}

// The statements the engines' steps share.

// addEventColumns adds version 2's columns that sh lacks: event_id and
// published_at NULL, the others NOT NULL with ” for the records already
// there (typ: the engine's type of each).
func addEventColumns(d Dialect, table string, sh auditShape, typ map[string]string) []string {
	var out []string
	for _, c := range eventColumnsAdded {
		if !sh.has(c) {
			out = append(out, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", d.quote(table), d.quote(c), typ[c]))
		}
	}
	return out
}

// backfillEvents gives each record made before events (or left without
// an event id by a hand fix) a placeholder event id ('legacy' and its
// audit_id: unique, at most 25 characters) and marks it published at its
// own time: it has no event to relay, and a relay must not take it for
// one, nor wait behind it with the customer's later events. id is the
// engine's expression for the placeholder.
func backfillEvents(d Dialect, table, id string) []string {
	q := d.quote
	return []string{
		// NULLs a table completed by hand may hold.
		fmt.Sprintf("UPDATE %s SET %s = '' WHERE %s IS NULL", q(table), q("held"), q("held")),
		fmt.Sprintf("UPDATE %s SET %s = '' WHERE %s IS NULL", q(table), q("holds_ignored"), q("holds_ignored")),
		fmt.Sprintf("UPDATE %s SET %s = %s, %s = COALESCE(%s, %s) WHERE (%s IS NULL OR %s = '') AND %s = ''",
			q(table), q("event_id"), id, q("published_at"), q("published_at"), q("at"), q("event_id"), q("event_id"), q("held")),
	}
}

// unpublishedIndex drops and creates the partial index relays claim with
// (PostgreSQL, SQLite), so that one made by 0.1.0 (without held = ”)
// is replaced.
func unpublishedIndex(d Dialect, table string) []string {
	q := d.quote
	_, bare := splitTable(table)
	return []string{
		"DROP INDEX IF EXISTS " + q(sibling(table, bare+"_unpublished")),
		fmt.Sprintf("CREATE INDEX %s ON %s (%s) WHERE %s IS NULL AND %s = ''", q(bare+"_unpublished"), q(table), q("audit_id"), q("published_at"), q("held")),
	}
}

// rebuildAudit copies table into a new one of the latest shape and puts
// it in the old one's place: SQLite cannot drop a NOT NULL constraint.
func rebuildAudit(d Dialect, table string) []string {
	q := d.quote
	_, bare := splitTable(table)
	tmp := sibling(table, bare+"_forget_migrate")
	cols := make([]string, 0, len(auditColumns)+1)
	for _, c := range append([]string{"audit_id"}, auditColumns...) {
		cols = append(cols, q(c))
	}
	list := strings.Join(cols, ", ")
	out := []string{
		"DROP TABLE IF EXISTS " + q(tmp),
		AuditDDL(d, tmp)[0],
		fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", q(tmp), list, list, q(table)),
		"DROP TABLE " + q(table),
		fmt.Sprintf("ALTER TABLE %s RENAME TO %s", q(tmp), q(bare)),
	}
	return append(out, AuditDDL(d, table)[1:]...)
}
