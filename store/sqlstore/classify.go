package sqlstore

import (
	"fmt"
	"slices"
	"strings"

	"github.com/forgetkit/forget"
)

// coverer classifies the columns of one Introspection.
type coverer struct {
	in      *Introspection
	s       Schema
	tables  map[*TableInfo]*TableCoverage
	order   []*TableInfo
	deleted map[*TableInfo]string // tables whose rows a forget deletes, and why
	// deletedBy names the catalogue table whose purge deletes them.
	deletedBy map[*TableInfo]string
	mapped    map[*TableInfo]bool // tables whose rows the mapping finds by a key column
	cls       map[*TableInfo]map[string]assigned
	links     map[*TableInfo]link
	vias      map[*TableInfo]*Via   // tables the mapping reaches by a value link
	byName    map[string]*TableInfo // see table
	triggered map[*TableInfo]bool   // tables reached because a trigger writes them
	notes     []string
}

type assigned struct {
	class Class
	by    string
	entry string // the catalogue entry that erases the column, if any
}

// rank orders the classes when several apply: what the forget does wins
// over what the host declares, which wins over the structure.
func rank(c Class) int {
	switch c {
	case ClassErased:
		return 3
	case ClassRetained:
		return 2
	case ClassKey:
		return 1
	}
	return 0
}

func cover(in *Introspection, s Schema, cat forget.Catalogue, auditTable string) *Coverage {
	c := &coverer{in: in, s: s, tables: map[*TableInfo]*TableCoverage{}, deleted: map[*TableInfo]string{}, deletedBy: map[*TableInfo]string{},
		mapped: map[*TableInfo]bool{}, cls: map[*TableInfo]map[string]assigned{}, links: map[*TableInfo]link{},
		vias: map[*TableInfo]*Via{}, triggered: map[*TableInfo]bool{}}
	if in == nil {
		return &Coverage{}
	}
	var audit *TableInfo
	if auditTable != "" {
		audit = in.Table(auditTable)
	} else {
		// Without the store, a table with the audit table's columns is
		// taken for a forget's audit trail.
		for i := range in.Tables {
			if looksLikeAudit(&in.Tables[i]) {
				audit = &in.Tables[i]
				break
			}
		}
	}
	if audit != nil {
		c.reach(audit, "the audit trail of forgets", "customer_id", nil)
		for _, col := range audit.Columns {
			c.assign(audit, col.Name, ClassRetained, "forget's audit trail: ids, names and counts, no values")
		}
	}
	c.mappedTables(cat)
	c.byColumnName()
	c.byForeignKeys()
	c.byReferences()
	c.byTriggers()
	c.chains()
	c.cascades()
	c.structure()
	c.generated()
	c.byViews()
	c.retain()

	cov := &Coverage{Notes: c.notes}
	for _, t := range c.order {
		tc := c.tables[t]
		for _, col := range t.Columns {
			a := c.cls[t][col.Name]
			cc := ColumnCoverage{Column: col.Name, Type: col.Type, Class: a.class, By: a.by, kind: col.Kind, entry: a.entry,
				deleted: a.class == ClassErased && c.deleted[t] != "" && a.by == c.deleted[t]}
			switch cc.Class {
			case "":
				cc.Class = ClassUnclassified
				hint := personalHint(col.Name, col.Type)
				if hint == "" && t.View == MaterializedView {
					hint = "a materialized view holds a copy that a forget cannot write: refresh it after a forget, and retain the column"
				}
				if hint == "" && c.triggered[t] {
					hint = "a host trigger writes this table: it may copy what a forget erases"
				}
				if hint != "" {
					cc.LikelyPersonal, cc.Hint = true, hint
				}
			case ClassKey:
				// A key that holds an e-mail address or a phone number
				// is personal all the same, and a forget leaves it.
				if hint := keyPersonalHint(&col); hint != "" {
					cc.Class, cc.LikelyPersonal, cc.Hint = ClassUnclassified, true, "a key ("+a.by+"), but "+hint
				}
			}
			tc.Columns = append(tc.Columns, cc)
		}
		cov.Tables = append(cov.Tables, *tc)
	}
	customers := in.Table(s.Customers.Table)
	slices.SortStableFunc(cov.Tables, func(a, b TableCoverage) int {
		switch {
		case a.info == b.info:
			return 0
		case a.info == customers:
			return -1
		case b.info == customers:
			return 1
		case (a.Kind == "") != (b.Kind == ""):
			if a.Kind == "" {
				return -1 // tables, then views
			}
			return 1
		}
		return strings.Compare(a.Table, b.Table)
	})
	cov.Skipped = in.Skipped
	cov.summarise()
	return cov
}

// table is in.Table with an index: foreign keys name their tables as
// in.Table does, and a schema may have thousands.
func (c *coverer) table(name string) *TableInfo {
	if c.byName == nil {
		c.byName = make(map[string]*TableInfo, len(c.in.Tables))
		for i := range c.in.Tables {
			t := &c.in.Tables[i]
			c.byName[t.Name] = t
			if c.in.foldTables {
				c.byName[strings.ToLower(t.Name)] = t
			}
		}
	}
	if t, ok := c.byName[name]; ok {
		return t
	}
	if c.in.foldTables {
		if t, ok := c.byName[strings.ToLower(name)]; ok {
			return t
		}
	}
	return c.in.Table(name) // "main.customers", "<current>.customers"
}

// reach records that t reaches a customer, unless it already does.
func (c *coverer) reach(t *TableInfo, how, keyCol string, via []Hop) bool {
	if t == nil || c.tables[t] != nil {
		return false
	}
	c.tables[t] = &TableCoverage{Table: t.Name, Kind: t.View, Reach: how, Via: via, info: t, keyCol: keyCol}
	c.order = append(c.order, t)
	return true
}

// assign puts column col of t in class, unless a higher class holds it.
func (c *coverer) assign(t *TableInfo, col string, class Class, by string) {
	c.assignEntry(t, col, class, by, "")
}

// assignEntry is assign for a column erased by catalogue entry entry.
func (c *coverer) assignEntry(t *TableInfo, col string, class Class, by, entry string) {
	if t == nil {
		return
	}
	ci := t.Column(col)
	if ci == nil {
		return // Verify reports missing columns
	}
	m := c.cls[t]
	if m == nil {
		m = map[string]assigned{}
		c.cls[t] = m
	}
	if prev, ok := m[ci.Name]; ok && rank(prev.class) >= rank(class) {
		return
	}
	m[ci.Name] = assigned{class, by, entry}
}

// mappedTables reaches and classifies what the mapping names.
func (c *coverer) mappedTables(cat forget.Catalogue) {
	s := c.s
	cust := c.table(s.Customers.Table)
	c.reach(cust, "customers table", s.Customers.Key, nil)
	c.mapped[cust] = cust != nil
	c.assign(cust, s.Customers.Key, ClassKey, "customers key")
	for _, name := range sortedKeys(s.Joined) {
		t := c.table(name)
		c.reach(t, "one row per customer, by "+s.Joined[name], s.Joined[name], nil)
		c.mapped[t] = t != nil
		c.assign(t, s.Joined[name], ClassKey, "customer key")
	}
	for _, lt := range []struct {
		name string
		t    *LookupTable
	}{{forget.KeySubscriptionID, s.Subscriptions}, {forget.KeyOrderID, s.Orders}} {
		if lt.t == nil {
			continue
		}
		t := c.table(lt.t.Table)
		c.reach(t, lt.name+" lookup table, by "+lt.t.CustomerKey, lt.t.CustomerKey, nil)
		c.mapped[t] = t != nil
		c.assign(t, lt.t.Key, ClassKey, lt.name+" lookup key")
		c.assign(t, lt.t.CustomerKey, ClassKey, "customer key")
	}
	for _, f := range cat.Fields {
		col, ok := s.Fields[f.Name]
		if !ok {
			continue
		}
		t := c.table(col.Table)
		c.assignEntry(t, col.Column, ClassErased, fmt.Sprintf("field %s (%s)", f.Name, f.Rule), string(f.Name))
	}
	for _, ts := range cat.Tables {
		rt, ok := s.Tables[ts.Name]
		if !ok {
			continue
		}
		t := c.table(rt.Table)
		how := "catalogue table " + string(ts.Name) + ", by " + rt.CustomerKey
		if rt.Via != nil {
			how = "catalogue table " + string(ts.Name) + ", " + viaReach(rt.Via)
			if t != nil && c.tables[t] == nil {
				c.vias[t] = rt.Via
			}
		}
		c.reach(t, how, rt.CustomerKey, nil)
		c.mapped[t] = t != nil
		if t == nil {
			continue
		}
		if len(ts.Scrub) == 0 {
			c.deleted[t] = "table " + string(ts.Name) + ": rows deleted"
			c.deletedBy[t] = string(ts.Name)
			continue
		}
		if rt.Via != nil && rt.Via.Column != "" {
			c.assign(t, rt.Via.Column, ClassKey, "value link from "+rt.Via.From)
		}
		c.assign(t, rt.CustomerKey, ClassKey, "customer key")
		for _, sc := range ts.Scrub {
			c.assignEntry(t, sc.Column, ClassErased, fmt.Sprintf("table %s: scrubbed (%s)", ts.Name, sc.Rule), string(ts.Name))
		}
	}
	for _, h := range s.Holds {
		t := c.table(h.Table)
		c.reach(t, "hold "+h.Name+", by "+h.CustomerKey, h.CustomerKey, nil)
		c.mapped[t] = t != nil
		c.assign(t, h.CustomerKey, ClassKey, "customer key")
	}
}

// customerKeyNames are the column names that hold a customer key in the
// mapping, lower case.
func (c *coverer) customerKeyNames() []string {
	s := c.s
	names := []string{s.Customers.Key}
	for _, k := range s.Joined {
		names = append(names, k)
	}
	for _, lt := range []*LookupTable{s.Subscriptions, s.Orders} {
		if lt != nil {
			names = append(names, lt.CustomerKey)
		}
	}
	for _, rt := range s.Tables {
		names = append(names, rt.CustomerKey)
	}
	for _, h := range s.Holds {
		names = append(names, h.CustomerKey)
	}
	for i := range names {
		names[i] = strings.ToLower(names[i])
	}
	names = slices.DeleteFunc(names, func(n string) bool { return n == "" }) // a Via's table has none
	slices.Sort(names)
	return slices.Compact(names)
}

// byColumnName reaches every table that has a column named like a
// customer key.
func (c *coverer) byColumnName() {
	names := c.customerKeyNames()
	if strings.EqualFold(c.s.Customers.Key, "id") {
		// Rails-style: every table's own key is "id"; a column of that
		// name names the table's row, never a customer.
		names = slices.DeleteFunc(names, func(n string) bool { return n == "id" })
	}
	for i := range c.in.Tables {
		t := &c.in.Tables[i]
		if c.tables[t] != nil {
			continue
		}
		for _, col := range t.Columns {
			if slices.Contains(names, strings.ToLower(col.Name)) {
				c.reach(t, "column "+col.Name, col.Name, nil)
				c.assign(t, col.Name, ClassKey, "customer key (by its name)")
				break
			}
		}
	}
}

// cascades finds the tables whose rows go with a purged table's rows
// (ON DELETE CASCADE, through any number of tables), the columns a purge
// sets to NULL or their default, and the purges a RESTRICT would refuse.
func (c *coverer) cascades() {
	for changed := true; changed; {
		changed = false
		for _, t := range c.order {
			if c.deleted[t] != "" || c.mapped[t] {
				continue
			}
			for _, fk := range t.ForeignKeys {
				ref := c.table(fk.RefTable)
				if ref != nil && ref != t && c.deleted[ref] != "" && fk.OnDelete == "CASCADE" {
					c.deleted[t] = "rows deleted with " + ref.Name + "'s (ON DELETE CASCADE)"
					c.deletedBy[t] = c.deletedBy[ref]
					changed = true
					break
				}
			}
		}
	}
	for _, t := range c.order {
		if c.deleted[t] != "" {
			for _, col := range t.Columns {
				c.assignEntry(t, col.Name, ClassErased, c.deleted[t], c.deletedBy[t])
			}
			continue
		}
		for _, fk := range t.ForeignKeys {
			ref := c.table(fk.RefTable)
			if ref == nil || c.deleted[ref] == "" {
				continue
			}
			switch fk.OnDelete {
			case "SET NULL", "SET DEFAULT":
				for _, col := range fk.Columns {
					c.assignEntry(t, col, ClassErased, "set to "+strings.TrimPrefix(strings.ToLower(fk.OnDelete), "set ")+" when "+ref.Name+"'s rows are deleted (ON DELETE "+fk.OnDelete+")", c.deletedBy[ref])
				}
			default: // RESTRICT, NO ACTION
				if c.ownRow(t) && len(fk.Columns) == 1 {
					if col := t.Column(fk.Columns[0]); col != nil && col.Nullable {
						// The forget detaches it first (verify_restrict.go).
						c.assignEntry(t, col.Name, ClassErased, "set to null before "+ref.Name+"'s rows are deleted (detached)", c.deletedBy[ref])
						continue
					}
					c.notes = append(c.notes, fmt.Sprintf("a forget deletes the customer's rows of %s, but %s.%s, NOT NULL, refers to them (ON DELETE %s): the forget cannot detach it first and fails while such rows exist; scrub %s instead, or let the column be NULL",
						ref.Name, t.Name, fk.Columns[0], fk.OnDelete, ref.Name))
					continue
				}
				c.notes = append(c.notes, fmt.Sprintf("a forget deletes the customer's rows of %s, but %s.%s refers to them (ON DELETE %s): the forget fails while such rows exist; make it ON DELETE CASCADE, or purge %s too",
					ref.Name, t.Name, strings.Join(fk.Columns, ", "), fk.OnDelete, t.Name))
			}
		}
	}
}

// ownRow reports whether t holds the customer's own row, which a forget
// keeps: the customers table or a joined table.
func (c *coverer) ownRow(t *TableInfo) bool {
	if c.table(c.s.Customers.Table) == t {
		return true
	}
	for jt := range c.s.Joined {
		if c.table(jt) == t {
			return true
		}
	}
	return false
}

// structure classifies primary-key and foreign-key columns as keys.
func (c *coverer) structure() {
	for _, t := range c.order {
		for _, col := range t.PrimaryKey {
			c.assign(t, col, ClassKey, "primary key")
		}
		for _, fk := range t.ForeignKeys {
			for _, col := range fk.Columns {
				c.assign(t, col, ClassKey, "foreign key to "+fk.RefTable)
			}
		}
	}
}

// retain classifies the mapping's Retain entries, and notes those that
// name nothing or a column the forget erases anyway.
func (c *coverer) retain() {
	for _, key := range sortedKeys(c.s.Retain) {
		table, column, ok := splitRetain(key)
		if !ok {
			continue // Validate refuses it
		}
		t := c.table(table)
		if t == nil {
			t = c.in.View(table)
		}
		switch {
		case t == nil:
			c.notes = append(c.notes, fmt.Sprintf("retain %s: there is no table %s", key, table))
			continue
		case c.tables[t] == nil:
			c.notes = append(c.notes, fmt.Sprintf("retain %s: table %s does not reach a customer", key, t.Name))
			continue
		case t.Column(column) == nil:
			c.notes = append(c.notes, fmt.Sprintf("retain %s: table %s has no column %s", key, t.Name, column))
			continue
		}
		name := t.Column(column).Name
		if a := c.cls[t][name]; a.class == ClassErased {
			c.notes = append(c.notes, fmt.Sprintf("retain %s: the forget erases it all the same (%s)", key, a.by))
			continue
		}
		c.assign(t, name, ClassRetained, c.s.Retain[key])
	}
	// An activity column is kept on purpose too: the retention sweep
	// reads it. A Retain entry's own reason, or a rule that erases it,
	// wins.
	if t := c.table(c.s.Customers.Table); t != nil && c.tables[t] != nil {
		for _, a := range c.s.Activity {
			col := t.Column(a.Column)
			if col == nil || c.cls[t][col.Name].class != "" {
				continue
			}
			c.assign(t, col.Name, ClassRetained, "activity: the retention sweep reads when the customer was last active")
		}
	}
}
