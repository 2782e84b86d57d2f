package sqlstore

// The checks of a mapping on its own (Validate) and against a catalogue
// (check, checkWrites), without the live database: Verify does that.

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/forgetkit/forget"
)

// Validate reports every malformed identifier or reference in the schema.
// It does not compare the schema with a catalogue; the store does that
// when a Forgetter is built on it.
func (s Schema) Validate() error {
	var errs []error
	ident := func(what, v string) {
		if !validIdent(v) {
			errs = append(errs, fmt.Errorf("%s %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*, optionally schema.qualified)", what, v))
		}
	}
	keyType := func(what string, k KeyType) {
		if k != "" && k != KeyInt && k != KeyText && k != KeyUUID {
			errs = append(errs, fmt.Errorf("%s key_type %q must be int, uuid or text", what, clipName(string(k))))
		}
	}
	ident("customers table", s.Customers.Table)
	ident("customers key", s.Customers.Key)
	keyType("customers", s.Customers.KeyType)
	for _, lt := range []struct {
		name string
		t    *LookupTable
	}{{"subscriptions", s.Subscriptions}, {"orders", s.Orders}} {
		if lt.t == nil {
			continue
		}
		ident(lt.name+" table", lt.t.Table)
		ident(lt.name+" key", lt.t.Key)
		ident(lt.name+" customer_key", lt.t.CustomerKey)
		keyType(lt.name, lt.t.KeyType)
	}
	for _, table := range sortedKeys(s.Joined) {
		ident("joined table", table)
		ident("customer key of joined table "+table, s.Joined[table])
		if table == s.Customers.Table {
			errs = append(errs, fmt.Errorf("joined table %q is the customers table", table))
		}
	}
	for _, f := range sortedKeys(s.Fields) {
		c := s.Fields[f]
		ident("column of field "+string(f), c.Column)
		if c.Table != "" && c.Table != s.Customers.Table {
			if _, ok := s.Joined[c.Table]; !ok {
				errs = append(errs, fmt.Errorf("field %s lives in table %q, which is neither the customers table nor joined", f, c.Table))
			}
		}
	}
	for _, t := range sortedKeys(s.Tables) {
		rt := s.Tables[t]
		ident("table of "+string(t), rt.Table)
	}
	errs = append(errs, s.validateVias()...) // customer_key or via: via.go
	errs = append(errs, s.validateHolds()...)
	errs = append(errs, s.validateRules()...)
	errs = append(errs, s.validateRetain()...)
	errs = append(errs, s.validateActivity()...)
	errs = append(errs, s.validateIdentities()...)
	if len(errs) > 0 {
		return fmt.Errorf("sqlstore: invalid schema: %w", errors.Join(errs...))
	}
	return nil
}

// check compares the schema with a catalogue: every entry mapped or
// absent, nothing mapped that the catalogue lacks (a typo), and scrubbed
// columns that are plain identifiers.
func (s Schema) check(cat forget.Catalogue) error {
	var errs []error
	known := make(map[string]bool)
	absent := make(map[string]bool)
	for _, a := range s.Absent {
		absent[a] = true
	}
	for _, f := range cat.Fields {
		known[string(f.Name)] = true
		_, mapped := s.Fields[f.Name]
		switch {
		case mapped && absent[string(f.Name)]:
			errs = append(errs, fmt.Errorf("field %s is both mapped and absent", f.Name))
		case !mapped && !absent[string(f.Name)]:
			errs = append(errs, fmt.Errorf("field %s is not mapped; map it or list it as absent", f.Name))
		}
	}
	for _, t := range cat.Tables {
		known[string(t.Name)] = true
		_, mapped := s.Tables[t.Name]
		switch {
		case mapped && absent[string(t.Name)]:
			errs = append(errs, fmt.Errorf("table %s is both mapped and absent", t.Name))
		case !mapped && !absent[string(t.Name)]:
			errs = append(errs, fmt.Errorf("table %s is not mapped; map it or list it as absent", t.Name))
		}
		for _, c := range t.Scrub {
			if !validIdent(c.Column) || strings.Contains(c.Column, ".") {
				errs = append(errs, fmt.Errorf("table %s scrubs column %q, which is not a plain identifier", t.Name, c.Column))
			}
		}
	}
	for _, f := range sortedKeys(s.Fields) {
		if !known[string(f)] {
			errs = append(errs, fmt.Errorf("the schema maps field %s, which the catalogue does not have", f))
		}
	}
	for _, t := range sortedKeys(s.Tables) {
		if !known[string(t)] {
			errs = append(errs, fmt.Errorf("the schema maps table %s, which the catalogue does not have", t))
		}
	}
	for _, a := range s.Absent {
		if !known[a] {
			errs = append(errs, fmt.Errorf("the schema lists %s as absent, but the catalogue does not have it", a))
		}
	}
	errs = append(errs, s.checkWrites(cat)...)
	if len(errs) > 0 {
		return fmt.Errorf("sqlstore: schema does not fit the catalogue: %w", errors.Join(errs...))
	}
	return nil
}

// checkWrites refuses mappings that are legal one entry at a time but
// wrong together: two entries writing one column (keeping one would not
// keep the column), an erased column that is a key (the receipt would
// record the old key, and ON UPDATE CASCADE would carry related rows
// along), and a catalogue table mapped onto a table that holds fields or
// lookup keys (purging it would delete kept fields or the keys that find
// the customer). Names compare case-insensitively, as MySQL and SQLite
// compare them.
func (s Schema) checkWrites(cat forget.Catalogue) []error {
	var errs []error
	norm := strings.ToLower
	customers := s.Customers.Table
	tableOf := func(c Column) string {
		if c.Table == "" {
			return customers
		}
		return c.Table
	}
	type col struct{ table, column string }
	keys := map[col]string{} // key column -> what it is
	addKey := func(table, column, what string) {
		keys[col{norm(table), norm(column)}] = what
	}
	addKey(customers, s.Customers.Key, "the customers key")
	for table, key := range s.Joined {
		addKey(table, key, "the customer key of joined table "+table)
	}
	holders := map[string]string{norm(customers): "the customers table"}
	for table := range s.Joined {
		holders[norm(table)] = "joined table " + table
	}
	for _, lt := range []struct {
		name string
		t    *LookupTable
	}{{"subscription_id", s.Subscriptions}, {"orderid", s.Orders}} {
		if lt.t == nil {
			continue
		}
		addKey(lt.t.Table, lt.t.Key, "the "+lt.name+" lookup key")
		addKey(lt.t.Table, lt.t.CustomerKey, "the customer key of the "+lt.name+" lookup table")
		holders[norm(lt.t.Table)] = "the " + lt.name + " lookup table"
	}
	for _, t := range sortedKeys(s.Tables) {
		rt := s.Tables[t]
		addKey(rt.Table, rt.CustomerKey, "the customer key of "+string(t))
		if rt.Via != nil && rt.Via.Column != "" {
			addKey(rt.Table, rt.Via.Column, "the via column of "+string(t))
		}
	}

	writers := map[col]string{} // written column -> the entry that writes it
	write := func(table, column, entry string) {
		c := col{norm(table), norm(column)}
		if what, isKey := keys[c]; isKey {
			errs = append(errs, fmt.Errorf("%s would erase %s.%s, which is %s; no erased column may be a key or lookup column", entry, table, column, what))
		}
		if prev, dup := writers[c]; dup {
			errs = append(errs, fmt.Errorf("%s and %s both write %s.%s; each column may be written by one catalogue entry", prev, entry, table, column))
			return
		}
		writers[c] = entry
	}
	for _, f := range cat.Fields {
		if c, ok := s.Fields[f.Name]; ok {
			write(tableOf(c), c.Column, "field "+string(f.Name))
		}
	}
	purged := map[string]forget.Table{}
	for _, t := range cat.Tables {
		rt, ok := s.Tables[t.Name]
		if !ok {
			continue
		}
		if what, holds := holders[norm(rt.Table)]; holds {
			errs = append(errs, fmt.Errorf("table %s is mapped to %s, which is %s; a catalogue table needs a table of its own", t.Name, rt.Table, what))
		}
		if prev, dup := purged[norm(rt.Table)]; dup {
			errs = append(errs, fmt.Errorf("tables %s and %s are both mapped to %s; keeping one would not keep its rows", prev, t.Name, rt.Table))
		}
		purged[norm(rt.Table)] = t.Name
		for _, sc := range t.Scrub {
			write(rt.Table, sc.Column, "table "+string(t.Name)+" column "+sc.Column)
		}
	}
	return errs
}

// MaxRetainReason bounds a Retain reason: it is copied into every
// coverage report and dry-run inventory.
const MaxRetainReason = 200

// validateRetain checks each Retain entry: a table.column of plain
// identifiers and a reason that is one line of printable text.
func (s Schema) validateRetain() []error {
	var errs []error
	for _, key := range sortedKeys(s.Retain) {
		table, column, ok := splitRetain(key)
		if !ok {
			errs = append(errs, fmt.Errorf("retain %q must be table.column (or schema.table.column), each a plain identifier", clipName(key)))
		}
		if ok && !validIdent(table) {
			errs = append(errs, fmt.Errorf("retain %q: table %q is not a plain identifier", clipName(key), clipName(table)))
		}
		if ok && !validIdent(column) {
			errs = append(errs, fmt.Errorf("retain %q: column %q is not a plain identifier", clipName(key), clipName(column)))
		}
		reason := s.Retain[key]
		switch {
		case strings.TrimSpace(reason) == "":
			errs = append(errs, fmt.Errorf("retain %q needs a reason (why the column is kept, e.g. \"accounting, 10 years\")", clipName(key)))
		case len(reason) > MaxRetainReason:
			errs = append(errs, fmt.Errorf("retain %q: the reason is longer than %d bytes", clipName(key), MaxRetainReason))
		case !utf8.ValidString(reason) || strings.ContainsFunc(reason, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			errs = append(errs, fmt.Errorf("retain %q: the reason must be one line of printable UTF-8 text", clipName(key)))
		}
	}
	return errs
}

// splitRetain splits a Retain key at its last dot: the table (perhaps
// schema-qualified) and the column.
func splitRetain(key string) (table, column string, ok bool) {
	i := strings.LastIndexByte(key, '.')
	if i <= 0 || i == len(key)-1 {
		return "", "", false
	}
	return key[:i], key[i+1:], true
}

// clipName cuts a name quoted in an error: a configuration file may hold
// anything.
func clipName(s string) string {
	if len(s) <= 80 {
		return s
	}
	n := 77
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
