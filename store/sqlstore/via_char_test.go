package sqlstore_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestViaFromCharColumn: customers.email is CHAR(40) (blank-padded
// on PostgreSQL), newsletter.email VARCHAR. The via (no normalize) reads
// the customer's e-mail and binds it; read back padded, it may no longer
// equal the newsletter's unpadded value, and her row would survive.
func TestViaFromCharColumn(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			execAll(t, db,
				"CREATE TABLE customers (id BIGINT PRIMARY KEY, email CHAR(40) NOT NULL, firstname VARCHAR(100) NOT NULL)",
				"CREATE UNIQUE INDEX customers_email ON customers (email)",
				"CREATE TABLE newsletter (id BIGINT PRIMARY KEY, email VARCHAR(100) NOT NULL)",
				"INSERT INTO customers VALUES (1, 'ann@example.com', 'Annabel'), (2, 'bob@example.org', 'Roberto')",
				"INSERT INTO newsletter VALUES (1, 'ann@example.com'), (2, 'bob@example.org')")
			schema := sqlstore.Schema{
				Customers: sqlstore.CustomerTable{Table: "customers", Key: "id"},
				Fields:    map[forget.Field]sqlstore.Column{"email": {Column: "email"}, "firstname": {Column: "firstname"}},
				Tables: map[forget.Table]sqlstore.RelatedTable{
					"newsletter": {Table: "newsletter", Via: &sqlstore.Via{Column: "email", From: "customers.email"}},
				},
			}
			st, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			cat := forget.Catalogue{Fields: []forget.FieldSpec{{Name: "email", Rule: forget.Pseudonym()}, {Name: "firstname", Rule: forget.Empty()}}, Tables: []forget.TableSpec{{Name: "newsletter"}}}
			f := quietForgetter(t, st, forget.WithCatalogue(cat))
			if err := f.Verify(ctx); err != nil {
				if !strings.Contains(err.Error(), "normalize") || !strings.Contains(err.Error(), "customers.email") {
					t.Errorf("Verify refuses, but not saying how to fix it: %v", err)
				}
				// As it says: trim both sides.
				schema.Tables["newsletter"] = sqlstore.RelatedTable{Table: "newsletter", Shared: sqlstore.SharedKeep, Via: &sqlstore.Via{Column: "email", From: "customers.email", Normalize: "trim"}}
				if st, err = sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithLogger(slog.New(slog.DiscardHandler))); err != nil {
					t.Fatal(err)
				}
				if f = quietForgetter(t, st, forget.WithCatalogue(cat)); f.Verify(ctx) != nil {
					t.Fatalf("with normalize trim: %v", f.Verify(ctx))
				}
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM newsletter WHERE id = 1").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Error("her newsletter row survives: the CHAR value read back padded matches nothing")
			}
		})
	}
}
