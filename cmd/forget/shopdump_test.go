package main

// The shop of issue 19, as a fixture: its schema on each engine
// (testdata/shop/*.sql), its customers with planted values, and a dump of
// every table and view as text that the acceptance tests (shop_test.go)
// compare before and after a forget.

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
)

// shopMapping is the one mapping file the command and a Go host share.
var shopMapping = filepath.Join("..", "..", "docs", "examples", "shop.json")

// The shop's customers, by number; shopForgotten is the one forgotten.
var shopCustomers = []int{11, 12, 13, 14}

const shopForgotten = 12

// shopStranger is planted in a newsletter row of an e-mail no user has.
const shopStranger = "nobody.plant@example.com"

// shopPlanted is customer n's planted values: each unique to n, none a
// substring of another customer's (n has two digits), searched for
// case-insensitively in a dump.
func shopPlanted(n int) []string {
	return []string{
		fmt.Sprintf("zqx%dlogin", n),               // users.username
		fmt.Sprintf("pwhash%dzqx", n),              // users.password_hash
		fmt.Sprintf("Zqx%dFirstname", n),           // users.first_name, order names, tickets, gift messages
		fmt.Sprintf("Zqx%dLastname", n),            // users.last_name, ...
		fmt.Sprintf("user%d.plant@example.com", n), // users.email, newsletter (other case), tickets
		fmt.Sprintf("+1 555 01%d", n),              // users.phone, orders.ship_phone, tickets, gift messages
		fmt.Sprintf("+1 555 02%d", n),              // users.profile.phone
		fmt.Sprintf("1980-05-%d", n),               // users.profile.birth_date
		fmt.Sprintf("Zqx%dStreet", n),              // addresses.line1, orders.ship_address
		fmt.Sprintf("198.51.100.%d", n),            // login_events.ip
		fmt.Sprintf("2001:db8::%d", n),             // login_events.ip
		fmt.Sprintf("zqx%dagent", n),               // login_events.user_agent
		fmt.Sprintf("+1 555 03%d", n),              // phones.number
		fmt.Sprintf("+1 555 04%d", n),              // phones.number
	}
}

// Row ids: each table has its own range, so that an id is unique in the
// whole database and a dump cell equal to one is unambiguous. On SQLite
// they are the numbers; on PostgreSQL and MariaDB uuids made of them.
func userID(n int) int       { return 1000 + n }
func addressID(n, k int) int { return 2000 + 10*n + k }
func orderID(n, k int) int   { return 3000 + 10*n + k }
func itemID(n, k int) int    { return 4000 + 10*n + k }
func newsID(n int) int       { return 5000 + n }
func loginID(n, k int) int   { return 6000 + 10*n + k }
func ticketID(n, k int) int  { return 7000 + 10*n + k }
func phoneID(n, k int) int   { return 8000 + 10*n + k }
func uuidOf(num int) string  { return fmt.Sprintf("00000000-0000-4000-8000-%012d", num) }
func (s *shopDB) id(num int) any {
	if s.dialect == sqlstore.SQLite {
		return int64(num)
	}
	return uuidOf(num)
}

// idText is how a dump shows row id num.
func (s *shopDB) idText(num int) string { return fmt.Sprint(s.id(num)) }

// ownedIDs are the forgotten customer's row ids, as a dump shows them:
// a row holding one of them belongs to the forgotten customer, even when
// none of its cells holds a planted value (a link row, customer_phones).
func (s *shopDB) ownedIDs() map[string]bool {
	n := shopForgotten
	ids := []int{userID(n), newsID(n)}
	for k := 1; k <= 2; k++ {
		ids = append(ids, addressID(n, k), orderID(n, k), itemID(n, k), loginID(n, k), ticketID(n, k), phoneID(n, k))
	}
	owned := map[string]bool{}
	for _, id := range ids {
		owned[s.idText(id)] = true
	}
	return owned
}

// shopDB is the shop on one engine, with the arguments that open it from
// the command line (-db FILE or -dsn URL).
type shopDB struct {
	engine  string
	dialect sqlstore.Dialect
	db      *sql.DB
	args    []string
}

// openShop creates the shop in a database of the test's own (a temp
// SQLite file, a PostgreSQL schema, a MariaDB database), seeds it, and
// creates the audit table.
func openShop(t *testing.T, e testdb.Engine) *shopDB {
	t.Helper()
	tdb := e.Open(t)
	s := &shopDB{engine: e.Name, dialect: e.Dialect, db: tdb.DB, args: []string{"-dsn", tdb.URL}}
	if e.Dialect == sqlstore.SQLite {
		s.args = []string{"-db", tdb.URL}
	}
	ddl, err := os.ReadFile(filepath.Join("testdata", "shop", e.Name+".sql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sqlStatements(string(ddl)) {
		if _, err := s.db.Exec(st); err != nil {
			t.Fatalf("%s: %s: %v", e.Name, st, err)
		}
	}
	s.seed(t)
	if _, err := sqlstore.Migrate(context.Background(), s.db, e.Dialect, sqlstore.MigrateOptions{}); err != nil {
		t.Fatalf("audit table: %v", err)
	}
	s.refresh(t)
	return s
}

// sqlStatements splits a DDL file at each ";" that ends a line, leaving
// out comment lines.
func sqlStatements(ddl string) []string {
	var out []string
	var cur []string
	for _, line := range strings.Split(ddl, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		cur = append(cur, line)
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			st := strings.TrimSuffix(strings.TrimSpace(strings.Join(cur, "\n")), ";")
			out = append(out, st)
			cur = nil
		}
	}
	return out
}

// exec runs one statement with ? placeholders ($n on PostgreSQL).
func (s *shopDB) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if s.dialect == sqlstore.Postgres {
		var b strings.Builder
		n := 0
		for _, r := range query {
			if r == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(r)
		}
		query = b.String()
	}
	if _, err := s.db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %s: %v", s.engine, query, err)
	}
}

// seed plants each customer: a user with a JSON profile, two addresses
// (the first the home address), two orders with shipping snapshots and
// an item each (the first with a gift message naming the customer), a
// newsletter row of the user's e-mail in another case (but for 14), two
// logins (IPv4, IPv6), a ticket quoting the customer's own details, two
// phones through the link table; then tickets of 13 and 14 quoting the
// forgotten customer's e-mail and phone, one of 11 quoting 13's, and a
// newsletter row of an e-mail no user has.
func (s *shopDB) seed(t *testing.T) {
	t.Helper()
	newsletter := map[int]string{11: "user11.plant@example.com", 12: "  User12.Plant@Example.COM ", 13: "USER13.PLANT@EXAMPLE.COM"}
	for _, n := range shopCustomers {
		p := shopPlanted(n)
		first, last, email, phone := p[2], p[3], p[4], p[5]
		profile := fmt.Sprintf(`{"phone": %q, "theme": "dark", "birth_date": %q, "marketing": true}`, p[6], p[7])
		s.exec(t, "INSERT INTO users (id, username, password_hash, first_name, last_name, email, phone, profile, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			s.id(userID(n)), p[0], p[1], first, last, email, phone, profile, fmt.Sprintf("2024-01-%d 09:00:00", n))
		for k := 1; k <= 2; k++ {
			s.exec(t, "INSERT INTO addresses (id, user_id, line1, city, zip) VALUES (?, ?, ?, ?, ?)",
				s.id(addressID(n, k)), s.id(userID(n)), fmt.Sprintf("%s %d", p[8], k), "Springfield", fmt.Sprintf("6270%d", k))
			s.exec(t, "INSERT INTO orders (id, user_id, ship_name, ship_address, ship_phone, amount_cents, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
				s.id(orderID(n, k)), s.id(userID(n)), first+" "+last, p[8]+" 1, Springfield", phone, 1000*k+n, fmt.Sprintf("2024-02-%d 10:0%d:00", n, k))
			gift := ""
			if k == 1 {
				gift = fmt.Sprintf("Happy birthday! Love, %s (call %s)", first, phone)
			}
			s.exec(t, "INSERT INTO order_items (id, order_id, product, qty, gift_message) VALUES (?, ?, ?, ?, ?)",
				s.id(itemID(n, k)), s.id(orderID(n, k)), fmt.Sprintf("widget-%d", k), k, gift)
			ip := p[9+k-1]
			if k == 1 && s.dialect == sqlstore.MySQL {
				ip = "::ffff:" + ip // MariaDB 10.11's INET6 takes IPv4 only mapped
			}
			s.exec(t, "INSERT INTO login_events (id, user_id, ip, user_agent, logged_at) VALUES (?, ?, ?, ?, ?)",
				s.id(loginID(n, k)), s.id(userID(n)), ip, "Mozilla/5.0 ("+p[11]+")", fmt.Sprintf("2024-03-%d 08:0%d:00", n, k))
			s.exec(t, "INSERT INTO phones (id, number, label) VALUES (?, ?, ?)", s.id(phoneID(n, k)), p[12+k-1], []string{"home", "work"}[k-1])
			s.exec(t, "INSERT INTO customer_phones (user_id, phone_id) VALUES (?, ?)", s.id(userID(n)), s.id(phoneID(n, k)))
		}
		s.exec(t, "UPDATE users SET home_address_id = ? WHERE id = ?", s.id(addressID(n, 1)), s.id(userID(n)))
		if v, ok := newsletter[n]; ok {
			s.exec(t, "INSERT INTO newsletter (id, email, subscribed_at) VALUES (?, ?, ?)", s.id(newsID(n)), v, "2024-04-01 12:00:00")
		}
		s.exec(t, "INSERT INTO tickets (id, user_id, subject, body, status) VALUES (?, ?, ?, ?, ?)",
			s.id(ticketID(n, 1)), s.id(userID(n)), "Invoice for "+last,
			fmt.Sprintf("Hello, I am %s %s; write to %s or call %s.", first, last, email, phone), "open")
	}
	f := shopPlanted(shopForgotten)
	s.exec(t, "INSERT INTO tickets (id, user_id, subject, body, status) VALUES (?, ?, ?, ?, ?)",
		s.id(ticketID(13, 2)), s.id(userID(13)), "Gift order",
		fmt.Sprintf("Please send the invoice to my partner %s, phone %s. Regards, %s", f[4], f[5], shopPlanted(13)[2]), "closed")
	s.exec(t, "INSERT INTO tickets (id, user_id, subject, body, status) VALUES (?, ?, ?, ?, ?)",
		s.id(ticketID(14, 2)), s.id(userID(14)), "Parcels",
		fmt.Sprintf("My neighbour %s (%s) takes my parcels. %s", strings.ToUpper(f[4]), f[2], shopPlanted(14)[3]), "open")
	s.exec(t, "INSERT INTO tickets (id, user_id, subject, body, status) VALUES (?, ?, ?, ?, ?)",
		s.id(ticketID(11, 2)), s.id(userID(11)), "Forward",
		fmt.Sprintf("Forward my receipts to %s, thanks", shopPlanted(13)[4]), "open")
	s.exec(t, "INSERT INTO newsletter (id, email, subscribed_at) VALUES (?, ?, ?)", s.id(newsID(99)), shopStranger, "2024-04-02 12:00:00")
}

// refresh brings the materialized view up to date, as the docs tell a
// host to after each forget (PostgreSQL; the other engines' view is a
// plain one).
func (s *shopDB) refresh(t *testing.T) {
	t.Helper()
	if s.dialect == sqlstore.Postgres {
		s.exec(t, "REFRESH MATERIALIZED VIEW customer_directory")
	}
}

// shopKeys names, for each table and view of the shop, the columns that
// identify a row, so that a dump's rows compare by key. Other tables
// (the audit table, whatever a forget creates) are only searched.
var shopKeys = map[string][]string{
	"users": {"id"}, "addresses": {"id"}, "orders": {"id"}, "order_items": {"id"},
	"newsletter": {"id"}, "login_events": {"id"}, "tickets": {"id"}, "phones": {"id"},
	"customer_phones": {"user_id", "phone_id"}, "customer_directory": {"user_id"},
}

// shopDump is every table and view of the database as text.
type shopDump map[string]*tableDump

type tableDump struct {
	cols []string
	rows []dumpRow // sorted by key
}

type dumpRow struct {
	key   string
	cells []string // as the database shows them, "NULL" for NULL
}

func (r dumpRow) String() string { return strings.Join(r.cells, " | ") }

// dump reads every table and view of the test's database (schema or
// database), every row, every column, as the driver returns it as text.
func (s *shopDB) dump(t *testing.T) shopDump {
	t.Helper()
	var q string
	switch s.dialect {
	case sqlstore.SQLite:
		q = "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
	case sqlstore.Postgres:
		q = "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() " +
			"UNION SELECT matviewname::text FROM pg_matviews WHERE schemaname = current_schema()"
	case sqlstore.MySQL:
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
	}
	names := queryStrings(t, s.db, q)
	d := shopDump{}
	for _, name := range names {
		d[name] = s.dumpTable(t, name)
	}
	for name := range shopKeys {
		if d[name] == nil {
			t.Fatalf("%s: the dump has no %s (tables: %v)", s.engine, name, names)
		}
	}
	return d
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func (s *shopDB) dumpTable(t *testing.T, name string) *tableDump {
	t.Helper()
	rows, err := s.db.Query("SELECT * FROM " + name)
	if err != nil {
		t.Fatalf("%s: dump %s: %v", s.engine, name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	td := &tableDump{cols: cols}
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("%s: dump %s: %v", s.engine, name, err)
		}
		r := dumpRow{cells: make([]string, len(cols))}
		for i, v := range vals {
			r.cells[i] = "NULL"
			if v.Valid {
				r.cells[i] = v.String
			}
		}
		var key []string
		for _, kc := range shopKeys[name] {
			key = append(key, r.cells[slices.Index(cols, kc)])
		}
		r.key = strings.Join(key, ",")
		if len(key) == 0 {
			r.key = r.String()
		}
		td.rows = append(td.rows, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(td.rows, func(a, b dumpRow) int { return strings.Compare(a.key+"\x00"+a.String(), b.key+"\x00"+b.String()) })
	return td
}

// text is the whole dump, one line a row, "table: cell | cell".
func (d shopDump) text() string {
	var b strings.Builder
	names := make([]string, 0, len(d))
	for n := range d {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, r := range d[n].rows {
			b.WriteString(n + ": " + r.String() + "\n")
		}
	}
	return b.String()
}

// holdsAny returns the first of values that s holds, ignoring case.
func holdsAny(s string, values []string) (string, bool) {
	ls := strings.ToLower(s)
	for _, v := range values {
		if strings.Contains(ls, strings.ToLower(v)) {
			return v, true
		}
	}
	return "", false
}

// shopMayChange are the cells of the forgotten customer's kept rows that
// a forget may change although they hold no planted value: the pointer
// to the home address it deletes (detached: NULL).
var shopMayChange = map[string]bool{"users.home_address_id": true}

// shopKept are the tables whose rows of the forgotten customer the
// mapping keeps (scrubbed, redacted or left: the view); in every other
// table of shopKeys it deletes them.
var shopKept = map[string]bool{"users": true, "orders": true, "order_items": true, "login_events": true, "tickets": true, "customer_directory": true}

// checkForgotten compares the dumps before and after forgetting
// shopForgotten: none of its planted values is left anywhere (every
// table and view, any case); every other customer's planted values are
// there exactly as often as before; a row of the shop that held none of
// the forgotten customer's values or ids is byte for byte what it was;
// a row that held some is gone where the mapping deletes and kept where
// it keeps, its other cells unchanged; no row is new.
func (s *shopDB) checkForgotten(t testing.TB, before, after shopDump) {
	t.Helper()
	forgotten := shopPlanted(shopForgotten)
	owned := s.ownedIDs()
	all := before.text()
	for _, v := range forgotten {
		if !strings.Contains(strings.ToLower(all), strings.ToLower(v)) {
			t.Fatalf("%s: the fixture planted %q nowhere", s.engine, v)
		}
	}
	for name, td := range after {
		for _, r := range td.rows {
			for i, c := range r.cells {
				if v, ok := holdsAny(c, forgotten); ok {
					t.Errorf("%s: %s.%s (row %s) still holds the forgotten customer's %q: %s", s.engine, name, td.cols[i], r.key, v, c)
				}
			}
		}
	}
	others := []string{shopStranger}
	for _, n := range shopCustomers {
		if n != shopForgotten {
			others = append(others, shopPlanted(n)...)
		}
	}
	now := strings.ToLower(after.text())
	for _, v := range others {
		was, is := strings.Count(strings.ToLower(all), strings.ToLower(v)), strings.Count(now, strings.ToLower(v))
		if was == 0 || was != is {
			t.Errorf("%s: another customer's %q: %d times before, %d after", s.engine, v, was, is)
		}
	}
	for name := range shopKeys {
		b, a := before[name], after[name]
		if !slices.Equal(b.cols, a.cols) {
			t.Errorf("%s: %s's columns changed: %v -> %v", s.engine, name, b.cols, a.cols)
			continue
		}
		afterRows := map[string]dumpRow{}
		for _, r := range a.rows {
			afterRows[r.key] = r
		}
		for _, br := range b.rows {
			dirty := false
			for _, c := range br.cells {
				if _, ok := holdsAny(c, forgotten); ok || owned[c] {
					dirty = true
				}
			}
			mine := false // a row of the forgotten customer's own, by its key
			for _, k := range strings.Split(br.key, ",") {
				mine = mine || owned[k]
			}
			ar, kept := afterRows[br.key]
			delete(afterRows, br.key)
			switch {
			case !dirty && !kept:
				t.Errorf("%s: %s row %s, none of the forgotten customer's, is gone: %s", s.engine, name, br.key, br)
				continue
			case !dirty && ar.String() != br.String():
				t.Errorf("%s: %s row %s, none of the forgotten customer's, changed:\n  before %s\n  after  %s", s.engine, name, br.key, br, ar)
				continue
			case mine && kept != shopKept[name]:
				t.Errorf("%s: %s row %s of the forgotten customer: kept %v, the mapping keeps %v", s.engine, name, br.key, kept, shopKept[name])
			case !mine && !kept:
				t.Errorf("%s: %s row %s, another customer's that mentions the forgotten one, is gone: %s", s.engine, name, br.key, br)
				continue
			}
			if !kept {
				continue
			}
			for i, c := range br.cells {
				if _, ok := holdsAny(c, forgotten); !ok && ar.cells[i] != c && !shopMayChange[name+"."+b.cols[i]] {
					t.Errorf("%s: %s.%s of row %s held none of the forgotten customer's values but changed: %q -> %q", s.engine, name, b.cols[i], br.key, c, ar.cells[i])
				}
			}
		}
		for _, r := range afterRows {
			t.Errorf("%s: %s has a new row %s: %s", s.engine, name, r.key, r)
		}
	}
}
