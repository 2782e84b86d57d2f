package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/forgetkit/forget/store/sqlstore"
)

// TestRunOnServers runs `forget run -dsn` against PostgreSQL and MariaDB,
// each in a database of its own seeded with demo customers: the URL forms
// the README shows, and the MySQL URL's translation to the driver's DSN.
func TestRunOnServers(t *testing.T) {
	for _, e := range []struct {
		name, env string
		dialect   sqlstore.Dialect
	}{
		{"postgres", "FORGET_TEST_POSTGRES", sqlstore.Postgres},
		{"mysql", "FORGET_TEST_MYSQL", sqlstore.MySQL},
	} {
		t.Run(e.name, func(t *testing.T) {
			dsn := os.Getenv(e.env)
			if dsn == "" {
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s is not set; under CI every engine must run", e.env)
				}
				t.Skipf("%s is not set", e.env)
			}
			name := "forget_cli_" + strings.ToLower(rand.Text()[:10])
			var cliURL string
			var db *sql.DB
			var err error
			switch e.dialect {
			case sqlstore.Postgres:
				admin, err := sql.Open("pgx", dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer admin.Close()
				if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
					t.Fatal(err)
				}
				defer admin.Exec("DROP SCHEMA " + name + " CASCADE")
				u, _ := url.Parse(dsn)
				q := u.Query()
				q.Set("search_path", name)
				u.RawQuery = q.Encode()
				cliURL = u.String()
				db, err = sql.Open("pgx", cliURL)
				if err != nil {
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
				defer admin.Close()
				if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
					t.Fatal(err)
				}
				defer admin.Exec("DROP DATABASE " + name)
				cfg.DBName = name
				db, err = sql.Open("mysql", cfg.FormatDSN())
				if err != nil {
					t.Fatal(err)
				}
				u := url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + name}
				if cfg.Passwd != "" {
					u.User = url.UserPassword(cfg.User, cfg.Passwd)
				} else {
					u.User = url.User(cfg.User)
				}
				cliURL = u.String()
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			if err := sqlstore.CreateSchema(ctx, db, e.dialect); err != nil {
				t.Fatal(err)
			}
			if err := seedDemo(ctx, db, e.dialect, 200); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr strings.Builder
			code := Main([]string{"run", "-dsn", cliURL, "-orderid", "19101", "-keep", "firstname"}, nil, &stdout, &stderr)
			if code != exitOK || !strings.Contains(stdout.String(), `"customer_id": "191"`) {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
			}
			var username, firstname, lastname string
			var notes, audits int
			q := "SELECT username, firstname, lastname FROM customers WHERE customer_id = 191"
			if err := db.QueryRow(q).Scan(&username, &firstname, &lastname); err != nil {
				t.Fatal(err)
			}
			db.QueryRow("SELECT COUNT(*) FROM member_note WHERE customer_id = 191").Scan(&notes)
			db.QueryRow("SELECT COUNT(*) FROM forget_audit WHERE customer_id = '191'").Scan(&audits)
			if !strings.HasPrefix(username, "forgot-") || firstname == "" || lastname != "" || notes != 0 || audits != 1 {
				t.Errorf("after forget: pseudonym %v, firstname kept %v, lastname erased %v, notes %d, audit records %d",
					strings.HasPrefix(username, "forgot-"), firstname != "", lastname == "", notes, audits)
			}
			stdout.Reset()
			stderr.Reset()
			if code := Main([]string{"audit", "-dsn", cliURL}, nil, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), `"customer_id":"191"`) {
				t.Errorf("audit: exit %d, %s %s", code, stdout.String(), stderr.String())
			}
		})
	}
}
