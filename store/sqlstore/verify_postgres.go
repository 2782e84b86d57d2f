package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// checkConstraints warns, on PostgreSQL, of each CHECK constraint on a
// column a field of the mapping writes: Verify cannot tell whether the
// rule's value passes it, and a forget that fails one makes the server
// log "Failing row contains (...)", the whole row with the old values of
// every column the forget did not write.
func (v *verifier) checkConstraints(ctx context.Context) {
	args := schemaArgs(v.in.Current, v.s.schema.qualifiers())
	if len(args) == 0 {
		return
	}
	constraints := map[*TableInfo]map[string][]string{} // table → column → constraint names
	err := scanRows(ctx, v.s.db, `SELECT n.nspname::text, t.relname::text, c.conname::text, a.attname::text
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(c.conkey) AS k(att)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att
WHERE c.contype = 'c' AND n.nspname IN (`+Postgres.Placeholders(len(args))+`)
ORDER BY 1, 2, 3, 4`, args,
		func(rows *sql.Rows) error {
			var schema, table, name, column string
			if err := rows.Scan(&schema, &table, &name, &column); err != nil {
				return err
			}
			for _, m := range v.s.schema.Fields {
				if t := v.in.Table(m.Table); t != nil && t.Schema == schema && t.Unqualified == table && strings.EqualFold(m.Column, column) {
					if constraints[t] == nil {
						constraints[t] = map[string][]string{}
					}
					constraints[t][m.Column] = append(constraints[t][m.Column], name)
					break
				}
			}
			return nil
		})
	if err != nil {
		v.fail("read CHECK constraints: %w", safeError(err))
		return
	}
	var found []string
	for t, cols := range constraints {
		for col, names := range cols {
			found = append(found, fmt.Sprintf("column %s.%s has CHECK constraint %s: if a forget's value fails it, the forget fails and PostgreSQL logs the whole row, old values included (\"Failing row contains\"); make sure the field's rule writes a value it accepts", t.Name, col, strings.Join(names, ", ")))
		}
	}
	sort.Strings(found)
	v.warnings = append(v.warnings, found...)
}
