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
	// Review says, one line each, what was guessed and why. Retain
	// entries guessed carry [ReviewPrefix] in their reason too.
	Review []string
}

// Propose guesses a mapping of cat onto the live schema in: the customers
// table (the table with a one-column primary key and the most columns
// named like catalogue fields), subscription and order lookup tables (by
// name), each catalogue field and table by its name (and a few common
// spellings: first_name, zipcode, ...), the rest absent. Then it proposes
// what coverage needs so that no column is left unclassified: tables that
// hold the customer key are purged (as extension tables), personal-looking
// columns of the customers table become extension fields, and every
// other column is retained with a reason starting with [ReviewPrefix].
// Columns whose names a mapping cannot hold (not plain identifiers) stay
// unclassified, and are said so in Review.
//
// It reads nothing; see [Store.Propose] for the store's own database.
func Propose(in *Introspection, cat forget.Catalogue) (*Proposal, error) {
	return propose(in, cat, "")
}

// Propose reads the live schema (the current schema and those named) and
// proposes a mapping of cat onto it; see [Propose]. The store's audit
// table is left out.
func (s *Store) Propose(ctx context.Context, cat forget.Catalogue, schemas ...string) (*Proposal, error) {
	in, err := Introspect(ctx, s.db, s.dialect, schemas...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: propose: %w", err)
	}
	return propose(in, cat, s.auditTable)
}

type proposer struct {
	in     *Introspection
	cat    forget.Catalogue
	s      Schema
	audit  string
	cust   *TableInfo
	key    *ColumnInfo
	review []string
	taken  map[string]bool     // catalogue names in use
	used   map[string]bool     // "table\x00column" mapped to a field
	holder map[*TableInfo]bool // customers, joined and lookup tables
}

func (p *proposer) note(format string, args ...any) {
	p.review = append(p.review, fmt.Sprintf(format, args...))
}

func propose(in *Introspection, cat forget.Catalogue, auditTable string) (*Proposal, error) {
	if in == nil {
		return nil, errors.New("sqlstore: propose: no schema read")
	}
	if err := cat.Validate(); err != nil {
		return nil, err
	}
	p := &proposer{in: in, audit: auditTable, taken: map[string]bool{}, used: map[string]bool{}, holder: map[*TableInfo]bool{},
		cat: forget.Catalogue{Fields: slices.Clone(cat.Fields), Tables: slices.Clone(cat.Tables)}}
	for _, f := range cat.Fields {
		p.taken[string(f.Name)] = true
	}
	for _, t := range cat.Tables {
		p.taken[string(t.Name)] = true
	}
	if err := p.customers(); err != nil {
		return nil, err
	}
	p.lookups()
	p.fields()
	p.tables()
	p.purgeDirect()
	p.classifyRest()
	p.verify()
	if len(p.s.Retain) == 0 {
		p.s.Retain = nil
	}
	if len(p.s.Joined) == 0 {
		p.s.Joined = nil
	}
	return &Proposal{Schema: p.s, Catalogue: p.cat, Review: p.review}, nil
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

// customers picks the customers table.
func (p *proposer) customers() error {
	best, bestScore := (*TableInfo)(nil), 0
	for i := range p.in.Tables {
		t := &p.in.Tables[i]
		if len(t.PrimaryKey) != 1 || !validIdent(t.Name) || p.isAudit(t) {
			continue
		}
		score := 0
		for _, f := range p.cat.Fields {
			if p.findColumn(t, f.Name) != nil {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = t, score
		}
	}
	if best == nil {
		return errors.New("sqlstore: propose: no table looks like the customers table (none has a one-column primary key and a column named like a catalogue field); write the customers entry of the mapping by hand")
	}
	p.cust, p.key = best, best.Column(best.PrimaryKey[0])
	if p.key == nil || !validIdent(p.key.Name) {
		return fmt.Errorf("sqlstore: propose: the key of %s cannot be named in a mapping", best.Name)
	}
	p.s = Schema{Customers: CustomerTable{Table: best.Name, Key: p.key.Name, KeyType: keyTypeOf(p.key)}, Joined: map[string]string{},
		Fields: map[forget.Field]Column{}, Tables: map[forget.Table]RelatedTable{}, Retain: map[string]string{}}
	p.holder[best] = true
	p.note("customers: table %s keyed by %s (%s key): %d of its columns are named like catalogue fields", best.Name, p.key.Name, p.s.Customers.KeyType, bestScore)
	return nil
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

// customerKeyOf returns the column of t that holds the customer key: one
// with a foreign key to the customers key, else one named like it.
func (p *proposer) customerKeyOf(t *TableInfo) string {
	for _, fk := range t.ForeignKeys {
		if len(fk.Columns) == 1 && p.in.Table(fk.RefTable) == p.cust && len(fk.RefColumns) == 1 && strings.EqualFold(fk.RefColumns[0], p.key.Name) {
			return fk.Columns[0]
		}
	}
	if c := t.Column(p.key.Name); c != nil {
		return c.Name
	}
	return ""
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
			key = p.s.Joined[t.Name]
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
