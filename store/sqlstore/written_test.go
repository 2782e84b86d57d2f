package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// writtenFixture: the default schema, shipping_firstname and
// shipping_lastname in a joined table "shipping" where customer 101 has
// no row, 102 one and 103 two, and a table member_loginlog scrubbed with
// rules that write the same values every time (NULL, a fixed text),
// three rows of 102's.
func writtenFixture(t *testing.T, e engine, opts ...sqlstore.Option) (*sqlstore.Store, *forget.Forgetter) {
	t.Helper()
	s, f, _ := writtenFixtureDB(t, e, opts...)
	return s, f
}

// writtenFixtureDB is writtenFixture with its database.
func writtenFixtureDB(t *testing.T, e engine, opts ...sqlstore.Option) (*sqlstore.Store, *forget.Forgetter, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	db := schemaDB(t, e)
	text := "TEXT"
	if e.dialect == sqlstore.MySQL {
		text = "VARCHAR(255)"
	}
	for _, st := range []string{
		fmt.Sprintf("CREATE TABLE shipping (ship_id INTEGER NOT NULL PRIMARY KEY, customer_id BIGINT NOT NULL, shipping_firstname %s NOT NULL, shipping_lastname %s NOT NULL)", text, text),
		"CREATE INDEX shipping_customer_id ON shipping (customer_id)",
		fmt.Sprintf("CREATE TABLE member_loginlog (log_id INTEGER NOT NULL PRIMARY KEY, customer_id BIGINT NOT NULL, ip %s, note %s)", text, text),
		"CREATE INDEX member_loginlog_customer_id ON member_loginlog (customer_id)",
	} {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	ph := seedCustomers(t, db, e, 101, 104)
	ins := func(table string, vals ...any) {
		marks := make([]string, len(vals))
		for i := range marks {
			marks[i] = ph(i + 1)
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s VALUES (%s)", table, strings.Join(marks, ", ")), vals...); err != nil {
			t.Fatal(err)
		}
	}
	ins("shipping", 1, 102, "Ann", "Lee")
	ins("shipping", 2, 103, "Bo", "Kim")
	ins("shipping", 3, 103, "Bo", "Kim")
	for i := 1; i <= 3; i++ {
		ins("member_loginlog", i, 102, fmt.Sprintf("10.0.0.%d", i), "note")
	}
	schema := sqlstore.DefaultSchema()
	schema.Joined = map[string]string{"shipping": "customer_id"}
	schema.Fields[forget.ShippingFirstname] = sqlstore.Column{Table: "shipping", Column: "shipping_firstname"}
	schema.Fields[forget.ShippingLastname] = sqlstore.Column{Table: "shipping", Column: "shipping_lastname"}
	schema.Tables["member_loginlog"] = sqlstore.RelatedTable{Table: "member_loginlog", CustomerKey: "customer_id"}
	s, err := sqlstore.New(db, e.dialect, append([]sqlstore.Option{sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	cat := forget.DefaultCatalogue()
	cat.Tables = append(cat.Tables, forget.TableSpec{Name: "member_loginlog", Scrub: []forget.ColumnRule{
		{Column: "ip", Rule: forget.Null()}, {Column: "note", Rule: forget.Fixed("scrubbed")}}})
	clock := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	return s, quietForgetter(t, s, forget.WithCatalogue(cat), forget.WithClock(func() time.Time { return clock })), db
}

// TestReceiptSaysWhatWasWritten: a receipt lists a field as erased only
// where a row held it (a customer without a row in the joined table has
// its fields there in absent, not in fields_erased, and so has its audit
// record), counts every field table's rows written (rows_updated, several
// in a multi-row joined table) and every scrubbed row, a second time too
// although the values written are those the rows already hold (MySQL
// counted only rows changed). Per customer and set-based alike, real
// runs and dry runs, on every engine.
func TestReceiptSaysWhatWasWritten(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		for _, setBased := range []bool{false, true} {
			for _, dry := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/setBased=%v/dry=%v", e.name, setBased, dry), func(t *testing.T) {
					ctx := context.Background()
					s, f := writtenFixture(t, e, sqlstore.WithSetBased(setBased))
					ids := []string{"101", "102", "103", "104", "102"}
					if dry {
						ids = ids[:4] // a dry run's second forget of a customer goes per customer
					}
					var reqs []forget.Request
					for _, id := range ids {
						reqs = append(reqs, forget.Request{Lookup: forget.Lookup{CustomerID: id}, DryRun: dry})
					}
					out := f.ForgetBatch(ctx, reqs)
					for i, o := range out {
						if o.Err != nil {
							t.Fatalf("request %d: %v", i, o.Err)
						}
					}
					if sets, fallbacks := sqlstore.BulkStats(s); setBased && (sets == 0 || fallbacks != 0) {
						t.Errorf("%d groups set-based, %d fell back; want the batch set-based", sets, fallbacks)
					}
					shipping := []forget.Field{forget.ShippingFirstname, forget.ShippingLastname}
					for i, want := range []struct {
						shippingRows, loginRows int64
					}{{0, 0}, {1, 3}, {2, 0}, {0, 0}, {1, 3}}[:len(ids)] {
						rc := out[i].Receipt
						wantUpdated := map[string]int64{"customers": 1, "shipping": want.shippingRows}
						if !maps.Equal(rc.RowsUpdated, wantUpdated) {
							t.Errorf("request %d (customer %s): rows_updated %v, want %v", i, rc.CustomerID, rc.RowsUpdated, wantUpdated)
						}
						if got := rc.RowsScrubbed["member_loginlog"]; got != want.loginRows {
							t.Errorf("request %d (customer %s): rows_scrubbed member_loginlog %d, want %d", i, rc.CustomerID, got, want.loginRows)
						}
						for _, fld := range shipping {
							erased, absent := slices.Contains(rc.FieldsErased, fld), slices.Contains(rc.Absent, string(fld))
							if erased == (want.shippingRows == 0) || absent != (want.shippingRows == 0) {
								t.Errorf("request %d (customer %s): %s in fields_erased %v, in absent %v; the customer has %d shipping rows", i, rc.CustomerID, fld, erased, absent, want.shippingRows)
							}
						}
						if !slices.Contains(rc.FieldsErased, forget.Lastname) {
							t.Errorf("request %d: lastname not in fields_erased %v", i, rc.FieldsErased)
						}
					}
					if dry {
						return
					}
					trail, err := s.AuditTrail(ctx, time.Time{})
					if err != nil || len(trail) != len(reqs) {
						t.Fatalf("audit trail: %d records, %v", len(trail), err)
					}
					for i, rc := range trail {
						if !slices.Equal(rc.FieldsErased, out[i].Receipt.FieldsErased) {
							t.Errorf("audit record %d fields_erased %v, receipt's %v", i, rc.FieldsErased, out[i].Receipt.FieldsErased)
						}
					}
				})
			}
		}
	}
}
