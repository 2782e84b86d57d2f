package sqlstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/forgetkit/forget"
)

// How a proposal finds the customers table and, in every other table, the
// column that holds the customer key (see propose.go). Nothing is guessed
// into a purge: a table is the customer's only through a real foreign key
// to the customers key, or a column whose name and values both match it.

// customersNames are the names a customers table commonly has: with no
// foreign key to tell, only a table so named is taken by its columns.
var customersNames = []string{"customers", "customer", "users", "user", "members", "member", "accounts", "account", "people", "persons", "clients", "client"}

// customers picks the customers table: the one named, else the table with
// catalogue-like columns (an email counts), or named like a customers
// table, that the most tables reference by a foreign key.
// With no such key anywhere, a table with the most catalogue-like columns
// is taken only when it is alone with that score and named like a
// customers table; otherwise it is an error asking for the name.
func (p *proposer) customers() error {
	var best *TableInfo
	score := func(t *TableInfo) int {
		n := 0
		for _, f := range p.cat.Fields {
			if p.findColumn(t, f.Name) != nil {
				n++
			}
		}
		if t.Column("email") != nil || t.Column("email_address") != nil {
			n++ // not a catalogue field, but what a customers table has
		}
		return n
	}
	how := ""
	if p.named != "" {
		best = p.in.Table(p.named)
		switch {
		case best == nil:
			return fmt.Errorf("sqlstore: propose: customers table %s does not exist", p.named)
		case len(best.PrimaryKey) != 1:
			return fmt.Errorf("sqlstore: propose: customers table %s has no one-column primary key; write the customers entry of the mapping by hand", best.Name)
		case !validIdent(best.Name) || p.isAudit(best):
			return fmt.Errorf("sqlstore: propose: table %s cannot be the customers table of a mapping", best.Name)
		}
		how = "named with -customers"
	} else {
		type cand struct {
			t           *TableInfo
			score, refs int
		}
		var cands []cand
		for i := range p.in.Tables {
			t := &p.in.Tables[i]
			if len(t.PrimaryKey) != 1 || !validIdent(t.Name) || p.isAudit(t) {
				continue
			}
			// A table named like a customers table is one even when none
			// of its columns is named like a catalogue field.
			if n := score(t); n > 0 || slices.Contains(customersNames, strings.ToLower(t.Unqualified)) {
				cands = append(cands, cand{t, n, p.referencedBy(t)})
			}
		}
		if len(cands) == 0 {
			return errors.New("sqlstore: propose: no table looks like the customers table (none has a one-column primary key and a column named like a catalogue field); name it (-customers TABLE) or write the customers entry of the mapping by hand")
		}
		// By foreign keys first; by names only where no key tells.
		slices.SortStableFunc(cands, func(a, b cand) int {
			if a.refs != b.refs {
				return b.refs - a.refs
			}
			return b.score - a.score
		})
		top := cands[0]
		switch {
		case top.refs > 0 && len(cands) > 1 && cands[1].refs == top.refs:
			return fmt.Errorf("sqlstore: propose: tables %s and %s are referenced by as many tables' foreign keys (%d); name the customers table (-customers TABLE)", top.t.Name, cands[1].t.Name, top.refs)
		case top.refs > 0:
			how = fmt.Sprintf("%d tables reference it by a foreign key, more than any other table with catalogue-like columns", top.refs)
		case len(cands) > 1 && cands[1].score == top.score:
			return fmt.Errorf("sqlstore: propose: no foreign key tells the customers table, and tables %s and %s have as many columns named like catalogue fields; name it (-customers TABLE)", top.t.Name, cands[1].t.Name)
		case !slices.Contains(customersNames, strings.ToLower(top.t.Unqualified)):
			return fmt.Errorf("sqlstore: propose: no foreign key tells the customers table, and %s, whose columns look most like a customer's, is not named like one; name it (-customers TABLE)", top.t.Name)
		default:
			how = "chosen by its name and columns: no foreign key points at any candidate; name it with -customers if it is not"
		}
		best = top.t
	}
	p.cust, p.key = best, best.Column(best.PrimaryKey[0])
	if p.key == nil || !validIdent(p.key.Name) {
		return fmt.Errorf("sqlstore: propose: the key of %s cannot be named in a mapping", best.Name)
	}
	p.s = Schema{Customers: CustomerTable{Table: best.Name, Key: p.key.Name, KeyType: keyTypeOf(p.key)}, Joined: map[string]string{},
		Fields: map[forget.Field]Column{}, Tables: map[forget.Table]RelatedTable{}, Retain: map[string]string{}}
	p.holder[best] = true
	p.note("customers: table %s keyed by %s (%s key), %s; %d of its columns are named like catalogue fields", best.Name, p.key.Name, p.s.Customers.KeyType, how, score(best))
	return nil
}

// referencedBy counts the other tables with a foreign key to t's
// one-column primary key.
func (p *proposer) referencedBy(t *TableInfo) int {
	n := 0
	for i := range p.in.Tables {
		u := &p.in.Tables[i]
		if u == t {
			continue
		}
		if slices.ContainsFunc(u.ForeignKeys, func(fk ForeignKeyInfo) bool { return p.refersTo(fk, t, t.PrimaryKey[0]) }) {
			n++
		}
	}
	return n
}

// refersTo reports whether fk is a one-column key to column of t.
func (p *proposer) refersTo(fk ForeignKeyInfo, t *TableInfo, column string) bool {
	return len(fk.Columns) == 1 && len(fk.RefColumns) == 1 && p.in.Table(fk.RefTable) == t && strings.EqualFold(fk.RefColumns[0], column)
}

// customerKeyOf returns the column of t that holds the customer key, or
// "": the one column with a foreign key to the customers key and a name
// that says so (user_id, customer_id, owner_id, ...: an assignee_id is
// not followed); with no foreign key to the customers at all, a column named like the customers key (users.id: user_id; a key
// not called id: its own name too) whose sampled values are all keys of
// existing customers, that is not t's own one-column primary key and has
// no foreign key elsewhere. Every column passed over is said once.
func (p *proposer) customerKeyOf(t *TableInfo) string {
	if ck, ok := p.keyOf[t]; ok {
		return ck
	}
	ck := p.findCustomerKey(t)
	p.keyOf[t] = ck
	return ck
}

func (p *proposer) findCustomerKey(t *TableInfo) string {
	names := p.keyNames()
	var owners, others []string
	for _, fk := range t.ForeignKeys {
		if !p.refersTo(fk, p.cust, p.key.Name) || containsFold(owners, fk.Columns[0]) || containsFold(others, fk.Columns[0]) {
			continue
		}
		if containsFold(names, fk.Columns[0]) || containsFold(ownerNames, fk.Columns[0]) {
			owners = append(owners, fk.Columns[0])
		} else {
			others = append(others, fk.Columns[0])
		}
	}
	switch {
	case len(owners) == 1:
		if len(others) > 0 {
			p.note("table %s: rows taken as the customer's by %s; its other foreign keys to %s (%s) are not followed", t.Name, owners[0], p.cust.Name, strings.Join(others, ", "))
		}
		return owners[0]
	case len(owners) > 1:
		p.note("table %s: columns %s all have a foreign key to %s; left out (which one makes a row the customer's?): map it by hand", t.Name, strings.Join(owners, ", "), p.cust.Name)
		return ""
	case len(others) > 0:
		p.note("table %s: column %s has a foreign key to %s, but its name does not say the row is the customer's (an assignee, an author?); left out: map it by hand if it is", t.Name, strings.Join(others, ", "), p.cust.Name)
		return ""
	}
	for _, c := range t.Columns {
		if !containsFold(names, c.Name) {
			continue
		}
		why := ""
		switch {
		case len(t.PrimaryKey) == 1 && strings.EqualFold(t.PrimaryKey[0], c.Name):
			why = "it is the table's own primary key, with no foreign key to " + p.cust.Name
		case slices.ContainsFunc(t.ForeignKeys, func(fk ForeignKeyInfo) bool { return containsFold(fk.Columns, c.Name) }):
			why = "its foreign key points at another table"
		case p.probe == nil:
			why = "no foreign key, and its values were not read (Store.Propose reads them)"
		default:
			why = p.probe(t, &c)
		}
		if why == "" {
			p.note("table %s: column %s has no foreign key to %s, but its name and every value sampled match customer keys: taken as the customer key (add the foreign key if it is one)", t.Name, c.Name, p.cust.Name)
			return c.Name
		}
		p.note("table %s: column %s is named like the customer key, but %s; left out (map it by hand if its rows are the customer's)", t.Name, c.Name, why)
	}
	return ""
}

// ownerNames are the names of a column whose foreign key to the
// customers makes a row the customer's, besides keyNames.
var ownerNames = []string{"customer_id", "user_id", "member_id", "account_id", "client_id", "person_id", "owner_id"}

// keyNames are the names a column holding the customer key has in other
// tables: the customers table's singular and key (users.id: user_id),
// and, for a key not called id, the key's own name.
func (p *proposer) keyNames() []string {
	names := []string{singular(p.cust.Unqualified) + "_" + p.key.Name}
	if !strings.EqualFold(p.key.Name, "id") {
		names = append(names, p.key.Name)
	}
	return names
}

// singular is a table name's singular, as key columns are usually
// named after it: users -> user, addresses -> address, people -> person.
func singular(name string) string {
	n := strings.ToLower(name)
	switch {
	case n == "people":
		return "person"
	case strings.HasSuffix(n, "sses"), strings.HasSuffix(n, "xes"):
		return n[:len(n)-2]
	case strings.HasSuffix(n, "ies"):
		return n[:len(n)-3] + "y"
	case strings.HasSuffix(n, "s") && !strings.HasSuffix(n, "ss"):
		return n[:len(n)-1]
	}
	return n
}
