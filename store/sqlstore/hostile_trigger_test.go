package sqlstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestHostileTriggerCopiesToHistory: the host's trigger copies a
// customer's old e-mail into email_history(customer_id, email) on every
// UPDATE of customers. The forget's own UPDATE then writes the e-mail it
// erases into a table the mapping does not know. If coverage (what lint
// prints) reports nothing unclassified, the forget must leave no copy; in
// fact coverage is green (email_history has no foreign key) and her
// e-mail is in email_history after the forget.
func TestHostileTriggerCopiesToHistory(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			stmts := []string{
				"CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(100) NOT NULL, firstname VARCHAR(100) NOT NULL)",
				"CREATE TABLE email_history (customer_id BIGINT NOT NULL, email VARCHAR(100) NOT NULL)",
				"INSERT INTO customers VALUES (1, 'ann@example.com', 'Annabel'), (2, 'bob@example.org', 'Bobby')",
			}
			switch e.dialect {
			case sqlstore.SQLite:
				stmts = append(stmts, "CREATE TRIGGER keep_history AFTER UPDATE ON customers BEGIN INSERT INTO email_history VALUES (OLD.id, OLD.email); END")
			case sqlstore.Postgres:
				stmts = append(stmts, "CREATE FUNCTION keep_history() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO email_history VALUES (OLD.id, OLD.email); RETURN NEW; END $$",
					"CREATE TRIGGER keep_history AFTER UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION keep_history()")
			case sqlstore.MySQL:
				stmts = append(stmts, "CREATE TRIGGER keep_history AFTER UPDATE ON customers FOR EACH ROW INSERT INTO email_history VALUES (OLD.id, OLD.email)")
			}
			execAll(t, db, stmts...)
			schema := sqlstore.Schema{
				Customers: sqlstore.CustomerTable{Table: "customers", Key: "id"},
				Fields:    map[forget.Field]sqlstore.Column{"email": {Column: "email"}, "firstname": {Column: "firstname"}},
			}
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithCoverage(sqlstore.EveryColumn))
			if err != nil {
				t.Fatal(err)
			}
			cat := forget.Catalogue{Fields: []forget.FieldSpec{{Name: "email", Rule: forget.Pseudonym()}, {Name: "firstname", Rule: forget.Empty()}}}
			f := quietForgetter(t, s, forget.WithCatalogue(cat))
			verr := f.Verify(ctx)
			cov, err := s.Coverage(ctx, cat)
			if err != nil {
				t.Fatal(err)
			}
			if verr != nil || cov.Summary.Unclassified > 0 {
				t.Logf("flagged: verify %v, coverage %+v", verr, cov.Summary)
				// The safe behaviour, exactly: a note naming the trigger
				// and the table it writes, that table reached with its
				// unclassified columns, and Verify (lint) failing on them.
				if verr == nil || !strings.Contains(verr.Error(), "email_history.email") {
					t.Errorf("Verify under EveryColumn does not name email_history.email: %v", verr)
				}
				if !slices.ContainsFunc(cov.Notes, func(n string) bool {
					return strings.Contains(n, "trigger keep_history on customers writes email_history")
				}) {
					t.Errorf("no note names the trigger and the table it writes: %q", cov.Notes)
				}
				found := false
				for _, tc := range cov.Tables {
					if tc.Table == "email_history" && strings.Contains(tc.Reach, "trigger keep_history") {
						found = true
					}
				}
				if !found {
					t.Errorf("coverage does not reach email_history by the trigger: %+v", cov.Tables)
				}
				return
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Fatal(err)
			}
			for _, r := range dumpRows(t, ctx, db, "SELECT email FROM email_history") {
				if strings.Contains(r[0].String, "ann@") {
					t.Errorf("Verify and coverage green (%+v, notes %q), and the forget's UPDATE copied her e-mail into email_history by the host's trigger", cov.Summary, cov.Notes)
				}
			}
		})
	}
}
