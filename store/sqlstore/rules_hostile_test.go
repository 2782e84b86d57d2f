package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// rulesForgetter is the rules test's Forgetter over db, verified.
func rulesForgetter(t *testing.T, db *sql.DB, e engine) *forget.Forgetter {
	t.Helper()
	f, err := hostileForgetter(t, db, e, rulesMapping)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func bind(e engine, q string) string {
	if e.dialect != sqlstore.Postgres {
		return q
	}
	for i := 1; strings.Contains(q, "?"); i++ {
		q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
	}
	return q
}

func TestRedactionHostile(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			exec := func(t *testing.T, db *sql.DB, q string, args ...any) {
				t.Helper()
				if _, err := db.ExecContext(ctx, bind(e, q), args...); err != nil {
					t.Fatal(err)
				}
			}
			t.Run("InvalidJSONRefusesAndChangesNothing", func(t *testing.T) {
				if e.name != "sqlite" {
					t.Skip("json and jsonb columns hold valid JSON only")
				}
				db, _ := e.open(t)
				seedRules(t, ctx, db, e)
				exec(t, db, `UPDATE people SET profile = ? WHERE id = 1`, `{"phone": "+1-555-0101",`)
				f := rulesForgetter(t, db, e)
				before := dumpRows(t, ctx, db, `SELECT * FROM people ORDER BY id`)
				_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
				if err == nil || !strings.Contains(err.Error(), "people.profile") || strings.Contains(err.Error(), "0101") {
					t.Errorf("Forget = %v, want a refusal naming people.profile and no value", err)
				}
				if after := dumpRows(t, ctx, db, `SELECT * FROM people ORDER BY id`); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Error("a refused forget changed rows")
				}
			})
			t.Run("LikeWildcardsAndRegexInPreimages", func(t *testing.T) {
				db, _ := e.open(t)
				seedRules(t, ctx, db, e)
				exec(t, db, `UPDATE people SET firstname = ? WHERE id = 1`, `50%_off!(a+)`)
				exec(t, db, `INSERT INTO tickets VALUES (10, ?)`, `promo 50%_off!(a+) today`)
				exec(t, db, `INSERT INTO tickets VALUES (11, ?)`, `promo 50XYoff!(aa) today`)
				f := rulesForgetter(t, db, e)
				if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
					t.Fatal(err)
				}
				got := dumpRows(t, ctx, db, `SELECT body FROM tickets WHERE id >= 10 ORDER BY id`)
				if got[0][0].String != "promo [redacted] today" || got[1][0].String != "promo 50XYoff!(aa) today" {
					t.Errorf("tickets = %v", got)
				}
			})
			t.Run("HugeAndOddText", func(t *testing.T) {
				db, _ := e.open(t)
				seedRules(t, ctx, db, e)
				reps := 1 << 15
				if e.name == "mysql" {
					reps = 1 << 12 // TEXT holds 64 KiB there
				}
				huge := strings.Repeat("ünïcødé ", reps) + "alice.liddell@example.com" + strings.Repeat(" x", 1000)
				// İ lowers to i: ALİCE is Alice, case-insensitively.
				odd := "Ⅻ ALİCE \u200bLiddell\u200b end"
				exec(t, db, `INSERT INTO notes VALUES (10, 1, ?)`, huge)
				exec(t, db, `INSERT INTO notes VALUES (11, 1, ?)`, odd)
				if e.name == "sqlite" { // PostgreSQL text holds no NUL; MariaDB does, but its driver's escaping differs
					exec(t, db, `INSERT INTO notes VALUES (12, 1, ?)`, "a\x00Liddell\x00b")
				}
				f := rulesForgetter(t, db, e)
				rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
				if err != nil {
					t.Fatal(err)
				}
				got := dumpRows(t, ctx, db, `SELECT id, body FROM notes WHERE id >= 10 ORDER BY id`)
				if want := strings.Repeat("ünïcødé ", reps) + "[redacted]" + strings.Repeat(" x", 1000); got[0][1].String != want {
					t.Errorf("huge note: %d bytes, want %d", len(got[0][1].String), len(want))
				}
				if want := "Ⅻ [redacted] \u200b[redacted]\u200b end"; got[1][1].String != want {
					t.Errorf("odd note = %q, want %q", got[1][1].String, want)
				}
				if len(got) > 2 && got[2][1].String != "a\x00[redacted]\x00b" {
					t.Errorf("NUL note = %q", got[2][1].String)
				}
				if rc.Redactions["notes.body"] < 4 {
					t.Errorf("redactions = %v", rc.Redactions)
				}
			})
			t.Run("Batch", func(t *testing.T) {
				db, _ := e.open(t)
				seedRules(t, ctx, db, e)
				f := rulesForgetter(t, db, e)
				out := f.ForgetBatch(ctx, []forget.Request{{Lookup: forget.Lookup{CustomerID: "1"}}, {Lookup: forget.Lookup{CustomerID: "2"}}})
				for i, o := range out {
					if o.Err != nil {
						t.Fatalf("item %d: %v", i, o.Err)
					}
				}
				notes := dumpRows(t, ctx, db, `SELECT body FROM notes ORDER BY id`)
				if notes[2][0].String != "Bob says hi to Alice; mail [redacted]" { // Bob: under 4 characters
					t.Errorf("customer 2's note = %q", notes[2][0].String)
				}
				tickets := dumpRows(t, ctx, db, `SELECT body FROM tickets WHERE id = 2`)
				if tickets[0][0].String != "Bob's own ticket: call [redacted]" {
					t.Errorf("ticket 2 = %q", tickets[0][0].String)
				}
			})
			t.Run("TwoCataloguesOneStore", func(t *testing.T) {
				// Plans of one shape but for their store-side rules
				// never share a cached script.
				db, _ := e.open(t)
				seedRules(t, ctx, db, e)
				schema, err := sqlstore.LoadSchema(strings.NewReader(rulesMapping))
				if err != nil {
					t.Fatal(err)
				}
				store, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithHashKey([]byte("0123456789abcdef")))
				if err != nil {
					t.Fatal(err)
				}
				redacting, err := schema.Catalogue(forget.DefaultCatalogue())
				if err != nil {
					t.Fatal(err)
				}
				blanking, _ := schema.Catalogue(forget.DefaultCatalogue())
				for i, ts := range blanking.Tables {
					if ts.Name == forget.MemberNote {
						blanking.Tables[i].Scrub = []forget.ColumnRule{{Column: "body", Rule: forget.Empty()}}
					}
				}
				for _, c := range []struct {
					cat  forget.Catalogue
					id   string
					want string
				}{{redacting, "1", "[redacted] asked to write to [redacted] or cc [redacted]"}, {blanking, "2", ""}} {
					f, err := forget.New(store, forget.WithCatalogue(c.cat))
					if err != nil {
						t.Fatal(err)
					}
					if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: c.id}}); err != nil {
						t.Fatal(err)
					}
				}
				notes := dumpRows(t, ctx, db, `SELECT body FROM notes ORDER BY id`)
				if notes[0][0].String != "[redacted] asked to write to [redacted] or cc [redacted]" || notes[2][0].String != "" {
					t.Errorf("notes = %v", notes)
				}
			})
			t.Run("DryRunChangesNothing", func(t *testing.T) {
				db, _ := e.open(t)
				seedRules(t, ctx, db, e)
				f := rulesForgetter(t, db, e)
				dump := func() string {
					return fmt.Sprint(dumpRows(t, ctx, db, `SELECT * FROM people ORDER BY id`), dumpRows(t, ctx, db, `SELECT * FROM notes ORDER BY id`), dumpRows(t, ctx, db, `SELECT * FROM tickets ORDER BY id`))
				}
				before := dump()
				rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, DryRun: true})
				if err != nil {
					t.Fatal(err)
				}
				if dump() != before {
					t.Error("a dry run changed rows")
				}
				if rc.Redactions["tickets.body"] != 2 || rc.RowsScrubbed["tickets"] != 2 {
					t.Errorf("dry run receipt: %v %v", rc.Redactions, rc.RowsScrubbed)
				}
			})
		})
	}
}

// TestTypedLiteralsInSetBasedBatch: a batch of customers whose plans
// have typed fixed literals (and no store-side rule) runs set-based, and
// every engine takes the literals there too.
func TestTypedLiteralsInSetBasedBatch(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			seedRules(t, ctx, db, e)
			mapping := rulesMapping
			for _, cut := range []string{
				`"email":     {"column": "email", "rule": "keyed_hash"},`,
				`"profile":   {"column": "profile", "rule": {"rule": "redact_json", "paths": ["phone", "$.address.*"]}},`,
			} {
				mapping = strings.Replace(mapping, cut, "", 1)
			}
			mapping = strings.Replace(mapping, `"scrub": {"body": {"rule": "redact_text", "patterns": ["email"]}}},`, `"scrub": {"body": "empty"}}`, 1)
			mapping = strings.Replace(mapping, `"tickets":     {"table": "tickets", "via": {"mentions": true}, "scrub": {"body": "redact_text"}}`, ``, 1)
			mapping = strings.Replace(mapping, `"absent": [`, `"absent": ["email", "profile", `, 1)
			schema, err := sqlstore.LoadSchema(strings.NewReader(mapping))
			if err != nil {
				t.Fatal(err)
			}
			store, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema))
			if err != nil {
				t.Fatal(err)
			}
			cat, err := schema.Catalogue(forget.DefaultCatalogue())
			if err != nil {
				t.Fatal(err)
			}
			f, err := forget.New(store, forget.WithCatalogue(cat))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			for i, o := range f.ForgetBatch(ctx, []forget.Request{{Lookup: forget.Lookup{CustomerID: "1"}}, {Lookup: forget.Lookup{CustomerID: "2"}}}) {
				if o.Err != nil {
					t.Fatalf("item %d: %v", i, o.Err)
				}
			}
			got := dumpRows(t, ctx, db, `SELECT ext_id, born FROM people ORDER BY id`)
			for _, r := range got {
				if r[0].String != "00000000-0000-0000-0000-000000000000" || !strings.HasPrefix(r[1].String, "1900-01-01") {
					t.Errorf("row = %v", r)
				}
			}
			if sets, fallbacks := sqlstore.BulkStats(store); sets != 1 || fallbacks != 0 {
				t.Errorf("set-based groups %d, fallbacks %d; want 1 and 0", sets, fallbacks)
			}
		})
	}
}

// TestDerivedFieldInJoinedTable: a store-side rule on a field of a joined
// table redacts the customer's row there; a customer without a row has
// the field in the receipt's absent, not erased.
func TestDerivedFieldInJoinedTable(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			seedRules(t, ctx, db, e)
			for _, st := range []string{
				`CREATE TABLE bios (id BIGINT PRIMARY KEY, person_id BIGINT NOT NULL UNIQUE, bio TEXT NOT NULL)`,
				`INSERT INTO bios VALUES (7, 1, 'I am Alice Liddell of Oxford')`,
			} {
				if _, err := db.ExecContext(ctx, st); err != nil {
					t.Fatal(err)
				}
			}
			mapping := strings.Replace(rulesMapping, `"fields": {`, `"joined": {"bios": "person_id"}, "fields": {"bio": {"table": "bios", "column": "bio", "rule": "redact_text"},`, 1)
			schema, err := sqlstore.LoadSchema(strings.NewReader(mapping))
			if err != nil {
				t.Fatal(err)
			}
			store, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithHashKey([]byte("0123456789abcdef")))
			if err != nil {
				t.Fatal(err)
			}
			cat, err := schema.Catalogue(forget.DefaultCatalogue())
			if err != nil {
				t.Fatal(err)
			}
			f, err := forget.New(store, forget.WithCatalogue(cat))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
			if err != nil {
				t.Fatal(err)
			}
			var bio string
			if err := db.QueryRowContext(ctx, `SELECT bio FROM bios WHERE id = 7`).Scan(&bio); err != nil || bio != "I am [redacted] [redacted] of Oxford" {
				t.Errorf("bio = %q, %v", bio, err)
			}
			if rc.RowsUpdated["bios"] != 1 || rc.Redactions["bios.bio"] != 2 {
				t.Errorf("receipt: updated %v, redactions %v", rc.RowsUpdated, rc.Redactions)
			}
			rc, err = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "2"}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(rc.Absent, "bio") || slices.Contains(rc.FieldsErased, "bio") || rc.RowsUpdated["bios"] != 0 {
				t.Errorf("customer without a bio: absent %v, erased %v, updated %v", rc.Absent, rc.FieldsErased, rc.RowsUpdated)
			}
		})
	}
}

// TestKeyedHashOfAViaFrom: a table reached by the value of a column a
// keyed hash rewrites (newsletter by e-mail) finds the customer's rows by
// the e-mail as it was: the via's values are read before the hash.
func TestKeyedHashOfAViaFrom(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			seedRules(t, ctx, db, e)
			for _, st := range []string{
				`CREATE TABLE newsletter (id BIGINT PRIMARY KEY, email VARCHAR(128) NOT NULL)`,
				`CREATE INDEX newsletter_email ON newsletter (email)`,
				`INSERT INTO newsletter VALUES (1, 'alice.liddell@example.com'), (2, 'bob@example.org')`,
			} {
				if _, err := db.ExecContext(ctx, st); err != nil {
					t.Fatal(err)
				}
			}
			mapping := strings.Replace(rulesMapping, `"tables": {`, `"tables": {"newsletter": {"table": "newsletter", "via": {"column": "email", "from": "people.email"}, "shared": "keep"},`, 1)
			schema, err := sqlstore.LoadSchema(strings.NewReader(mapping))
			if err != nil {
				t.Fatal(err)
			}
			store, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithHashKey([]byte("0123456789abcdef")))
			if err != nil {
				t.Fatal(err)
			}
			cat, err := schema.Catalogue(forget.DefaultCatalogue())
			if err != nil {
				t.Fatal(err)
			}
			f, err := forget.New(store, forget.WithCatalogue(cat))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := dumpRows(t, ctx, db, `SELECT id FROM newsletter ORDER BY id`); len(got) != 1 || got[0][0].String != "2" || rc.RowsDeleted["newsletter"] != 1 {
				t.Errorf("newsletter = %v, deleted %v", got, rc.RowsDeleted)
			}
			var email string
			if err := db.QueryRowContext(ctx, `SELECT email FROM people WHERE id = 1`).Scan(&email); err != nil || len(email) != 64 {
				t.Errorf("email = %q, %v", email, err)
			}
		})
	}
}

// TestRedactionOfATableReachedByVia: gift messages under the customer's
// orders (reached by foreign key) are redacted, others' left as they are.
func TestRedactionOfATableReachedByVia(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			seedRules(t, ctx, db, e)
			for _, st := range []string{
				`CREATE TABLE orders (id BIGINT PRIMARY KEY, person_id BIGINT NOT NULL, total INT NOT NULL)`,
				`CREATE INDEX orders_person ON orders (person_id)`,
				`CREATE TABLE order_items (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES orders (id), gift_message TEXT NOT NULL, sku TEXT NOT NULL)`,
				`CREATE INDEX order_items_order ON order_items (order_id)`,
				`INSERT INTO orders VALUES (10, 1, 5), (20, 2, 7)`,
				`INSERT INTO order_items VALUES (100, 10, 'For Alice, call +1 555 0101', 'a'), (101, 10, 'no message', 'b'), (200, 20, 'For Alice from Bob', 'c')`,
			} {
				if _, err := db.ExecContext(ctx, st); err != nil {
					t.Fatal(err)
				}
			}
			mapping := strings.Replace(rulesMapping, `"tables": {`, `"tables": {
			  "orders": {"table": "orders", "customer_key": "person_id", "scrub": {"total": {"rule": "fixed", "value": 0}}},
			  "order_items": {"table": "order_items", "via": {"column": "order_id", "from": "orders.id"}, "scrub": {"gift_message": "redact_text"}},`, 1)
			schema, err := sqlstore.LoadSchema(strings.NewReader(mapping))
			if err != nil {
				t.Fatal(err)
			}
			store, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithHashKey([]byte("0123456789abcdef")))
			if err != nil {
				t.Fatal(err)
			}
			cat, err := schema.Catalogue(forget.DefaultCatalogue())
			if err != nil {
				t.Fatal(err)
			}
			f, err := forget.New(store, forget.WithCatalogue(cat))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
			if err != nil {
				t.Fatal(err)
			}
			got := dumpRows(t, ctx, db, `SELECT gift_message, sku FROM order_items ORDER BY id`)
			want := []string{"For [redacted], call [redacted]", "no message", "For Alice from Bob"}
			for i, r := range got {
				if r[0].String != want[i] {
					t.Errorf("item %d = %q, want %q", i, r[0].String, want[i])
				}
			}
			if rc.RowsScrubbed["order_items"] != 2 || rc.Redactions["order_items.gift_message"] != 2 {
				t.Errorf("receipt: scrubbed %v, redactions %v", rc.RowsScrubbed, rc.Redactions)
			}
		})
	}
}
