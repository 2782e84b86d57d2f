package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"
)

// SQLite (modernc.org/sqlite or mattn/go-sqlite3): one writer at a time,
// times kept as text, no schemas but main, any value in any column.
func init() {
	register(&engine{
		dialect:     SQLite,
		name:        "sqlite",
		aliases:     []string{"sqlite3"},
		placeholder: sq.Question,
		identQuote:  `"`,
		// SQLite reads a double-quoted name that is no column as a string
		// literal, so a hold naming a missing column would compare with
		// its own name: backquotes make it an error instead.
		holdQuote:   "`",
		lockSuffix:  "", // the whole database is locked by BEGIN IMMEDIATE
		shareLock:   "",
		currentRead: "",
		textType:    "TEXT",
		// Exactly as stored, to bind again.
		storedTime: func(col string) string { return "CAST(" + col + " AS TEXT)" },
		// SQLite keeps times as text, most often in its own datetime()
		// form, which compares as text.
		timeArg:    func(t time.Time) any { return t.UTC().Format("2006-01-02 15:04:05") },
		maxParams:  32000, // of SQLite's 32,766
		limit:      limitClause,
		savepoints: sqlSavepoints,
		ddl: ddlTypes{
			id: "INTEGER", text: "TEXT NOT NULL DEFAULT ''", name: "TEXT NOT NULL DEFAULT ''",
			autoID: "INTEGER PRIMARY KEY AUTOINCREMENT", indexed: "TEXT NOT NULL",
			// No index on event_id. No statement looks an event up by it,
			// it is unique by construction (128 random bits), and the index
			// cost every forget a B-tree insert at a random place, a page
			// more in each commit (BenchmarkOutboxCostSQLite).
			eventIndex: false,
		},
		migrate: migrateSQL{
			begin:      sqliteMigrateBegin,
			columnsSQL: `SELECT name, CASE WHEN "notnull" = 0 AND pk = 0 THEN 'YES' ELSE 'NO' END FROM pragma_table_info(?)`,
			indexesSQL: `SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`,
			step:       sqliteMigrateStep,
			host:       sqliteHostObjects,
		},
		statementRows:   sqliteRows,
		embedded:        true,
		fixedFirst:      false,
		returning:       true,
		updateSQL:       sqliteUpdateSQL,
		insertSQL:       sqliteInsertSQL,
		insertFixedOnce: true,
		// Each customer's own statement, which counts its rows for free.
		writeTables:    (*bulkRun).purgeEach,
		singleWriter:   true,
		begin:          beginImmediate,
		retryable:      sqliteRetryable,
		claim:          (*Store).claimSQLite,
		walCheckpoint:  true,
		sweepCheck:     (*Store).checkActivityText,
		introspect:     func(b *introBuilder, ctx context.Context, db *sql.DB, _ []string) error { return b.sqlite(ctx, db) },
		checkSchemas:   func([]string) error { return nil }, // main only
		foldColumns:    true,
		strictTypes:    false,
		literalCast:    func(*ColumnInfo) string { return "" }, // SQLite stores any literal anywhere: Go-side checks only
		strictBools:    false,
		holdsTimes:     sqliteHoldsTimes,
		verifyWarnings: (*verifier).secureDelete,
		verifyConn:     (*verifier).sqliteSession,
		holdWarnings:   noHoldWarnings,
	})
}

// sqliteRows is how many customers one SQLite statement carries,
// prepared once for the transaction and run again for every sqliteRows
// customers. There a statement is a function call, not a round trip: a
// sweep's CPU time is the same as with one statement per customer
// (measured), and a VALUES list of thousands of parameters costs more to
// parse for each group than it saves.
const sqliteRows = 64

func sqliteRetryable(err error) bool {
	var lite interface{ Code() int } // modernc.org/sqlite.Error
	if errors.As(err, &lite) {
		code := lite.Code() & 0xff    // primary result code
		return code == 5 || code == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	if code, ok := asMattnSQLiteError(err); ok {
		return code == 5 || code == 6
	}
	return false
}

// sqliteHoldsTimes: text (a declared date or time type stores text too),
// never numbers.
func sqliteHoldsTimes(col *ColumnInfo) bool {
	typ := col.Type
	return col.Kind == KindText || strings.Contains(typ, "date") || strings.Contains(typ, "time")
}

// sqliteSession checks that the connection enforces the foreign keys the
// database declares.
func (v *verifier) sqliteSession(ctx context.Context) error {
	var on int
	if err := v.s.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
		return fmt.Errorf("read PRAGMA foreign_keys: %w", err)
	}
	if on == 0 && v.in.hasForeignKeys() {
		v.fail("the database declares foreign keys, but this connection does not enforce them: ON DELETE RESTRICT would not protect rows and ON DELETE CASCADE would leave orphans; open it with _pragma=foreign_keys(1) in the DSN")
	}
	return nil
}

// beginImmediate waits its turn in the store's writer queue, or for ctx
// to end, and begins an IMMEDIATE transaction on a connection of its own,
// so that two writers queue for the lock instead of failing on upgrade.
func beginImmediate(s *Store, ctx context.Context, dryRun bool) (*txn, error) {
	if err := s.takeWriterTurn(ctx); err != nil {
		return nil, fmt.Errorf("sqlstore: begin: %w", err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		s.endWriterTurn()
		return nil, fmt.Errorf("sqlstore: connect: %w", err)
	}
	t := &txn{q: conn, conn: conn, dryRun: dryRun, writer: s.writer}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		// When ctx ends, the driver reports its error even for a BEGIN
		// that ran: end whatever transaction there may be.
		t.close()
		return nil, fmt.Errorf("sqlstore: begin: %w", err)
	}
	return t, nil
}

// sqliteUpdateSQL is WITH v(...) AS (VALUES ...) UPDATE OR FAIL ... FROM
// v. OR FAIL: the statement's own rows need no journal of their own
// (SQLite keeps one for a multi-row statement that may abort), since any
// failure rolls back the whole transaction.
func sqliteUpdateSQL(up *multiUpdate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "WITH v(%s) AS (VALUES %s) UPDATE OR FAIL %s SET ", up.columns(), strings.Join(up.values("?"), ", "), up.s.dialect.quote(up.u.table))
	up.set(&b, "")
	b.WriteString(" FROM v")
	fmt.Fprintf(&b, " WHERE %s = v.k", up.target())
	return b.String()
}

// sqliteInsertSQL inserts n rows of cols, the columns fixed bound once,
// after the rows.
func sqliteInsertSQL(_ *Store, table string, cols []string, n int, fixed []bool) string {
	var carried, selected []string
	for i := range cols {
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
	return fmt.Sprintf("WITH v(%s) AS (VALUES %s) INSERT OR FAIL INTO %s (%s) SELECT %s FROM v", // OR FAIL: as sqliteUpdateSQL's
		strings.Join(carried, ", "), strings.TrimSuffix(strings.Repeat(row+", ", n), ", "),
		table, strings.Join(cols, ", "), strings.Join(selected, ", "))
}

// sqliteMigrateBegin takes the database's write lock at once (BEGIN
// IMMEDIATE): a second migrator waits for the first to commit, then reads
// the version it reached.
func sqliteMigrateBegin(ctx context.Context, c *sql.Conn, _ string) (migrateExec, func(bool) error, error) {
	// A rebuild drops the audit table, and with foreign keys on, DROP
	// TABLE first deletes every row, firing the ON DELETE actions of the
	// host's tables that reference it. SQLite's own recipe for a rebuild
	// turns them off (they cannot change inside a transaction) and checks
	// them before the commit instead.
	var fk int
	if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return nil, nil, err
	}
	restore := func() error { return nil }
	if fk == 1 {
		if _, err := c.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return nil, nil, err
		}
		restore = func() error {
			_, err := c.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
			return err
		}
	}
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return nil, nil, errors.Join(err, restore())
	}
	return c, func(ok bool) error {
		if ok {
			err := sqliteForeignKeysHold(ctx, c)
			if err == nil {
				_, err = c.ExecContext(ctx, "COMMIT")
			}
			if err == nil {
				return restore()
			}
			c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return errors.Join(err, restore())
		}
		_, err := c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return errors.Join(err, restore())
	}, nil
}

// sqliteForeignKeysHold fails when a step left a row referencing one
// that is not there.
func sqliteForeignKeysHold(ctx context.Context, c *sql.Conn) error {
	rows, err := c.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("the migration would leave %d rows whose foreign keys reference nothing; rolled back", n)
	}
	return nil
}

// sqliteHostObjects reads the columns, indexes and triggers a host added
// to the audit table, for a rebuild to carry over.
func sqliteHostObjects(ctx context.Context, c queryer, d Dialect, table string) (hostObjects, error) {
	_, bare := splitTable(table)
	var h hostObjects
	ours := map[string]bool{"audit_id": true}
	for _, col := range auditColumns {
		ours[col] = true
	}
	rows, err := c.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, hidden FROM pragma_table_xinfo(?)`, bare)
	if err != nil {
		return h, fmt.Errorf("read the columns of %s: %w", table, safeError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ string
		var notNull, hidden int
		var dflt sql.NullString
		if err := rows.Scan(&name, &typ, &notNull, &dflt, &hidden); err != nil {
			return h, fmt.Errorf("read the columns of %s: %w", table, safeError(err))
		}
		if ours[strings.ToLower(name)] {
			continue
		}
		if hidden != 0 {
			return h, fmt.Errorf("%s has a generated or hidden column %s, which a rebuild cannot carry over: drop it, migrate, and add it again", table, clipName(name))
		}
		def := d.quote(name)
		if typ != "" {
			def += " " + typ
		}
		if notNull != 0 {
			def += " NOT NULL"
		}
		if dflt.Valid {
			def += " DEFAULT " + dflt.String
		}
		h.names = append(h.names, d.quote(name))
		h.columns = append(h.columns, def)
	}
	if err := rows.Err(); err != nil {
		return h, fmt.Errorf("read the columns of %s: %w", table, safeError(err))
	}
	for _, n := range auditIndexNames(bare) {
		ours[strings.ToLower(n)] = true
	}
	objs, err := c.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ? AND sql IS NOT NULL ORDER BY type, name`, bare)
	if err != nil {
		return h, fmt.Errorf("read the indexes and triggers of %s: %w", table, safeError(err))
	}
	defer objs.Close()
	for objs.Next() {
		var name, def string
		if err := objs.Scan(&name, &def); err != nil {
			return h, fmt.Errorf("read the indexes and triggers of %s: %w", table, safeError(err))
		}
		if !ours[strings.ToLower(name)] {
			h.objects = append(h.objects, def)
		}
	}
	return h, safeError(objs.Err())
}

// sqliteMigrateStep: ADD COLUMN with a default for the NOT NULL columns;
// a NOT NULL constraint changes only with a rebuild of the table.
func sqliteMigrateStep(d Dialect, table string, sh auditShape, to int) []string {
	var out []string
	switch to {
	case 2:
		out = addEventColumns(d, table, sh, map[string]string{
			"event_id": "TEXT", "holds_ignored": "TEXT NOT NULL DEFAULT ''", "held": "TEXT NOT NULL DEFAULT ''", "published_at": "TEXT",
		})
		out = append(out, backfillEvents(d, table, "'legacy' || "+d.quote("audit_id"))...)
	case 3:
		if sh.needsRebuild() {
			out = rebuildAudit(d, table, sh)
		}
	case 4:
		return addCertificateColumn(d, table, sh, "TEXT")
	}
	return append(out, unpublishedIndex(d, table)...)
}
