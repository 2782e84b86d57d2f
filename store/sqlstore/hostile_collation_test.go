package sqlstore_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestHostileCaseInsensitiveViaColumn: customers.email has a unique index
// that tells 'Ann@example.com' (customer 1) from 'ann@example.com'
// (customer 2), and the newsletter via (from customers.email, no
// normalize) is deemed exclusive. But newsletter.email compares without
// case (SQLite COLLATE NOCASE, a MariaDB _ci collation against a _bin
// customers column, a PostgreSQL nondeterministic collation), so
// forgetting customer 1 deletes customer 2's newsletter row. Verify
// should see the column's collation (not exclusive: ask for shared), or
// the forget must leave customer 2's row.
func TestHostileCaseInsensitiveViaColumn(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			shop := newViaShop(t, e, viaShopOpts{})
			stmts := []string{"UPDATE customers SET email = 'Ann@example.com' WHERE id = " + shop.lit(1)}
			switch e.dialect {
			case sqlstore.SQLite:
				stmts = append(stmts, "DROP TABLE newsletter", "CREATE TABLE newsletter (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE NOT NULL)")
			case sqlstore.MySQL:
				stmts = append(stmts, "ALTER TABLE customers MODIFY email VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL",
					"ALTER TABLE newsletter MODIFY email VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL", "DELETE FROM newsletter")
			case sqlstore.Postgres:
				stmts = append(stmts, "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
					"ALTER TABLE newsletter ALTER COLUMN email TYPE text COLLATE ci", "DELETE FROM newsletter")
			}
			stmts = append(stmts, "CREATE UNIQUE INDEX customers_email ON customers (email)",
				"INSERT INTO newsletter (id, email) VALUES ("+shop.lit(701)+", 'ann@example.com'), ("+shop.lit(702)+", 'Ann@example.com')")
			execAll(t, shop.db, stmts...)
			schema := viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep})
			schema.Tables["newsletter"] = sqlstore.RelatedTable{Table: "newsletter", Via: &sqlstore.Via{Column: "email", From: "customers.email"}}
			st, err := sqlstore.New(shop.db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			cat := viaShopCatalogue()
			cat.Fields[0].Rule = forget.Pseudonym() // email is unique
			f, err := forget.New(st, forget.WithCatalogue(cat), forget.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			err = f.Verify(ctx)
			if err != nil {
				// The safe outcome: Verify names the two comparisons.
				if !strings.Contains(err.Error(), "via column newsletter.email compares values by") || !strings.Contains(err.Error(), "from column customers.email by") {
					t.Fatalf("Verify refused, but not for the collations: %v", err)
				}
				t.Logf("refused by Verify: %v", err)
				return
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(1)}}); err != nil {
				t.Fatalf("forget 1: %v", err)
			}
			var n int
			if err := shop.db.QueryRow("SELECT COUNT(*) FROM newsletter WHERE id = " + shop.lit(701)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Error("forgetting customer 1 (Ann@example.com) deleted customer 2's newsletter row ann@example.com")
			}
		})
	}
}
