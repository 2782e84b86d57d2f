package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// Benchmarks compare a forget through the package with the floor: the same
// minimal statements, hand-written on database/sql, in one transaction,
// with no squirrel, no plan and no receipt (baseline*). Both run in the
// same process on copies of the same database, drawing customers from one
// sequence, so every forget finds rows to delete.
//
// The SQLite databases (1,000 and 1,000,000 customers, each with 3
// subscriptions, 5 transactions, 2 member_auth and 3 member_note rows) are
// built once into $FORGET_BENCH_DIR (default: bench/ at the repository
// root, ignored by git) and copied for each run. scripts/bench runs
// everything.

func benchDir(b *testing.B) string {
	dir := os.Getenv("FORGET_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "bench")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	return dir
}

// sqliteTemplate returns the path of the cached n-customer database,
// building it if needed. It is built with SQL that generates its rows, so
// even the million-customer one takes about a minute.
func sqliteTemplate(b *testing.B, n int) string {
	path := filepath.Join(benchDir(b), fmt.Sprintf("sqlite-%d.db", n))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	b.Logf("building %s (once)", path)
	tmp := path + ".building"
	os.Remove(tmp)
	db, err := sql.Open("sqlite", "file:"+tmp+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	seedTemplate(b, db, sqlstore.SQLite, n)
	if _, err := db.Exec("PRAGMA journal_mode=WAL"); err != nil {
		b.Fatal(err)
	}
	db.Close()
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// seedTemplate creates the default schema in db with n generated
// customers (templateSQL).
func seedTemplate(tb testing.TB, db *sql.DB, d sqlstore.Dialect, n int) {
	tb.Helper()
	ctx := context.Background()
	if err := sqlstore.CreateSchema(ctx, db, d); err != nil {
		tb.Fatal(err)
	}
	for _, st := range templateSQL(d, n) {
		if _, err := db.ExecContext(ctx, st); err != nil {
			tb.Fatalf("%s: %v", st, err)
		}
	}
}

// templateSQL fills the default schema with n customers and their rows.
func templateSQL(d sqlstore.Dialect, n int) []string {
	series := fmt.Sprintf("WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM seq WHERE i < %d) ", n)
	cat := func(parts ...string) string { return strings.Join(parts, " || ") }
	if d == sqlstore.Postgres {
		series = ""
	}
	from := "FROM seq"
	if d == sqlstore.Postgres {
		from = fmt.Sprintf("FROM generate_series(1, %d) AS seq(i)", n)
	}
	if d == sqlstore.MySQL {
		cat = func(parts ...string) string { return "CONCAT(" + strings.Join(parts, ", ") + ")" }
	}
	hexOf := map[sqlstore.Dialect]func(int) string{
		sqlstore.SQLite: func(k int) string { return fmt.Sprintf("hex(randomblob(%d))", k) },
		sqlstore.Postgres: func(k int) string {
			return fmt.Sprintf("substr(md5(random()::text) || md5(random()::text), 1, %d)", 2*k)
		},
		sqlstore.MySQL: func(k int) string { return fmt.Sprintf("substr(concat(md5(rand()), md5(rand())), 1, %d)", 2*k) },
	}[d]
	i := "i"
	if d == sqlstore.Postgres {
		i = "i::text"
	}
	customers := "INSERT INTO customers (customer_id, username, original_username, token_hash, password, cryptpass, session, " +
		"firstname, lastname, address1, city, state, zip, country, shipping_firstname, shipping_lastname, " +
		"shipping_address1, shipping_city, shipping_state, shipping_zip, shipping_country, phone) " +
		fmt.Sprintf("SELECT i, %s, %s, %s, '', %s, %s, %s, %s, %s, 'Springfield', 'IL', '62701', 'US', %s, %s, %s, 'Springfield', 'IL', '62701', 'US', %s ",
			cat("'user'", i), cat("'user'", i), hexOf(32), cat("'$2y$10$'", hexOf(26)), hexOf(16),
			cat("'First'", i), cat("'Last'", i), cat(i, "' Main St'"), cat("'First'", i), cat("'Last'", i), cat(i, "' Main St'"), cat("'+1-555-'", i)) +
		from
	if d == sqlstore.MySQL {
		// MariaDB caps recursive CTEs at 1,000 rows by default: count
		// with a cross join of digits instead.
		digits := "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
		var tables, sum []string
		for k, pow := 0, 1; pow < n; k, pow = k+1, pow*10 {
			tables = append(tables, fmt.Sprintf("%s AS d%d", digits, k))
			sum = append(sum, fmt.Sprintf("%d*d%d.d", pow, k))
		}
		from = fmt.Sprintf("FROM (SELECT %s + 1 AS i FROM %s) AS seq WHERE i <= %d", strings.Join(sum, " + "), strings.Join(tables, ", "), n)
		customers = customers[:strings.LastIndex(customers, "FROM seq")] + from
		series = ""
	}
	times := func(k int) string {
		var parts []string
		for j := 1; j <= k; j++ {
			parts = append(parts, fmt.Sprintf("SELECT %d AS k", j))
		}
		return "(" + strings.Join(parts, " UNION ALL ") + ") AS ks"
	}
	return []string{
		series + customers,
		"INSERT INTO subscriptions (subscription_id, customer_id, status) SELECT customer_id*10+k, customer_id, 'active' FROM customers, " + times(3),
		"INSERT INTO transactions (orderid, customer_id, amount_cents) SELECT customer_id*10+k, customer_id, 995 FROM customers, " + times(5),
		"INSERT INTO member_auth (customer_id, kind, secret) SELECT customer_id, 'totp', 'secret' FROM customers, " + times(2),
		"INSERT INTO member_note (customer_id, note) SELECT customer_id, 'a note' FROM customers, " + times(3),
	}
}

// benchDB is a working copy of a template and the next customer to forget.
type benchDB struct {
	db   *sql.DB
	n    int
	next int
}

var (
	benchMu  sync.Mutex
	benchDBs = map[string]*benchDB{}
)

// sqliteBench returns a working copy of the n-customer template with at
// least want customers not yet forgotten, copying the template afresh when
// the copy runs out. sync is the synchronous pragma (NORMAL or FULL).
func sqliteBench(b *testing.B, n, want int, sync string) *benchDB {
	benchMu.Lock()
	defer benchMu.Unlock()
	if want > n {
		b.Fatalf("b.N = %d but the database has %d customers: use -benchtime=%dx or less", want, n, n)
	}
	key := fmt.Sprintf("sqlite-%d-%s", n, sync)
	if bd, ok := benchDBs[key]; ok && bd.next+want <= n+1 {
		return bd
	} else if ok {
		bd.db.Close()
	}
	src := sqliteTemplate(b, n)
	dst := filepath.Join(os.TempDir(), fmt.Sprintf("forget-bench-%d-%s-%d.db", n, sync, os.Getpid()))
	if err := copyFile(src, dst); err != nil {
		b.Fatal(err)
	}
	// FORGET_BENCH_SQLITE_DSN adds to the DSN, to try a host's settings
	// (such as &_pragma=cache_size(-65536)).
	db, err := sql.Open("sqlite", "file:"+dst+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous("+sync+")"+os.Getenv("FORGET_BENCH_SQLITE_DSN"))
	if err != nil {
		b.Fatal(err)
	}
	warmUp(b, db, n)
	bd := &benchDB{db: db, n: n, next: 1}
	benchDBs[key] = bd
	return bd
}

// warmUp runs, untimed, the reads of a forget on the last customers and a
// write that creates the WAL, so that whichever benchmark runs first does
// not pay for a cold database. It forgets nobody.
func warmUp(b *testing.B, db *sql.DB, n int) {
	ctx := context.Background()
	f := benchForgetter(b, db, sqlstore.SQLite)
	for id := max(1, n-99); id <= n; id++ {
		if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(id)}, DryRun: true}); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []string{"INSERT INTO member_note (customer_id, note) VALUES (0, 'warm-up')", "DELETE FROM member_note WHERE customer_id = 0"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(dst + suffix)
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	// Flush the copy now: otherwise the kernel writes it back while the
	// first benchmark runs, and that one pays for it.
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// take reserves k customers and returns the first id.
func (bd *benchDB) take(k int) int {
	benchMu.Lock()
	defer benchMu.Unlock()
	first := bd.next
	bd.next += k
	return first
}

// baseline is the floor: the statements a forget needs, written by hand.
type baseline struct {
	d      sqlstore.Dialect
	update string
	vals   []any
}

func newBaseline(d sqlstore.Dialect) *baseline {
	q, ph := `"`, func(int) string { return "?" }
	if d == sqlstore.MySQL {
		q = "`"
	}
	if d == sqlstore.Postgres {
		ph = func(i int) string { return "$" + strconv.Itoa(i) }
	}
	bl := &baseline{d: d}
	var sets []string
	for i, f := range forget.DefaultCatalogue().Fields {
		sets = append(sets, q+string(f.Name)+q+" = "+ph(i+1))
		// Rules compare by what they write (a Rule holds a func).
		switch f.Rule.Output() {
		case forget.Pseudonym().Output():
			bl.vals = append(bl.vals, "forgot-aaaaaaaaaaaaaaaaaaaaaaaaa")
		case forget.Random().Output():
			bl.vals = append(bl.vals, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
		default:
			bl.vals = append(bl.vals, "")
		}
	}
	bl.update = "UPDATE " + q + "customers" + q + " SET " + strings.Join(sets, ", ") + " WHERE " + q + "customer_id" + q + " = " + ph(len(sets)+1)
	return bl
}

// forget runs one forget of customer id. Its pseudonyms are random, as
// DESIGN.md requires: sequential ones would insert into the unique
// username index at one end and make the floor look cheaper than any
// correct forget can be.
func (bl *baseline) forget(ctx context.Context, db *sql.DB, id int64) error {
	ph := "?"
	if bl.d == sqlstore.Postgres {
		ph = "$1"
	}
	var raw [26]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return err
	}
	vals := append(bl.vals[:0:0], bl.vals...)
	vals[0] = "forgot-" + hex.EncodeToString(raw[:13])[:25]
	vals[2] = "forgot-" + hex.EncodeToString(raw[13:])[:25]
	vals = append(vals, id)
	type execer interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}
	var q execer
	var done func() error
	if bl.d == sqlstore.SQLite {
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		q = conn
		done = func() error { _, err := conn.ExecContext(ctx, "COMMIT"); return err }
		defer conn.ExecContext(ctx, "ROLLBACK")
	} else {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		q, done = tx, tx.Commit
	}
	lock := "SELECT customer_id FROM customers WHERE customer_id = " + ph
	if bl.d != sqlstore.SQLite {
		lock += " FOR UPDATE"
	}
	var got int64
	if err := q.QueryRowContext(ctx, lock, id).Scan(&got); err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, bl.update, vals...); err != nil {
		return err
	}
	for _, t := range []string{"member_auth", "member_note"} {
		if _, err := q.ExecContext(ctx, "DELETE FROM "+t+" WHERE customer_id = "+ph, id); err != nil {
			return err
		}
	}
	return done()
}

func benchForgetter(b *testing.B, db *sql.DB, d sqlstore.Dialect, opts ...sqlstore.Option) *forget.Forgetter {
	s, err := sqlstore.New(db, d, opts...)
	if err != nil {
		b.Fatal(err)
	}
	return quietForgetter(b, s)
}

// forgetEach times b.N forgets through f, of customers first, first+1, ….
func forgetEach(b *testing.B, f *forget.Forgetter, first int) {
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(first + i)}}); err != nil {
			b.Fatal(err)
		}
	}
}

// forgetEach times b.N baseline forgets of customers first, first+1, ….
func (bl *baseline) forgetEach(b *testing.B, db *sql.DB, first int) {
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if err := bl.forget(ctx, db, int64(first+i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForgetSQLite: one forget by customer_id, package vs baseline,
// at 1,000 and 1,000,000 customers (WAL, synchronous=NORMAL). Run with
// -benchtime=1000x or less: every iteration forgets a fresh customer.
func BenchmarkForgetSQLite(b *testing.B) {
	for _, n := range []int{1000, 1000000} {
		if n > 1000 && os.Getenv("FORGET_BENCH_LARGE") == "" {
			continue
		}
		b.Run(fmt.Sprintf("customers=%d", n), func(b *testing.B) {
			b.Run("impl=forgetter", func(b *testing.B) {
				bd := sqliteBench(b, n, b.N, "NORMAL")
				f := benchForgetter(b, bd.db, sqlstore.SQLite)
				first := bd.take(b.N)
				forgetEach(b, f, first)
			})
			b.Run("impl=baseline", func(b *testing.B) {
				bd := sqliteBench(b, n, b.N, "NORMAL")
				bl := newBaseline(sqlstore.SQLite)
				first := bd.take(b.N)
				bl.forgetEach(b, bd.db, first)
			})
		})
	}
}

// batchChunk is the customers a transaction of `forget run -batch` (its
// -batch-size default), which BenchmarkBatchSQLite's ForgetBatch uses too.
const batchChunk = 1000

// BenchmarkBatchSQLite: forgetting many customers, per customer. forgetbatch
// is Forgetter.ForgetBatch (a transaction per batchChunk customers,
// set-based); forget-loop calls Forget per customer (a transaction each);
// baseline is the hand-written loop, a transaction each. Run with
// -benchtime=Nx for N customers, up to 100,000.
func BenchmarkBatchSQLite(b *testing.B) {
	ctx := context.Background()
	const n = 100000
	for _, sync := range []string{"NORMAL", "FULL"} {
		b.Run("sync="+sync, func(b *testing.B) {
			b.Run("impl=forgetbatch", func(b *testing.B) {
				bd := sqliteBench(b, n, b.N, sync)
				f := benchForgetter(b, bd.db, sqlstore.SQLite, sqlstore.WithBatchSize(batchChunk))
				first := bd.take(b.N)
				reqs := make([]forget.Request, b.N)
				for i := range reqs {
					reqs[i] = forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(first + i)}}
				}
				b.ResetTimer()
				cpu := cpuTime()
				outs := f.ForgetBatch(ctx, reqs)
				b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
				for i, o := range outs {
					if o.Err != nil {
						b.Fatalf("request %d: %v", i, o.Err)
					}
				}
			})
			b.Run("impl=forget-loop", func(b *testing.B) {
				bd := sqliteBench(b, n, b.N, sync)
				f := benchForgetter(b, bd.db, sqlstore.SQLite)
				first := bd.take(b.N)
				forgetEach(b, f, first)
			})
			b.Run("impl=baseline", func(b *testing.B) {
				bd := sqliteBench(b, n, b.N, sync)
				bl := newBaseline(sqlstore.SQLite)
				first := bd.take(b.N)
				bl.forgetEach(b, bd.db, first)
			})
		})
	}
}

// serverBench returns a database on a PostgreSQL or MySQL server with the
// n-customer template, kept between runs (in its own schema or database,
// forget_bench_N) with a cursor table, so that every run forgets customers
// no earlier run has. It skips when the engine's DSN is not set.
func serverBench(b *testing.B, e engine, dsn string, n int) (*sql.DB, func(k int) int) {
	name := fmt.Sprintf("forget_bench_%d", n)
	var db *sql.DB
	var err error
	switch e.dialect {
	case sqlstore.Postgres:
		admin, aerr := sql.Open("pgx", dsn)
		if aerr != nil {
			b.Fatal(aerr)
		}
		admin.Exec("CREATE SCHEMA IF NOT EXISTS " + name)
		admin.Close()
		u, _ := url.Parse(dsn)
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		db, err = sql.Open("pgx", u.String())
	case sqlstore.MySQL:
		cfg, perr := mysql.ParseDSN(dsn)
		if perr != nil {
			b.Fatal(perr)
		}
		admin, aerr := sql.Open("mysql", cfg.FormatDSN())
		if aerr != nil {
			b.Fatal(aerr)
		}
		admin.Exec("CREATE DATABASE IF NOT EXISTS " + name)
		admin.Close()
		cfg.DBName = name
		db, err = sql.Open("mysql", cfg.FormatDSN())
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	build := func() {
		b.Logf("building %s on %s", name, e.name)
		for _, t := range []string{"bench_cursor", "member_note", "member_auth", "transactions", "subscriptions", "customers"} {
			db.Exec("DROP TABLE IF EXISTS " + t)
		}
		seedTemplate(b, db, e.dialect, n)
		for _, st := range []string{"CREATE TABLE bench_cursor (next_id BIGINT NOT NULL)", "INSERT INTO bench_cursor VALUES (1)", "ANALYZE"} {
			if st == "ANALYZE" && e.dialect == sqlstore.MySQL {
				st = "ANALYZE TABLE customers, subscriptions, transactions, member_auth, member_note"
			}
			if _, err := db.ExecContext(ctx, st); err != nil {
				b.Fatal(err)
			}
		}
	}
	var have int
	if err := db.QueryRow("SELECT COUNT(*) FROM customers").Scan(&have); err != nil || have != n {
		build()
	}
	take := func(k int) int {
		if k > n {
			b.Fatalf("b.N = %d but the database has %d customers", k, n)
		}
		var next int
		if err := db.QueryRow("SELECT next_id FROM bench_cursor").Scan(&next); err != nil {
			b.Fatal(err)
		}
		if next+k > n+1 {
			build() // every customer is forgotten: start again
			next = 1
		}
		if _, err := db.Exec("UPDATE bench_cursor SET next_id = next_id + " + strconv.Itoa(k)); err != nil {
			b.Fatal(err)
		}
		return next
	}
	return db, take
}

// BenchmarkForgetServer: one forget by customer_id, package vs baseline, on
// PostgreSQL and MariaDB when their DSNs are set, at 1,000 customers (and
// 1,000,000 with FORGET_BENCH_LARGE set).
func BenchmarkForgetServer(b *testing.B) {
	for _, e := range []struct {
		engine
		env string
	}{
		{engine{name: "postgres", dialect: sqlstore.Postgres}, envPostgres},
		{engine{name: "mysql", dialect: sqlstore.MySQL}, envMySQL},
	} {
		dsn := os.Getenv(e.env)
		if dsn == "" {
			continue
		}
		for _, n := range []int{1000, 1000000} {
			if n > 1000 && os.Getenv("FORGET_BENCH_LARGE") == "" {
				continue
			}
			b.Run(fmt.Sprintf("%s/customers=%d", e.name, n), func(b *testing.B) {
				db, take := serverBench(b, e.engine, dsn, n)
				b.Run("impl=forgetter", func(b *testing.B) {
					f := benchForgetter(b, db, e.dialect)
					first := take(b.N)
					forgetEach(b, f, first)
				})
				b.Run("impl=baseline", func(b *testing.B) {
					bl := newBaseline(e.dialect)
					first := take(b.N)
					bl.forgetEach(b, db, first)
				})
			})
		}
	}
}

// sweepDB fills db with n customers of the benchmark template plus a
// last_login column, indexed: nine in ten customers last seen four years
// ago, one in ten last month.
func sweepDB(b *testing.B, db *sql.DB, d sqlstore.Dialect, n int) {
	ctx := context.Background()
	seedTemplate(b, db, d, n)
	typ, old, recent := "TEXT", "'2022-06-01 10:00:00'", "'2026-10-01 10:00:00'"
	if d != sqlstore.SQLite {
		typ, old, recent = "TIMESTAMP", "TIMESTAMP '2022-06-01 10:00:00'", "TIMESTAMP '2026-10-01 10:00:00'"
	}
	if d == sqlstore.MySQL {
		typ = "DATETIME"
	}
	for _, st := range []string{
		"ALTER TABLE customers ADD COLUMN last_login " + typ + " NULL",
		fmt.Sprintf("UPDATE customers SET last_login = CASE WHEN MOD(customer_id, 10) = 0 THEN %s ELSE %s END", recent, old),
		"CREATE INDEX customers_last_login ON customers (last_login, customer_id)",
	} {
		if d == sqlstore.SQLite {
			st = strings.Replace(st, "MOD(customer_id, 10)", "customer_id % 10", 1)
		}
		if _, err := db.ExecContext(ctx, st); err != nil {
			b.Fatalf("%s: %v", st, err)
		}
	}
}

// sweepForgetter is a Forgetter that sweeps by last_login, auditing, in
// transactions of chunk customers.
func sweepForgetter(b *testing.B, db *sql.DB, d sqlstore.Dialect, chunk int) *forget.Forgetter {
	schema := sqlstore.DefaultSchema()
	schema.Activity = []sqlstore.Column{{Column: "last_login"}}
	return benchForgetter(b, db, d, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable), sqlstore.WithBatchSize(chunk))
}

// sweepCutoff is three years before the benchmark's "now".
var sweepCutoff = time.Date(2023, 11, 29, 0, 0, 0, 0, time.UTC)

// BenchmarkSweepSQLite: a retention sweep of a whole SQLite database (nine
// customers in ten inactive), with the command's settings (256 MiB page
// cache, 1 GiB map, temporary data in memory) and 5,000 customers a
// transaction (FORGET_BENCH_SWEEP_CHUNK sets another number); audited, as
// sweeps must be. One iteration is one sweep of
// the database: run with -benchtime=1x. The metric is per customer swept.
// 100,000 customers, and 1,000,000 with FORGET_BENCH_LARGE set.
func BenchmarkSweepSQLite(b *testing.B) {
	for _, n := range []int{100000, 1000000} {
		if n > 100000 && os.Getenv("FORGET_BENCH_LARGE") == "" {
			continue
		}
		b.Run(fmt.Sprintf("customers=%d", n), func(b *testing.B) {
			src := filepath.Join(benchDir(b), fmt.Sprintf("sqlite-sweep-%d.db", n))
			if _, err := os.Stat(src); err != nil {
				tmp := src + ".building"
				os.Remove(tmp)
				db, err := sql.Open("sqlite", "file:"+tmp+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)")
				if err != nil {
					b.Fatal(err)
				}
				db.SetMaxOpenConns(1)
				sweepDB(b, db, sqlstore.SQLite, n)
				db.Exec("PRAGMA journal_mode=WAL")
				db.Close()
				if err := os.Rename(tmp, src); err != nil {
					b.Fatal(err)
				}
			}
			for range b.N {
				b.StopTimer()
				dst := filepath.Join(os.TempDir(), fmt.Sprintf("forget-sweep-%d-%d.db", n, os.Getpid()))
				if err := copyFile(src, dst); err != nil {
					b.Fatal(err)
				}
				db, err := sql.Open("sqlite", "file:"+dst+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"+
					"&_pragma=cache_size(-262144)&_pragma=mmap_size(1073741824)&_pragma=temp_store(MEMORY)"+os.Getenv("FORGET_BENCH_SQLITE_DSN"))
				if err != nil {
					b.Fatal(err)
				}
				chunk := 5000
				if c, err := strconv.Atoi(os.Getenv("FORGET_BENCH_SWEEP_CHUNK")); err == nil {
					chunk = c
				}
				f := sweepForgetter(b, db, sqlstore.SQLite, chunk)
				b.StartTimer()
				start, cpu := time.Now(), cpuTime()
				rep, err := f.Sweep(context.Background(), forget.SweepOptions{InactiveSince: sweepCutoff, Chunk: chunk})
				elapsed, cpu := time.Since(start), cpuTime()-cpu
				b.StopTimer()
				if err != nil || rep.Forgotten != n-n/10 {
					b.Fatalf("%+v, %v", rep, err)
				}
				b.ReportMetric(float64(elapsed.Nanoseconds())/float64(rep.Tried), "ns/customer")
				b.ReportMetric(elapsed.Seconds(), "s/sweep")
				// The process's CPU time tells more than the wall's on
				// a machine shared with other work.
				b.ReportMetric(cpu.Seconds(), "cpu-s/sweep")
				db.Close()
				for _, suffix := range []string{"", "-wal", "-shm"} {
					os.Remove(dst + suffix)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkSweepServer: per customer, a sweep (100 customers a
// transaction, set-based) against forgetting the same customers one
// transaction each (impl=forget-loop: Forgetter.Forget; impl=baseline:
// the hand-written floor), on PostgreSQL and MariaDB when their DSNs are
// set, over 5,000 customers (nine in ten inactive). The metric is
// ns/customer; run with -benchtime=1x.
func BenchmarkSweepServer(b *testing.B) {
	const n = 5000
	for _, e := range engines(b) {
		if e.dialect == sqlstore.SQLite {
			continue
		}
		b.Run("engine="+e.name, func(b *testing.B) {
			ctx := context.Background()
			for _, impl := range []string{"sweep", "forget-loop", "baseline"} {
				b.Run("impl="+impl, func(b *testing.B) {
					for range b.N {
						b.StopTimer()
						db, _ := e.open(b)
						sweepDB(b, db, e.dialect, n)
						f := sweepForgetter(b, db, e.dialect, 100)
						bl := newBaseline(e.dialect)
						b.StartTimer()
						start := time.Now()
						done := 0
						switch impl {
						case "sweep":
							rep, err := f.Sweep(ctx, forget.SweepOptions{InactiveSince: sweepCutoff, Chunk: 100})
							if err != nil || rep.Forgotten != n-n/10 {
								b.Fatalf("%+v, %v", rep, err)
							}
							done = rep.Tried
						default:
							for id := 1; id <= n; id++ {
								if id%10 == 0 {
									continue // active
								}
								var err error
								if impl == "baseline" {
									err = bl.forget(ctx, db, int64(id))
								} else {
									_, err = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(id)}})
								}
								if err != nil {
									b.Fatal(err)
								}
								done++
							}
						}
						b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(done), "ns/customer")
						b.StopTimer()
						db.Close()
						b.StartTimer()
					}
				})
			}
		})
	}
}
