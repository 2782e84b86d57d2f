package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/forgetkit/forget"
)

// Proposing a mapping: the customers table, its lookups, and the
// catalogue's fields and tables here; the extensions that complete
// coverage, and the check, in propose_extend.go.

// Proposal is a starting mapping for a live schema: a Schema that loads
// as it is, the catalogue it maps (the one given, extended), and the
// guesses a person must review.
type Proposal struct {
	Schema Schema
	// Catalogue is the catalogue given plus the extensions the schema
	// maps: a field for each column of the customers (or a joined) table
	// that looks personal and that no field maps, with the rule its
	// column allows, and a table, purged, for each table holding the
	// customer key that nothing else maps. [Store.ExtendCatalogue]
	// rebuilds it from the schema alone.
	Catalogue forget.Catalogue
	// Review says, one line each, what was guessed and why, and what was
	// left out. Retain entries guessed carry [ReviewPrefix] in their
	// reason too.
	Review []string
	// Problems says why Schema would not load as it is (Verify would
	// refuse it); empty, it loads, but for what only the database can
	// tell (the audit table, the session, holds): 'forget inspect
	// -propose' checks that too, and fails when it does not.
	Problems []string
}

// Propose guesses a mapping of cat onto the live schema in, and never
// guesses a purge: the customers table (the table with catalogue-like
// columns that the most tables reference by a foreign key; see
// customers in propose_keys.go), subscription and order lookup tables (by
// name), each catalogue field and table by its name (and a few common
// spellings: first_name, zipcode, ...), the rest absent. Then it proposes
// what coverage needs so that no column is left unclassified: tables
// whose rows are the customer's (a foreign key to the customers key, or
// a column whose name and values match it, never a table's own id) are
// purged as extension tables, unless a table the mapping leaves behind
// references them with ON DELETE NO ACTION or RESTRICT (every forget
// would fail); personal-looking columns of the customers table become
// extension fields, and every other column is retained with a reason
// starting with [ReviewPrefix]. Columns whose names a mapping cannot hold
// (not plain identifiers) stay unclassified, and are said so in Review;
// so is everything left out.
//
// It reads no row, so a column without a foreign key is never taken for
// the customer key; see [Store.ProposeWith], which samples its values.
func Propose(in *Introspection, cat forget.Catalogue) (*Proposal, error) {
	if in != nil && !in.Dialect.valid() {
		// Each engine's rules differ; there is none to apply.
		return nil, fmt.Errorf("sqlstore: propose: unknown dialect %v", in.Dialect)
	}
	return propose(in, cat, "", ProposeConfig{}, nil)
}

// Propose reads the live schema (the current schema and those named) and
// proposes a mapping of cat onto it; see [Store.ProposeWith].
func (s *Store) Propose(ctx context.Context, cat forget.Catalogue, schemas ...string) (*Proposal, error) {
	return s.ProposeWith(ctx, cat, ProposeConfig{Schemas: schemas})
}

// ProposeConfig tunes [Store.ProposeWith].
type ProposeConfig struct {
	// Customers names the customers table; empty, the proposal chooses
	// it by the foreign keys that point at it (see [Propose]).
	Customers string
	// Schemas are further PostgreSQL schemas or MySQL databases to read.
	Schemas []string
}

// ProposeWith reads the live schema and proposes a mapping of cat onto
// it, as [Propose] does, but for two things it can do with the database:
// a column named like the customer key without a foreign key to it is
// taken as the customer key when every value it samples (up to 100
// distinct ones, never kept or shown) is the key of an existing
// customer; and the store's audit table is left out.
func (s *Store) ProposeWith(ctx context.Context, cat forget.Catalogue, cfg ProposeConfig) (*Proposal, error) {
	in, err := Introspect(ctx, s.db, s.dialect, cfg.Schemas...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: propose: %w", err)
	}
	return propose(in, cat, s.auditTable, cfg, func(cust *TableInfo, key *ColumnInfo) keyProbe {
		return func(t *TableInfo, c *ColumnInfo) string { return s.probeCustomerKeys(ctx, cust, key, t, c) }
	})
}

// keyProbe says why column c of t does not hold customer keys, or "".
type keyProbe func(t *TableInfo, c *ColumnInfo) string

type proposer struct {
	in       *Introspection
	cat      forget.Catalogue
	s        Schema
	audit    string
	cust     *TableInfo
	key      *ColumnInfo
	review   []string
	problems []string
	named    string
	probe    keyProbe
	keyOf    map[*TableInfo]string // customerKeyOf's answers
	given    map[forget.Table]bool // the catalogue's own tables, not extensions
	// unpurged holds the tables whose purge unblock left out, each with
	// the table whose foreign key refuses it.
	unpurged map[*TableInfo]string
	taken    map[string]bool     // catalogue names in use
	used     map[string]bool     // "table\x00column" mapped to a field
	holder   map[*TableInfo]bool // customers, joined and lookup tables
}

func (p *proposer) note(format string, args ...any) {
	p.review = append(p.review, fmt.Sprintf(format, args...))
}

func propose(in *Introspection, cat forget.Catalogue, auditTable string, cfg ProposeConfig, probe func(*TableInfo, *ColumnInfo) keyProbe) (*Proposal, error) {
	if in == nil {
		return nil, errors.New("sqlstore: propose: no schema read")
	}
	if err := cat.Validate(); err != nil {
		return nil, err
	}
	p := &proposer{in: in, audit: auditTable, named: cfg.Customers, taken: map[string]bool{}, used: map[string]bool{}, holder: map[*TableInfo]bool{}, keyOf: map[*TableInfo]string{}, given: map[forget.Table]bool{}, unpurged: map[*TableInfo]string{},
		cat: forget.Catalogue{Fields: slices.Clone(cat.Fields), Tables: slices.Clone(cat.Tables)}}
	for _, f := range cat.Fields {
		p.taken[string(f.Name)] = true
	}
	for _, t := range cat.Tables {
		p.taken[string(t.Name)] = true
		p.given[t.Name] = true
	}
	if err := p.customers(); err != nil {
		return nil, err
	}
	if probe != nil {
		p.probe = probe(p.cust, p.key)
	}
	p.lookups()
	p.fields()
	p.tables()
	p.purgeDirect()
	p.unblock()
	p.classifyRest()
	p.verify()
	if len(p.s.Retain) == 0 {
		p.s.Retain = nil
	}
	if len(p.s.Joined) == 0 {
		p.s.Joined = nil
	}
	return &Proposal{Schema: p.s, Catalogue: p.cat, Review: p.review, Problems: p.problems}, nil
}

// fieldAliases are other common spellings of the catalogue's fields.
var fieldAliases = map[forget.Field][]string{
	forget.Username:          {"login", "user_name"},
	forget.Password:          {"passwd", "password_hash", "pw_hash"},
	forget.Cryptpass:         {"crypt_pass", "crypt_password"},
	forget.Session:           {"session_id", "sessionid"},
	forget.Firstname:         {"first_name", "given_name", "fname"},
	forget.Lastname:          {"last_name", "family_name", "surname", "lname"},
	forget.Address1:          {"address", "address_1", "address_line1", "street"},
	forget.Address2:          {"address_2", "address_line2"},
	forget.Zip:               {"zipcode", "zip_code", "postcode", "postal_code"},
	forget.Phone:             {"phone_number", "telephone", "mobile"},
	forget.ShippingFirstname: {"shipping_first_name"},
	forget.ShippingLastname:  {"shipping_last_name"},
	forget.ShippingZip:       {"shipping_zipcode", "shipping_postcode", "shipping_postal_code"},
}

// findColumn returns t's column named like f, if any is free.
func (p *proposer) findColumn(t *TableInfo, f forget.Field) *ColumnInfo {
	for _, name := range append([]string{string(f)}, fieldAliases[f]...) {
		c := t.Column(name)
		if c != nil && validIdent(c.Name) && !p.used[t.Name+"\x00"+strings.ToLower(c.Name)] && !p.isKey(t, c.Name) {
			return c
		}
	}
	return nil
}

// isKey reports whether column is part of t's primary key or one of the
// mapping's key columns.
func (p *proposer) isKey(t *TableInfo, column string) bool {
	if containsFold(t.PrimaryKey, column) {
		return true
	}
	return t == p.cust && p.key != nil && strings.EqualFold(column, p.key.Name)
}

// isAudit reports whether t is the store's audit table, or has its
// columns: a forget's own records are never proposed for purging.
func (p *proposer) isAudit(t *TableInfo) bool {
	if p.audit != "" {
		return p.in.Table(p.audit) == t
	}
	return looksLikeAudit(t)
}

func looksLikeAudit(t *TableInfo) bool {
	for _, c := range auditColumns {
		if t.Column(c) == nil {
			return false
		}
	}
	return true
}

// lookups finds the subscription and order tables by their names.
func (p *proposer) lookups() {
	for _, lk := range []struct {
		key   string
		names []string
		set   func(*LookupTable)
	}{
		{forget.KeySubscriptionID, []string{"subscriptions", "subscription", "subs"}, func(l *LookupTable) { p.s.Subscriptions = l }},
		{forget.KeyOrderID, []string{"orders", "order", "transactions", "transaction"}, func(l *LookupTable) { p.s.Orders = l }},
	} {
		for i := range p.in.Tables {
			t := &p.in.Tables[i]
			name := strings.ToLower(t.Unqualified)
			match := slices.Contains(lk.names, name)
			for _, n := range lk.names[:1] {
				match = match || strings.HasSuffix(name, "_"+n)
			}
			if !match || t == p.cust || p.holder[t] || len(t.PrimaryKey) != 1 || !validIdent(t.Name) || !validIdent(t.PrimaryKey[0]) {
				continue
			}
			ck := p.customerKeyOf(t)
			if ck == "" || strings.EqualFold(ck, t.PrimaryKey[0]) || !validIdent(ck) {
				continue
			}
			lk.set(&LookupTable{Table: t.Name, Key: t.PrimaryKey[0], KeyType: keyTypeOf(t.Column(t.PrimaryKey[0])), CustomerKey: ck})
			p.holder[t] = true
			p.note("%s lookups: table %s, key %s, customer key %s (guessed from the table's name)", lk.key, t.Name, t.PrimaryKey[0], ck)
			break
		}
	}
}

// fields maps each catalogue field to a column of its name in the
// customers table, or in a table holding one row per customer (joined);
// the others are absent.
func (p *proposer) fields() {
	for _, f := range p.cat.Fields {
		t, c := p.cust, p.findColumn(p.cust, f.Name)
		if c == nil {
			t, c = p.joinedColumn(f.Name)
		}
		if c == nil {
			p.s.Absent = append(p.s.Absent, string(f.Name))
			p.note("field %s: no column named like it; listed absent (map it if the data lives elsewhere)", f.Name)
			continue
		}
		key := p.key.Name
		if t != p.cust {
			key = p.customerKeyOf(t) // the joined table's, which joinedColumn found
		}
		if why := ruleProblem(p.in.Dialect, t, c, key, f.Rule); why != "" {
			p.s.Absent = append(p.s.Absent, string(f.Name))
			p.note("field %s: column %s.%s cannot take its rule (%s); listed absent — give the field another rule in Go, or map another column", f.Name, t.Name, c.Name, why)
			continue
		}
		col := Column{Column: c.Name}
		if t != p.cust {
			col.Table = t.Name
			p.s.Joined[t.Name] = key
			p.holder[t] = true
		}
		p.s.Fields[f.Name] = col
		p.used[t.Name+"\x00"+strings.ToLower(c.Name)] = true
		if !strings.EqualFold(c.Name, string(f.Name)) {
			p.note("field %s: column %s.%s (guessed from its name)", f.Name, t.Name, c.Name)
		}
	}
}

// joinedColumn finds a column named like f in a table other than the
// customers table that holds at most one row per customer.
func (p *proposer) joinedColumn(f forget.Field) (*TableInfo, *ColumnInfo) {
	for i := range p.in.Tables {
		t := &p.in.Tables[i]
		if t == p.cust || !validIdent(t.Name) || p.isAudit(t) || p.s.Subscriptions != nil && p.in.Table(p.s.Subscriptions.Table) == t || p.s.Orders != nil && p.in.Table(p.s.Orders.Table) == t {
			continue
		}
		ck := p.customerKeyOf(t)
		if ck == "" || !validIdent(ck) || !t.Unique(ck) {
			continue
		}
		if c := p.findColumn(t, f); c != nil && !strings.EqualFold(c.Name, ck) {
			return t, c
		}
	}
	return nil, nil
}

// tables maps each catalogue table to a table of its name that holds the
// customer key; the others are absent.
func (p *proposer) tables() {
	for _, ts := range p.cat.Tables {
		var found *TableInfo
		for i := range p.in.Tables {
			t := &p.in.Tables[i]
			if strings.EqualFold(t.Unqualified, string(ts.Name)) && !p.holder[t] && validIdent(t.Name) && !p.isAudit(t) {
				found = t
				break
			}
		}
		ck := ""
		if found != nil {
			ck = p.customerKeyOf(found)
		}
		missing := ""
		for _, sc := range ts.Scrub {
			if found != nil && found.Column(sc.Column) == nil {
				missing = sc.Column
			}
		}
		switch {
		case found == nil:
			p.note("table %s: no table of that name; listed absent", ts.Name)
		case ck == "" || !validIdent(ck):
			p.note("table %s: table %s has no column holding the customer key; listed absent", ts.Name, found.Name)
		case missing != "":
			p.note("table %s: table %s has no column %s to scrub; listed absent", ts.Name, found.Name, missing)
		default:
			p.s.Tables[ts.Name] = RelatedTable{Table: found.Name, CustomerKey: ck}
			continue
		}
		p.s.Absent = append(p.s.Absent, string(ts.Name))
	}
}
