package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// dbFlags are the flags that name a database and its mapping.
type dbFlags struct {
	db, dsn, schema string
	// log, when set, is where the store logs (Verify's warnings): the
	// command's stderr rather than the process's default logger.
	log             *slog.Logger
	auditTable      string
	dsnFromEnv      bool
	mapping         *sqlstore.Schema // read from -schema by check
	hashKeyFile     string           // -hash-key-file
	hashKey         []byte           // read from -hash-key-file by check
	preset          string           // see preset.go
	requireCoverage bool             // serve -require-coverage
	batchSize       int              // forgets per transaction (sqlstore.WithBatchSize); 0: the store's default
	sized           bool             // -batch-size is registered
	// SQLite page cache and memory map, in MiB (-sqlite-cache,
	// -sqlite-mmap), and WAL pages between checkpoints (-sqlite-checkpoint).
	sqliteCache, sqliteMmap, sqliteCheckpoint int
	// anyVersion: open a database whatever its schema version (forget
	// migrate); every other command refuses one behind or ahead.
	anyVersion bool
	// tombstoneKeys is the tombstone key file (-tombstone-keys, else
	// $FORGET_TOMBSTONE_KEYS_FILE); see tombstones.go.
	tombstoneKeys string
	// signingKeyFile (-signing-key-file, on the commands that forget) and
	// the signer of the key read from it: see certificate.go.
	signingKeyFile string
	signer         forget.Certifier
}

// envDSN names the environment variable that may hold -dsn: a password
// in argv shows in ps.
const envDSN = "FORGET_DSN"

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.db, "db", "", "an existing SQLite database `FILE` (e.g. -db /var/lib/app/app.db)")
	fs.StringVar(&d.dsn, "dsn", "", "a PostgreSQL or MySQL/MariaDB `URL` instead of -db\n(e.g. -dsn postgres://app@127.0.0.1:5432/app or -dsn mysql://root@127.0.0.1:3306/app);\nwith neither -db nor -dsn, the URL in $"+envDSN+" is used, which keeps a password out of ps")
	fs.StringVar(&d.auditTable, "audit-table", "forget_audit", "the `TABLE` each forget's receipt is written to, in the forget's own transaction\n(created by 'forget init' and 'forget schema'; -audit-table '' keeps no audit trail)")
	fs.IntVar(&d.sqliteCache, "sqlite-cache", defaultSQLiteCache, "with -db: SQLite's page cache per connection, in `MiB` (measure before raising it: see docs/sqlstore.md)")
	fs.IntVar(&d.sqliteMmap, "sqlite-mmap", defaultSQLiteMmap, "with -db: how much of the database file SQLite maps into memory, in `MiB` (0: none)")
	fs.IntVar(&d.sqliteCheckpoint, "sqlite-checkpoint", defaultSQLiteCheckpoint, "with -db: how many `pages` the WAL grows by between automatic checkpoints\n(SQLite's own default is 1000; larger checkpoints write each page of a large database once for many forgets;\nserve, which checkpoints in the background, makes it 100000 unless given)")
	fs.StringVar(&d.schema, "schema", "", "a JSON schema mapping `FILE` for a non-default schema (e.g. -schema mapping.json;\nsee the README's \"Map an existing schema\")")
	fs.StringVar(&d.preset, "preset", "offerit", presetFlagUsage)
	fs.StringVar(&d.hashKeyFile, "hash-key-file", "", "the key of the mapping's keyed_hash rules, read from `FILE` (at least 16 bytes; one trailing newline is dropped);\nthe key never lives in the mapping (a Go host gives it with sqlstore.WithHashKey)")
	fs.StringVar(&d.tombstoneKeys, "tombstone-keys", "", "a `FILE` of tombstone keys, id:hex a line (also $"+envTombstoneKeys+"): each forget leaves keyed hashes\nof the mapping's identities (see docs/mapping.md, \"Identities and tombstones\")")
}

// check reads the database flags after parsing: a database named on the
// command line wins over one in the environment ($FORGET_DSN, $FORGET_DB);
// both -db and -dsn, a bad -preset or mapping file is a usage error, and
// so is no database when required. It tells c the DSN's secrets, so that
// nothing prints them.
func (d *dbFlags) check(c *cli, cmdline parsed, cmd string, required bool) error {
	switch {
	case cmdline["db"] && !cmdline["dsn"]:
		d.dsn = ""
	case cmdline["dsn"] && !cmdline["db"]:
		d.db = ""
	}
	d.dsnFromEnv = d.dsn != "" && !cmdline["dsn"]
	if d.db != "" && d.dsn != "" {
		return usagef("give -db or -dsn, not both")
	}
	if err := d.checkPreset(); err != nil {
		return usageError{err}
	}
	c.hide(dsnSecrets(d.dsn))
	if !cmdline["tombstone-keys"] {
		d.tombstoneKeys = os.Getenv(envTombstoneKeys)
	}
	if d.schema != "" {
		s, err := readSchema(d.schema)
		if err != nil {
			return usageError{err}
		}
		d.mapping = &s
	}
	if d.hashKeyFile != "" {
		key, err := readHashKey(d.hashKeyFile)
		if err != nil {
			return usageError{err}
		}
		d.hashKey = key
	}
	if err := d.readSigningKey(); err != nil {
		return usageError{err}
	}
	if d.sized && (d.batchSize < 1 || d.batchSize > maxBatchSize) {
		return usagef("-batch-size must be 1 to %d", maxBatchSize)
	}
	if required && !d.given() {
		return usagef("%s needs -db FILE or -dsn URL (or $%s)", cmd, envDSN)
	}
	return nil
}

// given reports whether a database was named.
func (d *dbFlags) given() bool { return d.db != "" || d.dsn != "" }

// dialect is the dialect of the named database, known before opening it.
func (d *dbFlags) dialect() sqlstore.Dialect {
	if d.db != "" {
		return sqlstore.SQLite
	}
	if u, err := url.Parse(d.dsn); err == nil && (u.Scheme == "mysql" || u.Scheme == "mariadb") {
		return sqlstore.MySQL
	}
	return sqlstore.Postgres
}

// dsnName is how messages name where the DSN came from.
func (d *dbFlags) dsnName() string {
	if d.dsnFromEnv {
		return "$" + envDSN
	}
	return "-dsn"
}

// open opens the named database and builds a store on it. Its errors
// never quote the DSN.
func (d *dbFlags) open(ctx context.Context) (*sql.DB, *sqlstore.Store, error) {
	var (
		db      *sql.DB
		dialect sqlstore.Dialect
		err     error
	)
	if d.db != "" {
		fi, statErr := os.Stat(d.db)
		if statErr != nil {
			return nil, nil, fmt.Errorf("-db %s: %w (create one with 'forget init -db %s')", d.db, statErr, d.db)
		}
		// SQLite takes an empty file for an empty database and writes its
		// header into it (WAL mode): even lint and inspect would change a
		// file named by mistake.
		if fi.Mode().IsRegular() && fi.Size() == 0 {
			return nil, nil, fmt.Errorf("-db %s: the file is empty, not a SQLite database (create the schema with 'forget init -db %s')", d.db, d.db)
		}
		tuning := sqliteTuning{cacheMiB: d.sqliteCache, mmapMiB: d.sqliteMmap, checkpointPages: d.sqliteCheckpoint}
		if err := tuning.check(); err != nil {
			return nil, nil, errMapping{err}
		}
		db, err = openSQLiteTuned(d.db, tuning)
		dialect = sqlstore.SQLite
	} else {
		db, dialect, err = openDSN(d.dsn)
		if err != nil {
			err = fmt.Errorf("%s: %w", d.dsnName(), err)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("connect: %w", quietMySQLError(err))
	}
	opts := d.storeOptions()
	if d.log != nil {
		opts = append(opts, sqlstore.WithLogger(d.log))
	}
	if d.batchSize > 0 {
		opts = append(opts, sqlstore.WithBatchSize(d.batchSize))
	}
	if d.auditTable != "" {
		opts = append(opts, sqlstore.WithAudit(d.auditTable))
	}
	if opts, err = d.tombstoneOptions(opts); err != nil {
		db.Close()
		return nil, nil, err
	}
	store, err := sqlstore.New(db, dialect, opts...)
	if err != nil {
		db.Close()
		return nil, nil, errMapping{err}
	}
	if d.auditTable != "" && !d.anyVersion {
		if err := sqlstore.CheckSchemaVersion(ctx, db, dialect, d.auditTable); err != nil {
			db.Close()
			return nil, nil, err
		}
	}
	return db, store, nil
}

// errMapping is a mapping that does not fit the database or the
// catalogue: a configuration error, not a failed forget.
type errMapping struct{ err error }

func (e errMapping) Error() string { return e.err.Error() }
func (e errMapping) Unwrap() error { return e.err }

// sqlitePragmas are the settings every SQLite connection of the command
// gets (the driver applies a DSN's _pragma to each connection it opens):
// foreign keys enforced, as the host's application presumably has them;
// WAL so readers never block the writer; a busy timeout so writers queue;
// secure_delete so that what a forget deletes or overwrites is zeroed in
// the file, not left readable in free space (and so in every copy); a
// journal_size_limit of 0, so that the first write after a complete
// checkpoint truncates the WAL, whose old frames hold the pages as they
// were before the forget (a checkpoint alone leaves them in the file).
const sqlitePragmas = "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=secure_delete(1)&_pragma=journal_size_limit(0)"

// The default SQLite settings, measured with modernc.org/sqlite
// (BenchmarkForgetScaleSQLite, random forgets at 1,000 and 1,000,000
// customers): a large page cache is slower, not faster as with the C
// library's shell, because every commit walks the whole cache (with 256
// MiB, a quarter of the CPU went to pcache1TruncateUnsafe), and a map
// did not help; so SQLite's own 2 MiB and no map. Checkpoints every
// 10,000 WAL pages instead of 1,000 brought the mean forget at a million
// customers from 2.50x the cost at a thousand to 1.72x: each checkpoint
// writes scattered pages of the large file, and fewer of them write each
// page once for many forgets (the WAL stays under about 40 MiB).
const (
	defaultSQLiteCache      = 2 // MiB
	defaultSQLiteMmap       = 0 // MiB
	defaultSQLiteCheckpoint = 10000
)

// sqliteTuning is how the command sizes a SQLite connection.
type sqliteTuning struct {
	cacheMiB, mmapMiB, checkpointPages int
}

var defaultSQLiteTuning = sqliteTuning{defaultSQLiteCache, defaultSQLiteMmap, defaultSQLiteCheckpoint}

func (t sqliteTuning) check() error {
	if t.cacheMiB < 1 || t.mmapMiB < 0 || t.cacheMiB > 1<<20 || t.mmapMiB > 1<<20 || t.checkpointPages < 1 || t.checkpointPages > 1<<20 {
		return errors.New("-sqlite-cache must be 1 to 1048576 MiB, -sqlite-mmap 0 to 1048576 MiB and -sqlite-checkpoint 1 to 1048576 pages")
	}
	return nil
}

// openSQLite opens exactly the file at path, whatever characters its name
// holds ('#', '?', '%', spaces, any UTF-8), with the default settings.
func openSQLite(path string) (*sql.DB, error) {
	return openSQLiteTuned(path, defaultSQLiteTuning)
}

// openSQLiteTuned is openSQLite with t's settings. Temporary data (the
// statement journals of savepoints and multi-row statements) stays in
// memory.
func openSQLiteTuned(path string, t sqliteTuning) (*sql.DB, error) {
	uri, err := sqliteURI(path)
	if err != nil {
		return nil, err
	}
	sizes := fmt.Sprintf("&_pragma=cache_size(-%d)&_pragma=mmap_size(%d)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(%d)",
		t.cacheMiB*1024, int64(t.mmapMiB)<<20, t.checkpointPages)
	return sql.Open("sqlite", uri+"?"+sqlitePragmas+sizes)
}

// sqliteURI makes a file: URI naming path. SQLite decodes %XX in a URI's
// path and ends the path at '?' or '#', so every byte but unreserved ones
// and '/' is escaped. The path is made absolute first: "file://x" would
// name a host.
func sqliteURI(path string) (string, error) {
	if path == "" || strings.IndexByte(path, 0) >= 0 {
		return "", errors.New("-db: the file name is empty or holds a NUL byte")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("-db: %w", err)
	}
	var b strings.Builder
	b.WriteString("file:")
	for i := 0; i < len(abs); i++ {
		switch c := abs[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~', c == '/':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String(), nil
}

// mysqlSQLMode makes the command's MySQL sessions strict: a value that
// does not fit its column is an error, never silently cut or zeroed.
// TRADITIONAL is strict on MySQL and MariaDB alike.
const mysqlSQLMode = "'TRADITIONAL'"

// openDSN opens a postgres:// or mysql:// URL. Its errors never quote the
// URL (url.Parse's do).
func openDSN(dsn string) (*sql.DB, sqlstore.Dialect, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return nil, 0, errors.New("not a URL such as postgres://user@host/db or mysql://user@host/db")
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		db, err := sql.Open("pgx", dsn)
		return db, sqlstore.Postgres, err
	case "mysql", "mariadb":
		cfg, err := mysqlConfig(u)
		if err != nil {
			return nil, 0, err
		}
		db, err := sql.Open("mysql", cfg.FormatDSN())
		return db, sqlstore.MySQL, err
	}
	return nil, 0, fmt.Errorf("scheme %s is neither postgres nor mysql", quoteClipped(u.Scheme))
}

// opened is a database with its store, catalogue and Forgetter.
type opened struct {
	f     *forget.Forgetter
	store *sqlstore.Store
	cat   forget.Catalogue
	db    *sql.DB
}

func (o *opened) close() { o.db.Close() }

// openForgetter is openStore, and then verifies the mapping against the
// live database, before any forget.
func (c *cli) openForgetter(ctx context.Context, dbf *dbFlags, logger *slog.Logger, opts ...forget.Option) (*opened, error) {
	o, err := c.openStore(ctx, dbf, logger, opts...)
	if err != nil {
		return nil, err
	}
	if err := o.f.Verify(ctx); err != nil {
		o.close()
		if ctx.Err() != nil {
			return nil, errInterrupted
		}
		return nil, usagef("%v (the default schema and audit table: 'forget init', or the DDL from 'forget schema'; -audit-table '' keeps no audit trail)", err)
	}
	return o, nil
}

// openStore opens the database and its store, makes the catalogue (the
// preset's, extended by the mapping) and builds a Forgetter logging to
// logger (with opts too). A mapping that does not fit is bad usage; an
// unreachable database or an interruption is a failure.
func (c *cli) openStore(ctx context.Context, dbf *dbFlags, logger *slog.Logger, opts ...forget.Option) (*opened, error) {
	dbf.log = logger
	db, store, err := dbf.open(ctx)
	var mapping errMapping
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, errInterrupted
	case errors.As(err, &mapping):
		return nil, usageError{err}
	default:
		return nil, err
	}
	o := &opened{store: store, db: db}
	if o.cat, err = dbf.catalogue(ctx, store); err == nil {
		base := []forget.Option{forget.WithLogger(logger), forget.WithCatalogue(o.cat)}
		if dbf.signer != nil {
			base = append(base, forget.WithCertifier(dbf.signer))
		}
		o.f, err = forget.New(store, append(base, opts...)...)
	}
	if err != nil {
		db.Close()
		if ctx.Err() != nil {
			return nil, errInterrupted
		}
		return nil, usageError{err}
	}
	return o, nil
}

// warnLogger logs warnings and errors to stderr, for the one-shot commands.
func (c *cli) warnLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openSession is the prologue of a command on a database: a context that
// Ctrl-C cancels, and the database opened and verified (openForgetter).
// done closes the database and stops listening for Ctrl-C.
func (c *cli) openSession(dbf *dbFlags, logger *slog.Logger, opts ...forget.Option) (ctx context.Context, o *opened, done func(), err error) {
	return session(func(ctx context.Context) (*opened, error) { return c.openForgetter(ctx, dbf, logger, opts...) })
}

// session opens with a context that Ctrl-C cancels.
func session(open func(context.Context) (*opened, error)) (ctx context.Context, o *opened, done func(), err error) {
	ctx, stop := interruptible()
	if o, err = open(ctx); err != nil {
		stop()
		return nil, nil, nil, err
	}
	return ctx, o, func() { o.close(); stop() }, nil
}

// needOutbox refuses -audit-table ” for the commands that read the audit
// table as the outbox of erasure events.
func (d *dbFlags) needOutbox() error {
	if d.auditTable == "" {
		return usagef("-audit-table must name the audit table: it is the outbox")
	}
	return nil
}
