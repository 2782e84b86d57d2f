package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// shopDDL is a shop's schema as hosts have them: users keyed by id (uuid
// on PostgreSQL, native UUID on MariaDB, integer on SQLite) pointing to a
// home address (and on to a country), phones through a link table,
// orders with a shipping name, order items with a gift message and a
// product, a newsletter keyed by e-mail address and linked by value only,
// a JSON profile, login events with an IP address and a byte payload,
// contacts keyed by (user, handle), an opt-in keyed by (user, email), on
// PostgreSQL a text[] of aliases and a materialized view; a view over
// users, settings and a view over them that reach nobody, and a table in
// a second schema (database) archive.
func shopDDL(d sqlstore.Dialect, archive string) []string {
	id, js, bin, ip, tail := "INTEGER", "JSON", "BLOB", "VARCHAR(45)", ""
	switch d {
	case sqlstore.Postgres:
		id, js, bin, ip = "uuid", "jsonb", "bytea", "inet"
	case sqlstore.MySQL:
		id, tail = "UUID", " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
	}
	r := strings.NewReplacer("ID", id, "JS", js, "BIN", bin, "IP", ip)
	stmts := []string{
		`CREATE TABLE countries (id ID PRIMARY KEY, name VARCHAR(64) NOT NULL)`,
		`CREATE TABLE addresses (id ID PRIMARY KEY, line1 VARCHAR(200) NOT NULL, city VARCHAR(64) NOT NULL, country_id ID NULL,
  FOREIGN KEY (country_id) REFERENCES countries (id))`,
		`CREATE TABLE users (id ID PRIMARY KEY, email VARCHAR(191) NOT NULL, full_name VARCHAR(100) NOT NULL, home_address_id ID NULL,
  FOREIGN KEY (home_address_id) REFERENCES addresses (id))`,
		`CREATE TABLE phones (id ID PRIMARY KEY, number VARCHAR(32) NOT NULL)`,
		`CREATE TABLE customer_phones (user_id ID NOT NULL, phone_id ID NOT NULL, PRIMARY KEY (user_id, phone_id),
  FOREIGN KEY (user_id) REFERENCES users (id), FOREIGN KEY (phone_id) REFERENCES phones (id))`,
		`CREATE TABLE products (id ID PRIMARY KEY, title VARCHAR(200) NOT NULL)`,
		`CREATE TABLE orders (id ID PRIMARY KEY, user_id ID NOT NULL, ship_name VARCHAR(100) NOT NULL,
  FOREIGN KEY (user_id) REFERENCES users (id))`,
		`CREATE TABLE order_items (id ID PRIMARY KEY, order_id ID NOT NULL, product_id ID NOT NULL, gift_message TEXT NULL,
  FOREIGN KEY (order_id) REFERENCES orders (id), FOREIGN KEY (product_id) REFERENCES products (id))`,
		`CREATE TABLE newsletter (email VARCHAR(191) PRIMARY KEY, optin_at VARCHAR(32) NOT NULL DEFAULT '')`,
		`CREATE TABLE profiles (user_id ID PRIMARY KEY, data JS NULL, FOREIGN KEY (user_id) REFERENCES users (id))`,
		`CREATE TABLE login_events (id ID PRIMARY KEY, user_id ID NOT NULL, ip IP NULL, payload BIN NULL,
  FOREIGN KEY (user_id) REFERENCES users (id))`,
		`CREATE TABLE contacts (user_id ID NOT NULL, handle VARCHAR(64) NOT NULL, PRIMARY KEY (user_id, handle))`,
		`CREATE TABLE optin (user_id ID NOT NULL, email VARCHAR(191) NOT NULL, PRIMARY KEY (user_id, email))`,
		`CREATE TABLE settings (name VARCHAR(64) PRIMARY KEY, value TEXT NULL)`,
		`CREATE VIEW user_directory AS SELECT u.full_name, u.email FROM users u`,
		`CREATE VIEW setting_names AS SELECT name FROM settings`,
	}
	for i, st := range stmts {
		stmts[i] = r.Replace(st)
		if strings.HasPrefix(st, "CREATE TABLE") {
			stmts[i] += tail
		}
	}
	switch d {
	case sqlstore.Postgres:
		stmts = append(stmts,
			`CREATE TABLE tags (user_id uuid NOT NULL, aliases text[] NULL)`,
			`CREATE MATERIALIZED VIEW customer_directory AS SELECT u.full_name, p.number FROM users u
  JOIN customer_phones cp ON cp.user_id = u.id JOIN phones p ON p.id = cp.phone_id`,
			`CREATE SCHEMA `+archive,
			`CREATE TABLE `+archive+`.old_users (id uuid PRIMARY KEY, email text)`)
	case sqlstore.MySQL:
		stmts = append(stmts, `CREATE DATABASE `+archive,
			`CREATE TABLE `+archive+`.old_users (id UUID PRIMARY KEY, email VARCHAR(191))`+tail)
	}
	return stmts
}

// shopKey is customer (or row) n's key as a literal of the dialect.
func shopKey(d sqlstore.Dialect, n int) string {
	if d == sqlstore.SQLite {
		return string(rune('0' + n))
	}
	return "'00000000-0000-0000-0000-00000000000" + string(rune('0'+n)) + "'"
}

// shopData: users 1 and 2, each with an address, two phones (user 1) or
// one, an order with an item, a profile, a login event, a contact and an
// opt-in; every value holds the plant marker or a planted value.
func shopData(d sqlstore.Dialect) []string {
	k := func(n int) string { return shopKey(d, n) }
	payload := `'mail planted-` + plant + `@example.org'`
	aliases := ""
	switch d {
	case sqlstore.Postgres:
		payload = `convert_to(` + payload + `, 'UTF8')`
		aliases = `INSERT INTO tags (user_id, aliases) VALUES (` + k(1) + `, ARRAY['alias-` + plant + `@example.org', 'x'])`
	case sqlstore.SQLite:
		payload = `CAST(` + payload + ` AS BLOB)`
	}
	stmts := []string{
		`INSERT INTO countries (id, name) VALUES (` + k(1) + `, 'Plantland ` + plant + `')`,
		`INSERT INTO addresses (id, line1, city, country_id) VALUES (` + k(1) + `, '1 Planted Road ` + plant + `', 'Plantcity', ` + k(1) + `), (` + k(2) + `, '2 Other ` + plant + `', 'Elsewhere', NULL)`,
		`INSERT INTO users (id, email, full_name, home_address_id) VALUES (` + k(1) + `, 'planted-` + plant + `@example.org', 'Plantedfirst ` + plant + `', ` + k(1) + `),
  (` + k(2) + `, 'second-` + plant + `@example.org', 'Second ` + plant + `', ` + k(2) + `)`,
		`INSERT INTO phones (id, number) VALUES (` + k(1) + `, '+44 20 7946 0958'), (` + k(2) + `, '+44 20 7946 0959'), (` + k(3) + `, '+44 20 7946 0960')`,
		`INSERT INTO customer_phones (user_id, phone_id) VALUES (` + k(1) + `, ` + k(1) + `), (` + k(1) + `, ` + k(2) + `), (` + k(2) + `, ` + k(3) + `)`,
		`INSERT INTO products (id, title) VALUES (` + k(1) + `, 'Widget ` + plant + `')`,
		`INSERT INTO orders (id, user_id, ship_name) VALUES (` + k(1) + `, ` + k(1) + `, 'Plantedfirst ` + plant + `'), (` + k(2) + `, ` + k(2) + `, 'Second ` + plant + `')`,
		`INSERT INTO order_items (id, order_id, product_id, gift_message) VALUES (` + k(1) + `, ` + k(1) + `, ` + k(1) + `, 'call me on +44 20 7946 0958 ` + plant + `')`,
		`INSERT INTO newsletter (email) VALUES ('planted-` + plant + `@example.org')`,
		`INSERT INTO profiles (user_id, data) VALUES (` + k(1) + `, '{"phone": "+44 20 7946 0958", "birth": "1990-01-01", "m": "` + plant + `"}')`,
		`INSERT INTO login_events (id, user_id, ip, payload) VALUES (` + k(1) + `, ` + k(1) + `, '198.51.100.23', ` + payload + `)`,
		`INSERT INTO contacts (user_id, handle) VALUES (` + k(1) + `, '+44 20 7946 0958'), (` + k(2) + `, '+44 20 7946 0959')`,
		`INSERT INTO optin (user_id, email) VALUES (` + k(1) + `, 'planted-` + plant + `@example.org')`,
	}
	if aliases != "" {
		stmts = append(stmts, aliases)
	}
	if d == sqlstore.Postgres {
		stmts = append(stmts, `REFRESH MATERIALIZED VIEW customer_directory`)
	}
	return stmts
}

// createShop creates shopDDL and shopData in a fresh database; archive is
// its second schema ("" on SQLite).
func createShop(t testing.TB, e engine) (db *sql.DB, archive string) {
	t.Helper()
	db, ns := e.open(t)
	if e.dialect != sqlstore.SQLite {
		archive = ns + "_archive"
		t.Cleanup(func() {
			drop := "DROP SCHEMA " + archive + " CASCADE"
			if e.dialect == sqlstore.MySQL {
				drop = "DROP DATABASE " + archive
			}
			db.Exec(drop)
		})
	}
	for _, st := range append(shopDDL(e.dialect, archive), shopData(e.dialect)...) {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	return db, archive
}

// shopMapping maps users (two extension fields) and orders (scrubbed);
// withVia adds order_items, reached by value from orders.id and scrubbed,
// and newsletter, reached by lower(trim(email)) from users.email and
// purged.
func shopMapping(d sqlstore.Dialect, withVia bool) (sqlstore.Schema, forget.Catalogue) {
	kt := sqlstore.KeyUUID
	if d == sqlstore.SQLite {
		kt = sqlstore.KeyInt
	}
	s := sqlstore.Schema{
		Customers: sqlstore.CustomerTable{Table: "users", Key: "id", KeyType: kt},
		Fields:    map[forget.Field]sqlstore.Column{"email": {Column: "email"}, "full_name": {Column: "full_name"}},
		Tables:    map[forget.Table]sqlstore.RelatedTable{"orders": {Table: "orders", CustomerKey: "user_id"}},
	}
	cat := forget.Catalogue{
		Fields: []forget.FieldSpec{{Name: "email", Rule: forget.Empty()}, {Name: "full_name", Rule: forget.Empty()}},
		Tables: []forget.TableSpec{{Name: "orders", Scrub: []forget.ColumnRule{{Column: "ship_name", Rule: forget.Empty()}}}},
	}
	if withVia {
		s.Tables["order_items"] = sqlstore.RelatedTable{Table: "order_items", Via: &sqlstore.Via{Column: "order_id", From: "orders.id"}}
		s.Tables["newsletter"] = sqlstore.RelatedTable{Table: "newsletter", Via: &sqlstore.Via{Column: "email", From: "users.email", Normalize: "lower_trim"}}
		cat.Tables = append(cat.Tables,
			forget.TableSpec{Name: "order_items", Scrub: []forget.ColumnRule{{Column: "gift_message", Rule: forget.Null()}}},
			forget.TableSpec{Name: "newsletter"})
	}
	return s, cat
}

// wantShop is how Cover classifies every column of shopDDL under
// shopMapping(withVia); a "!" marks a likely personal column; PostgreSQL
// adds tags and customer_directory.
var wantShop = map[string]string{
	"users.id": "key", "users.email": "erased", "users.full_name": "erased", "users.home_address_id": "key",
	"addresses.id": "key", "addresses.line1": "unclassified", "addresses.city": "unclassified!", "addresses.country_id": "key",
	"countries.id": "key", "countries.name": "unclassified!",
	"phones.id": "key", "phones.number": "unclassified",
	"customer_phones.user_id": "key", "customer_phones.phone_id": "key",
	"products.id": "key", "products.title": "unclassified",
	"orders.id": "key", "orders.user_id": "key", "orders.ship_name": "erased",
	"order_items.id": "key", "order_items.order_id": "key", "order_items.product_id": "key", "order_items.gift_message": "erased",
	"newsletter.email": "erased", "newsletter.optin_at": "erased",
	"profiles.user_id": "key", "profiles.data": "unclassified",
	"login_events.id": "key", "login_events.user_id": "key", "login_events.ip": "unclassified!", "login_events.payload": "unclassified",
	"contacts.user_id": "key", "contacts.handle": "key",
	"optin.user_id": "key", "optin.email": "unclassified!",
	"user_directory.full_name": "unclassified!", "user_directory.email": "unclassified!",
}

var wantShopPostgres = map[string]string{
	"tags.user_id": "key", "tags.aliases": "unclassified",
	"customer_directory.full_name": "unclassified!", "customer_directory.number": "unclassified!",
}

// checkSums fails unless cov's summary adds up: classes to columns,
// columns to those its tables and views list, tables and views to its
// entries.
func checkSums(t *testing.T, cov *sqlstore.Coverage) {
	t.Helper()
	s := cov.Summary
	cols, tables, views := 0, 0, 0
	for _, tc := range cov.Tables {
		cols += len(tc.Columns)
		if tc.Kind == "" {
			tables++
		} else {
			views++
		}
	}
	if s.Erased+s.Keys+s.Retained+s.Unclassified != s.Columns || s.Columns != cols || s.Tables != tables || s.Views != views || cols < 30 {
		t.Errorf("summary %+v does not add up: %d columns in %d tables and %d views", s, cols, tables, views)
	}
}

// TestCoverReachesShop: on every engine, coverage follows foreign keys
// both ways (the address a user points to, and its country; phones through
// the link table; the products items point to), the mapping's value
// links (order_items under a kept orders, a newsletter linked by e-mail),
// views and materialized views over reached tables; flags an e-mail in a
// key; names the schema it skipped; and its counts add up.
func TestCoverReachesShop(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, archive := createShop(t, e)
			in, err := sqlstore.Introspect(ctx, db, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			s, cat := shopMapping(e.dialect, true)
			cov := sqlstore.Cover(in, s, cat)
			want := maps.Clone(wantShop)
			if e.dialect == sqlstore.Postgres {
				maps.Copy(want, wantShopPostgres)
			}
			got := classesOf(cov, "")
			for _, k := range slices.Sorted(maps.Keys(want)) {
				if got[k] != want[k] {
					t.Errorf("%s: %q, want %q", k, got[k], want[k])
				}
			}
			for _, k := range slices.Sorted(maps.Keys(got)) {
				if _, ok := want[k]; !ok {
					t.Errorf("%s is classified (%s) but should not reach a customer", k, got[k])
				}
			}
			by := map[string]sqlstore.TableCoverage{}
			for _, tc := range cov.Tables {
				by[tc.Table] = tc
			}
			reach := map[string]string{
				"addresses":      "referred to by users.home_address_id",
				"countries":      "referred to by addresses.country_id",
				"phones":         "referred to by customer_phones.phone_id",
				"products":       "referred to by order_items.product_id",
				"order_items":    "catalogue table order_items, by order_id = orders.id",
				"newsletter":     "catalogue table newsletter, by email = users.email (lower_trim)",
				"user_directory": "view over users: it shows what they hold",
			}
			if e.dialect == sqlstore.Postgres {
				reach["customer_directory"] = "materialized view over customer_phones, phones, users: refresh it after a forget"
			}
			for table, r := range reach {
				if by[table].Reach != r {
					t.Errorf("%s reach %q, want %q", table, by[table].Reach, r)
				}
			}
			if tc := by["countries"]; tc.Depth != 2 || len(tc.Via) != 2 || !tc.Via[0].Referenced || tc.Via[1].RefTable != "users" || !slices.Equal(tc.Via[1].RefColumns, []string{"home_address_id"}) {
				t.Errorf("countries chain %d %+v, want 2 hops back to users.home_address_id", tc.Depth, tc.Via)
			}
			if tc := by["order_items"]; tc.Depth != 1 || len(tc.Via) != 1 || tc.Via[0].RefTable != "orders" || tc.Via[0].Referenced {
				t.Errorf("order_items chain %d %+v, want the value link to orders", tc.Depth, tc.Via)
			}
			if tc := by["newsletter"]; tc.Depth != 1 || len(tc.Via) != 0 {
				t.Errorf("newsletter chain %d %+v: a normalised link is no join", tc.Depth, tc.Via)
			}
			if by["user_directory"].Kind != sqlstore.PlainView || e.dialect == sqlstore.Postgres && by["customer_directory"].Kind != sqlstore.MaterializedView {
				t.Errorf("view kinds %q, %q", by["user_directory"].Kind, by["customer_directory"].Kind)
			}
			for _, c := range by["optin"].Columns {
				if c.Column == "email" && (c.By != "primary key" || !strings.HasPrefix(c.Hint, "a key (primary key), but its name")) {
					t.Errorf("optin.email by %q, hint %q", c.By, c.Hint)
				}
			}
			checkSums(t, cov)
			if archive != "" {
				if !slices.Contains(cov.Skipped, sqlstore.SchemaTables{Schema: archive, Tables: 1}) {
					t.Errorf("skipped %v, want %s (1 table) among them", cov.Skipped, archive)
				}
				if s := cov.Summary.String(); !strings.Contains(s, "skipped schemas: ") || !strings.Contains(s, "name them with -in") {
					t.Errorf("summary %q names no skipped schema", s)
				}
				in2, err := sqlstore.Introspect(ctx, db, e.dialect, archive)
				if err != nil {
					t.Fatal(err)
				}
				if slices.ContainsFunc(in2.Skipped, func(s sqlstore.SchemaTables) bool { return s.Schema == archive }) || in2.Table(archive+".old_users") == nil {
					t.Errorf("with %s named, it is skipped (%v) or its table missing", archive, in2.Skipped)
				}
			}
		})
	}
}

// TestCoverageSamplesShop: Store.Coverage samples key columns and
// columns that are not text (JSON, bytes, arrays, inet) read as text,
// flags a key holding phone numbers and a JSON profile with one, counts
// rows in tables reached the other way (a user's phones, address), and
// shows no value.
func TestCoverageSamplesShop(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := createShop(t, e)
			s, cat := shopMapping(e.dialect, false)
			st, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(s))
			if err != nil {
				t.Fatal(err)
			}
			cov, err := st.Coverage(ctx, cat, sqlstore.SampleRows(10))
			if err != nil {
				t.Fatal(err)
			}
			cols := map[string]sqlstore.ColumnCoverage{}
			for _, tc := range cov.Tables {
				for _, c := range tc.Columns {
					cols[tc.Table+"."+c.Column] = c
				}
			}
			type want struct{ emails, phones, ips int }
			wants := map[string]want{
				"profiles.data": {phones: 1}, "login_events.payload": {emails: 1}, "contacts.handle": {phones: 2},
				"phones.number": {phones: 3}, "user_directory.email": {emails: 2}, "login_events.ip": {ips: 1},
			}
			if e.dialect == sqlstore.Postgres {
				wants["tags.aliases"] = want{emails: 1}
				wants["customer_directory.number"] = want{phones: 3}
			}
			for name, w := range wants {
				c := cols[name]
				if c.Sample == nil || c.Sample.Emails != w.emails || c.Sample.Phones != w.phones || c.Sample.IPs != w.ips {
					t.Errorf("%s (%s) sample %+v, want %+v", name, c.Type, c.Sample, w)
				}
				if c.Class != sqlstore.ClassUnclassified || !c.LikelyPersonal {
					t.Errorf("%s is %s (likely personal %v), want unclassified and likely personal", name, c.Class, c.LikelyPersonal)
				}
			}
			if c := cols["contacts.handle"]; !strings.HasPrefix(c.Hint, "a key (primary key), but of 2 values sampled") {
				t.Errorf("contacts.handle hint %q", c.Hint)
			}
			if c := cols["orders.id"]; c.Sample != nil {
				t.Errorf("orders.id (%s) was sampled", c.Type)
			}
			checkSums(t, cov)
			out, err := json.Marshal(cov)
			if err != nil {
				t.Fatal(err)
			}
			noPlanted(t, "the JSON coverage", string(out))

			id := "1"
			if e.dialect != sqlstore.SQLite {
				id = strings.Trim(shopKey(e.dialect, 1), "'")
			}
			inv, err := st.Inventory(ctx, forget.Lookup{CustomerID: id}, cat)
			if err != nil {
				t.Fatal(err)
			}
			rows := map[string]int64{}
			for _, it := range inv.Tables {
				if !it.Uncounted {
					rows[it.Table] = it.Rows
				}
			}
			for table, n := range map[string]int64{"phones": 2, "addresses": 1, "countries": 1, "customer_phones": 2, "order_items": 1, "products": 1} {
				if rows[table] != n {
					t.Errorf("inventory: %s has %d of the customer's rows, want %d (all: %v)", table, rows[table], n, rows)
				}
			}
			if _, counted := rows["user_directory"]; counted {
				t.Errorf("a view's rows were counted")
			}
		})
	}
}

// TestCoverViewsSQLite: a view over a view over customers reaches a
// customer too; a view whose table is gone does not break introspection
// (it shows nothing); a retained view column is retained.
func TestCoverViewsSQLite(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	for _, st := range []string{
		`CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, email TEXT)`,
		`CREATE TABLE gone (x TEXT)`,
		`CREATE VIEW "Directory" AS SELECT customer_id, email FROM "customers"`,
		`CREATE VIEW mailing AS SELECT email FROM directory`,
		`CREATE VIEW broken AS SELECT x FROM gone`,
		`DROP TABLE gone`,
	} {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	in, err := sqlstore.Introspect(context.Background(), db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if in.View("broken") != nil || in.View("mailing") == nil {
		t.Errorf("views %+v: want Directory and mailing, not broken", in.Views)
	}
	s := sqlstore.Schema{Customers: sqlstore.CustomerTable{Table: "customers", Key: "customer_id"},
		Retain: map[string]string{"mailing.email": "a view: shows what customers holds"}}
	cov := sqlstore.Cover(in, s, forget.Catalogue{})
	got := classesOf(cov, "")
	want := map[string]string{"customers.customer_id": "key", "customers.email": "unclassified!",
		"Directory.customer_id": "unclassified", "Directory.email": "unclassified!", "mailing.email": "retained"}
	if !maps.Equal(got, want) {
		t.Errorf("classes %v, want %v", got, want)
	}
	if r := cov.Tables[2].Reach; cov.Tables[2].Table != "mailing" || r != "view over Directory: it shows what they hold" {
		t.Errorf("%s reach %q", cov.Tables[2].Table, r)
	}
	if cov.Summary.Views != 2 || cov.Summary.Tables != 1 || len(cov.Notes) != 0 {
		t.Errorf("summary %+v, notes %q", cov.Summary, cov.Notes)
	}
}

// TestCoverMentions: a table reached by mentions (any customer's rows
// that name the forgotten one) is a catalogue table whose scrubbed
// columns are erased; its other columns stay to classify, and its rows
// are not counted (no join finds them).
func TestCoverMentions(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	for _, st := range []string{
		`CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, email TEXT)`,
		`CREATE TABLE tickets (ticket_id INTEGER PRIMARY KEY, author TEXT, body TEXT)`,
	} {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	in, err := sqlstore.Introspect(context.Background(), db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	s := sqlstore.Schema{Customers: sqlstore.CustomerTable{Table: "customers", Key: "customer_id"},
		Fields: map[forget.Field]sqlstore.Column{"email": {Column: "email"}},
		Tables: map[forget.Table]sqlstore.RelatedTable{"tickets": {Table: "tickets", Via: &sqlstore.Via{Mentions: true}}}}
	cat := forget.Catalogue{Fields: []forget.FieldSpec{{Name: "email", Rule: forget.Empty()}},
		Tables: []forget.TableSpec{{Name: "tickets", Scrub: []forget.ColumnRule{{Column: "body", Rule: forget.Empty()}}}}}
	cov := sqlstore.Cover(in, s, cat)
	want := map[string]string{"customers.customer_id": "key", "customers.email": "erased",
		"tickets.ticket_id": "key", "tickets.author": "unclassified", "tickets.body": "erased"}
	if got := classesOf(cov, ""); !maps.Equal(got, want) {
		t.Errorf("classes %v, want %v", got, want)
	}
	if tc := cov.Tables[1]; tc.Reach != "catalogue table tickets, every row whose columns mention the customer's values" || tc.Depth != 1 || len(tc.Via) != 0 {
		t.Errorf("tickets: reach %q, depth %d, via %+v", tc.Reach, tc.Depth, tc.Via)
	}
}
