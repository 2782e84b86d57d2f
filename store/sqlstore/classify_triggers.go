package sqlstore

import (
	"fmt"
	"strings"
)

// byTriggers reaches every table that a trigger on a reached table
// writes (email_history, filled by an AFTER UPDATE trigger on customers
// with the old e-mail): a forget's own UPDATE or DELETE fires it, so
// its columns may hold what the forget erases. Their columns are
// unclassified, and likely personal, until mapped or retained. One note
// per such trigger names it and the tables it writes.
func (c *coverer) byTriggers() {
	noted := map[int]bool{}
	for changed := true; changed; {
		changed = false
		for i, tr := range c.in.Triggers {
			on := c.table(tr.Table)
			if noted[i] || on == nil || c.tables[on] == nil {
				continue
			}
			noted[i] = true
			c.notes = append(c.notes, triggerNote(tr))
			for _, w := range tr.Writes {
				if t := c.table(w); c.reach(t, fmt.Sprintf("written by trigger %s on %s: a forget's writes fire it", tr.Name, on.Name), "", nil) {
					c.triggered[t] = true
					changed = true
				}
			}
		}
	}
}

// triggerNote says what a trigger on a reached table asks of the host.
func triggerNote(tr TriggerInfo) string {
	if len(tr.Writes) == 0 {
		return fmt.Sprintf("trigger %s on %s: a forget's writes fire it; it names no other table, but check that it copies nothing the forget erases (a statement built as text names none)", tr.Name, tr.Table)
	}
	return fmt.Sprintf("trigger %s on %s writes %s: a forget's writes fire it, and what it copies there stays unless the mapping erases it (map their columns, or retain them with a reason)",
		tr.Name, tr.Table, strings.Join(tr.Writes, ", "))
}

// generated classifies a generated column whose source columns are all
// erased as erased: the database recomputes it from them.
func (c *coverer) generated() {
	for _, t := range c.order {
		for _, col := range t.Columns {
			if !col.Generated || len(col.GeneratedFrom) == 0 || c.cls[t][col.Name].class != "" {
				continue
			}
			all := true
			for _, src := range col.GeneratedFrom {
				if c.cls[t][src].class != ClassErased {
					all = false
					break
				}
			}
			if all {
				c.assign(t, col.Name, ClassErased, "derived from "+strings.Join(col.GeneratedFrom, ", ")+": the database recomputes it from them")
			}
		}
	}
}
