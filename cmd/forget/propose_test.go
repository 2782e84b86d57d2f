package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
)

// proposeTypes are the column types of the propose schemas on one
// engine: the customers key (bigint on SQLite, uuid on PostgreSQL,
// MariaDB's native UUID), a table's own id, a text.
type proposeTypes struct{ key, id, text string }

func typesFor(d sqlstore.Dialect) proposeTypes {
	switch d {
	case sqlstore.Postgres:
		return proposeTypes{"UUID", "BIGINT PRIMARY KEY", "VARCHAR(200)"}
	case sqlstore.MySQL:
		return proposeTypes{"UUID", "BIGINT PRIMARY KEY", "VARCHAR(200)"}
	}
	return proposeTypes{"INTEGER", "INTEGER PRIMARY KEY", "VARCHAR(200)"}
}

// userKey is customer n's key as a SQL literal and as the engine reads
// it back.
func userKey(d sqlstore.Dialect, n int) (literal, text string) {
	if d == sqlstore.SQLite {
		return fmt.Sprint(n), fmt.Sprint(n)
	}
	u := fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	return "'" + u + "'", u
}

// railsSchema: every table keyed by its own id, as Rails, Django and
// Laravel make them. visits.user_id has no foreign key but holds user
// ids; imports.user_id holds values that are no user's; tasks point at
// the user assigned to them.
func railsSchema(d sqlstore.Dialect) []string {
	ty := typesFor(d)
	k := func(n int) string { l, _ := userKey(d, n); return l }
	st := []string{
		`CREATE TABLE users (id ` + ty.key + ` PRIMARY KEY, email ` + ty.text + `, username ` + ty.text + ` NOT NULL, first_name ` + ty.text + `, last_name ` + ty.text + `)`,
		`CREATE TABLE products (id ` + ty.id + `, title ` + ty.text + `, price_cents BIGINT)`,
		`CREATE TABLE notes (id ` + ty.id + `, user_id ` + ty.key + ` NOT NULL, body ` + ty.text + `, FOREIGN KEY (user_id) REFERENCES users (id))`,
		`CREATE TABLE login_events (id ` + ty.id + `, user_id ` + ty.key + ` NOT NULL, ip ` + ty.text + `, FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE)`,
		`CREATE TABLE visits (id ` + ty.id + `, user_id ` + ty.key + `, path ` + ty.text + `)`,
		`CREATE TABLE imports (id ` + ty.id + `, user_id ` + ty.key + `, source ` + ty.text + `)`,
		`CREATE TABLE tasks (id ` + ty.id + `, assignee_id ` + ty.key + `, title ` + ty.text + `, FOREIGN KEY (assignee_id) REFERENCES users (id))`,
	}
	for n := 1; n <= 3; n++ {
		st = append(st,
			fmt.Sprintf(`INSERT INTO users VALUES (%s, 'u%d@example.org', 'user%d', 'First%d', 'Last%d')`, k(n), n, n, n, n),
			fmt.Sprintf(`INSERT INTO products VALUES (%d, 'product %d', %d)`, n, n, n*100))
	}
	for n := 1; n <= 3; n++ {
		st = append(st,
			// Note n belongs to the next user: note 2 is user 3's.
			fmt.Sprintf(`INSERT INTO notes VALUES (%d, %s, 'note of user %d')`, n, k(n%3+1), n%3+1),
			fmt.Sprintf(`INSERT INTO login_events VALUES (%d, %s, '198.51.100.%d')`, n, k(n), n),
			fmt.Sprintf(`INSERT INTO visits VALUES (%d, %s, '/page/%d')`, n, k(n), n),
			fmt.Sprintf(`INSERT INTO imports VALUES (%d, %s, 'batch %d')`, n, k(900+n), n),
			fmt.Sprintf(`INSERT INTO tasks VALUES (%d, %s, 'task %d')`, n, k(n), n),
		)
	}
	return st
}

// shopSchema: addresses have more catalogue-named columns than users,
// orders point at an address (NO ACTION), order items carry gift
// messages, the newsletter is keyed by e-mail.
func shopSchema(d sqlstore.Dialect) []string {
	ty := typesFor(d)
	k := func(n int) string { l, _ := userKey(d, n); return l }
	t := ty.text
	st := []string{
		`CREATE TABLE users (id ` + ty.key + ` PRIMARY KEY, username ` + t + ` NOT NULL, email ` + t + `, password ` + t + `)`,
		`CREATE TABLE addresses (id ` + ty.id + `, user_id ` + ty.key + ` NOT NULL, firstname ` + t + `, lastname ` + t + `, address1 ` + t + `, address2 ` + t + `, city ` + t + `, zip ` + t + `, country ` + t + `, phone ` + t + `, FOREIGN KEY (user_id) REFERENCES users (id))`,
		`CREATE TABLE products (id ` + ty.id + `, title ` + t + `)`,
		`CREATE TABLE orders (id ` + ty.id + `, user_id ` + ty.key + ` NOT NULL, shipping_address_id BIGINT, ship_city ` + t + `, FOREIGN KEY (user_id) REFERENCES users (id), FOREIGN KEY (shipping_address_id) REFERENCES addresses (id))`,
		`CREATE TABLE order_items (id ` + ty.id + `, order_id BIGINT NOT NULL, product_id BIGINT, gift_message ` + t + `, FOREIGN KEY (order_id) REFERENCES orders (id), FOREIGN KEY (product_id) REFERENCES products (id))`,
		`CREATE TABLE newsletter (email ` + t + ` PRIMARY KEY, created_at ` + t + `)`,
		`CREATE TABLE tickets (id ` + ty.id + `, user_id ` + ty.key + ` NOT NULL, body ` + t + `, FOREIGN KEY (user_id) REFERENCES users (id))`,
	}
	for n := 1; n <= 3; n++ {
		st = append(st,
			fmt.Sprintf(`INSERT INTO users VALUES (%s, 'user%d', 'u%d@example.org', 'hash%d')`, k(n), n, n, n),
			fmt.Sprintf(`INSERT INTO addresses VALUES (%d, %s, 'First%d', 'Last%d', '%d Main St', '', 'Town%d', '1000%d', 'NL', '+3120555000%d')`, n, k(n), n, n, n, n, n, n),
			fmt.Sprintf(`INSERT INTO addresses VALUES (%d, %s, 'First%d', 'Last%d', '%d Side St', '', 'Town%d', '2000%d', 'NL', '')`, 10+n, k(n), n, n, n, n, n),
			fmt.Sprintf(`INSERT INTO products VALUES (%d, 'product %d')`, n, n))
	}
	for n := 1; n <= 3; n++ {
		st = append(st,
			fmt.Sprintf(`INSERT INTO orders VALUES (%d, %s, %d, 'Town%d')`, n, k(n), n, n),
			fmt.Sprintf(`INSERT INTO newsletter VALUES ('u%d@example.org', '2026-01-0%d')`, n, n),
			fmt.Sprintf(`INSERT INTO tickets VALUES (%d, %s, 'ticket of user %d')`, n, k(n), n),
		)
	}
	for n := 1; n <= 3; n++ {
		st = append(st, fmt.Sprintf(`INSERT INTO order_items VALUES (%d, %d, %d, 'for my partner, call +3120555000%d')`, n, n, n%3+1, n))
	}
	return st
}

// dumpOthers dumps every row of tables but the forgotten customer's own
// (users.id, or user_id, equal to key), one sorted line per row.
func dumpOthers(t *testing.T, db *sql.DB, key string, tables ...string) string {
	t.Helper()
	var out []string
	for _, table := range tables {
		rows, err := db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			line, own := table, false
			for i, c := range cols {
				v := "NULL"
				if vals[i] != nil {
					v = "'" + string(vals[i]) + "'"
				}
				if (c == "user_id" || table == "users" && c == "id") && strings.EqualFold(string(vals[i]), key) {
					own = true
				}
				line += " " + c + "=" + v
			}
			if !own {
				out = append(out, line)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func count(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestProposeCannotHarm: on every engine, on a Rails-style schema and a
// shop schema, inspect -propose writes a mapping that lint accepts as it
// is, and 'forget run' with it for one customer leaves every other row
// (other customers', products, unrelated tables) byte-identical, while
// the customer's own rows that the proposal maps are gone.
func TestProposeCannotHarm(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines(t) {
		for _, sc := range []struct {
			name    string
			ddl     func(sqlstore.Dialect) []string
			tables  []string
			review  []string // lines the review must hold
			gone    []string // the customer's rows, counted: 0 after
			kept    []string // the customer's rows left: unchanged count after
			notJSON []string // what the mapping must not hold
		}{
			{
				name:   "rails",
				ddl:    railsSchema,
				tables: []string{"users", "products", "notes", "login_events", "visits", "imports", "tasks"},
				review: []string{
					"review: customers: table users keyed by id",
					"review: table visits: column user_id has no foreign key to users, but its name and every value sampled match customer keys",
					"review: table imports: column user_id is named like the customer key, but some of its values are not the key of any customer; left out",
				},
				gone:    []string{"notes WHERE user_id = %s", "login_events WHERE user_id = %s", "visits WHERE user_id = %s"},
				kept:    []string{"imports", "products", "tasks"},
				notJSON: []string{`"imports"`, `"products"`, `"tasks": {`, `"customer_key": "id"`},
			},
			{
				name:   "shop",
				ddl:    shopSchema,
				tables: []string{"users", "addresses", "products", "orders", "order_items", "newsletter", "tickets"},
				review: []string{
					"review: customers: table users keyed by id",
					"review: table addresses: not purged after all: table orders refers to the rows a forget would delete (orders(shipping_address_id) -> addresses(id), ON DELETE ",
				},
				gone:    []string{"tickets WHERE user_id = %s"},
				kept:    []string{"addresses WHERE user_id = %s", "orders WHERE user_id = %s", "order_items", "newsletter"},
				notJSON: []string{`"addresses": {`, `"customer_key": "id"`, `"order_items": {`, `"newsletter": {`},
			},
		} {
			t.Run(e.Name+"/"+sc.name, func(t *testing.T) {
				tdb := e.Open(t)
				db := tdb.DB
				for _, st := range append(sc.ddl(e.Dialect), sqlstore.AuditDDL(e.Dialect, sqlstore.DefaultAuditTable)...) {
					if _, err := db.Exec(st); err != nil {
						t.Fatalf("%s: %v", st, err)
					}
				}
				args := dbArgs(e, tdb)
				code, mapping, errOut := runMain(append([]string{"inspect", "-propose"}, args...)...)
				if code != exitOK {
					t.Fatalf("inspect -propose: exit %d\n%s", code, errOut)
				}
				for _, want := range sc.review {
					if !strings.Contains(errOut, want) {
						t.Errorf("the review does not say %q:\n%s", want, errOut)
					}
				}
				for _, bad := range sc.notJSON {
					if strings.Contains(mapping, bad) {
						t.Errorf("the mapping holds %s:\n%s", bad, mapping)
					}
				}
				file := filepath.Join(t.TempDir(), "mapping.json")
				if err := os.WriteFile(file, []byte(mapping), 0o600); err != nil {
					t.Fatal(err)
				}
				// It loads as it is.
				if code, out, errOut := runMain(append([]string{"lint", "-schema", file}, args...)...); code != exitOK {
					t.Fatalf("lint of the proposal: exit %d\n%s\n%s\n%s", code, out, errOut, mapping)
				}

				lit, key := userKey(e.Dialect, 2)
				before := dumpOthers(t, db, key, sc.tables...)
				counts := map[string]int{}
				for _, q := range append(sc.gone, sc.kept...) {
					q = "SELECT COUNT(*) FROM " + strings.ReplaceAll(q, "%s", lit)
					counts[q] = count(t, db, q)
				}
				if code, out, errOut := runMain(append([]string{"run", "-schema", file, "-customer-id", key}, args...)...); code != exitOK {
					t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
				}
				if after := dumpOthers(t, db, key, sc.tables...); after != before {
					t.Errorf("the forget changed other rows:\nbefore:\n%s\nafter:\n%s", before, after)
				}
				for _, q := range sc.gone {
					q = "SELECT COUNT(*) FROM " + strings.ReplaceAll(q, "%s", lit)
					if n := count(t, db, q); counts[q] == 0 || n != 0 {
						t.Errorf("%s: %d before, %d after; want some, then none", q, counts[q], n)
					}
				}
				for _, q := range sc.kept {
					q = "SELECT COUNT(*) FROM " + strings.ReplaceAll(q, "%s", lit)
					if n := count(t, db, q); n != counts[q] {
						t.Errorf("%s: %d before, %d after", q, counts[q], n)
					}
				}
				if n := count(t, db, "SELECT COUNT(*) FROM users WHERE id = "+lit+" AND email IS NULL AND username <> 'user2'"); n != 1 {
					t.Errorf("user 2's email and username are not erased (%d rows)", n)
				}
			})
		}
	}
}

// TestProposeExitsWhenUnsure: -propose exits 1 and says why when the
// customers table is uncertain (naming -customers) or when its mapping
// would not load as it is (here an audit table lacking a column: lint
// and run would refuse it), printing the mapping all the same; and
// -customers goes with -propose only.
func TestProposeExitsWhenUnsure(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, st := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL)`,
		`CREATE TABLE members (id INTEGER PRIMARY KEY, username TEXT NOT NULL)`,
		`CREATE TABLE a (id INTEGER PRIMARY KEY, user_id BIGINT REFERENCES users (id))`,
		`CREATE TABLE b (id INTEGER PRIMARY KEY, member_id BIGINT REFERENCES members (id))`,
	} {
		if _, err := db.Exec(st); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runMain("inspect", "-db", path, "-audit-table", "", "-propose")
	if code != exitFailed || out != "" || !strings.Contains(errOut, "name the customers table (-customers TABLE)") {
		t.Errorf("two candidates: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runMain("inspect", "-db", path, "-audit-table", "", "-propose", "-customers", "users")
	if code != exitOK || !strings.Contains(out, `"table": "users"`) || !strings.Contains(errOut, "review: customers: table users keyed by id (int key), named with -customers") {
		t.Errorf("-customers users: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runMain("inspect", "-db", path, "-customers", "users"); code != exitUsage || !strings.Contains(errOut, "-customers goes with -propose") {
		t.Errorf("-customers without -propose: exit %d\n%s", code, errOut)
	}
	for _, st := range append(sqlstore.AuditDDL(sqlstore.SQLite, "my_audit"), `ALTER TABLE my_audit DROP COLUMN tables_kept`) {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	code, out, errOut = runMain("inspect", "-db", path, "-audit-table", "my_audit", "-propose", "-customers", "users")
	if code != exitFailed || !strings.Contains(out, `"table": "users"`) ||
		!strings.Contains(errOut, "inspect: the proposed mapping does not load as it is") || !strings.Contains(errOut, "column my_audit.tables_kept does not exist") {
		t.Errorf("an audit table lacking columns: exit %d\n%s\n%s", code, out, errOut)
	}
}
