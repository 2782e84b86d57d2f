package sqlstore

import (
	"slices"
	"strings"
)

// How tables reach a customer besides a key column: foreign keys in both
// directions, and the mapping's value links (Via).

// byForeignKeys reaches, breadth first, every table with a foreign key
// to a table reached before, so that each gets its shortest chain; each
// table's first such key (in its order) wins among chains of one length.
// Its rows are the customer's: the children of the customer's rows.
func (c *coverer) byForeignKeys() {
	type edge struct {
		from *TableInfo
		fk   int
	}
	incoming := map[*TableInfo][]edge{}
	for i := range c.in.Tables {
		t := &c.in.Tables[i]
		for j, fk := range t.ForeignKeys {
			if ref := c.table(fk.RefTable); ref != nil && ref != t {
				incoming[ref] = append(incoming[ref], edge{t, j})
			}
		}
	}
	frontier := slices.Clone(c.order)
	for len(frontier) > 0 {
		// The candidates of this round, each with its first key to a
		// table of the frontier, in table order.
		best := map[*TableInfo]int{}
		parent := map[*TableInfo]*TableInfo{}
		var found []*TableInfo
		for _, ref := range frontier {
			for _, e := range incoming[ref] {
				if c.tables[e.from] != nil {
					continue
				}
				if j, ok := best[e.from]; !ok || e.fk < j {
					if !ok {
						found = append(found, e.from)
					}
					best[e.from], parent[e.from] = e.fk, ref
				}
			}
		}
		slices.SortFunc(found, func(a, b *TableInfo) int { return strings.Compare(a.Name, b.Name) })
		for _, t := range found {
			fk := t.ForeignKeys[best[t]]
			ref := parent[t]
			hop := Hop{Table: t.Name, Columns: fk.Columns, RefTable: ref.Name, RefColumns: fk.RefColumns}
			c.reach(t, "through "+strings.Join(hop.Columns, ", ")+" → "+hop.RefTable, "", nil)
			c.links[t] = link{parent: ref, hop: hop, depth: c.links[ref].depth + 1}
		}
		frontier = found
	}
}

// byReferences reaches, breadth first, every table that a reached
// table's foreign key points to (customers.home_address_id → addresses,
// customer_phones.phone_id → phones, and on up: addresses.country_id →
// countries). Those rows may be shared with other customers, so their own
// children are not followed: only a mapping (a Via) makes them the
// customer's.
func (c *coverer) byReferences() {
	frontier := slices.Clone(c.order)
	for len(frontier) > 0 {
		// In frontier order (itself by name after the first round), each
		// table's keys in their order: the first that reaches a table wins.
		var found []*TableInfo
		for _, from := range frontier {
			for _, fk := range from.ForeignKeys {
				ref := c.table(fk.RefTable)
				if ref == nil || ref == from || c.tables[ref] != nil {
					continue
				}
				hop := Hop{Table: ref.Name, Columns: fk.RefColumns, RefTable: from.Name, RefColumns: fk.Columns, Referenced: true}
				c.reach(ref, "referred to by "+from.Name+"."+strings.Join(fk.Columns, ", "), "", nil)
				c.links[ref] = link{parent: from, hop: hop, depth: c.links[from].depth + 1}
				found = append(found, ref)
			}
		}
		slices.SortFunc(found, func(a, b *TableInfo) int { return strings.Compare(a.Name, b.Name) })
		frontier = found
	}
}

// chains writes out each table's chain to a table that holds the
// customer key: its foreign keys (either way), then, where one ends at a
// table the mapping reaches by a value link, one hop to the table the
// Via reads, then that table's own chain. Depth is its length, of which
// Via lists at most maxVia hops: a schema's chains may be as long as it
// has tables. A normalised comparison or a mention is no join: it counts
// in Depth but lists no hop, so that rows reached through it are not
// counted.
func (c *coverer) chains() {
	memo := map[*TableInfo]*chain{}
	for _, t := range c.order {
		ch := c.chainOf(t, memo)
		tc := c.tables[t]
		tc.Via, tc.Depth = ch.hops, ch.depth
	}
}

type chain struct {
	hops  []Hop
	depth int
}

func (c *coverer) chainOf(t *TableInfo, memo map[*TableInfo]*chain) *chain {
	if ch := memo[t]; ch != nil {
		return ch
	}
	ch := &chain{depth: 1} // a cycle of value links: no join
	memo[t] = ch
	var hop Hop
	var next *TableInfo
	if l := c.links[t]; l.parent != nil {
		hop, next = l.hop, l.parent
	} else if v := c.vias[t]; v != nil {
		from, col := c.viaFrom(v)
		if from == nil || from == t || c.tables[from] == nil || v.Mentions || v.Normalize != "" || v.Column == "" {
			return ch
		}
		hop, next = Hop{Table: t.Name, Columns: []string{v.Column}, RefTable: from.Name, RefColumns: []string{col}}, from
	} else {
		ch.depth = 0
		return ch
	}
	up := c.chainOf(next, memo)
	ch.depth = up.depth + 1
	ch.hops = append([]Hop{hop}, up.hops[:min(len(up.hops), maxVia-1)]...)
	return ch
}

// viaFrom resolves a Via's From: the table, and the column as the table
// spells it; nil when there is none.
func (c *coverer) viaFrom(v *Via) (*TableInfo, string) {
	table, column, ok := splitRetain(v.From)
	if !ok {
		return nil, ""
	}
	t := c.table(table)
	if col := t.Column(column); col != nil {
		return t, col.Name
	}
	return nil, ""
}

// viaReach says how a Via reaches its table's rows.
func viaReach(v *Via) string {
	if v.Mentions {
		return "every row whose columns mention the customer's values"
	}
	how := "by " + v.Column + " = " + v.From
	if v.Normalize != "" {
		how += " (" + v.Normalize + ")"
	}
	return how
}

// maxVia bounds the hops of a chain a TableCoverage lists, and so the
// joins that count a customer's rows in it.
const maxVia = 32

// link is how a table reached through a foreign key reaches its parent.
type link struct {
	parent *TableInfo
	hop    Hop
	depth  int // hops to a table that holds the customer key
}
