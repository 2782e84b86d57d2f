package sqlstore

import (
	"strings"

	"github.com/forgetkit/forget"
)

// A Via table's rows are found through one key: its From column. A forget
// asks that column, and only it, whether another customer's row holds a
// row too (shared). Any other foreign key into the Via table is a second
// way to hold its rows that the forget never asks: another customer's
// customers.work_address_id pointing at the customer's home address, or
// another customer's delivery to it. Deleting the row would then set
// their key NULL, delete their row (ON DELETE CASCADE) or fail the forget
// (NO ACTION); scrubbing it would overwrite an address they use. Verify
// refuses such a Via table; the keys it follows itself are fine: From's
// own key, the keys of the Via tables reached through it (their rows
// referring to the customer's are theirs by the via), and keys of the
// table to its own rows (verify_restrict.go warns about those).

// viaForeignRefs refuses each Via table of cat that a foreign key other
// than its own chain's refers to.
func (v *verifier) viaForeignRefs(cat forget.Catalogue) {
	sc := v.s.schema
	for _, ts := range cat.Tables {
		rt, ok := sc.Tables[ts.Name]
		if !ok || rt.Via == nil || rt.Via.Mentions {
			continue
		}
		t := v.in.Table(rt.Table)
		if t == nil {
			continue // reported by verifier.tables
		}
		f, err := sc.resolveFrom(rt.Via)
		if err != nil {
			continue // reported by viaTable
		}
		fromWhere := f.table + "." + f.column
		for i := range v.in.Tables {
			child := &v.in.Tables[i]
			if child.Name == t.Name {
				continue
			}
			for _, fk := range child.ForeignKeys {
				if v.in.Table(fk.RefTable) != t || v.viaOwnKey(child, fk, t, rt, f) {
					continue
				}
				action := fk.OnDelete
				if action == "" {
					action = "NO ACTION"
				}
				v.fail("table %s: its rows are found through %s, but %s(%s) -> %s(%s) (ON DELETE %s) refers to them too, and a forget asks only %s whether another customer holds a row: forgetting one customer would change, delete or be refused by the rows of other customers (or of no customer) that refer to it by that key; leave table %s out of the mapping (erase what the customer's own rows hold instead), or make %s the only foreign key to %s",
					ts.Name, fromWhere, child.Name, strings.Join(fk.Columns, ", "), t.Name, strings.Join(fk.RefColumns, ", "), action, fromWhere, ts.Name, fromWhere, t.Name)
			}
		}
	}
}

// viaOwnKey reports whether fk, of table child into the Via table t
// (mapped as rt, reached through f), is one the via follows: From's own
// key, or the key of a Via table reached through t by that very column.
func (v *verifier) viaOwnKey(child *TableInfo, fk ForeignKeyInfo, t *TableInfo, rt RelatedTable, f viaFrom) bool {
	if len(fk.Columns) != 1 || len(fk.RefColumns) != 1 {
		return false
	}
	if ft := v.in.Table(f.table); ft == child && child.sameColumn(fk.Columns[0], f.column) && t.sameColumn(fk.RefColumns[0], rt.Via.Column) {
		return true
	}
	sc := v.s.schema
	for _, name := range sortedKeys(sc.Tables) {
		crt := sc.Tables[name]
		if crt.Via == nil || crt.Via.Mentions || v.in.Table(crt.Table) != child || !child.sameColumn(fk.Columns[0], crt.Via.Column) {
			continue
		}
		cf, err := sc.resolveFrom(crt.Via)
		if err == nil && cf.kind == fromVia && v.in.Table(cf.table) == t && t.sameColumn(fk.RefColumns[0], cf.column) {
			return true
		}
	}
	return false
}
