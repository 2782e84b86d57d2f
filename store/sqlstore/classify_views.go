package sqlstore

import (
	"fmt"
	"strings"
)

// byViews reaches every view and materialized view whose definition
// reads a table (or view) that reaches a customer: its columns show, or
// copy, the customer's rows. They are unclassified until retained: a
// forget writes no view.
func (c *coverer) byViews() {
	for changed := true; changed; {
		changed = false
		for i := range c.in.Views {
			v := &c.in.Views[i]
			if c.tables[v] != nil {
				continue
			}
			var over []string
			for _, r := range v.Reads {
				t := c.table(r)
				if t == nil {
					t = c.in.View(r)
				}
				if t != nil && t != v && c.tables[t] != nil {
					over = append(over, t.Name)
				}
			}
			if len(over) > 0 {
				c.reach(v, viewReach(v.View, over), "", nil)
				changed = true
			}
		}
	}
	for i := range c.in.Views {
		if v := &c.in.Views[i]; v.hiddenDefinition {
			c.notes = append(c.notes, fmt.Sprintf("view %s: this connection may not read its definition (SHOW VIEW), so whether it shows a customer's rows is unknown", v.Name))
		}
	}
}

// maxOver bounds the tables a view's reach names.
const maxOver = 5

// viewReach says what a view reads and what that asks of the host:
// "materialized view over users: refresh it after a forget".
func viewReach(kind string, over []string) string {
	names := strings.Join(over[:min(len(over), maxOver)], ", ")
	if len(over) > maxOver {
		names += fmt.Sprintf(" and %d more", len(over)-maxOver)
	}
	if kind == MaterializedView {
		return "materialized view over " + names + ": refresh it after a forget"
	}
	return "view over " + names + ": it shows what they hold"
}
