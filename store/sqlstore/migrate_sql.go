package sqlstore

import (
	"fmt"
	"strings"
)

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

// addCertificateColumn is version 4's step on every engine: the
// certificate column, NULL in the records already there (and in those of
// a Forgetter without a signing key). typ is the engine's TEXT.
func addCertificateColumn(d Dialect, table string, sh auditShape, typ string) []string {
	if sh.has("certificate") {
		return nil // a step cut short (MySQL), or a SQLite table rebuilt at step 3
	}
	return []string{fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", d.quote(table), d.quote("certificate"), typ)}
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
// The host's columns, indexes and triggers (sh.host) come along.
func rebuildAudit(d Dialect, table string, sh auditShape) []string {
	q := d.quote
	_, bare := splitTable(table)
	tmp := sibling(table, bare+"_forget_migrate")
	cols := make([]string, 0, len(auditColumns)+1+len(sh.host.names))
	for _, c := range append([]string{"audit_id"}, auditColumns...) {
		if c == "certificate" && !sh.has(c) {
			continue // added by version 4: NULL in the copies
		}
		cols = append(cols, q(c))
	}
	cols = append(cols, sh.host.names...)
	list := strings.Join(cols, ", ")
	create := AuditDDL(d, tmp)[0]
	if len(sh.host.columns) > 0 {
		i := strings.LastIndex(create, "\n)")
		create = create[:i] + ",\n  " + strings.Join(sh.host.columns, ",\n  ") + create[i:]
	}
	out := []string{
		"DROP TABLE IF EXISTS " + q(tmp),
		create,
		fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", q(tmp), list, list, q(table)),
		"DROP TABLE " + q(table),
		fmt.Sprintf("ALTER TABLE %s RENAME TO %s", q(tmp), q(bare)),
	}
	out = append(out, AuditDDL(d, table)[1:]...)
	return append(out, sh.host.objects...)
}

// auditIndexNames are the indexes AuditDDL makes on a table named bare.
func auditIndexNames(bare string) []string {
	return []string{bare + "_event_id", bare + "_customer_id", bare + "_at", bare + "_unpublished"}
}
