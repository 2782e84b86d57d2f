// Package testdb gives tests a fresh database of their own on every engine
// the machine has: SQLite always, PostgreSQL and MariaDB/MySQL when
// FORGET_TEST_POSTGRES and FORGET_TEST_MYSQL name them. Under CI=true a
// missing DSN fails the test instead of skipping the engine: CI must run
// every engine.
package testdb

import (
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL driver the tests use
	_ "modernc.org/sqlite"             // the SQLite driver the tests use

	"github.com/forgetkit/forget/store/sqlstore"
)

// The environment variables that name the servers.
const (
	EnvPostgres = "FORGET_TEST_POSTGRES"
	EnvMySQL    = "FORGET_TEST_MYSQL"
)

// Engine is one database engine.
type Engine struct {
	Name    string // sqlite, postgres or mysql: subtests are named so
	Dialect sqlstore.Dialect
	dsn     string
	kind    *kind
}

// kind is how tests reach one engine. A fourth engine adds one entry to
// kinds.
type kind struct {
	name    string
	dialect sqlstore.Dialect
	env     string // names the server's DSN; "" when the engine needs none
	open    func(t testing.TB, dsn string) DB
	// dsn returns the driver DSN that opens database db (see Engine.DSN)
	// on the server dsn names.
	dsn func(t testing.TB, dsn, db string) string
}

var kinds = []*kind{
	{name: "sqlite", dialect: sqlstore.SQLite, open: openSQLite, dsn: func(_ testing.TB, _, db string) string { return SQLiteDSN(db) }},
	{name: "postgres", dialect: sqlstore.Postgres, env: EnvPostgres, open: openPostgres, dsn: postgresDSN},
	{name: "mysql", dialect: sqlstore.MySQL, env: EnvMySQL, open: openMySQL, dsn: mysqlDSN},
}

// DB is a fresh, empty database of one test's own, dropped when it ends.
type DB struct {
	*sql.DB
	// Schema qualifies its tables: main, a PostgreSQL schema, a MySQL
	// database.
	Schema string
	// URL opens the same database from the command line: a SQLite file
	// path, or a postgres:// or mysql:// URL.
	URL string
}

// Engines returns SQLite and every server whose DSN is set.
func Engines(t testing.TB) []Engine {
	var es []Engine
	for _, k := range kinds {
		e := Engine{Name: k.name, Dialect: k.dialect, kind: k}
		if k.env != "" {
			e.dsn = os.Getenv(k.env)
			if e.dsn == "" {
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s is not set; under CI every engine must run", k.env)
				}
				t.Logf("%s is not set: skipping %s", k.env, e.Name)
				continue
			}
		}
		es = append(es, e)
	}
	return es
}

// Servers returns the server engines only (PostgreSQL, MariaDB).
func Servers(t testing.TB) []Engine {
	var out []Engine
	for _, e := range Engines(t) {
		if e.kind.env != "" {
			out = append(out, e)
		}
	}
	return out
}

// SQLiteDSN is how tests open a SQLite file: WAL, a busy timeout,
// foreign keys enforced and secure_delete, as the README tells hosts to.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=secure_delete(1)"
}

// Open returns a fresh database of the test's own.
func (e Engine) Open(t testing.TB) DB {
	t.Helper()
	return e.kind.open(t, e.dsn)
}

func openSQLite(t testing.TB, _ string) DB {
	path := filepath.Join(t.TempDir(), "forget.db")
	db, err := sql.Open("sqlite", SQLiteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return DB{DB: db, Schema: "main", URL: path}
}

// DSN returns the driver DSN that opens the database db names: a
// PostgreSQL schema or MySQL database a DB of this engine has as its
// Schema, or, on SQLite, the file's path.
func (e Engine) DSN(t testing.TB, db string) string {
	t.Helper()
	return e.kind.dsn(t, e.dsn, db)
}

func postgresDSN(t testing.TB, dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s must be a URL: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", db)
	u.RawQuery = q.Encode()
	return u.String()
}

func mysqlDSN(t testing.TB, dsn, db string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", EnvMySQL, err)
	}
	cfg.DBName = db
	return cfg.FormatDSN()
}

// Name returns a fresh name with the prefix, for schemas and databases.
func Name(prefix string) string {
	return prefix + strings.ToLower(rand.Text()[:12])
}

// openPostgres creates a schema of its own and points search_path at it.
func openPostgres(t testing.TB, dsn string) DB {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := Name("forget_t_")
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	pgURL := postgresDSN(t, dsn, schema)
	db, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(20)
	t.Cleanup(func() {
		db.Close()
		if admin, err := sql.Open("pgx", dsn); err == nil {
			admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			admin.Close()
		}
	})
	return DB{DB: db, Schema: schema, URL: pgURL}
}

// openMySQL creates a database of its own.
func openMySQL(t testing.TB, dsn string) DB {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", EnvMySQL, err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := Name("forget_t_")
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("mysql: %v", err)
	}
	cfg.DBName = name
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(20)
	t.Cleanup(func() {
		db.Close()
		cfg.DBName = ""
		if admin, err := sql.Open("mysql", cfg.FormatDSN()); err == nil {
			admin.Exec("DROP DATABASE " + name)
			admin.Close()
		}
	})
	u := url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + name}
	if cfg.Passwd != "" {
		u.User = url.UserPassword(cfg.User, cfg.Passwd)
	} else {
		u.User = url.User(cfg.User)
	}
	return DB{DB: db, Schema: name, URL: u.String()}
}
