package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// transactionalEngines are the MySQL/MariaDB engines that roll back: on
// any other (MyISAM, Aria, MEMORY, ...) a dry run's rollback or a failed
// forget's would leave what was written.
var transactionalEngines = map[string]bool{"innodb": true, "xtradb": true, "ndbcluster": true, "ndb": true, "tokudb": true, "rocksdb": true}

// engines refuses, on MySQL, a table the store writes or reads inside a
// forget that has no transactions, and a MariaDB system-versioned table
// (it keeps every erased value as history).
func (v *verifier) engines(ctx context.Context) error {
	names := v.s.schema.usedTables()
	if v.s.auditTable != "" {
		names = append(names, v.s.auditTable)
	}
	// A table whose rows a forget deletes or rewrites through a foreign
	// key's ON DELETE action keeps the old rows as history too.
	names = append(names, v.cascades().deletedFrom()...)
	type info struct{ engine, kind string }
	found := map[*TableInfo]info{}
	args := schemaArgs(v.in.Current, v.s.schema.qualifiers())
	if len(args) == 0 {
		return nil
	}
	err := scanRows(ctx, v.s.db, `SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(ENGINE, ''), TABLE_TYPE
FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (`+MySQL.Placeholders(len(args))+`)`, args,
		func(rows *sql.Rows) error {
			var schema, table, engine, kind string
			if err := rows.Scan(&schema, &table, &engine, &kind); err != nil {
				return err
			}
			for _, n := range names {
				if t := v.in.Table(n); t != nil && strings.EqualFold(t.Schema, schema) && strings.EqualFold(t.Unqualified, table) {
					found[t] = info{engine, kind}
				}
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("read table engines: %w", safeError(err))
	}
	seen := map[*TableInfo]bool{}
	for _, n := range names {
		t := v.in.Table(n)
		if t == nil || seen[t] {
			continue
		}
		seen[t] = true
		i := found[t]
		if !transactionalEngines[strings.ToLower(i.engine)] {
			v.fail("table %s uses engine %s, which has no transactions: a dry run or a failed forget would leave its writes; convert it with ALTER TABLE %s ENGINE=InnoDB", t.Name, i.engine, t.Name)
		}
		if strings.EqualFold(i.kind, "SYSTEM VERSIONED") {
			// No opt-in can help: MariaDB deletes history only table-wide
			// (DELETE HISTORY ... BEFORE SYSTEM_TIME), every customer's at
			// once; it has no DELETE of one row's old versions.
			v.fail("table %s is system-versioned: its history keeps every value a forget erases (FOR SYSTEM_TIME ALL), and MariaDB can delete history only for the whole table, never one customer's; remove versioning (ALTER TABLE %s DROP SYSTEM VERSIONING) or map another table", t.Name, t.Name)
		}
	}
	return nil
}

// usedTables lists every table the mapping names: customers, lookups,
// joined, field, catalogue and hold tables.
func (s Schema) usedTables() []string {
	out := []string{s.Customers.Table}
	for _, lt := range []*LookupTable{s.Subscriptions, s.Orders} {
		if lt != nil {
			out = append(out, lt.Table)
		}
	}
	out = append(out, sortedKeys(s.Joined)...)
	for _, c := range s.Fields {
		out = append(out, c.Table)
	}
	for _, rt := range s.Tables {
		out = append(out, rt.Table)
	}
	for _, h := range s.Holds {
		out = append(out, h.Table)
	}
	return out
}

// mysqlHoldWarnings fails a hold whose statement MySQL just evaluated on
// conn with a warning.
func (v *verifier) mysqlHoldWarnings(ctx context.Context, conn *sql.Conn, what string) {
	// MySQL compares a misspelt enum label, or a string that is no date
	// or uuid, with a warning and no match: a hold that never holds.
	rows, err := conn.QueryContext(ctx, "SHOW WARNINGS")
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var level, message string
		var code int
		if rows.Scan(&level, &code, &message) == nil {
			v.fail("%s: the database warns evaluating it (MySQL warning %d: %s): it would never match", what, code, scrubQuoted(message, v.s.knownNames()))
			return
		}
	}
}
