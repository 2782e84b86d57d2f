package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ruleMapping is a mapping file with rules, as a Go host loads it too
// (store/sqlstore's TestCatalogueFromMapping checks both catalogues).
const ruleMapping = `{
  "customers": {"table": "people", "key": "id"},
  "fields": {
    "firstname": {"column": "firstname"},
    "phone":     {"column": "phone", "rule": {"rule": "fixed", "value": "n/a"}},
    "email":     {"column": "email", "rule": "keyed_hash"},
    "profile":   {"column": "profile", "rule": {"rule": "redact_json", "paths": ["phone"]}}
  },
  "tables": {
    "member_note": {"table": "notes", "customer_key": "person_id", "scrub": {"body": {"rule": "redact_text", "patterns": ["email"]}}}
  },
  "absent": ["username", "token_hash", "original_username", "password", "cryptpass", "session", "lastname", "address1", "address2",
    "city", "state", "zip", "country", "shipping_firstname", "shipping_lastname", "shipping_address1", "shipping_address2",
    "shipping_zip", "shipping_city", "shipping_state", "shipping_country", "member_auth", "signup_ip"]
}`

// TestRunMappingRules: the command runs the rules a mapping file names,
// with the keyed hash's key from -hash-key-file, and refuses keyed_hash
// without one; signup_ip, under absent, is an extension the preset lacks
// (a Go host with it in its catalogue shares this file).
func TestRunMappingRules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{
		`CREATE TABLE people (id INTEGER PRIMARY KEY, firstname TEXT NOT NULL, phone TEXT NOT NULL, email TEXT NOT NULL, profile TEXT NOT NULL)`,
		`CREATE TABLE notes (id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL, body TEXT NOT NULL)`,
		`CREATE INDEX notes_person ON notes (person_id)`,
		`INSERT INTO people VALUES (1, 'Alice', '+1-555-0101', 'alice@example.com', '{"phone": "+1-555-0101", "lang": "en"}'), (2, 'Bob', '+1-555-0202', 'bob@example.org', '{"phone": "2"}')`,
		`INSERT INTO notes VALUES (1, 1, 'Alice: mail alice@example.com or carol@example.net'), (2, 2, 'Bob knows Alice')`,
	} {
		if _, err := db.Exec(st); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	mapping := filepath.Join(dir, "mapping.json")
	key := filepath.Join(dir, "hash.key")
	if err := os.WriteFile(mapping, []byte(ruleMapping), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte("a host secret of 32 bytes, ok!!!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runMain("run", "-db", path, "-schema", mapping, "-audit-table", "", "-customer-id", "1")
	if code != exitUsage || !strings.Contains(stderr, "keyed_hash needs a key") {
		t.Errorf("without -hash-key-file: exit %d, %s", code, stderr)
	}
	code, _, stderr = runMain("run", "-db", path, "-schema", mapping, "-hash-key-file", key, "-audit-table", "", "-customer-id", "1")
	if code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	got := sqlq(t, path, `SELECT firstname, phone, length(email), profile FROM people ORDER BY id`)
	if want := "|n/a|64|{\"lang\": \"en\"}\nBob|+1-555-0202|15|{\"phone\": \"2\"}"; strings.TrimSpace(got) != want {
		t.Errorf("people:\n%s\nwant\n%s", got, want)
	}
	if got, want := sqlq(t, path, `SELECT body FROM notes ORDER BY id`), "[redacted]: mail [redacted] or [redacted]\nBob knows Alice"; strings.TrimSpace(got) != want {
		t.Errorf("notes:\n%s\nwant\n%s", got, want)
	}
	if code, _, stderr := runMain("run", "-db", path, "-schema", mapping, "-hash-key-file", filepath.Join(dir, "none"), "-customer-id", "1"); code != exitUsage || !strings.Contains(stderr, "-hash-key-file") {
		t.Errorf("missing key file: exit %d, %s", code, stderr)
	}
}
