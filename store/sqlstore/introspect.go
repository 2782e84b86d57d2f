package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Introspect reads the live database's tables: columns, types, lengths,
// nullability, primary keys, unique and other indexes, foreign keys. It
// reads the current schema/database (SQLite: main) and, in addition, each
// schema named in schemas (PostgreSQL schemas, MySQL databases; ignored on
// SQLite). It never reads a row of a host table.
//
// It reads the catalogue only: sqlite_master and the pragma functions on
// SQLite, pg_catalog on PostgreSQL (which, unlike information_schema,
// shows tables the user holds no privilege on), information_schema on
// MySQL (which shows only tables the user holds some privilege on). It
// runs at most four statements, whatever the number of tables. A schema
// that does not exist contributes no tables; naming a system schema
// (pg_catalog, information_schema, mysql, ...) is an error.
func Introspect(ctx context.Context, db *sql.DB, d Dialect, schemas ...string) (*Introspection, error) {
	if ctx == nil {
		return nil, errors.New("sqlstore: introspect: nil context")
	}
	if db == nil {
		return nil, errors.New("sqlstore: introspect: nil *sql.DB")
	}
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: introspect: unknown dialect %v", d)
	}
	if d != SQLite {
		if err := checkSchemaNames(d, schemas); err != nil {
			return nil, err
		}
	}
	in := &Introspection{Dialect: d}
	b := &introBuilder{in: in, tables: make(map[tableKey]*TableInfo)}
	var err error
	switch d {
	case SQLite:
		err = b.sqlite(ctx, db)
	case Postgres:
		err = b.postgres(ctx, db, schemas)
	case MySQL:
		err = b.mysql(ctx, db, schemas)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: introspect %s: %w", d, safeError(err))
	}
	b.finish()
	return in, nil
}

// maxSchemas bounds the schemas one call reads: each is a bound parameter.
const maxSchemas = 1000

func checkSchemaNames(d Dialect, schemas []string) error {
	if len(schemas) > maxSchemas {
		return fmt.Errorf("sqlstore: introspect: %d schemas named, at most %d", len(schemas), maxSchemas)
	}
	for _, s := range schemas {
		switch {
		case s == "":
			return errors.New("sqlstore: introspect: empty schema name")
		case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
			return fmt.Errorf("sqlstore: introspect: schema name %q is not valid UTF-8 text", s)
		case d == Postgres && (s == "information_schema" || strings.HasPrefix(s, "pg_")),
			d == MySQL && slices.Contains([]string{"information_schema", "mysql", "performance_schema", "sys"}, strings.ToLower(s)):
			return fmt.Errorf("sqlstore: introspect: %q is a system schema", s)
		}
	}
	return nil
}

// Introspection is what a live database says of its tables.
type Introspection struct {
	Dialect Dialect
	Tables  []TableInfo // sorted by Name
	// Current is the current schema (PostgreSQL), database (MySQL) or
	// "main" (SQLite), whose tables are named unqualified; "" when the
	// connection has none.
	Current string

	foldTables bool // table and schema names are case-insensitive
}

// Table returns the table named as a mapping names it ("customers" for the
// current schema, "crm.customers" for another), or nil.
//
// A qualified name is read as schema.table first, so "main.customers" on
// SQLite or "<current>.customers" finds the current schema's table too.
// Names are case-insensitive on SQLite, and on MySQL when the server folds
// table names (lower_case_table_names); exact elsewhere.
func (in *Introspection) Table(name string) *TableInfo {
	if in == nil {
		return nil
	}
	eq := func(a, b string) bool { return a == b || in.foldTables && strings.EqualFold(a, b) }
	find := func(schema, table string) *TableInfo {
		for i := range in.Tables {
			t := &in.Tables[i]
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

// TableInfo describes one table. Name is unqualified for tables of the
// current schema/database and "schema.table" for the others.
type TableInfo struct {
	Name        string
	Schema      string           // the schema, database or "main" the table lives in
	Unqualified string           // its name within Schema
	Columns     []ColumnInfo     // in ordinal order
	PrimaryKey  []string         // column names, in key order; nil when none
	Indexes     []IndexInfo      // every index, unique or not, including the PK's and UNIQUE constraints'; the primary key's first, then by name
	ForeignKeys []ForeignKeyInfo // FKs declared on this table, ordered by their columns

	foldColumns bool // column names are case-insensitive (MySQL, SQLite)
}

func (t *TableInfo) sameColumn(a, b string) bool {
	return a == b || t.foldColumns && strings.EqualFold(a, b)
}

// Column returns the named column, or nil: case-insensitive on MySQL and
// SQLite, exact on PostgreSQL (where the mapping's names are quoted, so
// they are not folded to lower case).
func (t *TableInfo) Column(name string) *ColumnInfo {
	if t == nil {
		return nil
	}
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	if t.foldColumns {
		for i := range t.Columns {
			if strings.EqualFold(t.Columns[i].Name, name) {
				return &t.Columns[i]
			}
		}
	}
	return nil
}

// Unique reports whether some unique index (or the primary key) covers
// exactly these columns (order-insensitive). A partial index, an index on
// an expression, or an invalid PostgreSQL index proves nothing.
func (t *TableInfo) Unique(columns ...string) bool {
	if t == nil || len(columns) == 0 {
		return false
	}
	if t.sameSet(t.PrimaryKey, columns) {
		return true
	}
	for _, ix := range t.Indexes {
		if (ix.Unique || ix.Primary) && !ix.Partial && !ix.Expression && !ix.Invalid && t.sameSet(ix.Columns, columns) {
			return true
		}
	}
	return false
}

// Indexed reports whether some index (any) has these columns as its
// leading columns, in any order, so that a WHERE col = ? uses it. Indexes
// the planner cannot use for such a lookup do not count: partial, invalid
// or invisible ones, and methods other than btree (and hash, when it
// covers exactly these columns).
func (t *TableInfo) Indexed(columns ...string) bool {
	if t == nil || len(columns) == 0 {
		return false
	}
	for _, ix := range t.Indexes {
		if ix.Partial || ix.Invalid || ix.Invisible || len(ix.Columns) < len(columns) {
			continue
		}
		switch ix.Method {
		case "btree":
			if t.sameSet(ix.Columns[:len(columns)], columns) {
				return true
			}
		case "hash":
			if t.sameSet(ix.Columns, columns) {
				return true
			}
		}
	}
	return false
}

// sameSet reports whether a and b hold the same column names, in any
// order; an expression's "" never matches a name.
func (t *TableInfo) sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(a))
next:
	for _, y := range b {
		for i, x := range a {
			if !used[i] && x != "" && t.sameColumn(x, y) {
				used[i] = true
				continue next
			}
		}
		return false
	}
	return true
}

// ColumnKind says what an erasure rule may write into a column.
type ColumnKind string

// The column kinds.
const (
	KindText  ColumnKind = "text"
	KindInt   ColumnKind = "int"
	KindOther ColumnKind = "other"
)

// ColumnInfo describes one column.
type ColumnInfo struct {
	Name string
	// Type is the declared type as the database reports it, lower case:
	// "varchar(32)" on SQLite and MySQL, "character varying(32)" on
	// PostgreSQL, which names a domain by its own name.
	Type string
	// Kind follows SQLite's affinity rules there (a type containing
	// "int" is KindInt, one containing "char", "clob" or "text"
	// KindText); elsewhere the text kinds are text, varchar, char and
	// citext (PostgreSQL, through domains too) and char, varchar and the
	// four text types (MySQL); the int kinds are the integer types.
	Kind ColumnKind
	// MaxLen is, for text kinds, the most characters the column holds;
	// 0 means unbounded. SQLite does not enforce declared lengths, so it
	// is 0 there.
	MaxLen int
	// MaxBytes is, on MySQL, the most bytes a text column holds: the
	// TEXT types are limited in bytes, so a value of MaxLen multi-byte
	// characters may not fit. 0 elsewhere.
	MaxBytes int
	// DeclaredLen is the length written in the declared type of a text
	// kind, if any, even where it is not enforced (SQLite).
	DeclaredLen int
	// IntMin and IntMax are, for KindInt, the range the column accepts;
	// an unsigned BIGINT's maximum is clamped to math.MaxInt64.
	IntMin, IntMax int64
	Nullable       bool
	// HasDefault is true when an INSERT that omits the column stores
	// something other than NULL: a declared default, an identity or
	// auto-increment column, SQLite's INTEGER PRIMARY KEY.
	HasDefault bool
	// Generated columns are computed by the database and cannot be
	// written.
	Generated bool
}

// IndexInfo describes one index.
type IndexInfo struct {
	// Name is empty for the primary key of a SQLite rowid table, which
	// is the table's own b-tree rather than an index.
	Name string
	// Columns are the key columns, in index order (not a PostgreSQL
	// index's INCLUDE columns); "" stands where a key part is an
	// expression.
	Columns    []string
	Unique     bool
	Primary    bool
	Expression bool   // some key part is an expression, not a column
	Partial    bool   // a WHERE clause limits it to some rows (SQLite, PostgreSQL)
	Method     string // lower case: "btree", "hash", "gin", "fulltext", ...
	// Invalid: PostgreSQL left it unfinished (a failed CREATE INDEX
	// CONCURRENTLY): the planner ignores it and it proves no uniqueness.
	Invalid bool
	// Invisible: MySQL's invisible or MariaDB's ignored index: still
	// enforced, but the planner does not use it.
	Invisible bool
}

// ForeignKeyInfo describes one foreign key.
type ForeignKeyInfo struct {
	Name       string // the constraint's name; "" on SQLite, which does not report it
	Columns    []string
	RefTable   string   // named as Table() would name it
	RefColumns []string // on SQLite an FK may omit them (refers to the PK): resolved to the PK
	OnDelete   string   // upper case: "CASCADE", "RESTRICT", "SET NULL", "SET DEFAULT", "NO ACTION"
	OnUpdate   string
}

type tableKey struct{ schema, table string }

// introBuilder gathers rows from the catalogue into an Introspection.
// Rows about a table that the table query did not return (created between
// two queries) are dropped.
type introBuilder struct {
	in     *Introspection
	tables map[tableKey]*TableInfo
	// sqliteRowid lists the SQLite tables whose primary key is their
	// rowid: they get a primary index of their own in finish.
	sqliteRowid map[tableKey]bool
	// sqliteFKs holds SQLite foreign keys until every table's primary
	// key is known.
	sqliteFKs []pendingFK
}

type pendingFK struct {
	key tableKey
	id  int64 // pragma_foreign_key_list's id: the rows of one key share it
	fk  ForeignKeyInfo
}

func (b *introBuilder) fold(s string) string {
	if b.in.foldTables {
		return strings.ToLower(s)
	}
	return s
}

func (b *introBuilder) key(schema, table string) tableKey {
	return tableKey{b.fold(schema), b.fold(table)}
}

func (b *introBuilder) name(schema, table string) string {
	if b.in.Current != "" && b.fold(schema) == b.fold(b.in.Current) {
		return table
	}
	return schema + "." + table
}

func (b *introBuilder) table(schema, table string) *TableInfo {
	k := b.key(schema, table)
	t := b.tables[k]
	if t == nil {
		t = &TableInfo{
			Name: b.name(schema, table), Schema: schema, Unqualified: table,
			foldColumns: b.in.Dialect != Postgres,
		}
		b.tables[k] = t
	}
	return t
}

// index returns the last index of t if it is named name, else a new one.
// Index rows arrive ordered by table, index and position.
func index(t *TableInfo, name string) *IndexInfo {
	if n := len(t.Indexes); n > 0 && t.Indexes[n-1].Name == name {
		return &t.Indexes[n-1]
	}
	t.Indexes = append(t.Indexes, IndexInfo{Name: name})
	return &t.Indexes[len(t.Indexes)-1]
}

func foreignKey(t *TableInfo, name string) *ForeignKeyInfo {
	if n := len(t.ForeignKeys); n > 0 && t.ForeignKeys[n-1].Name == name {
		return &t.ForeignKeys[n-1]
	}
	t.ForeignKeys = append(t.ForeignKeys, ForeignKeyInfo{Name: name})
	return &t.ForeignKeys[len(t.ForeignKeys)-1]
}

func (b *introBuilder) finish() {
	for k := range b.sqliteRowid {
		t := b.tables[k]
		if !slices.ContainsFunc(t.Indexes, func(ix IndexInfo) bool { return ix.Primary }) {
			t.Indexes = append(t.Indexes, IndexInfo{Columns: slices.Clone(t.PrimaryKey), Unique: true, Primary: true, Method: "btree"})
		}
	}
	for _, p := range b.sqliteFKs {
		t := b.tables[p.key]
		if ref := b.tables[b.key("main", p.fk.RefTable)]; ref != nil {
			p.fk.RefTable = ref.Name // as declared, the case may differ
			if p.fk.RefColumns == nil && len(ref.PrimaryKey) == len(p.fk.Columns) {
				p.fk.RefColumns = slices.Clone(ref.PrimaryKey)
			}
		}
		t.ForeignKeys = append(t.ForeignKeys, p.fk)
	}
	b.in.Tables = make([]TableInfo, 0, len(b.tables))
	for _, t := range b.tables {
		slices.SortStableFunc(t.Indexes, func(x, y IndexInfo) int {
			if x.Primary != y.Primary {
				if x.Primary {
					return -1
				}
				return 1
			}
			return strings.Compare(x.Name, y.Name)
		})
		slices.SortStableFunc(t.ForeignKeys, func(x, y ForeignKeyInfo) int {
			return cmp.Or(slices.Compare(x.Columns, y.Columns), strings.Compare(x.RefTable, y.RefTable), strings.Compare(x.Name, y.Name))
		})
		b.in.Tables = append(b.in.Tables, *t)
	}
	slices.SortFunc(b.in.Tables, func(x, y TableInfo) int { return strings.Compare(x.Name, y.Name) })
}

// scanRows runs query and calls each for every row; each scans the row.
func scanRows(ctx context.Context, q querier, query string, args []any, each func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// sqliteUserTables selects the tables of main: views and SQLite's own
// sqlite_% tables excluded.
const sqliteUserTables = `FROM sqlite_master AS s %s WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite\_%%' ESCAPE '\'`

// sqlite reads main with three statements, each joining sqlite_master to
// a pragma function, whose table argument is a column, never SQL text.
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
	err = scanRows(ctx, conn, `SELECT s.name, p.name, p.type, p."notnull", p.dflt_value IS NOT NULL AND upper(trim(p.dflt_value)) <> 'NULL', p.pk, p.hidden `+
		fmt.Sprintf(sqliteUserTables, `JOIN pragma_table_xinfo(s.name, 'main') AS p`)+` AND p.hidden <> 1 ORDER BY s.name, p.cid`, nil,
		func(rows *sql.Rows) error {
			var table, col, typ string
			var notNull, hasDefault bool
			var pk, hidden int64
			if err := rows.Scan(&table, &col, &typ, &notNull, &hasDefault, &pk, &hidden); err != nil {
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

	return scanRows(ctx, conn, `SELECT s.name, f.id, f."table", f."from", f."to", f.on_update, f.on_delete `+
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

// placeholders returns n placeholders for d, numbered from 1.
func placeholders(d Dialect, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = "?"
		if d == Postgres {
			ps[i] = "$" + strconv.Itoa(i+1)
		}
	}
	return strings.Join(ps, ", ")
}

// schemaArgs returns the distinct schemas to read: the current one, if
// any, and the named ones.
func schemaArgs(current string, schemas []string) []any {
	var args []any
	seen := make(map[string]bool)
	for _, s := range append([]string{current}, schemas...) {
		if s != "" && !seen[s] {
			seen[s] = true
			args = append(args, s)
		}
	}
	return args
}

// postgres reads pg_catalog in one read-only transaction, so that the
// four statements see one snapshot.
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
	in := placeholders(Postgres, len(args))

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
SELECT n.nspname::text, c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
  et.typname::text, CASE WHEN a.atttypmod >= 0 THEN a.atttypmod ELSE coalesce(base.typmod, -1) END,
  a.attnotnull, (a.atthasdef AND a.attgenerated = '') OR a.attidentity <> '', a.attgenerated <> ''
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN base ON base.oid = a.atttypid
LEFT JOIN pg_type et ON et.oid = coalesce(base.base, a.atttypid)
WHERE c.relkind IN ('r', 'p') AND n.nspname IN (`+in+`)
ORDER BY 1, 2, a.attnum`, args,
		func(rows *sql.Rows) error {
			var schema, table string
			var col, typ, base sql.NullString
			var typmod sql.NullInt64
			var notNull, hasDefault, generated sql.NullBool
			if err := rows.Scan(&schema, &table, &col, &typ, &base, &typmod, &notNull, &hasDefault, &generated); err != nil {
				return err
			}
			t := b.table(schema, table)
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
			case "int2":
				c.Kind, c.IntMin, c.IntMax = KindInt, math.MinInt16, math.MaxInt16
			case "int4":
				c.Kind, c.IntMin, c.IntMax = KindInt, math.MinInt32, math.MaxInt32
			case "int8":
				c.Kind, c.IntMin, c.IntMax = KindInt, math.MinInt64, math.MaxInt64
			}
			t.Columns = append(t.Columns, c)
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
	return scanRows(ctx, tx, `SELECT n.nspname::text, t.relname::text, c.conname::text, rn.nspname::text, rt.relname::text,
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
		func(rows *sql.Rows) error {
			var schema, table, name, refSchema, refTable, onUpdate, onDelete, col, refCol string
			if err := rows.Scan(&schema, &table, &name, &refSchema, &refTable, &onUpdate, &onDelete, &col, &refCol); err != nil {
				return err
			}
			t := b.tables[b.key(schema, table)]
			if t == nil {
				return nil
			}
			fk := foreignKey(t, name)
			fk.RefTable = b.name(refSchema, refTable)
			fk.OnUpdate, fk.OnDelete = pgAction(onUpdate), pgAction(onDelete)
			fk.Columns = append(fk.Columns, col)
			fk.RefColumns = append(fk.RefColumns, refCol)
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

// mysql reads information_schema. It is not transactional, so the four
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
	in := placeholders(MySQL, len(args))
	// MariaDB does not carry a condition on one information_schema
	// table over to another it is joined with: without one on each, a
	// join opens every table of the schema once per row (20 times
	// slower on 200 tables).

	// MariaDB reports a NULL default as the text NULL (and a string
	// default quoted); MySQL reports it as NULL.
	hasDefault := `c.COLUMN_DEFAULT IS NOT NULL`
	if strings.Contains(strings.ToLower(version), "mariadb") {
		hasDefault += ` AND c.COLUMN_DEFAULT <> 'NULL'`
	}
	err = scanRows(ctx, conn, `SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.DATA_TYPE,
  c.CHARACTER_MAXIMUM_LENGTH, c.CHARACTER_OCTET_LENGTH, c.IS_NULLABLE = 'YES', `+hasDefault+`, c.EXTRA
FROM information_schema.COLUMNS c
WHERE c.TABLE_SCHEMA IN (`+in+`) AND (c.TABLE_SCHEMA, c.TABLE_NAME) IN (
  SELECT t.TABLE_SCHEMA, t.TABLE_NAME FROM information_schema.TABLES t
  WHERE t.TABLE_SCHEMA IN (`+in+`) AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED'))
ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION`, append(args, args...),
		func(rows *sql.Rows) error {
			var schema, table, col, typ, dataType, extra string
			var maxChars, maxBytes sql.NullInt64
			var nullable, hasDefault bool
			if err := rows.Scan(&schema, &table, &col, &typ, &dataType, &maxChars, &maxBytes, &nullable, &hasDefault, &extra); err != nil {
				return err
			}
			t := b.table(schema, table)
			typ, extra = strings.ToLower(typ), strings.ToUpper(extra)
			c := ColumnInfo{Name: col, Type: typ, Kind: KindOther, Nullable: nullable,
				HasDefault: hasDefault || strings.Contains(extra, "AUTO_INCREMENT"),
				Generated:  strings.Contains(extra, "VIRTUAL GENERATED") || strings.Contains(extra, "STORED GENERATED") || strings.Contains(extra, "PERSISTENT GENERATED")}
			dataType = strings.ToLower(dataType)
			switch dataType {
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

	return scanRows(ctx, conn, `SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME,
  r.UPDATE_RULE, r.DELETE_RULE, k.COLUMN_NAME, k.REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA IN (`+in+`) AND r.CONSTRAINT_SCHEMA IN (`+in+`) AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`, append(args, args...),
		func(rows *sql.Rows) error {
			var schema, table, name, refSchema, refTable, onUpdate, onDelete, col, refCol string
			if err := rows.Scan(&schema, &table, &name, &refSchema, &refTable, &onUpdate, &onDelete, &col, &refCol); err != nil {
				return err
			}
			t := b.tables[b.key(schema, table)]
			if t == nil {
				return nil
			}
			fk := foreignKey(t, name)
			fk.RefTable = b.name(refSchema, refTable)
			fk.OnUpdate, fk.OnDelete = strings.ToUpper(onUpdate), strings.ToUpper(onDelete)
			fk.Columns = append(fk.Columns, col)
			fk.RefColumns = append(fk.RefColumns, refCol)
			return nil
		})
}
