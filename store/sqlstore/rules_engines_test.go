package sqlstore_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// rulesTypes are each engine's column types for the rules test: the
// customer's jsonb profile, an inet, a date, a numeric and a uuid, all
// NOT NULL.
var rulesTypes = map[string]struct{ json, inet, date, numeric, uuid string }{
	"sqlite":   {"TEXT", "TEXT", "DATE", "NUMERIC", "TEXT"},
	"postgres": {"JSONB", "INET", "DATE", "NUMERIC(10,2)", "UUID"},
	"mysql":    {"JSON", "INET6", "DATE", "DECIMAL(10,2)", "UUID"},
}

// rulesMapping is one mapping file for the command and Go: every rule by
// name, typed literals, redactions, and a mentions table.
const rulesMapping = `{
  "customers": {"table": "people", "key": "id", "key_type": "int"},
  "fields": {
    "firstname": {"column": "firstname"},
    "lastname":  {"column": "lastname", "rule": "empty"},
    "phone":     {"column": "phone", "rule": {"rule": "fixed", "value": "n/a"}},
    "email":     {"column": "email", "rule": "keyed_hash"},
    "username":  {"column": "username", "rule": "pseudonym"},
    "password":  {"column": "password", "rule": "random"},
    "nickname":  {"column": "nickname", "rule": "null"},
    "profile":   {"column": "profile", "rule": {"rule": "redact_json", "paths": ["phone", "$.address.*"]}},
    "prefs":     {"column": "prefs", "rule": {"rule": "fixed", "value": {"theme": "none"}}},
    "last_ip":   {"column": "last_ip", "rule": {"rule": "fixed", "value": "::"}},
    "born":      {"column": "born", "rule": {"rule": "fixed", "value": "1900-01-01"}},
    "balance":   {"column": "balance", "rule": {"rule": "fixed", "value": 0}},
    "ext_id":    {"column": "ext_id", "rule": {"rule": "fixed", "value": "00000000-0000-0000-0000-000000000000"}}
  },
  "tables": {
    "member_note": {"table": "notes", "customer_key": "person_id", "scrub": {"body": {"rule": "redact_text", "patterns": ["email"]}}},
    "tickets":     {"table": "tickets", "via": {"mentions": true}, "scrub": {"body": "redact_text"}}
  },
  "absent": ["token_hash", "original_username", "cryptpass", "session", "address1", "address2", "city", "state", "zip", "country",
    "shipping_firstname", "shipping_lastname", "shipping_address1", "shipping_address2", "shipping_zip", "shipping_city",
    "shipping_state", "shipping_country", "member_auth"]
}`

func rulesDDL(e engine) []string {
	ty := rulesTypes[e.name]
	return []string{
		`CREATE TABLE people (id BIGINT PRIMARY KEY, firstname VARCHAR(64) NOT NULL, lastname VARCHAR(64) NOT NULL,
		  phone VARCHAR(32) NOT NULL, email VARCHAR(128) NOT NULL, username VARCHAR(32) NOT NULL UNIQUE, password VARCHAR(64) NOT NULL,
		  nickname VARCHAR(64), profile ` + ty.json + ` NOT NULL, prefs ` + ty.json + ` NOT NULL, last_ip ` + ty.inet + ` NOT NULL,
		  born ` + ty.date + ` NOT NULL, balance ` + ty.numeric + ` NOT NULL, ext_id ` + ty.uuid + ` NOT NULL)`,
		`CREATE TABLE notes (id BIGINT PRIMARY KEY, person_id BIGINT NOT NULL, body TEXT NOT NULL)`,
		`CREATE INDEX notes_person ON notes (person_id)`,
		`CREATE TABLE tickets (id BIGINT PRIMARY KEY, body TEXT NOT NULL)`,
	}
}

const (
	rulesProfile1 = `{"phone": "+1-555-0101", "lang": "en",  "address": {"city": "Oxford", "street": "12 Rabbit Hole"}}`
	rulesProfile2 = `{"phone": "+1-555-0202", "lang": "fr"}`
)

func seedRules(t *testing.T, ctx context.Context, db *sql.DB, e engine) {
	t.Helper()
	mark := func(q string) string {
		if e.dialect != sqlstore.Postgres {
			return q
		}
		n := 0
		var b strings.Builder
		for _, r := range q {
			if r == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	for _, st := range rulesDDL(e) {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	people := mark(`INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	for _, p := range [][]any{
		{1, "Alice", "Liddell", "+1-555-0101", "alice.liddell@example.com", "alice", "pw1", "Ally", rulesProfile1, `{"theme":"dark"}`, "2001:db8::1", "1990-05-04", "12.50", "6f1c8a2e-1b2c-4d5e-8f90-123456789abc"},
		{2, "Bob", "Builder", "+1-555-0202", "bob@example.org", "bob", "pw2", "Bobby", rulesProfile2, `{"theme":"light"}`, "2001:db8::2", "1985-01-02", "3.00", "7f1c8a2e-1b2c-4d5e-8f90-123456789abc"},
	} {
		if _, err := db.ExecContext(ctx, people, p...); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range [][]any{
		{1, 1, "Alice asked to write to alice.liddell@example.com or cc carol@example.net"},
		{2, 1, "no mention here"},
		{3, 2, "Bob says hi to Alice; mail bob@example.org"},
	} {
		if _, err := db.ExecContext(ctx, mark(`INSERT INTO notes VALUES (?, ?, ?)`), n...); err != nil {
			t.Fatal(err)
		}
	}
	for _, tk := range [][]any{
		{1, "send the invoice to my partner ALICE.LIDDELL@example.com, 100%_sure"},
		{2, "Bob's own ticket: call +1-555-0202"},
		{3, "call her on 555 0101 please"},
	} {
		if _, err := db.ExecContext(ctx, mark(`INSERT INTO tickets VALUES (?, ?)`), tk...); err != nil {
			t.Fatal(err)
		}
	}
}

func dumpRows(t *testing.T, ctx context.Context, db *sql.DB, query string) [][]sql.NullString {
	t.Helper()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	_, out := scanAll(t, rows)
	return out
}

// TestMappingRulesOnEveryEngine forgets customer 1 of a schema with
// typed NOT NULL columns by one mapping file: every rule by name, typed
// literals, keyed hashes, JSON and text redactions and mentions in other
// customers' rows; customer 2 and every byte outside the redactions stay.
func TestMappingRulesOnEveryEngine(t *testing.T) {
	t.Parallel()
	key := []byte("the host's hash key, 32 bytes ok")
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			seedRules(t, ctx, db, e)
			schema, err := sqlstore.LoadSchema(strings.NewReader(rulesMapping))
			if err != nil {
				t.Fatal(err)
			}
			store, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithHashKey(key))
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
			before2 := dumpRows(t, ctx, db, `SELECT * FROM people WHERE id = 2`)
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
			if err != nil {
				t.Fatal(err)
			}
			if after := dumpRows(t, ctx, db, `SELECT * FROM people WHERE id = 2`); fmt.Sprint(after) != fmt.Sprint(before2) {
				t.Errorf("customer 2 changed:\n%v\n%v", before2, after)
			}
			var first, last, phone, email, username, password, profile, prefs, ip, born, balance, ext string
			var nick sql.NullString
			if err := db.QueryRowContext(ctx, `SELECT firstname, lastname, phone, email, username, password, nickname, profile, prefs, last_ip, born, balance, ext_id FROM people WHERE id = 1`).
				Scan(&first, &last, &phone, &email, &username, &password, &nick, &profile, &prefs, &ip, &born, &balance, &ext); err != nil {
				t.Fatal(err)
			}
			m := hmac.New(sha256.New, key)
			m.Write([]byte("alice.liddell@example.com"))
			if want := hex.EncodeToString(m.Sum(nil)); email != want {
				t.Errorf("email = %q, want the keyed hash", email)
			}
			if first != "" || last != "" || phone != "n/a" || nick.Valid || !strings.HasPrefix(username, "forgot-") || len(password) != 32 {
				t.Errorf("fields: %q %q %q %v %q %d", first, last, phone, nick, username, len(password))
			}
			var prof map[string]any
			if err := json.Unmarshal([]byte(profile), &prof); err != nil {
				t.Fatalf("profile is not JSON: %v", err)
			}
			if _, ok := prof["phone"]; ok || prof["lang"] != "en" || fmt.Sprint(prof["address"]) != "map[]" {
				t.Errorf("profile = %s", profile)
			}
			if e.name != "postgres" { // jsonb keeps its own spacing
				if want := `{"lang": "en",  "address": {}}`; profile != want {
					t.Errorf("profile = %s, want %s (every other byte kept)", profile, want)
				}
			}
			if strings.ReplaceAll(prefs, " ", "") != `{"theme":"none"}` || !strings.Contains(ip, "::") || !strings.HasPrefix(born, "1900-01-01") ||
				strings.Trim(balance, "0.") != "" || ext != "00000000-0000-0000-0000-000000000000" {
				t.Errorf("typed literals: %s %s %s %s %s", prefs, ip, born, balance, ext)
			}
			notes := dumpRows(t, ctx, db, `SELECT id, body FROM notes ORDER BY id`)
			wantNotes := []string{"[redacted] asked to write to [redacted] or cc [redacted]", "no mention here", "Bob says hi to Alice; mail bob@example.org"}
			for i, n := range notes {
				if n[1].String != wantNotes[i] {
					t.Errorf("note %d = %q, want %q", i+1, n[1].String, wantNotes[i])
				}
			}
			tickets := dumpRows(t, ctx, db, `SELECT id, body FROM tickets ORDER BY id`)
			wantTickets := []string{"send the invoice to my partner [redacted], 100%_sure", "Bob's own ticket: call +1-555-0202", "call her on [redacted] please"}
			for i, tk := range tickets {
				if tk[1].String != wantTickets[i] {
					t.Errorf("ticket %d = %q, want %q", i+1, tk[1].String, wantTickets[i])
				}
			}
			if rc.RowsScrubbed["tickets"] != 2 || rc.RowsScrubbed["member_note"] != 2 {
				t.Errorf("rows scrubbed = %v", rc.RowsScrubbed)
			}
			if rc.Redactions["notes.body"] != 3 || rc.Redactions["tickets.body"] != 2 || rc.Redactions["people.profile"] != 3 {
				t.Errorf("redactions = %v", rc.Redactions)
			}
			b, _ := json.Marshal(rc)
			for _, v := range []string{"alice", "Alice", "0101", "Oxford"} {
				if strings.Contains(string(b), v) {
					t.Errorf("the receipt holds %q: %s", v, b)
				}
			}
			// Idempotent: a second forget succeeds.
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Errorf("second forget: %v", err)
			}
		})
	}
}
