package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// sqliteUserTables selects the tables of main: views and SQLite's own
// sqlite_% tables excluded.
const sqliteUserTables = `FROM sqlite_master AS s %s WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite\_%%' ESCAPE '\'`

// sqlite reads main's tables with three statements, each joining
// sqlite_master to a pragma function, whose table argument is a column or
// a parameter, never SQL text; then its views.
func (b *introBuilder) sqlite(ctx context.Context, db *sql.DB) error {
	b.in.Current = "main"
	b.in.foldTables = true
	b.sqliteRowid = make(map[tableKey]bool)
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	type pkCol struct {
		pos  int64
		name string
		typ  string
	}
	pks := make(map[tableKey][]pkCol)
	err = scanRows(ctx, conn, `SELECT s.name, p.name, p.type, p."notnull", p.dflt_value IS NOT NULL AND upper(trim(p.dflt_value)) <> 'NULL', p.pk, p.hidden, CASE WHEN p.hidden IN (2, 3) THEN s.sql END `+
		fmt.Sprintf(sqliteUserTables, `JOIN pragma_table_xinfo(s.name, 'main') AS p`)+` AND p.hidden <> 1 ORDER BY s.name, p.cid`, nil,
		func(rows *sql.Rows) error {
			var table, col, typ string
			var notNull, hasDefault bool
			var pk, hidden int64
			var create sql.NullString
			if err := rows.Scan(&table, &col, &typ, &notNull, &hasDefault, &pk, &hidden, &create); err != nil {
				return err
			}
			t := b.table("main", table)
			c := ColumnInfo{Name: col, Type: strings.ToLower(typ), Nullable: !notNull, HasDefault: hasDefault, Generated: hidden == 2 || hidden == 3}
			c.Kind = sqliteKind(c.Type)
			switch c.Kind {
			case KindInt:
				c.IntMin, c.IntMax = math.MinInt64, math.MaxInt64
			case KindText:
				c.DeclaredLen = declaredLen(c.Type)
			}
			t.Columns = append(t.Columns, c)
			if c.Generated {
				b.generated("main", table, col, sqliteColumnDef(create.String, col))
			}
			if pk > 0 {
				pks[b.key("main", table)] = append(pks[b.key("main", table)], pkCol{pk, col, c.Type})
			}
			return nil
		})
	if err != nil {
		return err
	}
	for k, cols := range pks {
		slices.SortFunc(cols, func(x, y pkCol) int { return cmp.Compare(x.pos, y.pos) })
		t := b.tables[k]
		for _, c := range cols {
			t.PrimaryKey = append(t.PrimaryKey, c.name)
		}
		if len(cols) == 1 && cols[0].typ == "integer" {
			b.sqliteRowid[k] = true // unless an index says otherwise, below
		}
	}

	err = scanRows(ctx, conn, `SELECT s.name, l.name, l."unique", l.origin, l.partial, x.cid, x.name `+
		fmt.Sprintf(sqliteUserTables, `JOIN pragma_index_list(s.name, 'main') AS l JOIN pragma_index_xinfo(l.name, 'main') AS x`)+
		` AND x."key" = 1 ORDER BY s.name, l.name, x.seqno`, nil,
		func(rows *sql.Rows) error {
			var table, name, origin string
			var unique, partial bool
			var cid int64
			var col sql.NullString
			if err := rows.Scan(&table, &name, &unique, &origin, &partial, &cid, &col); err != nil {
				return err
			}
			k := b.key("main", table)
			t := b.tables[k]
			if t == nil {
				return nil
			}
			ix := index(t, name)
			ix.Unique, ix.Primary, ix.Partial, ix.Method = unique, origin == "pk", partial, "btree"
			if ix.Primary {
				// INTEGER PRIMARY KEY DESC, or WITHOUT ROWID: the
				// key has an index of its own, and no rowid alias.
				delete(b.sqliteRowid, k)
			}
			if cid < 0 || !col.Valid {
				ix.Expression = true
			}
			ix.Columns = append(ix.Columns, col.String)
			return nil
		})
	if err != nil {
		return err
	}
	for k := range b.sqliteRowid {
		// The rowid is never NULL and is assigned when omitted,
		// whatever table_xinfo says.
		t := b.tables[k]
		c := t.Column(t.PrimaryKey[0])
		c.Nullable, c.HasDefault = false, true
	}

	err = scanRows(ctx, conn, `SELECT s.name, f.id, f."table", f."from", f."to", f.on_update, f.on_delete `+
		fmt.Sprintf(sqliteUserTables, `JOIN pragma_foreign_key_list(s.name, 'main') AS f`)+` ORDER BY s.name, f.id, f.seq`, nil,
		func(rows *sql.Rows) error {
			var table, ref, from, onUpdate, onDelete string
			var id int64
			var to sql.NullString
			if err := rows.Scan(&table, &id, &ref, &from, &to, &onUpdate, &onDelete); err != nil {
				return err
			}
			k := b.key("main", table)
			if b.tables[k] == nil {
				return nil
			}
			n := len(b.sqliteFKs)
			if n == 0 || b.sqliteFKs[n-1].key != k || b.sqliteFKs[n-1].id != id {
				b.sqliteFKs = append(b.sqliteFKs, pendingFK{k, id, ForeignKeyInfo{RefTable: ref,
					OnUpdate: strings.ToUpper(onUpdate), OnDelete: strings.ToUpper(onDelete)}})
				n++
			}
			fk := &b.sqliteFKs[n-1].fk
			fk.Columns = append(fk.Columns, from)
			if to.Valid {
				fk.RefColumns = append(fk.RefColumns, to.String)
			}
			return nil
		})
	if err != nil {
		return err
	}
	return b.sqliteViews(ctx, conn)
}

// sqliteViews reads the views and triggers of main, one statement for
// their definitions and one for each view's columns: a view whose tables or
// columns are gone fails its own statement, and shows nothing.
func (b *introBuilder) sqliteViews(ctx context.Context, conn *sql.Conn) error {
	type def struct{ name, text string }
	var defs []def
	// The triggers come with the views: their text says what they write.
	err := scanRows(ctx, conn, `SELECT s.type, s.name, s.tbl_name, coalesce(s.sql, '') FROM sqlite_master AS s WHERE s.type IN ('view', 'trigger') ORDER BY s.type, s.name`, nil,
		func(rows *sql.Rows) error {
			var typ, on string
			var d def
			if err := rows.Scan(&typ, &d.name, &on, &d.text); err != nil {
				return err
			}
			if typ == "trigger" {
				b.trigger("main", on, d.name, d.text)
				return nil
			}
			defs = append(defs, d)
			return nil
		})
	if err != nil {
		return err
	}
	for _, d := range defs {
		var cols []ColumnInfo
		err := scanRows(ctx, conn, `SELECT p.name, p.type FROM pragma_table_xinfo(?, 'main') AS p WHERE p.hidden <> 1 ORDER BY p.cid`, []any{d.name},
			func(rows *sql.Rows) error {
				var col, typ string
				if err := rows.Scan(&col, &typ); err != nil {
					return err
				}
				c := ColumnInfo{Name: col, Type: strings.ToLower(typ), Nullable: true}
				c.Kind = sqliteKind(c.Type)
				cols = append(cols, c)
				return nil
			})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			continue // a broken view: nothing can read it
		}
		b.viewDefinition("main", d.name, PlainView, d.text)
		b.views[b.key("main", d.name)].Columns = cols
	}
	return nil
}

// sqliteKind applies SQLite's column affinity rules to a lower-case
// declared type.
func sqliteKind(typ string) ColumnKind {
	switch {
	case strings.Contains(typ, "int"):
		return KindInt
	case strings.Contains(typ, "char"), strings.Contains(typ, "clob"), strings.Contains(typ, "text"):
		return KindText
	}
	return KindOther
}

// declaredLen returns the first number in parentheses in typ, or 0.
func declaredLen(typ string) int {
	_, rest, ok := strings.Cut(typ, "(")
	if !ok {
		return 0
	}
	rest = strings.TrimLeft(rest, " ")
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end <= 0 {
		return 0
	}
	n, err := strconv.ParseInt(rest[:end], 10, 0)
	if err != nil {
		return math.MaxInt // out of range: as good as unbounded
	}
	return int(n)
}
