package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// One mapping file, with its rules, for the command (forget lint -schema
// mapping.json in CI) and the application: LoadSchema reads it as the
// command does, and Schema.Catalogue turns the catalogue the host starts
// from into the one the file describes.
func ExampleLoadSchema() {
	const mapping = `{
	  "customers": {"table": "customers", "key": "customer_id"},
	  "fields": {
	    "firstname": {"column": "firstname"},
	    "phone":     {"column": "phone", "rule": "null"},
	    "email":     {"column": "email", "rule": "keyed_hash"}
	  },
	  "tables": {
	    "member_note": {"table": "member_note", "customer_key": "customer_id",
	                    "scrub": {"note": {"rule": "redact_text", "patterns": ["email"]}}}
	  },
	  "absent": ["username", "token_hash", "original_username", "password", "cryptpass", "session", "lastname",
	    "address1", "address2", "city", "state", "zip", "country", "shipping_firstname", "shipping_lastname",
	    "shipping_address1", "shipping_address2", "shipping_zip", "shipping_city", "shipping_state",
	    "shipping_country", "member_auth"]
	}`
	dir, _ := os.MkdirTemp("", "forget-example-")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	db.Exec(`CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, firstname TEXT NOT NULL, phone TEXT, email TEXT NOT NULL)`)
	db.Exec(`CREATE TABLE member_note (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, note TEXT NOT NULL)`)
	db.Exec(`CREATE INDEX member_note_customer ON member_note (customer_id)`)
	db.Exec(`INSERT INTO customers VALUES (191, 'Jane', '555-0100', 'jane@example.com')`)
	db.Exec(`INSERT INTO member_note VALUES (1, 191, 'Jane asks: write to jane@example.com, cc bob@example.org')`)

	schema, err := sqlstore.LoadSchema(strings.NewReader(mapping))
	if err != nil {
		log.Fatal(err)
	}
	key := []byte("the host's own secret, from its vault") // never in the mapping
	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(schema), sqlstore.WithHashKey(key))
	if err != nil {
		log.Fatal(err)
	}
	cat, err := schema.Catalogue(forget.DefaultCatalogue())
	if err != nil {
		log.Fatal(err)
	}
	f, err := forget.New(store, forget.WithCatalogue(cat), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	if err := f.Verify(ctx); err != nil {
		log.Fatal(err)
	}
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "191"}})
	if err != nil {
		log.Fatal(err)
	}
	var first, email, note string
	var phone sql.NullString
	db.QueryRow(`SELECT firstname, phone, email FROM customers`).Scan(&first, &phone, &email)
	db.QueryRow(`SELECT note FROM member_note`).Scan(&note)
	fmt.Printf("firstname %q, phone null %v, email hashed to %d hex digits\n", first, !phone.Valid, len(email))
	fmt.Println(note)
	fmt.Println("redactions", rc.Redactions, "rows scrubbed", rc.RowsScrubbed)
	// Output:
	// firstname "", phone null true, email hashed to 64 hex digits
	// [redacted] asks: write to [redacted], cc [redacted]
	// redactions map[member_note.note:3] rows scrubbed map[member_note:1]
}
