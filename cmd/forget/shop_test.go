package main

// The acceptance test of issue 19: a realistic shop (testdata/shop), one
// mapping file (docs/examples/shop.json), three engines. lint passes with
// the mapping and fails without any one of its personal entries; after
// one forget, by the command or by a Go host loading the same file, a
// dump of every table and view holds none of the forgotten customer's
// planted values, and the rest of it is what it was.

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
)

// shopCLI runs the command and fails the test if its output shows any
// customer's planted value: names and counts only, never a value.
func shopCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	code, out, errOut := runMain(args...)
	values := []string{shopStranger}
	for _, n := range shopCustomers {
		values = append(values, shopPlanted(n)...)
	}
	if v, ok := holdsAny(out+errOut, values); ok {
		t.Errorf("forget %s shows the planted value %q:\n%s\n%s", strings.Join(args, " "), v, out, errOut)
	}
	return code, out, errOut
}

// TestShopLint: lint passes with the shop's mapping and fails, naming the
// column, with a mapping missing any one of its personal entries.
func TestShopLint(t *testing.T) {
	t.Parallel()
	mapping, err := os.ReadFile(shopMapping)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := openShop(t, e)
			code, out, errOut := shopCLI(t, append([]string{"lint", "-json", "-schema", shopMapping}, s.args...)...)
			if code != exitOK {
				t.Errorf("lint of the shop's mapping: exit %d\n%s\n%s", code, out, errOut)
			}
			// The report never lies: the forget runs (TestShopForgetCommand),
			// so no note may say it fails.
			var full struct{ Notes []string }
			if err := json.Unmarshal([]byte(out), &full); err != nil {
				t.Errorf("lint -json: %v\n%s", err, out)
			}
			for _, n := range full.Notes {
				if strings.Contains(n, "forget fails") {
					t.Errorf("lint of the shop's mapping says a forget fails, but it runs: %s", n)
				}
			}
			for _, c := range []struct {
				drop string // a path into the mapping, dot-separated
				want string // a column lint must then name
			}{
				{"fields.email", "users.email"},
				{"fields.profile", "users.profile"},
				{"tables.addresses", "addresses.line1"},
				{"tables.orders.scrub.ship_phone", "orders.ship_phone"},
				{"tables.order_items", "order_items.gift_message"},
				{"tables.login_events", "login_events.ip"},
				{"tables.tickets", "tickets.body"},
				{"tables.phones", "phones.number"},
				{"retain.customer_directory.phone", "customer_directory.phone"},
			} {
				t.Run(strings.ReplaceAll(c.drop, ".", "_"), func(t *testing.T) {
					file := filepath.Join(t.TempDir(), "mapping.json")
					if err := os.WriteFile(file, withoutEntry(t, mapping, c.drop), 0o600); err != nil {
						t.Fatal(err)
					}
					code, out, errOut := shopCLI(t, append([]string{"lint", "-json", "-schema", file}, s.args...)...)
					var rep struct {
						OK      bool `json:"ok"`
						Failing []struct {
							Column string `json:"column"`
						} `json:"failing"`
					}
					if code != exitFailed || json.Unmarshal([]byte(out), &rep) != nil || rep.OK {
						t.Fatalf("lint without %s: exit %d, want %d and a report of the columns left unclassified\n%s\n%s", c.drop, code, exitFailed, out, errOut)
					}
					named := slices.ContainsFunc(rep.Failing, func(f struct {
						Column string `json:"column"`
					}) bool {
						return f.Column == c.want || strings.HasSuffix(f.Column, "."+c.want)
					})
					if !named {
						t.Errorf("lint without %s does not name %s:\n%s", c.drop, c.want, out)
					}
				})
			}
		})
	}
}

// withoutEntry returns the mapping without the entry at path (keys joined
// by dots; a retain key, itself dotted, is the rest of the path).
func withoutEntry(t *testing.T, mapping []byte, path string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(mapping, &m); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(path, ".")
	if parts[0] == "retain" {
		parts = []string{"retain", strings.Join(parts[1:], ".")}
	}
	obj := m
	for _, p := range parts[:len(parts)-1] {
		next, ok := obj[p].(map[string]any)
		if !ok {
			t.Fatalf("the mapping has no %s", path)
		}
		obj = next
	}
	last := parts[len(parts)-1]
	if _, ok := obj[last]; !ok {
		t.Fatalf("the mapping has no %s", path)
	}
	delete(obj, last)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestShopForgetCommand: `forget run -schema docs/examples/shop.json` on
// each engine. A dry run changes nothing; the forget leaves none of the
// customer's planted values in any table or view (the materialized view
// refreshed, as the docs tell the host) and every other row as it was.
func TestShopForgetCommand(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := openShop(t, e)
			before := s.dump(t)
			id := s.idText(userID(shopForgotten))
			run := append([]string{"run", "-schema", shopMapping, "-customer-id", id}, s.args...)
			code, out, errOut := shopCLI(t, append(run, "-dry-run")...)
			if code != exitOK {
				t.Errorf("run -dry-run: exit %d\n%s\n%s", code, out, errOut)
			} else {
				checkShopReceipt(t, "the dry run's receipt", out)
			}
			s.refresh(t)
			if got := s.dump(t).text(); got != before.text() {
				t.Errorf("the dry run changed the database:\n%s", lineDiff(before.text(), got))
			}
			code, out, errOut = shopCLI(t, run...)
			if code != exitOK {
				t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
			}
			checkShopReceipt(t, "the receipt", out)
			s.refresh(t)
			s.checkForgotten(t, before, s.dump(t))
			// Idempotent: forgetting the forgotten customer again succeeds
			// and leaves the rest as it was.
			if code, out, errOut = shopCLI(t, run...); code != exitOK {
				t.Fatalf("run again: exit %d\n%s\n%s", code, out, errOut)
			}
			s.refresh(t)
			s.checkForgotten(t, before, s.dump(t))
		})
	}
}

// checkShopReceipt checks what a receipt (as JSON) says a forget of
// shopForgotten did: the rows it deleted per table, those it scrubbed in
// the tables keyed by the customer, and the extension fields erased.
func checkShopReceipt(t *testing.T, what, receipt string) forget.Receipt {
	t.Helper()
	var r forget.Receipt
	if err := json.Unmarshal([]byte(receipt), &r); err != nil {
		t.Errorf("%s is not a receipt: %v\n%s", what, err, receipt)
		return r
	}
	deleted := map[forget.Table]int64{}
	for table, n := range r.RowsDeleted {
		if n != 0 {
			deleted[table] = n
		}
	}
	if want := map[forget.Table]int64{"addresses": 2, "newsletter": 1, "customer_phones": 2, "phones": 2}; !maps.Equal(deleted, want) {
		t.Errorf("%s: rows_deleted %v, want %v", what, deleted, want)
	}
	for _, table := range []forget.Table{"orders", "login_events"} {
		if r.RowsScrubbed[table] != 2 {
			t.Errorf("%s: rows_scrubbed[%s] = %d, want 2 (rows_scrubbed %v)", what, table, r.RowsScrubbed[table], r.RowsScrubbed)
		}
	}
	for _, f := range []forget.Field{"email", "profile", "username", "password", "firstname", "lastname", "phone"} {
		if !slices.Contains(r.FieldsErased, f) {
			t.Errorf("%s: fields_erased %v lacks %s", what, r.FieldsErased, f)
		}
	}
	return r
}

// lineDiff lists the lines of a that b lacks (-) and of b that a lacks (+).
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestShopCheck checks the check: a forget done by hand, exactly as the
// mapping says, passes checkForgotten on every engine; the same forget
// with any one step left out or overdone fails it. So a failure of the
// acceptance tests above is the forget's, not the fixture's.
func TestShopCheck(t *testing.T) {
	t.Parallel()
	steps := []string{"users", "profile", "addresses", "orders", "gift", "newsletter", "logins", "own_ticket",
		"ticket_13", "ticket_14", "customer_phones", "phones"}
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := openShop(t, e)
			before := s.dump(t)
			s.forgetByHand(t, steps, "")
			s.refresh(t)
			s.checkForgotten(t, before, s.dump(t))
			for _, skip := range append(slices.Clone(steps), "over:ticket_11", "over:amount", "over:delete_13", "over:zip") {
				t.Run(strings.ReplaceAll(skip, ":", "_"), func(t *testing.T) {
					s := openShop(t, e)
					before := s.dump(t)
					s.forgetByHand(t, steps, skip)
					s.refresh(t)
					rec := &recorder{TB: t}
					s.checkForgotten(rec, before, s.dump(t))
					if len(rec.errs) == 0 {
						t.Errorf("a forget that gets %s wrong passes the check", skip)
					}
				})
			}
		})
	}
}

// recorder collects a check's errors instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, format)
}

// redact replaces each of the forgotten customer's values in text, in any
// case, as a redaction rule would.
func redact(text string) string {
	for _, v := range shopPlanted(shopForgotten) {
		text = regexp.MustCompile("(?i)"+regexp.QuoteMeta(v)).ReplaceAllString(text, "[redacted]")
	}
	return text
}

// forgetByHand does what the shop's mapping asks of a forget of
// shopForgotten, one named step at a time, but for skip; "over:X" does
// one thing too many.
func (s *shopDB) forgetByHand(t *testing.T, steps []string, skip string) {
	t.Helper()
	n := shopForgotten
	u := s.id(userID(n))
	text := func(table, column string, id int) {
		var v string
		q := "SELECT " + column + " FROM " + table + " WHERE id = ?"
		if s.dialect == sqlstore.Postgres {
			q = strings.Replace(q, "?", "$1", 1)
		}
		if err := s.db.QueryRow(q, s.id(id)).Scan(&v); err != nil {
			t.Fatal(err)
		}
		s.exec(t, "UPDATE "+table+" SET "+column+" = ? WHERE id = ?", redact(v), s.id(id))
	}
	for _, step := range steps {
		if step == skip {
			continue
		}
		switch step {
		case "users":
			s.exec(t, "UPDATE users SET username = ?, password_hash = ?, first_name = '', last_name = '', email = ?, phone = NULL, home_address_id = NULL WHERE id = ?",
				"forgot-0123456789abcdef", "r4nd0m-0123456789abcdef", "forgot-fedcba9876543210", u)
		case "profile":
			switch s.dialect {
			case sqlstore.Postgres:
				s.exec(t, "UPDATE users SET profile = profile - 'phone' - 'birth_date' WHERE id = ?", u)
			default:
				s.exec(t, "UPDATE users SET profile = JSON_REMOVE(profile, '$.phone', '$.birth_date') WHERE id = ?", u)
			}
		case "addresses":
			s.exec(t, "UPDATE users SET home_address_id = NULL WHERE id = ?", u)
			s.exec(t, "DELETE FROM addresses WHERE user_id = ?", u)
		case "orders":
			s.exec(t, "UPDATE orders SET ship_name = '', ship_address = '', ship_phone = NULL WHERE user_id = ?", u)
		case "gift":
			text("order_items", "gift_message", itemID(n, 1))
		case "newsletter":
			s.exec(t, "DELETE FROM newsletter WHERE id = ?", s.id(newsID(n)))
		case "logins":
			s.exec(t, "UPDATE login_events SET ip = '::', user_agent = '' WHERE user_id = ?", u)
		case "own_ticket":
			text("tickets", "subject", ticketID(n, 1))
			text("tickets", "body", ticketID(n, 1))
		case "ticket_13":
			text("tickets", "body", ticketID(13, 2))
		case "ticket_14":
			text("tickets", "body", ticketID(14, 2))
		case "customer_phones":
			s.exec(t, "DELETE FROM customer_phones WHERE user_id = ?", u)
		case "phones":
			if skip != "customer_phones" {
				s.exec(t, "DELETE FROM phones WHERE id IN (?, ?)", s.id(phoneID(n, 1)), s.id(phoneID(n, 2)))
			}
		}
	}
	switch skip {
	case "over:ticket_11": // a redaction that takes another customer's value too
		s.exec(t, "UPDATE tickets SET body = 'Forward my receipts to [redacted], thanks' WHERE id = ?", s.id(ticketID(11, 2)))
	case "over:amount": // a kept column of a kept row changed
		s.exec(t, "UPDATE orders SET amount_cents = 0 WHERE id = ?", s.id(orderID(n, 1)))
	case "over:delete_13": // another customer's row deleted for mentioning the forgotten one
		s.exec(t, "DELETE FROM tickets WHERE id = ?", s.id(ticketID(13, 2)))
	case "over:zip": // a row of another customer's touched
		s.exec(t, "UPDATE addresses SET zip = '00000' WHERE id = ?", s.id(addressID(13, 1)))
	}
}

// TestShopREADME: the shop's fields and tables the README shows are those
// of docs/examples/shop.json, entry for entry, so the example the README
// explains is the one the tests run.
func TestShopREADME(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	mapping, err := os.ReadFile(shopMapping)
	if err != nil {
		t.Fatal(err)
	}
	var whole struct{ Fields, Tables map[string]any }
	if err := json.Unmarshal(mapping, &whole); err != nil {
		t.Fatal(err)
	}
	file := map[string]map[string]any{"fields": whole.Fields, "tables": whole.Tables}
	text := string(readme)
	at := strings.Index(text, "## Map an existing schema")
	end := strings.Index(text, "## Is everything covered?")
	if at < 0 || end < at {
		t.Fatal("the README has no Map an existing schema section")
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(text[at:end], -1)
	shown := 0
	for _, b := range blocks[1:] { // the first is the crm example (TestREADMEMapping)
		var frag map[string]map[string]any
		if err := json.Unmarshal([]byte("{"+b[1]+"}"), &frag); err != nil {
			t.Errorf("a shop block of the README is not a mapping fragment: %v\n%s", err, b[1])
			continue
		}
		for section, entries := range frag {
			for name, entry := range entries {
				shown++
				if !reflect.DeepEqual(entry, file[section][name]) {
					t.Errorf("the README's %s.%s is %v, docs/examples/shop.json's %v", section, name, entry, file[section][name])
				}
			}
		}
	}
	if shown < 8 {
		t.Errorf("the README shows %d of the shop's entries, want its fields and tables", shown)
	}
}
