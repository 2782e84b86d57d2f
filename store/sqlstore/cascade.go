package sqlstore

import (
	"fmt"
	"sort"
	"strings"

	"github.com/forgetkit/forget"
)

// cascadeGraph is what Verify learnt of the foreign keys whose ON DELETE
// or ON UPDATE action changes a child table's rows when a forget deletes
// or rewrites the parent's: a keep list must not name such a child while
// erasing its parent. Names are the introspected ones (TableInfo.Name).
type cascadeGraph struct {
	tables map[forget.Table]string    // mapped catalogue table -> its table
	fields map[forget.Field][2]string // mapped field -> table, column
	edges  map[string][]cascadeEdge   // by parent table
}

type cascadeEdge struct {
	child    string
	fkCols   []string // the child's referencing columns
	columns  []string // the parent's referenced columns
	onDelete string   // CASCADE, SET NULL or SET DEFAULT; "" for none
	onUpdate string
}

// changesRows reports whether an FK action writes the child's rows.
func changesRows(action string) bool {
	return action == "CASCADE" || action == "SET NULL" || action == "SET DEFAULT"
}

// cascades builds the graph from the introspection.
func (v *verifier) cascades() *cascadeGraph {
	g := &cascadeGraph{tables: map[forget.Table]string{}, fields: map[forget.Field][2]string{}, edges: map[string][]cascadeEdge{}}
	for name, rt := range v.s.schema.Tables {
		if t := v.in.Table(rt.Table); t != nil {
			g.tables[name] = t.Name
		}
	}
	for name, m := range v.s.schema.Fields {
		if t := v.in.Table(m.Table); t != nil {
			g.fields[name] = [2]string{t.Name, m.Column}
		}
	}
	for _, t := range v.in.Tables {
		for _, fk := range t.ForeignKeys {
			e := cascadeEdge{child: t.Name, fkCols: fk.Columns, columns: fk.RefColumns}
			if changesRows(fk.OnDelete) {
				e.onDelete = fk.OnDelete
			}
			if changesRows(fk.OnUpdate) {
				e.onUpdate = fk.OnUpdate
			}
			if e.onDelete != "" || e.onUpdate != "" {
				g.edges[fk.RefTable] = append(g.edges[fk.RefTable], e)
			}
		}
	}
	return g
}

// reach follows the edges from a table whose rows are deleted (or, with
// columns, whose columns are rewritten) and calls found for each table
// whose rows change, with the chain that changes them. Deleted rows
// cascade further; rows set to NULL or their default do only through
// ON UPDATE, which this does not follow (it stops at the first change).
func (g *cascadeGraph) reach(from string, columns []string, found func(table, via string)) {
	g.walk(from, columns, func(c cascadeChange) { found(c.table, c.via) })
}

// cascadeChange is a table whose rows a forget changes through a foreign
// key: deleted, or with setCols set to NULL, a default or a new key.
type cascadeChange struct {
	table, via string
	deleted    bool
	setCols    []string
}

// walk is reach with what each change does.
func (g *cascadeGraph) walk(from string, columns []string, found func(cascadeChange)) {
	// A table is seen per change: reached first by SET NULL, it may
	// still be reached later by a CASCADE that deletes its rows.
	seen := map[string]bool{changeKey(cascadeChange{table: from, deleted: true}): true}
	var queue []cascadeChange
	follow := func(e cascadeEdge, via, action string) {
		c := cascadeChange{table: e.child, via: via + " -(" + action + ")-> " + e.child, deleted: action == "ON DELETE CASCADE"}
		if !c.deleted {
			c.setCols = e.fkCols
		}
		queue = append(queue, c)
	}
	for _, e := range g.edges[from] {
		switch {
		case columns == nil && e.onDelete != "":
			follow(e, from, "ON DELETE "+e.onDelete)
		case columns != nil && e.onUpdate != "" && overlaps(e.columns, columns):
			follow(e, from, "ON UPDATE "+e.onUpdate)
		}
	}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if seen[changeKey(c)] || seen[changeKey(cascadeChange{table: c.table, deleted: true})] {
			continue
		}
		seen[changeKey(c)] = true
		found(c)
		if !c.deleted {
			continue // set to NULL, a default or a new key: the rows stay
		}
		for _, e := range g.edges[c.table] {
			if e.onDelete != "" {
				follow(e, c.via, "ON DELETE "+e.onDelete)
			}
		}
	}
}

// changeKey names what a change does to its table.
func changeKey(c cascadeChange) string {
	if c.deleted {
		return c.table + "\x00deleted"
	}
	return c.table + "\x00" + strings.Join(c.setCols, ",")
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if containsFold(b, x) {
			return true
		}
	}
	return false
}

// checkCascades refuses a plan that keeps a table whose rows the
// database itself would delete or rewrite because the plan erases a
// table (or a column) they reference. It needs Verify's graph; a store
// that was never verified is not checked.
func (s *Store) checkCascades(p forget.Plan) error {
	g := s.cascadeGraph.Load()
	if g == nil || len(g.edges) == 0 {
		return nil
	}
	erased := map[forget.Table]bool{}
	for _, a := range p.Tables {
		erased[a.Table] = true
	}
	kept := map[string]forget.Table{}
	for name, table := range g.tables {
		if !erased[name] {
			kept[table] = name
		}
	}
	erasedField := map[forget.Field]bool{}
	for _, a := range p.Fields {
		erasedField[a.Field] = true
	}
	keptFields := map[string][]forget.Field{} // by table
	for _, name := range sortedKeys(g.fields) {
		if tc := g.fields[name]; !erasedField[name] {
			keptFields[tc[0]] = append(keptFields[tc[0]], name)
		}
	}
	var refusal error
	check := func(erasedName string) func(cascadeChange) {
		return func(c cascadeChange) {
			if refusal != nil {
				return
			}
			if k, ok := kept[c.table]; ok {
				refusal = &forget.CascadeError{Kept: string(k), Erased: erasedName, Via: c.via}
				return
			}
			// A kept field's row deleted, or its column set.
			for _, f := range keptFields[c.table] {
				if c.deleted || containsFold(c.setCols, g.fields[f][1]) {
					refusal = &forget.CascadeError{Kept: string(f), Erased: erasedName, Via: c.via}
					return
				}
			}
		}
	}
	for _, a := range p.Tables {
		table, ok := g.tables[a.Table]
		if !ok {
			continue
		}
		if len(a.Scrub) == 0 {
			g.walk(table, nil, check(string(a.Table)))
			continue
		}
		cols := make([]string, len(a.Scrub))
		for i, c := range a.Scrub {
			cols[i] = c.Column
		}
		g.walk(table, cols, check(string(a.Table)))
	}
	for _, a := range p.Fields {
		if tc, ok := g.fields[a.Field]; ok {
			g.walk(tc[0], []string{tc[1]}, check(string(a.Field)))
		}
	}
	return refusal
}

// cascadeWarnings names each mapped table that a forget erasing another
// mapped table or field changes through a foreign key: keeping it alone
// is refused. The mapping cannot make this certain (every entry may be
// kept), so it is a warning at start-up and a refusal per request.
func (g *cascadeGraph) warnings() []string {
	byTable := map[string]forget.Table{}
	for name, table := range g.tables {
		byTable[table] = name
	}
	var out []string
	note := func(erased string) func(table, via string) {
		return func(table, via string) {
			if k, ok := byTable[table]; ok && string(k) != erased {
				out = append(out, fmt.Sprintf("a foreign key makes erasing %s change table %s (%s): a request keeping %s without %s is refused", erased, k, via, k, erased))
			}
		}
	}
	for name, table := range g.tables {
		g.reach(table, nil, note(string(name)))
		// walk never revisits its start, and a key to the table's own
		// rows may reach other customers' (a reply to a note).
		for _, e := range g.edges[table] {
			if e.child == table && e.onDelete != "" {
				out = append(out, fmt.Sprintf("a foreign key makes a forget that deletes rows of table %s change the rows that refer to them (%s -(ON DELETE %s)-> %s), which may be other customers' rows", name, table, e.onDelete, table))
			}
		}
	}
	for name, tc := range g.fields {
		g.reach(tc[0], []string{tc[1]}, note(string(name)))
	}
	sort.Strings(out)
	return out
}

// deletedFrom lists the tables whose rows a forget that erases every
// mapped table deletes through ON DELETE actions, besides the mapped ones.
func (g *cascadeGraph) deletedFrom() []string {
	var out []string
	for _, table := range g.tables {
		g.reach(table, nil, func(child, _ string) { out = append(out, child) })
	}
	sort.Strings(out)
	return out
}

// retained refuses a Retain entry (a column the host keeps on purpose)
// whose rows every forget that erases a mapped table deletes, or whose
// column it sets, through a foreign key: the mapping alone makes it
// certain that what it says is kept is not.
func (v *verifier) retained(g *cascadeGraph) {
	for _, key := range sortedKeys(v.s.schema.Retain) {
		table, column, ok := splitRetain(key)
		t := v.in.Table(table)
		if !ok || t == nil {
			continue
		}
		for _, name := range sortedKeys(g.tables) {
			refused := false
			g.walk(g.tables[name], nil, func(c cascadeChange) {
				if refused || c.table != t.Name || !c.deleted && !containsFold(c.setCols, column) {
					return
				}
				refused = true
				v.fail("retain %s: the column is kept on purpose, but every forget that erases table %s changes it through a foreign key (%s); change the key's ON DELETE action or drop the retain entry", key, name, c.via)
			})
			if refused {
				break
			}
		}
	}
}
