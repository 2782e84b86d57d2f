package sqlstore

import (
	"context"
	"database/sql"
	"math"
	"strings"
)

// postgres reads pg_catalog in one read-only transaction, so that the
// six statements see one snapshot.
func (b *introBuilder) postgres(ctx context.Context, db *sql.DB, schemas []string) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var current sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
		return err
	}
	b.in.Current = current.String
	args := schemaArgs(current.String, schemas)
	if len(args) == 0 {
		return nil // no search_path and no schema named
	}
	in := Postgres.Placeholders(len(args))

	// dom resolves each domain to its base type, through domains over
	// domains, keeping the outermost type modifier (the length).
	err = scanRows(ctx, tx, `WITH RECURSIVE dom(oid, base, typmod) AS (
  SELECT t.oid, t.typbasetype, t.typtypmod FROM pg_type t WHERE t.typtype = 'd'
  UNION ALL
  SELECT dom.oid, bt.typbasetype, CASE WHEN dom.typmod >= 0 THEN dom.typmod ELSE bt.typtypmod END
  FROM dom JOIN pg_type bt ON bt.oid = dom.base WHERE bt.typtype = 'd'
), base AS (
  SELECT dom.oid, dom.base, dom.typmod FROM dom JOIN pg_type bt ON bt.oid = dom.base WHERE bt.typtype <> 'd'
)
SELECT n.nspname::text, c.relname::text, c.relkind::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
  et.typname::text, CASE WHEN a.atttypmod >= 0 THEN a.atttypmod ELSE coalesce(base.typmod, -1) END,
  a.attnotnull, (a.atthasdef AND a.attgenerated = '') OR a.attidentity <> '', a.attgenerated <> '',
  CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN base ON base.oid = a.atttypid
LEFT JOIN pg_type et ON et.oid = coalesce(base.base, a.atttypid)
WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname IN (`+in+`)
ORDER BY 1, 2, a.attnum`, args,
		func(rows *sql.Rows) error {
			var schema, table, relkind string
			var col, typ, base sql.NullString
			var typmod sql.NullInt64
			var notNull, hasDefault, generated sql.NullBool
			var genExpr sql.NullString
			if err := rows.Scan(&schema, &table, &relkind, &col, &typ, &base, &typmod, &notNull, &hasDefault, &generated, &genExpr); err != nil {
				return err
			}
			var t *TableInfo
			switch relkind {
			case "v":
				t = b.view(schema, table, PlainView)
			case "m":
				t = b.view(schema, table, MaterializedView)
			default:
				t = b.table(schema, table)
			}
			if !col.Valid {
				return nil // a table with no columns
			}
			c := ColumnInfo{Name: col.String, Type: strings.ToLower(typ.String), Kind: KindOther,
				Nullable: !notNull.Bool, HasDefault: hasDefault.Bool, Generated: generated.Bool}
			switch base.String {
			case "text", "citext":
				c.Kind = KindText
			case "varchar", "bpchar":
				c.Kind = KindText
				if typmod.Int64 >= 4 { // the length plus a 4-byte header
					c.MaxLen = int(min(typmod.Int64-4, math.MaxInt32))
					c.DeclaredLen = c.MaxLen
				}
			case "uuid":
				c.Kind = KindUUID
			case "int2":
				c.Kind, c.IntMin, c.IntMax = KindInt, math.MinInt16, math.MaxInt16
			case "int4":
				c.Kind, c.IntMin, c.IntMax = KindInt, math.MinInt32, math.MaxInt32
			case "int8":
				c.Kind, c.IntMin, c.IntMax = KindInt, math.MinInt64, math.MaxInt64
			}
			t.Columns = append(t.Columns, c)
			if c.Generated {
				b.generated(schema, table, c.Name, genExpr.String)
			}
			return nil
		})
	if err != nil {
		return err
	}

	err = scanRows(ctx, tx, `SELECT n.nspname::text, t.relname::text, i.relname::text, x.indisunique, x.indisprimary,
  x.indpred IS NOT NULL, NOT x.indisvalid, am.amname::text, coalesce(a.attname::text, '')
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
WHERE t.relkind IN ('r', 'p') AND n.nspname IN (`+in+`) AND k.ord <= x.indnkeyatts
ORDER BY 1, 2, 3, k.ord`, args,
		func(rows *sql.Rows) error {
			var schema, table, name, method, col string
			var unique, primary, partial, invalid bool
			if err := rows.Scan(&schema, &table, &name, &unique, &primary, &partial, &invalid, &method, &col); err != nil {
				return err
			}
			t := b.tables[b.key(schema, table)]
			if t == nil {
				return nil
			}
			ix := index(t, name)
			ix.Unique, ix.Primary, ix.Partial, ix.Invalid, ix.Method = unique, primary, partial, invalid, method
			ix.Columns = append(ix.Columns, col)
			if col == "" {
				ix.Expression = true
			}
			if primary {
				t.PrimaryKey = append(t.PrimaryKey, col)
			}
			return nil
		})
	if err != nil {
		return err
	}

	// A foreign key to a partitioned table has a clone for each of its
	// partitions (conparentid set, the partition as confrelid): only the
	// one to the partitioned table is the host's.
	err = scanRows(ctx, tx, `SELECT n.nspname::text, t.relname::text, c.conname::text, rn.nspname::text, rt.relname::text,
  c.confupdtype::text, c.confdeltype::text, a.attname::text, ra.attname::text
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_class rt ON rt.oid = c.confrelid
JOIN pg_namespace rn ON rn.oid = rt.relnamespace
CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(att, refatt, ord)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att
JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refatt
WHERE c.contype = 'f' AND t.relkind IN ('r', 'p') AND n.nspname IN (`+in+`)
  AND (c.conparentid = 0 OR NOT rt.relispartition)
ORDER BY 1, 2, 3, k.ord`, args,
		b.foreignKeyRow(pgAction))
	if err != nil {
		return err
	}

	// What each view reads is what its rewrite rule depends on; the
	// triggers come with them (their function's body says what they
	// write).
	err = scanRows(ctx, tx, `SELECT DISTINCT vn.nspname::text, v.relname::text, rn.nspname::text, r.relname::text, false
FROM pg_class v
JOIN pg_namespace vn ON vn.oid = v.relnamespace
JOIN pg_rewrite w ON w.ev_class = v.oid
JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid AND d.refclassid = 'pg_class'::regclass
JOIN pg_class r ON r.oid = d.refobjid AND r.oid <> v.oid
JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE v.relkind IN ('v', 'm') AND r.relkind IN ('r', 'p', 'v', 'm') AND vn.nspname IN (`+in+`)
UNION ALL
SELECT n.nspname::text, c.relname::text, g.tgname::text, coalesce(p.prosrc, ''), true
FROM pg_trigger g
JOIN pg_class c ON c.oid = g.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_proc p ON p.oid = g.tgfoid
WHERE NOT g.tgisinternal AND c.relkind IN ('r', 'p') AND n.nspname IN (`+in+`)
ORDER BY 1, 2, 3, 4`, args,
		func(rows *sql.Rows) error {
			var schema, view, refSchema, ref string
			var trigger bool
			if err := rows.Scan(&schema, &view, &refSchema, &ref, &trigger); err != nil {
				return err
			}
			if trigger { // its name, and its function's body
				b.trigger(schema, view, refSchema, ref)
				return nil
			}
			if v := b.views[b.key(schema, view)]; v != nil {
				v.Reads = append(v.Reads, b.name(refSchema, ref))
			}
			return nil
		})
	if err != nil {
		return err
	}

	return scanRows(ctx, tx, `SELECT n.nspname::text, count(*)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema' AND n.nspname NOT IN (`+in+`)
GROUP BY 1`, args,
		func(rows *sql.Rows) error {
			var schema string
			var n int
			if err := rows.Scan(&schema, &n); err != nil {
				return err
			}
			b.skipped(schema, n, args)
			return nil
		})
}

// pgAction spells pg_constraint's one-letter referential action.
func pgAction(c string) string {
	switch c {
	case "a":
		return "NO ACTION"
	case "r":
		return "RESTRICT"
	case "c":
		return "CASCADE"
	case "n":
		return "SET NULL"
	case "d":
		return "SET DEFAULT"
	}
	return strings.ToUpper(c)
}
