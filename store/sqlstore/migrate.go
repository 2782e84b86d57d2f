package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Versioned migrations of the tables forget owns (the audit table, which
// is also the outbox). A small list in the manner of river's rivermigrate
// rather than goose or golang-migrate: the SQL differs per engine and per
// audit table name, and a step must read the table's shape to be
// resumable on MySQL, whose DDL commits implicitly; a library of numbered
// SQL files would fit neither.

// SchemaVersion is the version of the audit table this release writes.
const SchemaVersion = 4

// SchemaVersionTable records each audit table's version, one row per
// audit table (several may share a database), beside the audit table (in
// its schema, when its name is qualified).
const SchemaVersionTable = "forget_schema_version"

// schemaVersions names each version; versions[v-1] is version v.
var schemaVersions = []string{
	1: "before erasure events: the audit trail alone",
	2: "v0.1.0: erasure events (event_id, holds_ignored, held, published_at; event and unpublished indexes)",
	3: "v0.2.0: refusals carry no event (event_id may be NULL; the unpublished index skips refusals)",
	4: "erasure certificates (certificate, NULL in a record without one)",
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
