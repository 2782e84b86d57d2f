package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestNATSMemberPreset: on every engine the NATS demo schema (created
// twice: idempotent) verifies with every column covered, and a forget by
// memberid erases the member's fields and deletes its rows in all 16
// tables, leaving another member alone.
func TestNATSMemberPreset(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := e.open(t)
			ddl := sqlstore.NATSMemberDDL(e.dialect)
			execAll(t, db, append(ddl, ddl...)...)
			q := func(s string) string {
				if e.dialect == sqlstore.MySQL {
					return "`" + s + "`"
				}
				return `"` + s + `"`
			}
			execAll(t, db, `INSERT INTO member (memberid, username, firstname, phone) VALUES (39, 'm39', 'Ada', '+1 555 0100'), (40, 'm40', 'Ben', '')`)
			cat := forget.NATSMemberCatalogue()
			schema := sqlstore.NATSMemberSchema()
			for _, tb := range cat.Tables {
				table := schema.Tables[tb.Name].Table
				execAll(t, db, fmt.Sprintf("INSERT INTO %s (memberid, data) VALUES (39, 'x'), (39, 'y'), (40, 'z')", q(table)))
			}
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable), sqlstore.WithCoverage(sqlstore.EveryColumn))
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, s, forget.WithCatalogue(cat))
			if err := f.Verify(ctx); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "39"}, Keep: []string{"EpochTransStats"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(rc.RowsDeleted) != 15 || rc.RowsDeleted["live_member_loginlog"] != 2 || len(rc.TablesKept) != 1 {
				t.Errorf("receipt: deleted %v, kept %v", rc.RowsDeleted, rc.TablesKept)
			}
			for _, tb := range cat.Tables {
				want := 0
				if tb.Name == "epochtransstats" {
					want = 2
				}
				var n int
				if err := db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE memberid = 39", q(schema.Tables[tb.Name].Table))).Scan(&n); err != nil || n != want {
					t.Errorf("%s: %d rows of member 39 (%v), want %d", tb.Name, n, err, want)
				}
				if err := db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE memberid = 40", q(schema.Tables[tb.Name].Table))).Scan(&n); err != nil || n != 1 {
					t.Errorf("%s: %d rows of member 40 (%v), want 1", tb.Name, n, err)
				}
			}
			var first, phone string
			if err := db.QueryRow("SELECT firstname, phone FROM member WHERE memberid = 39").Scan(&first, &phone); err != nil || first != "" || phone != "" {
				t.Errorf("member 39: %q %q %v", first, phone, err)
			}
			if err := db.QueryRow("SELECT firstname FROM member WHERE memberid = 40").Scan(&first); err != nil || first != "Ben" {
				t.Errorf("member 40: %q %v", first, err)
			}
		})
	}
}
