package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// preset is one vendor product's forget: catalogue, default mapping and
// handler contract, and the demo database of its shape.
type preset struct {
	name      string
	catalogue func() forget.Catalogue
	schema    func() sqlstore.Schema
	contract  func() forget.Contract
	ddl       func(sqlstore.Dialect) []string
	seed      func(ctx context.Context, db *sql.DB, n int) error
	demoFile  string
	lookup    string // the lookup parameter of the banner's curl lines
	noun      string // what its customers are called, plural
	// schemaName is how 'forget init' names its schema.
	schemaName string
}

var presets = []preset{
	{name: "offerit", catalogue: forget.DefaultCatalogue, schema: sqlstore.DefaultSchema, contract: forget.OfferitCustomer,
		ddl: sqlstore.DDL, seed: func(ctx context.Context, db *sql.DB, n int) error { return seedDemo(ctx, db, sqlstore.SQLite, n) },
		demoFile: "demo.db", lookup: forget.KeyCustomerID, noun: "customers", schemaName: "default"},
	{name: "nats", catalogue: forget.NATSMemberCatalogue, schema: sqlstore.NATSMemberSchema, contract: forget.NATSMember,
		ddl: sqlstore.NATSMemberDDL, seed: seedNATSDemo, demoFile: "demo-nats.db", lookup: "memberid", noun: "members", schemaName: "NATS member"},
}

// presetNames lists the presets for usage text and messages.
func presetNames() string {
	var names []string
	for _, p := range presets {
		names = append(names, p.name)
	}
	return strings.Join(names, " or ")
}

// presetFlagUsage is the -preset flag's help.
var presetFlagUsage = "the vendor product whose forget to serve: `NAME` " + presetNames() + "\n(offerit: PATCH /api/customer/forget with customer_id, subscription_id, orderid;\nnats: PATCH /api/member/forget with memberid, and NATS's member tables)"

// thePreset returns the preset -preset names; check has refused others.
func (d *dbFlags) thePreset() preset {
	for _, p := range presets {
		if strings.EqualFold(p.name, d.preset) {
			return p
		}
	}
	return presets[0]
}

// checkPreset refuses a -preset that names none.
func (d *dbFlags) checkPreset() error {
	if d.preset == "" {
		d.preset = presets[0].name
	}
	if !slices.ContainsFunc(presets, func(p preset) bool { return strings.EqualFold(p.name, d.preset) }) {
		return fmt.Errorf("-preset must be %s, not %s", presetNames(), quoteClipped(d.preset))
	}
	return nil
}

// storeOptions are the sqlstore options the flags ask for: the -schema
// mapping or the preset's, and the coverage requirement.
func (d *dbFlags) storeOptions() []sqlstore.Option {
	schema := d.thePreset().schema()
	if d.mapping != nil {
		schema = *d.mapping
	}
	opts := []sqlstore.Option{sqlstore.WithSchema(schema)}
	if d.hashKey != nil {
		opts = append(opts, sqlstore.WithHashKey(d.hashKey))
	}
	if d.requireCoverage {
		opts = append(opts, sqlstore.WithCoverage(sqlstore.EveryColumn))
	}
	return opts
}

// catalogue is the preset's catalogue with the mapping's rules and
// extensions (sqlstore.Store.ExtendCatalogue, which is
// sqlstore.Schema.Catalogue with live rules for extension fields that
// name none): what a Go host loading the same file runs, so that a
// mapping file alone, such as one 'forget inspect -propose' wrote, can
// extend it.
func (d *dbFlags) catalogue(ctx context.Context, store *sqlstore.Store) (forget.Catalogue, error) {
	return store.ExtendCatalogue(ctx, d.thePreset().catalogue())
}

// contract is the handler contract of the preset.
func (d *dbFlags) contract() forget.Contract { return d.thePreset().contract() }

// demo creates (or reuses) the preset's demo database with n customers in
// the cache directory and returns its path and how many customers it has.
func (d *dbFlags) demo(ctx context.Context, n int) (string, int, error) {
	p := d.thePreset()
	path := filepath.Join(filepath.Dir(demoPath()), p.demoFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", 0, err
	}
	have, err := p.create(ctx, path, n)
	return path, have, err
}

// create creates the preset's schema in the SQLite database at path (a
// new file, or an existing one: every statement is idempotent) and, when
// it holds no customers, seeds n demo ones. It returns how many customers
// the database held before, or n when it seeded them.
func (p preset) create(ctx context.Context, path string, n int) (int, error) {
	db, err := openSQLite(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	for _, st := range p.ddl(sqlstore.SQLite) {
		if _, err := db.ExecContext(ctx, st); err != nil {
			return 0, fmt.Errorf("create schema: %w", err)
		}
	}
	var have int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+p.schema().Customers.Table).Scan(&have); err != nil {
		return 0, err
	}
	if have > 0 || n == 0 {
		return have, nil
	}
	if err := p.seed(ctx, db, n); err != nil {
		return 0, err
	}
	return n, nil
}

// seedNATSDemo inserts n demo members, ids 1..n, each with a row in every
// table of the NATS catalogue, in one transaction.
func seedNATSDemo(ctx context.Context, db *sql.DB, n int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	cols := []string{"memberid"}
	marks := []string{"?"}
	for _, f := range forget.NATSMemberCatalogue().Fields {
		cols = append(cols, string(f.Name))
		marks = append(marks, "?")
	}
	member, err := tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO member (%s) VALUES (%s)", strings.Join(cols, ", "), strings.Join(marks, ", ")))
	if err != nil {
		return err
	}
	defer member.Close()
	schema := sqlstore.NATSMemberSchema()
	var rows []*sql.Stmt
	for _, t := range forget.NATSMemberCatalogue().Tables {
		st, err := tx.PrepareContext(ctx, fmt.Sprintf(`INSERT INTO %q (memberid, data) VALUES (?, ?)`, schema.Tables[t.Name].Table))
		if err != nil {
			return err
		}
		defer st.Close()
		rows = append(rows, st)
	}
	for id := 1; id <= n; id++ {
		first, last := demoFirst[id%len(demoFirst)], demoLast[id%len(demoLast)]
		username := strings.ToLower(fmt.Sprintf("%s%d", first, id))
		args := []any{id}
		for _, f := range forget.NATSMemberCatalogue().Fields {
			v := ""
			switch f.Name {
			case forget.Username, forget.OriginalUsername:
				v = username
			case forget.Firstname, forget.ShippingFirstname:
				v = first
			case forget.Lastname, forget.ShippingLastname:
				v = last
			case forget.Phone:
				v = fmt.Sprintf("+1-555-%04d", id%10000)
			}
			args = append(args, v)
		}
		if _, err := member.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("seed member %d: %w", id, err)
		}
		for _, st := range rows {
			if _, err := st.ExecContext(ctx, id, "demo"); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// presetBanner is the banner of a demo of a preset other than Offerit.
func (c *cli) presetBanner(url, where string, p preset, generatedKey string) {
	w := c.stdout
	fmt.Fprintf(w, "forget is serving PATCH %s (%s)\n", url, p.contract().Name)
	fmt.Fprintf(w, "over the %s\n", where)
	fmt.Fprintf(w, "\napi-username: offerit_admin\napi-key:      %s\n\n", generatedKey)
	auth := fmt.Sprintf("-H 'api-username: offerit_admin' -H 'api-key: %s'", generatedKey)
	fmt.Fprintf(w, "Forget member 191 (answers %s):\n  curl -X PATCH %s %s -d %s=191\n\n", p.contract().Success, url, auth, p.lookup)
	fmt.Fprintf(w, "Preview what forgetting member 192 would erase, keeping its login logs (answers a receipt):\n  curl -X PATCH %s %s -d %s=192 -d keep=live_member_loginlog,historical_member_loginlog -d dry_run=1\n\n", url, auth, p.lookup)
	fmt.Fprintf(w, "Press Ctrl-C to stop.\n")
}

// flagGiven reports whether the command line set the named flag.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// presetName is the product preset -preset names, in lower case: the
// erasure events' subject ends in it (forget.erased.offerit).
func (d *dbFlags) presetName() string { return strings.ToLower(d.thePreset().name) }
