package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/forgetkit/forget"
)

// DDL returns the statements that create the default schema for d, the
// default audit table (forget_audit; see [WithAudit]) and the default
// tombstone table (forget_tombstones; see [WithTombstoneKeys]), with
// the indexes that make every statement of a forget an index lookup:
// primary keys on the three lookup keys, a unique index on username, and
// an index on customer_id in every table that refers to a customer. Every
// statement is idempotent (IF NOT EXISTS).
func DDL(d Dialect) []string {
	e := d.engine()
	if e == nil {
		return nil
	}
	id, text, name, autoID, tail := e.ddl.id, e.ddl.text, e.ddl.name, e.ddl.autoID, e.ddl.tail
	q := d.quote
	var cols []string
	cols = append(cols, q("customer_id")+" "+id+" PRIMARY KEY")
	for _, f := range forget.DefaultCatalogue().Fields {
		typ := text
		if f.Name == forget.Username || f.Name == forget.OriginalUsername {
			typ = name
		}
		cols = append(cols, q(string(f.Name))+" "+typ)
	}
	type idx struct {
		unique bool
		col    string
	}
	var out []string
	// table creates a table and its indexes: inline on MySQL, which has
	// no CREATE INDEX IF NOT EXISTS, separately elsewhere.
	table := func(name string, indexes []idx, cols ...string) {
		var after []string
		for _, ix := range indexes {
			kind := "INDEX"
			if ix.unique {
				kind = "UNIQUE INDEX"
			}
			if e.ddl.inlineIndexes {
				cols = append(cols, fmt.Sprintf("%s %s (%s)", kind, q(name+"_"+ix.col), q(ix.col)))
			} else {
				after = append(after, fmt.Sprintf("CREATE %s IF NOT EXISTS %s ON %s (%s)", kind, q(name+"_"+ix.col), q(name), q(ix.col)))
			}
		}
		out = append(out, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s\n)%s", q(name), strings.Join(cols, ",\n  "), tail))
		out = append(out, after...)
	}
	byCustomer := []idx{{col: "customer_id"}}
	table("customers", []idx{{unique: true, col: "username"}}, cols...)
	table("subscriptions", byCustomer,
		q("subscription_id")+" "+id+" PRIMARY KEY",
		q("customer_id")+" "+id+" NOT NULL",
		q("status")+" "+text)
	table("transactions", byCustomer,
		q("orderid")+" "+id+" PRIMARY KEY",
		q("customer_id")+" "+id+" NOT NULL",
		q("amount_cents")+" "+id+" NOT NULL DEFAULT 0")
	table("member_auth", byCustomer,
		q("auth_id")+" "+autoID,
		q("customer_id")+" "+id+" NOT NULL",
		q("kind")+" "+text,
		q("secret")+" "+text)
	table("member_note", byCustomer,
		q("note_id")+" "+autoID,
		q("customer_id")+" "+id+" NOT NULL",
		q("note")+" "+text)
	out = append(out, AuditDDL(d, DefaultAuditTable)...)
	return append(out, TombstoneDDL(d, DefaultTombstoneTable)...)
}

// CreateSchema runs DDL(d) on db, one statement at a time (MySQL drivers
// refuse several statements in one call by default).
func CreateSchema(ctx context.Context, db *sql.DB, d Dialect) error {
	stmts := DDL(d)
	if stmts == nil {
		return fmt.Errorf("sqlstore: unknown dialect %v", d)
	}
	for _, st := range stmts {
		if _, err := db.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("sqlstore: create schema: %w", err)
		}
	}
	return nil
}
