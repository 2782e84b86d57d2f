package sqlstore

import (
	"context"
	"database/sql"
	"math"
	"strings"
)

// mysqlIntRanges are the signed ranges of MySQL's integer types; the
// unsigned ones start at 0 and reach twice the maximum plus one.
var mysqlIntRanges = map[string][2]int64{
	"tinyint":   {math.MinInt8, math.MaxInt8},
	"smallint":  {math.MinInt16, math.MaxInt16},
	"mediumint": {-1 << 23, 1<<23 - 1},
	"int":       {math.MinInt32, math.MaxInt32},
	"integer":   {math.MinInt32, math.MaxInt32},
	"bigint":    {math.MinInt64, math.MaxInt64},
}

// mysql reads information_schema. It is not transactional, so the six
// statements run on one connection, without a transaction.
func (b *introBuilder) mysql(ctx context.Context, db *sql.DB, schemas []string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var current sql.NullString
	var version string
	var lowerCase int64
	if err := conn.QueryRowContext(ctx, `SELECT DATABASE(), VERSION(), @@lower_case_table_names`).Scan(&current, &version, &lowerCase); err != nil {
		return err
	}
	b.in.Current = current.String
	b.in.foldTables = lowerCase != 0
	args := schemaArgs(current.String, schemas)
	if len(args) == 0 {
		return nil // no database selected and none named
	}
	in := MySQL.Placeholders(len(args))
	// MariaDB does not carry a condition on one information_schema
	// table over to another it is joined with: without one on each, a
	// join opens every table of the schema once per row (20 times
	// slower on 200 tables).

	// MariaDB reports a NULL default as the text NULL (and a string
	// default quoted); MySQL reports it as NULL.
	// The views first, so that their columns go to them.
	// The triggers come with them: their text says what they write.
	err = scanRows(ctx, conn, `SELECT '', TABLE_SCHEMA, TABLE_NAME, coalesce(VIEW_DEFINITION, '') FROM information_schema.VIEWS
WHERE TABLE_SCHEMA IN (`+in+`)
UNION ALL SELECT TRIGGER_NAME, EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, coalesce(ACTION_STATEMENT, '') FROM information_schema.TRIGGERS
WHERE EVENT_OBJECT_SCHEMA IN (`+in+`)`, append(args, args...),
		func(rows *sql.Rows) error {
			var trigger, schema, view, def string
			if err := rows.Scan(&trigger, &schema, &view, &def); err != nil {
				return err
			}
			if trigger != "" {
				b.trigger(schema, view, trigger, def)
				return nil
			}
			b.viewDefinition(schema, view, PlainView, def)
			return nil
		})
	if err != nil {
		return err
	}
	hasDefault := `c.COLUMN_DEFAULT IS NOT NULL`
	if strings.Contains(strings.ToLower(version), "mariadb") {
		hasDefault += ` AND c.COLUMN_DEFAULT <> 'NULL'`
	}
	err = scanRows(ctx, conn, `SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.DATA_TYPE,
  c.CHARACTER_MAXIMUM_LENGTH, c.CHARACTER_OCTET_LENGTH, c.IS_NULLABLE = 'YES', `+hasDefault+`, c.EXTRA,
  coalesce(c.GENERATION_EXPRESSION, '')
FROM information_schema.COLUMNS c
WHERE c.TABLE_SCHEMA IN (`+in+`) AND (c.TABLE_SCHEMA, c.TABLE_NAME) IN (
  SELECT t.TABLE_SCHEMA, t.TABLE_NAME FROM information_schema.TABLES t
  WHERE t.TABLE_SCHEMA IN (`+in+`) AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'VIEW'))
ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION`, append(args, args...),
		func(rows *sql.Rows) error {
			var schema, table, col, typ, dataType, extra, genExpr string
			var maxChars, maxBytes sql.NullInt64
			var nullable, hasDefault bool
			if err := rows.Scan(&schema, &table, &col, &typ, &dataType, &maxChars, &maxBytes, &nullable, &hasDefault, &extra, &genExpr); err != nil {
				return err
			}
			t := b.views[b.key(schema, table)]
			if t == nil {
				t = b.table(schema, table)
			}
			typ, extra = strings.ToLower(typ), strings.ToUpper(extra)
			c := ColumnInfo{Name: col, Type: typ, Kind: KindOther, Nullable: nullable,
				HasDefault: hasDefault || strings.Contains(extra, "AUTO_INCREMENT"),
				Generated:  strings.Contains(extra, "VIRTUAL GENERATED") || strings.Contains(extra, "STORED GENERATED") || strings.Contains(extra, "PERSISTENT GENERATED")}
			dataType = strings.ToLower(dataType)
			switch dataType {
			case "uuid": // MariaDB 10.7+
				c.Kind = KindUUID
			case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
				c.Kind = KindText
				c.MaxLen = int(min(maxChars.Int64, math.MaxInt))
				c.MaxBytes = int(min(maxBytes.Int64, math.MaxInt))
				if dataType == "char" || dataType == "varchar" {
					c.DeclaredLen = c.MaxLen
				}
			default:
				if r, ok := mysqlIntRanges[dataType]; ok {
					c.Kind, c.IntMin, c.IntMax = KindInt, r[0], r[1]
					if strings.Contains(typ, "unsigned") {
						c.IntMin = 0
						if dataType == "bigint" {
							c.IntMax = math.MaxInt64
						} else {
							c.IntMax = 2*r[1] + 1
						}
					}
				}
			}
			t.Columns = append(t.Columns, c)
			if c.Generated {
				b.generated(schema, table, col, genExpr)
			}
			return nil
		})
	if err != nil {
		return err
	}

	// SELECT *: the columns that mark an index unused differ between
	// MySQL (IS_VISIBLE, and EXPRESSION for functional key parts) and
	// MariaDB (IGNORED), and an absent column would fail the statement.
	err = scanRows(ctx, conn, `SELECT * FROM information_schema.STATISTICS WHERE TABLE_SCHEMA IN (`+in+`)
ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`, args,
		func(rows *sql.Rows) error {
			names, err := rows.Columns()
			if err != nil {
				return err
			}
			vals := make([]sql.NullString, len(names))
			dest := make([]any, len(vals))
			for i := range vals {
				dest[i] = &vals[i]
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			get := func(name string) sql.NullString {
				for i, n := range names {
					if strings.EqualFold(n, name) {
						return vals[i]
					}
				}
				return sql.NullString{}
			}
			t := b.tables[b.key(get("TABLE_SCHEMA").String, get("TABLE_NAME").String)]
			if t == nil {
				return nil
			}
			name := get("INDEX_NAME").String
			ix := index(t, name)
			ix.Primary = name == "PRIMARY"
			ix.Unique = get("NON_UNIQUE").String == "0"
			ix.Method = strings.ToLower(get("INDEX_TYPE").String)
			ix.Invisible = strings.EqualFold(get("IS_VISIBLE").String, "NO") || strings.EqualFold(get("IGNORED").String, "YES")
			col := get("COLUMN_NAME")
			if !col.Valid {
				ix.Expression = true
			}
			ix.Columns = append(ix.Columns, col.String)
			if ix.Primary {
				t.PrimaryKey = append(t.PrimaryKey, col.String)
			}
			return nil
		})
	if err != nil {
		return err
	}

	err = scanRows(ctx, conn, `SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME,
  r.UPDATE_RULE, r.DELETE_RULE, k.COLUMN_NAME, k.REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA IN (`+in+`) AND r.CONSTRAINT_SCHEMA IN (`+in+`) AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`, append(args, args...),
		b.foreignKeyRow(strings.ToUpper))
	if err != nil {
		return err
	}

	return scanRows(ctx, conn, `SELECT TABLE_SCHEMA, COUNT(*) FROM information_schema.TABLES
WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
  AND TABLE_SCHEMA NOT IN ('information_schema', 'mysql', 'performance_schema', 'sys')
GROUP BY TABLE_SCHEMA`, nil,
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
