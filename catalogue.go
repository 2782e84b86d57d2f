package forget

import (
	"errors"
	"fmt"
	"slices"
)

// Field names a customer attribute that a forget can erase.
type Field string

// Table names a table of rows that belong to a customer and that a forget
// can purge.
type Table string

// The fields of Offerit's catalogue, in the order they are erased and
// reported.
const (
	Username          Field = "username"
	TokenHash         Field = "token_hash"
	OriginalUsername  Field = "original_username"
	Password          Field = "password"
	Cryptpass         Field = "cryptpass"
	Session           Field = "session"
	Firstname         Field = "firstname"
	Lastname          Field = "lastname"
	Address1          Field = "address1"
	Address2          Field = "address2"
	City              Field = "city"
	State             Field = "state"
	Zip               Field = "zip"
	Country           Field = "country"
	ShippingFirstname Field = "shipping_firstname"
	ShippingLastname  Field = "shipping_lastname"
	ShippingAddress1  Field = "shipping_address1"
	ShippingAddress2  Field = "shipping_address2"
	ShippingZip       Field = "shipping_zip"
	ShippingCity      Field = "shipping_city"
	ShippingState     Field = "shipping_state"
	ShippingCountry   Field = "shipping_country"
	Phone             Field = "phone"
)

// The tables of Offerit's catalogue.
const (
	MemberAuth Table = "member_auth"
	MemberNote Table = "member_note"
)

// FieldSpec is one catalogue field and the rule that erases it.
type FieldSpec struct {
	Name Field
	Rule Rule
}

// TableSpec is one catalogue table. With no Scrub columns a forget deletes
// the customer's rows; with Scrub columns it keeps the rows and overwrites
// those columns instead, each by its rule.
type TableSpec struct {
	Name  Table
	Scrub []ColumnRule
}

// ColumnRule overwrites one column of a scrubbed table.
type ColumnRule struct {
	Column string
	Rule   Rule
}

// Catalogue is the set of fields and tables a Forgetter can erase. It is
// plain data: build it from [DefaultCatalogue], change it, and let [New]
// validate it (or call [Catalogue.Validate] in your own tests).
type Catalogue struct {
	Fields []FieldSpec
	Tables []TableSpec
}

// DefaultCatalogue returns a fresh copy of Offerit's catalogue with the
// default rules: pseudonyms for the usernames, random values for
// credentials, the empty string for every other field, and row deletion for
// both tables.
func DefaultCatalogue() Catalogue {
	fields := []Field{
		Username, TokenHash, OriginalUsername, Password, Cryptpass, Session,
		Firstname, Lastname, Address1, Address2, City, State, Zip, Country,
		ShippingFirstname, ShippingLastname, ShippingAddress1, ShippingAddress2,
		ShippingZip, ShippingCity, ShippingState, ShippingCountry, Phone,
	}
	c := Catalogue{Fields: make([]FieldSpec, 0, len(fields))}
	for _, f := range fields {
		c.Fields = append(c.Fields, FieldSpec{Name: f, Rule: defaultRule(f)})
	}
	c.Tables = []TableSpec{{Name: MemberAuth}, {Name: MemberNote}}
	return c
}

func defaultRule(f Field) Rule {
	switch f {
	case Username, OriginalUsername:
		return Pseudonym()
	case Password, Cryptpass, TokenHash, Session:
		return Random()
	}
	return Empty()
}

// SetRule replaces the rule of field f. It reports an error when the
// catalogue has no such field.
func (c *Catalogue) SetRule(f Field, r Rule) error {
	for i := range c.Fields {
		if c.Fields[i].Name == f {
			c.Fields[i].Rule = r
			return nil
		}
	}
	return fmt.Errorf("forget: catalogue has no field %q", f)
}

// Validate reports every problem with the catalogue: names that are empty,
// not lower-case identifiers, or used twice (a table and a field may not
// share a name either, since a keep list mixes them); fields, and scrubbed
// columns, without a rule.
func (c Catalogue) Validate() error {
	var errs []error
	seen := make(map[string]string) // name -> "field" or "table"
	claim := func(name, kind string) {
		if !isCatalogueName(name) {
			errs = append(errs, fmt.Errorf("%s name %q must match [a-z][a-z0-9_]* (at most 64 characters)", kind, name))
			return
		}
		if prev, dup := seen[name]; dup {
			errs = append(errs, fmt.Errorf("%s %q is already a %s", kind, name, prev))
			return
		}
		seen[name] = kind
	}
	if len(c.Fields) == 0 && len(c.Tables) == 0 {
		errs = append(errs, errors.New("catalogue is empty"))
	}
	for _, f := range c.Fields {
		claim(string(f.Name), "field")
		if f.Rule.kind == ruleUnset {
			errs = append(errs, fmt.Errorf("field %q has no rule", f.Name))
		}
		if err := f.Rule.derive.check(); err != nil {
			errs = append(errs, fmt.Errorf("field %q: %w", f.Name, err))
		}
	}
	for _, t := range c.Tables {
		claim(string(t.Name), "table")
		cols := make(map[string]bool)
		for _, col := range t.Scrub {
			switch {
			case col.Column == "":
				errs = append(errs, fmt.Errorf("table %q scrubs a column with no name", t.Name))
			case cols[col.Column]:
				errs = append(errs, fmt.Errorf("table %q scrubs column %q twice", t.Name, col.Column))
			case col.Rule.kind == ruleUnset:
				errs = append(errs, fmt.Errorf("table %q column %q has no rule", t.Name, col.Column))
			}
			if err := col.Rule.derive.check(); err != nil {
				errs = append(errs, fmt.Errorf("table %q column %q: %w", t.Name, col.Column, err))
			}
			cols[col.Column] = true
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("forget: invalid catalogue: %w", errors.Join(errs...))
	}
	return nil
}

// maxCatalogueName is the longest catalogue name: a keep item longer than
// this is unknown without looking.
const maxCatalogueName = 64

func isCatalogueName(s string) bool {
	if s == "" || len(s) > maxCatalogueName || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// catalogue is a validated Catalogue with an index for keep parsing.
type catalogue struct {
	Catalogue
	index map[string]int // name -> position: fields first, then tables
}

func compile(c Catalogue) (*catalogue, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cc := &catalogue{
		Catalogue: Catalogue{
			Fields: slices.Clone(c.Fields),
			Tables: make([]TableSpec, len(c.Tables)),
		},
		index: make(map[string]int, len(c.Fields)+len(c.Tables)),
	}
	for i, f := range c.Fields {
		cc.index[string(f.Name)] = i
	}
	for i, t := range c.Tables {
		cc.Tables[i] = TableSpec{Name: t.Name, Scrub: slices.Clone(t.Scrub)}
		cc.index[string(t.Name)] = len(c.Fields) + i
	}
	return cc, nil
}
