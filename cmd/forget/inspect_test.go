package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/forgetkit/forget/store/sqlstore"
)

// coverEngine is a fresh database with the default schema and 200 demo
// customers, and the flags that name it on the command line.
type coverEngine struct {
	name    string
	dialect sqlstore.Dialect
	db      *sql.DB
	args    []string // -db FILE or -dsn URL
}

// coverEngines opens one database per engine: SQLite always, PostgreSQL
// and MariaDB when their DSNs are set (under CI they must be).
func coverEngines(t *testing.T) []coverEngine {
	t.Helper()
	var out []coverEngine
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	out = append(out, coverEngine{"sqlite", sqlstore.SQLite, db, []string{"-db", path}})
	for _, e := range []struct {
		name, env string
		dialect   sqlstore.Dialect
	}{{"postgres", "FORGET_TEST_POSTGRES", sqlstore.Postgres}, {"mysql", "FORGET_TEST_MYSQL", sqlstore.MySQL}} {
		dsn := os.Getenv(e.env)
		if dsn == "" {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not set; under CI every engine must run", e.env)
			}
			t.Logf("%s is not set: skipping %s", e.env, e.name)
			continue
		}
		name := "forget_cov_" + strings.ToLower(rand.Text()[:10])
		var cliURL string
		switch e.dialect {
		case sqlstore.Postgres:
			admin, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { admin.Exec("DROP SCHEMA " + name + " CASCADE"); admin.Close() })
			u, _ := url.Parse(dsn)
			q := u.Query()
			q.Set("search_path", name)
			u.RawQuery = q.Encode()
			cliURL = u.String()
			if db, err = sql.Open("pgx", cliURL); err != nil {
				t.Fatal(err)
			}
		case sqlstore.MySQL:
			cfg, err := mysql.ParseDSN(dsn)
			if err != nil {
				t.Fatal(err)
			}
			admin, err := sql.Open("mysql", cfg.FormatDSN())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { admin.Exec("DROP DATABASE " + name); admin.Close() })
			cfg.DBName = name
			if db, err = sql.Open("mysql", cfg.FormatDSN()); err != nil {
				t.Fatal(err)
			}
			u := url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + name, User: url.User(cfg.User)}
			if cfg.Passwd != "" {
				u.User = url.UserPassword(cfg.User, cfg.Passwd)
			}
			cliURL = u.String()
		}
		t.Cleanup(func() { db.Close() })
		out = append(out, coverEngine{e.name, e.dialect, db, []string{"-dsn", cliURL}})
	}
	return out
}

// planted marks every value the test plants: no output may show it.
var planted = []string{"7q2x", "203.0.113.77", "7946 0958"}

// hostTables are a host's additions to the default schema: an unmapped
// email, a created_at to retain, support tickets whose free-text message
// holds e-mail addresses, their replies (reached only through a foreign
// key, deleted with their ticket) and order notes (reached only through
// transactions, whose rows a forget keeps).
func hostTables(d sqlstore.Dialect) []string {
	tail := ""
	if d == sqlstore.MySQL {
		tail = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
	}
	return []string{
		"ALTER TABLE customers ADD COLUMN email VARCHAR(255) NULL",
		"ALTER TABLE customers ADD COLUMN created_at VARCHAR(32) NOT NULL DEFAULT ''",
		"CREATE TABLE support_tickets (ticket_id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, message TEXT NOT NULL)" + tail,
		"CREATE INDEX support_tickets_customer ON support_tickets (customer_id)",
		"CREATE TABLE ticket_replies (reply_id BIGINT PRIMARY KEY, ticket_id BIGINT NOT NULL, body TEXT NOT NULL," +
			" CONSTRAINT ticket_replies_fk FOREIGN KEY (ticket_id) REFERENCES support_tickets (ticket_id) ON DELETE CASCADE)" + tail,
		"CREATE TABLE order_notes (note_id BIGINT PRIMARY KEY, orderid BIGINT NOT NULL, body TEXT NOT NULL," +
			" CONSTRAINT order_notes_fk FOREIGN KEY (orderid) REFERENCES transactions (orderid))" + tail,
		"UPDATE customers SET email = 'planted-7q2x@example.org', created_at = '2020-01-02' WHERE customer_id IN (191, 192)",
		"INSERT INTO support_tickets VALUES (1, 191, 'write to secret-7q2x@example.net, +44 20 7946 0958, from 203.0.113.77'), (2, 192, 'me: b7q2x@example.com')",
		"INSERT INTO ticket_replies VALUES (1, 1, 'sent to secret-7q2x@example.net'), (2, 2, 'ok 7q2x')",
		"INSERT INTO order_notes VALUES (1, 19101, 'leave with neighbour 7q2x')",
	}
}

// cli runs the command and returns its exit status and outputs, failing
// the test when either output shows a planted value.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	code := Main(args, nil, &stdout, &stderr)
	for _, v := range planted {
		if strings.Contains(stdout.String()+stderr.String(), v) {
			t.Errorf("forget %s shows the planted value %q:\n%s\n%s", strings.Join(args, " "), v, stdout.String(), stderr.String())
		}
	}
	return code, stdout.String(), stderr.String()
}

// TestInspectLintPropose: on every engine, inspect classifies every
// column of a host schema, lint fails until the mapping covers or retains
// them, and -propose writes a mapping that loads with -schema, passes
// lint and forgets the customer; no output shows a planted value.
func TestInspectLintPropose(t *testing.T) {
	t.Parallel()
	for _, e := range coverEngines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			if err := sqlstore.CreateSchema(ctx, e.db, e.dialect); err != nil {
				t.Fatal(err)
			}
			if err := seedDemo(ctx, e.db, e.dialect, 200); err != nil {
				t.Fatal(err)
			}
			for _, st := range hostTables(e.dialect) {
				if _, err := e.db.Exec(st); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			dir := t.TempDir()
			retain := sqlstore.DefaultSchema()
			retain.Retain = map[string]string{"customers.created_at": "accounting, 10 years"}
			retainFile := filepath.Join(dir, "retain.json")
			writeJSON(t, retainFile, retain)

			code, out, errOut := runCLI(t, append([]string{"inspect", "-format", "json", "-sample", "50", "-schema", retainFile}, e.args...)...)
			if code != exitOK {
				t.Fatalf("inspect: exit %d: %s", code, errOut)
			}
			var cov sqlstore.Coverage
			if err := json.Unmarshal([]byte(out), &cov); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, tc := range cov.Tables {
				for _, c := range tc.Columns {
					v := string(c.Class)
					if c.LikelyPersonal {
						v += "!"
					}
					got[tc.Table+"."+c.Column] = v
				}
			}
			for col, want := range map[string]string{
				"customers.customer_id": "key", "customers.firstname": "erased", "customers.email": "unclassified!",
				"customers.created_at": "retained", "subscriptions.status": "unclassified", "transactions.amount_cents": "unclassified",
				"member_note.note": "erased", "support_tickets.ticket_id": "key", "support_tickets.customer_id": "key",
				"support_tickets.message": "unclassified!", "ticket_replies.reply_id": "key", "ticket_replies.ticket_id": "key",
				"ticket_replies.body": "unclassified!", "order_notes.orderid": "key", "order_notes.body": "unclassified!",
				"forget_audit.customer_id": "retained",
			} {
				if got[col] != want {
					t.Errorf("%s: %q, want %q", col, got[col], want)
				}
			}
			if len(got) != 24+3+3+4+3+3+3+3+15+2 {
				t.Errorf("%d columns classified: %v", len(got), got)
			}

			code, out, _ = runCLI(t, append([]string{"inspect", "-sample", "50", "-schema", retainFile}, e.args...)...)
			for _, want := range []string{
				"ticket_replies (through ticket_id → support_tickets)\n",
				"retained      accounting, 10 years\n",
				"unclassified  LIKELY PERSONAL: its name contains message; sampled 2: 2 e-mail, 1 phone, 1 IP\n",
				"63 columns in 9 tables reach a customer: 30 erased, 11 keys, 16 retained, 6 unclassified, 4 of them likely personal\n",
			} {
				if code != exitOK || !strings.Contains(out, want) {
					t.Errorf("inspect text (exit %d) does not say %q:\n%s", code, want, out)
				}
			}

			code, out, errOut = runCLI(t, append([]string{"lint", "-schema", retainFile}, e.args...)...)
			if code != exitFailed || !strings.Contains(out, "customers.email: unclassified, likely personal (its name contains email)\n") ||
				!strings.Contains(out, "subscriptions.status: unclassified\n") || !strings.Contains(errOut, "lint: 6 columns to classify") {
				t.Errorf("lint: exit %d\n%s\n%s", code, out, errOut)
			}
			code, out, errOut = runCLI(t, append([]string{"lint", "-personal-only", "-schema", retainFile}, e.args...)...)
			if code != exitFailed || strings.Contains(out, "subscriptions.status") || !strings.Contains(errOut, "lint: 4 columns to classify") {
				t.Errorf("lint -personal-only: exit %d\n%s\n%s", code, out, errOut)
			}

			code, out, errOut = runCLI(t, append([]string{"inspect", "-propose"}, e.args...)...)
			if code != exitOK || !strings.Contains(errOut, "review: field email: customers.email looks personal") {
				t.Fatalf("inspect -propose: exit %d\n%s", code, errOut)
			}
			proposed := filepath.Join(dir, "proposed.json")
			if err := os.WriteFile(proposed, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut = runCLI(t, append([]string{"lint", "-schema", proposed}, e.args...)...)
			if code != exitOK || !strings.Contains(out, "lint: every column that reaches a customer is classified") {
				t.Errorf("lint of the proposal: exit %d\n%s\n%s", code, out, errOut)
			}
			if code, _, _ := runCLI(t, append([]string{"lint", "-review", "-schema", proposed}, e.args...)...); code != exitFailed {
				t.Errorf("lint -review of an unreviewed proposal: exit %d, want 1", code)
			}
			code, out, errOut = runCLI(t, append([]string{"run", "-schema", proposed, "-customer-id", "191"}, e.args...)...)
			if code != exitOK {
				t.Fatalf("run with the proposal: exit %d\n%s\n%s", code, out, errOut)
			}
			for _, q := range []struct{ query, want string }{
				{"SELECT COUNT(*) FROM customers WHERE customer_id = 191 AND email IS NULL AND firstname = ''", "1"},
				{"SELECT COUNT(*) FROM customers WHERE customer_id = 192 AND email IS NOT NULL", "1"},
				{"SELECT COUNT(*) FROM support_tickets WHERE customer_id = 191", "0"},
				{"SELECT COUNT(*) FROM ticket_replies WHERE ticket_id = 1", "0"},
				{"SELECT COUNT(*) FROM ticket_replies WHERE ticket_id = 2", "1"},
				{"SELECT COUNT(*) FROM order_notes", "1"},
			} {
				var n string
				if err := e.db.QueryRow(q.query).Scan(&n); err != nil || n != q.want {
					t.Errorf("%s: %s, %v; want %s", q.query, n, err, q.want)
				}
			}
		})
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestInspectUsage: bad flags are usage errors (2) that change nothing.
func TestInspectUsage(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.db")
	if code, _, errOut := runCLI(t, "init", "-db", path, "-demo", "200"); code != exitOK {
		t.Fatal(errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"inspect"}, "inspect needs -db FILE or -dsn URL"},
		{[]string{"inspect", "-db", path, "-format", "xml"}, "-format must be text or json"},
		{[]string{"inspect", "-db", path, "-sample", "-1"}, "-sample must be 0 to 100000"},
		{[]string{"inspect", "-db", path, "-sample", "1000000"}, "-sample must be 0 to 100000"},
		{[]string{"inspect", "-db", path, "-propose", "-sample", "3"}, "-propose writes a mapping"},
		{[]string{"inspect", "-db", path, "-preset", "acme"}, "-preset must be offerit or nats"},
		{[]string{"lint", "-db", path, "-preset", "nats"}, "table member does not exist"},
		{[]string{"lint"}, "lint needs -db FILE or -dsn URL"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code == exitOK || !strings.Contains(errOut, tc.want) {
			t.Errorf("forget %s: exit %d, %q; want an error saying %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}

// TestDisplayEscapes: names from the catalogue reach the terminal quoted
// when they hold spaces or control characters (an escape sequence in a
// table name must not recolour or rewrite the report).
func TestDisplayEscapes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"customers":       "customers",
		"Mixed_Case9":     "Mixed_Case9",
		"odd table":       `"odd table"`,
		"evil\x1b[2Jname": `"evil\x1b[2Jname"`,
		"":                `""`,
		"naïve":           "naïve",
	} {
		if got := display(in); got != want {
			t.Errorf("display(%q) = %s, want %s", in, got, want)
		}
	}
	if got := printable("through a\nb → c\x07"); got != `through a\nb → c\a` {
		t.Errorf("printable: %s", got)
	}
}
