package sqlstore

import (
	"fmt"

	sq "github.com/Masterminds/squirrel"
	"sort"
	"strings"

	"github.com/forgetkit/forget"
)

// A purge that would fail every forget: a table the mapping leaves as it
// is references, by a foreign key with ON DELETE NO ACTION or RESTRICT,
// the rows a forget deletes (directly, or through ON DELETE CASCADE).
// The database refuses the delete, and the forget of any customer with
// such rows fails. Verify refuses the mapping; a proposal leaves the
// purge out (propose_extend.go's unblock).

// restrictBlock is one such foreign key.
type restrictBlock struct {
	child  string // the table whose rows stay and refer
	fk     string // child(columns) -> parent(columns)
	action string // NO ACTION or RESTRICT
	via    string // how the parent's rows are deleted: the purged table, and the cascade from it
	parent string // the table whose rows are deleted
	cols   []string
}

// detachFK is a pointer from the customer's own row, which stays (the
// customers table's, a joined table's), at rows a forget deletes
// (customers.home_address_id -> addresses): a forget sets it NULL
// before the delete, so that a NO ACTION or RESTRICT key does not refuse
// it. Verify learns them (restricts); buildScript writes the statements.
type detachFK struct{ table, column, key string }

// restrictBlocks returns the foreign keys under NO ACTION or RESTRICT that
// refer to rows deleted by a purge of table from, from a table that
// purged does not name. A key from a table to its own rows is not one: the
// statement deletes the rows that refer with those they refer to.
func restrictBlocks(in *Introspection, from string, purged func(table string) bool) []restrictBlock {
	deleted := map[string]string{from: from} // table -> via
	queue := []string{from}
	var out []restrictBlock
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		for i := range in.Tables {
			child := &in.Tables[i]
			for _, fk := range child.ForeignKeys {
				ref := in.Table(fk.RefTable)
				if ref == nil || ref.Name != parent {
					continue
				}
				switch action := fk.OnDelete; {
				case action == "CASCADE":
					if _, ok := deleted[child.Name]; !ok {
						deleted[child.Name] = deleted[parent] + " -(ON DELETE CASCADE)-> " + child.Name
						queue = append(queue, child.Name)
					}
				case changesRows(action), child.Name == parent, purged(child.Name):
				default:
					if action == "" {
						action = "NO ACTION"
					}
					out = append(out, restrictBlock{child: child.Name, action: action, via: deleted[parent], parent: parent, cols: fk.Columns,
						fk: child.Name + "(" + strings.Join(fk.Columns, ", ") + ") -> " + parent + "(" + strings.Join(fk.RefColumns, ", ") + ")"})
				}
			}
		}
	}
	return out
}

// restricts refuses each purged catalogue table whose delete a foreign
// key from a table the mapping leaves keeps from running, but for the
// customer's own rows' pointers, which a forget detaches first (learnt
// into s.detaches) when they may be NULL.
func (v *verifier) restricts(cat forget.Catalogue) {
	purged := v.purgedTables(cat)
	names := make([]string, 0, len(purged))
	for table := range purged {
		names = append(names, table)
	}
	sort.Strings(names)
	own := map[string]string{} // the customers and joined tables, by introspected name, with their customer key
	if t := v.in.Table(v.s.schema.Customers.Table); t != nil {
		own[t.Name] = v.s.schema.Customers.Key
	}
	for jt, key := range v.s.schema.Joined {
		if t := v.in.Table(jt); t != nil {
			own[t.Name] = key
		}
	}
	detaches := map[string][]detachFK{}
	for _, table := range names {
		if fk := selfRestrict(v.in, table); fk != "" {
			v.warnings = append(v.warnings, fmt.Sprintf("table %s: rows of %s refer to other rows of it (%s) without ON DELETE CASCADE: a forget fails while another customer's row refers to the customer's", purged[table], table, fk))
		}
		for _, b := range restrictBlocks(v.in, table, func(t string) bool { _, ok := purged[t]; return ok }) {
			if key, ok := own[b.child]; ok && b.parent == table && len(b.cols) == 1 {
				if c := v.in.Table(b.child).Column(b.cols[0]); c != nil && c.Nullable {
					rt := v.s.schema.Tables[purged[table]]
					detaches[strings.ToLower(rt.Table)] = append(detaches[strings.ToLower(rt.Table)], detachFK{table: b.child, column: c.Name, key: key})
					continue
				}
				v.fail("table %s: a forget deletes rows of %s, but the customer's own row of %s points to them (%s, ON DELETE %s) and stays, and %s is NOT NULL, so it cannot be detached first; scrub table %s instead of deleting its rows (\"scrub\"), or let %s.%s be NULL", purged[table], table, b.child, b.fk, b.action, b.cols[0], purged[table], b.child, b.cols[0])
				continue
			}
			v.fail("table %s: a forget deletes rows of %s, but table %s refers to them (%s, ON DELETE %s) and the mapping leaves its rows, so the delete fails for every customer who has such rows; map %s too (its rows deleted), or make that foreign key ON DELETE CASCADE", purged[table], b.via, b.child, b.fk, b.action, b.child)
		}
	}
	v.detaches = detaches
}

// purgedTables returns the tables (by introspected name) whose rows a
// forget deletes, each with its catalogue name.
func (v *verifier) purgedTables(cat forget.Catalogue) map[string]forget.Table {
	out := map[string]forget.Table{}
	for _, ts := range cat.Tables {
		rt, ok := v.s.schema.Tables[ts.Name]
		if !ok || len(ts.Scrub) > 0 || len(rt.Scrub) > 0 {
			continue
		}
		if t := v.in.Table(rt.Table); t != nil {
			out[t.Name] = ts.Name
		}
	}
	return out
}

// selfRestrict names a foreign key of table to its own rows under NO
// ACTION or RESTRICT, or returns "": deleting the customer's rows fails
// while another's refer to them (a reply to a note).
func selfRestrict(in *Introspection, table string) string {
	t := in.Table(table)
	if t == nil {
		return ""
	}
	for _, fk := range t.ForeignKeys {
		if in.Table(fk.RefTable) == t && fk.OnDelete != "CASCADE" && !changesRows(fk.OnDelete) {
			return t.Name + "(" + strings.Join(fk.Columns, ", ") + ") -> " + t.Name + "(" + strings.Join(fk.RefColumns, ", ") + ")"
		}
	}
	return ""
}

// detachStatements adds to sc, after its field updates and before its
// deletes, a statement per pointer of the customer's own row at rows a
// purge of the plan deletes: UPDATE customers SET home_address_id = NULL
// WHERE customer key. Verify learnt them; an unverified store has none.
func (s *Store) detachStatements(sc *script) error {
	learnt := s.detaches.Load()
	if learnt == nil {
		return nil
	}
	q := s.dialect.quote
	for _, t := range sc.layout.tables {
		if len(t.cols) > 0 || t.via != nil {
			continue // scrubbed rows stay; a Via table detaches its own (via_write.go)
		}
		for _, d := range (*learnt)[strings.ToLower(t.table)] {
			b := s.sb.Update(q(d.table)).Set(q(d.column), sq.Expr("NULL")).
				Where(sq.Eq{q(d.key): keyPlaceholder{}}).Where(q(d.column) + " IS NOT NULL")
			st, err := s.keyed(b)
			if err != nil {
				return err
			}
			sc.stmts = append(sc.stmts, st)
			sc.detaches = true
		}
	}
	return nil
}
