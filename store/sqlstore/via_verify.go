package sqlstore

import (
	"fmt"
	"strings"

	"github.com/forgetkit/forget"
)

// viaLearned is what Verify learnt for the Via tables: which ones are
// exclusive (cannot reach another customer's rows), which ones the
// customer's kept rows point to (and must be detached from first), and
// the foreign keys that order the deletes.
type viaLearned struct {
	any       bool // the mapping has Via tables (but mentions)
	exclusive map[forget.Table]bool
	// pointer: From's column has a foreign key to the Via table's
	// Column, so the from row must stop pointing at a row before it is
	// deleted.
	pointer map[forget.Table]bool
	// child: the Via table's Column has a foreign key to From's column,
	// so its rows must go before From's (or stay with them).
	child map[forget.Table]bool
	canon map[string]string  // a mapped table's name, lower case -> its introspected name
	refs  map[[2]string]bool // {child, parent}: child has a foreign key to parent
}

// canonical returns the introspected name of a table the mapping names.
func (l *viaLearned) canonical(table string) string {
	if c, ok := l.canon[strings.ToLower(table)]; ok {
		return c
	}
	return table
}

// references reports whether table a has a foreign key to table b.
func (l *viaLearned) references(a, b string) bool {
	return l.refs[[2]string{l.canonical(a), l.canonical(b)}]
}

// viaTables checks every Via table of cat against the live schema and
// learns what the forgets need; it is called with the other tables'
// checks (verifier.tables).
func (v *verifier) viaTables(cat forget.Catalogue) *viaLearned {
	l := &viaLearned{exclusive: map[forget.Table]bool{}, pointer: map[forget.Table]bool{}, child: map[forget.Table]bool{}, canon: map[string]string{}, refs: map[[2]string]bool{}}
	for _, t := range v.in.Tables {
		for _, fk := range t.ForeignKeys {
			l.refs[[2]string{t.Name, fk.RefTable}] = true
		}
	}
	sc := v.s.schema
	for _, table := range sc.usedTables() {
		if t := v.in.Table(table); t != nil {
			l.canon[strings.ToLower(table)] = t.Name
		}
	}
	scrubbed := map[forget.Table]bool{}
	for _, ts := range cat.Tables {
		scrubbed[ts.Name] = len(ts.Scrub) > 0
	}
	// In chain order, so that a parent's exclusivity is known.
	done := map[forget.Table]bool{}
	var visit func(name forget.Table)
	visit = func(name forget.Table) {
		if done[name] {
			return
		}
		done[name] = true
		rt := sc.Tables[name]
		if f, err := sc.resolveFrom(rt.Via); err == nil && f.kind == fromVia {
			visit(f.via)
		}
		v.viaTable(name, rt, scrubbed, l)
	}
	for _, name := range sortedKeys(sc.Tables) {
		if rt := sc.Tables[name]; rt.Via != nil && !rt.Via.Mentions {
			l.any = true
			visit(name)
		}
	}
	v.viaForeignRefs(cat) // via_refs.go
	return l
}

// viaTable checks one Via table: its columns, their kinds, whether it is
// exclusive or declared shared, and what deleting its rows needs.
func (v *verifier) viaTable(name forget.Table, rt RelatedTable, scrubbed map[forget.Table]bool, l *viaLearned) {
	sc := v.s.schema
	via := rt.Via
	what := "table " + string(name)
	f, err := sc.resolveFrom(via)
	if err != nil {
		v.fail("%s: via %w", what, err)
		return
	}
	t := v.in.Table(rt.Table) // its absence is reported by verifier.tables
	col := v.column(t, via.Column, what+" via column")
	ft := v.table(f.table, what+" via from")
	fcol := v.column(ft, f.column, what+" via from")
	if col == nil || fcol == nil {
		return
	}
	where, fwhere := t.Name+"."+col.Name, ft.Name+"."+fcol.Name
	strictTypes := v.s.dialect.engine().strictTypes
	switch {
	case col.Kind == KindOther || fcol.Kind == KindOther:
		// json, bytea, arrays, floats, times: an IN list of values read
		// back may not compare equal with what was read (precision,
		// formatting), so a forget could not tell which rows are the
		// customer's.
		if col.Kind != fcol.Kind || !strings.EqualFold(col.Type, fcol.Type) {
			v.fail("%s: via column %s is %s and from column %s is %s; a via compares text, integer or uuid columns of one kind, which a forget can match exactly", what, where, col.Type, fwhere, fcol.Type)
			return
		}
	case col.Kind != fcol.Kind && (strictTypes || col.Kind == KindUUID || fcol.Kind == KindUUID || col.Kind == KindInt || fcol.Kind == KindInt):
		v.fail("%s: via column %s is %s but from column %s is %s; the two must hold the same kind of value (int with int, uuid with uuid, text with text)", what, where, col.Type, fwhere, fcol.Type)
		return
	}
	if (fixedWidth(col.Type) || fixedWidth(fcol.Type)) && !strings.EqualFold(col.Type, fcol.Type) && via.Normalize != "trim" && via.Normalize != "lower_trim" {
		// PostgreSQL reads a CHAR(n) value back blank-padded, and the
		// padded value matches no VARCHAR row.
		v.fail("%s: via column %s is %s and from column %s is %s: a fixed-width CHAR value is read back padded with blanks and would match no row; say \"normalize\": \"trim\" (or lower_trim), or give both columns one type", what, where, col.Type, fwhere, fcol.Type)
		return
	}
	if via.Normalize != "" && (col.Kind != KindText || fcol.Kind != KindText) {
		v.fail("%s: via normalize %q applies to text, but %s is %s and %s is %s", what, via.Normalize, where, col.Type, fwhere, fcol.Type)
		return
	}
	switch {
	case via.Normalize != "":
		v.warnings = append(v.warnings, fmt.Sprintf("%s: via compares %s(%s) with %s(%s): without an index on those expressions every forget scans %s and %s", what, via.Normalize, where, via.Normalize, fwhere, t.Name, ft.Name))
	case !t.Indexed(col.Name):
		v.warnings = append(v.warnings, fmt.Sprintf("%s: via column %s has no index: every forget scans the table", what, where))
	}

	// Exclusive: every value of From's column is in one row, and that
	// row is the customer's alone.
	unique := via.Normalize == "" && ft.Unique(fcol.Name)
	parentExclusive := f.kind != fromVia || l.exclusive[f.via]
	exclusive := unique && parentExclusive
	l.exclusive[name] = exclusive
	if !exclusive && rt.Shared == "" {
		why := ""
		switch {
		case via.Normalize != "":
			why = fmt.Sprintf("it compares normalised values (%s), which two customers' different values can share", via.Normalize)
		case !unique:
			why = fmt.Sprintf("%s has no primary key or unique index of its own, so another customer's row can hold the same value", fwhere)
		default:
			why = fmt.Sprintf("it is reached through table %s, which is itself shared", f.via)
		}
		v.fail("%s: via %s = %s can reach another customer's rows: %s; declare \"shared\": \"keep\" (a forget leaves rows another customer reaches too, and counts them in rows_shared) or \"shared\": \"refuse\" (such a forget fails, a conflict), or reach the table by a unique column", what, where, fwhere, why)
	}

	// From's row points at this table's: it must stop pointing before the
	// row goes, and be able to.
	for _, fk := range ft.ForeignKeys {
		if fk.RefTable == t.Name && len(fk.Columns) == 1 && ft.sameColumn(fk.Columns[0], fcol.Name) && len(fk.RefColumns) == 1 && t.sameColumn(fk.RefColumns[0], col.Name) {
			l.pointer[name] = true
		}
	}
	for _, fk := range t.ForeignKeys {
		// A CASCADE or SET NULL child follows its parent on its own
		// (and cascade.go refuses what that would break).
		if fk.RefTable == ft.Name && len(fk.Columns) == 1 && t.sameColumn(fk.Columns[0], col.Name) && len(fk.RefColumns) == 1 && ft.sameColumn(fk.RefColumns[0], fcol.Name) && !changesRows(fk.OnDelete) {
			l.child[name] = true
		}
	}
	if from := v.s.catalogueOf(f); l.child[name] && scrubbed[name] && from != "" && !scrubbed[from] {
		v.fail("%s: its rows stay (scrubbed), but they reference the rows of %s (%s -> %s), which a forget deletes: the key would refuse every such forget; delete the table's rows instead of scrubbing them, or scrub %s", what, from, where, fwhere, from)
	}
	if !exclusive && via.Normalize == "" && !ft.Indexed(fcol.Name) {
		v.warnings = append(v.warnings, fmt.Sprintf("%s: from column %s has no index: every forget scans %s for other customers' rows", what, fwhere, ft.Name))
	}
	if l.pointer[name] && !scrubbed[name] && v.fromRowsStay(f, scrubbed) && !fcol.Nullable {
		v.fail("%s: %s points to the rows a forget deletes and stays, but it is NOT NULL, so it cannot be detached first; scrub table %s instead of deleting its rows (\"scrub\"), or let %s be NULL", what, fwhere, name, fwhere)
	}
	if ft.Name == t.Name {
		v.fail("%s: via from %s is the table itself", what, fwhere)
	}
}

// fromRowsStay reports whether the customer's rows of From's table stay
// when a forget deletes the Via table's: the customers, joined and lookup
// tables' do, and a scrubbed table's.
func (v *verifier) fromRowsStay(f viaFrom, scrubbed map[forget.Table]bool) bool {
	switch f.kind {
	case fromCustomers:
		return true
	case fromVia:
		return scrubbed[f.via]
	}
	for name, rt := range v.s.schema.Tables {
		if rt.Via == nil && strings.EqualFold(rt.Table, f.table) {
			return scrubbed[name]
		}
	}
	return true // joined or lookup
}

// fixedWidth reports whether a column type is a blank-padded CHAR(n)
// (PostgreSQL's character(n) or bpchar, CHAR(n) and NCHAR(n) elsewhere).
func fixedWidth(typ string) bool {
	t := strings.ToLower(strings.TrimSpace(typ))
	switch {
	case strings.HasPrefix(t, "character varying"), strings.HasPrefix(t, "char varying"):
		return false
	case strings.HasPrefix(t, "character"), strings.HasPrefix(t, "bpchar"), strings.HasPrefix(t, "nchar"):
		return true
	}
	return t == "char" || strings.HasPrefix(t, "char(")
}
