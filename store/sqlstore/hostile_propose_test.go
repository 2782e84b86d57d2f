package sqlstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestHostileProposeTwoForeignKeysToCustomers: messages has two foreign
// keys to customers, sender_id and recipient_id. Every message is two
// customers' row. A proposal that purges messages by one of the keys
// deletes rows of the other customer (a message customer 2 sent, or
// received) and leaves the ones by the other key: the bar is that
// a proposal never touches another customer's row. Propose should leave
// such a table for review (or propose shared), not guess a purge.
func TestHostileProposeTwoForeignKeysToCustomers(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			execAll(t, db,
				"CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(100) NOT NULL, firstname VARCHAR(100) NOT NULL)",
				"CREATE TABLE messages (id BIGINT PRIMARY KEY, sender_id BIGINT NOT NULL, recipient_id BIGINT NOT NULL, body VARCHAR(200) NOT NULL, FOREIGN KEY (sender_id) REFERENCES customers (id), FOREIGN KEY (recipient_id) REFERENCES customers (id))",
				"CREATE INDEX messages_sender ON messages (sender_id)",
				"CREATE INDEX messages_recipient ON messages (recipient_id)",
				"INSERT INTO customers VALUES (1, 'ann@example.com', 'Annabel'), (2, 'bob@example.org', 'Bobby')",
				"INSERT INTO messages VALUES (11, 1, 2, 'ann to bob'), (12, 2, 1, 'bob to ann')")
			s0, err := sqlstore.New(db, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			prop, err := s0.ProposeWith(ctx, forget.DefaultCatalogue(), sqlstore.ProposeConfig{Customers: "customers"})
			if err != nil {
				t.Fatal(err)
			}
			rt, ok := prop.Schema.Tables["messages"]
			if !ok {
				return // left out for review: fine
			}
			file, err := json.Marshal(prop.Schema)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(file))
			dec.DisallowUnknownFields()
			var loaded sqlstore.Schema
			if err := dec.Decode(&loaded); err != nil {
				t.Fatal(err)
			}
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(loaded))
			if err != nil {
				t.Fatal(err)
			}
			cat, err := s.ExtendCatalogue(ctx, forget.DefaultCatalogue())
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, s, forget.WithCatalogue(cat))
			if err := f.Verify(ctx); err != nil {
				t.Logf("the proposal does not verify: %v", err)
				return
			}
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, r := range dumpRows(t, ctx, db, "SELECT id FROM messages ORDER BY id") {
				left = append(left, r[0].String)
			}
			if fmt.Sprint(left) != "[11 12]" {
				t.Errorf("the proposal maps messages as %+v (review: %s); forgetting customer 1 left messages %v: rows customer 2 shares were deleted",
					rt, strings.Join(prop.Review, "; "), left)
			}
		})
	}
}

// TestHostileProposeUserIDReferencesAnotherTable: audit_log.user_id is a
// foreign key to admins, not to users (the customers table), and its
// values (1, 2) are also users' ids. A proposal that purges audit_log by
// user_id would erase the admins' log when a user is forgotten.
func TestHostileProposeUserIDReferencesAnotherTable(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			execAll(t, db,
				"CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(100) NOT NULL, first_name VARCHAR(100) NOT NULL)",
				"CREATE TABLE admins (id BIGINT PRIMARY KEY, login VARCHAR(100) NOT NULL)",
				"CREATE TABLE audit_log (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, action VARCHAR(100) NOT NULL, FOREIGN KEY (user_id) REFERENCES admins (id))",
				"CREATE TABLE notes (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, body VARCHAR(100) NOT NULL)",
				"INSERT INTO users VALUES (1, 'ann@example.com', 'Annabel'), (2, 'bob@example.org', 'Roberto')",
				"INSERT INTO admins VALUES (1, 'root'), (2, 'ops')",
				"INSERT INTO audit_log VALUES (11, 1, 'deploy'), (12, 2, 'restart')",
				"INSERT INTO notes VALUES (21, 1, 'n1'), (22, 2, 'n2')")
			s0, err := sqlstore.New(db, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			prop, err := s0.ProposeWith(ctx, forget.DefaultCatalogue(), sqlstore.ProposeConfig{Customers: "users"})
			if err != nil {
				t.Fatal(err)
			}
			if rt, ok := prop.Schema.Tables["audit_log"]; ok {
				t.Errorf("audit_log (user_id -> admins) proposed as the customer's: %+v", rt)
			}
		})
	}
}
