package sqlstore

import (
	"errors"
	"fmt"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// script is the SQL of one plan shape: which fields, which tables, dry
// run or not. Values are not part of it, so one script serves every
// forget of that shape.
type script struct {
	stmts []scriptStmt
}

// scriptStmt is one statement: its SQL, where each parameter comes from
// (the customer key is always the last), and the table it counts rows of.
type scriptStmt struct {
	sql     string
	from    []valueRef
	table   forget.Table // "" for a field update, whose rows are not counted
	counted bool
}

// valueRef names a value of the plan: Fields[index] when table is -1,
// else Tables[table].Scrub[index].
type valueRef struct{ table, index int }

func (r valueRef) value(p forget.Plan) any {
	if r.table < 0 {
		return sqlValue(p.Fields[r.index].Value)
	}
	return sqlValue(p.Tables[r.table].Scrub[r.index].Value)
}

// script returns the cached script of p's shape, building it once.
func (s *Store) script(p forget.Plan) (*script, error) {
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

func shapeKey(p forget.Plan) string {
	var b strings.Builder
	for _, a := range p.Fields {
		b.WriteString(string(a.Field))
		b.WriteByte(',')
	}
	b.WriteByte(';')
	for _, t := range p.Tables {
		b.WriteString(string(t.Table))
		for _, c := range t.Scrub {
			b.WriteByte(':')
			b.WriteString(c.Column)
		}
		b.WriteByte(',')
	}
	return b.String()
}

// buildScript renders the plan's statements with squirrel. Parameters are
// valueRefs while building, so the order squirrel binds them in is the
// order recorded. Fields are grouped by table in catalogue order.
func (s *Store) buildScript(p forget.Plan) (*script, error) {
	sc := &script{}
	var tables []string
	sets := make(map[string][]int) // table -> indexes into p.Fields
	for i, a := range p.Fields {
		col, ok := s.schema.Fields[a.Field]
		if !ok {
			if s.absent[string(a.Field)] {
				continue
			}
			return nil, fmt.Errorf("sqlstore: field %s is not mapped", a.Field)
		}
		if _, seen := sets[col.Table]; !seen {
			tables = append(tables, col.Table)
		}
		sets[col.Table] = append(sets[col.Table], i)
	}
	for _, table := range tables {
		key := s.schema.Customers.Key
		if table != s.schema.Customers.Table {
			key = s.schema.Joined[table]
		}
		u := s.sb.Update(s.dialect.quote(table))
		for _, i := range sets[table] {
			u = u.Set(s.dialect.quote(s.schema.Fields[p.Fields[i].Field].Column), valueRef{table: -1, index: i})
		}
		st, err := s.keyed(u.Where(sq.Eq{s.dialect.quote(key): keyPlaceholder{}}))
		if err != nil {
			return nil, err
		}
		sc.stmts = append(sc.stmts, st)
	}
	for ti, t := range p.Tables {
		rt, ok := s.schema.Tables[t.Table]
		if !ok {
			if s.absent[string(t.Table)] {
				continue
			}
			return nil, fmt.Errorf("sqlstore: table %s is not mapped", t.Table)
		}
		where := sq.Eq{s.dialect.quote(rt.CustomerKey): keyPlaceholder{}}
		var b sq.Sqlizer
		switch {
		case len(t.Scrub) > 0:
			u := s.sb.Update(s.dialect.quote(rt.Table))
			for ci, c := range t.Scrub {
				u = u.Set(s.dialect.quote(c.Column), valueRef{table: ti, index: ci})
			}
			b = u.Where(where)
		default:
			b = s.sb.Delete(s.dialect.quote(rt.Table)).Where(where)
		}
		st, err := s.keyed(b)
		if err != nil {
			return nil, err
		}
		st.table, st.counted = t.Table, true
		sc.stmts = append(sc.stmts, st)
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
