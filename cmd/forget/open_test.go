package main

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TestSQLitePathsOpenExactlyThatFile: -db names a file, whatever its name
// holds. 'app#1.db' used to create "app" and report success.
func TestSQLitePathsOpenExactlyThatFile(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"app#1.db", "what?.db", "x?mode=ro", "%41.db", "a%2Fb.db", "with space.db", "ünï cødé 数据.db", "semi;colon&amp=.db", "//double-slash.db"} {
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			if strings.HasPrefix(name, "//") {
				path = "/" + dir + name // //tmp/.../..//double-slash.db
			}
			code, stdout, stderr := runMain("init", "-db", path, "-demo", "200")
			if code != exitOK {
				t.Fatalf("init: exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, "created the default schema in "+path) {
				t.Errorf("stdout: %s", stdout)
			}
			var files []string
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				files = append(files, e.Name())
			}
			sort.Strings(files)
			base := filepath.Base(path)
			for _, f := range files {
				if f != base && f != base+"-wal" && f != base+"-shm" {
					t.Errorf("init made %q; files: %q", f, files)
				}
			}
			if len(files) == 0 || files[0] != base {
				t.Fatalf("init did not make %q; files: %q", base, files)
			}
			code, stdout, stderr = runMain("run", "-db", path, "-customer-id", "191")
			if code != exitOK || !strings.Contains(stdout, `"customer_id": "191"`) {
				t.Errorf("run: exit %d\n%s\n%s", code, stdout, stderr)
			}
		})
	}
}

// TestSQLiteForeignKeys: every connection the command opens enforces
// foreign keys. A host table that restricts changing a username makes
// the forget fail, leaving the customer as it was; one that cascades
// from member_note loses its rows with the notes. (A key that restricts
// deleting a purged table's rows is refused before any forget: Verify,
// verify_restrict.go.)
func TestSQLiteForeignKeys(t *testing.T) {
	t.Parallel()
	path := demoDB(t, 200)
	db, err := sql.Open("sqlite", "file:"+path) // the host's own connection
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"PRAGMA foreign_keys = ON",
		`CREATE TABLE host_login (id INTEGER PRIMARY KEY, login TEXT NOT NULL REFERENCES customers(username) ON UPDATE RESTRICT)`,
		`INSERT INTO host_login (login) SELECT username FROM customers WHERE customer_id = 191`,
		`CREATE TABLE host_note_tag (id INTEGER PRIMARY KEY, note_id INTEGER NOT NULL REFERENCES member_note(note_id) ON DELETE CASCADE)`,
		`INSERT INTO host_note_tag (note_id) SELECT note_id FROM member_note WHERE customer_id IN (191, 192)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	code, stdout, stderr := runMain("run", "-db", path, "-customer-id", "191")
	if code != exitFailed {
		t.Errorf("forget of 191 under RESTRICT: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runMain("run", "-db", path, "-customer-id", "192")
	if code != exitOK {
		t.Errorf("forget of 192: exit %d\n%s\n%s", code, stdout, stderr)
	}

	db, err = openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string) int {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := count("SELECT COUNT(*) FROM customers WHERE customer_id = 191 AND username NOT LIKE 'forgot-%' AND lastname <> ''"); n != 1 {
		t.Error("customer 191 was changed by a forget that failed")
	}
	if n := count("SELECT COUNT(*) FROM member_auth WHERE customer_id = 191"); n != 2 {
		t.Errorf("customer 191 has %d member_auth rows, want 2", n)
	}
	if n := count("SELECT COUNT(*) FROM host_note_tag WHERE note_id IN (SELECT note_id FROM member_note WHERE customer_id = 191)"); n != 3 {
		t.Errorf("customer 191's note tags: %d, want 3", n)
	}
	if n := count("SELECT COUNT(*) FROM host_note_tag"); n != 3 {
		t.Errorf("%d note tags left, want 3 (192's cascaded away)", n)
	}
	if n := count("PRAGMA foreign_keys"); n != 1 {
		t.Error("openSQLite's connections do not enforce foreign keys")
	}
}

func mysqlURL(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("FORGET_TEST_MYSQL")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("FORGET_TEST_MYSQL is not set; under CI every engine must run")
		}
		t.Skip("FORGET_TEST_MYSQL is not set")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u := url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + cfg.DBName, User: url.User(cfg.User)}
	if cfg.Passwd != "" {
		u.User = url.UserPassword(cfg.User, cfg.Passwd)
	}
	return u.String()
}

// TestMySQLSessionIsStrict: the command's MySQL sessions are strict, so a
// value too long for its column is an error, never silently cut.
func TestMySQLSessionIsStrict(t *testing.T) {
	t.Parallel()
	base := mysqlURL(t)
	for _, q := range []string{"", "?timeout=5s", "?sql_mode=%27STRICT_ALL_TABLES%27"} {
		db, _, err := openDSN(base + q)
		if err != nil {
			t.Fatal(err)
		}
		var mode string
		if err := db.QueryRowContext(context.Background(), "SELECT @@SESSION.sql_mode").Scan(&mode); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		db.Close()
		if !strings.Contains(mode, "STRICT_TRANS_TABLES") && !strings.Contains(mode, "STRICT_ALL_TABLES") {
			t.Errorf("DSN query %q: sql_mode %q is not strict", q, mode)
		}
		// STRICT_ALL_TABLES is in TRADITIONAL, not in a default server
		// configuration: it shows that the session got the command's mode.
		if !strings.Contains(mode, "STRICT_ALL_TABLES") {
			t.Errorf("DSN query %q: sql_mode %q is the server's, not the command's", q, mode)
		}
	}
}

func TestMySQLConfig(t *testing.T) {
	t.Parallel()
	parse := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	cfg, err := mysqlConfig(parse("mysql://app@[::1]/shop?password=p%40ss&timeout=5s&parseTime=true"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Passwd != "p@ss" || cfg.Addr != "[::1]:3306" || cfg.DBName != "shop" || !cfg.ParseTime || cfg.Timeout.String() != "5s" {
		t.Errorf("config: %+v", cfg)
	}
	if _, ok := cfg.Params["password"]; ok {
		t.Error("the password would be sent as SET password=...")
	}
	if cfg.Params["sql_mode"] != mysqlSQLMode {
		t.Errorf("sql_mode %q", cfg.Params["sql_mode"])
	}
	for _, c := range []struct{ url, want string }{
		{"mysql://app:a@db/shop?password=b", "the password is given twice"},
		{"mysql://app@db/shop?sql_mode=%27ANSI%27", "sql_mode must be strict"},
		{"mysql://db/shop?user=root", "give the user name before the host"},
		{"mysql://app@db/shop?parseTime=s3cretvalue", "not one the MySQL driver accepts"},
	} {
		if _, err := mysqlConfig(parse(c.url)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.url, err, c.want)
		}
	}
}

func TestRedactDSN(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ dsn, want string }{
		{"postgres://app:s3cret@db/app?password=s3cret2&sslmode=disable", "postgres://app:xxxxx@db/app?password=xxxxx&sslmode=xxxxx"},
		{"postgres://app@db:5432/app", "postgres://app@db:5432/app"},
		{"mysql://root:p%40ss@127.0.0.1:3306/test?tls=skip-verify&x", "mysql://root:xxxxx@127.0.0.1:3306/test?tls=xxxxx&x"},
		{"postgres://db/app?sslpassword=k#frag", "postgres://db/app?sslpassword=xxxxx#xxxxx"},
		{"postgres://app:s3cret@%zz/app", "(a DSN that is not a URL, not shown)"},
		{"host=db password=s3cret", "(a DSN that is not a URL, not shown)"},
		{"postgres:app:s3cret@db", "postgres:xxxxx"},
	} {
		if got := redactDSN(c.dsn); got != c.want {
			t.Errorf("redactDSN(%q) = %q, want %q", c.dsn, got, c.want)
		}
	}
}

// TestDSNSecretsNeverPrinted runs the command with DSNs whose password is
// in the user-info, in the query string, or in a URL that does not parse,
// against servers that refuse or do not exist: no message shows the
// secrets. url.Parse's errors quote their input; the driver's may too.
func TestDSNSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	const secret = "Sup3rS3cret"
	keys := keysFileFor(t)
	for _, dsn := range []string{
		"postgres://app:" + secret + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=2",
		"postgres://app@127.0.0.1:1/app?password=" + secret + "&sslmode=disable",
		"postgres://app:" + secret + "@%zz/app",
		"postgres://app@127.0.0.1:5432/app?sslmode=" + secret,
		"mysql://app:" + secret + "@127.0.0.1:1/app",
		"mysql://app@127.0.0.1:1/app?password=" + secret,
		"mysql://app@127.0.0.1:1/app?parseTime=" + secret,
		"mysql://root@127.0.0.1:3306/test?innodb_lock_wait_timeout=" + secret, // the server's error quotes it
		"mysql://root@127.0.0.1:3306/test?sql_mode=%27STRICT_ALL_TABLES," + secret + "%27",
		"oracle://app:" + secret + "@db/app",
		"app:" + secret + "@tcp(db)/app",
	} {
		for _, args := range [][]string{
			{"run", "-dsn", dsn, "-customer-id", "1"},
			{"serve", "-dsn", dsn, "-keys", keys, "-addr", "127.0.0.1:0"},
			{"audit", "-dsn", dsn},
		} {
			code, stdout, stderr := runMain(args...)
			if code == exitOK {
				t.Errorf("%q succeeded", args)
			}
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("%q printed the secret:\n%s%s", args, stdout, stderr)
			}
		}
	}
}

// TestDSNFromEnvironment: FORGET_DSN stands in for -dsn, which wins when
// both are given; -h says so.
func TestDSNFromEnvironment(t *testing.T) {
	pg := os.Getenv("FORGET_TEST_POSTGRES")
	t.Setenv(envDSN, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	code, _, stderr := runMain("run", "-customer-id", "1")
	if code != exitFailed || !strings.Contains(stderr, "connect:") {
		t.Errorf("with FORGET_DSN unreachable: exit %d, %s", code, stderr)
	}
	// -db wins over the environment, as -dsn does.
	code, stdout, stderr := runMain("run", "-db", demoDB(t, 200), "-customer-id", "191", "-dry-run")
	if code != exitOK || !strings.Contains(stdout, `"customer_id": "191"`) {
		t.Errorf("-db with FORGET_DSN set: exit %d, %s", code, stderr)
	}
	if pg != "" {
		// -dsn wins: a good -dsn over an unreachable FORGET_DSN reaches
		// the server (and finds no schema there, or one).
		code, _, stderr = runMain("audit", "-dsn", pg)
		if strings.Contains(stderr, "connect:") {
			t.Errorf("-dsn did not win over FORGET_DSN: exit %d, %s", code, stderr)
		}
	}
	_, _, stderr = runMain("run", "-h")
	if !strings.Contains(stderr, "$FORGET_DSN") {
		t.Errorf("run -h does not mention FORGET_DSN:\n%s", stderr)
	}
}

// TestMappingThatDoesNotFitIsBadUsage: every subcommand that opens a
// database verifies it first; a database that does not fit the mapping
// is exit status 2, before any forget or any serving.
func TestMappingThatDoesNotFitIsBadUsage(t *testing.T) {
	t.Parallel()
	path := demoDB(t, 200)
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("ALTER TABLE customers DROP COLUMN phone"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	trail := filepath.Join(t.TempDir(), "audit.jsonl")
	os.WriteFile(trail, []byte(`{"customer_id":"191"}`+"\n"), 0o644)
	batch := filepath.Join(t.TempDir(), "b.csv")
	os.WriteFile(batch, []byte("customer_id\n191\n"), 0o644)
	for _, args := range [][]string{
		{"run", "-db", path, "-customer-id", "191"},
		{"run", "-db", path, "-batch", batch},
		{"replay", "-db", path, "-from", trail},
		{"audit", "-db", path},
		{"serve", "-db", path, "-keys", keysFileFor(t), "-addr", "127.0.0.1:0"},
	} {
		var code int
		var stdout, stderr string
		ran := make(chan struct{})
		go func() {
			defer close(ran)
			code, stdout, stderr = runMain(args...)
		}()
		select {
		case <-ran:
		case <-time.After(time.Minute):
			t.Fatalf("%q still runs after a minute: it did not refuse the database", args)
		}
		if code != exitUsage || !strings.Contains(stderr, "phone") {
			t.Errorf("%q: exit %d, want 2 naming the column\n%s%s", args, code, stdout, stderr)
		}
		if strings.Contains(stdout, "serving") || strings.Contains(stdout, "requests in") {
			t.Errorf("%q started: %s", args, stdout)
		}
	}
	if gone := forgottenIn(t, path); len(gone) != 0 {
		t.Errorf("forgotten: %v", gone)
	}
}
