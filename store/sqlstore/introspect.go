package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Introspect reads the live database's tables: columns, types, lengths,
// nullability, primary keys, unique and other indexes, foreign keys. It
// reads the current schema/database (SQLite: main) and, in addition, each
// schema named in schemas (PostgreSQL schemas, MySQL databases; ignored on
// SQLite), with their views and materialized views, and counts the tables
// of the schemas it does not read ([Introspection.Skipped]). It never
// reads a row of a host table.
//
// It reads the catalogue only: sqlite_master and the pragma functions on
// SQLite, pg_catalog on PostgreSQL (which, unlike information_schema,
// shows tables the user holds no privilege on), information_schema on
// MySQL (which shows only tables the user holds some privilege on). It
// runs at most six statements, whatever the number of tables (SQLite: and
// one per view). A schema that does not exist contributes no tables;
// naming a system schema (pg_catalog, information_schema, mysql, ...) is
// an error.
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
	e := d.engine()
	if err := e.checkSchemas(schemas); err != nil {
		return nil, err
	}
	in := &Introspection{Dialect: d}
	b := &introBuilder{in: in, tables: make(map[tableKey]*TableInfo)}
	if err := e.introspect(b, ctx, db, schemas); err != nil {
		return nil, fmt.Errorf("sqlstore: introspect %s: %w", d, safeError(err))
	}
	b.finish()
	return in, nil
}

// maxSchemas bounds the schemas one call reads: each is a bound parameter.
const maxSchemas = 1000

// checkSchemaNames refuses schema names no catalogue query should bind,
// and the engine's system schemas.
func checkSchemaNames(schemas []string, system func(string) bool) error {
	if len(schemas) > maxSchemas {
		return fmt.Errorf("sqlstore: introspect: %d schemas named, at most %d", len(schemas), maxSchemas)
	}
	for _, s := range schemas {
		switch {
		case s == "":
			return errors.New("sqlstore: introspect: empty schema name")
		case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
			return fmt.Errorf("sqlstore: introspect: schema name %q is not valid UTF-8 text", s)
		case system(s):
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

	// Views are the views and materialized views of the schemas read,
	// sorted by Name (see [TableInfo.View]); only their columns and what
	// they read are known.
	Views []TableInfo
	// Skipped are the schemas (PostgreSQL) or databases (MySQL) that the
	// connection can see, that hold tables and that were not read, by
	// name; nil on SQLite.
	Skipped []SchemaTables
	// Triggers are the triggers on the tables read, sorted by Table and
	// Name (introspect_triggers.go).
	Triggers []TriggerInfo

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
	return in.lookup(in.Tables, name)
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
	// View is, for an entry of [Introspection.Views], [PlainView] or
	// [MaterializedView]; "" for a table.
	View string
	// Reads lists, for a view, the tables and views its definition
	// reads, named as [Introspection.Table] names them, sorted. PostgreSQL
	// records them; on SQLite and MySQL they are read from the
	// definition's text, so that a name it only mentions (a column named
	// like a table) counts too: never fewer than it reads.
	Reads []string

	foldColumns bool // column names are case-insensitive (MySQL, SQLite)
	// hiddenDefinition: a MySQL view whose definition the user may not
	// read (SHOW VIEW), so that Reads says nothing.
	hiddenDefinition bool
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
	KindUUID  ColumnKind = "uuid" // PostgreSQL's uuid, MariaDB's UUID
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
	// four text types (MySQL); the int kinds are the integer types; the
	// uuid kind is PostgreSQL's uuid (through domains too) and MariaDB's UUID.
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
	// GeneratedFrom names, for a generated column, the other columns of
	// its table that its expression names (read from its text: never
	// fewer than it reads); nil when none is known.
	GeneratedFrom []string
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
	// views are the views read, and viewText the definitions whose
	// tables finishViews finds in their text (SQLite, MySQL).
	views    map[tableKey]*TableInfo
	viewText map[tableKey]string
	// triggers and genExpr wait for every table's columns
	// (introspect_triggers.go).
	triggers []pendingTrigger
	genExpr  map[tableKey]map[string]string
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
			foldColumns: b.in.Dialect.engine().foldColumns,
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
	b.finishGenerated()
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
	b.finishViews()
	b.finishTriggers()
}

// foreignKeyRow returns the scanRows callback of a foreign-key query whose
// columns are the key's schema, table and name, the referenced schema and
// table, the update and delete actions, then one column pair; action
// spells the engine's actions as SQL does.
func (b *introBuilder) foreignKeyRow(action func(string) string) func(*sql.Rows) error {
	return func(rows *sql.Rows) error {
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
		fk.OnUpdate, fk.OnDelete = action(onUpdate), action(onDelete)
		fk.Columns = append(fk.Columns, col)
		fk.RefColumns = append(fk.RefColumns, refCol)
		return nil
	}
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
