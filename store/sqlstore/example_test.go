package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// A store over an SQLite database with the default schema and an audit
// trail.
func Example() {
	dir, _ := os.MkdirTemp("", "forget-example-")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := sqlstore.CreateSchema(ctx, db, sqlstore.SQLite); err != nil {
		log.Fatal(err)
	}
	db.Exec(`INSERT INTO customers (customer_id, username, firstname, phone) VALUES (191, 'jdoe', 'Jane', '555-0100')`)
	db.Exec(`INSERT INTO transactions (orderid, customer_id) VALUES (19101, 191)`)
	db.Exec(`INSERT INTO member_note (customer_id, note) VALUES (191, 'called on monday')`)

	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		log.Fatal(err)
	}
	f, err := forget.New(store, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{OrderID: "19101"}, Keep: []string{"firstname"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("forgot", rc.CustomerID, "rows deleted", rc.RowsDeleted)

	var firstname, phone string
	db.QueryRow(`SELECT firstname, phone FROM customers WHERE customer_id = 191`).Scan(&firstname, &phone)
	fmt.Printf("firstname %q, phone %q\n", firstname, phone)
	trail, _ := store.AuditTrail(ctx, rc.At)
	fmt.Println("audit records:", len(trail), trail[0].CustomerID)
	// Output:
	// forgot 191 rows deleted map[member_auth:0 member_note:1]
	// firstname "Jane", phone ""
	// audit records: 1 191
}
