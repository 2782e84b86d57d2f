package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestHostileGeneratedColumns: customers.email_lower is a STORED
// generated column (lower(email)). Mapped as a field, the forget would
// write it, which every engine refuses: Verify must refuse the mapping
// naming the column. Left unmapped, coverage must not call it covered
// while it holds her e-mail... it is recomputed by the engine from the
// erased e-mail, so after the forget it must no longer hold it.
func TestHostileGeneratedColumns(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			gen := "VARCHAR(100) GENERATED ALWAYS AS (lower(email)) STORED"
			if e.dialect == sqlstore.MySQL {
				gen = "VARCHAR(100) AS (lower(email)) STORED"
			}
			execAll(t, db,
				"CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(100) NOT NULL, firstname VARCHAR(100) NOT NULL, email_lower "+gen+")",
				"INSERT INTO customers (id, email, firstname) VALUES (1, 'Ann@Example.com', 'Annabel'), (2, 'bob@example.org', 'Bobby')")
			for _, mapGenerated := range []bool{true, false} {
				fields := map[forget.Field]sqlstore.Column{"email": {Column: "email"}, "firstname": {Column: "firstname"}}
				cat := forget.Catalogue{Fields: []forget.FieldSpec{{Name: "email", Rule: forget.Pseudonym()}, {Name: "firstname", Rule: forget.Empty()}}}
				if mapGenerated {
					fields["email_lower"] = sqlstore.Column{Column: "email_lower"}
					cat.Fields = append(cat.Fields, forget.FieldSpec{Name: "email_lower", Rule: forget.Empty()})
				}
				s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(sqlstore.Schema{Customers: sqlstore.CustomerTable{Table: "customers", Key: "id"}, Fields: fields}))
				if err != nil {
					t.Fatal(err)
				}
				f := quietForgetter(t, s, forget.WithCatalogue(cat))
				if err := f.Verify(ctx); err != nil {
					if !mapGenerated {
						t.Fatalf("Verify: %v", err)
					}
					// refused: what should happen, naming the column and its source
					if msg := err.Error(); !strings.Contains(msg, "customers.email_lower is a generated column") || !strings.Contains(msg, "(email)") {
						t.Errorf("Verify refuses without naming the generated column and its source: %v", err)
					}
					continue
				}
				if !mapGenerated {
					cov, err := s.Coverage(ctx, cat)
					if err != nil {
						t.Fatal(err)
					}
					for _, tc := range cov.Tables {
						for _, cc := range tc.Columns {
							if cc.Column == "email_lower" && (cc.Class != sqlstore.ClassErased || !strings.Contains(cc.By, "derived from email")) {
								t.Errorf("coverage of the generated email_lower, whose source is erased: %+v", cc)
							}
						}
					}
				}
				if mapGenerated {
					if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
						t.Errorf("Verify passed a field on a generated column, and the forget fails: %v", err)
					}
					continue
				}
				if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
					t.Fatal(err)
				}
				if got := dumpRows(t, ctx, db, "SELECT email_lower FROM customers WHERE id = 1"); got[0][0].String == "ann@example.com" {
					t.Error("email_lower still holds her e-mail")
				}
			}
		})
	}
}
