package sqlstore

import (
	"fmt"
	"slices"
	"strings"
)

// The kinds of view [Introspection.Views] lists.
const (
	// PlainView shows what its tables hold: a forget that erases them
	// erases it.
	PlainView = "view"
	// MaterializedView (PostgreSQL) keeps a copy of what its tables held
	// when it was last refreshed: a forget cannot write it, and the host
	// must refresh it afterwards.
	MaterializedView = "materialized view"
)

// SchemaTables is a schema or database that an [Introspection] did not
// read, and how many tables it holds.
type SchemaTables struct {
	Schema string `json:"schema"`
	Tables int    `json:"tables"`
}

// String is "archive (3 tables)".
func (s SchemaTables) String() string {
	return fmt.Sprintf("%s (%s)", s.Schema, plural(s.Tables, "table"))
}

// View returns the view named as [Introspection.Table] would name it, or
// nil.
func (in *Introspection) View(name string) *TableInfo {
	if in == nil {
		return nil
	}
	return in.lookup(in.Views, name)
}

// lookup finds name in list as Table does.
func (in *Introspection) lookup(list []TableInfo, name string) *TableInfo {
	eq := func(a, b string) bool { return a == b || in.foldTables && strings.EqualFold(a, b) }
	find := func(schema, table string) *TableInfo {
		for i := range list {
			t := &list[i]
			if eq(t.Schema, schema) && eq(t.Unqualified, table) {
				return t
			}
		}
		return nil
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			if t := find(name[:i], name[i+1:]); t != nil {
				return t
			}
		}
	}
	if in.Current != "" {
		return find(in.Current, name)
	}
	return nil
}

// view returns the view schema.table, created on first use with kind.
func (b *introBuilder) view(schema, table, kind string) *TableInfo {
	if b.views == nil {
		b.views = make(map[tableKey]*TableInfo)
	}
	k := b.key(schema, table)
	v := b.views[k]
	if v == nil {
		v = &TableInfo{Name: b.name(schema, table), Schema: schema, Unqualified: table, View: kind,
			foldColumns: b.in.Dialect.engine().foldColumns}
		b.views[k] = v
	}
	return v
}

// viewDefinition records a view whose definition's text says what it
// reads.
func (b *introBuilder) viewDefinition(schema, table, kind, text string) {
	b.view(schema, table, kind)
	if b.viewText == nil {
		b.viewText = make(map[tableKey]string)
	}
	b.viewText[b.key(schema, table)] = text
}

// skipped records the schemas the connection sees that were not read.
func (b *introBuilder) skipped(schema string, tables int, read []any) {
	for _, r := range read {
		if b.fold(r.(string)) == b.fold(schema) {
			return
		}
	}
	b.in.Skipped = append(b.in.Skipped, SchemaTables{Schema: schema, Tables: tables})
}

// finishViews finds the tables of each definition read as text, and
// sorts the views.
func (b *introBuilder) finishViews() {
	for k, text := range b.viewText {
		v := b.views[k]
		v.hiddenDefinition = strings.TrimSpace(text) == ""
		for _, chain := range identifierChains(text) {
			for i, part := range chain {
				// Each name alone, in the view's own schema, and each
				// pair as schema.table.
				cands := []tableKey{b.key(v.Schema, part)}
				if i+1 < len(chain) {
					cands = append(cands, b.key(part, chain[i+1]))
				}
				for _, c := range cands {
					if t := b.tables[c]; t != nil {
						v.Reads = append(v.Reads, t.Name)
					} else if o := b.views[c]; o != nil && o != v {
						v.Reads = append(v.Reads, o.Name)
					}
				}
			}
		}
	}
	b.in.Views = make([]TableInfo, 0, len(b.views))
	for _, v := range b.views {
		slices.Sort(v.Reads)
		v.Reads = slices.Compact(v.Reads)
		b.in.Views = append(b.in.Views, *v)
	}
	slices.SortFunc(b.in.Views, func(x, y TableInfo) int { return strings.Compare(x.Name, y.Name) })
	slices.SortFunc(b.in.Skipped, func(x, y SchemaTables) int { return strings.Compare(x.Schema, y.Schema) })
}

// identifierChains splits SQL text into its names: each chain is one
// name or a dotted sequence (schema.table.column), unquoted. Quoted
// names ("x", `x`, [x]) and string literals count as names, and comments
// are skipped: what a view reads is always among them.
func identifierChains(sql string) [][]string {
	var chains [][]string
	var cur []string
	dot := false // the last token was a dot after a name
	add := func(name string) {
		if dot && len(cur) > 0 {
			cur = append(cur, name)
		} else {
			if len(cur) > 0 {
				chains = append(chains, cur)
			}
			cur = []string{name}
		}
		dot = false
	}
	end := func() {
		if len(cur) > 0 {
			chains = append(chains, cur)
		}
		cur, dot = nil, false
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			i += j
			end()
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				j = len(sql) - i - 2
			}
			i += j + 4
			end()
		case c == '"' || c == '`' || c == '\'' || c == '[':
			closer := c
			if c == '[' {
				closer = ']'
			}
			var name strings.Builder
			j := i + 1
			for j < len(sql) {
				if sql[j] == closer {
					if closer != ']' && j+1 < len(sql) && sql[j+1] == closer {
						name.WriteByte(closer)
						j += 2
						continue
					}
					break
				}
				name.WriteByte(sql[j])
				j++
			}
			add(name.String())
			i = j + 1
		case c == '.':
			if len(cur) > 0 && !dot {
				dot = true
			} else {
				end()
			}
			i++
		case c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			j := i
			for j < len(sql) {
				d := sql[j]
				if !(d == '_' || d == '$' || d >= '0' && d <= '9' || d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z' || d >= 0x80) {
					break
				}
				j++
			}
			add(sql[i:j])
			i = j
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++ // "a . b" is still one chain
		default:
			end()
			i++
		}
	}
	end()
	return chains
}
