package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// engine is everything that differs between the database engines: one
// value per Dialect, each in its own file (engine_sqlite.go,
// engine_postgres.go, engine_mysql.go), registered by that file's init.
// The rest of the package asks its engine and never branches on the
// dialect.
//
// It is a struct of fields and funcs rather than an interface: most
// differences are data (a quote character, a type name, a clause), which
// an interface would turn into dozens of one-line methods per engine; a
// struct literal names every difference of an engine in one place, and
// TestEngines checks, for every registered engine, that each func is set
// and each value sane, so a fourth engine is held to the same suite.
type engine struct {
	dialect Dialect
	name    string   // Dialect.String
	aliases []string // the other names ParseDialect accepts

	// SQL text.
	placeholder sq.PlaceholderFormat
	identQuote  string // quotes an identifier; doubled within one
	// holdQuote quotes the identifiers of a hold's SQL (see
	// Dialect.holdQuote).
	holdQuote string
	// lockSuffix ends the statement that locks the customer row.
	lockSuffix string
	// shareLock ends a read, inside a forget's transaction, that must wait
	// for concurrent writers ("" where the transaction already does).
	shareLock string
	// currentRead ends a read of a row the transaction has locked already,
	// so that it reads the row's latest version: on MySQL a plain read
	// sees the transaction's first snapshot ("" where it is the latest).
	currentRead string
	// textType is what CAST(... AS textType) turns a value into text with.
	textType string
	// uuidNotText: a uuid column does not compare with text, so a key
	// mapped as text is cast (CAST(... AS textType), a no-op on a text
	// column) and a text key bound to a uuid column CAST(? AS uuid).
	uuidNotText bool
	// leastTime, when set, is the least real time the engine stores: a
	// smaller one is a zero date, which a sweep takes for no activity.
	leastTime string
	// storedTime selects a time column so that it binds again exactly as
	// stored.
	storedTime func(col string) string
	// timeArg is how a time is bound to compare with a time column.
	timeArg   func(t time.Time) any
	maxParams int // bound parameters one statement may carry
	// limit ends an ordered SELECT that reads at most n rows (the
	// statements squirrel builds use its Limit, the same on all three).
	limit func(n int) string
	// savepoints are the statements that isolate one item of a batch.
	savepoints savepointSQL

	// Set-based statements (bulk.go, write.go, audit.go).
	// statementRows, when set, is how many customers one multi-row
	// statement carries, whatever maxParams would allow.
	statementRows int
	// embedded: the database runs in the process, a statement a function
	// call rather than a round trip: set-based statements are prepared
	// once and run again, under ctx without its cancellation (see
	// bulkRun.execPrepared).
	embedded bool
	// fixedFirst: a multi-row UPDATE binds its fixed columns (in SET)
	// before its rows, which come later in the text.
	fixedFirst bool
	// returning: a DELETE or UPDATE can return the keys of its rows.
	returning bool
	// updateSQL writes the text of a multi-row UPDATE, with ? for its
	// parameters.
	updateSQL func(up *multiUpdate) string
	// insertSQL inserts n rows of cols into the quoted table; fixed
	// columns are bound once where insertFixedOnce.
	insertSQL       func(s *Store, table string, cols []string, n int, fixed []bool) string
	insertFixedOnce bool
	// writeTables purges (or scrubs) the catalogue tables of customers
	// js, counting each customer's rows.
	writeTables func(b *bulkRun, ctx context.Context, sh *bulkShape, js []int) error

	// Default schema types (DDL, NATSMemberDDL, AuditDDL).
	ddl ddlTypes
	// migrate is how Migrate runs (migrate.go).
	migrate migrateSQL

	// Transactions.
	// singleWriter: the engine has one writer at a time, so the store
	// queues its writers itself (Store.writer) and sweeps write larger
	// chunks.
	singleWriter bool
	begin        func(s *Store, ctx context.Context, dryRun bool) (*txn, error)
	retryable    func(err error) bool
	claim        func(s *Store, ctx context.Context, limit int) (forget.EventClaim, error)
	// cachesStatements: the driver prepares and caches statements
	// itself, so a transaction need not keep its own prepared.
	cachesStatements bool
	// changedRows: an UPDATE reports the rows whose values changed, not
	// those it matched, so the store counts matched rows itself
	// (matchedSQL).
	changedRows bool
	// walCheckpoint: CheckpointSQLite applies.
	walCheckpoint bool

	// Sweeps.
	// sweepCheck runs once a sweep, before its first page.
	sweepCheck func(s *Store, ctx context.Context) error
	// sweepPlan, when set, is run in a read-only transaction before the
	// statement that selects inactive customers.
	sweepPlan []string

	// Introspection.
	introspect   func(b *introBuilder, ctx context.Context, db *sql.DB, schemas []string) error
	checkSchemas func(schemas []string) error
	foldColumns  bool // column names compare case-insensitively

	// Verify.
	// strictTypes: a column refuses a value of another type (SQLite
	// stores any value in any column).
	strictTypes bool
	// literalCast is the query that casts a fixed literal (its one
	// parameter) to col's type, true when the database accepts it; ""
	// or nil leaves the literal to the Go-side checks (verify_rules.go).
	literalCast func(col *ColumnInfo) string
	// literalWarnings, where set, lists the warnings the cast left: an
	// engine that clips an out-of-range literal with a warning (MySQL's
	// CAST) instead of failing as the strict UPDATE later would.
	literalWarnings string
	// strictBools: a boolean column takes only a bool (elsewhere a
	// boolean is an integer).
	strictBools bool
	holdsTimes  func(col *ColumnInfo) bool
	// verifyWarnings adds the engine's own warnings.
	verifyWarnings func(v *verifier, ctx context.Context)
	// verifyConn checks the connection's settings and what the engine
	// keeps of the tables.
	verifyConn func(v *verifier, ctx context.Context) error
	// holdWarnings reports what the engine warned, on conn, of a hold's
	// statement it just evaluated.
	holdWarnings func(v *verifier, ctx context.Context, conn *sql.Conn, what string)
}

// savepointSQL sets, rolls back to and releases a savepoint.
type savepointSQL struct{ set, rollback, release string }

// sqlSavepoints are SQL's, which all three engines speak.
var sqlSavepoints = savepointSQL{
	set:      "SAVEPOINT forget_item",
	rollback: "ROLLBACK TO SAVEPOINT forget_item",
	release:  "RELEASE SAVEPOINT forget_item",
}

// limitClause is LIMIT n, which all three engines speak.
func limitClause(n int) string { return fmt.Sprintf(" LIMIT %d", n) }

// ddlTypes are the column types of the schemas the package creates.
type ddlTypes struct {
	id     string // an integer key
	text   string // a field
	name   string // a username
	autoID string // a generated primary key
	// indexed is a text column the engine can index (AuditDDL).
	indexed string
	// eventIndex: the audit table has a unique index on event_id.
	eventIndex bool
	tail       string // after CREATE TABLE's closing parenthesis
	// inlineIndexes: indexes are declared in CREATE TABLE (MySQL has no
	// CREATE INDEX IF NOT EXISTS).
	inlineIndexes bool
}

// engines holds the registered engines, by Dialect. It is written only by
// the engine files' init functions.
var engines []*engine

func register(e *engine) {
	for int(e.dialect) >= len(engines) {
		engines = append(engines, nil)
	}
	engines[e.dialect] = e
}

// engine returns d's engine, or nil for an unknown dialect.
func (d Dialect) engine() *engine {
	if d < 0 || int(d) >= len(engines) {
		return nil
	}
	return engines[d]
}

// registered returns the engines in Dialect order.
func registered() []*engine {
	var out []*engine
	for _, e := range engines {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// quoteIdent quotes each part of a qualified identifier with q.
func quoteIdent(q, ident string) string {
	parts := strings.Split(ident, ".")
	for i, p := range parts {
		parts[i] = q + p + q
	}
	return strings.Join(parts, ".")
}

// dialectNames lists the engines' names as ParseDialect's error does:
// "a, b or c".
func dialectNames() string {
	var names []string
	for _, e := range registered() {
		names = append(names, e.name)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func noSweepCheck(*Store, context.Context) error                   { return nil }
func noWarnings(*verifier, context.Context)                        {}
func noHoldWarnings(*verifier, context.Context, *sql.Conn, string) {}
func identity(col string) string                                   { return col }
func utcTime(t time.Time) any                                      { return t.UTC() }

// fmtUnknown is how an unregistered dialect prints.
func fmtUnknown(d Dialect) string { return fmt.Sprintf("Dialect(%d)", int(d)) }
