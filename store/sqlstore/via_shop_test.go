package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// viaShop is a small shop whose tables are reached through vias: orders
// keyed by the customer, their items (NO ACTION foreign keys) and a chain
// of notes and marks under them, the address a customer row points to, a
// link table and its phones, and a newsletter linked by e-mail. Keys are
// INTEGER on SQLite, uuid on PostgreSQL and UUID on MariaDB.
type viaShop struct {
	e     engine
	db    *sql.DB
	extra []forget.Table // catalogue tables of the test's own
	scrub map[forget.Table][]forget.ColumnRule
}

type viaShopOpts struct {
	uniqueHome  bool // a unique index on customers.home_address_id, and no shared address
	notNullHome bool // customers.home_address_id NOT NULL
}

// The shop's tables, each with the columns its dump sorts by first.
var viaShopTables = []string{"addresses", "customers", "orders", "order_items", "item_notes", "note_marks", "phones", "customer_phones", "newsletter"}

func newViaShop(t *testing.T, e engine, o viaShopOpts) *viaShop {
	t.Helper()
	db, _ := e.open(t)
	s := &viaShop{e: e, db: db}
	k, txt := "INTEGER", "TEXT"
	switch e.dialect {
	case sqlstore.Postgres:
		k = "uuid"
	case sqlstore.MySQL:
		k, txt = "UUID", "VARCHAR(200)"
	}
	home := k + " NULL"
	if o.notNullHome {
		home = k + " NOT NULL"
	}
	ddl := []string{
		"CREATE TABLE addresses (id K PRIMARY KEY, line T NOT NULL)",
		"CREATE TABLE customers (id K PRIMARY KEY, email T NOT NULL, name T NOT NULL, home_address_id " + home + ", FOREIGN KEY (home_address_id) REFERENCES addresses (id))",
		"CREATE TABLE orders (id K PRIMARY KEY, customer_id K NOT NULL, total INTEGER NOT NULL, FOREIGN KEY (customer_id) REFERENCES customers (id))",
		"CREATE TABLE order_items (id K PRIMARY KEY, order_id K NOT NULL, gift T NOT NULL, FOREIGN KEY (order_id) REFERENCES orders (id))",
		"CREATE TABLE item_notes (id K PRIMARY KEY, item_id K NOT NULL, body T NOT NULL, FOREIGN KEY (item_id) REFERENCES order_items (id))",
		"CREATE TABLE note_marks (id K PRIMARY KEY, note_id K NOT NULL, mark T NOT NULL, FOREIGN KEY (note_id) REFERENCES item_notes (id))",
		"CREATE TABLE phones (id K PRIMARY KEY, number T NOT NULL)",
		"CREATE TABLE customer_phones (customer_id K NOT NULL, phone_id K NOT NULL, PRIMARY KEY (customer_id, phone_id), FOREIGN KEY (customer_id) REFERENCES customers (id), FOREIGN KEY (phone_id) REFERENCES phones (id))",
		"CREATE TABLE newsletter (id K PRIMARY KEY, email T NOT NULL)",
		"CREATE INDEX orders_customer ON orders (customer_id)",
		"CREATE INDEX items_order ON order_items (order_id)",
		"CREATE INDEX notes_item ON item_notes (item_id)",
		"CREATE INDEX marks_note ON note_marks (note_id)",
		"CREATE INDEX links_phone ON customer_phones (phone_id)",
		"CREATE INDEX newsletter_email ON newsletter (email)",
	}
	if o.uniqueHome {
		ddl = append(ddl, "CREATE UNIQUE INDEX customers_home ON customers (home_address_id)")
	} else {
		ddl = append(ddl, "CREATE INDEX customers_home ON customers (home_address_id)")
	}
	for i, st := range ddl {
		ddl[i] = strings.NewReplacer(" K ", " "+k+" ", " T ", " "+txt+" ").Replace(st)
	}
	execAll(t, db, ddl...)
	id := s.lit
	fourth := id(103) // 3 and 4 share an address
	if o.uniqueHome {
		fourth = id(104)
	}
	execAll(t, db,
		fmt.Sprintf("INSERT INTO addresses (id, line) VALUES (%s, '1 Ann St'), (%s, '2 Bob St'), (%s, '3 Shared St'), (%s, '4 Dee St')", id(101), id(102), id(103), id(104)),
		fmt.Sprintf("INSERT INTO customers (id, email, name, home_address_id) VALUES (%s, ' Ann@Example.com', 'Ann', %s), (%s, 'ann@example.com', 'Bob', %s), (%s, 'Carl@X.org ', 'Carl', %s), (%s, 'dee@d.org', 'Dee', %s)",
			id(1), id(101), id(2), id(102), id(3), id(103), id(4), fourth),
		fmt.Sprintf("INSERT INTO orders (id, customer_id, total) VALUES (%s, %s, 10), (%s, %s, 20)", id(201), id(1), id(202), id(2)),
		fmt.Sprintf("INSERT INTO order_items (id, order_id, gift) VALUES (%s, %s, 'love, Ann'), (%s, %s, 'call 555-0101'), (%s, %s, 'from Bob')", id(301), id(201), id(302), id(201), id(303), id(202)),
		fmt.Sprintf("INSERT INTO item_notes (id, item_id, body) VALUES (%s, %s, 'ann note'), (%s, %s, 'bob note')", id(401), id(301), id(402), id(303)),
		fmt.Sprintf("INSERT INTO note_marks (id, note_id, mark) VALUES (%s, %s, 'ann mark'), (%s, %s, 'bob mark')", id(501), id(401), id(502), id(402)),
		fmt.Sprintf("INSERT INTO phones (id, number) VALUES (%s, '555-0101'), (%s, '555-0202'), (%s, '555-0303')", id(601), id(602), id(603)),
		fmt.Sprintf("INSERT INTO customer_phones (customer_id, phone_id) VALUES (%s, %s), (%s, %s), (%s, %s)", id(1), id(601), id(1), id(602), id(2), id(602)),
		fmt.Sprintf("INSERT INTO newsletter (id, email) VALUES (%s, 'ann@example.com'), (%s, 'carl@x.org'), (%s, 'zed@z.org')", id(701), id(702), id(703)),
	)
	return s
}

// key is the n-th key as a request names it.
func (s *viaShop) key(n int) string {
	if s.e.dialect == sqlstore.SQLite {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
}

// lit is the n-th key as SQL.
func (s *viaShop) lit(n int) string {
	if s.e.dialect == sqlstore.SQLite {
		return fmt.Sprint(n)
	}
	return "'" + s.key(n) + "'"
}

// viaShopCatalogue lists parents before their children, so that only the
// store's ordering makes the deletes pass the NO ACTION keys.
func viaShopCatalogue() forget.Catalogue {
	c := forget.Catalogue{Fields: []forget.FieldSpec{{Name: "email", Rule: forget.Empty()}, {Name: "name", Rule: forget.Empty()}}}
	for _, t := range []forget.Table{"orders", "order_items", "item_notes", "note_marks", "addresses", "customer_phones", "phones", "newsletter"} {
		c.Tables = append(c.Tables, forget.TableSpec{Name: t})
	}
	return c
}

// viaShopSchema maps the shop; shared says each Via table's policy.
func viaShopSchema(shared map[forget.Table]string) sqlstore.Schema {
	s := sqlstore.Schema{
		Customers: sqlstore.CustomerTable{Table: "customers", Key: "id"},
		Fields: map[forget.Field]sqlstore.Column{
			"email": {Column: "email"},
			"name":  {Column: "name"},
		},
		Tables: map[forget.Table]sqlstore.RelatedTable{
			"orders":          {Table: "orders", CustomerKey: "customer_id"},
			"order_items":     {Table: "order_items", Via: &sqlstore.Via{Column: "order_id", From: "orders.id"}},
			"item_notes":      {Table: "item_notes", Via: &sqlstore.Via{Column: "item_id", From: "order_items.id"}},
			"note_marks":      {Table: "note_marks", Via: &sqlstore.Via{Column: "note_id", From: "item_notes.id"}},
			"addresses":       {Table: "addresses", Via: &sqlstore.Via{Column: "id", From: "customers.home_address_id"}},
			"customer_phones": {Table: "customer_phones", CustomerKey: "customer_id"},
			"phones":          {Table: "phones", Via: &sqlstore.Via{Column: "id", From: "customer_phones.phone_id"}, Shared: sqlstore.SharedKeep},
			"newsletter":      {Table: "newsletter", Via: &sqlstore.Via{Column: "email", From: "customers.email", Normalize: sqlstore.NormalizeLowerTrim}, Shared: sqlstore.SharedKeep},
		},
	}
	for t, p := range shared {
		rt := s.Tables[t]
		rt.Shared = p
		s.Tables[t] = rt
	}
	return s
}

// forgetter builds a verified Forgetter over the shop.
func (s *viaShop) forgetter(t *testing.T, schema sqlstore.Schema, opts ...sqlstore.Option) (*forget.Forgetter, error) {
	t.Helper()
	st, err := sqlstore.New(s.db, s.e.dialect, append([]sqlstore.Option{sqlstore.WithSchema(schema), sqlstore.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		return nil, err
	}
	cat := viaShopCatalogue()
	for _, t := range s.extra {
		cat.Tables = append(cat.Tables, forget.TableSpec{Name: t})
	}
	for i, ts := range cat.Tables {
		cat.Tables[i].Scrub = s.scrub[ts.Name]
	}
	f, err := forget.New(st, forget.WithCatalogue(cat), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	return f, f.Verify(context.Background())
}

// dump is every row of every shop table, as text, sorted.
func (s *viaShop) dump(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range viaShopTables {
		rows, err := s.db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		_, vals := scanAll(t, rows)
		for _, r := range vals {
			var parts []string
			for _, v := range r {
				if !v.Valid {
					parts = append(parts, "NULL")
					continue
				}
				parts = append(parts, v.String)
			}
			out[table] = append(out[table], strings.Join(parts, "|"))
		}
		slices.Sort(out[table])
	}
	return out
}

// without returns d less the rows of table whose first column is one of
// keys, and less the customers rows of customers (checked apart).
func (s *viaShop) without(d map[string][]string, gone map[string][]int, customers ...int) map[string][]string {
	out := map[string][]string{}
	for table, rows := range d {
		drop := gone[table]
		if table == "customers" {
			drop = append(slices.Clone(drop), customers...)
		}
		for _, r := range rows {
			first, _, _ := strings.Cut(r, "|")
			if !slices.ContainsFunc(drop, func(n int) bool { return s.key(n) == first }) {
				out[table] = append(out[table], r)
			}
		}
	}
	return out
}

// customer returns the customer's row: email, name and home address (or NULL).
func (s *viaShop) customer(t *testing.T, n int) string {
	t.Helper()
	var email, name string
	var home sql.NullString
	if err := s.db.QueryRow("SELECT email, name, home_address_id FROM customers WHERE id = "+s.lit(n)).Scan(&email, &name, &home); err != nil {
		t.Fatal(err)
	}
	if !home.Valid {
		home.String = "NULL"
	}
	return email + "|" + name + "|" + home.String
}

func sameDump(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	for _, table := range viaShopTables {
		if !slices.Equal(got[table], want[table]) {
			t.Errorf("%s: table %s\n got %q\nwant %q", what, table, got[table], want[table])
		}
	}
}
