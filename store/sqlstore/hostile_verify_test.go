package sqlstore_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
)

// TestHostileVerifyThenForget: legal-but-wrong mappings over the rules
// schema. Each either is refused by Verify (what lint runs), or its
// forget of customer 1 succeeds and leaves customer 2's rows as they
// were. "Verify passed and the forget failed" is the bug.
func TestHostileVerifyThenForget(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup []string // statements after seedRules
		from  string   // replaced in rulesMapping
		to    string
	}{
		{
			// A fixed literal longer than the column: PostgreSQL's
			// CAST(? AS varchar(32)) truncates without error, so the
			// database check passes what the UPDATE refuses.
			name: "FixedLongerThanColumn",
			from: `"phone":     {"column": "phone", "rule": {"rule": "fixed", "value": "n/a"}}`,
			to:   `"phone":     {"column": "phone", "rule": {"rule": "fixed", "value": "this literal is longer than thirty-two characters"}}`,
		},
		{
			// A mentions table without a primary key: rows are written
			// back by primary key, which it has not.
			name:  "MentionsWithoutPrimaryKey",
			setup: []string{`CREATE TABLE memos (body TEXT NOT NULL)`, `INSERT INTO memos VALUES ('memo for Alice Liddell')`},
			from:  `"tickets":     {"table": "tickets", "via": {"mentions": true}, "scrub": {"body": "redact_text"}}`,
			to:    `"tickets":     {"table": "tickets", "via": {"mentions": true}, "scrub": {"body": "redact_text"}}, "memos": {"table": "memos", "via": {"mentions": true}, "scrub": {"body": "redact_text"}}`,
		},
		{
			// A number that DECIMAL(10,2)/NUMERIC(10,2) cannot hold:
			// MariaDB's CAST clips it with a warning, its strict UPDATE
			// refuses it.
			name: "FixedNumberOutOfRange",
			from: `"balance":   {"column": "balance", "rule": {"rule": "fixed", "value": 0}}`,
			to:   `"balance":   {"column": "balance", "rule": {"rule": "fixed", "value": 123456789012345}}`,
		},
		{
			// A date that does not exist.
			name: "FixedImpossibleDate",
			from: `"born":      {"column": "born", "rule": {"rule": "fixed", "value": "1900-01-01"}}`,
			to:   `"born":      {"column": "born", "rule": {"rule": "fixed", "value": "1900-02-30"}}`,
		},
		{
			// A uuid in braces: PostgreSQL reads it, MariaDB's UUID too?
			name: "FixedUUIDBraces",
			from: `"ext_id":    {"column": "ext_id", "rule": {"rule": "fixed", "value": "00000000-0000-0000-0000-000000000000"}}`,
			to:   `"ext_id":    {"column": "ext_id", "rule": {"rule": "fixed", "value": "{00000000-0000-0000-0000-000000000000}"}}`,
		},
		{
			// An IPv4 address for a MariaDB INET6 column.
			name: "FixedIPv4",
			from: `"last_ip":   {"column": "last_ip", "rule": {"rule": "fixed", "value": "::"}}`,
			to:   `"last_ip":   {"column": "last_ip", "rule": {"rule": "fixed", "value": "0.0.0.0"}}`,
		},
		{
			// redact_json on a text column holding JSON with a
			// duplicate key and a unicode-escaped name.
			name:  "RedactJSONDuplicateAndEscapedKeys",
			setup: []string{`UPDATE people SET profile = '{"phone": "+1-555-0101", "ph\u006fne": "+1-555-0199", "phone": "+1-555-0188", "lang": "en"}' WHERE id = 1`},
		},
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					ctx := context.Background()
					db, _ := e.open(t)
					seedRules(t, ctx, db, e)
					for _, q := range c.setup {
						if e.name == "mysql" {
							q = strings.ReplaceAll(q, `\`, `\\`)
						}
						if _, err := db.ExecContext(ctx, q); err != nil {
							t.Fatal(err)
						}
					}
					mapping := rulesMapping
					if c.from != "" {
						mapping = strings.Replace(rulesMapping, c.from, c.to, 1)
						if mapping == rulesMapping {
							t.Fatal("mapping not rewritten")
						}
					}
					f, err := hostileForgetter(t, db, e, mapping)
					if err != nil {
						t.Logf("refused by Verify: %v", err)
						return
					}
					before2 := dumpRows(t, ctx, db, `SELECT * FROM people WHERE id = 2`)
					if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
						t.Fatalf("Verify passed, and the forget fails: %v", err)
					}
					if after := dumpRows(t, ctx, db, `SELECT * FROM people WHERE id = 2`); len(after) != 1 || strings.Join(nsStrings(after[0]), "|") != strings.Join(nsStrings(before2[0]), "|") {
						t.Errorf("customer 2 changed: %v -> %v", before2, after)
					}
					for _, r := range dumpRows(t, ctx, db, `SELECT profile FROM people WHERE id = 1`) {
						if strings.Contains(r[0].String, "555") {
							t.Errorf("profile of customer 1 still holds a phone: %s", r[0].String)
						}
					}
					if c.name == "MentionsWithoutPrimaryKey" {
						for _, r := range dumpRows(t, ctx, db, `SELECT body FROM memos`) {
							if strings.Contains(r[0].String, "Liddell") {
								t.Errorf("memo still names her: %s", r[0].String)
							}
						}
					}
				})
			}
		})
	}
}

func nsStrings(r []sql.NullString) []string {
	var out []string
	for _, v := range r {
		if !v.Valid {
			out = append(out, "NULL")
			continue
		}
		out = append(out, v.String)
	}
	return out
}
