package sqlstore_test

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// Tombstones on every engine: a forget leaves keyed hashes of the
// identities it erases, in its own transaction, and nothing else.

var (
	tombKeyA = forget.TombstoneKey{ID: "k2026", Secret: []byte("0123456789abcdef0123456789abcdef")}
	tombKeyB = forget.TombstoneKey{ID: "k2027", Secret: []byte("fedcba9876543210fedcba9876543210")}
)

const emailField forget.Field = "email"

// tombCatalogue is the default catalogue with the email extension.
func tombCatalogue() forget.Catalogue {
	cat := forget.DefaultCatalogue()
	cat.Fields = append(cat.Fields, forget.FieldSpec{Name: emailField, Rule: forget.Empty()})
	return cat
}

func tombSchema() sqlstore.Schema {
	s := sqlstore.DefaultSchema()
	s.Fields[emailField] = sqlstore.Column{Column: "email"}
	s.Identities = []sqlstore.Identity{
		{Name: "email", Column: "email", Normalize: "email", PlusAddress: "strip"},
		{Name: "phone", Column: "phone", Normalize: "e164", DefaultCountry: "+44"},
	}
	s.Holds = []sqlstore.Hold{{Name: "chargeback", Table: "subscriptions", CustomerKey: "customer_id",
		Where: []sqlstore.Condition{{Column: "status", Op: "=", Value: "chargeback"}}}}
	return s
}

type tombFixture struct {
	db *sql.DB
	st *sqlstore.Store
	f  *forget.Forgetter
}

// newTombFixture is the default schema with an email column, customers 1
// to 3 (3 under a hold), tombstones under keys.
func newTombFixture(t testing.TB, e engine, keys []forget.TombstoneKey, opts ...sqlstore.Option) tombFixture {
	t.Helper()
	ctx := context.Background()
	db, _ := e.open(t)
	if err := sqlstore.CreateSchema(ctx, db, e.dialect); err != nil {
		t.Fatal(err)
	}
	text := map[sqlstore.Dialect]string{sqlstore.SQLite: "TEXT", sqlstore.Postgres: "TEXT", sqlstore.MySQL: "VARCHAR(255)"}[e.dialect]
	stmts := []string{"ALTER TABLE customers ADD COLUMN email " + text + " NOT NULL DEFAULT ''"}
	for i, c := range []struct{ email, phone string }{
		{" Jane+News@Example.ORG ", "07700 900123"},
		{"bob@example.net", "+1 (555) 010-9999"},
		{"held@example.com", ""},
	} {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO customers (customer_id, username, email, phone, firstname) VALUES (%d, 'user%d', '%s', '%s', 'Name%d')", i+1, i+1, c.email, c.phone, i+1))
	}
	stmts = append(stmts, "INSERT INTO subscriptions (subscription_id, customer_id, status) VALUES (30, 3, 'chargeback')")
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	opts = append([]sqlstore.Option{sqlstore.WithSchema(tombSchema()), sqlstore.WithAudit(sqlstore.DefaultAuditTable),
		sqlstore.WithTombstoneKeys(keys...), sqlstore.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	st, err := sqlstore.New(db, e.dialect, opts...)
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(st, forget.WithCatalogue(tombCatalogue()), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	return tombFixture{db: db, st: st, f: f}
}

type tombRow struct{ hash, keyID, identity, eventID, at string }

func (fx tombFixture) rows(t testing.TB) []tombRow {
	t.Helper()
	rows, err := fx.db.Query("SELECT hash, key_id, identity, event_id, forgotten_at FROM forget_tombstones ORDER BY tombstone_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []tombRow
	for rows.Next() {
		var r tombRow
		if err := rows.Scan(&r.hash, &r.keyID, &r.identity, &r.eventID, &r.at); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func (fx tombFixture) forgotten(t testing.TB, name, value string) bool {
	t.Helper()
	ok, err := fx.f.Forgotten(context.Background(), forget.Identity{Name: name, Value: value})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestTombstones(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()

			t.Run("WrittenInTheForget", func(t *testing.T) {
				fx := newTombFixture(t, e, []forget.TombstoneKey{tombKeyA, tombKeyB})
				if fx.forgotten(t, "email", "jane@example.org") {
					t.Fatal("forgotten before any forget")
				}
				rc, err := fx.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
				if err != nil {
					t.Fatal(err)
				}
				rows := fx.rows(t)
				if len(rows) != 4 { // two identities, two keys
					t.Fatalf("%d tombstones, want 4: %+v", len(rows), rows)
				}
				for _, r := range rows {
					if r.eventID != rc.EventID || len(r.hash) != 64 || r.at == "" {
						t.Errorf("tombstone %+v: want event %s, a 64-digit hash and a time", r, rc.EventID)
					}
				}
				for _, v := range []string{"jane@example.org", "JANE+other@example.org ", " jane+news@EXAMPLE.org"} {
					if !fx.forgotten(t, "email", v) {
						t.Errorf("email %q: not forgotten", v)
					}
				}
				for _, v := range []string{"+447700900123", "07700900123", "0044 7700 900123"} {
					if !fx.forgotten(t, "phone", v) {
						t.Errorf("phone %q: not forgotten", v)
					}
				}
				for _, c := range []struct{ name, v string }{{"email", "bob@example.net"}, {"email", "jane@example.com"}, {"phone", "+15550109999"}, {"email", ""}, {"phone", "+447700900123x"[:0]}} {
					if fx.forgotten(t, c.name, c.v) {
						t.Errorf("%s %q: forgotten, but nobody erased it", c.name, c.v)
					}
				}
				// The same person's details again, as a new customer, are
				// caught; the phone's text as an e-mail is not.
				if fx.forgotten(t, "email", "+447700900123") {
					t.Error("a phone number's text matched as an e-mail")
				}
			})

			t.Run("NoValueNoUnkeyedHash", func(t *testing.T) {
				fx := newTombFixture(t, e, []forget.TombstoneKey{tombKeyA})
				if _, err := fx.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
					t.Fatal(err)
				}
				var all []string
				for _, r := range fx.rows(t) {
					all = append(all, r.hash, r.keyID, r.identity, r.eventID, r.at)
				}
				dump := strings.ToLower(strings.Join(all, "|"))
				for _, v := range []string{" Jane+News@Example.ORG ", "jane+news@example.org", "jane@example.org", "07700 900123", "+447700900123", "447700900123", "7700900123"} {
					for _, form := range unkeyed(v) {
						if strings.Contains(dump, strings.ToLower(form)) {
							t.Errorf("the tombstone table holds %q (a form of a value)", form)
						}
					}
				}
				// With the key, only the right guess matches.
				if fx.forgotten(t, "email", "jane@example.com") || !fx.forgotten(t, "email", "jane@example.org") {
					t.Error("a guess with the key: wrong guess matched or right one did not")
				}
			})

			t.Run("KeptIdentityWritesNone", func(t *testing.T) {
				fx := newTombFixture(t, e, []forget.TombstoneKey{tombKeyA})
				if _, err := fx.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, Keep: []string{"email"}}); err != nil {
					t.Fatal(err)
				}
				rows := fx.rows(t)
				if len(rows) != 1 || rows[0].identity != "phone" {
					t.Fatalf("tombstones %+v, want the phone's alone", rows)
				}
				if fx.forgotten(t, "email", "jane@example.org") {
					t.Error("a kept e-mail is reported forgotten")
				}
			})

			t.Run("DryRunWritesNone", func(t *testing.T) {
				fx := newTombFixture(t, e, []forget.TombstoneKey{tombKeyA})
				if _, err := fx.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, DryRun: true}); err != nil {
					t.Fatal(err)
				}
				if rows := fx.rows(t); len(rows) != 0 {
					t.Fatalf("a dry run wrote tombstones: %+v", rows)
				}
			})

			t.Run("HeldWritesNone", func(t *testing.T) {
				fx := newTombFixture(t, e, []forget.TombstoneKey{tombKeyA})
				if _, err := fx.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "3"}}); !errors.Is(err, forget.ErrHeld) {
					t.Fatalf("err = %v, want held", err)
				}
				if rows := fx.rows(t); len(rows) != 0 {
					t.Fatalf("a refused forget wrote tombstones: %+v", rows)
				}
			})

			t.Run("RetiredKeyMatchesWritesNone", func(t *testing.T) {
				old := tombKeyA
				fx := newTombFixture(t, e, []forget.TombstoneKey{old})
				if _, err := fx.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
					t.Fatal(err)
				}
				old.Retired = true
				st, err := sqlstore.New(fx.db, e.dialect, sqlstore.WithSchema(tombSchema()), sqlstore.WithAudit(sqlstore.DefaultAuditTable),
					sqlstore.WithTombstoneKeys(tombKeyB, old), sqlstore.WithLogger(slog.New(slog.DiscardHandler)))
				if err != nil {
					t.Fatal(err)
				}
				if ok, err := st.Forgotten(ctx, forget.Identity{Name: "email", Value: "jane@example.org"}); err != nil || !ok {
					t.Fatalf("under the retired key: %v, %v; want true", ok, err)
				}
				f, err := forget.New(st, forget.WithCatalogue(tombCatalogue()), forget.WithLogger(slog.New(slog.DiscardHandler)))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "2"}}); err != nil {
					t.Fatal(err)
				}
				for _, r := range fx.rows(t)[2:] {
					if r.keyID != tombKeyB.ID {
						t.Errorf("the second forget wrote under %s; only %s is active", r.keyID, tombKeyB.ID)
					}
				}
			})

			t.Run("Batch", func(t *testing.T) {
				for _, setBased := range []bool{true, false} {
					fx := newTombFixture(t, e, []forget.TombstoneKey{tombKeyA}, sqlstore.WithSetBased(setBased))
					out := fx.f.ForgetBatch(ctx, []forget.Request{
						{Lookup: forget.Lookup{CustomerID: "1"}},
						{Lookup: forget.Lookup{CustomerID: "2"}, Keep: []string{"phone"}},
						{Lookup: forget.Lookup{CustomerID: "3"}},
						{Lookup: forget.Lookup{CustomerID: "99"}},
					})
					if out[0].Err != nil || out[1].Err != nil || !errors.Is(out[2].Err, forget.ErrHeld) || !errors.Is(out[3].Err, forget.ErrNotFound) {
						t.Fatalf("set-based %v: outcomes %v %v %v %v", setBased, out[0].Err, out[1].Err, out[2].Err, out[3].Err)
					}
					if rows := fx.rows(t); len(rows) != 3 {
						t.Errorf("set-based %v: %d tombstones, want 3 (two of 1, bob's email)", setBased, len(rows))
					}
					if !fx.forgotten(t, "email", "bob@example.net") || fx.forgotten(t, "phone", "+15550109999") || fx.forgotten(t, "email", "held@example.com") {
						t.Errorf("set-based %v: wrong answers after the batch", setBased)
					}
					if sets, fallbacks := sqlstore.BulkStats(fx.st); setBased && (sets == 0 || fallbacks != 0) {
						t.Errorf("%d groups set-based, %d fell back per customer; want the batch set-based", sets, fallbacks)
					}
				}
			})

			t.Run("UnknownIdentity", func(t *testing.T) {
				fx := newTombFixture(t, e, []forget.TombstoneKey{tombKeyA})
				_, err := fx.f.Forgotten(ctx, forget.Identity{Name: "username", Value: "x"})
				var ue *forget.UnknownIdentityError
				if !errors.As(err, &ue) || !errors.Is(err, forget.ErrInvalid) {
					t.Fatalf("err = %v, want an UnknownIdentityError", err)
				}
			})

			t.Run("AtomicWithTheForget", func(t *testing.T) {
				fx := newTombFixture(t, e, []forget.TombstoneKey{tombKeyA})
				// The audit insert fails after the tombstones are
				// written: neither may remain.
				if _, err := fx.db.Exec("DROP TABLE forget_audit"); err != nil {
					t.Fatal(err)
				}
				if _, err := fx.st.Forget(ctx, forget.Lookup{CustomerID: "1"}, forget.Plan{Fields: []forget.Assignment{{Field: emailField}}, Record: forget.Receipt{EventID: "e"}}); err == nil {
					t.Fatal("the forget succeeded without its audit table")
				}
				if rows := fx.rows(t); len(rows) != 0 {
					t.Fatalf("a failed forget left tombstones: %+v", rows)
				}
			})
		})
	}
}

// unkeyed is every form of v (and its normal forms) that a table holding
// no value and no unkeyed hash must not contain.
func unkeyed(v string) []string {
	forms := []string{v, strings.TrimSpace(v), strings.ToLower(strings.TrimSpace(v))}
	var out []string
	for _, f := range forms {
		if f == "" {
			continue
		}
		b := []byte(f)
		s1, s256, s512, m5 := sha1.Sum(b), sha256.Sum256(b), sha512.Sum512(b), md5.Sum(b)
		out = append(out, f, hex.EncodeToString(s1[:]), hex.EncodeToString(s256[:]), hex.EncodeToString(s512[:]), hex.EncodeToString(m5[:]),
			base64.StdEncoding.EncodeToString(s256[:]), base64.StdEncoding.EncodeToString([]byte(f)))
		for _, name := range []string{"email", "phone"} {
			h := sha256.Sum256([]byte(name + "\x00" + f))
			out = append(out, hex.EncodeToString(h[:]))
		}
	}
	return out
}

func TestTombstoneMapping(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	for _, c := range []struct {
		name string
		edit func(*sqlstore.Schema)
		keys []forget.TombstoneKey
		want string
	}{
		{"BadName", func(s *sqlstore.Schema) { s.Identities[0].Name = "E-mail" }, nil, "the name must match"},
		{"Duplicate", func(s *sqlstore.Schema) { s.Identities[1].Name = "email" }, nil, "two identities are named email"},
		{"SameColumn", func(s *sqlstore.Schema) {
			s.Identities[1].Column = "email"
			s.Identities[1].Normalize = "email"
			s.Identities[1].DefaultCountry = ""
		}, nil, "declares the same column"},
		{"BadNormalize", func(s *sqlstore.Schema) { s.Identities[0].Normalize = "lower" }, nil, "must be email or e164"},
		{"BadPlus", func(s *sqlstore.Schema) { s.Identities[0].PlusAddress = "drop" }, nil, "plus_address \"drop\" must be keep or strip"},
		{"PlusOnPhone", func(s *sqlstore.Schema) { s.Identities[1].PlusAddress = "strip" }, nil, "plus_address applies to email only"},
		{"BadCountry", func(s *sqlstore.Schema) { s.Identities[1].DefaultCountry = "44" }, nil, "default_country"},
		{"NoField", func(s *sqlstore.Schema) { delete(s.Fields, emailField) }, nil, "no field erases customers.email"},
		{"BadColumn", func(s *sqlstore.Schema) { s.Identities[0].Column = "email; drop" }, nil, "not a plain identifier"},
		{"NotJoined", func(s *sqlstore.Schema) { s.Identities[0].Table = "profiles" }, nil, "neither the customers table nor joined"},
		{"ShortSecret", nil, []forget.TombstoneKey{{ID: "k", Secret: []byte("short")}}, "at least 32 bytes"},
		{"AllRetired", nil, []forget.TombstoneKey{{ID: "k", Secret: tombKeyA.Secret, Retired: true}}, "every tombstone key is retired"},
		{"TwoIDs", nil, []forget.TombstoneKey{tombKeyA, tombKeyA}, "two tombstone keys"},
		{"KeysNoIdentities", func(s *sqlstore.Schema) { s.Identities = nil }, []forget.TombstoneKey{tombKeyA}, "need identities"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := tombSchema()
			if c.edit != nil {
				c.edit(&s)
			}
			_, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(s), sqlstore.WithTombstoneKeys(c.keys...))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if strings.Contains(fmt.Sprint(err), string(tombKeyA.Secret)) {
				t.Fatal("the error holds the secret")
			}
		})
	}
}

func TestTombstoneVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name, stmt, want string
	}{
		{"NoTable", "DROP TABLE forget_tombstones", "tombstone table: table forget_tombstones does not exist"},
		{"NotText", "CREATE TABLE x (y INTEGER); ALTER TABLE customers DROP COLUMN email; ALTER TABLE customers ADD COLUMN email INTEGER NOT NULL DEFAULT 0", "identity email: column customers.email is integer, not text"},
		{"NoColumn", "ALTER TABLE customers DROP COLUMN email", "identity email: column customers.email does not exist"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, _ := openSQLite(t)
			if err := sqlstore.CreateSchema(ctx, db, sqlstore.SQLite); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("ALTER TABLE customers ADD COLUMN email TEXT NOT NULL DEFAULT ''"); err != nil {
				t.Fatal(err)
			}
			for _, st := range strings.Split(c.stmt, "; ") {
				if _, err := db.Exec(st); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			st, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(tombSchema()), sqlstore.WithAudit(sqlstore.DefaultAuditTable),
				sqlstore.WithTombstoneKeys(tombKeyA), sqlstore.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Verify(ctx, tombCatalogue()); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Verify: %v, want %q", err, c.want)
			}
		})
	}
	t.Run("CreateTombstoneTable", func(t *testing.T) {
		db, _ := openSQLite(t)
		for i, want := range []bool{true, false} {
			created, err := sqlstore.CreateTombstoneTable(ctx, db, sqlstore.SQLite, "")
			if err != nil || created != want {
				t.Fatalf("call %d: %v, %v; want %v", i+1, created, err, want)
			}
		}
	})
}

func TestMatchHashed(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			fx := newTombFixture(t, e, []forget.TombstoneKey{tombKeyA, tombKeyB})
			if _, err := fx.db.Exec("INSERT INTO customers (customer_id, username, email) VALUES (4, 'user4', 'BOB@example.net ')"); err != nil {
				t.Fatal(err)
			}
			if _, err := fx.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
				t.Fatal(err)
			}
			d := func(v string) [sha256.Size]byte { return sha256.Sum256([]byte(v)) }
			got, err := fx.st.MatchHashed(ctx, "email", [][sha256.Size]byte{d("bob@example.net"), d("jane@example.org"), d("held@example.com"), d("nobody@example.com"), d("Bob@example.net")})
			if err != nil {
				t.Fatal(err)
			}
			want := []sqlstore.HashedMatch{{Customers: []string{"2", "4"}}, {Forgotten: true}, {Customers: []string{"3"}}, {}, {}}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("matches %v, want %v", got, want)
			}
			if _, err := fx.st.MatchHashed(ctx, "mail", nil); !errors.Is(err, forget.ErrInvalid) {
				t.Errorf("unknown identity: %v", err)
			}
		})
	}
}

// TestForgottenConcurrent checks from several goroutines while customers
// are forgotten (run under -race): every answer is an answer, and the
// one prepared statement is shared.
func TestForgottenConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newTombFixture(t, engines(t)[0], []forget.TombstoneKey{tombKeyA})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if _, err := fx.st.Forgotten(ctx, forget.Identity{Name: "email", Value: fmt.Sprintf("g%d-%d@example.org", g, i)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for _, id := range []string{"1", "2"} {
		if _, err := fx.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: id}}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !fx.forgotten(t, "email", "bob@example.net") {
		t.Error("bob not forgotten")
	}
}
