package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestProposeCustomersChoice: the customers table is the one named, or
// the one the most foreign keys point at (not the one with the most
// catalogue-like columns); when keys tie, or none tells and the best
// table is not named like a customers table, Propose fails asking for
// -customers; a table keyed 1:1 by a foreign key to the customers is the
// customer's by its primary key.
func TestProposeCustomersChoice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	open := func(t *testing.T, stmts ...string) *sqlstore.Store {
		db, _ := openSQLite(t)
		execAll(t, db, stmts...)
		s, err := sqlstore.New(db, sqlstore.SQLite)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	users := `CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT)`
	addresses := `CREATE TABLE addresses (id INTEGER PRIMARY KEY, user_id BIGINT REFERENCES users (id), firstname TEXT, lastname TEXT, city TEXT, zip TEXT)`
	t.Run("ByForeignKeys", func(t *testing.T) {
		s := open(t, users, addresses,
			`CREATE TABLE profiles (user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE, phone TEXT)`,
			`CREATE TABLE tickets (id INTEGER PRIMARY KEY, user_id BIGINT REFERENCES users (id), assignee_id BIGINT REFERENCES users (id))`,
			`CREATE TABLE tasks (id INTEGER PRIMARY KEY, assignee_id BIGINT REFERENCES users (id))`,
			`CREATE TABLE comments (id INTEGER PRIMARY KEY, user_id BIGINT REFERENCES users (id), reply_to BIGINT REFERENCES comments (id))`,
			`INSERT INTO users VALUES (1, 'a')`, `INSERT INTO profiles VALUES (1, '')`)
		prop, err := s.Propose(ctx, forget.DefaultCatalogue())
		if err != nil {
			t.Fatal(err)
		}
		if prop.Schema.Customers.Table != "users" {
			t.Errorf("customers %+v", prop.Schema.Customers)
		}
		if rt := prop.Schema.Tables["addresses"]; rt.CustomerKey != "user_id" {
			t.Errorf("addresses %+v", rt)
		}
		// A foreign key whose name does not say the row is the customer's
		// (an assignee's) is not followed.
		if rt := prop.Schema.Tables["tickets"]; rt.CustomerKey != "user_id" {
			t.Errorf("tickets %+v", rt)
		}
		if rt, ok := prop.Schema.Tables["tasks"]; ok {
			t.Errorf("tasks proposed for purging by %s", rt.CustomerKey)
		}
		review := strings.Join(prop.Review, "\n")
		for _, want := range []string{
			"table tickets: rows taken as the customer's by user_id; its other foreign keys to users (assignee_id) are not followed",
			"table tasks: column assignee_id has a foreign key to users, but its name does not say the row is the customer's",
			"table comments: its rows refer to other rows of it (comments(reply_to) -> comments(id)) without ON DELETE CASCADE",
		} {
			if !strings.Contains(review, want) {
				t.Errorf("review does not say %q:\n%s", want, review)
			}
		}
		// profiles holds one row per user: its phone is a field, through
		// its primary key, which is a foreign key to users.
		if c := prop.Schema.Fields[forget.Phone]; c.Table != "profiles" || prop.Schema.Joined["profiles"] != "user_id" {
			t.Errorf("phone %+v, joined %v", c, prop.Schema.Joined)
		}
	})
	t.Run("UsersWithoutCatalogueColumns", func(t *testing.T) {
		// users has no column named like a catalogue field; addresses has
		// many, and orders point at it: users is still the customers table.
		s := open(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, created_at TEXT)`, addresses,
			`CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id BIGINT REFERENCES users (id), address_id BIGINT REFERENCES addresses (id))`,
			`CREATE TABLE logins (id INTEGER PRIMARY KEY, user_id BIGINT REFERENCES users (id))`)
		prop, err := s.Propose(ctx, forget.DefaultCatalogue())
		if err != nil || prop.Schema.Customers.Table != "users" {
			t.Errorf("Propose: %v, %+v", err, prop)
		}
	})
	t.Run("Named", func(t *testing.T) {
		s := open(t, users, addresses)
		prop, err := s.ProposeWith(ctx, forget.DefaultCatalogue(), sqlstore.ProposeConfig{Customers: "addresses"})
		if err != nil || prop.Schema.Customers.Table != "addresses" || !strings.Contains(prop.Review[0], "named with -customers") {
			t.Errorf("-customers addresses: %v, %+v", err, prop)
		}
		if _, err := s.ProposeWith(ctx, forget.DefaultCatalogue(), sqlstore.ProposeConfig{Customers: "nobody"}); err == nil || !strings.Contains(err.Error(), "customers table nobody does not exist") {
			t.Errorf("-customers nobody: %v", err)
		}
	})
	t.Run("KeysTie", func(t *testing.T) {
		s := open(t, users, `CREATE TABLE members (id INTEGER PRIMARY KEY, username TEXT)`,
			`CREATE TABLE a (id INTEGER PRIMARY KEY, user_id BIGINT REFERENCES users (id))`,
			`CREATE TABLE b (id INTEGER PRIMARY KEY, member_id BIGINT REFERENCES members (id))`)
		if _, err := s.Propose(ctx, forget.DefaultCatalogue()); err == nil || !strings.Contains(err.Error(), "name the customers table (-customers TABLE)") {
			t.Errorf("Propose: %v", err)
		}
	})
	t.Run("NoKeyNoName", func(t *testing.T) {
		s := open(t, `CREATE TABLE shipments (id INTEGER PRIMARY KEY, firstname TEXT, city TEXT)`, `CREATE TABLE things (id INTEGER PRIMARY KEY, shipment_id BIGINT)`)
		if _, err := s.Propose(ctx, forget.DefaultCatalogue()); err == nil || !strings.Contains(err.Error(), "is not named like one; name it (-customers TABLE)") {
			t.Errorf("Propose: %v", err)
		}
	})
}

// TestVerifyRestrictChain: Verify refuses a purge whose rows a NO ACTION
// key refers to through a cascade (tickets -CASCADE-> replies <-NO
// ACTION- reply_votes), and accepts it once the grandchild is mapped.
func TestVerifyRestrictChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openSQLite(t)
	execAll(t, db, append(sqlstore.DDL(sqlstore.SQLite),
		`CREATE TABLE tickets (ticket_id INTEGER PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers (customer_id))`,
		`CREATE TABLE replies (reply_id INTEGER PRIMARY KEY, ticket_id BIGINT NOT NULL REFERENCES tickets (ticket_id) ON DELETE CASCADE)`,
		`CREATE TABLE reply_votes (vote_id INTEGER PRIMARY KEY, customer_id BIGINT NOT NULL, reply_id BIGINT REFERENCES replies (reply_id) ON DELETE RESTRICT)`)...)
	schema := sqlstore.DefaultSchema()
	schema.Tables["tickets"] = sqlstore.RelatedTable{Table: "tickets", CustomerKey: "customer_id"}
	cat := forget.DefaultCatalogue()
	cat.Tables = append(cat.Tables, forget.TableSpec{Name: "tickets"})
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Verify(ctx, cat)
	if err == nil || !strings.Contains(err.Error(), "table tickets: a forget deletes rows of tickets -(ON DELETE CASCADE)-> replies, but table reply_votes refers to them (reply_votes(reply_id) -> replies(reply_id), ON DELETE RESTRICT)") {
		t.Fatalf("Verify: %v", err)
	}
	schema.Tables["reply_votes"] = sqlstore.RelatedTable{Table: "reply_votes", CustomerKey: "customer_id"}
	cat.Tables = append(cat.Tables, forget.TableSpec{Name: "reply_votes"})
	if s, err = sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(schema)); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(ctx, cat); err != nil {
		t.Errorf("Verify with reply_votes mapped: %v", err)
	}
}

// TestProposeChildrenFirst: on every engine, a proposed purge of a table
// (alpha_tickets) whose child (zeta_replies, NO ACTION) is proposed too
// runs: the catalogue a mapping file extends deletes the child's rows
// first, though its name sorts after the parent's.
func TestProposeChildrenFirst(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := e.open(t)
			execAll(t, db,
				`CREATE TABLE users (id BIGINT PRIMARY KEY, username VARCHAR(64) NOT NULL)`,
				`CREATE TABLE alpha_tickets (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, FOREIGN KEY (user_id) REFERENCES users (id))`,
				`CREATE TABLE zeta_replies (id BIGINT PRIMARY KEY, ticket_id BIGINT NOT NULL, user_id BIGINT NOT NULL, FOREIGN KEY (ticket_id) REFERENCES alpha_tickets (id), FOREIGN KEY (user_id) REFERENCES users (id))`,
				`INSERT INTO users VALUES (1, 'a'), (2, 'b')`,
				`INSERT INTO alpha_tickets VALUES (1, 1), (2, 2)`,
				`INSERT INTO zeta_replies VALUES (1, 1, 1), (2, 2, 2)`)
			s0, err := sqlstore.New(db, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			prop, err := s0.Propose(ctx, forget.DefaultCatalogue())
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := prop.Schema.Tables["alpha_tickets"]; !ok || len(prop.Problems) > 0 {
				t.Fatalf("alpha_tickets not purged (%v):\n%s", prop.Problems, strings.Join(prop.Review, "\n"))
			}
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(prop.Schema))
			if err != nil {
				t.Fatal(err)
			}
			cat, err := s.ExtendCatalogue(ctx, forget.DefaultCatalogue())
			if err != nil {
				t.Fatal(err)
			}
			var order []string
			for _, ts := range cat.Tables[2:] {
				order = append(order, string(ts.Name))
			}
			if strings.Join(order, ",") != "zeta_replies,alpha_tickets" {
				t.Errorf("extension tables in order %q", order)
			}
			if _, err := quietForgetter(t, s, forget.WithCatalogue(cat)).Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.QueryRow(`SELECT (SELECT COUNT(*) FROM alpha_tickets) + (SELECT COUNT(*) FROM zeta_replies)`).Scan(&n); err != nil || n != 2 {
				t.Errorf("%d rows left (%v), want user 2's 2", n, err)
			}
		})
	}
}
