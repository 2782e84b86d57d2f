package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

var (
	demoFirst  = []string{"Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kemi", "Liam", "Maya", "Nils", "Olga", "Pablo"}
	demoLast   = []string{"Nakamura", "Okafor", "Schmidt", "Rossi", "Dubois", "Kowalski", "Silva", "Haddad", "Larsen", "Murphy", "Novak", "Patel"}
	demoCities = []struct{ city, state, zip, country string }{
		{"Springfield", "IL", "62701", "US"}, {"Portland", "OR", "97201", "US"}, {"Leeds", "", "LS1 4AP", "GB"},
		{"Lyon", "", "69002", "FR"}, {"Toronto", "ON", "M5H 2N2", "CA"}, {"Cork", "", "T12 X70A", "IE"},
	}
	demoStreets = []string{"Main St", "Oak Avenue", "Harbour Road", "Rue de la Paix", "King Street", "Elm Close"}
)

// demoCustomerID is the first demo customer id; ids run on from it, so 191
// (Offerit's example) is always among them.
const demoCustomerID = 1

// seedDemo inserts n demo customers, ids 1..n, each with 2 subscriptions
// (id*10+1, id*10+2), 3 transactions (id*100+1 … +3), 2 member_auth rows
// and 3 member_note rows, in one transaction. The data is made up but
// shaped like the real thing.
func seedDemo(ctx context.Context, db *sql.DB, d sqlstore.Dialect, n int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	phs := d.Placeholders
	cols := []string{"customer_id"}
	for _, f := range forget.DefaultCatalogue().Fields {
		cols = append(cols, string(f.Name))
	}
	stmts := map[string]string{
		"customers":     fmt.Sprintf("INSERT INTO customers (%s) VALUES (%s)", strings.Join(cols, ", "), phs(len(cols))),
		"subscriptions": "INSERT INTO subscriptions (subscription_id, customer_id, status) VALUES (" + phs(3) + ")",
		"transactions":  "INSERT INTO transactions (orderid, customer_id, amount_cents) VALUES (" + phs(3) + ")",
		"member_auth":   "INSERT INTO member_auth (customer_id, kind, secret) VALUES (" + phs(3) + ")",
		"member_note":   "INSERT INTO member_note (customer_id, note) VALUES (" + phs(2) + ")",
	}
	prepared := make(map[string]*sql.Stmt)
	for name, q := range stmts {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("seed %s: %w", name, err)
		}
		defer st.Close()
		prepared[name] = st
	}
	rnd := rand.New(rand.NewPCG(191, 2026)) // the same demo data every time
	hex := func(n int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = digits[rnd.IntN(16)]
		}
		return string(b)
	}
	for id := demoCustomerID; id < demoCustomerID+n; id++ {
		first, last := demoFirst[rnd.IntN(len(demoFirst))], demoLast[rnd.IntN(len(demoLast))]
		place := demoCities[rnd.IntN(len(demoCities))]
		street := fmt.Sprintf("%d %s", 1+rnd.IntN(400), demoStreets[rnd.IntN(len(demoStreets))])
		username := strings.ToLower(fmt.Sprintf("%s.%s%d", first, last, id))
		if len(username) > 32 {
			username = username[:32]
		}
		values := map[forget.Field]string{
			forget.Username: username, forget.OriginalUsername: username,
			forget.TokenHash: hex(64), forget.Password: "", forget.Cryptpass: "$2y$10$" + hex(53), forget.Session: hex(32),
			forget.Firstname: first, forget.Lastname: last, forget.Address1: street, forget.Address2: "",
			forget.City: place.city, forget.State: place.state, forget.Zip: place.zip, forget.Country: place.country,
			forget.ShippingFirstname: first, forget.ShippingLastname: last, forget.ShippingAddress1: street,
			forget.ShippingCity: place.city, forget.ShippingState: place.state, forget.ShippingZip: place.zip,
			forget.ShippingCountry: place.country, forget.Phone: fmt.Sprintf("+1-555-%04d", rnd.IntN(10000)),
		}
		args := []any{id}
		for _, f := range forget.DefaultCatalogue().Fields {
			args = append(args, values[f.Name])
		}
		if _, err := prepared["customers"].ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("seed customer %d: %w", id, err)
		}
		for i := 1; i <= 2; i++ {
			if _, err := prepared["subscriptions"].ExecContext(ctx, id*10+i, id, "active"); err != nil {
				return err
			}
		}
		for i := 1; i <= 3; i++ {
			if _, err := prepared["transactions"].ExecContext(ctx, id*100+i, id, 995+rnd.IntN(5000)); err != nil {
				return err
			}
		}
		for _, kind := range []string{"password", "totp"} {
			if _, err := prepared["member_auth"].ExecContext(ctx, id, kind, hex(40)); err != nil {
				return err
			}
		}
		for _, note := range []string{"signed up via affiliate link", "asked about billing date", "prefers email contact"} {
			if _, err := prepared["member_note"].ExecContext(ctx, id, note); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// demoPath is where `forget serve` keeps its demo database.
func demoPath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "forget", "demo.db")
}
