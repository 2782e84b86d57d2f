package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// dbFlags are the flags that name a database and its mapping.
type dbFlags struct {
	db, dsn, schema string
	auditTable      string
	mapping         *sqlstore.Schema // read from -schema by check
}

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.db, "db", "", "an existing SQLite database `FILE` (e.g. -db /var/lib/app/app.db)")
	fs.StringVar(&d.dsn, "dsn", "", "a PostgreSQL or MySQL/MariaDB `URL` instead of -db\n(e.g. -dsn postgres://app@127.0.0.1:5432/app or -dsn mysql://root@127.0.0.1:3306/app)")
	fs.StringVar(&d.auditTable, "audit-table", "forget_audit", "the `TABLE` each forget's receipt is written to, in the forget's own transaction\n(created by 'forget init' and 'forget schema'; -audit-table '' keeps no audit trail)")
	fs.StringVar(&d.schema, "schema", "", "a JSON schema mapping `FILE` for a non-default schema (e.g. -schema mapping.json;\nsee the README's \"Map an existing schema\")")
}

// check reports whether -db or -dsn was set, and reads -schema: both
// databases at once, or a bad mapping file, is a usage error.
func (d *dbFlags) check() (given bool, err error) {
	if d.db != "" && d.dsn != "" {
		return false, errors.New("give -db or -dsn, not both")
	}
	if d.schema != "" {
		s, err := readSchema(d.schema)
		if err != nil {
			return false, err
		}
		d.mapping = &s
	}
	return d.db != "" || d.dsn != "", nil
}

// require is check for commands that need a database: neither -db nor
// -dsn is a usage error too.
func (d *dbFlags) require(cmd string) error {
	given, err := d.check()
	if err == nil && !given {
		err = fmt.Errorf("%s needs -db FILE or -dsn URL", cmd)
	}
	return err
}

// open opens the named database and builds a store on it.
func (d *dbFlags) open(ctx context.Context) (*sql.DB, *sqlstore.Store, error) {
	var (
		db      *sql.DB
		dialect sqlstore.Dialect
		err     error
	)
	if d.db != "" {
		if _, err := os.Stat(d.db); err != nil {
			return nil, nil, fmt.Errorf("-db %s: %w (create one with 'forget init -db %s')", d.db, err, d.db)
		}
		db, err = openSQLite(d.db)
		dialect = sqlstore.SQLite
	} else {
		db, dialect, err = openDSN(d.dsn)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	var opts []sqlstore.Option
	if d.mapping != nil {
		opts = append(opts, sqlstore.WithSchema(*d.mapping))
	}
	if d.auditTable != "" {
		opts = append(opts, sqlstore.WithAudit(d.auditTable))
	}
	store, err := sqlstore.New(db, dialect, opts...)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	if d.auditTable != "" {
		// Fail now, not on every forget, when the audit table is missing.
		if _, err := store.AuditTrail(ctx, time.Now().Add(24*time.Hour)); err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("audit table %s: %w (create it with 'forget init' or from 'forget schema', or pass -audit-table '')", d.auditTable, err)
		}
	}
	return db, store, nil
}

// openSQLite opens path with the settings a forget wants: WAL so readers
// never block the writer, and a busy timeout so writers queue.
func openSQLite(path string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
}

// openDSN opens a postgres:// or mysql:// URL.
func openDSN(dsn string) (*sql.DB, sqlstore.Dialect, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, 0, fmt.Errorf("-dsn: not a URL")
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		db, err := sql.Open("pgx", dsn)
		return db, sqlstore.Postgres, err
	case "mysql", "mariadb":
		cfg := mysql.NewConfig()
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.Net = "tcp"
		cfg.Addr = u.Host
		if u.Port() == "" {
			cfg.Addr = u.Hostname() + ":3306"
		}
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		for k, vs := range u.Query() {
			if len(vs) > 0 {
				if cfg.Params == nil {
					cfg.Params = map[string]string{}
				}
				cfg.Params[k] = vs[0]
			}
		}
		db, err := sql.Open("mysql", cfg.FormatDSN())
		return db, sqlstore.MySQL, err
	}
	return nil, 0, fmt.Errorf("-dsn: scheme %q is neither postgres nor mysql", u.Scheme)
}

// readSchema reads a JSON mapping, refusing unknown keys so that a typo is
// an error rather than a silently ignored mapping.
func readSchema(path string) (sqlstore.Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return sqlstore.Schema{}, fmt.Errorf("-schema: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s sqlstore.Schema
	if err := dec.Decode(&s); err != nil {
		return sqlstore.Schema{}, fmt.Errorf("-schema %s: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return sqlstore.Schema{}, fmt.Errorf("-schema %s: %w", path, err)
	}
	return s, nil
}

// openForgetter opens the database and builds a Forgetter that logs
// warnings and errors to stderr. On failure it returns a nil Forgetter and
// the exit status: a mapping that does not fit the catalogue is bad usage.
func (c *cli) openForgetter(ctx context.Context, dbf *dbFlags) (*forget.Forgetter, func(), int) {
	db, store, err := dbf.open(ctx)
	if err != nil {
		return nil, nil, c.failure("%v", err)
	}
	logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f, err := forget.New(store, forget.WithLogger(logger))
	if err != nil {
		db.Close()
		return nil, nil, c.usageError("%v", err)
	}
	return f, func() { db.Close() }, exitOK
}
