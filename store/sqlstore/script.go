package sqlstore

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// script is the SQL of one plan shape: which fields, which tables, dry
// run or not. Values are not part of it, so one script serves every
// forget of that shape.
type script struct {
	stmts  []scriptStmt
	layout layout
	// detaches: the script sets pointers of the customer's own rows to
	// rows it deletes NULL first (verify_restrict.go), statements that
	// batches run per customer.
	detaches bool
	// order, when the plan has Via tables, is the order its statements
	// and its Via steps run in (see viaOrder); nil runs stmts in order.
	order []scriptStep
	// bulk is the shape's set-based statements, once looked up.
	bulk atomic.Pointer[bulkShape]
}

// scriptStmt is one statement: its SQL, where each parameter comes from
// (the customer key is always the last), and the table it counts rows of.
type scriptStmt struct {
	sql     string
	from    []valueRef
	table   forget.Table // "" for a field update
	counted bool
	// fields, for a field update, is the table it writes; its rows are
	// counted in Result.Updated (see runStatement).
	fields string
	// one: the update writes the customers table, whose one row the
	// forget has resolved and locked.
	one bool
	// matched counts, and locks, the rows an UPDATE will write (MySQL
	// only, whose affected rows leave out rows given the values they
	// held); the customer key is its one parameter.
	matched string
}

// valueRef names a value of the plan: Fields[index] when table is -1,
// else Tables[table].Scrub[index].
type valueRef struct{ table, index int }

func (r valueRef) value(p forget.Plan) any { return sqlValue(r.raw(p)) }

func (r valueRef) raw(p forget.Plan) forget.Value {
	if r.table < 0 {
		return p.Fields[r.index].Value
	}
	return p.Tables[r.table].Scrub[r.index].Value
}

// script returns the cached script of p's shape, building it once.
func (s *Store) script(p forget.Plan) (*script, error) {
	if err := s.checkCascades(p); err != nil {
		return nil, err
	}
	if err := s.checkViaKeeps(p); err != nil { // via_order.go
		return nil, err
	}
	key := shapeKey(p)
	s.mu.RLock()
	sc, ok := s.scripts[key]
	s.mu.RUnlock()
	if ok {
		return sc, nil
	}
	sc, err := s.buildScript(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.scripts) < maxScripts {
		s.scripts[key] = sc
	}
	s.mu.Unlock()
	return sc, nil
}

// sameShape reports whether a and b have one shapeKey, without building it.
func sameShape(a, b forget.Plan) bool {
	if len(a.Fields) != len(b.Fields) || len(a.Tables) != len(b.Tables) {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i].Field != b.Fields[i].Field || (a.Fields[i].Value.Derive == nil) != (b.Fields[i].Value.Derive == nil) {
			return false
		}
	}
	for i := range a.Tables {
		ta, tb := a.Tables[i], b.Tables[i]
		if ta.Table != tb.Table || len(ta.Scrub) != len(tb.Scrub) {
			return false
		}
		for j := range ta.Scrub {
			if ta.Scrub[j].Column != tb.Scrub[j].Column || (ta.Scrub[j].Value.Derive == nil) != (tb.Scrub[j].Value.Derive == nil) {
				return false
			}
		}
	}
	return true
}

func shapeKey(p forget.Plan) string {
	var b strings.Builder
	// A store-side rule's column is written apart (derive.go): its
	// plans have a shape of their own.
	for _, a := range p.Fields {
		b.WriteString(string(a.Field))
		if a.Value.Derive != nil {
			b.WriteByte('~')
		}
		b.WriteByte(',')
	}
	b.WriteByte(';')
	for _, t := range p.Tables {
		b.WriteString(string(t.Table))
		for _, c := range t.Scrub {
			b.WriteByte(':')
			b.WriteString(c.Column)
			if c.Value.Derive != nil {
				b.WriteByte('~')
			}
		}
		b.WriteByte(',')
	}
	return b.String()
}

// layout is where a plan's values go: its fields grouped by table, in
// catalogue order, then its catalogue tables. Entries the schema declares
// absent are left out.
type layout struct {
	updates []planUpdate
	tables  []planTable
	vias    []planTable // tables reached through a Via: via_write.go
	// derived are the columns store-side rules write (derive.go), left
	// out of updates and tables; needPre: one of them redacts text.
	derived []derivedTarget
	needPre bool
}

// planUpdate writes fields of one table that has a row per customer.
type planUpdate struct {
	table, key string
	cols       []string
	refs       []valueRef
}

// planTable purges (or scrubs) a catalogue table.
type planTable struct {
	name       forget.Table
	table, key string
	cols       []string // scrubbed columns; none for a purge
	refs       []valueRef
	via        *Via // how its rows are found, when not by key
	// derivedOnly: every scrubbed column is a store-side rule's
	// (derive.go), so the Via's write only finds the rows.
	derivedOnly bool
}

func (s *Store) layoutOf(p forget.Plan) (layout, error) {
	var l layout
	byTable := map[string]int{} // index in l.updates
	for i, a := range p.Fields {
		col, ok := s.schema.Fields[a.Field]
		if !ok {
			if s.absent[string(a.Field)] {
				continue
			}
			return layout{}, fmt.Errorf("sqlstore: field %s is not mapped", a.Field)
		}
		if d := a.Value.Derive; d != nil {
			l.derive(derivedTarget{table: col.Table, key: s.fieldKey(col.Table)}, col.Column, valueRef{table: -1, index: i}, d)
			continue
		}
		at, seen := byTable[col.Table]
		if !seen {
			key := s.schema.Customers.Key
			if col.Table != s.schema.Customers.Table {
				key = s.schema.Joined[col.Table]
			}
			at = len(l.updates)
			byTable[col.Table] = at
			l.updates = append(l.updates, planUpdate{table: col.Table, key: key})
		}
		u := &l.updates[at]
		u.cols = append(u.cols, col.Column)
		u.refs = append(u.refs, valueRef{table: -1, index: i})
	}
	for ti, t := range p.Tables {
		rt, ok := s.schema.Tables[t.Table]
		if !ok {
			if s.absent[string(t.Table)] {
				continue
			}
			return layout{}, fmt.Errorf("sqlstore: table %s is not mapped", t.Table)
		}
		pt := planTable{name: t.Table, table: rt.Table, key: rt.CustomerKey, via: rt.Via}
		mentions := rt.Via != nil && rt.Via.Mentions
		for ci, c := range t.Scrub {
			ref := valueRef{table: ti, index: ci}
			if d := c.Value.Derive; d != nil || mentions {
				if d == nil {
					return layout{}, fmt.Errorf("sqlstore: table %s reaches mentions: its column %s needs a redact_text rule", t.Table, c.Column)
				}
				l.derive(derivedTarget{table: rt.Table, key: rt.CustomerKey, name: t.Table, mentions: mentions, via: rt.Via != nil && !mentions}, c.Column, ref, d)
				continue
			}
			pt.cols = append(pt.cols, c.Column)
			pt.refs = append(pt.refs, ref)
		}
		if len(t.Scrub) > 0 && len(pt.cols) == 0 {
			if rt.Via != nil && !mentions {
				// The Via still finds the rows the derivation writes.
				pt.derivedOnly = true
				l.vias = append(l.vias, pt)
			}
			continue // every column derived: no statement here (never a DELETE)
		}
		if rt.Via != nil {
			l.vias = append(l.vias, pt) // mentions are all derived: never here
			continue
		}
		l.tables = append(l.tables, pt)
	}
	return l, nil
}

// derive adds column c of target (merged with an earlier target of the
// same table and catalogue entry) under rule d.
func (l *layout) derive(target derivedTarget, c string, ref valueRef, d *forget.Derivation) {
	l.needPre = l.needPre || d.NeedsPreimages()
	at := -1
	for i, dt := range l.derived {
		if dt.table == target.table && dt.name == target.name {
			at = i
		}
	}
	if at < 0 {
		at = len(l.derived)
		l.derived = append(l.derived, target)
	}
	dt := &l.derived[at]
	dt.cols = append(dt.cols, c)
	dt.refs = append(dt.refs, ref)
	if ref.table < 0 {
		dt.fields = append(dt.fields, ref)
	}
}

// fieldKey is the customer key column of a table holding fields.
func (s *Store) fieldKey(table string) string {
	if table != s.schema.Customers.Table {
		return s.schema.Joined[table]
	}
	return s.schema.Customers.Key
}

// buildScript renders the plan's statements with squirrel. Parameters are
// valueRefs while building, so the order squirrel binds them in is the
// order recorded.
func (s *Store) buildScript(p forget.Plan) (*script, error) {
	l, err := s.layoutOf(p)
	if err != nil {
		return nil, err
	}
	sc := &script{layout: l}
	set := func(b sq.UpdateBuilder, cols []string, refs []valueRef) sq.UpdateBuilder {
		for i, c := range cols {
			b = b.Set(s.dialect.quote(c), refs[i])
		}
		return b
	}
	for _, u := range l.updates {
		b := set(s.sb.Update(s.dialect.quote(u.table)), u.cols, u.refs)
		st, err := s.keyed(b.Where(sq.Eq{s.dialect.quote(u.key): keyPlaceholder{}}))
		if err != nil {
			return nil, err
		}
		st.fields, st.one = u.table, u.table == s.schema.Customers.Table
		if !st.one {
			st.matched = s.matchedSQL(u.table, u.key)
		}
		sc.stmts = append(sc.stmts, st)
	}
	if err := s.detachStatements(sc); err != nil {
		return nil, err
	}
	for _, t := range l.tables {
		where := sq.Eq{s.dialect.quote(t.key): keyPlaceholder{}}
		var b sq.Sqlizer = s.sb.Delete(s.dialect.quote(t.table)).Where(where)
		if len(t.cols) > 0 {
			b = set(s.sb.Update(s.dialect.quote(t.table)), t.cols, t.refs).Where(where)
		}
		st, err := s.keyed(b)
		if err != nil {
			return nil, err
		}
		st.table, st.counted = t.name, true
		if len(t.cols) > 0 {
			st.matched = s.matchedSQL(t.table, t.key)
		}
		sc.stmts = append(sc.stmts, st)
	}
	if len(l.vias) > 0 {
		if sc.order, err = s.viaOrder(p, sc); err != nil { // via_order.go
			return nil, err
		}
	}
	return sc, nil
}

// keyPlaceholder marks where the customer key is bound once it is known.
type keyPlaceholder struct{}

// keyed renders a statement and refuses it unless it is restricted by the
// customer key: squirrel renders an empty Eq as (1=1), and a DELETE with
// no WHERE is valid SQL that would empty the table.
func (s *Store) keyed(b sq.Sqlizer) (scriptStmt, error) {
	query, args, err := b.ToSql()
	if err != nil {
		return scriptStmt{}, fmt.Errorf("sqlstore: build statement: %w", err)
	}
	if len(args) == 0 || args[len(args)-1] != (keyPlaceholder{}) || !strings.Contains(query, " WHERE ") || strings.Contains(query, "(1=1)") {
		return scriptStmt{}, errors.New("sqlstore: refusing a statement without a customer key predicate")
	}
	st := scriptStmt{sql: query, from: make([]valueRef, len(args)-1)}
	for i, a := range args[:len(args)-1] {
		ref, ok := a.(valueRef)
		if !ok {
			return scriptStmt{}, fmt.Errorf("sqlstore: statement parameter %d is not a plan value", i+1)
		}
		st.from[i] = ref
	}
	return st, nil
}

func sqlValue(v forget.Value) any {
	if v.Null {
		return nil
	}
	return v.String
}

func verb(query string) string {
	if i := strings.IndexByte(query, ' '); i > 0 {
		return strings.ToLower(query[:i])
	}
	return "statement"
}
