package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/forgetkit/forget/store/sqlstore"
)

// hostDDL is one host schema, written for each engine: customers with an
// integer key, a unique username, a composite unique and a plain index;
// orders (a 32-bit id, a BIGINT customer_id, ON DELETE CASCADE);
// order_notes reaching customers only through orders (ON DELETE
// RESTRICT, the referenced columns omitted where the engine allows it);
// a table whose name, columns and index need quoting; a view; and, given
// crm, a table in a second schema (PostgreSQL) or database (MySQL).
func hostDDL(d sqlstore.Dialect, ns, crm string) []string {
	custID, tail := "BIGINT PRIMARY KEY", ""
	weird, weirdIdx, oddCol, mixed, custRef, weirdFK := `"weird ""name"" x"`, `"weird ""idx"""`, `"odd col"`, `"Mixed Case"`, `"cust ref"`, `"weird fk"`
	notesRef := "REFERENCES Orders" // the referenced columns omitted: the key of orders
	switch d {
	case sqlstore.SQLite:
		custID = "INTEGER PRIMARY KEY"
	case sqlstore.MySQL:
		tail = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
		weird, weirdIdx, oddCol, mixed, custRef, weirdFK = "`weird \"name\" x`", "`weird \"idx\"`", "`odd col`", "`Mixed Case`", "`cust ref`", "`weird fk`"
		notesRef = "REFERENCES orders (id)"
	}
	// MySQL has no CREATE INDEX IF NOT EXISTS and would make an index
	// of its own for a foreign key without one: its indexes go inline.
	index := func(unique bool, name, table, cols string) (inline, after string) {
		kind := "INDEX"
		if unique {
			kind = "UNIQUE INDEX"
		}
		if d == sqlstore.MySQL {
			return fmt.Sprintf(",\n  %s %s (%s)", kind, name, cols), ""
		}
		return "", fmt.Sprintf("CREATE %s %s ON %s (%s)", kind, name, table, cols)
	}
	shopIn, shopAfter := index(true, "customers_shop", "customers", "shop_id, shop_ref")
	emailIn, emailAfter := index(false, "customers_email", "customers", "email")
	ordIn, ordAfter := index(false, "orders_customer", "orders", "customer_id")
	noteIn, noteAfter := index(false, "order_notes_order", "order_notes", "order_id")
	weirdIn, weirdAfter := index(false, weirdIdx, weird, custRef)
	stmts := []string{
		`CREATE TABLE customers (
  customer_id ` + custID + `,
  username VARCHAR(32) NOT NULL UNIQUE,
  status TEXT NOT NULL DEFAULT 'active',
  nickname TEXT NULL,
  shop_id INTEGER NOT NULL DEFAULT 0,
  shop_ref VARCHAR(40) NOT NULL DEFAULT '',
  email VARCHAR(255) NULL` + shopIn + emailIn + `
)` + tail,
		shopAfter, emailAfter,
		`CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id BIGINT NOT NULL,
  qty SMALLINT NOT NULL DEFAULT 1,
  CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (customer_id) ON DELETE CASCADE` + ordIn + `
)` + tail,
		ordAfter,
		`CREATE TABLE order_notes (
  note_id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL,
  body TEXT NOT NULL,
  CONSTRAINT order_notes_order_fk FOREIGN KEY (order_id) ` + notesRef + ` ON DELETE RESTRICT` + noteIn + `
)` + tail,
		noteAfter,
		`CREATE TABLE ` + weird + ` (
  ` + oddCol + ` VARCHAR(10),
  ` + mixed + ` INTEGER,
  ` + custRef + ` BIGINT,
  CONSTRAINT ` + weirdFK + ` FOREIGN KEY (` + custRef + `) REFERENCES customers (customer_id) ON DELETE SET NULL ON UPDATE CASCADE` + weirdIn + `
)` + tail,
		weirdAfter,
		`CREATE VIEW customer_names AS SELECT customer_id, username FROM customers`,
	}
	if crm != "" {
		create := "CREATE SCHEMA "
		if d == sqlstore.MySQL {
			create = "CREATE DATABASE "
		}
		crmIn, crmAfter := index(false, "contacts_customer", crm+".contacts", "customer_id")
		stmts = append(stmts, create+crm, `CREATE TABLE `+crm+`.contacts (
  contact_id INTEGER PRIMARY KEY,
  customer_id BIGINT NOT NULL,
  phone VARCHAR(20) NULL,
  CONSTRAINT contacts_customer_fk FOREIGN KEY (customer_id) REFERENCES `+ns+`.customers (customer_id) ON DELETE CASCADE`+crmIn+`
)`+tail, crmAfter)
	}
	return slices.DeleteFunc(stmts, func(s string) bool { return s == "" })
}

// tableView is the exported part of a TableInfo.
type tableView struct {
	Name, Schema, Unqualified string
	Columns                   []sqlstore.ColumnInfo
	PrimaryKey                []string
	Indexes                   []sqlstore.IndexInfo
	ForeignKeys               []sqlstore.ForeignKeyInfo
}

func viewOf(t sqlstore.TableInfo) tableView {
	return tableView{t.Name, t.Schema, t.Unqualified, t.Columns, t.PrimaryKey, t.Indexes, t.ForeignKeys}
}

// wantHost is what Introspect must say of hostDDL, with every difference
// between the engines spelled out.
func wantHost(d sqlstore.Dialect, ns, crm string) []tableView {
	lite, pg, my := d == sqlstore.SQLite, d == sqlstore.Postgres, d == sqlstore.MySQL
	pick := func(sqlite, postgres, mysql string) string {
		switch d {
		case sqlstore.SQLite:
			return sqlite
		case sqlstore.Postgres:
			return postgres
		}
		return mysql
	}
	// varchar(n): SQLite does not enforce the length; MySQL's utf8mb4
	// takes up to 4 bytes a character.
	varchar := func(name string, n int, nullable, def bool) sqlstore.ColumnInfo {
		c := sqlstore.ColumnInfo{Name: name, Type: pick(fmt.Sprintf("varchar(%d)", n), fmt.Sprintf("character varying(%d)", n), fmt.Sprintf("varchar(%d)", n)),
			Kind: sqlstore.KindText, MaxLen: n, DeclaredLen: n, Nullable: nullable, HasDefault: def}
		if lite {
			c.MaxLen = 0
		}
		if my {
			c.MaxBytes = 4 * n
		}
		return c
	}
	// text: MySQL's TEXT holds 65535 bytes.
	text := func(name string, nullable, def bool) sqlstore.ColumnInfo {
		c := sqlstore.ColumnInfo{Name: name, Type: "text", Kind: sqlstore.KindText, Nullable: nullable, HasDefault: def}
		if my {
			c.MaxLen, c.MaxBytes = 65535, 65535
		}
		return c
	}
	// Integers: SQLite's integer affinity takes any int64 whatever the
	// declared type; MariaDB reports a display width.
	integer := func(name, sqlite, postgres, mysql string, bits int, nullable, def bool) sqlstore.ColumnInfo {
		c := sqlstore.ColumnInfo{Name: name, Type: pick(sqlite, postgres, mysql), Kind: sqlstore.KindInt, Nullable: nullable, HasDefault: def}
		if lite {
			bits = 64
		}
		c.IntMin, c.IntMax = -1<<(bits-1), 1<<(bits-1)-1
		return c
	}
	int32Col := func(name string, nullable, def bool) sqlstore.ColumnInfo {
		return integer(name, "integer", "integer", "int(11)", 32, nullable, def)
	}
	int64Col := func(name string, nullable, def bool) sqlstore.ColumnInfo {
		return integer(name, "bigint", "bigint", "bigint(20)", 64, nullable, def)
	}
	// A SQLite INTEGER PRIMARY KEY is the rowid: never NULL, assigned
	// when omitted, and the table's own b-tree rather than an index.
	intPK := func(name string) sqlstore.ColumnInfo {
		c := int32Col(name, false, lite)
		if lite {
			c.Type = "integer"
		}
		return c
	}
	primary := func(table string, cols ...string) sqlstore.IndexInfo {
		return sqlstore.IndexInfo{Name: pick("", table+"_pkey", "PRIMARY"), Columns: cols, Unique: true, Primary: true, Method: "btree"}
	}
	idx := func(name string, unique bool, cols ...string) sqlstore.IndexInfo {
		return sqlstore.IndexInfo{Name: name, Columns: cols, Unique: unique, Method: "btree"}
	}
	fk := func(name string, cols []string, ref string, refCols []string, onDelete, onUpdate string) sqlstore.ForeignKeyInfo {
		if lite {
			name = "" // SQLite does not report constraint names
		}
		return sqlstore.ForeignKeyInfo{Name: name, Columns: cols, RefTable: ref, RefColumns: refCols, OnDelete: onDelete, OnUpdate: onUpdate}
	}
	// An unspecified ON UPDATE is NO ACTION, which MariaDB reports as
	// RESTRICT (InnoDB checks at once either way).
	noAction := pick("NO ACTION", "NO ACTION", "RESTRICT")
	local := func(name string) (string, string, string) { return name, pick("main", ns, ns), name }

	custPK := int64Col("customer_id", false, false)
	if lite {
		custPK = intPK("customer_id")
	}
	tables := []tableView{}
	add := func(t tableView) {
		slices.SortStableFunc(t.Indexes, func(x, y sqlstore.IndexInfo) int {
			if x.Primary != y.Primary {
				if x.Primary {
					return -1
				}
				return 1
			}
			return strings.Compare(x.Name, y.Name)
		})
		tables = append(tables, t)
	}
	n, s, u := local("customers")
	add(tableView{Name: n, Schema: s, Unqualified: u,
		Columns: []sqlstore.ColumnInfo{
			custPK,
			varchar("username", 32, false, false),
			text("status", false, true),
			text("nickname", true, false),
			int32Col("shop_id", false, true),
			varchar("shop_ref", 40, false, true),
			varchar("email", 255, true, false),
		},
		PrimaryKey: []string{"customer_id"},
		Indexes: []sqlstore.IndexInfo{
			primary("customers", "customer_id"),
			idx(pick("sqlite_autoindex_customers_1", "customers_username_key", "username"), true, "username"),
			idx("customers_shop", true, "shop_id", "shop_ref"),
			idx("customers_email", false, "email"),
		},
	})
	n, s, u = local("orders")
	add(tableView{Name: n, Schema: s, Unqualified: u,
		Columns: []sqlstore.ColumnInfo{
			intPK("id"),
			int64Col("customer_id", false, false),
			integer("qty", "smallint", "smallint", "smallint(6)", 16, false, true),
		},
		PrimaryKey:  []string{"id"},
		Indexes:     []sqlstore.IndexInfo{primary("orders", "id"), idx("orders_customer", false, "customer_id")},
		ForeignKeys: []sqlstore.ForeignKeyInfo{fk("orders_customer_fk", []string{"customer_id"}, "customers", []string{"customer_id"}, "CASCADE", noAction)},
	})
	n, s, u = local("order_notes")
	add(tableView{Name: n, Schema: s, Unqualified: u,
		Columns: []sqlstore.ColumnInfo{
			intPK("note_id"),
			int32Col("order_id", false, false),
			text("body", false, false),
		},
		PrimaryKey:  []string{"note_id"},
		Indexes:     []sqlstore.IndexInfo{primary("order_notes", "note_id"), idx("order_notes_order", false, "order_id")},
		ForeignKeys: []sqlstore.ForeignKeyInfo{fk("order_notes_order_fk", []string{"order_id"}, "orders", []string{"id"}, "RESTRICT", noAction)},
	})
	n, s, u = local(`weird "name" x`)
	add(tableView{Name: n, Schema: s, Unqualified: u,
		Columns: []sqlstore.ColumnInfo{
			varchar("odd col", 10, true, false),
			int32Col("Mixed Case", true, false),
			int64Col("cust ref", true, false),
		},
		Indexes:     []sqlstore.IndexInfo{idx(`weird "idx"`, false, "cust ref")},
		ForeignKeys: []sqlstore.ForeignKeyInfo{fk("weird fk", []string{"cust ref"}, "customers", []string{"customer_id"}, "SET NULL", "CASCADE")},
	})
	if pg || my {
		add(tableView{Name: crm + ".contacts", Schema: crm, Unqualified: "contacts",
			Columns: []sqlstore.ColumnInfo{
				int32Col("contact_id", false, false),
				int64Col("customer_id", false, false),
				varchar("phone", 20, true, false),
			},
			PrimaryKey:  []string{"contact_id"},
			Indexes:     []sqlstore.IndexInfo{primary("contacts", "contact_id"), idx("contacts_customer", false, "customer_id")},
			ForeignKeys: []sqlstore.ForeignKeyInfo{fk("contacts_customer_fk", []string{"customer_id"}, "customers", []string{"customer_id"}, "CASCADE", noAction)},
		})
	}
	slices.SortFunc(tables, func(x, y tableView) int { return strings.Compare(x.Name, y.Name) })
	return tables
}

// createHost creates hostDDL in a fresh database and returns it, its
// current schema, and the second schema ("" on SQLite), dropped at the
// end of the test.
func createHost(t testing.TB, e engine) (*sql.DB, string, string) {
	t.Helper()
	db, ns := e.open(t)
	crm := ""
	if e.dialect != sqlstore.SQLite {
		crm = ns + "_crm"
		t.Cleanup(func() {
			drop := "DROP SCHEMA " + crm + " CASCADE"
			if e.dialect == sqlstore.MySQL {
				drop = "DROP DATABASE " + crm
			}
			db.Exec(drop)
		})
	}
	for _, st := range hostDDL(e.dialect, ns, crm) {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	return db, ns, crm
}

func TestIntrospect(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			db, ns, crm := createHost(t, e)
			var schemas []string
			if crm != "" {
				schemas = []string{crm, crm, ns} // duplicates and the current one are harmless
			}
			in, err := sqlstore.Introspect(context.Background(), db, e.dialect, schemas...)
			if err != nil {
				t.Fatal(err)
			}
			if in.Dialect != e.dialect || in.Current != ns {
				t.Errorf("Dialect, Current = %v, %q; want %v, %q", in.Dialect, in.Current, e.dialect, ns)
			}
			want := wantHost(e.dialect, ns, crm)
			var gotNames, wantNames []string
			for _, tb := range in.Tables {
				gotNames = append(gotNames, tb.Name)
			}
			for _, tb := range want {
				wantNames = append(wantNames, tb.Name)
			}
			if !slices.Equal(gotNames, wantNames) {
				t.Errorf("tables = %q, want %q (no view, nothing of SQLite's own)", gotNames, wantNames)
			}
			for _, w := range want {
				got := in.Table(w.Name)
				if got == nil {
					continue
				}
				g := viewOf(*got)
				if reflect.DeepEqual(g, w) {
					continue
				}
				for i := range max(len(g.Columns), len(w.Columns)) {
					var gc, wc sqlstore.ColumnInfo
					if i < len(g.Columns) {
						gc = g.Columns[i]
					}
					if i < len(w.Columns) {
						wc = w.Columns[i]
					}
					if !reflect.DeepEqual(gc, wc) {
						t.Errorf("%s column %d:\n got %+v\nwant %+v", w.Name, i, gc, wc)
					}
				}
				g.Columns, w.Columns = nil, nil
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s:\n got %+v\nwant %+v", w.Name, g, w)
				}
			}

			// Looking tables and columns up as a mapping names them.
			cust := in.Table("customers")
			if cust == nil {
				t.Fatal(`Table("customers") = nil`)
			}
			if in.Table(ns+".customers") != cust {
				t.Errorf("Table(%q) is not the current schema's customers", ns+".customers")
			}
			if got := in.Table("CUSTOMERS") != nil; got != (e.dialect == sqlstore.SQLite) {
				t.Errorf(`Table("CUSTOMERS") found = %v; table names are case-insensitive on SQLite only (here)`, got)
			}
			for _, name := range []string{"customer_names", "nowhere", "", ".", "customers.", ".customers", "nowhere.customers"} {
				if in.Table(name) != nil {
					t.Errorf("Table(%q) != nil", name)
				}
			}
			if crm != "" && in.Table(crm+".contacts") == nil {
				t.Errorf("Table(%q) = nil", crm+".contacts")
			}
			if c := cust.Column("USERNAME"); (c != nil) != (e.dialect != sqlstore.Postgres) {
				t.Errorf(`Column("USERNAME") = %+v; case-insensitive on SQLite and MySQL, exact on PostgreSQL`, c)
			}
			if c := cust.Column("username"); c == nil || c.Name != "username" {
				t.Errorf(`Column("username") = %+v`, c)
			}
			for _, tc := range []struct {
				cols            []string
				unique, indexed bool
			}{
				{[]string{"customer_id"}, true, true},
				{[]string{"username"}, true, true},
				{[]string{"shop_ref", "shop_id"}, true, true},
				{[]string{"shop_id"}, false, true}, // leads the composite index
				{[]string{"shop_ref"}, false, false},
				{[]string{"email"}, false, true},
				{[]string{"nickname"}, false, false},
				{[]string{"shop_id", "shop_ref", "email"}, false, false},
				{[]string{"username", "username"}, false, false},
				{nil, false, false},
			} {
				if got := cust.Unique(tc.cols...); got != tc.unique {
					t.Errorf("Unique(%q) = %v", tc.cols, got)
				}
				if got := cust.Indexed(tc.cols...); got != tc.indexed {
					t.Errorf("Indexed(%q) = %v", tc.cols, got)
				}
			}
			if !in.Table("orders").Indexed("customer_id") || in.Table("orders").Unique("customer_id") {
				t.Error("orders.customer_id: want indexed, not unique")
			}
		})
	}
}

// stmtLog records every statement prepared on a database opened through
// loggingConnector. The connection implements no QueryerContext, so
// database/sql prepares every statement it runs.
type stmtLog struct {
	mu    sync.Mutex
	stmts []string
}

func (l *stmtLog) add(q string) {
	l.mu.Lock()
	l.stmts = append(l.stmts, q)
	l.mu.Unlock()
}

func (l *stmtLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stmts
	l.stmts = nil
	return s
}

type loggingConnector struct {
	drv driver.Driver
	dsn string
	log *stmtLog
}

func (c loggingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return loggingConn{conn, c.log}, nil
}

func (c loggingConnector) Driver() driver.Driver { return c.drv }

type loggingConn struct {
	driver.Conn
	log *stmtLog
}

func (c loggingConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}

func (c loggingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.log.add(q)
	if pc, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return pc.PrepareContext(ctx, q)
	}
	return c.Conn.Prepare(q)
}

func (c loggingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

// loggingDB opens db's database (ns its schema) a second time, logging
// the statements run on it.
func loggingDB(t testing.TB, e engine, db *sql.DB, ns string) (*sql.DB, *stmtLog) {
	t.Helper()
	name := ns
	if e.dialect == sqlstore.SQLite {
		if err := db.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&name); err != nil {
			t.Fatal(err)
		}
	}
	dsn := e.dsn(t, name)
	log := new(stmtLog)
	ldb := sql.OpenDB(loggingConnector{db.Driver(), dsn, log})
	t.Cleanup(func() { ldb.Close() })
	return ldb, log
}

// TestIntrospectReadsCatalogueOnly counts Introspect's statements and
// checks that none names a host table: it reads the catalogue, never a
// row of the host's.
func TestIntrospectReadsCatalogueOnly(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			db, ns, crm := createHost(t, e)
			ldb, log := loggingDB(t, e, db, ns)
			if err := ldb.Ping(); err != nil {
				t.Fatal(err)
			}
			log.take()
			in, err := sqlstore.Introspect(context.Background(), ldb, e.dialect, crm)
			if err != nil {
				t.Fatal(err)
			}
			stmts := log.take()
			t.Logf("%s: %d tables in %d statements", e.name, len(in.Tables), len(stmts))
			most := 6 // columns, indexes, foreign keys, views, skipped schemas, and the session's
			if e.dialect == sqlstore.SQLite {
				most = 4 + len(in.Views) // columns, indexes, foreign keys, views, and one per view
			}
			if len(stmts) > most {
				t.Errorf("%d statements, want at most %d:\n%s", len(stmts), most, strings.Join(stmts, "\n---\n"))
			}
			for _, st := range stmts {
				for _, host := range []string{"customers", "orders", "order_notes", "weird", "contacts", "customer_names"} {
					if strings.Contains(strings.ToLower(st), host) {
						t.Errorf("a statement names the host table %s:\n%s", host, st)
					}
				}
			}
		})
	}
}

// TestIntrospectWithoutSelectPrivilege describes a table that the
// introspecting role may not read: PostgreSQL's pg_catalog shows it
// (information_schema would hide its columns).
func TestIntrospectWithoutSelectPrivilege(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		if e.dialect != sqlstore.Postgres {
			continue
		}
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, ns := e.open(t)
			role := randomName("forget_r_")
			for _, st := range []string{
				`CREATE TABLE secrets (id BIGINT PRIMARY KEY, secret VARCHAR(64) NOT NULL)`,
				`CREATE ROLE ` + role + ` NOLOGIN`,
				`GRANT USAGE ON SCHEMA ` + ns + ` TO ` + role,
			} {
				if _, err := db.Exec(st); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			t.Cleanup(func() {
				db.Exec(`REVOKE USAGE ON SCHEMA ` + ns + ` FROM ` + role)
				db.Exec(`DROP ROLE ` + role)
			})
			// One connection, so that SET ROLE holds for every statement.
			one, err := sql.Open("pgx", pgDSN(t, ns))
			if err != nil {
				t.Fatal(err)
			}
			defer one.Close()
			one.SetMaxOpenConns(1)
			if _, err := one.Exec(`SET ROLE ` + role); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := one.QueryRow(`SELECT count(*) FROM secrets`).Scan(&n); err == nil {
				t.Fatal("the role may read secrets: the test proves nothing")
			}
			in, err := sqlstore.Introspect(ctx, one, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := one.Exec(`RESET ROLE`); err != nil {
				t.Fatal(err)
			}
			tb := in.Table("secrets")
			if tb == nil || len(tb.Columns) != 2 || tb.Column("secret").MaxLen != 64 || !tb.Unique("id") {
				t.Fatalf("secrets = %+v", tb)
			}
		})
	}
}

func pgDSN(t testing.TB, schema string) string {
	u, err := url.Parse(os.Getenv(envPostgres))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestIntrospectCancelled(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			db, _, crm := createHost(t, e)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			in, err := sqlstore.Introspect(ctx, db, e.dialect, crm)
			if err == nil || in != nil {
				t.Fatalf("Introspect on a cancelled context = %v, %v", in, err)
			}
			// The pool is still usable afterwards.
			if _, err := sqlstore.Introspect(context.Background(), db, e.dialect, crm); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestIntrospectBadInput(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	ctx := context.Background()
	var noCtx context.Context
	// Each error says what is wrong before any statement runs (db is
	// SQLite, so a PostgreSQL or MySQL statement would fail otherwise).
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		db      *sql.DB
		d       sqlstore.Dialect
		schemas []string
		want    string
	}{
		{"NilContext", noCtx, db, sqlstore.SQLite, nil, "nil context"},
		{"NilDB", ctx, nil, sqlstore.SQLite, nil, "nil *sql.DB"},
		{"Dialect", ctx, db, sqlstore.Dialect(42), nil, "unknown dialect"},
		{"Empty", ctx, db, sqlstore.Postgres, []string{"crm", ""}, "empty schema name"},
		{"NUL", ctx, db, sqlstore.Postgres, []string{"a\x00b"}, "not valid UTF-8"},
		{"Latin1", ctx, db, sqlstore.MySQL, []string{"caf\xe9"}, "not valid UTF-8"},
		{"PgCatalog", ctx, db, sqlstore.Postgres, []string{"pg_catalog"}, "system schema"},
		{"PgToast", ctx, db, sqlstore.Postgres, []string{"pg_toast"}, "system schema"},
		{"InfoSchema", ctx, db, sqlstore.MySQL, []string{"INFORMATION_SCHEMA"}, "system schema"},
		{"MySQLSchema", ctx, db, sqlstore.MySQL, []string{"mysql"}, "system schema"},
		{"TooMany", ctx, db, sqlstore.Postgres, make([]string, 1001), "at most 1000"},
	} {
		in, err := sqlstore.Introspect(tc.ctx, tc.db, tc.d, tc.schemas...)
		if err == nil || in != nil || !strings.HasPrefix(err.Error(), "sqlstore: introspect") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Introspect = %v, %v; want an error saying %q", tc.name, in, err, tc.want)
		}
	}
	// SQLite ignores schemas.
	if _, err := sqlstore.Introspect(ctx, db, sqlstore.SQLite, "", "pg_catalog"); err != nil {
		t.Errorf("SQLite with schemas: %v", err)
	}
	// Nil receivers answer nothing rather than panic.
	var in *sqlstore.Introspection
	var tb *sqlstore.TableInfo
	if in.Table("x") != nil || tb.Column("x") != nil || tb.Unique("x") || tb.Indexed("x") {
		t.Error("nil receivers answered")
	}
}

// TestIntrospectEngineSpecific covers what one engine alone has: SQLite's
// rowid, WITHOUT ROWID, untyped columns and expression and partial
// indexes; PostgreSQL's domains, identity, generated and INCLUDE columns;
// MySQL's unsigned and TEXT types, generated columns and invisible
// indexes.
func TestIntrospectEngineSpecific(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			db, _ := e.open(t)
			var ddl []string
			switch e.dialect {
			case sqlstore.SQLite:
				ddl = []string{
					`CREATE TABLE desc_pk (x INTEGER PRIMARY KEY DESC, n INT NOT NULL DEFAULT NULL)`,
					`CREATE TABLE wr (k TEXT PRIMARY KEY, v ANY, n NUMERIC(10,2), c VARYING CHARACTER(255), g TEXT GENERATED ALWAYS AS (k || 'x') VIRTUAL) WITHOUT ROWID`,
					`CREATE TABLE untyped (a, b PRIMARY KEY, c REFERENCES DESC_PK, d REFERENCES wr, e REFERENCES nowhere (z))`,
					`CREATE INDEX untyped_expr ON untyped (a, lower(b))`,
					`CREATE UNIQUE INDEX untyped_partial ON untyped (a) WHERE a > 0`,
					`CREATE VIRTUAL TABLE notes_fts USING fts5(body)`,
					`CREATE TABLE "a.b" (x)`,
				}
			case sqlstore.Postgres:
				ddl = []string{
					`CREATE DOMAIN short_text AS varchar(16)`,
					`CREATE DOMAIN shorter_text AS short_text`,
					`CREATE TABLE pgs (
  id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  s serial, d short_text, dd shorter_text, v varchar, c char, cs char(7), arr varchar(5)[],
  g text GENERATED ALWAYS AS (v || 'x') STORED, n text DEFAULT NULL, big numeric(30))`,
					`CREATE UNIQUE INDEX pgs_partial ON pgs (v) WHERE v <> ''`,
					`CREATE UNIQUE INDEX pgs_expr ON pgs (lower(v))`,
					`CREATE UNIQUE INDEX pgs_incl ON pgs (d) INCLUDE (dd)`,
					`CREATE INDEX pgs_hash ON pgs USING hash (cs)`,
					`CREATE TABLE nocols ()`,
					`CREATE TABLE parts (id int PRIMARY KEY) PARTITION BY RANGE (id)`,
					`CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (100)`,
					`CREATE TABLE parts_2 PARTITION OF parts FOR VALUES FROM (100) TO (200)`,
					`CREATE TABLE refs (pid int REFERENCES parts ON DELETE CASCADE)`,
					`CREATE TABLE dups (v int)`,
					`INSERT INTO dups VALUES (1), (1)`,
				}
			case sqlstore.MySQL:
				ddl = []string{
					"CREATE TABLE my (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, t TINYINT, tu TINYINT UNSIGNED, m MEDIUMINT UNSIGNED, bu BIGINT UNSIGNED, " +
						"tt TINYTEXT, mt MEDIUMTEXT, lt LONGTEXT, c CHAR(3) CHARACTER SET latin1, e ENUM('a','b'), s VARCHAR(10) DEFAULT 'NULL', n VARCHAR(10) DEFAULT NULL, " +
						"g VARCHAR(20) AS (CONCAT(c, 'x')) VIRTUAL, p VARCHAR(255), INDEX my_prefix (p(10)), UNIQUE INDEX my_ignored (tu) IGNORED, FULLTEXT INDEX my_ft (tt)) " +
						"ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
				}
			}
			for _, st := range ddl {
				if _, err := db.Exec(st); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			if e.dialect == sqlstore.Postgres {
				// A unique index built concurrently over duplicates is
				// left invalid.
				if _, err := db.Exec(`CREATE UNIQUE INDEX CONCURRENTLY dups_v ON dups (v)`); err == nil {
					t.Fatal("CREATE UNIQUE INDEX over duplicates succeeded")
				}
			}
			in, err := sqlstore.Introspect(context.Background(), db, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			col := func(table, name string) sqlstore.ColumnInfo {
				t.Helper()
				c := in.Table(table).Column(name)
				if c == nil {
					t.Fatalf("%s.%s missing", table, name)
				}
				return *c
			}
			check := func(table, name string, want sqlstore.ColumnInfo) {
				t.Helper()
				want.Name = name
				if got := col(table, name); !reflect.DeepEqual(got, want) {
					t.Errorf("%s.%s:\n got %+v\nwant %+v", table, name, got, want)
				}
			}
			switch e.dialect {
			case sqlstore.SQLite:
				full := func(c sqlstore.ColumnInfo) sqlstore.ColumnInfo {
					c.Kind, c.IntMin, c.IntMax = sqlstore.KindInt, math.MinInt64, math.MaxInt64
					return c
				}
				// DESC makes it no rowid alias: nullable, with an index.
				check("desc_pk", "x", full(sqlstore.ColumnInfo{Type: "integer", Nullable: true}))
				check("desc_pk", "n", full(sqlstore.ColumnInfo{Type: "int"})) // DEFAULT NULL is no default
				check("wr", "k", sqlstore.ColumnInfo{Type: "text", Kind: sqlstore.KindText})
				check("wr", "v", sqlstore.ColumnInfo{Type: "any", Kind: sqlstore.KindOther, Nullable: true})
				check("wr", "n", sqlstore.ColumnInfo{Type: "numeric(10,2)", Kind: sqlstore.KindOther, Nullable: true})
				check("wr", "c", sqlstore.ColumnInfo{Type: "varying character(255)", Kind: sqlstore.KindText, DeclaredLen: 255, Nullable: true})
				check("wr", "g", sqlstore.ColumnInfo{Type: "text", Kind: sqlstore.KindText, Nullable: true, Generated: true, GeneratedFrom: []string{"k"}})
				check("untyped", "a", sqlstore.ColumnInfo{Kind: sqlstore.KindOther, Nullable: true})
				// A virtual table's hidden columns are the module's, not
				// data; its shadow tables hold the data and are listed.
				if fts := in.Table("notes_fts"); fts == nil || len(fts.Columns) != 1 || fts.Columns[0].Name != "body" {
					t.Errorf("notes_fts = %+v", fts)
				}
				if in.Table("notes_fts_content") == nil {
					t.Error("the shadow table notes_fts_content is missing")
				}
				if ab := in.Table("a.b"); ab == nil || ab.Name != "a.b" || in.Table("main.a.b") != ab || in.Table("a.b.") != nil {
					t.Errorf(`a table named "a.b": %+v`, ab)
				}
				if ix := in.Table("desc_pk").Indexes; len(ix) != 1 || ix[0].Name != "sqlite_autoindex_desc_pk_1" || !ix[0].Primary {
					t.Errorf("desc_pk indexes = %+v", ix)
				}
				if ix := in.Table("wr").Indexes; len(ix) != 1 || !slices.Equal(ix[0].Columns, []string{"k"}) || !ix[0].Primary {
					t.Errorf("wr indexes = %+v (only key columns, not the rest of a WITHOUT ROWID row)", ix)
				}
				u := in.Table("untyped")
				wantFKs := []sqlstore.ForeignKeyInfo{
					{Columns: []string{"c"}, RefTable: "desc_pk", RefColumns: []string{"x"}, OnDelete: "NO ACTION", OnUpdate: "NO ACTION"},
					{Columns: []string{"d"}, RefTable: "wr", RefColumns: []string{"k"}, OnDelete: "NO ACTION", OnUpdate: "NO ACTION"},
					{Columns: []string{"e"}, RefTable: "nowhere", RefColumns: []string{"z"}, OnDelete: "NO ACTION", OnUpdate: "NO ACTION"},
				}
				if !reflect.DeepEqual(u.ForeignKeys, wantFKs) {
					t.Errorf("untyped FKs:\n got %+v\nwant %+v", u.ForeignKeys, wantFKs)
				}
				if !u.Indexed("a") || !u.Unique("b") || u.Unique("a") || u.Unique("a", "b") {
					t.Errorf("untyped: expression and partial indexes misread: %+v", u.Indexes)
				}
				wantIx := []sqlstore.IndexInfo{
					{Name: "sqlite_autoindex_untyped_1", Columns: []string{"b"}, Unique: true, Primary: true, Method: "btree"},
					{Name: "untyped_expr", Columns: []string{"a", ""}, Expression: true, Method: "btree"},
					{Name: "untyped_partial", Columns: []string{"a"}, Unique: true, Partial: true, Method: "btree"},
				}
				if !reflect.DeepEqual(u.Indexes, wantIx) {
					t.Errorf("untyped indexes:\n got %+v\nwant %+v", u.Indexes, wantIx)
				}
			case sqlstore.Postgres:
				i32 := sqlstore.ColumnInfo{Kind: sqlstore.KindInt, IntMin: math.MinInt32, IntMax: math.MaxInt32}
				withType := func(c sqlstore.ColumnInfo, typ string) sqlstore.ColumnInfo { c.Type = typ; return c }
				id := withType(i32, "integer")
				id.HasDefault = true
				check("pgs", "id", id)
				check("pgs", "s", id) // serial: nextval default, NOT NULL
				check("pgs", "d", sqlstore.ColumnInfo{Type: "short_text", Kind: sqlstore.KindText, MaxLen: 16, DeclaredLen: 16, Nullable: true})
				check("pgs", "dd", sqlstore.ColumnInfo{Type: "shorter_text", Kind: sqlstore.KindText, MaxLen: 16, DeclaredLen: 16, Nullable: true})
				check("pgs", "v", sqlstore.ColumnInfo{Type: "character varying", Kind: sqlstore.KindText, Nullable: true})
				check("pgs", "c", sqlstore.ColumnInfo{Type: "character(1)", Kind: sqlstore.KindText, MaxLen: 1, DeclaredLen: 1, Nullable: true})
				check("pgs", "cs", sqlstore.ColumnInfo{Type: "character(7)", Kind: sqlstore.KindText, MaxLen: 7, DeclaredLen: 7, Nullable: true})
				check("pgs", "arr", sqlstore.ColumnInfo{Type: "character varying(5)[]", Kind: sqlstore.KindOther, Nullable: true})
				check("pgs", "g", sqlstore.ColumnInfo{Type: "text", Kind: sqlstore.KindText, Nullable: true, Generated: true, GeneratedFrom: []string{"v"}})
				check("pgs", "n", sqlstore.ColumnInfo{Type: "text", Kind: sqlstore.KindText, Nullable: true})
				check("pgs", "big", sqlstore.ColumnInfo{Type: "numeric(30,0)", Kind: sqlstore.KindOther, Nullable: true})
				p := in.Table("pgs")
				if p.Unique("v") || p.Indexed("v") {
					t.Error("a partial index proves v unique or indexed")
				}
				if !p.Unique("d") || p.Unique("d", "dd") || !p.Indexed("cs") {
					t.Errorf("INCLUDE or hash index misread: %+v", p.Indexes)
				}
				var expr *sqlstore.IndexInfo
				for i := range p.Indexes {
					if p.Indexes[i].Name == "pgs_expr" {
						expr = &p.Indexes[i]
					}
				}
				if expr == nil || !expr.Expression || !slices.Equal(expr.Columns, []string{""}) {
					t.Errorf("pgs_expr = %+v", expr)
				}
				if nc := in.Table("nocols"); nc == nil || len(nc.Columns) != 0 {
					t.Errorf("nocols = %+v", nc)
				}
				// One key to the partitioned table, not one more to each
				// partition; the partitions are tables too.
				wantFKs := []sqlstore.ForeignKeyInfo{{Name: "refs_pid_fkey", Columns: []string{"pid"}, RefTable: "parts", RefColumns: []string{"id"}, OnDelete: "CASCADE", OnUpdate: "NO ACTION"}}
				if got := in.Table("refs").ForeignKeys; !reflect.DeepEqual(got, wantFKs) {
					t.Errorf("refs FKs:\n got %+v\nwant %+v", got, wantFKs)
				}
				if !in.Table("parts").Unique("id") || !in.Table("parts_2").Unique("id") {
					t.Error("parts or its partition lacks its primary key")
				}
				if d := in.Table("dups"); d.Unique("v") || d.Indexed("v") || len(d.Indexes) != 1 || !d.Indexes[0].Invalid {
					t.Errorf("an invalid index counts: %+v", d.Indexes)
				}
			case sqlstore.MySQL:
				check("my", "id", sqlstore.ColumnInfo{Type: "int(10) unsigned", Kind: sqlstore.KindInt, IntMax: math.MaxUint32, HasDefault: true})
				check("my", "t", sqlstore.ColumnInfo{Type: "tinyint(4)", Kind: sqlstore.KindInt, IntMin: math.MinInt8, IntMax: math.MaxInt8, Nullable: true})
				check("my", "tu", sqlstore.ColumnInfo{Type: "tinyint(3) unsigned", Kind: sqlstore.KindInt, IntMax: math.MaxUint8, Nullable: true})
				check("my", "m", sqlstore.ColumnInfo{Type: "mediumint(8) unsigned", Kind: sqlstore.KindInt, IntMax: 1<<24 - 1, Nullable: true})
				check("my", "bu", sqlstore.ColumnInfo{Type: "bigint(20) unsigned", Kind: sqlstore.KindInt, IntMax: math.MaxInt64, Nullable: true})
				check("my", "tt", sqlstore.ColumnInfo{Type: "tinytext", Kind: sqlstore.KindText, MaxLen: 255, MaxBytes: 255, Nullable: true})
				check("my", "mt", sqlstore.ColumnInfo{Type: "mediumtext", Kind: sqlstore.KindText, MaxLen: 1<<24 - 1, MaxBytes: 1<<24 - 1, Nullable: true})
				check("my", "lt", sqlstore.ColumnInfo{Type: "longtext", Kind: sqlstore.KindText, MaxLen: math.MaxUint32, MaxBytes: math.MaxUint32, Nullable: true})
				check("my", "c", sqlstore.ColumnInfo{Type: "char(3)", Kind: sqlstore.KindText, MaxLen: 3, MaxBytes: 3, DeclaredLen: 3, Nullable: true})
				check("my", "e", sqlstore.ColumnInfo{Type: "enum('a','b')", Kind: sqlstore.KindOther, Nullable: true})
				check("my", "s", sqlstore.ColumnInfo{Type: "varchar(10)", Kind: sqlstore.KindText, MaxLen: 10, MaxBytes: 40, DeclaredLen: 10, Nullable: true, HasDefault: true})
				check("my", "n", sqlstore.ColumnInfo{Type: "varchar(10)", Kind: sqlstore.KindText, MaxLen: 10, MaxBytes: 40, DeclaredLen: 10, Nullable: true})
				check("my", "g", sqlstore.ColumnInfo{Type: "varchar(20)", Kind: sqlstore.KindText, MaxLen: 20, MaxBytes: 80, DeclaredLen: 20, Nullable: true, Generated: true, GeneratedFrom: []string{"c"}})
				m := in.Table("my")
				if !m.Indexed("p") {
					t.Error("a prefix index serves WHERE p = ?")
				}
				if m.Indexed("tu") || !m.Unique("tu") {
					t.Error("an ignored unique index: enforced, not used")
				}
				if m.Indexed("tt") {
					t.Error("a FULLTEXT index does not serve WHERE tt = ?")
				}
			}
		})
	}
}

// TestIntrospectConcurrent runs Introspect from several goroutines on one
// pool while tables come and go.
func TestIntrospectConcurrent(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			db, _, crm := createHost(t, e)
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for i := range 4 {
				wg.Go(func() {
					for j := range 5 {
						name := fmt.Sprintf("churn_%d_%d", i, j)
						if _, err := db.ExecContext(ctx, "CREATE TABLE "+name+" (id INTEGER PRIMARY KEY, v VARCHAR(5))"); err != nil {
							errs <- err
							return
						}
						in, err := sqlstore.Introspect(ctx, db, e.dialect, crm)
						if err != nil {
							errs <- err
							return
						}
						if in.Table("customers") == nil || in.Table(name) == nil {
							errs <- fmt.Errorf("%s or customers missing", name)
							return
						}
						if _, err := db.ExecContext(ctx, "DROP TABLE "+name); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// BenchmarkIntrospect reads a database of 200 tables of 20 columns, each
// with a primary key, an index and a foreign key.
func BenchmarkIntrospect(b *testing.B) {
	for _, e := range engines(b) {
		b.Run(e.name, func(b *testing.B) {
			db, _ := e.open(b)
			tail := ""
			if e.dialect == sqlstore.MySQL {
				tail = " ENGINE=InnoDB"
			}
			for i := range 200 {
				cols := []string{"id BIGINT PRIMARY KEY", "parent_id BIGINT"}
				for j := 2; j < 20; j++ {
					typ := [...]string{"VARCHAR(64) NOT NULL DEFAULT ''", "INTEGER", "TEXT"}[j%3]
					cols = append(cols, fmt.Sprintf("c%02d %s", j, typ))
				}
				if i > 0 {
					cols = append(cols, fmt.Sprintf("FOREIGN KEY (parent_id) REFERENCES t%03d (id) ON DELETE CASCADE", i-1))
				}
				stmts := []string{fmt.Sprintf("CREATE TABLE t%03d (%s)%s", i, strings.Join(cols, ", "), tail)}
				if e.dialect != sqlstore.MySQL { // InnoDB indexes its foreign keys itself
					stmts = append(stmts, fmt.Sprintf("CREATE INDEX t%03d_parent ON t%03d (parent_id)", i, i))
				}
				for _, st := range stmts {
					if _, err := db.Exec(st); err != nil {
						b.Fatalf("%s: %v", st, err)
					}
				}
			}
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				in, err := sqlstore.Introspect(ctx, db, e.dialect)
				if err != nil {
					b.Fatal(err)
				}
				if len(in.Tables) != 200 || len(in.Tables[199].Columns) != 20 || len(in.Tables[199].ForeignKeys) != 1 {
					b.Fatalf("read %d tables", len(in.Tables))
				}
			}
		})
	}
}
