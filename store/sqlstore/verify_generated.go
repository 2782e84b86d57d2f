package sqlstore

import (
	"strings"

	"github.com/forgetkit/forget"
)

// generatedColumn refuses a rule that writes a generated column (every
// engine refuses the UPDATE, so every forget would fail), naming it and
// its source columns; it reports whether it refused.
func (v *verifier) generatedColumn(what string, t *TableInfo, col *ColumnInfo) bool {
	if !col.Generated {
		return false
	}
	from := "its source columns"
	if len(col.GeneratedFrom) > 0 {
		from = "its source columns (" + strings.Join(col.GeneratedFrom, ", ") + ")"
	}
	v.fail("%s: column %s.%s is a generated column: the database computes it from %s and refuses to write it, so every forget would fail; map %s instead and drop this one (coverage counts it erased when they all are)",
		what, t.Name, col.Name, from, from)
	return true
}

// triggerWarnings warns of each host trigger on a table that reaches a
// customer: a forget's own writes fire it, and what it copies elsewhere
// stays unless the mapping covers it (coverage reaches the tables it
// writes, and WithCoverage fails on their unclassified columns).
func (v *verifier) triggerWarnings(cat forget.Catalogue) {
	if len(v.in.Triggers) == 0 {
		return
	}
	for _, n := range cover(v.in, v.s.schema, cat, v.s.auditTable).Notes {
		if strings.HasPrefix(n, "trigger ") {
			v.warnings = append(v.warnings, n)
		}
	}
}
