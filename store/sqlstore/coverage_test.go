package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// coverDDL is a host schema for coverage: customers with mapped fields,
// an unmapped email and last_ip, a retained created_at and a plain
// status; orders (the orderid lookup); order_notes, reached only through
// orders (ON DELETE RESTRICT); support_tickets, unmapped, with a
// free-text message holding e-mail addresses; member_note (purged) and
// note_attachments, reached only through it and deleted with it (ON
// DELETE CASCADE); products, which reach nobody; the audit table.
func coverDDL(d sqlstore.Dialect) []string {
	tail := ""
	if d == sqlstore.MySQL {
		tail = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
	}
	stmts := []string{
		`CREATE TABLE customers (
  customer_id BIGINT PRIMARY KEY,
  username VARCHAR(32) NOT NULL UNIQUE,
  password VARCHAR(64) NOT NULL DEFAULT '',
  firstname VARCHAR(64) NOT NULL DEFAULT '',
  lastname VARCHAR(64) NOT NULL DEFAULT '',
  phone VARCHAR(32) NOT NULL DEFAULT '',
  email VARCHAR(255) NULL,
  created_at VARCHAR(32) NOT NULL DEFAULT '',
  status VARCHAR(16) NOT NULL DEFAULT 'active',
  last_ip VARCHAR(45) NULL
)` + tail,
		`CREATE TABLE orders (
  order_id BIGINT PRIMARY KEY,
  customer_id BIGINT NOT NULL,
  amount_cents BIGINT NOT NULL DEFAULT 0,
  CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (customer_id) ON DELETE CASCADE
)` + tail,
		`CREATE INDEX orders_customer ON orders (customer_id)`,
		`CREATE TABLE order_notes (
  note_id BIGINT PRIMARY KEY,
  order_id BIGINT NOT NULL,
  body TEXT NOT NULL,
  CONSTRAINT order_notes_order_fk FOREIGN KEY (order_id) REFERENCES orders (order_id) ON DELETE RESTRICT
)` + tail,
		`CREATE INDEX order_notes_order ON order_notes (order_id)`,
		`CREATE TABLE support_tickets (
  ticket_id BIGINT PRIMARY KEY,
  customer_id BIGINT NOT NULL,
  subject VARCHAR(200) NOT NULL DEFAULT '',
  message TEXT NOT NULL
)` + tail,
		`CREATE INDEX support_tickets_customer ON support_tickets (customer_id)`,
		`CREATE TABLE member_note (
  note_id BIGINT PRIMARY KEY,
  customer_id BIGINT NOT NULL,
  note TEXT NOT NULL
)` + tail,
		`CREATE INDEX member_note_customer ON member_note (customer_id)`,
		`CREATE TABLE note_attachments (
  attachment_id BIGINT PRIMARY KEY,
  note_id BIGINT NOT NULL,
  filename VARCHAR(200) NOT NULL DEFAULT '',
  CONSTRAINT note_attachments_note_fk FOREIGN KEY (note_id) REFERENCES member_note (note_id) ON DELETE CASCADE
)` + tail,
		`CREATE INDEX note_attachments_note ON note_attachments (note_id)`,
		`CREATE TABLE products (product_id BIGINT PRIMARY KEY, title VARCHAR(200) NOT NULL DEFAULT '')` + tail,
	}
	return append(stmts, sqlstore.AuditDDL(d, sqlstore.DefaultAuditTable)...)
}

// plant is the marker in every value the tests plant: no output may show it.
const plant = "7q2x"

// plantedValues are the values no report, sample or error may print.
var plantedValues = []string{plant, "198.51.100.23", "203.0.113.77", "7946 0958", "Plantedfirst"}

// coverData: customer 1 with 2 orders, 3 order notes, 2 tickets, 2 member
// notes, 1 attachment; customer 2 with 1 of each but attachments.
func coverData(d sqlstore.Dialect) []string {
	return []string{
		`INSERT INTO customers (customer_id, username, password, firstname, lastname, phone, email, created_at, status, last_ip) VALUES
  (1, 'user-` + plant + `', 'pw-` + plant + `', 'Plantedfirst', 'Last` + plant + `', '+44 20 7946 0958', 'planted-` + plant + `@example.org', '2020-01-02', 'active', '198.51.100.23'),
  (2, 'other-` + plant + `', '', 'Plantedfirst', '', '', 'second-` + plant + `@example.org', '2021-03-04', 'active', NULL)`,
		`INSERT INTO orders (order_id, customer_id, amount_cents) VALUES (101, 1, 995), (102, 1, 1995), (201, 2, 500)`,
		`INSERT INTO order_notes (note_id, order_id, body) VALUES
  (1, 101, 'deliver to planted-note-` + plant + `@example.com'), (2, 101, 'gift wrap ` + plant + `'), (3, 102, 'left at door ` + plant + `'), (4, 201, 'ring ` + plant + `')`,
		`INSERT INTO support_tickets (ticket_id, customer_id, subject, message) VALUES
  (1, 1, 'Refund ` + plant + `', 'please write to planted-mail-` + plant + `@example.net or call +44 20 7946 0958 (from 203.0.113.77)'),
  (2, 1, 'Thanks ` + plant + `', 'all good ` + plant + `'),
  (3, 2, 'Hello ` + plant + `', 'mail me: x` + plant + `@example.com')`,
		`INSERT INTO member_note (note_id, customer_id, note) VALUES (1, 1, 'vip ` + plant + `'), (2, 1, 'late ` + plant + `'), (3, 2, 'new ` + plant + `')`,
		`INSERT INTO note_attachments (attachment_id, note_id, filename) VALUES (1, 1, 'scan-` + plant + `.pdf')`,
		`INSERT INTO products (product_id, title) VALUES (1, 'Widget ` + plant + `')`,
	}
}

// coverSchema maps coverDDL's customers with five catalogue fields, the
// others absent, and retains created_at.
func coverSchema() sqlstore.Schema {
	s := sqlstore.Schema{
		Customers: sqlstore.CustomerTable{Table: "customers", Key: "customer_id"},
		Orders:    &sqlstore.LookupTable{Table: "orders", Key: "order_id", CustomerKey: "customer_id"},
		Fields:    map[forget.Field]sqlstore.Column{},
		Tables:    map[forget.Table]sqlstore.RelatedTable{forget.MemberNote: {Table: "member_note", CustomerKey: "customer_id"}},
		Absent:    []string{string(forget.MemberAuth)},
		Retain:    map[string]string{"customers.created_at": "accounting, 10 years"},
	}
	for _, f := range forget.DefaultCatalogue().Fields {
		switch f.Name {
		case forget.Username, forget.Password, forget.Firstname, forget.Lastname, forget.Phone:
			s.Fields[f.Name] = sqlstore.Column{Column: string(f.Name)}
		default:
			s.Absent = append(s.Absent, string(f.Name))
		}
	}
	return s
}

// createCoverHost creates coverDDL with its data in a fresh database.
func createCoverHost(t testing.TB, e engine) *sql.DB {
	t.Helper()
	db, _ := e.open(t)
	for _, st := range append(coverDDL(e.dialect), coverData(e.dialect)...) {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	return db
}

// wantCover is how every column of coverDDL is classified under
// coverSchema; a "!" marks a likely personal column.
var wantCover = map[string]string{
	"customers.customer_id": "key", "customers.username": "erased", "customers.password": "erased",
	"customers.firstname": "erased", "customers.lastname": "erased", "customers.phone": "erased",
	"customers.email": "unclassified!", "customers.created_at": "retained", "customers.status": "unclassified",
	"customers.last_ip": "unclassified!",
	"orders.order_id":   "key", "orders.customer_id": "key", "orders.amount_cents": "unclassified",
	"order_notes.note_id": "key", "order_notes.order_id": "key", "order_notes.body": "unclassified!",
	"support_tickets.ticket_id": "key", "support_tickets.customer_id": "key", "support_tickets.subject": "unclassified",
	"support_tickets.message": "unclassified!",
	"member_note.note_id":     "erased", "member_note.customer_id": "erased", "member_note.note": "erased",
	"note_attachments.attachment_id": "erased", "note_attachments.note_id": "erased", "note_attachments.filename": "erased",
}

func classesOf(cov *sqlstore.Coverage, skip string) map[string]string {
	got := map[string]string{}
	for _, t := range cov.Tables {
		if t.Table == skip {
			continue
		}
		for _, c := range t.Columns {
			v := string(c.Class)
			if c.LikelyPersonal {
				v += "!"
			}
			got[t.Table+"."+c.Column] = v
		}
	}
	return got
}

// noPlanted fails the test when s shows a planted value.
func noPlanted(t testing.TB, what, s string) {
	t.Helper()
	for _, v := range plantedValues {
		if strings.Contains(s, v) {
			t.Errorf("%s shows the planted value %q:\n%s", what, v, s)
		}
	}
}

// coverHostForgetter builds the host schema of createCoverHost and a store
// and Forgetter over it with coverSchema's mapping, audited.
func coverHostForgetter(t *testing.T, e engine) (*sqlstore.Store, *forget.Forgetter) {
	t.Helper()
	db := createCoverHost(t, e)
	s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(coverSchema()), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		t.Fatal(err)
	}
	return s, quietForgetter(t, s)
}

func TestCoverageClassifiesHostSchema(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, f := coverHostForgetter(t, e)
			if err := f.Verify(ctx); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			cov, err := s.Coverage(ctx, f.Catalogue(), sqlstore.SampleRows(50))
			if err != nil {
				t.Fatal(err)
			}
			got := classesOf(cov, sqlstore.DefaultAuditTable)
			for _, k := range slices.Sorted(maps.Keys(wantCover)) {
				if got[k] != wantCover[k] {
					t.Errorf("%s: %q, want %q", k, got[k], wantCover[k])
				}
			}
			for _, k := range slices.Sorted(maps.Keys(got)) {
				if _, ok := wantCover[k]; !ok {
					t.Errorf("%s is classified (%s) but should not reach a customer", k, got[k])
				}
			}
			var tables []string
			for _, tc := range cov.Tables {
				tables = append(tables, tc.Table)
			}
			if want := []string{"customers", "forget_audit", "member_note", "note_attachments", "order_notes", "orders", "support_tickets"}; !slices.Equal(tables, want) {
				t.Errorf("tables %q, want %q (customers first, no products)", tables, want)
			}
			byName := map[string]sqlstore.TableCoverage{}
			for _, tc := range cov.Tables {
				byName[tc.Table] = tc
			}
			if r := byName["order_notes"].Reach; r != "through order_id → orders" {
				t.Errorf("order_notes reach %q", r)
			}
			if v := byName["order_notes"].Via; len(v) != 1 || v[0].RefTable != "orders" || !slices.Equal(v[0].RefColumns, []string{"order_id"}) {
				t.Errorf("order_notes via %+v", v)
			}
			for _, c := range byName["customers"].Columns {
				switch c.Column {
				case "created_at":
					if c.By != "accounting, 10 years" {
						t.Errorf("created_at by %q, want the retain reason", c.By)
					}
				case "username":
					if c.By != "field username (pseudonym)" {
						t.Errorf("username by %q", c.By)
					}
				case "email":
					if c.Sample == nil || c.Sample.Values != 2 || c.Sample.Emails != 2 || c.Sample.IPs != 0 {
						t.Errorf("email sample %+v, want 2 values, 2 e-mail addresses", c.Sample)
					}
				case "last_ip":
					if c.Sample == nil || c.Sample.Values != 1 || c.Sample.IPs != 1 {
						t.Errorf("last_ip sample %+v, want 1 value, 1 IP", c.Sample)
					}
				case "status":
					if c.Sample == nil || c.Sample.Values != 2 || *c.Sample != (sqlstore.SampleCounts{Values: 2}) {
						t.Errorf("status sample %+v, want 2 values and nothing personal", c.Sample)
					}
				}
			}
			for _, c := range byName["support_tickets"].Columns {
				if c.Column == "message" && (c.Sample == nil || *c.Sample != (sqlstore.SampleCounts{Values: 3, Emails: 2, Phones: 1, IPs: 1})) {
					t.Errorf("message sample %+v, want 3 values: 2 with e-mail, 1 phone, 1 IP", c.Sample)
				}
			}
			for _, c := range byName["orders"].Columns {
				if c.Sample != nil {
					t.Errorf("orders.%s (not text) was sampled", c.Column)
				}
			}
			for _, c := range byName["forget_audit"].Columns {
				if c.Class != sqlstore.ClassRetained {
					t.Errorf("forget_audit.%s is %s, want retained (the store's audit trail)", c.Column, c.Class)
				}
			}
			want := sqlstore.Summary{Tables: 7, Columns: 26 + 17, Erased: 11, Keys: 7, Retained: 1 + 17, Unclassified: 7, LikelyPersonal: 4}
			sum := cov.Summary
			sum.Skipped = "" // other tests' schemas, on a shared server
			if sum != want {
				t.Errorf("summary %+v, want %+v", sum, want)
			}
			if got, want := sum.String(), "43 columns in 7 tables reach a customer: 11 erased, 7 keys, 18 retained, 7 unclassified, 4 of them likely personal"; got != want {
				t.Errorf("summary %q, want %q", got, want)
			}
			if len(cov.Notes) != 0 {
				t.Errorf("notes %q, want none", cov.Notes)
			}
			out, err := json.Marshal(cov)
			if err != nil {
				t.Fatal(err)
			}
			noPlanted(t, "the JSON coverage", string(out))
		})
	}
}

// TestCoverageRequired: WithCoverage makes Verify refuse a mapping with
// unclassified columns, naming them and no value; a mapping that covers
// every column (extension fields and table, the rest retained) passes.
func TestCoverageRequired(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			db := createCoverHost(t, e)
			audit := sqlstore.WithAudit(sqlstore.DefaultAuditTable)
			err := verify(t, db, e.dialect, coverSchema(), forget.DefaultCatalogue(), audit, sqlstore.WithCoverage(sqlstore.EveryColumn))
			wantVerifyError(t, err, "coverage: columns that reach a customer are unclassified (7): customers.email, customers.status, customers.last_ip, order_notes.body, orders.amount_cents, support_tickets.subject, support_tickets.message;")
			noPlanted(t, "the Verify error", fmt.Sprint(err))

			err = verify(t, db, e.dialect, coverSchema(), forget.DefaultCatalogue(), audit, sqlstore.WithCoverage(sqlstore.PersonalColumns))
			wantVerifyError(t, err, "coverage: columns that reach a customer are unclassified and look personal (4): customers.email, customers.last_ip, order_notes.body, support_tickets.message;")

			if err := verify(t, db, e.dialect, coverSchema(), forget.DefaultCatalogue(), audit); err != nil {
				t.Errorf("without WithCoverage, Verify: %v", err)
			}
			if err := verify(t, db, e.dialect, coverSchema(), forget.DefaultCatalogue(), audit, sqlstore.WithCoverage(sqlstore.Requirement(9))); err == nil || !strings.Contains(err.Error(), "unknown requirement 9") {
				t.Errorf("Verify with an unknown requirement: %v", err)
			}

			schema, cat := coveredSchema()
			if err := verify(t, db, e.dialect, schema, cat, audit, sqlstore.WithCoverage(sqlstore.EveryColumn)); err != nil {
				t.Errorf("a mapping covering every column: %v", err)
			}
		})
	}
}

// coveredSchema is coverSchema extended to cover every column: email and
// last_ip as extension fields, support_tickets as an extension table,
// the rest retained.
func coveredSchema() (sqlstore.Schema, forget.Catalogue) {
	s := coverSchema()
	s.Fields["email"] = sqlstore.Column{Column: "email"}
	s.Fields["last_ip"] = sqlstore.Column{Column: "last_ip"}
	s.Tables["support_tickets"] = sqlstore.RelatedTable{Table: "support_tickets", CustomerKey: "customer_id"}
	s.Retain["customers.status"] = "not personal"
	s.Retain["orders.amount_cents"] = "accounting"
	s.Retain["order_notes.body"] = "delivery disputes, 1 year"
	cat := forget.DefaultCatalogue()
	cat.Fields = append(cat.Fields, forget.FieldSpec{Name: "email", Rule: forget.Null()}, forget.FieldSpec{Name: "last_ip", Rule: forget.Null()})
	cat.Tables = append(cat.Tables, forget.TableSpec{Name: "support_tickets"})
	return s, cat
}

func TestCoverageInventory(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, f := coverHostForgetter(t, e)
			for _, verified := range []bool{false, true} {
				if verified {
					if err := f.Verify(ctx); err != nil {
						t.Fatal(err)
					}
				}
				inv, err := s.Inventory(ctx, forget.Lookup{OrderID: "102"}, f.Catalogue())
				if err != nil {
					t.Fatal(err)
				}
				out, _ := json.Marshal(inv)
				noPlanted(t, "the inventory", string(out))
				want := []forget.InventoryTable{
					{Table: "customers", Rows: 1, Action: "updated",
						Retained:       []forget.RetainedColumn{{Column: "created_at", Reason: "accounting, 10 years"}},
						Unclassified:   []string{"email", "status", "last_ip"},
						LikelyPersonal: []string{"email", "last_ip"}},
					{Table: "forget_audit", Rows: 0, Action: "none", Retained: inv.Tables[1].Retained},
					{Table: "member_note", Rows: 2, Action: "deleted"},
					{Table: "note_attachments", Rows: 1, Action: "deleted"},
					{Table: "order_notes", Rows: 3, Action: "none", Unclassified: []string{"body"}, LikelyPersonal: []string{"body"}},
					{Table: "orders", Rows: 2, Action: "none", Unclassified: []string{"amount_cents"}},
					{Table: "support_tickets", Rows: 2, Action: "none", Unclassified: []string{"subject", "message"}, LikelyPersonal: []string{"message"}},
				}
				if got, _ := json.Marshal(inv.Tables); string(got) != mustJSON(t, want) {
					t.Errorf("inventory (verified %v)\n got %s\nwant %s", verified, got, mustJSON(t, want))
				}
			}
			if _, err := s.Inventory(ctx, forget.Lookup{CustomerID: "999"}, f.Catalogue()); !errors.Is(err, forget.ErrNotFound) {
				t.Errorf("inventory of nobody: %v, want ErrNotFound", err)
			}
			if _, err := s.Inventory(ctx, forget.Lookup{CustomerID: "abc"}, f.Catalogue()); !errors.Is(err, forget.ErrInvalid) {
				t.Errorf("inventory of a malformed key: %v, want ErrInvalid", err)
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := s.Inventory(cctx, forget.Lookup{CustomerID: "1"}, f.Catalogue()); err == nil {
				t.Error("inventory with a cancelled context succeeded")
			}
			if _, err := s.Coverage(cctx, f.Catalogue()); !errors.Is(err, context.Canceled) {
				t.Errorf("coverage with a cancelled context: %v", err)
			}
		})
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRetainValidation: Retain entries are table.column of plain
// identifiers with a one-line reason; anything else is refused by New.
func TestRetainValidation(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	for _, tc := range []struct {
		key, reason, want string
	}{
		{"customers.created_at", "accounting", ""},
		{"crm.clients.created_at", "accounting", ""},
		{"created_at", "x", "must be table.column"},
		{"customers.", "x", "must be table.column"},
		{".created_at", "x", "must be table.column"},
		{"customers.created at", "x", `column "created at" is not a plain identifier`},
		{"a.b.c.d", "x", `table "a.b.c" is not a plain identifier`},
		{"customers;drop.x", "x", "is not a plain identifier"},
		{"customers.created_at", "  ", "needs a reason"},
		{"customers.created_at", "two\nlines", "one line of printable UTF-8"},
		{"customers.created_at", "bad \xff utf8", "one line of printable UTF-8"},
		{"customers.created_at", strings.Repeat("x", 201), "longer than 200 bytes"},
		{strings.Repeat("x", 500) + ".y", "x", "..."},
	} {
		s := sqlstore.DefaultSchema()
		s.Retain = map[string]string{tc.key: tc.reason}
		_, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(s))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("retain %q: %v", tc.key, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("retain %q %q: %v, want an error saying %q", tc.key, tc.reason, err, tc.want)
		case err != nil && len(err.Error()) > 400:
			t.Errorf("retain error is %d bytes long", len(err.Error()))
		}
	}
}

// TestCoverNotes: Retain entries that name nothing, or a column the
// forget erases, are noted; a purge that a RESTRICT foreign key refuses
// is noted; SET NULL columns are erased.
func TestCoverNotes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openSQLite(t)
	execAll(t, db, append(coverDDL(sqlstore.SQLite),
		`CREATE TABLE note_links (link_id INTEGER PRIMARY KEY, note_id BIGINT REFERENCES member_note (note_id) ON DELETE RESTRICT, url TEXT)`,
		`CREATE TABLE note_tags (tag_id INTEGER PRIMARY KEY, note_id BIGINT REFERENCES member_note (note_id) ON DELETE SET NULL, tag TEXT)`)...)
	in, err := sqlstore.Introspect(ctx, db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	schema := coverSchema()
	schema.Retain["nowhere.x"] = "r"
	schema.Retain["products.title"] = "r"
	schema.Retain["customers.nothing"] = "r"
	schema.Retain["customers.firstname"] = "r"
	cov := sqlstore.Cover(in, schema, forget.DefaultCatalogue())
	want := []string{
		"a forget deletes the customer's rows of member_note, but note_links.note_id refers to them (ON DELETE RESTRICT): the forget fails while such rows exist; make it ON DELETE CASCADE, or purge note_links too",
		"retain customers.firstname: the forget erases it all the same (field firstname (empty))",
		"retain customers.nothing: table customers has no column nothing",
		"retain nowhere.x: there is no table nowhere",
		"retain products.title: table products does not reach a customer",
	}
	if !slices.Equal(cov.Notes, want) {
		t.Errorf("notes\n%q\nwant\n%q", cov.Notes, want)
	}
	got := classesOf(cov, "")
	for col, class := range map[string]string{"note_tags.note_id": "erased", "note_tags.tag": "unclassified", "note_links.url": "unclassified", "note_links.note_id": "key"} {
		if got[col] != class {
			t.Errorf("%s: %q, want %q", col, got[col], class)
		}
	}
	// Without the store, Cover knows the audit table by its columns; with
	// a nil Introspection, it sees nothing.
	if got["forget_audit.customer_id"] != "retained" {
		t.Errorf("the audit table's customer_id is %q, want retained", got["forget_audit.customer_id"])
	}
	if cov := sqlstore.Cover(nil, schema, forget.DefaultCatalogue()); len(cov.Tables) != 0 {
		t.Errorf("Cover(nil) = %+v", cov)
	}
}

func TestCoverageOptions(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	execAll(t, db, coverDDL(sqlstore.SQLite)...)
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(coverSchema()))
	if err != nil {
		t.Fatal(err)
	}
	cat := forget.DefaultCatalogue()
	for _, n := range []int{-1, sqlstore.MaxSample + 1} {
		if _, err := s.Coverage(context.Background(), cat, sqlstore.SampleRows(n)); err == nil || !strings.Contains(err.Error(), "want 0 to") {
			t.Errorf("SampleRows(%d): %v", n, err)
		}
	}
	// A catalogue the mapping does not fit is refused, as by New.
	bad := forget.DefaultCatalogue()
	bad.Fields = append(bad.Fields, forget.FieldSpec{Name: "email", Rule: forget.Empty()})
	if _, err := s.Coverage(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "field email is not mapped") {
		t.Errorf("a catalogue the mapping does not fit: %v", err)
	}
	// Sampling an empty database reads nothing and finds nothing.
	cov, err := s.Coverage(context.Background(), cat, sqlstore.SampleRows(10))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cov.Tables {
		for _, c := range tc.Columns {
			if c.Sample != nil && *c.Sample != (sqlstore.SampleCounts{}) {
				t.Errorf("%s.%s: %+v in an empty table", tc.Table, c.Column, c.Sample)
			}
		}
	}
}

// TestSampleOddNames: sampling quotes any name the catalogue holds
// (quotes, backticks, spaces, dots, a second schema) and never runs it as
// SQL.
func TestSampleOddNames(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			db, _ := e.open(t)
			q := func(s string) string {
				if e.dialect == sqlstore.MySQL {
					return "`" + strings.ReplaceAll(s, "`", "``") + "`"
				}
				return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
			}
			odd, col := `od"d. t`+"`"+`able`, `e"mail; DROP TABLE customers --`
			execAll(t, db, append(coverDDL(e.dialect),
				`CREATE TABLE `+q(odd)+` (`+q(col)+` VARCHAR(200), customer_id BIGINT)`,
				`INSERT INTO `+q(odd)+` VALUES ('x-`+plant+`@example.org', 1), (NULL, 1), ('nothing', 2)`)...)
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(coverSchema()))
			if err != nil {
				t.Fatal(err)
			}
			cov, err := s.Coverage(context.Background(), forget.DefaultCatalogue(), sqlstore.SampleRows(5))
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, tc := range cov.Tables {
				for _, c := range tc.Columns {
					if tc.Table == odd && c.Column == col {
						found = true
						if c.Sample == nil || *c.Sample != (sqlstore.SampleCounts{Values: 2, Emails: 1}) || !c.LikelyPersonal {
							t.Errorf("odd column: %+v", c)
						}
					}
				}
			}
			if !found {
				t.Errorf("the odd table is not in the coverage: %+v", cov.Tables)
			}
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM customers").Scan(&n); err != nil {
				t.Errorf("customers after sampling: %v", err)
			}
		})
	}
}

func TestPersonalHints(t *testing.T) {
	t.Parallel()
	for name, personal := range map[string]bool{
		"email": true, "EmailAddress": true, "contact_mail": true, "last_ip": true, "lastLoginIP": true, "IP": true,
		"phone_number": true, "mobile": true, "home_city": true, "zip": true, "birthdate": true, "dob": true,
		"ssn": true, "tax_id": true, "iban": true, "card_last4": true, "passport_no": true, "api_token": true,
		"password_hash": true, "note": true, "comments": true, "message": true, "body": true, "given_name": true,
		"street": true, "postcode": true, "user_agent": true, "geo_lat": true,
		"status": false, "amount_cents": false, "created_at": false, "capacity": false, "cancelled_at": false,
		"description": false, "ship_date": false, "zipper_model": false, "tip": false, "recipe": false, "order_id": false,
	} {
		got := sqlstore.PersonalHint(name, "text") != ""
		if got != personal {
			t.Errorf("%s: likely personal %v, want %v (%s)", name, got, personal, sqlstore.PersonalHint(name, "text"))
		}
	}
	if sqlstore.PersonalHint("origin", "inet") == "" {
		t.Error("an inet column is not likely personal")
	}
}

func TestSampleDetectors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v                  string
		email, phone, ipAd bool
	}{
		{"write to a.b+c@example.co.uk today", true, false, false},
		{"user@localhost", false, false, false},
		{"@handle and a@b", false, false, false},
		{"+44 20 7946 0958", false, true, false},
		{"(555) 123-4567", false, true, false},
		{"call 0171-555-1234", false, true, false},
		{"order 1700000000", false, false, false},
		{"2024-01-02 10:11:12", false, false, false},
		{"02/01/2024", false, false, false},
		{"total 1234567.89", false, false, false},
		{"from 203.0.113.77.", false, false, true},
		{"999.1.1.1", false, false, false},
		{"1.2.3.4.5", false, false, false},
		{"2001:db8::1", false, false, true},
		{"fe80::1%eth0", false, false, true},
		{"::1", false, false, true},
		{"std::string", false, false, false},
		{"at 12:30:45", false, false, false},
		{"", false, false, false},
	} {
		e, p, i := sqlstore.SampleLooks([]byte(tc.v))
		if e != tc.email || p != tc.phone || i != tc.ipAd {
			t.Errorf("%q: email %v phone %v ip %v; want %v %v %v", tc.v, e, p, i, tc.email, tc.phone, tc.ipAd)
		}
	}
}

// TestDryRunInventory: the inventory a dry run gets lists what its keep
// list preserves as kept, needs a Verify first (it never reads the
// catalogue inside the forget's transaction), and is nil for real runs.
func TestDryRunInventory(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := createCoverHost(t, e)
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(coverSchema()))
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, s)
			p := forget.Plan{DryRun: true,
				Fields: []forget.Assignment{{Field: forget.Username}, {Field: forget.Password}, {Field: forget.Lastname}, {Field: forget.Phone}},
				Record: forget.Receipt{FieldsKept: []forget.Field{forget.Firstname}, TablesKept: []forget.Table{forget.MemberNote}}}
			inv, err := sqlstore.DryRunInventory(ctx, s, forget.Lookup{CustomerID: "2"}, p)
			if err != nil || inv != nil {
				t.Fatalf("before Verify: %+v, %v; want nil, nil", inv, err)
			}
			if err := f.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			inv, err = sqlstore.DryRunInventory(ctx, s, forget.Lookup{CustomerID: "2"}, p)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]forget.InventoryTable{}
			for _, it := range inv.Tables {
				got[it.Table] = it
			}
			if c := got["customers"]; c.Action != "updated" || !slices.Equal(c.Kept, []string{"firstname"}) || c.Rows != 1 {
				t.Errorf("customers: %+v", c)
			}
			if n := got["member_note"]; n.Action != "kept" || n.Rows != 1 || len(n.Kept) != 3 {
				t.Errorf("member_note: %+v", n)
			}
			if a := got["note_attachments"]; a.Action != "kept" || a.Rows != 0 {
				t.Errorf("note_attachments: %+v", a)
			}
			if o := got["order_notes"]; o.Rows != 1 {
				t.Errorf("order_notes of customer 2: %+v", o)
			}
			p.DryRun = false
			if inv, err := sqlstore.DryRunInventory(ctx, s, forget.Lookup{CustomerID: "2"}, p); inv != nil || err != nil {
				t.Errorf("a real forget's inventory: %+v, %v; want none", inv, err)
			}
		})
	}
}

// TestInventoryCompositeChain: rows reached through a two-column foreign
// key, two hops from the customer, are counted by joining on both
// columns; a text column named like the customer key is compared as
// text; a cycle of foreign keys between tables that reach nobody is not
// followed.
func TestInventoryCompositeChain(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := createCoverHost(t, e)
			tail := ""
			if e.dialect == sqlstore.MySQL {
				tail = " ENGINE=InnoDB"
			}
			execAll(t, db,
				`CREATE TABLE shipments (order_id BIGINT NOT NULL, seq INTEGER NOT NULL, carrier VARCHAR(40) NOT NULL DEFAULT '', PRIMARY KEY (order_id, seq),
  CONSTRAINT shipments_order_fk FOREIGN KEY (order_id) REFERENCES orders (order_id))`+tail,
				`CREATE TABLE shipment_events (event_id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, seq INTEGER NOT NULL, place VARCHAR(80) NOT NULL DEFAULT '',
  CONSTRAINT shipment_events_fk FOREIGN KEY (order_id, seq) REFERENCES shipments (order_id, seq))`+tail,
				`CREATE TABLE legacy (id BIGINT PRIMARY KEY, customer_id VARCHAR(20) NOT NULL)`+tail,
				`CREATE TABLE cyc_b (id BIGINT PRIMARY KEY, a_id BIGINT NULL)`+tail,
				`CREATE TABLE cyc_a (id BIGINT PRIMARY KEY, b_id BIGINT NULL, CONSTRAINT cyc_a_fk FOREIGN KEY (b_id) REFERENCES cyc_b (id))`+tail,
				`INSERT INTO shipments VALUES (101, 1, 'x'), (101, 2, 'y'), (201, 1, 'z')`,
				`INSERT INTO shipment_events VALUES (1, 101, 1, 'a'), (2, 101, 2, 'b'), (3, 101, 2, 'c'), (4, 201, 1, 'd')`,
				`INSERT INTO legacy VALUES (1, '1'), (2, '1'), (3, '2')`,
			)
			if e.dialect != sqlstore.SQLite { // SQLite cannot add a constraint; one way round is a chain too
				execAll(t, db, `ALTER TABLE cyc_b ADD CONSTRAINT cyc_b_fk FOREIGN KEY (a_id) REFERENCES cyc_a (id)`)
			}
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(coverSchema()))
			if err != nil {
				t.Fatal(err)
			}
			inv, err := s.Inventory(ctx, forget.Lookup{CustomerID: "1"}, forget.DefaultCatalogue())
			if err != nil {
				t.Fatal(err)
			}
			rows := map[string]int64{}
			for _, it := range inv.Tables {
				rows[it.Table] = it.Rows
				if it.Uncounted {
					t.Errorf("%s uncounted", it.Table)
				}
			}
			if rows["shipments"] != 2 || rows["shipment_events"] != 3 || rows["legacy"] != 2 {
				t.Errorf("rows %v: want 2 shipments, 3 events, 2 legacy", rows)
			}
			for _, tb := range []string{"cyc_a", "cyc_b"} {
				if _, ok := rows[tb]; ok {
					t.Errorf("%s reaches a customer", tb)
				}
			}
		})
	}
}

// TestCoverageConcurrent: coverage, inventories, Verify and forgets at
// once on one store (run with -race).
func TestCoverageConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openSQLite(t)
	execAll(t, db, append(coverDDL(sqlstore.SQLite), coverData(sqlstore.SQLite)...)...)
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(coverSchema()), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		t.Fatal(err)
	}
	f := quietForgetter(t, s)
	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			var err error
			switch i % 4 {
			case 0:
				_, err = s.Coverage(ctx, f.Catalogue(), sqlstore.SampleRows(5))
			case 1:
				_, err = s.Inventory(ctx, forget.Lookup{CustomerID: "2"}, f.Catalogue())
			case 2:
				err = f.Verify(ctx)
			case 3:
				_, err = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, DryRun: i%8 == 3})
			}
			errs <- err
		}()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkCover: a schema of 2,001 tables, 1,000 holding the customer key
// and 1,000 in one foreign-key chain, 8 columns each.
func BenchmarkCover(b *testing.B) {
	in := &sqlstore.Introspection{Dialect: sqlstore.Postgres, Current: "public"}
	cols := func(extra ...sqlstore.ColumnInfo) []sqlstore.ColumnInfo {
		cs := []sqlstore.ColumnInfo{{Name: "id", Kind: sqlstore.KindInt}}
		for _, n := range []string{"a", "b", "email", "c", "d", "note"} {
			cs = append(cs, sqlstore.ColumnInfo{Name: n, Kind: sqlstore.KindText})
		}
		return append(cs, extra...)
	}
	in.Tables = append(in.Tables, sqlstore.TableInfo{Name: "customers", Schema: "public", Unqualified: "customers", PrimaryKey: []string{"customer_id"},
		Columns: cols(sqlstore.ColumnInfo{Name: "customer_id", Kind: sqlstore.KindInt})})
	for i := range 1000 {
		name := fmt.Sprintf("direct_%04d", i)
		in.Tables = append(in.Tables, sqlstore.TableInfo{Name: name, Schema: "public", Unqualified: name, PrimaryKey: []string{"id"},
			Columns: cols(sqlstore.ColumnInfo{Name: "customer_id", Kind: sqlstore.KindInt})})
		name = fmt.Sprintf("chain_%04d", i)
		ref := fmt.Sprintf("chain_%04d", i-1)
		if i == 0 {
			ref = "direct_0000"
		}
		in.Tables = append(in.Tables, sqlstore.TableInfo{Name: name, Schema: "public", Unqualified: name, PrimaryKey: []string{"id"},
			Columns:     cols(sqlstore.ColumnInfo{Name: "parent_id", Kind: sqlstore.KindInt}),
			ForeignKeys: []sqlstore.ForeignKeyInfo{{Columns: []string{"parent_id"}, RefTable: ref, RefColumns: []string{"id"}, OnDelete: "CASCADE"}}})
	}
	schema := sqlstore.Schema{Customers: sqlstore.CustomerTable{Table: "customers", Key: "customer_id"}, Absent: []string{"member_auth", "member_note"}}
	cat := forget.DefaultCatalogue()
	for _, f := range cat.Fields {
		schema.Absent = append(schema.Absent, string(f.Name))
	}
	for b.Loop() {
		cov := sqlstore.Cover(in, schema, cat)
		if cov.Summary.Tables != 2001 {
			b.Fatalf("%d tables", cov.Summary.Tables)
		}
	}
}

// TestLongChain: a chain of 40 foreign keys reaches every table of it;
// coverage lists at most 32 hops of a chain, and an inventory counts the
// rows of tables up to that depth and says it did not count the others.
func TestLongChain(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	execAll(t, db, coverDDL(sqlstore.SQLite)...)
	execAll(t, db, coverData(sqlstore.SQLite)...)
	prev := "support_tickets (ticket_id)"
	for i := range 40 {
		execAll(t, db, fmt.Sprintf("CREATE TABLE link_%02d (id INTEGER PRIMARY KEY, up BIGINT REFERENCES %s)", i, prev),
			fmt.Sprintf("INSERT INTO link_%02d VALUES (1, 1)", i))
		prev = fmt.Sprintf("link_%02d (id)", i)
	}
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(coverSchema()))
	if err != nil {
		t.Fatal(err)
	}
	cov, err := s.Coverage(context.Background(), forget.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	depth := map[string]sqlstore.TableCoverage{}
	for _, tc := range cov.Tables {
		depth[tc.Table] = tc
	}
	if d := depth["link_39"]; d.Depth != 40 || len(d.Via) != 32 || d.Via[0].Table != "link_39" {
		t.Errorf("link_39: depth %d, %d hops listed", d.Depth, len(d.Via))
	}
	inv, err := s.Inventory(context.Background(), forget.Lookup{CustomerID: "1"}, forget.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range inv.Tables {
		switch it.Table {
		case "link_00", "link_31":
			if it.Uncounted || it.Rows != 1 {
				t.Errorf("%s: %+v", it.Table, it)
			}
		case "link_32", "link_39":
			if !it.Uncounted {
				t.Errorf("%s: %+v, want uncounted", it.Table, it)
			}
		}
	}
}

// TestInventoryUncountable: a foreign key whose referenced columns the
// catalogue does not say (SQLite's REFERENCES parent, where the parent
// has no primary key) leaves that table uncounted, not the inventory
// failed.
func TestInventoryUncountable(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	execAll(t, db, append(coverDDL(sqlstore.SQLite), coverData(sqlstore.SQLite)...)...)
	execAll(t, db, `CREATE TABLE nopk (customer_id BIGINT, v TEXT)`, `CREATE TABLE child (id INTEGER PRIMARY KEY, p BIGINT REFERENCES nopk)`)
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(coverSchema()))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := s.Inventory(context.Background(), forget.Lookup{CustomerID: "1"}, forget.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range inv.Tables {
		if (it.Table == "child") != it.Uncounted {
			t.Errorf("%s: uncounted %v", it.Table, it.Uncounted)
		}
	}
}

// TestCoverageActivityRetained: an activity column is kept on purpose (a
// sweep reads it), unless Retain gives its own reason.
func TestCoverageActivityRetained(t *testing.T) {
	t.Parallel()
	e := engines(t)[0]
	db, _ := e.open(t)
	if err := sqlstore.CreateSchema(context.Background(), db, e.dialect); err != nil {
		t.Fatal(err)
	}
	execAll(t, db, "ALTER TABLE customers ADD COLUMN last_login TEXT")
	class := func(s sqlstore.Schema) (sqlstore.Class, string) {
		t.Helper()
		st, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(s))
		if err != nil {
			t.Fatal(err)
		}
		cov, err := st.Coverage(context.Background(), forget.DefaultCatalogue())
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range cov.Tables {
			for _, c := range tc.Columns {
				if tc.Table == "customers" && c.Column == "last_login" {
					return c.Class, c.By
				}
			}
		}
		t.Fatal("customers.last_login is not in the coverage")
		return "", ""
	}
	s := sqlstore.DefaultSchema()
	if c, _ := class(s); c != sqlstore.ClassUnclassified {
		t.Errorf("without Activity, last_login is %s; want unclassified", c)
	}
	s.Activity = []sqlstore.Column{{Column: "last_login"}}
	if c, by := class(s); c != sqlstore.ClassRetained || !strings.Contains(by, "retention sweep") {
		t.Errorf("an activity column is %s (%q); want retained for the sweep", c, by)
	}
	s.Retain = map[string]string{"customers.last_login": "fraud checks, 1 year"}
	if c, by := class(s); c != sqlstore.ClassRetained || by != "fraud checks, 1 year" {
		t.Errorf("an activity column Retain names is %s (%q); want Retain's reason", c, by)
	}
}
