package sqlstore

import (
	"fmt"
	"strings"

	"github.com/forgetkit/forget"
)

// scriptStep is one step of a script with Via tables: statement stmt of
// the script, or (stmt -1) the Via table at index via of its layout.
type scriptStep struct{ stmt, via int }

// viaOrder orders a script's steps so that no RESTRICT or NO ACTION
// foreign key fires: field updates first, then the tables, each table
// whose rows reference another's deleted before it (children before
// their parent, a link table before its targets). Scrubbed tables keep
// their rows and need no place.
func (s *Store) viaOrder(p forget.Plan, sc *script) ([]scriptStep, error) {
	l := s.vias.Load()
	if l == nil {
		return nil, errViaUnverified
	}
	var steps []scriptStep
	type node struct {
		step    scriptStep
		table   string
		deleted bool
	}
	var nodes []node
	tables := 0
	for i, st := range sc.stmts {
		if st.table == "" { // a field update or a detach: before every delete
			steps = append(steps, scriptStep{stmt: i, via: -1})
			continue
		}
		t := sc.layout.tables[tables]
		tables++
		nodes = append(nodes, node{step: scriptStep{stmt: i, via: -1}, table: t.table, deleted: len(t.cols) == 0})
	}
	for j, pv := range sc.layout.vias {
		nodes = append(nodes, node{step: scriptStep{stmt: -1, via: j}, table: pv.table, deleted: len(pv.cols) == 0})
	}
	// before[a][b]: node a must run before node b.
	n := len(nodes)
	indegree := make([]int, n)
	after := make([][]int, n)
	for a := range nodes {
		for b := range nodes {
			na, nb := nodes[a], nodes[b]
			if a == b || !na.deleted || !nb.deleted || strings.EqualFold(l.canonical(na.table), l.canonical(nb.table)) {
				continue
			}
			if l.references(na.table, nb.table) {
				after[a] = append(after[a], b)
				indegree[b]++
			}
		}
	}
	done := make([]bool, n)
	for range n {
		next := -1
		for i := range nodes {
			if !done[i] && indegree[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 {
			var cycle []string
			for i, nd := range nodes {
				if !done[i] {
					cycle = append(cycle, nd.table)
				}
			}
			return nil, fmt.Errorf("sqlstore: the foreign keys between tables %s form a cycle: no order of deletes satisfies them", strings.Join(cycle, ", "))
		}
		done[next] = true
		steps = append(steps, nodes[next].step)
		for _, b := range after[next] {
			indegree[b]--
		}
	}
	return steps, nil
}

// checkViaKeeps refuses a keep list that the foreign keys between a Via
// table and its From table would break: a kept table whose rows point at
// the Via table's rows the plan deletes (customer_phones kept, phones
// erased), and a kept Via table whose rows are the children of rows the
// plan deletes (order_items kept, orders erased). Either forget would
// fail on the key, or change what the request keeps. Like checkCascades,
// it needs Verify's learning; an unverified store refuses Via plans
// later (viaOrder).
func (s *Store) checkViaKeeps(p forget.Plan) error {
	l := s.vias.Load()
	if l == nil || !l.any {
		return nil
	}
	inPlan := map[forget.Table]bool{}
	purged := map[forget.Table]bool{}
	for _, t := range p.Tables {
		inPlan[t.Table] = true
		purged[t.Table] = len(t.Scrub) == 0
	}
	for _, name := range sortedKeys(s.schema.Tables) {
		rt := s.schema.Tables[name]
		if rt.Via == nil || rt.Via.Mentions || s.absent[string(name)] {
			continue
		}
		f, err := s.schema.resolveFrom(rt.Via)
		if err != nil {
			return fmt.Errorf("sqlstore: table %s: via %w", name, err)
		}
		from := s.catalogueOf(f)
		if from == "" || s.absent[string(from)] {
			continue
		}
		key := f.table + "." + f.column + " -(FOREIGN KEY)-> " + rt.Table + "." + rt.Via.Column
		if l.pointer[name] && purged[name] && !inPlan[from] {
			return &forget.CascadeError{Kept: string(from), Erased: string(name), Via: key}
		}
		if l.child[name] && purged[from] && !inPlan[name] { // a scrubbed child is Verify's
			return &forget.CascadeError{Kept: string(name), Erased: string(from), Via: rt.Table + "." + rt.Via.Column + " -(FOREIGN KEY)-> " + f.table + "." + f.column}
		}
	}
	return nil
}

// catalogueOf returns the catalogue table From's table is, or "" for the
// customers, a joined or a lookup table.
func (s *Store) catalogueOf(f viaFrom) forget.Table {
	if f.kind == fromVia {
		return f.via
	}
	if f.kind == fromCustomers {
		return ""
	}
	for _, name := range sortedKeys(s.schema.Tables) {
		if rt := s.schema.Tables[name]; rt.Via == nil && strings.EqualFold(rt.Table, f.table) {
			return name
		}
	}
	return ""
}
