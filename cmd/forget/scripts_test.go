package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// step is one step of a scenario run in-process in a directory of the
// test's own: forget with args, or a query on a SQLite database.
type step struct {
	args []string // forget's arguments
	sql  [2]string
	code int // the exit status wanted

	stdout, stderr []string // patterns (multi-line) each must match
	notOut, notErr []string // patterns it must not match
	// file and lines: patterns with the number of lines of file each must
	// match (-1: at least one).
	file  string
	lines map[string]int
}

// runSteps writes files and runs the steps in order, in a fresh
// directory that is also the cache directory (the demo databases').
func runSteps(t *testing.T, files map[string]string, steps []step) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("XDG_CACHE_HOME", dir+"/cache")
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runStepsHere(t, steps)
}

// runStepsHere runs the steps in the current directory.
func runStepsHere(t *testing.T, steps []step) {
	t.Helper()
	for i, s := range steps {
		name := fmt.Sprintf("step %d (forget %s)", i+1, strings.Join(s.args, " "))
		var stdout, stderr string
		if s.sql[0] != "" {
			name = fmt.Sprintf("step %d (%s: %s)", i+1, s.sql[0], s.sql[1])
			stdout = sqlq(t, s.sql[0], s.sql[1])
		} else if s.args != nil {
			var code int
			code, stdout, stderr = runMain(s.args...)
			if code != s.code {
				t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", name, code, s.code, stdout, stderr)
			}
		}
		match := func(what, text string, patterns []string, want bool) {
			for _, p := range patterns {
				if regexp.MustCompile("(?m)"+p).MatchString(text) != want {
					t.Errorf("%s: %s matches %q: %v, want %v\n%s", name, what, p, !want, want, text)
				}
			}
		}
		match("stdout", stdout, s.stdout, true)
		match("stderr", stderr, s.stderr, true)
		match("stdout", stdout, s.notOut, false)
		match("stderr", stderr, s.notErr, false)
		if s.file != "" {
			data, err := os.ReadFile(s.file)
			if err != nil {
				t.Fatal(err)
			}
			for p, want := range s.lines {
				n := len(regexp.MustCompile("(?m)"+p).FindAllString(string(data), -1))
				if want == -1 && n == 0 || want >= 0 && n != want {
					t.Errorf("%s: %d lines of %s match %q, want %d", name, n, s.file, p, want)
				}
			}
		}
	}
}

func forgetArgs(args ...string) []string { return args }

func TestUsage(t *testing.T) {
	runSteps(t, nil, []step{
		{args: []string{}, code: exitUsage, stderr: []string{"Usage:"}},
		{args: forgetArgs("frobnicate"), code: exitUsage, stderr: []string{`unknown command "frobnicate"`}},
		{args: forgetArgs("help"), stdout: []string{"forget serve"}},
		// Every subcommand explains every flag with an example, and -h exits 0.
		{args: forgetArgs("serve", "-h"), stderr: []string{"Examples:", "-addr HOST:PORT", "-keys FILE", "-dsn URL", "-schema FILE", "-path PATH", "-log-format FORMAT", "-demo int"}},
		{args: forgetArgs("init", "-h"), stderr: []string{"-db FILE", "-demo int", "e.g. -demo 1000", "-preset NAME"}},
		{args: forgetArgs("run", "-h"), stderr: []string{"-customer-id ID", "-subscription-id ID", "-orderid ID", "e.g. -keep firstname,member_note", "-dry-run", "-batch FILE", "-report FILE", "-progress MODE", "-batch-size N"}},
		{args: forgetArgs("schema", "-h"), stderr: []string{"-dialect DIALECT"}},
		// Flag errors are usage errors: exit status 2.
		// The error and one line pointing to -h, not the whole usage.
		{args: forgetArgs("run", "-no-such-flag"), code: exitUsage, stderr: []string{`\Aflag provided but not defined: -no-such-flag\nRun 'forget run -h' for its flags and examples.\n\z`}},
		{args: []string{"help", "run"}, code: exitOK, stderr: []string{`\AUsage: forget run `, `(?s)Flags:.*-customer-id`}},
		{args: []string{"help", "nosuch"}, code: exitUsage, stderr: []string{`unknown command "nosuch"`}},
		{args: forgetArgs("schema", "-dialect", "oracle"), code: exitUsage, stderr: []string{`unknown dialect "oracle"`}},
		{args: forgetArgs("init"), code: exitUsage, stderr: []string{"init needs -db FILE"}},
		{args: forgetArgs("init", "-db", "x.db", "stray"), code: exitUsage, stderr: []string{`unexpected argument "stray"`}},
		{args: forgetArgs("run", "-db", "x.db", "-progress", "fancy", "-customer-id", "1"), code: exitUsage, stderr: []string{"-progress must be auto, bar, lines or none"}},
		{args: forgetArgs("run", "-db", "x.db", "-batch-size", "0", "-customer-id", "1"), code: exitUsage, stderr: []string{"-batch-size must be 1 to 10000"}},
	})
}

// TestUsageNamesTheEnvironmentOnce: every -h says once that flags may
// come from the environment.
func TestUsageNamesTheEnvironmentOnce(t *testing.T) {
	t.Parallel()
	for name := range commands {
		_, _, stderr := runMain(name, "-h")
		if n := strings.Count(stderr, "may also come from the environment"); n != 1 {
			t.Errorf("forget %s -h says it %d times:\n%s", name, n, stderr)
		}
	}
}

func TestSchemaCommand(t *testing.T) {
	runSteps(t, nil, []step{
		{args: forgetArgs("schema"), stdout: []string{`CREATE TABLE IF NOT EXISTS "customers"`, `CREATE UNIQUE INDEX IF NOT EXISTS "customers_username"`, `CREATE INDEX IF NOT EXISTS "member_note_customer_id"`}},
		{args: forgetArgs("schema", "-dialect", "postgres"), stdout: []string{`"username" VARCHAR\(32\)`, "GENERATED BY DEFAULT AS IDENTITY"}},
		{args: forgetArgs("schema", "-dialect", "mysql"), stdout: []string{"CREATE TABLE IF NOT EXISTS `customers`", "UNIQUE INDEX `customers_username` \\(`username`\\)", "ENGINE=InnoDB"}},
	})
}

const absentPhoneMapping = `{
  "customers": {"table": "customers", "key": "customer_id", "key_type": "int"},
  "subscriptions": {"table": "subscriptions", "key": "subscription_id", "customer_key": "customer_id"},
  "orders": {"table": "transactions", "key": "orderid", "customer_key": "customer_id"},
  "fields": {
    "username": {"column": "username"}, "token_hash": {"column": "token_hash"},
    "original_username": {"column": "original_username"}, "password": {"column": "password"},
    "cryptpass": {"column": "cryptpass"}, "session": {"column": "session"},
    "firstname": {"column": "firstname"}, "lastname": {"column": "lastname"},
    "address1": {"column": "address1"}, "address2": {"column": "address2"},
    "city": {"column": "city"}, "state": {"column": "state"}, "zip": {"column": "zip"},
    "country": {"column": "country"}, "shipping_firstname": {"column": "shipping_firstname"},
    "shipping_lastname": {"column": "shipping_lastname"}, "shipping_address1": {"column": "shipping_address1"},
    "shipping_address2": {"column": "shipping_address2"}, "shipping_zip": {"column": "shipping_zip"},
    "shipping_city": {"column": "shipping_city"}, "shipping_state": {"column": "shipping_state"},
    "shipping_country": {"column": "shipping_country"}
  },
  "tables": {
    "member_auth": {"table": "member_auth", "customer_key": "customer_id"},
    "member_note": {"table": "member_note", "customer_key": "customer_id"}
  },
  "absent": ["phone"]
}`

func TestRunCommand(t *testing.T) {
	files := map[string]string{
		"bad.json":        `{"customers": {"table": "customers; DROP TABLE x", "key": "customer_id"}, "fields": {}, "tables": {}}`,
		"unknownkey.json": `{"custmers": {"table": "customers", "key": "customer_id"}}`,
		"unmapped.json": `{"customers": {"table": "customers", "key": "customer_id"},
 "fields": {"username": {"column": "username"}},
 "tables": {"member_note": {"table": "member_note", "customer_key": "customer_id"}},
 "absent": ["member_auth"]}`,
		"absentphone.json": absentPhoneMapping,
	}
	runSteps(t, files, []step{
		// A database with 300 demo customers.
		{args: forgetArgs("init", "-db", "app.db", "-demo", "300"), stdout: []string{"created the default schema in app.db with 300 demo customers"}},
		{args: forgetArgs("init", "-db", "app.db", "-demo", "300"), code: exitFailed, stderr: []string{"already has 300 customers"}},
		{args: forgetArgs("init", "-db", "app.db", "-demo", "5"), code: exitFailed, stderr: []string{"already has 300 customers"}},
		// One forget prints the receipt; the database shows it.
		{args: forgetArgs("run", "-db", "app.db", "-customer-id", "191", "-keep", "firstname, member_note", "-principal", "ops:jane"),
			stdout: []string{`"customer_id": "191"`, `"fields_kept": \[\s+"firstname"\s+\]`, `"member_auth": 2`, `"principal": "ops:jane"`}},
		{sql: q("SELECT substr(username,1,7), length(username), lastname, length(cryptpass) FROM customers WHERE customer_id = 191"), stdout: []string{`^forgot-\|32\|\|32$`}},
		{sql: q("SELECT COUNT(*) FROM member_auth WHERE customer_id = 191"), stdout: []string{`^0$`}},
		{sql: q("SELECT COUNT(*) FROM member_note WHERE customer_id = 191"), stdout: []string{`^3$`}},
		{sql: q("SELECT firstname <> '' FROM customers WHERE customer_id = 191"), stdout: []string{`^1$`}},
		// A dry run changes nothing.
		{args: forgetArgs("run", "-db", "app.db", "-orderid", "19301", "-dry-run"), stdout: []string{`"dry_run": true`, `"customer_id": "193"`}},
		{sql: q("SELECT COUNT(*) FROM member_note WHERE customer_id = 193"), stdout: []string{`^3$`}},
		// Failed forgets: exit status 1, message on stderr, nothing changed.
		{args: forgetArgs("run", "-db", "app.db", "-customer-id", "194", "-keep", "firstnme,member_notes"), code: exitFailed,
			stderr: []string{`unknown keep names: "firstnme", "member_notes"; nothing was erased`}},
		{sql: q("SELECT COUNT(*) FROM member_note WHERE customer_id = 194"), stdout: []string{`^3$`}},
		{args: forgetArgs("run", "-db", "app.db", "-customer-id", "99999"), code: exitFailed, stderr: []string{"no customer matches the lookup"}},
		{args: forgetArgs("run", "-db", "app.db", "-customer-id", "194", "-orderid", "19501"), code: exitFailed, stderr: []string{"lookup keys name different customers"}},
		{args: forgetArgs("run", "-db", "app.db", "-subscription-id", "abc"), code: exitFailed, stderr: []string{"subscription_id must be an integer"}},
		{args: forgetArgs("run", "-db", "missing.db", "-customer-id", "1"), code: exitFailed, stderr: []string{"forget init -db missing.db"}},
		// Bad usage: exit status 2.
		{args: forgetArgs("run", "-db", "app.db"), code: exitUsage, stderr: []string{"give -customer-id, -subscription-id or -orderid"}},
		{args: forgetArgs("run", "-customer-id", "1"), code: exitUsage, stderr: []string{"run needs -db FILE or -dsn URL"}},
		{args: forgetArgs("run", "-db", "app.db", "-dsn", "postgres://x/y", "-customer-id", "1"), code: exitUsage, stderr: []string{"not both"}},
		{args: forgetArgs("run", "-db", "app.db", "-customer-id", "1", "-report", "r.jsonl"), code: exitUsage, stderr: []string{"-report goes with -batch"}},
		{args: forgetArgs("run", "-db", "app.db", "-batch", "b.csv", "-customer-id", "1"), code: exitUsage, stderr: []string{"-batch takes its lookups"}},
		{args: forgetArgs("run", "-db", "app.db", "-customer-id", "1", "-schema", "bad.json"), code: exitUsage,
			stderr: []string{`schema bad.json: sqlstore: invalid schema: customers table "customers; DROP TABLE x" is not a plain identifier`}},
		{args: forgetArgs("run", "-db", "app.db", "-customer-id", "1", "-schema", "unknownkey.json"), code: exitUsage, stderr: []string{`unknown field "custmers"`}},
		{args: forgetArgs("run", "-db", "app.db", "-customer-id", "1", "-schema", "unmapped.json"), code: exitUsage, stderr: []string{"field phone is not mapped"}},
		// A mapping file for the default schema works like the default.
		{args: forgetArgs("run", "-db", "app.db", "-customer-id", "195", "-schema", "absentphone.json"), stdout: []string{`"customer_id": "195"`}},
		{sql: q("SELECT phone <> '', lastname FROM customers WHERE customer_id = 195"), stdout: []string{`^1\|$`}},
	})
}

// q is a query on app.db.
func q(query string) [2]string { return [2]string{"app.db", query} }

// genCSV returns a CSV batch of n requests over customers 1..n, with
// known bad rows: every 1000th keeps an unknown name, every 997th names a
// missing customer, every 1499th has a malformed id, and row 5555 has a
// field too many.
func genCSV(n int) string {
	var b strings.Builder
	b.WriteString("customer_id,subscription_id,orderid,keep\n")
	for i := 1; i <= n; i++ {
		switch {
		case i%1000 == 0:
			fmt.Fprintf(&b, "%d,,,\"firstname,bogus\"\n", i)
		case i%997 == 0:
			b.WriteString("999999,,,\n")
		case i%1499 == 0:
			b.WriteString("abc,,,\n")
		case i == 5555:
			fmt.Fprintf(&b, "%d,,,,extra\n", i)
		case i%3 == 0:
			fmt.Fprintf(&b, "%d,,,\n", i)
		case i%3 == 1:
			fmt.Fprintf(&b, ",%d,,member_note\n", i*10+1)
		default:
			fmt.Fprintf(&b, ",,%d,\"firstname, phone\"\n", i*100+1)
		}
	}
	return b.String()
}

// TestBatchCommand: a batch of 10,000 requests with bad rows: each is its
// own forget, bad rows and missing customers are reported, and the batch
// goes on.
func TestBatchCommand(t *testing.T) {
	files := map[string]string{
		"requests.csv":  genCSV(10000),
		"ok.jsonl":      `{"customer_id": 4}` + "\n" + `{"orderid": "501", "keep": ["phone", "member_note"]}` + "\n",
		"bad.jsonl":     `{"customer_id": 6}` + "\n" + `{"customer_id": 7, "kep": "phone"}` + "\nnot json\n",
		"badheader.csv": "customer_id,email\n1,a@example.com\n",
	}
	const summary = "9973 forgotten, 10 not found, 17 invalid, 0 conflict, 0 failed"
	runSteps(t, files, []step{
		{args: forgetArgs("init", "-db", "app.db", "-demo", "10000")},
		{args: forgetArgs("run", "-db", "app.db", "-batch", "requests.csv", "-report", "report.jsonl", "-progress", "lines"), code: exitFailed,
			stdout: []string{`^10000 requests in .*: ` + summary + `$`},
			stderr: []string{`progress: 5000/10000 \(50%\), [0-9]+/s, [0-9hms.]+ left`, `progress: 10000/10000 \(100%\), [0-9]+/s, 0s left`},
			file:   "report.jsonl", lines: map[string]int{
				`"outcome":"forgotten"`: 9973, `"outcome":"not_found"`: 10, `"outcome":"invalid"`: 17,
				`^\{"line":1001,"outcome":"invalid","error":"unknown keep name: \\"bogus\\"; nothing was erased"\}$`:        1,
				`^\{"line":5556,"outcome":"invalid","error":"the row has 5 fields, the header 4"\}$`:                        1,
				`^\{"line":998,"outcome":"not_found","error":"no customer matches the lookup"\}$`:                           1,
				`^\{"line":4,"outcome":"forgotten","customer_id":"3","rows_deleted":\{"member_auth":2,"member_note":3\}\}$`: 1,
				`forgot-`: 0,
			}},
		// The database shows it: customer 3 forgotten, 1000 (a bad row) intact.
		{sql: q("SELECT substr(username,1,7), firstname FROM customers WHERE customer_id = 3"), stdout: []string{`^forgot-\|$`}},
		{sql: q("SELECT COUNT(*) FROM member_auth WHERE customer_id = 1000"), stdout: []string{`^2$`}},
		{sql: q("SELECT COUNT(*) FROM customers WHERE username LIKE 'forgot-%'"), stdout: []string{`^9973$`}},
		// Re-running the batch is safe: the same outcomes again, in
		// transactions of another size.
		{args: forgetArgs("run", "-db", "app.db", "-batch", "requests.csv", "-progress", "none", "-batch-size", "7"), code: exitFailed,
			stdout: []string{summary}, notErr: []string{"."}},
		// JSON lines, and a clean batch exits 0.
		{args: forgetArgs("run", "-db", "app.db", "-batch", "ok.jsonl", "-progress", "none"),
			stdout: []string{`^2 requests in .*: 2 forgotten, 0 not found, 0 invalid, 0 conflict, 0 failed$`}},
		{args: forgetArgs("run", "-db", "app.db", "-batch", "bad.jsonl", "-progress", "none", "-dry-run"), code: exitFailed,
			stdout: []string{`3 requests in .*: 1 would be forgotten \(dry run\), 0 not found, 2 invalid, 0 conflict, 0 failed`}},
		// A header naming an unknown column stops the batch before it starts.
		{args: forgetArgs("run", "-db", "app.db", "-batch", "badheader.csv"), code: exitUsage, stderr: []string{`unknown column "email"`}},
	})
}

// TestAuditAndReplay: the audit trail is written with every forget,
// exported as JSON lines, and replayed onto a restored backup.
func TestAuditAndReplay(t *testing.T) {
	runSteps(t, map[string]string{"bad.jsonl": `{"fields_erased": ["phone"]}` + "\n"}, []step{
		{args: forgetArgs("init", "-db", "app.db", "-demo", "250")},
		{sql: q("VACUUM INTO 'backup.db'")},
		{args: forgetArgs("run", "-db", "app.db", "-customer-id", "191", "-keep", "firstname", "-principal", "ops:jane")},
		{args: forgetArgs("run", "-db", "app.db", "-orderid", "20001", "-dry-run")},
		{args: forgetArgs("audit", "-db", "app.db"), stdout: []string{`^\{.*"customer_id":"191",.*"fields_kept":\["firstname"\].*"principal":"ops:jane"`},
			notOut: []string{`"customer_id":"200"`, "forgot-"}},
		{args: forgetArgs("audit", "-db", "app.db", "-since", "2999-01-01T00:00:00Z"), notOut: []string{"."}},
	})
	_, trail, _ := runMain("audit", "-db", "app.db")
	if err := os.WriteFile("audit.jsonl", []byte(trail), 0o644); err != nil {
		t.Fatal(err)
	}
	// Disaster: the backup comes back, and with it customer 191.
	runStepsHere(t, []step{
		{sql: [2]string{"backup.db", "SELECT lastname <> '' FROM customers WHERE customer_id = 191"}, stdout: []string{`^1$`}},
		{args: forgetArgs("replay", "-db", "backup.db", "-from", "audit.jsonl", "-progress", "lines"),
			stdout: []string{"replayed 1 records: 1 forgotten again, 0 not in this database, 0 invalid, 0 failed"},
			stderr: []string{`^progress: 1/1 \(100%\), [0-9]+/s, 0s left$`}},
		{sql: [2]string{"backup.db", "SELECT lastname, firstname <> '' FROM customers WHERE customer_id = 191"}, stdout: []string{`^\|1$`}},
		{sql: [2]string{"backup.db", "SELECT COUNT(*) FROM forget_audit WHERE customer_id = '191' AND principal = 'replay of ops:jane'"}, stdout: []string{`^1$`}},
		// Bad input is bad usage.
		{args: forgetArgs("replay", "-db", "app.db", "-from", "bad.jsonl"), code: exitUsage, stderr: []string{"record 1 has no customer_id"}},
		{args: forgetArgs("replay", "-db", "app.db"), code: exitUsage, stderr: []string{"replay needs -from FILE"}},
		{args: forgetArgs("audit", "-db", "app.db", "-since", "yesterday"), code: exitUsage, stderr: []string{"RFC 3339"}},
		// A database without the audit table is refused at start, unless
		// the operator opts out.
		{sql: q("DROP TABLE forget_audit")},
		{args: forgetArgs("run", "-db", "app.db", "-customer-id", "192"), code: exitUsage, stderr: []string{"audit table.*forget_audit.*(no such table|does not exist).*forget init"}},
		{args: forgetArgs("run", "-db", "app.db", "-customer-id", "192", "-audit-table", ""), stdout: []string{`"customer_id": "192"`}},
	})
}

// TestSweepScenario: a retention sweep forgets the customers inactive for
// three years, by their last_login, and no one else; a dry run changes
// nothing; -limit bounds a run; a re-run goes on where the last stopped
// and forgets nobody twice.
func TestSweepScenario(t *testing.T) {
	sweep := func(args ...string) []string {
		return append([]string{"sweep", "-db", "app.db"}, args...)
	}
	runSteps(t, nil, []step{
		{args: forgetArgs("init", "-db", "app.db", "-demo", "200")},
		{sql: q("ALTER TABLE customers ADD COLUMN last_login TEXT")},
		{sql: q("CREATE INDEX customers_last_login ON customers (last_login)")},
		{sql: q("UPDATE customers SET last_login = CASE WHEN customer_id % 10 = 0 THEN NULL WHEN customer_id % 2 = 1 THEN datetime('now', '-4 years') ELSE datetime('now', '-1 month') END")},
		{args: sweep("-activity", "last_login", "-inactive", "3y", "-dry-run", "-progress", "none"),
			stdout: []string{`^100 customers inactive since .*: 100 would be forgotten \(dry run\), 0 held, 0 not found, 0 failed$`}},
		{sql: q("SELECT COUNT(*) FROM forget_audit"), stdout: []string{`^0$`}},
		{args: sweep("-activity", "last_login", "-inactive", "3y", "-limit", "30", "-progress", "none", "-report", "first.jsonl"),
			stdout: []string{`^30 customers inactive since .*: 30 forgotten, 0 held, 0 not found, 0 failed$`},
			file:   "first.jsonl", lines: map[string]int{`"outcome":"forgotten"`: 30, `^\{"customer_id":"1","outcome":"forgotten"\}$`: 1, "forgot-": 0}},
		{args: sweep("-activity", "last_login", "-inactive", "3y", "-progress", "lines"), stdout: []string{`^70 customers inactive since .*: 70 forgotten, 0 held`}},
		{args: sweep("-activity", "last_login", "-inactive", "3y", "-progress", "none"), stdout: []string{`^0 customers inactive since`}},
		{sql: q("SELECT COUNT(*) FROM customers WHERE username LIKE 'forgot-%'"), stdout: []string{`^100$`}},
		{sql: q("SELECT COUNT(*) FROM customers WHERE customer_id % 2 = 0 AND username LIKE 'forgot-%'"), stdout: []string{`^0$`}},
		{sql: q("SELECT COUNT(*), COUNT(DISTINCT customer_id), MIN(principal) FROM forget_audit"), stdout: []string{`^100\|100\|sweep$`}},
		// Bad usage changes nothing.
		{args: sweep("-activity", "last_login"), code: exitUsage, stderr: []string{"needs -inactive"}},
		{args: sweep("-activity", "last_login", "-inactive", "0d"), code: exitUsage, stderr: []string{"must be positive"}},
		{args: sweep("-activity", "last_login", "-inactive", "soon"), code: exitUsage, stderr: []string{"not an age"}},
		{args: sweep("-activity", "last_login; DROP TABLE customers", "-inactive", "3y"), code: exitUsage, stderr: []string{"not a plain identifier"}},
		{args: sweep("-inactive", "3y"), code: exitUsage, stderr: []string{"activity columns"}},
		{args: sweep("-activity", "last_login", "-inactive", "3y", "-audit-table", ""), code: exitUsage, stderr: []string{"needs the audit table"}},
		{args: sweep("-activity", "no_such_column", "-inactive", "3y", "-progress", "none"), code: exitUsage,
			stderr: []string{"activity column: column customers.no_such_column does not exist"}},
		// Unix times in the activity column would all compare as inactive: refused.
		{sql: q("UPDATE customers SET last_login = 1600000000 WHERE customer_id = 2")},
		{args: sweep("-activity", "last_login", "-inactive", "3y", "-progress", "none"), code: exitFailed, stderr: []string{"not times as text"}},
		{sql: q("SELECT COUNT(*) FROM forget_audit"), stdout: []string{`^100$`}},
	})
}

// TestInspectScenario: a host's schema: the default one plus an unmapped
// email, a free-text table holding e-mail addresses and its replies
// (reached only through a foreign key). inspect shows every column's
// class and counts what looks personal, never a value; lint fails until
// the mapping covers it all; the proposed mapping loads with -schema and
// forgets the customer.
func TestInspectScenario(t *testing.T) {
	const planted = `zq9w|203\.0\.113|7946`
	steps := []step{
		{args: forgetArgs("init", "-db", "app.db", "-demo", "200")},
		{sql: q("ALTER TABLE customers ADD COLUMN email TEXT")},
		{sql: q("CREATE TABLE tickets (ticket_id INTEGER PRIMARY KEY, customer_id BIGINT NOT NULL, message TEXT NOT NULL)")},
		{sql: q("CREATE TABLE replies (reply_id INTEGER PRIMARY KEY, ticket_id BIGINT NOT NULL REFERENCES tickets (ticket_id) ON DELETE CASCADE, body TEXT)")},
		{sql: q("UPDATE customers SET email = 'planted-zq9w@example.org' WHERE customer_id = 191")},
		{sql: q("INSERT INTO tickets VALUES (1, 191, 'mail zq9w@example.net, call +44 20 7946 0958 from 203.0.113.77')")},
		{sql: q("INSERT INTO replies VALUES (1, 1, 'done zq9w')")},
		{args: forgetArgs("inspect", "-db", "app.db", "-sample", "10"), stdout: []string{
			`^customers \(customers table\)$`,
			`^  email +text +unclassified +LIKELY PERSONAL: its name contains email; sampled 1: 1 e-mail, 0 phone, 0 IP$`,
			`^replies \(through ticket_id → tickets\)$`,
			`^  message +text +unclassified +LIKELY PERSONAL: its name contains message; sampled 1: 1 e-mail, 1 phone, 1 IP$`,
			`^59 columns in 8 tables reach a customer: 30 erased, 9 keys, 17 retained, 3 unclassified, 3 of them likely personal$`,
		}, notOut: []string{planted}, notErr: []string{"."}},
		{args: forgetArgs("inspect", "-db", "app.db", "-sample", "10", "-format", "json"), stdout: []string{`"class": "unclassified"`, `"emails": 1`}, notOut: []string{planted}},
		{args: forgetArgs("lint", "-db", "app.db"), code: exitFailed, stdout: []string{
			`^customers.email: unclassified, likely personal \(its name contains email\)$`,
			`^replies.body: unclassified, likely personal \(its name contains body\)$`,
		}, stderr: []string{"lint: 3 columns to classify"}, notOut: []string{"zq9w"}},
		// One customer's inventory: rows per table, what a forget would
		// do, what it would leave as it is.
		{args: forgetArgs("inspect", "-db", "app.db", "-customer-id", "191"), stdout: []string{
			`^customers +1 +updated +email \(unclassified, likely personal\)$`,
			`^replies +1 +none +body \(unclassified, likely personal\)$`,
			`^tickets +1 +none +message \(unclassified, likely personal\)$`,
			`^member_note +3 +deleted *$`,
		}, notOut: []string{planted}},
		{args: forgetArgs("inspect", "-db", "app.db", "-orderid", "19201", "-format", "json"), stdout: []string{`"table": "customers",\s+"rows": 1,\s+"action": "updated"`}},
		{args: forgetArgs("inspect", "-db", "app.db", "-customer-id", "99999"), code: exitFailed, stderr: []string{"no customer matches the lookup"}},
		{args: forgetArgs("inspect", "-db", "app.db", "-customer-id", "1", "-sample", "3"), code: exitUsage, stderr: []string{"-sample goes with the coverage report"}},
		{args: forgetArgs("inspect", "-db", "app.db", "-propose"), stderr: []string{
			`^review: field email: customers.email looks personal \(its name contains email\): erased by rule null as an extension field$`,
			`^review: table tickets: its rows are deleted by a forget \(extension table tickets, by customer_id\)`,
		}, notErr: []string{"zq9w"}},
	}
	runSteps(t, nil, steps)
	_, mapping, _ := runMain("inspect", "-db", "app.db", "-propose")
	if err := os.WriteFile("mapping.json", []byte(mapping), 0o644); err != nil {
		t.Fatal(err)
	}
	runStepsHere(t, []step{
		{args: forgetArgs("lint", "-db", "app.db", "-schema", "mapping.json"), stdout: []string{"lint: every column that reaches a customer is classified"}},
		{args: forgetArgs("lint", "-db", "app.db", "-schema", "mapping.json", "-review"), code: exitFailed, stdout: []string{`^subscriptions.status: retained, still marked for review$`}},
		{args: forgetArgs("run", "-db", "app.db", "-schema", "mapping.json", "-customer-id", "191"), stdout: []string{`"email"`, `"tickets": 1`}, notOut: []string{"zq9w"}},
		{sql: q("SELECT email IS NULL, firstname FROM customers WHERE customer_id = 191"), stdout: []string{`^1\|$`}},
		{sql: q("SELECT (SELECT COUNT(*) FROM tickets) + (SELECT COUNT(*) FROM replies)"), stdout: []string{`^0$`}},
	})
}

// background runs the built command with args in the current directory
// until stop, which interrupts it and returns its exit status and outputs.
func backgroundForget(t *testing.T, args ...string) (stop func() (int, string, string)) {
	t.Helper()
	cmd := exec.Command(buildForget(t), args...)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return func() (int, string, string) {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}
}

// httpCall sends a form request to port, waiting up to 10s for a server
// to listen, and returns "STATUS BODY".
func httpCall(t *testing.T, port int, method, path, user, key, body string) string {
	t.Helper()
	url := "http://127.0.0.1:" + strconv.Itoa(port) + path
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("api-username", user)
		req.Header.Set("api-key", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("server did not answer: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d %s", res.StatusCode, b)
	}
}

// call is one request of a serve scenario and the pattern its answer must match.
type call struct{ method, path, user, key, body, want string }

func checkCalls(t *testing.T, port int, calls []call) {
	t.Helper()
	for _, c := range calls {
		if got := httpCall(t, port, c.method, c.path, c.user, c.key, c.body); !regexp.MustCompile(c.want).MatchString(got) {
			t.Errorf("%s %s %s: %s, want %q", c.method, c.path, c.body, got, c.want)
		}
	}
}

// TestServeScenario: serve over an existing database with a keys file,
// JSON logs; bad keys files are start-up errors naming the line, not its
// content.
func TestServeScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built command")
	}
	const key, other = "s3cret-key-0123456789", "another-key-0123456789"
	files := map[string]string{
		"keys.txt":     "# who may call\nofferit_admin: " + key + "\n  # read-only dashboards use dry runs\nreporting:" + other + "\n",
		"badkeys.txt":  "# comment\na:long-enough-key-0123\noops-no-colon\n",
		"shortkey.txt": "a:long-enough-key-0123\na:tooshort\n",
		"trailing.txt": "reporting:" + other + "   # dashboards\n",
		"longuser.txt": "a12345678901234567890123456789012345678901234567890123456789012345:long-enough-key-0123\n",
	}
	runSteps(t, files, []step{{args: forgetArgs("init", "-db", "app.db", "-demo", "200")}})
	port := freePort(t)
	stop := backgroundForget(t, "serve", "-db", "app.db", "-keys", "keys.txt", "-addr", "127.0.0.1:"+strconv.Itoa(port), "-log-format", "json")
	const path = "/api/customer/forget"
	checkCalls(t, port, []call{
		{"PATCH", path, "offerit_admin", key, "customer_id=191", `^200 true$`},
		{"PATCH", path, "offerit_admin", "wrong", "customer_id=192", `^401 \{"result":"error","code":"unauthorized"`},
		{"GET", path, "offerit_admin", key, "", `^405 `},
		// Only the configured path is served: no redirect for a path
		// that is almost it, a JSON 404 instead.
		{"PATCH", "/" + path, "offerit_admin", key, "customer_id=193", `^404 \{"result":"error","code":"not_found","data":"[^"]+"\}$`},
		{"PATCH", path + "/", "offerit_admin", key, "customer_id=193", `^404 \{"result":"error","code":"not_found"`},
		{"PATCH", path, "reporting", other, "orderid=19201&dry_run=1", `^200 \{"customer_id":"192".*"dry_run":true.*"principal":"reporting"`},
	})
	code, stdout, stderr := stop()
	if code != exitOK || !strings.Contains(stdout, "with 2 API key(s) from the keys file") ||
		!regexp.MustCompile(`"msg":"request","method":"PATCH","path":"/api/customer/forget","status":200`).MatchString(stderr) ||
		!strings.Contains(stderr, `"status":401`) || !strings.Contains(stderr, `"msg":"shutting down"`) || strings.Contains(stderr, "forgot-") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	runStepsHere(t, []step{
		{sql: q("SELECT substr(username,1,7) FROM customers WHERE customer_id = 191"), stdout: []string{`^forgot-$`}},
		{sql: q("SELECT substr(username,1,7) <> 'forgot-' FROM customers WHERE customer_id = 193"), stdout: []string{`^1$`}},
		{args: forgetArgs("serve", "-db", "app.db", "-keys", "badkeys.txt", "-addr", "127.0.0.1:"+strconv.Itoa(port)), code: exitUsage,
			stderr: []string{"badkeys.txt line 3: want username:key"}, notErr: []string{"oops"}},
		{args: forgetArgs("serve", "-db", "app.db", "-keys", "shortkey.txt"), code: exitUsage,
			stderr: []string{"shortkey.txt line 2: the key is shorter than 16 characters"}, notErr: []string{"tooshort"}},
		{args: forgetArgs("serve", "-db", "app.db", "-keys", "trailing.txt"), code: exitUsage,
			stderr: []string{"trailing.txt line 1: the key holds a space.*#. starts a comment only at the start of a line"}, notErr: []string{"dashboards"}},
		{args: forgetArgs("serve", "-db", "app.db", "-keys", "longuser.txt"), code: exitUsage, stderr: []string{"longuser.txt line 1: a username is longer than 64 bytes"}},
		{args: forgetArgs("serve", "-log-format", "xml"), code: exitUsage, stderr: []string{"-log-format must be text or json"}},
		{args: forgetArgs("serve", "-db", "app.db", "-path", "api"), code: exitUsage, stderr: []string{"-path must start with /"}},
	})
}

// TestServePresetNATS: forget serve -preset nats: NATS's PATCH
// /api/member/forget, memberid as the lookup, {"result":true} on success,
// over a demo database of the NATS shape (member and its 16 tables),
// every column covered.
func TestServePresetNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built command")
	}
	const key = "s3cret-key-0123456789"
	runSteps(t, map[string]string{"keys.txt": "offerit_admin:" + key + "\n"}, nil)
	dir, _ := os.Getwd() // the child finds the cache directory in $XDG_CACHE_HOME too
	port := freePort(t)
	stop := backgroundForget(t, "serve", "-preset", "nats", "-demo", "200", "-keys", "keys.txt", "-require-coverage", "-addr", "127.0.0.1:"+strconv.Itoa(port))
	const path = "/api/member/forget"
	checkCalls(t, port, []call{
		{"PATCH", path, "offerit_admin", key, "memberid=191", `^200 \{"result":true\}$`},
		{"PATCH", path, "offerit_admin", key, "customer_id=192", `^400 .*unknown parameter \\"customer_id\\"; expected memberid, keep or dry_run`},
		{"PATCH", path, "offerit_admin", key, "memberid=abc", `^400 .*"data":"memberid must be an integer"`},
		{"PATCH", path, "offerit_admin", key, "keep=firstname", `^400 .*"data":"give memberid"`},
		{"PATCH", path, "offerit_admin", key, "memberid=192&keep=EpochTransStats,live_member_loginlog&dry_run=1", `^200 \{"customer_id":"192".*"tables_kept":\["live_member_loginlog","epochtransstats"\].*"dry_run":true`},
		{"PATCH", path, "offerit_admin", key, "memberid=193&keep=MemberCancelStats", `^200 \{"result":true\}$`},
		{"PATCH", "/api/customer/forget", "offerit_admin", key, "customer_id=191", `^404 `},
	})
	code, stdout, stderr := stop()
	if code != exitOK || !regexp.MustCompile(`forget is serving PATCH http://127.0.0.1:[0-9]+/api/member/forget`).MatchString(stdout) ||
		!regexp.MustCompile(`demo SQLite database .*demo-nats.db \(200 members\)`).MatchString(stdout) {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	// The database shows it: member 191 forgotten, its rows gone from
	// every table; 192 untouched (a dry run); 193's cancel statistics kept.
	nats := dir + "/cache/forget/demo-nats.db"
	n := func(query string) [2]string { return [2]string{nats, query} }
	runStepsHere(t, []step{
		{sql: n("SELECT substr(username,1,7), firstname FROM member WHERE memberid = 191"), stdout: []string{`^forgot-\|$`}},
		{sql: n(`SELECT (SELECT COUNT(*) FROM member_openid_access_token WHERE memberid = 191) + (SELECT COUNT(*) FROM live_member_loginlog WHERE memberid = 191) + (SELECT COUNT(*) FROM payze_transaction WHERE memberid = 191) + (SELECT COUNT(*) FROM "EpochTransStats" WHERE memberid = 191)`), stdout: []string{`^0$`}},
		{sql: n("SELECT COUNT(*), min(username) <> '' FROM member WHERE memberid = 192 AND username NOT LIKE 'forgot-%'"), stdout: []string{`^1\|1$`}},
		{sql: n(`SELECT (SELECT COUNT(*) FROM "MemberCancelStats" WHERE memberid = 193), (SELECT COUNT(*) FROM member_temp WHERE memberid = 193)`), stdout: []string{`^1\|0$`}},
		// Every column of the NATS shape is covered; lint agrees.
		{args: forgetArgs("lint", "-preset", "nats", "-db", nats), stdout: []string{"lint: every column that reaches a customer is classified"}},
		// forget init -preset nats makes the same shape, which lint
		// and run accept.
		{args: forgetArgs("init", "-preset", "nats", "-db", "members.db", "-demo", "200"), stdout: []string{"created the NATS member schema in members.db with 200 demo members"}},
		{args: forgetArgs("lint", "-preset", "nats", "-db", "members.db"), stdout: []string{"lint: every column that reaches a customer is classified"}},
		{args: forgetArgs("run", "-preset", "nats", "-db", "members.db", "-customer-id", "191"), stdout: []string{`"customer_id": "191"`}},
		{sql: [2]string{"members.db", "SELECT substr(username,1,7) FROM member WHERE memberid = 191"}, stdout: []string{`^forgot-$`}},
		// The Offerit demo schema covers every column (it retains
		// subscriptions.status and transactions.amount_cents, with
		// reasons); a host column added to it is a hole: serve
		// -require-coverage refuses to start, naming it.
		{args: forgetArgs("init", "-db", "app.db", "-demo", "200")},
		{args: forgetArgs("lint", "-db", "app.db")},
		{sql: q("ALTER TABLE customers ADD COLUMN email TEXT")},
		{args: forgetArgs("serve", "-db", "app.db", "-keys", "keys.txt", "-require-coverage", "-addr", "127.0.0.1:"+strconv.Itoa(port)), code: exitUsage,
			stderr: []string{`coverage: columns that reach a customer are unclassified \(1\): customers.email`}},
		{args: forgetArgs("serve", "-preset", "acme", "-db", "app.db"), code: exitUsage, stderr: []string{"-preset must be offerit or nats"}},
	})
}
