package sqlstore_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// hostileForgetter is rulesForgetter over a mapping of the test's own.
func hostileForgetter(t *testing.T, db *sql.DB, e engine, mapping string) (*forget.Forgetter, error) {
	t.Helper()
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
	return f, f.Verify(context.Background())
}

// TestHostileRedactTextOnUniqueColumn: redact_text on a UNIQUE column
// (people.username holds the first name) writes "[redacted]" for every
// customer whose value is all pre-image. Verify skips the "unique column,
// same value for everyone" check for rules computed from the old value,
// so it passes, and the second customer's forget then fails on the
// unique index: green Verify/lint, a forget that cannot run. Verify
// refuses it now.
func TestHostileRedactTextOnUniqueColumn(t *testing.T) {
	t.Parallel()
	mapping := strings.Replace(rulesMapping, `"username":  {"column": "username", "rule": "pseudonym"}`,
		`"username":  {"column": "username", "rule": "redact_text"}`, 1)
	if mapping == rulesMapping {
		t.Fatal("mapping not rewritten")
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			seedRules(t, ctx, db, e)
			if _, err := db.ExecContext(ctx, `UPDATE people SET firstname = 'Robert', username = 'robert' WHERE id = 2`); err != nil {
				t.Fatal(err)
			}
			_, err := hostileForgetter(t, db, e, mapping)
			if err == nil || !strings.Contains(err.Error(), "people.username is unique") || !strings.Contains(err.Error(), "keyed_hash or pseudonym") {
				t.Errorf("Verify of redact_text on unique people.username: %v; want it refused, naming keyed_hash", err)
			}
		})
	}
}
