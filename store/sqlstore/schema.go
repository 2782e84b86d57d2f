package sqlstore

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"sort"

	"github.com/forgetkit/forget"
)

// KeyType is the type of a key column.
type KeyType string

// Key types. The empty KeyType is the column's: [Store.Verify] learns it
// from the live schema (int, uuid or text), and until then it means KeyInt.
// A mapping that says text for a uuid column (PostgreSQL's uuid,
// MariaDB's UUID) gets KeyUUID too.
const (
	KeyInt  KeyType = "int"  // a decimal integer; "abc" is refused as invalid before it reaches the database
	KeyText KeyType = "text" // any non-empty string
	// KeyUUID is a UUID, 8-4-4-4-12 hexadecimal digits in either case;
	// anything else (Offerit's own "191") is refused as invalid before it
	// reaches the database. Its column is a uuid type or text (CHAR(36)).
	KeyUUID KeyType = "uuid"
)

// keyTypeOf is the key type a column's kind asks for (text for a column
// of unknown kind).
func keyTypeOf(c *ColumnInfo) KeyType {
	switch {
	case c != nil && c.Kind == KindInt:
		return KeyInt
	case c != nil && c.Kind == KindUUID:
		return KeyUUID
	}
	return KeyText
}

// Schema maps the catalogue onto a database: where customers, lookup keys,
// fields and related rows live. Every identifier must be a plain name,
// optionally schema-qualified ("crm.customers"); the store quotes them for
// its dialect. It marshals to JSON for configuration files.
type Schema struct {
	// Customers is the table with one row per customer.
	Customers CustomerTable `json:"customers"`
	// Subscriptions and Orders resolve subscription_id and orderid. Nil
	// means the database has none, and requests using that key are
	// refused as invalid.
	Subscriptions *LookupTable `json:"subscriptions,omitempty"`
	Orders        *LookupTable `json:"orders,omitempty"`
	// Joined lists further tables that hold fields, one row per customer,
	// each with the column that holds the customer key.
	Joined map[string]string `json:"joined,omitempty"`
	// Fields says where each catalogue field lives.
	Fields map[forget.Field]Column `json:"fields"`
	// Tables says where each catalogue table lives.
	Tables map[forget.Table]RelatedTable `json:"tables"`
	// Holds protect customers from being forgotten while a condition
	// over their rows holds; see [Hold].
	Holds []Hold `json:"holds,omitempty"`
	// Absent lists catalogue fields and tables this database does not
	// have; a forget skips them. Anything neither mapped nor absent makes
	// the catalogue unusable with this store.
	Absent []string `json:"absent,omitempty"`
	// Retain declares columns a forget keeps on purpose, each
	// "table.column" (or "schema.table.column") with the reason, shown in
	// coverage reports and dry-run inventories:
	// {"customers.created_at": "accounting, 10 years"}. A forget never
	// reads or writes them; see [Cover].
	Retain map[string]string `json:"retain,omitempty"`
	// Activity names the customers table's columns that record when a
	// customer was last active (last_login, last_order_at): the latest
	// of them counts. [Store.Inactive] sweeps by them, each needing an
	// index. They hold times: timestamps on PostgreSQL and MySQL, text
	// such as "2024-05-01 10:00:00" (UTC) on SQLite.
	Activity []Column `json:"activity,omitempty"`
	// Identities declare the columns that name a person outside the
	// keys (e-mail, phone), for tombstones; see [Identity].
	Identities []Identity `json:"identities,omitempty"`
}

// CustomerTable is a table keyed by one column.
type CustomerTable struct {
	Table   string  `json:"table"`
	Key     string  `json:"key"`
	KeyType KeyType `json:"key_type,omitempty"`
}

// LookupTable resolves a lookup key to a customer.
type LookupTable struct {
	Table       string  `json:"table"`
	Key         string  `json:"key"`
	KeyType     KeyType `json:"key_type,omitempty"`
	CustomerKey string  `json:"customer_key"`
}

// Column locates a field. An empty Table means the customers table.
type Column struct {
	Table  string `json:"table,omitempty"`
	Column string `json:"column"`
	// Rule, in a mapping file, is the rule that erases the field; nil
	// keeps the catalogue's (see [Schema.Catalogue]).
	Rule *RuleSpec `json:"rule,omitempty"`
}

// RelatedTable locates a catalogue table. Its rows are the customer's
// when their CustomerKey column holds the customer's key, or, with Via,
// when they are reached another way (a foreign key from a row that is the
// customer's, a value such as an e-mail address, a mention in free text).
// Exactly one of CustomerKey and Via is set.
type RelatedTable struct {
	Table       string `json:"table"`
	CustomerKey string `json:"customer_key,omitempty"`
	// Via reaches the rows without a customer key column.
	Via *Via `json:"via,omitempty"`
	// Scrub, in a mapping file, keeps the rows and overwrites these
	// columns, each by its rule, instead of deleting the rows; with it
	// the table is scrubbed (see [Schema.Catalogue]).
	Scrub map[string]RuleSpec `json:"scrub,omitempty"`
	// Shared says what a forget does with a row another customer reaches
	// too (an address two customers point to, a newsletter row of an
	// e-mail two customers share): SharedKeep leaves it as it is, and
	// SharedRefuse refuses the forget. Empty, [Store.Verify] refuses a
	// Via that can reach another customer's rows.
	Shared string `json:"shared,omitempty"`
}

// What a forget does with a row another customer reaches too.
const (
	SharedKeep   = "keep"   // leave the row; detach the customer's own link to it where it can
	SharedRefuse = "refuse" // refuse the forget, a conflict, and change nothing
)

// Via reaches a table's rows from rows that are already the customer's.
type Via struct {
	// Column of this table holds a value of From.
	Column string `json:"column,omitempty"`
	// From is "table.column" (or "schema.table.column"): a column of the
	// customers table, of a joined, lookup or catalogue table, or of a
	// table another Via reaches. Rows of this table whose Column holds a
	// value From holds in the customer's rows are the customer's: the
	// children of a purged table (order_items.order_id from orders.id),
	// the address a customer row points to (addresses.id from
	// customers.home_address_id), a link table's targets, or rows linked
	// by value (newsletter.email from customers.email). Values are read
	// inside the forget's transaction before anything is erased.
	From string `json:"from,omitempty"`
	// Normalize compares the two values after normalising both:
	// "lower", "trim" or "lower_trim" (lower(trim(x))). Empty compares
	// them as stored.
	Normalize string `json:"normalize,omitempty"`
	// Mentions reaches every row of the table, any customer's, whose
	// scrubbed columns mention a value of the customer's (an e-mail,
	// a phone number, a name as stored): the table must be scrubbed, by
	// redaction rules, which remove only those mentions. It scans the
	// table on every forget.
	Mentions bool `json:"mentions,omitempty"`
}

// RuleSpec is a rule as a mapping file states it: a name ("null",
// "empty", "pseudonym", "random", "keyed_hash", "redact_text") or an
// object with the rule's arguments:
//
//	{"rule": "fixed", "value": {}}               // a typed literal: {} for json, "0.0.0.0" for inet, 0 for numeric
//	{"rule": "redact_json", "paths": ["phone", "shipping.*"]}
//	{"rule": "redact_text", "patterns": ["email", "phone", "ip"]}
//
// [Store.Verify] checks each against its column's real type.
type RuleSpec struct {
	Rule string `json:"rule"`
	// Value is a fixed rule's literal, as JSON: a string, number, bool,
	// object or array. A string is written as its text; anything else as
	// its JSON.
	Value json.RawMessage `json:"value,omitempty"`
	// Paths are redact_json's: dotted member paths, "*" for every member.
	Paths []string `json:"paths,omitempty"`
	// Patterns are redact_text's: "email", "phone", "ip" redact every
	// value of that form, besides the customer's own values.
	Patterns []string `json:"patterns,omitempty"`
}

// UnmarshalJSON reads a rule given by name alone ("null") or as an object.
func (r *RuleSpec) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err == nil {
		*r = RuleSpec{Rule: name}
		return nil
	}
	type plain RuleSpec
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*r = RuleSpec(p)
	return nil
}

// DefaultSchema returns the mapping of the schema in DESIGN.md, the one
// [DDL] creates: every field a column of customers, integer keys,
// subscriptions and transactions for lookups, member_auth and member_note
// keyed by customer_id.
func DefaultSchema() Schema {
	s := Schema{
		Customers:     CustomerTable{Table: "customers", Key: "customer_id", KeyType: KeyInt},
		Subscriptions: &LookupTable{Table: "subscriptions", Key: "subscription_id", KeyType: KeyInt, CustomerKey: "customer_id"},
		Orders:        &LookupTable{Table: "transactions", Key: "orderid", KeyType: KeyInt, CustomerKey: "customer_id"},
		Fields:        make(map[forget.Field]Column),
		Tables:        make(map[forget.Table]RelatedTable),
		// The default schema's two columns that are not the customer's
		// details: a forget keeps them, and says why.
		Retain: map[string]string{
			"subscriptions.status":      "the subscription's state, not the customer's details",
			"transactions.amount_cents": "accounting: what was paid, not who paid it",
		},
	}
	s.mapCatalogue(forget.DefaultCatalogue(), "customer_id", func(t forget.Table) string { return string(t) })
	return s
}

// mapCatalogue maps each of cat's fields to the column of its name, and
// each of its tables to the table table names, whose customerKey column
// holds the customer key.
func (s *Schema) mapCatalogue(cat forget.Catalogue, customerKey string, table func(forget.Table) string) {
	for _, f := range cat.Fields {
		s.Fields[f.Name] = Column{Column: string(f.Name)}
	}
	for _, t := range cat.Tables {
		s.Tables[t.Name] = RelatedTable{Table: table(t.Name), CustomerKey: customerKey}
	}
}

func (s Schema) clone() Schema {
	c := s
	if s.Subscriptions != nil {
		v := *s.Subscriptions
		c.Subscriptions = &v
	}
	if s.Orders != nil {
		v := *s.Orders
		c.Orders = &v
	}
	c.Joined = make(map[string]string, len(s.Joined))
	for k, v := range s.Joined {
		c.Joined[k] = v
	}
	c.Fields = make(map[forget.Field]Column, len(s.Fields))
	for k, v := range s.Fields {
		if v.Table == "" {
			v.Table = s.Customers.Table
		}
		c.Fields[k] = v
	}
	c.Tables = make(map[forget.Table]RelatedTable, len(s.Tables))
	for k, v := range s.Tables {
		c.Tables[k] = v
	}
	c.Absent = slices.Clone(s.Absent)
	c.Holds = slices.Clone(s.Holds)
	c.Retain = maps.Clone(s.Retain)
	c.Activity = slices.Clone(s.Activity)
	c.Identities = slices.Clone(s.Identities)
	// An empty KeyType stays empty: Verify learns it (see Store.keyType).
	return c
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
