package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// MySQL and MariaDB (go-sql-driver/mysql): backquotes, row locks, a
// database for a schema, strict types in a strict session, zero dates,
// no RETURNING.
func init() {
	register(&engine{
		dialect:         MySQL,
		name:            "mysql",
		aliases:         []string{"mariadb"},
		placeholder:     sq.Question,
		identQuote:      "`",
		holdQuote:       "`",
		lockSuffix:      "FOR UPDATE",
		literalCast:     mysqlLiteralCast,
		literalWarnings: "SHOW WARNINGS",
		shareLock:       " LOCK IN SHARE MODE",
		currentRead:     " FOR UPDATE",
		textType:        "CHAR",
		leastTime:       mysqlLeastTime,
		storedTime:      identity,
		timeArg:         utcTime,
		maxParams:       65000, // of 65,535
		limit:           limitClause,
		savepoints:      sqlSavepoints,
		ddl: ddlTypes{
			id: "BIGINT", text: "VARCHAR(255) NOT NULL DEFAULT ''", name: "VARCHAR(32) NOT NULL DEFAULT ''",
			autoID:        "BIGINT AUTO_INCREMENT PRIMARY KEY",
			indexed:       "VARCHAR(255) NOT NULL", // MySQL indexes only bounded columns
			eventIndex:    true,
			tail:          " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
			inlineIndexes: true,
		},
		migrate: migrateSQL{
			begin:      mysqlMigrateBegin,
			columnsSQL: `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = COALESCE(NULLIF(?, ''), DATABASE()) AND table_name = ?`,
			indexesSQL: `SELECT DISTINCT index_name, '' FROM information_schema.statistics WHERE table_schema = COALESCE(NULLIF(?, ''), DATABASE()) AND table_name = ?`,
			schemaArg:  true,
			step:       mysqlMigrateStep,
		},
		returning: false,
		updateSQL: mysqlUpdateSQL,
		insertSQL: valuesInsertSQL,
		// No RETURNING: each table's rows are counted, and locked, first.
		writeTables:    (*bulkRun).writeTablesCounted,
		begin:          (*Store).beginTx,
		changedRows:    true,
		retryable:      mysqlRetryable,
		claim:          (*Store).claimLocked,
		sweepCheck:     noSweepCheck,
		introspect:     (*introBuilder).mysql,
		checkSchemas:   func(schemas []string) error { return checkSchemaNames(schemas, mysqlSystemSchema) },
		foldColumns:    true,
		strictTypes:    true,
		strictBools:    false, // a boolean is tinyint(1)
		holdsTimes:     mysqlHoldsTimes,
		verifyWarnings: noWarnings,
		verifyConn:     (*verifier).mysqlConn,
		holdWarnings:   (*verifier).mysqlHoldWarnings,
	})
}

// mysqlLeastTime is the least DATETIME MySQL supports: anything below
// it is a zero date (0000-00-00 00:00:00) or a date with a zero part,
// which a sweep takes for no activity at all.
const mysqlLeastTime = "'1000-01-01 00:00:00'"

func mysqlRetryable(err error) bool {
	if my, ok := asMySQLError(err); ok {
		return my.number == 1213 || my.number == 1205 // deadlock, lock wait timeout
	}
	return false
}

func mysqlSystemSchema(s string) bool {
	return slices.Contains([]string{"information_schema", "mysql", "performance_schema", "sys"}, strings.ToLower(s))
}

func mysqlHoldsTimes(col *ColumnInfo) bool {
	typ := col.Type
	return strings.HasPrefix(typ, "datetime") || strings.HasPrefix(typ, "timestamp") || typ == "date"
}

// mysqlConn checks that the session is strict, then the tables' storage
// engines.
func (v *verifier) mysqlConn(ctx context.Context) error {
	var mode string
	if err := v.s.db.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read sql_mode: %w", safeError(err))
	}
	if !strings.Contains(mode, "STRICT_TRANS_TABLES") && !strings.Contains(mode, "STRICT_ALL_TABLES") {
		v.fail("the MySQL session is not strict (sql_mode lacks STRICT_TRANS_TABLES): a value too long for its column would be truncated, not refused; add sql_mode='STRICT_TRANS_TABLES,...' to the DSN's parameters")
	}
	return v.engines(ctx)
}

// mysqlUpdateSQL is UPDATE ... JOIN (SELECT ... UNION ALL ...) AS v ON
// ... SET: MySQL has no FROM (VALUES ...) to update from.
func mysqlUpdateSQL(up *multiUpdate) string {
	q := up.s.dialect.quote
	var b strings.Builder
	fmt.Fprintf(&b, "UPDATE %s JOIN (", q(up.u.table))
	for i := range up.n {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT ")
		if i == 0 {
			parts := []string{"? AS k"}
			if up.s.keyType(forget.KeyCustomerID) == KeyInt {
				parts[0] = "CAST(? AS SIGNED) AS k"
			}
			for _, nm := range up.carried {
				parts = append(parts, "? AS "+nm)
			}
			b.WriteString(strings.Join(parts, ", "))
		} else {
			b.WriteString(qmarks(1 + up.width))
		}
	}
	fmt.Fprintf(&b, ") AS v ON %s = v.k SET ", up.target())
	up.set(&b, q(up.u.table)+".")
	return b.String()
}

// mysqlMigrateBegin takes a named lock (GET_LOCK) for the step: DDL
// commits implicitly, so there is no transaction to hold one.
func mysqlMigrateBegin(ctx context.Context, c *sql.Conn, key string) (migrateExec, func(bool) error, error) {
	if len(key) > 64 { // GET_LOCK's limit
		key = key[:64]
	}
	var got sql.NullInt64
	if err := c.QueryRowContext(ctx, "SELECT GET_LOCK(?, 120)", key).Scan(&got); err != nil {
		return nil, nil, err
	}
	if got.Int64 != 1 {
		return nil, nil, errors.New("another migrator held the lock for 2 minutes")
	}
	return c, func(bool) error {
		_, err := c.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(?)", key)
		return err
	}, nil
}

// mysqlMigrateStep: each statement may run again, since a step cut short
// has committed its first statements. A TEXT column takes no literal
// default on MySQL before 8.0.13, so holds_ignored is added NULL, filled,
// then made NOT NULL.
func mysqlMigrateStep(d Dialect, table string, sh auditShape, to int) []string {
	q := d.quote
	_, bare := splitTable(table)
	var out []string
	switch to {
	case 2:
		out = addEventColumns(d, table, sh, map[string]string{
			"event_id": "VARCHAR(255) NULL", "holds_ignored": "TEXT NULL", "held": "VARCHAR(255) NOT NULL DEFAULT ''", "published_at": "VARCHAR(255) NULL",
		})
		out = append(out, backfillEvents(d, table, "CONCAT('legacy', "+q("audit_id")+")")...)
		out = append(out,
			fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s TEXT NOT NULL", q(table), q("holds_ignored")),
			fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s VARCHAR(255) NOT NULL DEFAULT ''", q(table), q("held")))
		if !sh.hasIndex(bare + "_event_id") {
			out = append(out, fmt.Sprintf("ALTER TABLE %s ADD UNIQUE INDEX %s (%s)", q(table), q(bare+"_event_id"), q("event_id")))
		}
		if !sh.hasIndex(bare + "_unpublished") {
			out = append(out, fmt.Sprintf("ALTER TABLE %s ADD INDEX %s (%s, %s)", q(table), q(bare+"_unpublished"), q("published_at"), q("audit_id")))
		}
	case 3:
		if !sh.nullable["event_id"] {
			out = append(out, fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s VARCHAR(255) NULL", q(table), q("event_id")))
		}
	case 4:
		out = addVersion4Columns(d, table, sh, "TEXT NULL")
	}
	return out
}

// mysqlLiteralCast casts a fixed literal to the types CAST knows (MySQL
// and MariaDB cast only to a few; JSON columns are checked in Go). An
// invalid date casts to NULL, with a warning, rather than failing.
func mysqlLiteralCast(col *ColumnInfo) string {
	typ := col.Type
	var target string
	switch {
	case strings.HasPrefix(typ, "decimal"), strings.HasPrefix(typ, "numeric"):
		target = strings.Replace(typ, " unsigned", "", 1)
	case strings.HasPrefix(typ, "datetime"), strings.HasPrefix(typ, "timestamp"):
		target = "DATETIME"
	case typ == "date":
		target = "DATE"
	case typ == "time":
		target = "TIME"
	case typ == "uuid", typ == "inet6", typ == "inet4":
		target = strings.ToUpper(typ)
	default:
		return ""
	}
	return "SELECT CAST(? AS " + target + ") IS NOT NULL"
}
