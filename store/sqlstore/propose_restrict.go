package sqlstore

import (
	"slices"

	"github.com/forgetkit/forget"
)

// unblock leaves out of the proposal each purged table whose delete a
// foreign key from a table the proposal leaves would refuse (NO ACTION
// or RESTRICT, see verify_restrict.go), with a review line, until none
// is left: a proposal whose forget fails for every customer with such
// rows is no start. Leaving one out may block another, hence the loop.
func (p *proposer) unblock() {
	for {
		purged := map[string]forget.Table{}
		scrubbed := map[forget.Table]bool{}
		for _, ts := range p.cat.Tables {
			scrubbed[ts.Name] = len(ts.Scrub) > 0
		}
		for name, rt := range p.s.Tables {
			if t := p.in.Table(rt.Table); t != nil && !scrubbed[name] && len(rt.Scrub) == 0 {
				purged[t.Name] = name
			}
		}
		names := sortedKeys(purged)
		dropped := false
		for _, table := range names {
			blocks := restrictBlocks(p.in, table, func(t string) bool { _, ok := purged[t]; return ok })
			if len(blocks) == 0 {
				continue
			}
			b, name := blocks[0], purged[table]
			delete(p.s.Tables, name)
			p.unpurged[p.in.Table(table)] = b.child
			if i := slices.IndexFunc(p.cat.Tables, func(ts forget.TableSpec) bool { return ts.Name == name }); i >= 0 && !p.given[name] {
				p.cat.Tables = slices.Delete(p.cat.Tables, i, i+1)
			} else {
				p.s.Absent = append(p.s.Absent, string(name))
			}
			p.note("table %s: not purged after all: table %s refers to the rows a forget would delete (%s, ON DELETE %s) and nothing deletes its rows, so every forget of a customer with such rows would fail; map %s too, or make that key ON DELETE CASCADE, then purge %s", table, b.child, b.fk, b.action, b.child, table)
			dropped = true
			break
		}
		if !dropped {
			for _, table := range names {
				if fk := selfRestrict(p.in, table); fk != "" {
					p.note("table %s: its rows refer to other rows of it (%s) without ON DELETE CASCADE: a forget fails while another customer's row refers to the customer's; review before relying on it", table, fk)
				}
			}
			return
		}
	}
}
