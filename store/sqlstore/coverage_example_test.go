package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// exampleDB is a database with the default schema and a host's own
// additions: an email column and a support tickets table.
func exampleDB() (*sql.DB, func()) {
	dir, _ := os.MkdirTemp("", "forget-example-")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := sqlstore.CreateSchema(ctx, db, sqlstore.SQLite); err != nil {
		log.Fatal(err)
	}
	for _, st := range []string{
		`ALTER TABLE customers ADD COLUMN email TEXT`,
		`CREATE TABLE tickets (ticket_id INTEGER PRIMARY KEY, customer_id BIGINT NOT NULL, message TEXT NOT NULL)`,
		`CREATE INDEX tickets_customer ON tickets (customer_id)`,
		`INSERT INTO customers (customer_id, username, email) VALUES (191, 'jdoe', 'jane@example.org')`,
		`INSERT INTO tickets VALUES (1, 191, 'please mail jane@example.org')`,
	} {
		if _, err := db.Exec(st); err != nil {
			log.Fatal(err)
		}
	}
	return db, func() { db.Close(); os.RemoveAll(dir) }
}

// Which columns that reach a customer does the mapping leave untouched?
// Coverage says, with counts of what sampled values look like, never the
// values.
func ExampleStore_Coverage() {
	db, done := exampleDB()
	defer done()
	ctx := context.Background()
	schema := sqlstore.DefaultSchema()
	schema.Retain = map[string]string{"subscriptions.status": "billing", "transactions.amount_cents": "accounting, 10 years"}
	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		log.Fatal(err)
	}
	cov, err := store.Coverage(ctx, forget.DefaultCatalogue(), sqlstore.SampleRows(100))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cov.Summary)
	for _, t := range cov.Tables {
		for _, c := range t.Columns {
			if c.Class == sqlstore.ClassUnclassified {
				fmt.Printf("%s.%s: %s; %d of %d sampled values hold an e-mail address\n", t.Table, c.Column, c.Hint, c.Sample.Emails, c.Sample.Values)
			}
		}
	}
	// Output:
	// 56 columns in 7 tables reach a customer: 30 erased, 7 keys, 17 retained, 2 unclassified, 2 of them likely personal
	// customers.email: its name contains email; 1 of 1 sampled values hold an e-mail address
	// tickets.message: its name contains message; 1 of 1 sampled values hold an e-mail address
}

// A first mapping for a schema: what Propose guessed loads as it is and
// leaves nothing unclassified; Retain reasons it guessed start with
// "REVIEW: ".
func ExampleStore_Propose() {
	db, done := exampleDB()
	defer done()
	ctx := context.Background()
	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		log.Fatal(err)
	}
	prop, err := store.Propose(ctx, forget.DefaultCatalogue())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("email:", prop.Schema.Fields["email"].Column, "tickets:", prop.Schema.Tables["tickets"].Table)
	fmt.Println("retain:", prop.Schema.Retain["subscriptions.status"])

	// The mapping alone (a file, say) extends the catalogue again.
	mapped, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(prop.Schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable),
		sqlstore.WithCoverage(sqlstore.EveryColumn))
	if err != nil {
		log.Fatal(err)
	}
	cat, err := mapped.ExtendCatalogue(ctx, forget.DefaultCatalogue())
	if err != nil {
		log.Fatal(err)
	}
	f, err := forget.New(mapped, forget.WithCatalogue(cat), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verify:", f.Verify(ctx))
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "191"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("tickets deleted:", rc.RowsDeleted["tickets"])
	// Output:
	// email: email tickets: tickets
	// retain: REVIEW: kept: nothing in its name looks personal
	// verify: <nil>
	// tickets deleted: 1
}
