package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
)

// TestHostileMentionsCompositeKey: a mentions table whose primary key is
// composite (thread_id, seq) and a text key table (code TEXT PRIMARY
// KEY). Redacted rows are written back by primary key: every other row,
// of the same thread too, must stay byte for byte.
func TestHostileMentionsCompositeKey(t *testing.T) {
	t.Parallel()
	mapping := strings.Replace(rulesMapping, `"tickets":     {"table": "tickets", "via": {"mentions": true}, "scrub": {"body": "redact_text"}}`,
		`"tickets":     {"table": "tickets", "via": {"mentions": true}, "scrub": {"body": "redact_text"}},
    "posts":       {"table": "posts", "via": {"mentions": true}, "scrub": {"body": "redact_text"}},
    "codes":       {"table": "codes", "via": {"mentions": true}, "scrub": {"body": "redact_text"}}`, 1)
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			seedRules(t, ctx, db, e)
			execAll(t, db,
				"CREATE TABLE posts (thread_id BIGINT NOT NULL, seq BIGINT NOT NULL, body VARCHAR(200) NOT NULL, PRIMARY KEY (thread_id, seq))",
				"INSERT INTO posts VALUES (1, 1, 'Alice Liddell wrote'), (1, 2, 'Bob replied'), (2, 1, 'Bob again, cc Alice')",
				"CREATE TABLE codes (code VARCHAR(20) NOT NULL PRIMARY KEY, body VARCHAR(200) NOT NULL)",
				"INSERT INTO codes VALUES ('A1', 'for Liddell'), ('A1x', 'not hers'), ('B2', 'Bob')")
			f, err := hostileForgetter(t, db, e, mapping)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Fatal(err)
			}
			want := "[[1 1 [redacted] [redacted] wrote] [1 2 Bob replied] [2 1 Bob again, cc [redacted]]]"
			if got := fmt.Sprint(nsRows(dumpRows(t, ctx, db, "SELECT * FROM posts ORDER BY thread_id, seq"))); got != want {
				t.Errorf("posts %s, want %s", got, want)
			}
			got := map[string]string{}
			for _, r := range dumpRows(t, ctx, db, "SELECT code, body FROM codes") {
				got[r[0].String] = r[1].String
			}
			if got["A1"] != "for [redacted]" || got["B2"] != "Bob" || got["A1x"] != "not hers" {
				t.Errorf("codes %q", got)
			}
		})
	}
}

func nsRows(rs [][]sql.NullString) [][]string {
	var out [][]string
	for _, r := range rs {
		out = append(out, nsStrings(r))
	}
	return out
}
