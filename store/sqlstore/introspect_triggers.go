package sqlstore

import (
	"slices"
	"strings"
)

// TriggerInfo is a host trigger on a table: a forget's UPDATE or DELETE
// of the table fires it, and what it writes elsewhere (an old e-mail
// copied into a history table) is a copy the mapping must cover.
//
// They are read with the views' statement: sqlite_master on SQLite,
// pg_trigger and its function's body (pg_proc.prosrc) on PostgreSQL,
// information_schema.TRIGGERS on MySQL (which lists only the triggers of
// tables the user holds the TRIGGER privilege on).
type TriggerInfo struct {
	Name string
	// Table is the table it fires on, named as [Introspection.Table]
	// names it.
	Table string
	// Writes are the other tables its body names, as
	// [Introspection.Table] names them, sorted: read from the text, so
	// never fewer than it writes (a table it only reads counts too).
	// A PostgreSQL function that builds its statements as text (EXECUTE)
	// may write tables it does not name.
	Writes []string
}

type pendingTrigger struct {
	schema, table, name, text string
}

// trigger records a trigger whose body's text says what it writes.
func (b *introBuilder) trigger(schema, table, name, text string) {
	b.triggers = append(b.triggers, pendingTrigger{schema, table, name, text})
}

// finishTriggers resolves each trigger's table and the tables its text
// names; a trigger on a table that was not read is dropped.
func (b *introBuilder) finishTriggers() {
	for _, p := range b.triggers {
		on := b.tables[b.key(p.schema, p.table)]
		if on == nil {
			continue
		}
		tr := TriggerInfo{Name: p.name, Table: on.Name}
		for _, chain := range identifierChains(p.text) {
			for i, part := range chain {
				cands := []tableKey{b.key(p.schema, part)}
				if i+1 < len(chain) {
					cands = append(cands, b.key(part, chain[i+1]))
				}
				if lower := strings.ToLower(part); lower != part {
					// PostgreSQL folds an unquoted name to lower case.
					cands = append(cands, b.key(p.schema, lower))
				}
				for _, c := range cands {
					if t := b.tables[c]; t != nil && t != on {
						tr.Writes = append(tr.Writes, t.Name)
					}
				}
			}
		}
		slices.Sort(tr.Writes)
		tr.Writes = slices.Compact(tr.Writes)
		b.in.Triggers = append(b.in.Triggers, tr)
	}
	slices.SortFunc(b.in.Triggers, func(x, y TriggerInfo) int {
		if c := strings.Compare(x.Table, y.Table); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	b.triggers = nil
}

// generated records the expression of a generated column, whose names
// finishGenerated resolves once every column is known.
func (b *introBuilder) generated(schema, table, column, expr string) {
	if expr == "" {
		return
	}
	if b.genExpr == nil {
		b.genExpr = make(map[tableKey]map[string]string)
	}
	k := b.key(schema, table)
	if b.genExpr[k] == nil {
		b.genExpr[k] = make(map[string]string)
	}
	b.genExpr[k][column] = expr
}

// finishGenerated sets GeneratedFrom: the table's other columns that the
// expression names.
func (b *introBuilder) finishGenerated() {
	for k, exprs := range b.genExpr {
		t := b.tables[k]
		if t == nil {
			continue
		}
		for i := range t.Columns {
			c := &t.Columns[i]
			expr, ok := exprs[c.Name]
			if !ok || !c.Generated {
				continue
			}
			for _, chain := range identifierChains(expr) {
				for _, part := range chain {
					if src := t.Column(part); src != nil && src.Name != c.Name && !slices.Contains(c.GeneratedFrom, src.Name) {
						c.GeneratedFrom = append(c.GeneratedFrom, src.Name)
					}
				}
			}
		}
	}
	b.genExpr = nil
}

// sqliteColumnDef returns the definition of column col in a CREATE
// TABLE statement's text ("email_lower TEXT GENERATED ALWAYS AS
// (lower(email)) STORED"), or "" when it is not found.
func sqliteColumnDef(create, col string) string {
	open := strings.IndexByte(create, '(')
	if open < 0 {
		return ""
	}
	depth, start := 0, open+1
	var quote byte
	for i := open + 1; i < len(create); i++ {
		ch := create[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
			continue
		case ch == '\'' || ch == '"' || ch == '`' || ch == '[':
			quote = ch
			if ch == '[' {
				quote = ']'
			}
			continue
		case ch == '(':
			depth++
			continue
		case ch == ')' && depth > 0:
			depth--
			continue
		case ch != ',' && ch != ')':
			continue
		}
		// a top-level comma or the closing parenthesis ends a definition
		def := create[start:i]
		if chains := identifierChains(def); len(chains) > 0 && len(chains[0]) > 0 && strings.EqualFold(chains[0][0], col) {
			return def
		}
		if ch == ')' {
			return ""
		}
		start = i + 1
	}
	return ""
}
