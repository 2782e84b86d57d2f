package sqlstore_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestCoverageTriggerWrites: a trigger on customers copies the old value
// into audit_copy(who, old_value), whose column names look like nothing
// personal. Coverage reaches audit_copy by the trigger and marks its
// columns likely personal, so that PersonalColumns fails Verify too;
// without a requirement Verify passes and logs a warning naming the
// trigger and the table; retaining the columns with a reason silences the
// requirement.
func TestCoverageTriggerWrites(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			stmts := []string{
				"CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(100) NOT NULL)",
				"CREATE TABLE audit_copy (who BIGINT NOT NULL, old_value VARCHAR(100) NOT NULL)",
				"CREATE TABLE unrelated (id BIGINT PRIMARY KEY, label VARCHAR(100))",
			}
			switch e.dialect {
			case sqlstore.SQLite:
				stmts = append(stmts, "CREATE TRIGGER copy_old AFTER UPDATE ON customers BEGIN INSERT INTO \"audit_copy\" VALUES (OLD.id, OLD.email); END",
					"CREATE TRIGGER other AFTER UPDATE ON unrelated BEGIN INSERT INTO audit_copy VALUES (OLD.id, OLD.label); END")
			case sqlstore.Postgres:
				stmts = append(stmts, "CREATE FUNCTION copy_old() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit_copy VALUES (OLD.id, OLD.email); RETURN NEW; END $$",
					"CREATE TRIGGER copy_old AFTER UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION copy_old()")
			case sqlstore.MySQL:
				stmts = append(stmts, "CREATE TRIGGER copy_old AFTER UPDATE ON customers FOR EACH ROW INSERT INTO `audit_copy` VALUES (OLD.id, OLD.email)")
			}
			execAll(t, db, stmts...)
			in, err := sqlstore.Introspect(ctx, db, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tr := range in.Triggers {
				got = append(got, tr.Name+" on "+tr.Table+" writes "+strings.Join(tr.Writes, ","))
			}
			if len(got) == 0 || got[0] != "copy_old on customers writes audit_copy" {
				t.Errorf("triggers: %q", got)
			}
			cat := forget.Catalogue{Fields: []forget.FieldSpec{{Name: "email", Rule: forget.Pseudonym()}}}
			mapping := sqlstore.Schema{
				Customers: sqlstore.CustomerTable{Table: "customers", Key: "id"},
				Fields:    map[forget.Field]sqlstore.Column{"email": {Column: "email"}},
			}
			verify := func(opts ...sqlstore.Option) (string, error) {
				var logs bytes.Buffer
				s, err := sqlstore.New(db, e.dialect, append([]sqlstore.Option{sqlstore.WithSchema(mapping), sqlstore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))}, opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				err = s.Verify(ctx, cat)
				return logs.String(), err
			}
			_, err = verify(sqlstore.WithCoverage(sqlstore.PersonalColumns))
			if err == nil || !strings.Contains(err.Error(), "audit_copy.old_value") || !strings.Contains(err.Error(), "audit_copy.who") {
				t.Errorf("PersonalColumns: Verify does not name audit_copy's columns: %v", err)
			}
			logs, err := verify()
			if err != nil {
				t.Fatalf("Verify without a requirement: %v", err)
			}
			if !strings.Contains(logs, "trigger copy_old on customers writes audit_copy") {
				t.Errorf("no warning names the trigger: %s", logs)
			}
			if strings.Contains(logs, "trigger other") {
				t.Errorf("a trigger on a table that reaches no customer is warned of: %s", logs)
			}
			mapping.Retain = map[string]string{"audit_copy.who": "customer id history", "audit_copy.old_value": "checked: emptied by a nightly job"}
			if _, err := verify(sqlstore.WithCoverage(sqlstore.EveryColumn)); err != nil {
				t.Errorf("retained, Verify still fails: %v", err)
			}

			// Mapped as a catalogue table, its rows are deleted after the
			// fields' UPDATE, so the trigger's fresh copy goes too.
			mapping.Retain = nil
			mapping.Tables = map[forget.Table]sqlstore.RelatedTable{"audit_copy": {Table: "audit_copy", CustomerKey: "who"}}
			cat.Tables = []forget.TableSpec{{Name: "audit_copy"}}
			execAll(t, db, "INSERT INTO customers VALUES (1, 'ann@example.com'), (2, 'bob@example.org')")
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(mapping), sqlstore.WithCoverage(sqlstore.EveryColumn))
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, s, forget.WithCatalogue(cat))
			if err := f.Verify(ctx); err != nil {
				t.Fatalf("mapped, Verify fails: %v", err)
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Fatal(err)
			}
			if rows := dumpRows(t, ctx, db, "SELECT old_value FROM audit_copy"); len(rows) != 0 {
				t.Errorf("after the forget audit_copy holds %d rows", len(rows))
			}
		})
	}
}
