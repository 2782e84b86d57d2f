package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestLintRestrictChild: on every engine, lint refuses a mapping whose
// purged table (tickets) is referenced under ON DELETE NO ACTION by a
// table the mapping leaves (ticket_replies), naming both and the key,
// though every column is classified: every forget of a customer with a
// reply would fail; with a unique column under a same-value rule too, it
// names both. With the replies mapped too, lint passes and a dry run of a
// real customer with replies succeeds.
func TestLintRestrictChild(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			tdb := e.Open(t)
			ty := typesFor(e.Dialect)
			k := func(n int) string { l, _ := userKey(e.Dialect, n); return l }
			stmts := []string{
				`CREATE TABLE users (id ` + ty.key + ` PRIMARY KEY, username ` + ty.text + ` NOT NULL, nick ` + ty.text + ` UNIQUE)`,
				`CREATE TABLE tickets (id ` + ty.id + `, user_id ` + ty.key + ` NOT NULL, body ` + ty.text + `, FOREIGN KEY (user_id) REFERENCES users (id))`,
				`CREATE TABLE ticket_replies (id ` + ty.id + `, ticket_id BIGINT NOT NULL, user_id ` + ty.key + ` NOT NULL, body ` + ty.text + `, FOREIGN KEY (ticket_id) REFERENCES tickets (id), FOREIGN KEY (user_id) REFERENCES users (id))`,
				`INSERT INTO users VALUES (` + k(1) + `, 'user1', 'n1'), (` + k(2) + `, 'user2', 'n2')`,
				`INSERT INTO tickets VALUES (1, ` + k(1) + `, 'help'), (2, ` + k(2) + `, 'help')`,
				`INSERT INTO ticket_replies VALUES (1, 1, ` + k(1) + `, 'more'), (2, 2, ` + k(2) + `, 'more')`,
			}
			for _, st := range append(stmts, sqlstore.AuditDDL(e.Dialect, sqlstore.DefaultAuditTable)...) {
				if _, err := tdb.Exec(st); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			args := dbArgs(e, tdb)
			dir := t.TempDir()
			absent := []string{"token_hash", "original_username", "password", "cryptpass", "session", "firstname", "lastname",
				"address1", "address2", "city", "state", "zip", "country", "shipping_firstname", "shipping_lastname", "shipping_address1",
				"shipping_address2", "shipping_zip", "shipping_city", "shipping_state", "shipping_country", "phone", "member_auth", "member_note"}
			bad := map[string]any{
				"customers": map[string]string{"table": "users", "key": "id"},
				"fields":    map[string]any{"username": map[string]string{"column": "username"}},
				"tables":    map[string]any{"tickets": map[string]string{"table": "tickets", "customer_key": "user_id"}},
				"absent":    absent,
				"retain":    map[string]string{"ticket_replies.body": "support history", "ticket_replies.id": "support history", "users.nick": "public handle"},
			}
			badFile := filepath.Join(dir, "bad.json")
			writeJSON(t, badFile, bad)
			code, out, errOut := runMain(append([]string{"lint", "-schema", badFile}, args...)...)
			if code != exitFailed || !strings.Contains(errOut, "table tickets: a forget deletes rows of tickets, but table ticket_replies refers to them (ticket_replies(ticket_id) -> tickets(id), ON DELETE ") ||
				!strings.Contains(errOut, "map ticket_replies too") {
				t.Errorf("lint of a purge a NO ACTION child refuses: exit %d\n%s\n%s", code, out, errOut)
			}

			// Every problem is named at once: a unique column under a rule
			// that writes one value for everybody too.
			both := map[string]any{}
			for k, v := range bad {
				both[k] = v
			}
			both["fields"] = map[string]any{"username": map[string]string{"column": "username"}, "firstname": map[string]string{"column": "nick"}}
			both["absent"] = slices.DeleteFunc(slices.Clone(absent), func(n string) bool { return n == "firstname" })
			both["retain"] = map[string]string{"ticket_replies.body": "support history", "ticket_replies.id": "support history"}
			bothFile := filepath.Join(dir, "both.json")
			writeJSON(t, bothFile, both)
			code, out, errOut = runMain(append([]string{"lint", "-schema", bothFile}, args...)...)
			if code != exitFailed || !strings.Contains(errOut, "map ticket_replies too") || !strings.Contains(errOut, "field firstname: users.nick is unique, but its rule writes the same value for every customer") {
				t.Errorf("lint of two problems: exit %d\n%s\n%s", code, out, errOut)
			}

			good := bad
			good["tables"] = map[string]any{
				"tickets":        map[string]string{"table": "tickets", "customer_key": "user_id"},
				"ticket_replies": map[string]string{"table": "ticket_replies", "customer_key": "user_id"},
			}
			good["retain"] = map[string]string{"users.nick": "public handle"}
			goodFile := filepath.Join(dir, "good.json")
			writeJSON(t, goodFile, good)
			if code, out, errOut := runMain(append([]string{"lint", "-schema", goodFile}, args...)...); code != exitOK || !strings.Contains(out, "lint: every column that reaches a customer is classified") {
				t.Errorf("lint with the replies mapped: exit %d\n%s\n%s", code, out, errOut)
			}
			_, key := userKey(e.Dialect, 2)
			code, out, errOut = runMain(append([]string{"run", "-dry-run", "-schema", goodFile, "-customer-id", key}, args...)...)
			if code != exitOK || !strings.Contains(out, `"tickets": 1`) || !strings.Contains(out, `"ticket_replies": 1`) {
				t.Errorf("dry run with the replies mapped: exit %d\n%s\n%s", code, out, errOut)
			}
			if n := count(t, tdb.DB, "SELECT COUNT(*) FROM ticket_replies"); n != 2 {
				t.Errorf("the dry run left %d replies, want 2", n)
			}
		})
	}
}
